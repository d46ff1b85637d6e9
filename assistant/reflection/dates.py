"""Date expressions ("next Friday", "3rd of May", "since 2019") resolved against the
date of the episode that says them, never against today: a message from March 2023
that says "tomorrow" means 2 March 2023, whenever it is reflected on.

Rules, deterministic and English-only:
- weeks start on Monday; "next Friday" is the Friday of next week, "this/on Friday"
  and a bare "Friday" the coming one, "last Friday" the previous one;
- "next/last/this week|month|year" is the first day of that period;
- a month or day without a year ("in March", "on 3 May") takes the anchor's year;
- numeric day/month forms such as 3/5 are ambiguous across locales and never resolved.

`past` lets a caller that knows the tense pick the nearer side for the forms that have
no direction of their own: with past=True "on Friday" is the last one and "in November"
said in March is last November; with past=False "in January" said in December is next
January. None keeps the rules above.
"""

from __future__ import annotations

import calendar
import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime, timedelta

MONTHS: dict[str, int] = {
    name.casefold(): number for number, name in enumerate(calendar.month_name) if name
}
_MONTH_ABBREVIATIONS: dict[str, int] = {
    "jan": 1, "feb": 2, "mar": 3, "apr": 4, "jun": 6, "jul": 7,
    "aug": 8, "sep": 9, "sept": 9, "oct": 10, "nov": 11, "dec": 12,
}  # fmt: skip
WEEKDAYS: dict[str, int] = {
    name.casefold(): number for number, name in enumerate(calendar.day_name)
}
_NUMBER_WORDS: dict[str, int] = {
    "a": 1, "an": 1, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6,
    "seven": 7, "eight": 8, "nine": 9, "ten": 10, "eleven": 11, "twelve": 12, "a couple of": 2,
}  # fmt: skip

MONTH_PATTERN = "|".join(MONTHS)
# Abbreviations only next to a day number: "mar" or "may" alone are ordinary words.
_MONTH_OR_ABBREV = "|".join([*MONTHS, *_MONTH_ABBREVIATIONS])
_WEEKDAY = "|".join(WEEKDAYS)
_COUNT = r"\d{1,3}|" + "|".join(
    w.replace(" ", r"\s+") for w in sorted(_NUMBER_WORDS, key=len, reverse=True)
)
DAY_PATTERN = r"(?:[12]\d|3[01]|0?[1-9])(?:st|nd|rd|th)?"
YEAR_PATTERN = r"(?:19|20)\d\d"
# "room 12 may be free": "may" followed by a verb is the modal, not the month.
_NOT_MODAL = r"(?!(?<=may)\s+(?:be|have|not|need|want|get|go|come|take|also|still)\b)"

# One alternation, tried left to right at each position; longer forms come first so
# "3 May 2024" is not read as "3 May".
DATE_RE = re.compile(
    rf"""
    (?<![\w/.-])(?P<iso>{YEAR_PATTERN})-(?P<iso_m>0[1-9]|1[0-2])-(?P<iso_d>0[1-9]|[12]\d|3[01])(?![\w/])
  | \b(?:the\s+)?(?P<dm_d>{DAY_PATTERN})(?:\s+of)?\s+(?P<dm_m>{_MONTH_OR_ABBREV})\b{_NOT_MODAL}\.?
        (?:,?\s+(?P<dm_y>{YEAR_PATTERN})\b)?
  | \b(?P<md_m>{_MONTH_OR_ABBREV})\.?\s+(?:the\s+)?(?P<md_d>{DAY_PATTERN})\b(?!:)
        (?:,?\s+(?P<md_y>{YEAR_PATTERN})\b)?
  | \b(?P<word>today|tonight|tomorrow|yesterday)\b
  | \b(?P<rel_dir>next|last|this|coming)\s+(?P<rel_unit>week|month|year)\b
  | \bin\s+(?P<in_n>{_COUNT})\s+(?P<in_unit>day|week|month|year)s?\b
  | \b(?P<ago_n>{_COUNT})\s+(?P<ago_unit>day|week|month|year)s?\s+ago\b
  | (?<!every\s)(?<!each\s)\b(?:(?P<wd_dir>next|last|this|coming|on)\s+)?(?P<wd>{_WEEKDAY})\b
  | \b(?P<m_dir>in|since|from|by|until|till|during|of|last|next|this|early|late|mid)
        [\s-]+(?P<m>{MONTH_PATTERN})\b(?!\.?\s+(?:the\s+)?{DAY_PATTERN}\b)
        (?:,?\s+(?P<m_y>{YEAR_PATTERN})\b)?
  | \b(?P<my_m>{MONTH_PATTERN})\s+(?P<my_y>{YEAR_PATTERN})\b
  | \b(?:in|since|from|by|until|till|during|of)\s+(?P<y>{YEAR_PATTERN})\b
    """,
    re.IGNORECASE | re.VERBOSE,
)


