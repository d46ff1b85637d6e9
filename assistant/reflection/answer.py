"""The builtin engine's answer: the evidence sentences that best support the question.

No model writes anything here: every sentence of the answer is quoted from the evidence
and followed by its date, source and ref, so the user can check it and `me ask` can cite
it. A sentence earns its place by sharing the question's content words, a rare word
counting more than one every sentence has ("Ana" in a memory about Ana); the evidence
arrives ranked, so earlier evidence gets a small lead; a "when" or "how many" question
prefers sentences that hold a date or a number, and a "now" question the newest.
"""

from __future__ import annotations

import calendar
import math
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime

from assistant.asking import HOW_LONG_AGO, asks_when
from assistant.hits import STOPWORDS, WORD, answer_pattern, query_terms
from assistant.question_time import without_period
from assistant.reflection.dates import DATE_RE, find_date
from assistant.reflection.engine import Answer, Evidence
from assistant.reflection.extract import split_sentences
from assistant.word_forms import canonical, rephrased

NOTHING = "Nothing in your memory answers this question."
ENGINE = "builtin"
MAX_QUOTE = 300  # characters of one sentence shown; a pasted list has no full stop

# Bonuses, in units of the overlap score (1.0 = every question word matched).
ORDER_BONUS = 0.1  # the first evidence, falling to 0 for the last
KIND_BONUS = 0.25  # a date for "when", a number for "how many"
GOVERNED_BONUS = 0.1  # for "when": a date just after a question word ("back on the 27th")
MISSING_KIND = 0.75  # the overlap of a sentence without the kind of answer asked for
RECENT_BONUS = 0.15  # for "now" questions: the newest evidence, falling to 0 for the oldest
CONTEXT_SHARE = 0.5
# "Which shelter did we adopt the dog from?": the sentence naming a shelter answers it,
# more than one sharing "adopt" and "dog"; the asked noun weighs this much more.
ASKED_NOUN_WEIGHT = 2.0  # a question word found only in the evidence's title counts this much
# A sentence sharing far fewer question words than the best one is a distractor, not
# support, whatever its bonuses.
KEEP_RATIO = 0.5
# A sentence supports the question when it holds half the question's weight, or a word
# found in at most this share of the evidence sentences (not just the person asked about).
STANDS_ALONE = 0.5
TELLING_SHARE = 1 / 3

_WHEN_QUESTION = re.compile(
    r"\b(?:when|since\s+when|until\s+when|how\s+long\s+ago|(?:what|which)\s+(?:date|day|time"
    r"|year|month|weekday))\b",
    re.IGNORECASE,
)
_COUNT_QUESTION = re.compile(
    r"\b(?:how\s+(?:many|much|old|long|far|often|big|tall|heavy)|what\s+(?:number|price"
    r"|amount|age)|which\s+number)\b",
    re.IGNORECASE,
)
# "Who is my dentist now?": of two dentists, the later one is meant.
_NOW_QUESTION = re.compile(
    r"\b(?:now|nowadays|current|currently|these\s+days|at\s+the\s+moment|latest|still)\b",
    re.IGNORECASE,
)
_ASKED_NOUN = re.compile(r"^\s*(?:which|what)\s+([^\W\d_]+)", re.IGNORECASE)
_MONTH_NAMES = "|".join(
    [*(m for m in calendar.month_name if m), *(m for m in calendar.month_abbr if m)]
)
_DAY_NAMES = "|".join(d for d in calendar.day_name)
_DATE_OR_TIME = re.compile(
    rf"\b(?:\d{{4}}-\d{{2}}-\d{{2}}|\d{{1,2}}[:h.]\d{{2}}|\d{{1,2}}/\d{{1,2}}(?:/\d{{2,4}})?"
    rf"|(?:19|20)\d\d|{_MONTH_NAMES}|{_DAY_NAMES}|today|tonight|tomorrow|yesterday"
    rf"|(?:next|last|this)\s+(?:week|month|year|weekend))\b",
    re.IGNORECASE,
)
_NUMBER = re.compile(
    r"\d|\b(?:one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|twenty|dozen"
    r"|hundred|thousand|million)\b",
    re.IGNORECASE,
)
_SUFFIXES = ("ing", "ed", "es", "s")


