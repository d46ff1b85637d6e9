"""What recall returns, and the text helpers that show it: light on purpose.

A front end talking to the daemon rebuilds `Hit`s and highlights snippets without
importing numpy, the store or the model (`assistant/recall.py` does the searching).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from assistant.errors import QueryError

WORD = re.compile(r"\w+", re.UNICODE)
STOPWORDS = frozenset(
    """a about above after again all am an and any are as at be been before being below
    between both but by can could did do does doing down during each few for from further
    had has have having he her here hers herself him himself his how i if in into is it its
    itself just me more most my myself no nor not now of off on once only or other our ours
    ourselves out over own same she should so some such than that the their theirs them
    themselves then there these they this those through to too under until up very was we
    were what when where which while who whom why will with would you your yours yourself
    yourselves""".split()  # noqa: SIM905
)


@dataclass
class Hit:
    id: int
    score: float
    time: str
    source_ref: str
    document: str
    title: str | None
    text: str
    kind: str
    author: str
    sender: str | None = None
    conversation: str | None = None
    meta: dict[str, Any] = field(default_factory=dict)
    quarantine: str | None = None  # why it is held apart (an instruction, ...), or None
    dense_rank: int | None = None
    keyword_rank: int | None = None

    def as_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "score": round(self.score, 6),
            "date": self.time,
            "source_ref": self.source_ref,
            "title": self.title,
            "kind": self.kind,
            "author": self.author,
            "sender": self.sender,
            "conversation": self.conversation,
            "text": self.text,
            "quarantined": self.quarantine is not None,
            "quarantine": self.quarantine,
        }


def source_label(document: str, title: str | None) -> str:
    """Where a memory came from, for people: its file (under ~ when it is) › heading."""
    path = Path(document)
    try:
        shown = "~/" + str(path.relative_to(Path.home()))
    except ValueError:
        shown = str(path)
    return f"{shown} › {title}" if title else shown


def query_terms(query: str) -> list[str]:
    """Content words of a query, lower-cased, stopwords removed, order kept."""
    words = [w.lower() for w in WORD.findall(query)]
    content = [w for w in words if w not in STOPWORDS]
    return list(dict.fromkeys(content or words))


def require_words(query: str) -> None:
    """Refuse a question that has nothing to search for."""
    if not WORD.search(query):
        raise QueryError("the question is empty: say what to look for, e.g. me recall Lisbon")


# What kind of answer a question asks for, as a pattern an answer holds: a snippet
# shows the window that has it ("what salary did they offer me?" -> the amount, not the
# "Kind regards" after the last matching word).
_ASKS: list[tuple[re.Pattern[str], re.Pattern[str]]] = [
    (re.compile(p, re.IGNORECASE), re.compile(a, re.IGNORECASE))
    for p, a in [
        (r"\b(?:how\s+much|salary|price|cost|pay|paid|rent|fee|amount|budget)\b",
         r"[€$£]\s?\d|\d[\d.,\s]*(?:€|eur|euros?|usd|dollars?|gbp|pounds?|k)\b"),
        (r"\bwhat\s+time\b|\bat\s+what\s+time\b",
         r"\b\d{1,2}[:h.]\d{2}\b|\b\d{1,2}\s?(?:am|pm)\b"),
        (r"\b(?:when|what\s+date|which\s+day|what\s+day)\b",
         r"\b\d{4}-\d{2}-\d{2}\b|\b\d{1,2}\s+(?:jan|feb|mar|apr|may|jun|jul|aug|sep|oct|"
         r"nov|dec)[a-z]*\b|\b(?:jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)[a-z]*\s+"
         r"\d{1,2}\b|\b(?:mon|tues|wednes|thurs|fri|satur|sun)day\b"),
        (r"\bhow\s+many\b", r"\b\d+\b|\b(?:two|three|four|five|six|seven|eight|nine|ten)\b"),
    ]
]  # fmt: skip


def answer_pattern(question: str) -> re.Pattern[str] | None:
    """The pattern an answer to `question` holds, when its kind is plain."""
    return next((answer for asks, answer in _ASKS if asks.search(question)), None)


def snippet(
    text: str, terms: Sequence[str], width: int = 220, question: str = ""
) -> tuple[str, list[tuple[int, int]]]:
    """The window of `text` with the most query terms (and, when the question asks for
    an amount, a time or a date, with one), and the spans to highlight in it. A window
    starts at a sentence when one starts shortly before, else at a word."""
    flat = " ".join(text.split())
    lowered = flat.lower()
    spans = []
    for term in terms:
        for m in re.finditer(r"\b" + re.escape(term.lower()), lowered):
            spans.append((m.start(), m.end()))
    wanted = answer_pattern(question)
    answers = [m.start() for m in wanted.finditer(flat)] if wanted else []
    if len(flat) <= width or not (spans or answers):
        start = 0
    else:
        best, start = -1.0, 0
        for s in [a for a, _ in spans] + answers:
            lo = max(0, s - width // 4)
            count = sum(1 for a, b in spans if a >= lo and b <= lo + width)
            score = count + (2.5 if any(lo <= a < lo + width for a in answers) else 0)
            if score > best:
                best, start = score, lo
        start = _boundary(flat, start, width // 3)
    end = min(len(flat), start + width)
    if end < len(flat) and " " in flat[start:end]:
        end = flat.rfind(" ", start, end)  # at a word's end
    prefix = "…" if start > 0 else ""
    suffix = "…" if end < len(flat) else ""
    window = prefix + flat[start:end] + suffix
    shift = len(prefix) - start
    marks = sorted((a + shift, b + shift) for a, b in spans if a >= start and b <= end)
    return window, marks


def _boundary(flat: str, start: int, reach: int) -> int:
    """A sentence's start at most `reach` characters before `start`, else the start of
    the word `start` falls in."""
    sentence = max(flat.rfind(". ", max(0, start - reach), start),
                   flat.rfind("! ", max(0, start - reach), start),
                   flat.rfind("? ", max(0, start - reach), start))  # fmt: skip
    if sentence >= 0:
        return sentence + 2
    word = flat.rfind(" ", 0, start)
    return word + 1 if word >= 0 else 0
