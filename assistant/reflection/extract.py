"""The builtin engine's fact extraction: persona facts read from one episode with
hand-written English patterns, no model.

The rules prefer missing a fact to inventing one, because a wrong persona fact
supersedes a right one. So a pattern must name its subject ("I", "my sister Ana",
"Ana's"), and a match is dropped when it sits in a question, a negation, a hypothetical
or a plan, reported speech, a quote or a sarcastic line. "I" is the episode's speaker:
the user, or the sender of someone else's message; with no known speaker (a PDF, a web
page) first-person statements give nothing.

The flow for one episode: split into sentences; drop questions and sarcastic lines and
blank out quoted words; find the subjects; try the rules (patterns.py) right after each
subject; check the guards on the words around each match; date each fact from a date
expression in its own stretch of the sentence (dates.py), else from the episode.

    lexicon.py   the words: occupations, languages, countries, species, ...
    values.py    matched text to a value's display form, or None
    patterns.py  the rules: a pattern after a subject and a reader for its match
    extract.py   sentences, subjects, guards, dating, and the entry points
"""

from __future__ import annotations

import re
from bisect import bisect_left, bisect_right
from collections.abc import Iterator
from dataclasses import dataclass, replace

from assistant.derived.attributes import ATTRIBUTES, person_key, value_key
from assistant.derived.proposals import FactCandidate
from assistant.reflection.dates import DateMention, anchor_date, find_dates
from assistant.reflection.engine import EpisodeView
from assistant.reflection.lexicon import NOT_NAMES
from assistant.reflection.patterns import (
    AGENT_RULES,
    NAME,
    NAME_WORD,
    POSSESSIVE_RULES,
    PROPER,
    RELATION,
    THIRD_PERSON_VERB,
    Found,
    Subject,
    clean_name,
    relation_facts,
    speaker_statements,
)
from assistant.reflection.values import EMOJI, QUOTE, job_title, proper_value

# --- sentences ------------------------------------------------------------------------