# "who" wants a name after the sentence's first word; "where" a place after a
# preposition; an amount, a time of day or a date come from `hits.answer_pattern`.
_WHO = (re.compile(r"^\s*who(?:m|se)?\b", re.I), re.compile(r"(?<=\s)(?-i:[A-Z][\w'-]+)"))
_WHERE = (
    re.compile(r"^\s*where\b", re.I),
    re.compile(r"\b(?:in|at|to|from|near)\s+(?-i:[A-Z][\w'-]+)|\b\d+\s+\w+\s+(?:street|st|"
               r"road|rd|avenue|av|rua|avenida)\b", re.I),
)  # fmt: skip


def _answer_kind(question: str) -> re.Pattern[str] | None:
    for asks, answer in (_WHO, _WHERE):
        if asks.search(question):
            return answer
    return answer_pattern(question)


def _holds(wants: re.Pattern[str], sentence: str, terms: list[str]) -> bool:
    """Whether the sentence holds an answer of the kind asked for that the question does
    not already say ("Farol" answers no "who is my manager at Farol?")."""
    return any(not _stems(m.group()) <= set(terms) for m in wants.finditer(sentence))


@dataclass(frozen=True)
class _Candidate:
    overlap: float  # the weighted share of the question's words it holds, 0..1
    score: float  # overlap plus bonuses: the order of the answer
    rank: int  # the evidence's position: ranked best first
    position: int  # the sentence's position in its evidence
    sentence: str
    evidence: Evidence
    alone: bool = True  # whether it holds a question word itself, not only its context


def extractive_answer(
    question: str,
    evidence: Sequence[Evidence],
    max_sentences: int = 3,
    now: datetime | None = None,
) -> Answer:
    """The `max_sentences` evidence sentences that best answer `question`, best first,
    each followed by "(date, source) [ref]"; a plain "nothing" without citations when no
    sentence shares a telling word with the question. A "when" question gets the day
    first, and "how long ago" the time from then to `now` (today when None)."""
    terms = _question_stems(question)
    candidates = _candidates(question, terms, evidence)
    if not candidates or max_sentences < 1:
        return Answer(text=NOTHING, citations=[], engine=ENGINE)
    best = sorted(candidates, key=lambda c: (-c.score, c.rank, c.position))
    floor = KEEP_RATIO * max(c.overlap for c in candidates)
    gathering = GATHERING.search(question) is not None
    if gathering:  # "how many times…": every memory that tells of it, once each
        firsts: dict[str, _Candidate] = {}
        for candidate in best:
            firsts.setdefault(candidate.evidence.ref, candidate)
        best = list(firsts.values())
    # The best by score leads even below the floor (the kind of answer asked for can
    # outweigh shared words); the floor keeps weak lines from following it.
    chosen = [best[0], *(c for c in best[1:] if c.overlap >= floor)]
    chosen = chosen[: GATHER if gathering else max_sentences]
    text = "\n".join(_cited(c, terms) for c in chosen)
    if gathering:
        days = sorted({c.evidence.date[:10] for c in chosen if c.evidence.date})
        if len(days) > 1:  # the days it is told on: a count a person can check
            text = f"On {len(days)} days ({', '.join(days)}):\n{text}"
    if asks_when(question):
        found = _when_told(chosen[0], terms)
        if found is not None:  # the answer to "when" is a day: say it first, then why
            day, told = found
            if HOW_LONG_AGO.search(question):
                told = f"{ago(day, now)}, {told[0].lower()}{told[1:]}"
            text = f"{told}: {text}"
    citations = list(dict.fromkeys(c.evidence.ref for c in chosen))
    # The best sentence alone is what may be kept: stitched lines and labels are not a
    # statement, and a sentence cut short is not one either; nor is one that answers only
    # through its title ("~1,400 € for the two of us", under "Copenhagen, last day").
    top = " ".join(chosen[0].sentence.split())
    keep = len(top) <= MAX_QUOTE and chosen[0].evidence.ref[0] == "e" and chosen[0].alone
    statement = top if keep else None
    return Answer(text=text, citations=citations, engine=ENGINE, statement=statement)