# Words that place what a message tells before the day it was written ("yesterday",
# "last Friday", "two weeks ago"), for recall of "when" questions. Words of the future
# ("tomorrow", "next week") are left out: plans in chats are many, and taking them in
# cost the life fixture three questions.
RELATIVE_WHEN = re.compile(
    rf"""\b(?:yesterday|today|tonight|the\s+other\s+day
  | last\s+(?:night|week(?:end)?|month|year|summer|winter|spring|autumn|fall|{_WEEKDAY})
  | this\s+(?:morning|past|week(?:end)?)
  | (?:{_COUNT}|a\s+few)\s+(?:day|week|month|year)s?\s+ago)\b
    """,
    re.IGNORECASE | re.VERBOSE,
)


@dataclass(frozen=True)
class DateMention:
    """A resolved date expression and where it sits in the text."""

    start: int
    end: int
    value: date


def anchor_date(anchor: datetime | date) -> date:
    """The calendar day of the anchor in its own timezone (not converted to UTC)."""
    return anchor.date() if isinstance(anchor, datetime) else anchor


def find_date(text: str, anchor: datetime | date, past: bool | None = None) -> date | None:
    """The first date expression in `text`, resolved against `anchor`, or None."""
    for mention in iter_dates(text, anchor, past):
        return mention.value
    return None


def find_dates(text: str, anchor: datetime | date, past: bool | None = None) -> list[DateMention]:
    """Every resolvable date expression in `text`, in order."""
    return list(iter_dates(text, anchor, past))


def iter_dates(
    text: str, anchor: datetime | date, past: bool | None = None
) -> Iterator[DateMention]:
    day = anchor_date(anchor)
    for match in DATE_RE.finditer(text):
        value = _resolve(match, day, past)
        if value is not None:
            yield DateMention(match.start(), match.end(), value)


def _resolve(m: re.Match[str], anchor: date, past: bool | None) -> date | None:
    g = m.groupdict()
    try:
        if g["iso"]:
            return date(int(g["iso"]), int(g["iso_m"]), int(g["iso_d"]))
        if g["dm_d"]:
            return _day_month(g["dm_d"], g["dm_m"], g["dm_y"], anchor, past)
        if g["md_d"]:
            return _day_month(g["md_d"], g["md_m"], g["md_y"], anchor, past)
    except ValueError:  # 31 February and the like: not a date
        return None
    if g["word"]:
        return anchor + timedelta(days=_WORD_OFFSETS[g["word"].casefold()])
    if g["rel_unit"]:
        return _period_start(g["rel_dir"].casefold(), g["rel_unit"].casefold(), anchor)
    if g["in_unit"]:
        return _shift(anchor, count_word(g["in_n"]), g["in_unit"].casefold())
    if g["ago_unit"]:
        return _shift(anchor, -count_word(g["ago_n"]), g["ago_unit"].casefold())
    if g["wd"]:
        return _weekday(g["wd_dir"], WEEKDAYS[g["wd"].casefold()], anchor, past)
    if g["m"]:
        return _month(g["m_dir"].casefold(), MONTHS[g["m"].casefold()], g["m_y"], anchor, past)
    if g["my_m"]:
        return date(int(g["my_y"]), MONTHS[g["my_m"].casefold()], 1)
    if g["y"]:
        return date(int(g["y"]), 1, 1)
    return None


