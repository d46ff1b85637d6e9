"""The period a question names ("last March", "in 2023", "two weeks ago", "this
summer"), resolved against the moment it is asked.

Recall searches that period first (`assistant/recall.py` fuses a ranking of the
memories inside it with the others), and the front ends show what was searched
("searched 2024-03-01 … 2024-03-31"). The moment is now unless the caller says
otherwise (`--now`): a benchmark or a test asks as of the day its data was written.

Granularity follows the words: "yesterday" and "on 3 May" are one day, "last week" the
whole week, "in March" the month, "in 2023" the year. A count back ("two weeks ago")
names a day only roughly, so it keeps a margin around it: a person who says "two weeks
ago" may mean ten days or seventeen. Seasons are the northern ones. A question about the
past ("what did I do on Friday?") takes the last such day, not the next. "Since March"
runs to today, "until 2023" from as far back as memories go. Phrases of more than one
date (parts of a month, ranges, weekends, holidays) are `period_phrases`'s.
"""

from __future__ import annotations

import calendar
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from assistant.period_phrases import back, month_in, phrases
from assistant.reflection.dates import (
    DATE_RE,
    MONTHS,
    WEEKDAYS,
    anchor_date,
    count_word,
    month_number,
)

# How far either side of a counted-back day a question may mean ("two weeks ago").
_ROUGHLY = {"day": 1, "week": 3, "month": 10, "year": 120}
_SEASONS = {
    "spring": (3, 5),
    "summer": (6, 8),
    "autumn": (9, 11),
    "fall": (9, 11),
    "winter": (12, 2),
}
# "this summer", "last winter", "in the summer", "the summer of 2023", "summer 2023"; a
# bare "his summer drives" names no period.
_SEASON_WORD = r"spring|summer|autumn|fall|winter"
_SEASON = re.compile(
    rf"\b(?:(?P<dir>this|last|next|past)\s+|(?:in|during|over)\s+(?:the\s+)?|the\s+(?=(?:{_SEASON_WORD})"
    rf"\s+of\b))(?P<season>{_SEASON_WORD})\b(?:\s+(?:of\s+)?(?P<year>(?:19|20)\d\d))?"
    rf"|\b(?P<season2>{_SEASON_WORD})\s+(?P<year2>(?:19|20)\d\d)\b",
    re.IGNORECASE,
)
_PAST_SPAN = re.compile(
    r"\b(?:in\s+)?the\s+(?:past|last)\s+(?P<n>\d{1,3}|two|three|four|five|six|seven|eight|nine"
    r"|ten|few|couple\s+of)\s+(?P<unit>day|week|month|year)s\b",
    re.IGNORECASE,
)
_SPAN_WORDS = {"two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8,
               "nine": 9, "ten": 10, "few": 3, "couple of": 2}  # fmt: skip
_FUTURE = re.compile(r"\b(?:will|going\s+to|next|upcoming|coming|plan|planning)\b", re.I)


@dataclass(frozen=True)
class Window:
    """A period a question names: first and last day, both included."""

    first: date
    last: date
    said: str  # the words that named it

    def __str__(self) -> str:
        if self.first == self.last:
            return self.first.isoformat()
        return f"{self.first.isoformat()} … {self.last.isoformat()}"


# "before I moved to Porto", "since we moved to Porto", "after starting at Maré Energy":
# a period bounded by the day a value of the persona became true.
_EVENT = re.compile(
    r"\b(?P<edge>before|after|since|until)\s+(?:(?:I|we|you|he|she|they|(?-i:[A-Z][\w'-]+))\s+)?"
    r"(?:moved|moving|move|started|starting|start|joined|joining|began|beginning)\s+"
    r"(?:working\s+)?(?:to|at|in|with|for)\s+"
    r"(?P<what>(?-i:[A-Z][\w'’&.-]*)(?:\s+(?-i:[A-Z][\w'’&.-]*))*)",
    re.IGNORECASE,
)
_LONG_AGO = date(1900, 1, 1)  # "before I moved": as far back as memories go
# "the weekend after Ana's wedding", "the week before the move": a period next to an
# event that recall finds.
_NEXT_TO = re.compile(
    r"\b(?:the\s+)?(?P<unit>day|weekend|week|month)\s+(?P<edge>after|before)\s+"
    r"(?P<what>(?!I\b|we\b|you\b|last\b)(?:[^?.!,]|,\s*(?=(?:19|20)\d\d))+)",
    re.IGNORECASE,
)
# The day of the memory that best tells of an event ("Ana's wedding"), if any does.
Happened = Callable[[str], date | None]

# The day a value (a city, an employer) became true for the persona, if it knows one.
BecameTrue = Callable[[str], date | None]