# "How many times did I bake…", "how often…": a count over several memories, so every
# one that tells of it is shown (at most GATHER), with the days they are on.
GATHERING = re.compile(r"\bhow\s+(?:many\s+times|often)\b", re.IGNORECASE)
GATHER = 10


def ago(day: date, now: datetime | None) -> str:
    """ "278 days ago (about 9 months)": from `day` to `now` (today when None)."""
    today = now.date() if now is not None else date.today()
    days = (today - day).days
    if days < 0:
        return f"in {-days} days"
    if days < 14:
        return f"{days} days ago"
    days_text, about = span(days).split(" (", 1)
    return f"{days_text} ago ({about}"


def span(days: int) -> str:
    """ "1 day", "9 days", "278 days (about 9 months)": a duration a person can read."""
    if days < 14:
        return f"{days} day" if days == 1 else f"{days} days"
    about = (f"about {round(days / 7)} weeks" if days < 60
             else f"about {round(days / 30.44)} months" if days < 730
             else f"about {round(days / 365.25)} years")  # fmt: skip
    return f"{days} days ({about})"


# "the 27th", after a full date or alone: a day of the month already named.
_ORDINAL_DAY = re.compile(r"\bthe\s+(?P<d>[12]\d|3[01]|0?[1-9])(?:st|nd|rd|th)\b(?!\s+of\b)", re.I)
_CLAUSE_BREAK = re.compile(r"[,;:.!?()\n]")
GOVERNED_WORDS = 3  # a question word at most this many words before a date governs it


def _mentions(sentence: str) -> list[re.Match[str]]:
    """The dates a sentence names, in order: `DATE_RE`'s, and "the 27th" outside them."""
    found = list(DATE_RE.finditer(sentence))
    found += [m for m in _ORDINAL_DAY.finditer(sentence)
              if not any(d.start() <= m.start() < d.end() for d in found)]  # fmt: skip
    return sorted(found, key=lambda m: m.start())


def _governed(sentence: str, mention: re.Match[str], terms: Sequence[str]) -> bool:
    """Whether a question word stands just before the date, in its clause: "back on the
    27th" answers "when do we fly back?", where "21 December" in the same line does not."""
    before = _CLAUSE_BREAK.split(sentence[: mention.start()])[-1]
    return bool(set(terms) & {_stem(w.lower()) for w in WORD.findall(before)[-GOVERNED_WORDS:]})


def _when_told(candidate: _Candidate, terms: Sequence[str] = ()) -> tuple[date, str] | None:
    """`told_day` of a candidate sentence; None for a persona fact, whose sentence is a
    value and not an event."""
    item = candidate.evidence
    if item.ref[0] == "f" or not item.date:
        return None
    try:
        anchor = date.fromisoformat(item.date[:10])
    except ValueError:
        return None
    return told_day(candidate.sentence, anchor, terms)