_WORD_OFFSETS = {"today": 0, "tonight": 0, "tomorrow": 1, "yesterday": -1}


def count_word(word: str) -> int:
    """3 for "3" or "three"."""
    return int(word) if word.isdigit() else _NUMBER_WORDS[" ".join(word.casefold().split())]


_FULL_DATE = re.compile(r"^(?P<d>\d{1,2})\s+(?P<m>[^\W\d_]+)\s+(?P<y>\d{4})$")


def full_date(value: str) -> date | None:
    """A persona value such as a birthday, "14 July 1993", as a date; None without a
    year or when it is no such date."""
    m = _FULL_DATE.match(value.strip())
    month = month_number(m.group("m")) if m else None
    if m is None or month is None:
        return None
    try:
        return date(int(m.group("y")), month, int(m.group("d")))
    except ValueError:
        return None


def month_number(word: str) -> int | None:
    """1-12 for a month's name or abbreviation ("March", "mar.", "sept"), else None."""
    key = word.casefold().rstrip(".")
    return MONTHS.get(key) or _MONTH_ABBREVIATIONS.get(key)


def _day_month(
    day_text: str, month_text: str, year_text: str | None, anchor: date, past: bool | None
) -> date:
    day = int(day_text.rstrip("stndrh"))
    month = month_number(month_text)
    if month is None:
        raise ValueError(month_text)
    if year_text:
        return date(int(year_text), month, day)
    value = date(anchor.year, month, day)
    if past is True and value > anchor:
        return date(anchor.year - 1, month, day)
    if past is False and value < anchor:
        return date(anchor.year + 1, month, day)
    return value


def _weekday(direction: str | None, weekday: int, anchor: date, past: bool | None) -> date:
    kind = (direction or "").casefold()
    today = anchor.weekday()
    if kind == "next":  # the one in next week, not merely the next one to come
        return anchor + timedelta(days=7 - today + weekday)
    if kind == "last" or (past is True and kind != "this" and kind != "coming"):
        return anchor - timedelta(days=(today - weekday) % 7 or 7)
    if kind in ("this", "coming"):
        return anchor + timedelta(days=(weekday - today) % 7)
    return anchor + timedelta(days=(weekday - today) % 7 or 7)


def _month(
    direction: str, month: int, year_text: str | None, anchor: date, past: bool | None
) -> date:
    if year_text:
        return date(int(year_text), month, 1)
    year = anchor.year
    if direction == "last":
        year = anchor.year if month < anchor.month else anchor.year - 1
    elif direction == "next":
        year = anchor.year if month > anchor.month else anchor.year + 1
    elif direction != "this" and past is True and month > anchor.month:
        year -= 1
    elif direction != "this" and past is False and month < anchor.month:
        year += 1
    return date(year, month, 1)


def _period_start(direction: str, unit: str, anchor: date) -> date:
    step = {"next": 1, "coming": 1, "last": -1}.get(direction, 0)
    if unit == "week":
        monday = anchor - timedelta(days=anchor.weekday())
        return monday + timedelta(weeks=step)
    if unit == "month":
        return _add_months(anchor.replace(day=1), step)
    return date(anchor.year + step, 1, 1)


def _shift(anchor: date, count: int, unit: str) -> date:
    if unit == "day":
        return anchor + timedelta(days=count)
    if unit == "week":
        return anchor + timedelta(weeks=count)
    return _add_months(anchor, count * (12 if unit == "year" else 1))


def _add_months(day: date, months: int) -> date:
    index = day.year * 12 + day.month - 1 + months
    year, month = divmod(index, 12)
    last = calendar.monthrange(year, month + 1)[1]
    return date(year, month + 1, min(day.day, last))
