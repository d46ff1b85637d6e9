"""What a question asks about: whom (a person named, a relationship word, or you) and
which persona attribute ("what is Tiago allergic to?" asks for Tiago's allergy).

Two readers share this: the persona answers an attribute question directly
(`assistant/persona_answer.py`), and recall ranks first the memories that the asked
facts rest on (`assistant/recall.py`).
"""

from __future__ import annotations

import calendar
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date

import sqlcipher3

from assistant.derived import people, persona
from assistant.hits import STOPWORDS, WORD
from assistant.reflection.dates import full_date
from assistant.reflection.lexicon import RELATIONS, words

# What the question asks for, first match wins.
_INTENTS: list[tuple[str, re.Pattern[str]]] = [
    (attribute, re.compile(pattern, re.IGNORECASE))
    for attribute, pattern in [
        ("email", r"\be-?mail\b"),
        ("phone", r"\b(?:phone|mobile|cell(?:phone)?|telemóvel|telefone)\b|\bnumber\b"),
        ("birthday", r"\bbirthday\b|\bwhen\s+(?:was|were|is|are)\s+\S+(?:\s+\S+)?\s+born\b"),
        ("allergy", r"\ballergi(?:c|es)\b|\ballergy\b"),
        ("pet", r"\b(?:dog|cat|pet|puppy|kitten)s?\b"),
        ("language", r"\blanguages?\b|\bspeaks?\b"),
        ("hobby", r"\bhobb(?:y|ies)\b|\bpastimes?\b|\bfree\s+time\b"),
        ("nationality", r"\bnationality\b|\bcitizenship\b"),
        ("diet", r"\bdiet\b|\bvegetarian\b|\bvegan\b"),
        ("partner", r"\b(?:partner|wife|husband|girlfriend|boyfriend|spouse)\b"),
        ("hometown", r"\bhometown\b|\bgr[eo]w\s+up\b"),
        ("address", r"\baddress\b|\bstreet\b"),
        (
            "employer",
            r"\bwork(?:s|ing)?\s+(?:at|for)\b|\bwhere\b.*\bwork(?:s|ing)?\b|"
            r"\bemployer\b|\b(?:which|what)\s+company\b",
        ),  # fmt: skip
        (
            "job_title",
            r"\bjob\s+title\b|\boccupation\b|\bdo\s+for\s+a\s+living\b|"
            r"\bwhat\s+(?:is|was)\s+\S+\s+job\b",
        ),  # fmt: skip
        (
            "city",
            r"\b(?:live|lives|living|based)\b|\b(?:which|what)\s+city\b|\bmoved?\b|"
            r"(?:'s|\b(?:my|our|his|her|their))\s+(?:home\s+)?(?:city|town)\b",
        ),  # fmt: skip
        ("school", r"\b(?:school|university|college)\b|\bwhere\b.*\bstud(?:y|ies)\b"),
        ("dislikes", r"\b(?:hate|hates|dislike|dislikes|can'?t\s+stand)\b"),
        # A team one supports is among one's likes, as a person note lists them.
        ("likes", r"\b(?:like|likes|love|loves|enjoys?|favou?rite|fan\s+of|supports?)\b"),
        ("relationship", r"^\s*who\s+is\s+(?!my\b|our\b)\S+(?:\s+\S+)?\s*\??\s*$"),
    ]
]

# Narrower than any attribute (`asks_for_more`).
_NARROWER = re.compile(
    r"\b(?:manager|boss|colleague|team|salary|pay|offer(?:ed)?|interview|flight|hotel|"
    r"meeting|appointment|booking|reservation|ticket|vet|doctor|dentist|wedding|trip|"
    r"party|gift|present|first\s+day|name\s+of\s+the|password|pin|code|operator|provider|"
    r"carrier|network|plan|contract|breed|office|headquarters|website|"
    r"give|gave|given|bring|brought|buy|bought|send|sent|the\s+job(?!\s+title))\b",
    re.IGNORECASE,
)
# "Which team does Dudu support?" asks for one of his likes, not for a team he is in.
_SUPPORTED = re.compile(
    r"\b(?:team|club)\b.*\b(?:support|supports|fan\s+of)\b|"
    r"\b(?:support|supports|fan\s+of)\b.*\b(?:team|club)\b",
    re.IGNORECASE,
)
# "Which shelter did we adopt the dog from?" asks for a shelter, not the pet: a question
# that opens with "which/what NOUN" asks for that noun, unless it is the attribute's own.
_ASKED_NOUN = re.compile(r"^\s*(?:which|what)\s+([^\W\d_]+)", re.IGNORECASE)
_OWN_NOUNS = words(
    """
    is was are were does do did has have had city town village place country address street
    number phone mobile email e-mail company employer firm job title occupation profession
    language languages pet pets dog dogs cat cats animal allergy allergies hobby hobbies
    nationality school university college birthday date day name nickname diet partner
    """
)
# "my best friend", "our kids": a question about someone, whom the relationship names.
_RELATION_WORDS = sorted((*RELATIONS, *people.KIN_PLURALS, "kids", "children"), key=len)
_MY_RELATION = re.compile(
    rf"\b(?:my|our)\s+({'|'.join(re.escape(w) for w in reversed(_RELATION_WORDS))})\b"
)
_SELF = re.compile(r"\b(?:i|my|me|mine|myself|our|we|us)\b", re.IGNORECASE)
# "Tiago and I", "we", "our": the user is asked about too, beside whoever is named.
_WITH_SELF = re.compile(r"\b(?:and\s+(?:i|me)|(?:i|me)\s+and|we|us|our)\b", re.IGNORECASE)