# A line break ends a sentence, unless the next line goes on with it: a soft-wrapped
# line of prose that starts in lower case, with "(" or with "," ("a first edition\n(Bia,
# how did she find it??)" is one sentence; a list's next line is not).
_BOUNDARY = re.compile(
    rf"(?<=[.!?…])[\"'”’)]*\s+|(?<=[{EMOJI}])\s+|[ \t]*\n(?![ \t]*[a-z(,])\s*|\s*\n\s*\n\s*"
    r"|\s+[-–—]\s+"
)
_LINE_BREAK = re.compile(r"[ \t]*\n\s*")
# Titles before a name in a few languages ("Dra. Cláudia Reis", "Fr. Vogel", "Eng. Rui").
_ABBREVIATION = re.compile(
    r"(?:\b(?:mr|mrs|ms|mx|dr|dra|prof|profa|st|sr|sra|srta|jr|fr|hr|dott|mme|mlle|eng|arq|vs|"
    r"etc|e\.g|i\.e)\.)$",
    re.I,
)
_QUOTED = re.compile(r"\"[^\"]{2,}\"|“[^”]{2,}”|«[^»]{2,}»")
_QUESTION_START = re.compile(
    r"^(?:(?:so|and|but|ok|hey|btw)[,\s]+)?(?:what|where|when|who|whom|whose|which|why|how|"
    r"(?:do|does|did|are|is|am|was|were|can|could|will|would|should|have|has|had|may|"
    rf"shall)(?:n['’]?t)?\s+(?:you|your|i|we|he|she|they|it|there|{NAME_WORD}))\b",
    re.IGNORECASE,
)
_TAG_QUESTION = re.compile(
    r",\s*(?:right|no|yes|yeah|eh|huh|innit|(?:do|does|did|are|is|was|were|have|has|wo|ca)"
    r"n['’]?t\s+(?:you|i|we|he|she|they|it))\s*[.!]*$",
    re.IGNORECASE,
)
_SARCASM = re.compile(
    r"[😂🤣🙄🙃😜😏]|/s\b|\bjk\b|\bjust\s+kidding\b|\bsaid\s+no\s*(?:one|body)\b|"
    r"\byeah\s+right\b|\bas\s+if\b",
    re.IGNORECASE,
)
# Words that make what follows them a report of someone else's words.
_REPORTED = re.compile(
    r"\b(?:said|says|say|saying|told|tells|tell\s+me|mentioned|mentions|claims|claimed|"
    r"heard|hear|apparently|according\s+to|texted|wrote|writes|reckons|thinks|thought|"
    r"believes|supposedly|reportedly|rumou?r|asked|asks|wonders?|allegedly|swears)\b",
    re.IGNORECASE,
)
# Words that make what follows them a wish, a guess, a plan or a hypothesis.
_HEDGE = re.compile(
    r"\b(?:if|unless|whether|maybe|perhaps|possibly|probably|hopefully|ideally|might|could|"
    r"would|should|ideal\s+world|"
    r"wanna|want|wants|wanted|hope|hoping|hopes|wish|wishes|wishing|dream|dreaming|"
    r"thinking|considering|consider|planning|plan\s+to|plans\s+to|someday|one\s+day|"
    r"imagine|suppose|supposing|assuming|in\s+case|not\s+sure|when\s+i\s+grow\s+up|"
    r"(?:i|we|you|he|she|they|it)\s+may|may\s+be|may\s+have)\b|\b(?:i|we|you|he|she|they)['’]d\b",
    re.IGNORECASE,
)
_NEGATION = re.compile(
    r"\b(?:not|never|no\s+longer|no\s+more|anymore|any\s+more|nope|nah|neither|nor|"
    r"hardly|without)\b|n['’]t\b",
    re.IGNORECASE,
)
_CLAUSE_BREAK = re.compile(r"[,;:]|\s-\s|\bbut\b|\bhowever\b|\balthough\b", re.IGNORECASE)
_PAST = re.compile(
    r"\b(?:moved|started|joined|got|bought|adopted|went|was|were|became|began|quit|signed|"
    r"since|ago|last|have|has|had|lived|worked)\b|['’]ve\b",
    re.IGNORECASE,
)
_FUTURE = re.compile(
    r"\b(?:will|shall|going\s+to|moving|starting|start|joining|relocating|next|tomorrow)\b|"
    r"['’]ll\b",
    re.IGNORECASE,
)
_UNDATED_PLAN = re.compile(
    r"\b(?:moving|relocating|starting|joining|going\s+to\s+(?:move|start|join))\b", re.IGNORECASE
)
_NORMALISE = [
    (re.compile(r"\s+"), " "),
    (re.compile(r"[’‘`]"), "'"),
    (re.compile(r"\bi\b"), "I"),
    (re.compile(r"\b[Ii]m\b"), "I'm"),
    (re.compile(r"\b[Ii]ve\b"), "I've"),
    (
        re.compile(r"\b(do|does|did|is|was|are|were|have|has|ca|wo|could|should|would)nt\b"),
        r"\1n't",
    ),
    (re.compile(r"\bcant\b"), "can't"),
    (re.compile(r"\bwont\b"), "won't"),
]


# A statement of fact fits in a few hundred characters. Longer runs without a full stop
# (pasted logs, lists) are cut, so that patterns reading to the end of a sentence stay
# linear in the size of the text.
MAX_SENTENCE = 600


def split_sentences(text: str) -> list[str]:
    """Sentences of a chat message or note; "Mr. Patel" does not end one."""
    pieces: list[str] = []
    start = 0
    for boundary in _BOUNDARY.finditer(text):
        if _ABBREVIATION.search(text[max(start, boundary.start() - 8) : boundary.start()]):
            continue
        pieces.append(text[start : boundary.start()])
        start = boundary.end()
    pieces.append(text[start:])
    joined = (_LINE_BREAK.sub(" ", p.strip()) for p in pieces)  # soft-wrapped lines
    return [short for p in joined for short in _shorten(p) if short]


def _shorten(sentence: str) -> Iterator[str]:
    start = 0
    while len(sentence) - start > MAX_SENTENCE:
        cut = sentence.rfind(" ", start + 1, start + MAX_SENTENCE)
        cut = cut if cut > start else start + MAX_SENTENCE
        yield sentence[start:cut].strip()
        start = cut
    yield sentence[start:].strip()