def window_of(
    question: str,
    now: datetime | date | None = None,
    became_true: BecameTrue | None = None,
    happened: Happened | None = None,
) -> Window | None:
    """The period `question` names, as of `now` (today when None); None when it names
    none. A period bounded by an event the persona knows ("before I moved to Porto",
    with `became_true`) comes first; then a period with a year of its own ("the last
    week of October 2023") wins over one counted from now ("the last week"). With
    `happened`, a period next to an event ("the weekend after Ana's wedding") is read
    from the day recall finds for that event."""
    today = anchor_date(now) if now is not None else date.today()
    near = _NEXT_TO.search(question)
    event_day = _event_day(near.group("what"), today, happened) if near is not None else None
    if near is not None and event_day is not None:
        return _next_to(event_day, near.group("unit").casefold(),
                        near.group("edge").casefold(), near.group().strip())  # fmt: skip
    event = _EVENT.search(question) if became_true is not None else None
    day = became_true(event.group("what")) if event is not None and became_true else None
    if event is not None and day is not None:
        said = event.group().strip()
        if event.group("edge").casefold() in ("before", "until"):
            return Window(_LONG_AGO, day - timedelta(days=1), said)
        return Window(day, max(day, today), said)
    past = _FUTURE.search(question) is None
    # (position, window), absolute ones first; a phrase ("the last week of May") takes
    # the place of the dates inside it ("last week", "May").
    named = phrases(question, today, past)
    found = [(p.start, Window(p.first, p.last, p.said)) for p in named]

    def free(m: re.Match[str]) -> bool:
        return not any(m.start() < p.end and p.start < m.end() for p in named)

    span = _PAST_SPAN.search(question)
    if span and free(span):
        count = span.group("n").casefold()
        n = int(count) if count.isdigit() else _SPAN_WORDS[" ".join(count.split())]
        unit = span.group("unit").casefold()
        found.append((span.start(), Window(back(today, n, unit), today, span.group().strip())))
    season = _SEASON.search(question)
    if season and free(season):
        found.append((season.start(), _season(season, today, past)))
    for match in DATE_RE.finditer(question):
        window = _window(match, today, past) if free(match) else None
        if window is not None:
            window = _open_ended(window, _edge(question, match), today)
            found.append((match.start(), window))
    if not found:
        return None
    absolute = [w for _, w in sorted(found, key=lambda f: f[0]) if _ABSOLUTE.search(w.said)]
    return absolute[0] if absolute else min(found, key=lambda f: f[0])[1]


def _event_day(what: str, today: date, happened: Happened | None) -> date | None:
    """The day of "August 3, 2023" as written, or of "Ana's wedding" as recall finds it."""
    for match in DATE_RE.finditer(what):
        named = _window(match, today, True)
        if named is not None and named.first == named.last:
            return named.first
    return happened(what.strip()) if happened is not None else None


def _next_to(day: date, unit: str, edge: str, said: str) -> Window:
    """The day, weekend, week or month just after (or before) `day`. A period before a
    day takes that day in too: what happened the week before is often told on it."""
    step = 1 if edge == "after" else -1
    if unit == "day":
        other = day + timedelta(days=step)
        return Window(other, other, said)
    if unit == "weekend":  # the next Saturday and Sunday (the last ones, before)
        if step > 0:
            saturday = day + timedelta(days=(5 - day.weekday()) % 7 or 7)
            return Window(saturday, saturday + timedelta(days=1), said)
        saturday = day - timedelta(days=(day.weekday() - 5) % 7 or 7)
        return Window(saturday, max(saturday + timedelta(days=1), day), said)
    span = timedelta(days=7 if unit == "week" else 31)
    if step > 0:
        return Window(day + timedelta(days=1), day + span, said)
    return Window(day - span, day, said)


def without_period(question: str) -> str:
    """The question without the words that name a period ("last March"): recall has
    searched that period already, and an answer need not repeat them."""
    for phrase in reversed(phrases(question, date.today(), True)):
        question = question[: phrase.start] + " " + question[phrase.end :]
    for pattern in (_PAST_SPAN, _SEASON, DATE_RE):
        question = pattern.sub(" ", question)
    return " ".join(question.split())


_ABSOLUTE = re.compile(r"(?:19|20)\d\d")  # the words name their own year