def told_day(sentence: str, said: date, terms: Sequence[str] = ()) -> tuple[date, str]:
    """When a sentence said on `said` says its event happens, as precisely as it says
    it: the first date it names, resolved against that day ("On Friday 15 March 2024"
    for "tomorrow", "In June 2024" for "in June"), else that day itself; with the first
    day it means. With the question's `terms`, a date a question word governs comes
    first ("KL1704 on 21 December, back on the 27th" for "when do we fly back?")."""
    named = _mentions(sentence)
    resolved: dict[int, date] = {}  # "the 27th" takes its month from the date before it
    for m in named:
        day = find_date(m.group(), said) if m.re is DATE_RE else None
        if day is not None:
            resolved[m.start()] = day
    governed = [m for m in named if _governed(sentence, m, terms)]
    mentions = governed + [m for m in named if m not in governed]
    for index, m in enumerate(mentions):
        if m.re is _ORDINAL_DAY:  # "the 27th"
            earlier = [d for start, d in resolved.items() if start < m.start()]
            month = earlier[-1] if earlier else said
            try:
                day = month.replace(day=int(m.group("d")))
            except ValueError:  # the 31st of a shorter month
                continue
            return day, f"On {day:%A} {day.day} {day:%B %Y}"
        later = mentions[index + 1] if index + 1 < len(mentions) else None
        if m.group("wd") and later is not None and later.start() - m.end() <= 2:
            continue  # "Thursday 18 April 2024": the weekday names the date that follows
        day = find_date(m.group(), said)
        if day is None:
            continue
        g = m.groupdict()
        unit = (g["rel_unit"] or g["ago_unit"] or g["in_unit"] or "").casefold()
        if g["y"] or unit == "year" and not g["ago_unit"]:
            return day, f"In {day.year}"
        if g["m"] or g["my_m"] or unit == "month" and not g["ago_unit"]:
            return day, f"In {day:%B %Y}"
        if unit == "week" and g["rel_unit"]:
            return day, f"In the week of {day.day} {day:%B %Y}"
        return day, f"On {day:%A} {day.day} {day:%B %Y}"
    return said, f"On {said:%A} {said.day} {said:%B %Y}"


def _candidates(question: str, terms: list[str], evidence: Sequence[Evidence]) -> list[_Candidate]:
    """Every evidence sentence that supports the question, scored; each sentence once."""
    sentences = [
        (rank, position, sentence, item)
        for rank, item in enumerate(evidence)
        for position, sentence in enumerate(split_sentences(item.text))
        if not sentence.rstrip().endswith("?")  # a question answers nothing
        # The title is its context, and shown with the source: not an answer in itself.
        and not _same_text(sentence, item.context)
    ]
    stems = [_stems(sentence) for _, _, sentence, _ in sentences]
    weights, telling = _weights(terms, stems)
    asked = _ASKED_NOUN.match(question)
    if asked is not None and _stem(asked.group(1).lower()) in weights:
        weights[_stem(asked.group(1).lower())] *= ASKED_NOUN_WEIGHT
    total = sum(weights.values())
    wants_date = _WHEN_QUESTION.search(question) is not None
    wants_number = _COUNT_QUESTION.search(question) is not None
    wants = _answer_kind(question)
    recency = _recency(evidence) if _NOW_QUESTION.search(question) else {}
    seen: set[str] = set()
    out: list[_Candidate] = []
    for (rank, position, sentence, item), words in zip(sentences, stems, strict=True):
        around = _stems(item.context) - words
        shared = [t for t in terms if t in words or t in around]
        weight = sum(weights[t] * (CONTEXT_SHARE if t in around else 1.0) for t in shared)
        overlap = weight / total if shared else 0.0
        key = " ".join(sentence.casefold().split())
        # "What is Ana's dog called?": sharing only "Ana" with it answers nothing.
        if key in seen or (overlap < STANDS_ALONE and not telling.intersection(shared)):
            continue
        seen.add(key)
        holds = (
            (wants_date and _DATE_OR_TIME.search(sentence))
            or (wants_number and _NUMBER.search(sentence))
            or (wants is not None and _holds(wants, sentence, terms))
        )
        wants_kind = wants_date or wants_number or wants is not None
        # "When is Ana's flight?": a line with no date at all answers it poorly, however
        # many of its words it shares.
        score = overlap * (MISSING_KIND if wants_kind and not holds else 1.0)
        score += ORDER_BONUS * (1 - rank / len(evidence))
        score += RECENT_BONUS * recency.get(item.ref, 0.0)
        if holds:
            score += KIND_BONUS
        if wants_date and any(_governed(sentence, m, terms) for m in _mentions(sentence)):
            score += GOVERNED_BONUS
        alone = any(t in words for t in shared)
        out.append(_Candidate(overlap, score, rank, position, sentence, item, alone))
    return out