def normalise(sentence: str) -> str:
    """Chat spellings in the forms the patterns expect ("im" -> "I'm", "dont" -> "don't")."""
    for pattern, replacement in _NORMALISE:
        sentence = pattern.sub(replacement, sentence)
    return sentence


_TRAILING = re.compile(rf"[\s.!{EMOJI}]+$")


def is_question(sentence: str) -> bool:
    """A question states nothing, with or without its question mark ("did you move")."""
    stripped = _TRAILING.sub("", sentence)
    return (
        stripped.endswith("?")
        or bool(_QUESTION_START.match(stripped))
        or bool(_TAG_QUESTION.search(stripped))
    )


# --- subjects -------------------------------------------------------------------------

_SUBJECT_RE = re.compile(
    rf"""
    (?P<implied>^(?:(?:so|ok|okay|well|also|btw|anyway|update|news|big\s+news|finally|just|
        currently|officially|recently|today|yesterday|guess\s+what|yay|omg)\b[\s,:!.-]*)*
        (?=(?:moved|moving|relocated|relocating|got|started|starting|joined|joining|bought|
        adopted|studying|working|living|went|became|been|can't\s+stand|
        new\s+(?:address|e-?mail|number|phone))\b))
  | (?P<rel>\b(?:my|our)\s+(?:(?:little|big|older|younger|elder|eldest|oldest|youngest|twin|
        baby|dear|new)\s+)?(?P<rel_word>{RELATION})
        (?:\s+(?P<rel_name>{NAME})(?P<rel_poss>'s\b)?|,\s+(?P<rel_name2>{NAME})(?=\s*,)))
  | (?P<first>\b(?-i:I|[Ww]e)\b(?!\.))
  | (?P<pronoun>\b(?:he|she)\b)
  | (?P<my>\b(?:my|our)\b)
  | (?P<name>(?<![\w@.]){NAME})(?P<name_poss>'s\b)?
  | (?P<cont>\b(?:and|then|&)\s+(?:then\s+|now\s+|just\s+)?
        (?=(?:joined|moved|started|got|bought|adopted|became|went)\b))
    """,
    re.IGNORECASE | re.VERBOSE,
)


@dataclass(frozen=True)
class Relation:
    """ "my sister Ana": who Ana is to the speaker."""

    name: str
    word: str
    start: int


# A real sentence names a handful of people; more subjects than this are a list or a
# pasted table, and reading each would make the cost grow with the square of its size.
MAX_SUBJECTS = 16


def find_subjects(sentence: str, speaker: str) -> tuple[list[Subject], list[Relation]]:
    """Who the sentence's statements are about ("I", "my sister Ana", "Ana's", an
    implied "I" in "just moved to Porto"), and the relationships it names on the way."""
    subjects: list[Subject] = []
    relations: list[Relation] = []
    for m in _SUBJECT_RE.finditer(sentence):
        if len(subjects) >= MAX_SUBJECTS:
            break
        if m.group("rel"):
            # "my brother, Rui, works...": an apposition needs its closing comma, or
            # "my girlfriend, Toby and I" would make Toby the girlfriend.
            name = clean_name(m.group("rel_name") or m.group("rel_name2"))
            if speaker:
                relations.append(Relation(name, " ".join(m.group("rel_word").split()), m.start()))
            poss = bool(m.group("rel_poss"))
            subjects.append(Subject(name, m.start(), m.end(), poss, True, speaker))
        elif m.group("first") or m.group("my"):
            if speaker:
                poss = bool(m.group("my"))
                subjects.append(Subject(speaker, m.start(), m.end(), poss, False, speaker))
        elif m.group("name"):
            name = clean_name(m.group("name"))
            if name.split()[0].casefold() not in NOT_NAMES:
                poss = bool(m.group("name_poss"))
                subjects.append(Subject(name, m.start(), m.end(), poss, True, speaker))
        elif m.group("pronoun"):
            # "Tom isn't vegan, he's vegetarian": only when one person was named before.
            named = {s.person for s in subjects if s.third_person}
            if len(named) == 1:
                subjects.append(Subject(named.pop(), m.start(), m.end(), False, True, speaker))
        elif m.group("implied") is not None and speaker:
            poss = sentence[m.end() :].lower().startswith("new ")
            subjects.append(Subject(speaker, m.end(), m.end(), poss, False, speaker))
        elif m.group("cont") is not None:
            previous = next((s for s in reversed(subjects) if not s.possessive), None)
            if previous is not None:
                subjects.append(replace(previous, start=m.end(), end=m.end()))
    return subjects, relations


