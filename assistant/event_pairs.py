"""Questions about two events: which came first, and how long passed between them.

"Which came first, the move to Porto or adopting Feijão?" and "how many days passed
between the flat viewing and signing the lease?" are not answered by any one memory:
each event is found by recall on its own words, dated by the day its memory says it
happened (`told_day`: "tomorrow" in a message of 14 March is the 15th), and the two are
ordered, or their days subtracted. The answer cites both memories, so it can be checked.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime

from assistant.evidence import evidence_of
from assistant.hits import Hit, query_terms, snippet
from assistant.memory import Memory
from assistant.recall import recall
from assistant.reflection.answer import span, told_day
from assistant.reflection.engine import Answer, Evidence

ORDER_ENGINE = "order"  # the engine name on an answer this module computed
SPAN_ENGINE = "dates"

# "Which came first, the move to Porto or adopting Feijão?"
_WHICH_FIRST = re.compile(
    r"^\s*(?:which|what)\s+(?:came|happened|was|were)\s+(?:first|earlier)\s*[,:]?\s*"
    r"(?P<a>.+?),?\s+or\s+(?P<b>.+?)\s*\??\s*$",
    re.IGNORECASE,
)
# "How many days passed between A and B?", "how long was it between A and B?"
_BETWEEN = re.compile(
    r"^\s*how\s+(?:many\s+(?:days|weeks|months|years)|long|much\s+time)\s+"
    r"(?:(?:had\s+|have\s+)?(?:passed|elapsed|gone\s+by|went\s+by)\s+|(?:was|were)\s+"
    r"(?:it|there)\s+|is\s+it\s+|are\s+there\s+)?between\s+(?P<a>.+?)\s+and\s+(?P<b>.+?)\s*\??\s*$",
    re.IGNORECASE,
)
# "How many days before I bought the bike did I go to the market?"
_BEFORE_AFTER = re.compile(
    r"^\s*how\s+(?:many\s+(?:days|weeks|months|years)|long)\s+(?P<dir>before|after)\s+"
    r"(?P<a>.+?)\s+(?:did|was|were|had)\s+(?P<b>.+?)\s*\??\s*$",
    re.IGNORECASE,
)
# Words that name the event's day rather than the event: "the day I bought…".
_LEAD = re.compile(
    r"^(?:(?:the\s+)?(?:day|date|time|moment)\s+(?:that\s+|when\s+|on\s+which\s+)?|when\s+"
    r"|the\s+|a\s+|an\s+)+",
    re.IGNORECASE,
)


@dataclass(frozen=True)
class Event:
    said: str  # the event as the question names it
    hit: Hit
    day: date
    told: str  # "On Friday 15 March 2024"
    quote: str


def answer(
    memory: Memory, question: str, now: datetime | None
) -> tuple[Answer, list[Evidence]] | None:
    """The computed answer to a two-event question with the evidence it cites; None when
    the question is not one, or when recall finds one memory (or none) for both events."""
    if m := _WHICH_FIRST.match(question):
        pair = _find(memory, m.group("a"), m.group("b"), now)
        return None if pair is None else _which_first(*pair)
    if m := _BETWEEN.match(question) or _BEFORE_AFTER.match(question):
        pair = _find(memory, m.group("a"), m.group("b"), now)
        return None if pair is None else _between(*pair)
    return None


def _find(memory: Memory, a: str, b: str, now: datetime | None) -> tuple[Event, Event] | None:
    found = []
    for part in (a, b):
        said = _LEAD.sub("", part.strip()) or part.strip()
        hits = [h for h in recall(memory, said, k=3, now=now) if h.quarantine is None]
        if not hits:
            return None
        found.append(_event(said, hits[0]))
    first, second = found
    if first.hit.id == second.hit.id:
        return None  # one memory for both: it cannot tell them apart
    return first, second


def _event(said: str, hit: Hit) -> Event:
    quote = snippet(" ".join(hit.text.split()), query_terms(said), question=said)[0]
    day, told = told_day(quote, date.fromisoformat(hit.time[:10]))
    return Event(said, hit, day, told, quote)


def _which_first(a: Event, b: Event) -> tuple[Answer, list[Evidence]]:
    early, late = sorted((a, b), key=lambda e: (e.day, e.hit.time, e.hit.id))
    head = (
        f"{early.said[0].upper()}{early.said[1:]} came first ({early.day}) [e{early.hit.id}], "
        f"then {late.said} ({late.day}) [e{late.hit.id}]."
    )
    return _cited(head, (early, late), ORDER_ENGINE)


def _between(a: Event, b: Event) -> tuple[Answer, list[Evidence]]:
    early, late = sorted((a, b), key=lambda e: (e.day, e.hit.time, e.hit.id))
    days = (late.day - early.day).days
    head = (
        f'{span(days)} between "{early.said}" ({early.told[3:]}) [e{early.hit.id}] '
        f'and "{late.said}" ({late.told[3:]}) [e{late.hit.id}].'
    )
    return _cited(head, (early, late), SPAN_ENGINE)


def _cited(head: str, events: tuple[Event, Event], engine: str) -> tuple[Answer, list[Evidence]]:
    evidence = [evidence_of(e.hit) for e in events]
    lines = [head, *(f'"{e.quote}" ({item.date[:10]}, {item.source}) [{item.ref}]'
                     for e, item in zip(events, evidence, strict=True))]  # fmt: skip
    return Answer("\n".join(lines), [item.ref for item in evidence], engine), evidence