def became_true(conn: sqlcipher3.Connection) -> Callable[[str], date | None]:
    """For `question_time.window_of`: the day a value ("Porto", "Maré Energy") first
    became true for you, else for anyone the persona knows; None when no fact holds it."""

    def day(value: str) -> date | None:
        wanted = value.casefold()
        found = sorted(
            (person_key != "self", valid_from)
            for person_key, valid_from, held in conn.execute(
                "SELECT person_key, valid_from, value FROM facts "
                "WHERE status != 'hidden' AND valid_from IS NOT NULL"
            )
            if held.casefold() == wanted or held.casefold().startswith(wanted + " ")
        )
        return date.fromisoformat(found[0][1][:10]) if found else None

    return day


def asked_attribute(question: str) -> str | None:
    """The persona attribute the question asks for, if it asks for one."""
    return next((a for a, p in _INTENTS if p.search(question)), None)


# "my old number", "where did I live before…": a question for a value that has ended.
_EARLIER = re.compile(r"\b(?:old|previous|former|before|used\s+to|earlier|prior)\b", re.IGNORECASE)


def asks_earlier(question: str) -> bool:
    """Whether the question asks for a value that no longer holds."""
    return _EARLIER.search(question) is not None


# "my job title now", "current address": a question for the value that holds today.
_NOW = re.compile(r"\b(?:now|current|currently|these\s+days|at\s+the\s+moment)\b", re.IGNORECASE)


def asks_now(question: str) -> bool:
    """Whether the question asks for the value that holds today, and none before."""
    return _NOW.search(question) is not None and not asks_earlier(question)


# "When did we move?", "what day is the flight?": a day answers them. "What time" asks
# for less, and "since when" / "how long" for something else.
ASKS_DAY = re.compile(r"^\s*(?:when\b(?!\s+\w+\s+\w+\s+time\b)|(?:what|which)\s+(?:day|date)\b)",
                      re.IGNORECASE)  # fmt: skip
HOW_LONG_AGO = re.compile(
    r"\bhow\s+long\s+ago\b|\bhow\s+many\s+(?:days|weeks|months|years)\s+ago\b", re.IGNORECASE
)


def asks_when(question: str) -> bool:
    """Whether a day answers the question: "when did…", "what day…", "how long ago…"."""
    return ASKS_DAY.search(question) is not None or HOW_LONG_AGO.search(question) is not None


def asked_people(conn: sqlcipher3.Connection, question: str) -> set[str]:
    """Whom the question is about: the people it names (by name, first name or
    nickname), with you when it says "Tiago and I" or "we"; else those a relationship
    word names ("Mãe", "my parents"); else you ("self") when it says "I", "my" or "our".
    Empty when it names no one."""
    return _asked(conn, question)[0]


def _asked(conn: sqlcipher3.Connection, question: str) -> tuple[set[str], bool]:
    """`asked_people`, and whether the question named them (rather than a relationship
    word or "I" meaning them)."""
    lowered = question.casefold()
    named = people.named_in(conn, lowered)
    if named:
        return (named | {"self"} if _WITH_SELF.search(question) else named), True
    for word in re.findall(r"[^\W\d_]+", lowered):
        if word in people.KIN_GROUP:  # "Mãe", "mum": whoever that relationship names
            return people.with_relationship(conn, word), False
    relation = _MY_RELATION.search(lowered)
    if relation:  # "my best friend", "my parents": someone, not you
        return people.with_relationship(conn, relation.group(1)), False
    return ({"self"} if _SELF.search(question) else set()), False