# --- guards ---------------------------------------------------------------------------

_NO_LONGER = re.compile(r"\b(?:anymore|any\s+more)\b", re.IGNORECASE)


class Guards:
    """Where a sentence's reporting, hedging, negating and clause-breaking words are,
    found once so that checking each candidate fact is a lookup, not a rescan."""

    def __init__(self, sentence: str) -> None:
        self.length = len(sentence)
        self.reported = [m.start() for m in _REPORTED.finditer(sentence)]
        self.hedges = [m.start() for m in _HEDGE.finditer(sentence)]
        self.negations = [m.start() for m in _NEGATION.finditer(sentence)]
        self.no_longer = [m.start() for m in _NO_LONGER.finditer(sentence)]
        self.breaks = [(m.start(), m.end()) for m in _CLAUSE_BREAK.finditer(sentence)]
        self._break_ends = [e for _, e in self.breaks]
        self._break_starts = [s for s, _ in self.breaks]

    def clause_start(self, position: int) -> int:
        index = bisect_right(self._break_ends, position)
        return self._break_ends[index - 1] if index else 0

    def clause_end(self, position: int) -> int:
        index = bisect_left(self._break_starts, position)
        return self._break_starts[index] if index < len(self.breaks) else self.length

    def blocked(self, start: int, end: int, negation_ok: bool) -> bool:
        """True when a match at [start, end) is reported, hedged or negated: a report
        anywhere before it, a hedge before its end, a negation in its own clause (before
        it only, when the rule's words are themselves negative), or "anymore" after it."""
        if _any_in(self.reported, 0, start) or _any_in(self.hedges, 0, end):
            return True
        scope_start = self.clause_start(start)
        if _any_in(self.negations, scope_start, start if negation_ok else end):
            return True
        return _any_in(self.no_longer, end, self.clause_end(end))


def _any_in(positions: list[int], low: int, high: int) -> bool:
    """Whether a sorted list holds a position in [low, high)."""
    index = bisect_left(positions, low)
    return index < len(positions) and positions[index] < high


# --- dating ---------------------------------------------------------------------------


def _valid_from(
    guards: Guards, start: int, end: int, subjects: list[Subject], dates: list[DateMention]
) -> str | None:
    """The first date in the fact's own stretch of the sentence: from the start of its
    clause to the next subject that begins a new statement ("..., I've lived here since
    2018" does not date "I love Lisbon")."""
    begin = guards.clause_start(start)
    stop = next((s.start for s in subjects if s.start >= end and not s.possessive), guards.length)
    for mention in dates:
        if begin <= mention.start < stop:
            return mention.value.isoformat()
    return None


def _tense(sentence: str) -> bool | None:
    """Past (True), future (False) or unknown: "in November" said in March means last
    November in "I started in November" and next November in "I'm starting in November"."""
    if _PAST.search(sentence):
        return True
    if _FUTURE.search(sentence):
        return False
    return None


# --- the entry points -----------------------------------------------------------------


def extract_facts(episode: EpisodeView) -> list[FactCandidate]:
    """Persona facts stated in one episode; one per (person, attribute, value), the most
    confident when a value is stated twice."""
    speaker = episode.speaker
    found: dict[tuple[str, str, str], FactCandidate] = {}
    sentences = split_sentences(episode.text)
    for original in sentences:
        if is_question(original) or _SARCASM.search(original):
            continue
        for fact in _sentence_facts(original, speaker, episode):
            key = (person_key(fact.person), fact.attribute, value_key(fact.value))
            if key not in found or found[key].confidence < fact.confidence:
                found[key] = fact
    if speaker and not any(
        f.attribute == "employer" and f.person == speaker for f in found.values()
    ):
        for fact in _announced_job(sentences, speaker, episode):
            found.setdefault((person_key(fact.person), fact.attribute, value_key(fact.value)), fact)
    return [_named_pet(f, episode.text) for f in found.values()]