def _window(m: re.Match[str], today: date, past: bool) -> Window | None:
    g, said = m.groupdict(), m.group().strip()
    try:
        if g["iso"]:
            day = date(int(g["iso"]), int(g["iso_m"]), int(g["iso_d"]))
            return Window(day, day, said)
        if g["dm_d"] or g["md_d"]:
            number = int((g["dm_d"] or g["md_d"]).rstrip("stndrh"))
            month = month_number(g["dm_m"] or g["md_m"])
            year = g["dm_y"] or g["md_y"]
            if month is None:
                return None
            day = date(int(year) if year else today.year, month, number)
            if not year and past and day > today:
                day = date(today.year - 1, month, number)
            return Window(day, day, said)
    except ValueError:  # 31 February
        return None
    if g["word"]:
        offset = {"today": 0, "tonight": 0, "tomorrow": 1, "yesterday": -1}[g["word"].casefold()]
        day = today + timedelta(days=offset)
        return Window(day, day, said)
    if g["rel_unit"]:
        return _period(g["rel_dir"].casefold(), g["rel_unit"].casefold(), today, said)
    if g["in_unit"] or g["ago_unit"]:  # "two weeks ago", "in two weeks": roughly then
        unit = (g["in_unit"] or g["ago_unit"]).casefold()
        count = count_word(g["in_n"] or g["ago_n"])
        day = back(today, count if g["ago_unit"] else -count, unit)
        margin = timedelta(days=_ROUGHLY[unit] * (1 if count < 3 else 2))
        if g["ago_unit"]:  # the margin never reaches past today, on either side
            return Window(day - margin, min(day + margin, today), said)
        return Window(max(day - margin, today), day + margin, said)
    if g["wd"]:
        weekday = WEEKDAYS[g["wd"].casefold()]
        behind = (today.weekday() - weekday) % 7 or 7
        ahead = (weekday - today.weekday()) % 7 or 7
        direction = (g["wd_dir"] or "").casefold()
        if direction == "this":  # the day of this week, before or after today
            day = today + timedelta(days=weekday - today.weekday())
            return Window(day, day, said)
        earlier = direction == "last" or (past and direction != "next")
        day = today - timedelta(days=behind) if earlier else today + timedelta(days=ahead)
        return Window(day, day, said)
    if g["m"] or g["my_m"]:
        month = MONTHS[(g["m"] or g["my_m"]).casefold()]
        year_text = g["m_y"] or g["my_y"]
        direction = (g["m_dir"] or "").casefold()
        year = int(year_text) if year_text else month_in(month, today, past, direction)
        return _month_window(year, month, said)
    if g["y"]:
        year = int(g["y"])
        return Window(date(year, 1, 1), date(year, 12, 31), said)
    return None


# The word before a date that makes it one end of the period: "since March", "until
# 2023", "as of September", "by July 10".
_EDGE = re.compile(
    r"\b(?:(?P<since>since|from)|(?P<until>until|till|by|as\s+of))\s+$", re.IGNORECASE
)


def _edge(question: str, match: re.Match[str]) -> str | None:
    """ "since" or "until" when the word before the date `match` makes it an end of the
    period (that word may be the match's own first: "since March", "by May")."""
    head = question[: match.start()]
    lead = match.group().split()[0]
    if lead.casefold() in ("since", "from", "until", "till", "by", "of"):
        head += lead + " "
    edge = _EDGE.search(head)
    if edge is None:
        return None
    return "since" if edge.group("since") else "until"


def _open_ended(window: Window, edge: str | None, today: date) -> Window:
    """ "since March" runs from March to today, "until 2023" from as far back as memories
    go to the end of 2023; "in March" is March."""
    if edge == "since":
        return Window(window.first, max(window.last, today), window.said)
    if edge == "until":
        return Window(_LONG_AGO, window.last, window.said)
    return window


def _month_window(year: int, month: int, said: str) -> Window:
    last = calendar.monthrange(year, month)[1]
    return Window(date(year, month, 1), date(year, month, last), said)


def _period(direction: str, unit: str, today: date, said: str) -> Window:
    step = {"next": 1, "coming": 1, "last": -1}.get(direction, 0)
    if unit == "week":
        monday = today - timedelta(days=today.weekday()) + timedelta(weeks=step)
        return Window(monday, monday + timedelta(days=6), said)
    if unit == "month":
        index = today.year * 12 + today.month - 1 + step
        return _month_window(index // 12, index % 12 + 1, said)
    year = today.year + step
    return Window(date(year, 1, 1), date(year, 12, 31), said)


def _season(m: re.Match[str], today: date, past: bool) -> Window:
    first_month, last_month = _SEASONS[(m.group("season") or m.group("season2")).casefold()]
    direction = (m.group("dir") or "").casefold()
    year_text = m.group("year") or m.group("year2")

    def span(year: int) -> tuple[date, date]:  # a winter starts in the December before
        start = date(year - 1 if first_month > last_month else year, first_month, 1)
        return start, date(year, last_month, calendar.monthrange(year, last_month)[1])

    if year_text:
        first, last = span(int(year_text))
    else:
        year = today.year + (1 if first_month > last_month and today.month >= first_month else 0)
        first, last = span(year)  # this year's
        if direction in ("last", "past") or (past and direction != "this" and first > today):
            first, last = span(year - 1)
        elif direction == "next" or (not past and last < today):
            first, last = span(year + 1)
    return Window(first, last, m.group().strip())