# "Where does the person whose birthday is on 3 November work?": someone described by
# one of their facts instead of named.
_WHOSE = re.compile(
    r"\b(?:the\s+)?(?:person|one|friend|colleague|relative|guy|woman|man|girl|boy)\s+whose\s+"
    r"(?P<attribute>[^\W\d_]+(?:\s+[^\W\d_]+)?)\s+(?:is|was|are|were)\s+"
    r"(?:on\s+|in\s+|at\s+|the\s+)?(?P<rest>.+)$",
    re.IGNORECASE,
)
_WORD_OR_NUMBER = re.compile(r"[^\W_]+")
_YEAR = re.compile(r"^(?:19|20)\d\d$")


def with_names(conn: sqlcipher3.Connection, question: str) -> str:
    """The question with "the person whose ATTRIBUTE is VALUE" replaced by that person's
    name, when exactly one person's current fact has that value (a birthday's year may
    be left out); else the question as it is."""
    m = _WHOSE.search(question)
    if m is None:
        return question
    attribute = asked_attribute(m.group("attribute"))
    if attribute is None:
        return question
    rest = [w.casefold() for w in _WORD_OR_NUMBER.findall(m.group("rest"))]
    found: dict[str, int] = {}  # person -> how many of the question's words the value is
    for fact in persona.facts(conn, None, attribute):
        value = [w.casefold() for w in _WORD_OR_NUMBER.findall(fact.value)]
        while value and _YEAR.match(value[-1]) and len(value) > 1:
            value = value[:-1]
        if value and rest[: len(value)] == value:
            found[fact.person] = len(value)
    if len(found) != 1 or "self" in found:  # "what does me do…": you are asked as "I"
        return question
    person, length = next(iter(found.items()))
    said = m.group("rest")
    end = [w.end() for w in _WORD_OR_NUMBER.finditer(said)][length - 1]
    return f"{question[: m.start()]}{person}{said[end:]}"


def asks_for_more(question: str) -> bool:
    """Whether the question asks for something narrower than the attribute it names:
    "who is my manager at the new job?", "which shelter did we adopt the dog from?",
    "where is the office of my employer?". The persona's value does not answer it, but
    may lead to what does (`words_meant`)."""
    if _SUPPORTED.search(question):
        return False
    if _NARROWER.search(question):
        return True
    m = _ASKED_NOUN.match(question)
    return m is not None and m.group(1).casefold() not in _OWN_NOUNS


# "When did I turn 30?", "How old did Tiago turn in 2024?", "How old is Mãe?": a birthday
# with its year answers them.
_TURNED = re.compile(r"^\s*when\s+(?:did|does|will|do)\s+.+?\s+turn\s+(?P<age>\d{1,3})\b", re.I)
_HOW_OLD = re.compile(
    r"^\s*how\s+old\s+(?:is|was|am|are|were|will|did|does|do)\b.*?"
    r"(?:\bin\s+(?P<year>(?:19|20)\d\d))?\s*\??\s*$",
    re.I,
)


_OLD = re.compile(r"\bhow\s+old\b", re.IGNORECASE)


def for_search(question: str) -> str:
    """The question as its words are searched: "how old" asks for an age, which no
    memory words as such ("Happy 33!"; `words_meant` adds the age when it is known), and
    "old" would find "my old number"."""
    return _OLD.sub("how", question)


@dataclass(frozen=True)
class AgeAsked:
    """An age question about someone whose birthday, with its year, the persona holds."""

    person: str
    fact: persona.Fact  # the birthday
    born: date
    turned: int | None  # "when did I turn 30?"
    year: int | None  # "how old did Tiago turn in 2024?"

    def birthday(self) -> date | None:
        """The birthday the question is about (the one of `year`, or the one they
        turned `turned` on); None when it names neither. 29 February falls on the 28th
        in other years."""
        year = self.year or (self.born.year + self.turned if self.turned is not None else None)
        if year is None or not 1 <= year <= 9999:
            return None
        if (self.born.month, self.born.day) == (2, 29) and not calendar.isleap(year):
            return date(year, 2, 28)
        return self.born.replace(year=year)


def asked_age(conn: sqlcipher3.Connection, question: str) -> AgeAsked | None:
    turned, how_old = _TURNED.match(question), _HOW_OLD.match(question)
    if turned is None and how_old is None:
        return None
    person = asked_person(conn, question)
    if person is None:
        return None
    for fact in persona.facts(conn, person, "birthday"):
        born = full_date(fact.value)
        if born is not None:
            year = how_old.group("year") if how_old is not None else None
            return AgeAsked(person, fact, born, int(turned.group("age")) if turned else None,
                            int(year) if year else None)  # fmt: skip
    return None