# "I got the job in Amsterdam! Tulp Payments, backend engineer.", "New job: Lumen Labs,
# data engineer.": a job announced, its employer and role told after it as
# "Organisation, role". Both parts must read as what they are (`proper_value`,
# `job_title`), so "I got the job! Thanks, everyone." gives nothing.
_GOT_JOB = re.compile(
    r"^(?:[^.!?]*:\s*)?I\s+(?:got|landed|took)\s+(?:the|a|an|my)\s+(?:new\s+)?"
    r"(?:job|position|role)\b(?!\s+(?:at|with|offer)\b)",
    re.IGNORECASE,
)
_NEW_JOB = re.compile(r"^new\s+(?:job|role|position)\s*[:!-]\s*(?P<rest>.+)", re.IGNORECASE)
_ORG_ROLE = re.compile(rf"^(?P<org>{PROPER}),\s+(?P<role>[\w\s-]+)$")


def _announced_job(
    sentences: list[str], speaker: str, episode: EpisodeView
) -> Iterator[FactCandidate]:
    for index, sentence in enumerate(sentences):
        said = _TRAILING.sub("", sentence)
        told = _NEW_JOB.match(said)
        if told:
            named = told.group("rest")
        elif _GOT_JOB.match(said) and index + 1 < len(sentences):
            named = _TRAILING.sub("", sentences[index + 1])
        else:
            continue
        m = _ORG_ROLE.match(named)
        employer = proper_value(m.group("org"), lowercase_words=0) if m else None
        title = job_title(m.group("role")) if m else None
        if m is None or employer is None or title is None:
            continue
        day = anchor_date(episode.time).isoformat()
        for attribute, value in (("employer", employer), ("job_title", title)):
            yield FactCandidate(
                person=speaker, attribute=attribute, value=value, valid_from=day,
                evidence=episode.id, confidence=0.8, statement=sentence,
            )  # fmt: skip
        return


# "We adopted a dog! His name is Feijão.": the name comes a sentence later.
_PET_NAME = re.compile(
    rf"\b(?:(?:his|her|its)\s+name\s+is|(?:we|I)\s+(?:called|named)\s+(?:him|her|it))\s+"
    rf"(?P<v>{NAME})",
    re.IGNORECASE,
)


def _named_pet(fact: FactCandidate, text: str) -> FactCandidate:
    """A pet known only by its species takes the name the episode gives it after."""
    if fact.attribute != "pet" or "(" in fact.value:
        return fact
    m = _PET_NAME.search(text)
    if m is None or m.group("v").split()[0].casefold() in NOT_NAMES:
        return fact
    return replace(fact, value=f"{clean_name(m.group('v'))} ({fact.value})")


def _sentence_facts(original: str, speaker: str, episode: EpisodeView) -> list[FactCandidate]:
    sentence = normalise(_QUOTED.sub(QUOTE, original)).strip()
    subjects, relations = find_subjects(sentence, speaker)
    guards = Guards(sentence)
    hits = _read(sentence, speaker, subjects, relations, guards)
    # "we adopted a dog called Rex. Rex hates the vet": Rex is no person.
    pets = {f.value.split(" (")[0].casefold() for _, f in hits if f.attribute == "pet"}
    dates = find_dates(sentence, episode.time, _tense(sentence))
    day = anchor_date(episode.time).isoformat()
    facts = []
    for start, fact in hits:
        if fact.person.casefold() in pets or fact.attribute not in ATTRIBUTES:
            continue
        said_when = fact.dated and _valid_from(guards, start, fact.end, subjects, dates)
        # "We're moving to Porto" with no day is a plan, true some day; with one ("next
        # Friday") it is true from that day.
        if not said_when and _UNDATED_PLAN.search(sentence, start, fact.end):
            continue
        valid_from = said_when or day
        # Facts about other people come from someone else's words about them.
        confidence = fact.confidence * (1.0 if fact.person == speaker else 0.9)
        facts.append(
            FactCandidate(
                person=fact.person,
                attribute=fact.attribute,
                value=fact.value,
                valid_from=valid_from,
                evidence=episode.id,
                confidence=round(confidence, 2),
                statement=original,
            )
        )
    return facts