def _recency(evidence: Sequence[Evidence]) -> dict[str, float]:
    """Each dated evidence's place in time: 1 for the newest, 0 for the oldest."""
    days = sorted({item.date[:10] for item in evidence if item.date})
    if len(days) < 2:
        return {}
    place = {day: index / (len(days) - 1) for index, day in enumerate(days)}
    return {item.ref: place[item.date[:10]] for item in evidence if item.date}


def _same_text(sentence: str, context: str) -> bool:
    """Whether the sentence is the context or one of its parts ("Ana's flights > Outbound")."""
    said = " ".join(sentence.casefold().split())
    parts = [context, *context.split(" > ")] if context else []
    return any(said == " ".join(part.casefold().split()) for part in parts)


def _weights(terms: list[str], stems: list[set[str]]) -> tuple[dict[str, float], set[str]]:
    """Each term's weight, by inverse sentence frequency (a word in every sentence tells
    them apart least), and the terms that tell sentences apart at all."""
    n = len(stems)
    counts = {t: sum(1 for s in stems if t in s) for t in terms}
    weights = {t: math.log(1 + n / (1 + c)) for t, c in counts.items()}
    telling = {t for t, c in counts.items() if 0 < c <= TELLING_SHARE * n}
    return weights, telling


def _question_stems(question: str) -> list[str]:
    """The question's content words, stemmed, without the words of its kind ("how many",
    "what time"): a sentence need not repeat them. None for "who am I?": recall falls
    back to every word there, but a sentence sharing "am" with it supports nothing."""
    asked = GATHERING.sub(" ", HOW_LONG_AGO.sub(" ", without_period(rephrased(question))))
    asked = _WHEN_QUESTION.sub(" ", _COUNT_QUESTION.sub(" ", asked))
    words = [t for t in query_terms(asked) if t not in STOPWORDS]
    # One-letter terms are the "s" of "Ana's", not words.
    return list(dict.fromkeys(_stem(canonical(t)) for t in words if len(t) > 1 or t.isdigit()))


def _stems(sentence: str) -> set[str]:
    """The sentence's words in one form each: "gave" is "give", "thirty" is "30"."""
    return {_stem(canonical(w.lower())) for w in WORD.findall(sentence)}


def _stem(word: str) -> str:
    """A crude English stem, the same on both sides: lands/landed/landing -> land."""
    for suffix in _SUFFIXES:
        if word.endswith(suffix) and len(word) - len(suffix) >= 3 and not word.endswith("ss"):
            word = word[: -len(suffix)]
            break
    return word[:-1] if len(word) > 3 and word.endswith("e") else word


def _cited(candidate: _Candidate, terms: list[str]) -> str:
    item = candidate.evidence
    where = ", ".join(part for part in (item.date[:10], item.source) if part)
    quote = _shorten(candidate.sentence, terms)
    return f"{quote} ({where}) [{item.ref}]" if where else f"{quote} [{item.ref}]"


def _shorten(sentence: str, terms: list[str]) -> str:
    """At most MAX_QUOTE characters, around the first question word."""
    if len(sentence) <= MAX_QUOTE:
        return sentence
    starts = [m.start() for m in WORD.finditer(sentence) if _stem(m.group().lower()) in terms]
    start = max(0, (starts[0] if starts else 0) - MAX_QUOTE // 3)
    start = sentence.rfind(" ", 0, start) + 1 if start else 0  # at a word's start
    end = start + MAX_QUOTE
    if end < len(sentence) and " " in sentence[start:end]:
        end = sentence.rfind(" ", start, end)  # at a word's end
    head = "…" if start else ""
    tail = "…" if end < len(sentence) else ""
    return head + sentence[start:end].strip() + tail