def words_meant(conn: sqlcipher3.Connection, question: str) -> list[str]:
    """Words a question means without saying them, for the keyword search: the names
    of those it means by a relationship (`names_meant`), and, when it asks for more than
    an attribute, that attribute's current values ("the office of my employer" means
    "Maré Energy"; "which airline flies to my brother's city?" means "Amsterdam")."""
    asked, named = _asked(conn, question)  # once: it reads every person the persona has
    out = [] if named else _names(conn, asked)
    attribute = asked_attribute(question)
    if attribute is not None and asks_for_more(question):
        for person in sorted(asked):
            out += [f.value for f in persona.facts(conn, person, attribute)]
    age = asked_age(conn, question)
    if age is not None and age.year is not None:  # "Happy 33 Ti!" on his birthday
        out += [str(age.year - age.born.year), "birthday"]
    lowered = question.casefold()
    return [w for w in dict.fromkeys(out) if w.casefold() not in lowered]


def names_meant(conn: sqlcipher3.Connection, question: str) -> list[str]:
    """The names of the people a question means by a relationship word and not by name
    ("my brother", "Mãe"): their first names and nicknames, the words their memories
    use for them ("Duarte", "Dudu", "Pai"). Empty when the question names them itself,
    or means only you. Surnames are left out: a family shares them."""
    asked, named = _asked(conn, question)
    lowered = question.casefold()
    return [] if named else [n for n in _names(conn, asked) if n.casefold() not in lowered]


def _names(conn: sqlcipher3.Connection, asked: set[str]) -> list[str]:
    names: list[str] = []
    for person in sorted(asked - {"self"}):
        names.append(person.split()[0])
        names += [f.value for f in persona.facts(conn, person, "nickname")]
    return list(dict.fromkeys(names))


def asked_person(conn: sqlcipher3.Connection, question: str) -> str | None:
    """The one person the question is about; None when it names several or no one."""
    found = asked_people(conn, question)
    return next(iter(found)) if len(found) == 1 else None


# A capitalised word after the first one: a name, perhaps possessive ("Melanie's").
_NAME_WORD = re.compile(r"(?<=\s)[A-Z][\w'’-]*")
_POSSESSIVE = re.compile(r"['’]s$")


def speaker_senders(conn: sqlcipher3.Connection, question: str) -> list[str]:
    """The sender names of the one person a question is about, when it names exactly one
    person who sends messages ("What does Melanie do to destress?": "Melanie"); a name
    matches a sender spelled the same or beginning with it ("Tiago Mendes"). Empty when
    it names no sender, or several ("Caroline and Melanie"), or speaks of you too ("Tiago
    and I", "what did Tiago give me?"): then no one voice holds the answer."""
    found = _named_senders(conn, question)
    return found[0][1] if len(found) == 1 else []


def without_senders(conn: sqlcipher3.Connection, question: str) -> str:
    """The question without the names of the people who send messages that it is about
    (as `speaker_senders` reads them, one or more): "What activities has Melanie done
    with her family?" -> "What activities has done with her family?". For the dense
    side: a sender's messages all carry their name in their vectors, and in a chat a
    name is mostly how the other person addresses someone ("Thanks, Melanie!"), so a
    question vector that holds it comes nearest to the shortest messages and to what
    was said to them, not to what they said; who said it is known from the sender.
    A question that speaks of you too keeps them: leaving them out there cost the life
    fixture two recall@5 questions and one answer."""
    rest = question
    for name, _ in _named_senders(conn, question):
        rest = re.sub(rf"(?<![\w'’]){re.escape(name)}(?:['’]s)?(?![\w'’])", " ", rest)
    if not any(w.casefold() not in STOPWORDS for w in WORD.findall(rest)):
        return question  # "What about Melanie?": the name is all there is to search
    return " ".join(rest.split())


def _named_senders(conn: sqlcipher3.Connection, question: str) -> list[tuple[str, list[str]]]:
    """(a name as the question writes it, the sender names it matches) for each person
    who sends messages that the question names; none when it speaks of you too."""
    if _SELF.search(question):
        return []
    found: list[tuple[str, list[str]]] = []
    for name in dict.fromkeys(_POSSESSIVE.sub("", w) for w in _NAME_WORD.findall(question)):
        senders = [r[0] for r in conn.execute(
            "SELECT DISTINCT sender FROM episodes WHERE sender = ? "
            "OR (sender >= ? AND sender < ?)", (name, name + " ", name + "!"),
        )]  # fmt: skip
        if senders:
            found.append((name, senders))
    return found