def _read(
    sentence: str,
    speaker: str,
    subjects: list[Subject],
    relations: list[Relation],
    guards: Guards,
) -> list[tuple[int, Found]]:
    """Every fact the guards let through, with where its subject starts."""
    hits: list[tuple[int, Found]] = []
    for subject in subjects:
        hits.extend((subject.start, f) for f in _subject_facts(sentence, subject, guards))
    if speaker:
        for start, fact in speaker_statements(sentence, speaker):
            if not guards.blocked(start, fact.end, fact.negation_ok):
                hits.append((start, fact))
    for relation in relations:
        # "my sister Ana" stays true under a negation ("my sister Ana isn't vegan"), but
        # a reported or hypothetical sentence gives nothing at all.
        if guards.blocked(relation.start, relation.start, negation_ok=True):
            continue
        for fact in relation_facts(speaker, relation.name, relation.word, relation.start):
            hits.append((relation.start, replace(fact, dated=False)))
    return hits


def _subject_facts(sentence: str, subject: Subject, guards: Guards) -> list[Found]:
    named = subject.third_person and not subject.possessive
    if named and not THIRD_PERSON_VERB.match(sentence, subject.end):
        return []
    rules = POSSESSIVE_RULES if subject.possessive else AGENT_RULES
    facts: list[Found] = []
    for rule in rules:
        m = rule.pattern.match(sentence, subject.end)
        if m is None:
            continue
        for fact in rule.read(m, subject, sentence):
            if not guards.blocked(subject.start, fact.end, fact.negation_ok):
                facts.append(fact)
    return facts


# --- rendering ------------------------------------------------------------------------

_SENTENCES: dict[str, str] = {
    "name": "{Your} name is {v}.",
    "nickname": "{You} {are} also called {v}.",
    "email": "{Your} email is {v}.",
    "phone": "{Your} phone number is {v}.",
    "address": "{Your} address is {v}.",
    "city": "{You} moved to {v}.",
    "country": "{You} moved to {v}.",
    "birthday": "{Your} birthday is {v}.",
    "employer": "{You} {work} at {v}.",
    "job_title": "{You} {work} as {a}{v}.",
    "school": "{You} {study} at {v}.",
    "relationship": "{You} {are} your {v}.",
    "partner": "{Your} partner is {v}.",
    "child": "{You} {have} a child, {v}.",
    "pet": "{You} {have} a pet: {v}.",
    "vehicle": "{You} {have} {a}{v}.",
    "likes": "{You} {like} {v}.",
    "dislikes": "{You} {dislike} {v}.",
    "allergy": "{You} {are} allergic to {v}.",
    "diet": "{You} {are} {v}.",
    "language": "{You} {speak} {v}.",
    "hobby": "{Your} hobbies include {v}.",
    "nationality": "{Your} nationality is {v}.",
    "important_date": "{You} {have} an important date: {v}.",
}
# Attributes whose value changes over time: their thought says since when.
_SINCE = frozenset(
    ["city", "country", "address", "employer", "job_title", "school", "diet", "partner"]
)
_THIRD_PERSON = {"are": "is", "work": "works", "study": "studies", "have": "has",
                 "like": "likes", "dislike": "dislikes", "speak": "speaks"}  # fmt: skip


def render_fact(fact: FactCandidate) -> str:
    """A short third-person sentence for a fact, used as a thought: "Ana's birthday is
    3 May.", "You moved to Porto (since 2023-03-01)."."""
    is_self = fact.person == "self"
    verbs = {plain: plain if is_self else third for plain, third in _THIRD_PERSON.items()}
    default = "{Your} " + fact.attribute.replace("_", " ") + " is {v}."
    text = _SENTENCES.get(fact.attribute, default).format(
        You="You" if is_self else fact.person,
        Your="Your" if is_self else f"{fact.person}'s",
        v=fact.value,
        a=_article(fact.value),
        **verbs,
    )
    if fact.valid_from and fact.attribute in _SINCE:
        text = f"{text[:-1]} (since {fact.valid_from})."
    return text


def _article(value: str) -> str:
    """ "a nurse", "an architect", but "Honda Civic" and "head of marketing" bare."""
    if value[:1].isupper() or value.casefold().startswith(("head of", "director of", "chief")):
        return ""
    return "an " if value[:1].casefold() in "aeiou" else "a "
