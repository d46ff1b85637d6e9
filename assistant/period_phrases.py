"""Periods a question names in more words than one date: a part of a month or year
("late August", "the second week of November", "the first half of 2023", "Q1 2024"),
a range ("between August 11 and August 15 2023", "from March to May"), a weekend, a
holiday ("last Christmas", "Easter 2024") or a decade ("the 2010s").

`question_time.window_of` collects these before the single dates of
`reflection.dates.DATE_RE`; a phrase here wins over the dates inside it ("the last week
of May" is not last week).

Parts are fixed slices: early/mid/late a month are days 1-10, 11-20 and 21 to the
end, of a year January-April, May-August and September-December; the nth week of a
month is its days 7n-6 to 7n, its last week its last seven days. A weekend is Saturday
and Sunday; "this weekend" is the one of the current week, "next weekend" the one
after it, "last weekend" the latest one ended before today.
"""

from __future__ import annotations

import calendar
import re
from dataclasses import dataclass
from datetime import date, timedelta

from assistant.reflection.dates import DAY_PATTERN as _DAY
from assistant.reflection.dates import MONTH_PATTERN as _MONTH
from assistant.reflection.dates import MONTHS
from assistant.reflection.dates import YEAR_PATTERN as _YEAR

_JOIN = r"(?:and|to|until|till|through|thru|-|–|—)"


@dataclass(frozen=True)
class Phrase:
    """A period found in a question: where its words are, and its first and last day."""

    start: int
    end: int
    first: date
    last: date
    said: str

    @classmethod
    def of(cls, m: re.Match[str], first: date, last: date) -> Phrase:
        return cls(m.start(), m.end(), first, last, m.group().strip())


def phrases(question: str, today: date, past: bool) -> list[Phrase]:
    """Every period of this module's kinds that `question` names, as of `today`; `past`
    when the question asks about the past (a bare "August" is then the latest one)."""
    found: list[Phrase] = []
    for finder in (
        _ranges,
        _parts,
        _week_of,
        _weeks_before_last,
        _few_ago,
        _weekends,
        _holidays,
        _decades,
    ):
        for phrase in finder(question, today, past):
            if not any(phrase.start < f.end and f.start < phrase.end for f in found):
                found.append(phrase)
    return found


def month_in(month: int, today: date, past: bool, direction: str = "") -> int:
    """The year of a month named without one: the latest begun for a question about the
    past ("in March", "last March"), else the next one not yet over."""
    if direction == "next" or (not past and direction != "last"):
        return today.year if month >= today.month else today.year + 1
    year = today.year if month <= today.month else today.year - 1
    if direction == "last" and month == today.month:
        year -= 1
    return year


def _month_span(year: int, month: int) -> tuple[date, date]:
    return date(year, month, 1), date(year, month, calendar.monthrange(year, month)[1])


# The period a part is taken of: a month (with or without its year), a year, or this,
# last or next month or year.
_WHOLE = (
    rf"(?P<month>{_MONTH})(?:,?\s+(?P<month_year>{_YEAR}))?\b"
    rf"|(?P<year>{_YEAR})\b"
    r"|(?:the\s+)?(?P<rel>this|last|next|the)\s+(?P<rel_unit>year|month)\b"
)


def _whole(m: re.Match[str], today: date, past: bool) -> tuple[date, date, str]:
    """(first, last, unit) of the period `_WHOLE` matched."""
    if m.group("month"):
        month = MONTHS[m.group("month").casefold()]
        year_text = m.group("month_year")
        year = int(year_text) if year_text else month_in(month, today, past)
        return (*_month_span(year, month), "month")
    if m.group("year"):
        year = int(m.group("year"))
        return date(year, 1, 1), date(year, 12, 31), "year"
    step = {"last": -1, "next": 1}.get(m.group("rel").casefold(), 0)
    if m.group("rel_unit").casefold() == "year":
        return date(today.year + step, 1, 1), date(today.year + step, 12, 31), "year"
    index = today.year * 12 + today.month - 1 + step
    return (*_month_span(index // 12, index % 12 + 1), "month")


_ORDINALS = {"first": 1, "second": 2, "third": 3, "fourth": 4, "last": -1, "final": -1}
_PART = re.compile(
    r"\b(?:(?P<rough>early|mid|late)[\s-]+"
    r"|(?:the\s+)?(?P<edge>beginning|start|middle|end)\s+of\s+"
    r"|(?:the\s+)?(?P<nth>first|second|third|fourth|last|final)\s+(?P<slice>week|half|quarter)"
    r"\s+of\s+"
    r"|(?P<q>q[1-4])\s+)"
    rf"(?:{_WHOLE})",
    re.IGNORECASE,
)
_ROUGH = {"early": 0, "beginning": 0, "start": 0, "mid": 1, "middle": 1, "late": 2, "end": 2}


def _parts(question: str, today: date, past: bool) -> list[Phrase]:
    out = []
    for m in _PART.finditer(question):
        first, last, unit = _whole(m, today, past)
        span = _part(m, first, last, unit)
        if span is not None:
            out.append(Phrase.of(m, *span))
    return out


def _part(m: re.Match[str], first: date, last: date, unit: str) -> tuple[date, date] | None:
    rough = (m.group("rough") or m.group("edge") or "").casefold()
    if rough:
        third = _ROUGH[rough]
        if unit == "month":  # days 1-10, 11-20, 21 to the end
            start = first + timedelta(days=10 * third)
            return start, last if third == 2 else start + timedelta(days=9)
        return _month_span(first.year, 4 * third + 1)[0], _month_span(first.year, 4 * third + 4)[1]
    if m.group("q"):
        if unit != "year":
            return None
        quarter = int(m.group("q")[1])
        return _month_span(first.year, 3 * quarter - 2)[0], _month_span(first.year, 3 * quarter)[1]
    nth = _ORDINALS[m.group("nth").casefold()]
    piece = m.group("slice").casefold()
    if piece == "week":
        if nth < 0:
            return last - timedelta(days=6), last
        start = first + timedelta(weeks=nth - 1)
        return start, min(start + timedelta(days=6), last)
    if piece == "half":
        if nth not in (1, 2, -1):
            return None
        middle = date(first.year, 7, 1) if unit == "year" else first + timedelta(days=15)
        return (first, middle - timedelta(days=1)) if nth == 1 else (middle, last)
    if unit != "year" or nth > 4:  # a quarter of a year
        return None
    quarter = 4 if nth < 0 else nth
    return _month_span(first.year, 3 * quarter - 2)[0], _month_span(first.year, 3 * quarter)[1]


# "between August 11 and August 15 2023", "from 10 to 17 August", "from March to May
# 2023": the first end takes its month and year from the second when it has none.
_DAY_RANGE = re.compile(
    rf"\b(?:between|from)\s+(?:the\s+)?(?P<d1>{_DAY})(?:\s+of)?"
    rf"(?:\s+(?P<m1>{_MONTH})(?:,?\s+(?P<y1>{_YEAR}))?)?"
    rf"\s+{_JOIN}\s+(?:the\s+)?(?P<d2>{_DAY})(?:\s+of)?\s+(?P<m2>{_MONTH})(?:,?\s+(?P<y>{_YEAR}))?\b"
    rf"|\b(?:between|from)\s+(?P<m1b>{_MONTH})\s+(?P<d1b>{_DAY})(?:,?\s+(?P<y1b>{_YEAR}))?"
    rf"\s+{_JOIN}\s+(?:(?P<m2b>{_MONTH})\s+)?(?P<d2b>{_DAY})(?:,?\s+(?P<yb>{_YEAR}))?\b",
    re.IGNORECASE,
)
_MONTH_RANGE = re.compile(
    rf"\b(?:between|from)\s+(?P<m1>{_MONTH})(?:\s+(?P<y1>{_YEAR}))?\s+{_JOIN}\s+"
    rf"(?P<m2>{_MONTH})(?:,?\s+(?P<y>{_YEAR}))?\b",
    re.IGNORECASE,
)


def _ranges(question: str, today: date, past: bool) -> list[Phrase]:
    out = []
    for m in _DAY_RANGE.finditer(question):
        span = _day_range(m, today, past)
        if span is not None:
            out.append(Phrase.of(m, *span))
    for m in _MONTH_RANGE.finditer(question):
        last_month, first_month = MONTHS[m.group("m2").casefold()], MONTHS[m.group("m1").casefold()]
        year = int(m.group("y")) if m.group("y") else month_in(last_month, today, past)
        first_year = int(m.group("y1")) if m.group("y1") else year - (first_month > last_month)
        first, last = _month_span(first_year, first_month)[0], _month_span(year, last_month)[1]
        out.append(Phrase.of(m, first, last))
    return out


def _day_range(m: re.Match[str], today: date, past: bool) -> tuple[date, date] | None:
    g = m.groupdict()
    if g["d1"]:
        d1, d2, m2 = g["d1"], g["d2"], g["m2"]
        m1, y1, y2 = g["m1"] or m2, g["y1"], g["y"]
    else:
        d1, m1, y1 = g["d1b"], g["m1b"], g["y1b"]
        d2, m2, y2 = g["d2b"], g["m2b"] or g["m1b"], g["yb"]
    month2 = MONTHS[m2.casefold()]
    year2 = int(y2) if y2 else int(y1) if y1 else month_in(month2, today, past)
    try:
        last = date(year2, month2, int(d2.rstrip("stndrh")))
        month1 = MONTHS[m1.casefold()]
        year1 = int(y1) if y1 else year2 - (month1 > month2)
        first = date(year1, month1, int(d1.rstrip("stndrh")))
    except ValueError:  # 31 February
        return None
    return (first, last) if first <= last else None


# "the week of 15 May": Monday to Sunday around that day.
_WEEK_OF = re.compile(
    rf"\bthe\s+week\s+of\s+(?:the\s+)?(?:(?P<d>{_DAY})(?:\s+of)?\s+(?P<m>{_MONTH})"
    rf"|(?P<m2>{_MONTH})\s+(?P<d2>{_DAY}))(?:,?\s+(?P<y>{_YEAR}))?\b",
    re.IGNORECASE,
)


def _week_of(question: str, today: date, past: bool) -> list[Phrase]:
    out = []
    for m in _WEEK_OF.finditer(question):
        month = MONTHS[(m.group("m") or m.group("m2")).casefold()]
        year = int(m.group("y")) if m.group("y") else month_in(month, today, past)
        try:
            day = date(year, month, int((m.group("d") or m.group("d2")).rstrip("stndrh")))
        except ValueError:  # 31 February
            continue
        monday = day - timedelta(days=day.weekday())
        out.append(Phrase.of(m, monday, monday + timedelta(days=6)))
    return out


# "the week before last": the week before last week.
_WEEK_BEFORE_LAST = re.compile(r"\bthe\s+week\s+before\s+last\b", re.IGNORECASE)


def _weeks_before_last(question: str, today: date, past: bool) -> list[Phrase]:
    monday = today - timedelta(days=today.weekday(), weeks=2)
    return [Phrase.of(m, monday, monday + timedelta(days=6))
            for m in _WEEK_BEFORE_LAST.finditer(question)]  # fmt: skip


# "a few days ago": two to five of them back.
_FEW_AGO = re.compile(r"\b(?:a\s+)?few\s+(?P<unit>day|week|month|year)s\s+ago\b", re.I)


def _few_ago(question: str, today: date, past: bool) -> list[Phrase]:
    return [Phrase.of(m, back(today, 5, m.group("unit").casefold()),
                      back(today, 2, m.group("unit").casefold()))
            for m in _FEW_AGO.finditer(question)]  # fmt: skip


def back(today: date, count: int, unit: str) -> date:
    """`count` days, weeks, months or years before `today` (after, when negative); a
    month back from 31 March is the last day of February."""
    if unit == "day":
        return today - timedelta(days=count)
    if unit == "week":
        return today - timedelta(weeks=count)
    months = count * (12 if unit == "year" else 1)
    year, month = divmod(today.year * 12 + today.month - 1 - months, 12)
    return date(year, month + 1, min(today.day, calendar.monthrange(year, month + 1)[1]))


# "the weekend" alone is the latest one begun for a question about the past, else the
# coming one; "the weekend after Ana's wedding" is `question_time`'s.
_WEEKEND = re.compile(
    r"\b(?:(?P<dir>last|past|this|coming|next)|the)\s+weekend\b(?!\s+(?:after|before)\b)",
    re.IGNORECASE,
)


def _weekends(question: str, today: date, past: bool) -> list[Phrase]:
    out = []
    for m in _WEEKEND.finditer(question):
        saturday = today + timedelta(days=5 - today.weekday())  # this week's
        direction = (m.group("dir") or "").casefold()
        if not direction and past and saturday > today:
            saturday -= timedelta(weeks=1)
        if direction in ("last", "past"):
            saturday -= timedelta(weeks=1) if saturday + timedelta(days=1) >= today else timedelta()
        elif direction == "next":
            saturday += timedelta(weeks=1)
        out.append(Phrase.of(m, saturday, saturday + timedelta(days=1)))
    return out


# Holidays by their fixed days; Easter (Friday to Monday) by the Gregorian computus. A
# holiday's things ("the Christmas market", "Easter eggs") name no period.
_FIXED = {
    "christmas eve": ((12, 24), (12, 24)),
    "christmas day": ((12, 25), (12, 25)),
    "christmas": ((12, 24), (12, 26)),
    "new year's eve": ((12, 31), (12, 31)),
    "new year's day": ((1, 1), (1, 1)),
    "valentine's day": ((2, 14), (2, 14)),
    "halloween": ((10, 31), (10, 31)),
}
_HOLIDAY = re.compile(
    r"\b(?:(?P<dir>last|this|next)\s+)?(?P<name>christmas\s+eve|christmas\s+day|christmas"
    r"|new\s+year['’]?s\s+eve|new\s+year['’]?s\s+day|valentine['’]?s\s+day|halloween|easter)"
    rf"(?:\s+(?:of\s+)?(?P<year>{_YEAR}))?\b"
    r"(?!\s+(?:market|markets|tree|trees|lights|cards?|decorations|jumper|sweater|songs?"
    r"|carols?|movies?|films?|eggs?|bunny|costumes?|candy|sweets|cake|list)\b)",
    re.IGNORECASE,
)


def easter(year: int) -> date:
    """Easter Sunday of a Gregorian year (the anonymous Gregorian computus)."""
    a, b, c = year % 19, year // 100, year % 100
    d, e = divmod(b, 4)
    g = (8 * b + 13) // 25
    h = (19 * a + b - d - g + 15) % 30
    i, k = divmod(c, 4)
    weekday = (32 + 2 * e + 2 * i - h - k) % 7
    m = (a + 11 * h + 19 * weekday) // 433
    month = (h + weekday - 7 * m + 90) // 25
    return date(year, month, (h + weekday - 7 * m + 33 * month + 19) % 32)


def _holidays(question: str, today: date, past: bool) -> list[Phrase]:
    out = []
    for m in _HOLIDAY.finditer(question):
        name = re.sub(r"['’]", "'", " ".join(m.group("name").casefold().split()))
        name = name.replace("years", "year's").replace("valentines", "valentine's")

        def span(year: int, name: str = name) -> tuple[date, date]:
            if name == "easter":
                sunday = easter(year)
                return sunday - timedelta(days=2), sunday + timedelta(days=1)
            (m1, d1), (m2, d2) = _FIXED[name]
            return date(year, m1, d1), date(year, m2, d2)

        direction = (m.group("dir") or "").casefold()
        if m.group("year"):
            first, last = span(int(m.group("year")))
        elif direction == "this":
            first, last = span(today.year)
        elif direction == "last" or (past and direction != "next"):
            # the latest one over ("last Christmas"), or begun when no direction is said
            year = today.year
            while (span(year)[1] >= today) if direction == "last" else (span(year)[0] > today):
                year -= 1
            first, last = span(year)
        else:  # the next one to come, or still going on
            year = today.year
            while (span(year)[0] <= today) if direction == "next" else (span(year)[1] < today):
                year += 1
            first, last = span(year)
        out.append(Phrase.of(m, first, last))
    return out


# "the 2010s", "the 90s" (the latest such decade begun), "the '80s".
_DECADE = re.compile(
    r"\b(?:(?P<century>19|20)(?P<decade>\d)0['’]?s|the\s+['’]?(?P<short>\d)0['’]?s)\b",
    re.IGNORECASE,
)


def _decades(question: str, today: date, past: bool) -> list[Phrase]:
    out = []
    for m in _DECADE.finditer(question):
        if m.group("century"):
            start = int(m.group("century")) * 100 + int(m.group("decade")) * 10
        else:
            start = 2000 + int(m.group("short")) * 10
            if start > today.year:
                start -= 100
        if start > today.year:
            continue
        out.append(Phrase.of(m, date(start, 1, 1), date(start + 9, 12, 31)))
    return out
