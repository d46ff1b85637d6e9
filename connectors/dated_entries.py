"""Journals that date their own entries: "10 February 2024. Booked the flights…".

A journal file holds months of entries, and its modification time is the day of the last
one. A paragraph that opens with a date starts an entry of that day; the paragraphs after
it, until the next dated one, belong to it. Each entry is chunked on its own, so no chunk
mixes two days, and each chunk is dated by its entry instead of the file.

Recognised openings (then ".", ":", ",", a dash or the end of the line):
- ISO `2024-03-14` (a numeric `14/03/2024` is not read: its day/month order depends on
  the locale);
- `10 February 2024`, `10 Feb 2024`, `February 10, 2024`, `Saturday 10 February 2024`,
  `10 de fevereiro de 2024`, and a Markdown heading made of one;
- without a year (`Monday 3 March`, `3 March`): the year of the entry before, else the
  file's own year.

Month and weekday names are English and Portuguese, the languages of the notes this
product is tried on; a paragraph opening with anything else is not an entry start.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date

_MONTHS = {
    **{m: i for i, m in enumerate(
        ["january", "february", "march", "april", "may", "june", "july", "august",
         "september", "october", "november", "december"], start=1)},
    **{m: i for i, m in enumerate(
        ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"],
        start=1)},
    "sept": 9,
    **{m: i for i, m in enumerate(
        ["janeiro", "fevereiro", "março", "abril", "maio", "junho", "julho", "agosto",
         "setembro", "outubro", "novembro", "dezembro"], start=1)},
}  # fmt: skip
_WEEKDAYS = (
    "monday|tuesday|wednesday|thursday|friday|saturday|sunday|mon|tue|tues|wed|thu|thur|thurs"
    r"|fri|sat|sun|segunda(?:-feira)?|terça(?:-feira)?|quarta(?:-feira)?|quinta(?:-feira)?"
    r"|sexta(?:-feira)?|sábado|domingo"
)
_MONTH = "|".join(sorted(_MONTHS, key=len, reverse=True))
_END = r"(?=\s*(?:[.:,;—–-]|\n|$))"
_OPENING = re.compile(
    rf"^\s*(?:#+\s*)?(?:(?:{_WEEKDAYS}),?\s+)?(?:"
    rf"(?P<iso>\d{{4}}-\d{{2}}-\d{{2}})"
    rf"|(?P<d>\d{{1,2}})(?:st|nd|rd|th)?(?:\s+de)?\s+(?P<m>{_MONTH})\.?(?:,?\s+(?:de\s+)?(?P<y>\d{{4}}))?"
    rf"|(?P<m2>{_MONTH})\.?\s+(?P<d2>\d{{1,2}})(?:st|nd|rd|th)?(?:,?\s+(?P<y2>\d{{4}}))?"
    rf"){_END}",
    re.IGNORECASE,
)


@dataclass(frozen=True)
class Entry:
    """Paragraphs of one day (`day` None: before any dated paragraph)."""

    day: date | None
    paragraphs: list[str]


def opening_date(paragraph: str, year: int, near: date | None = None) -> date | None:
    """The date a paragraph opens with, else None. A missing year is `year`, or, next
    to an entry of day `near`, the year that puts it closest to that day ("30 December
    2023" then "2 January" is 2 January 2024, in either reading order)."""
    m = _OPENING.match(paragraph)
    if m is None:
        return None
    try:
        if m.group("iso"):
            return date.fromisoformat(m.group("iso"))
        day, month, given = (m.group("d"), m.group("m"), m.group("y"))
        if day is None:
            day, month, given = (m.group("d2"), m.group("m2"), m.group("y2"))
        number, month_number = int(day), _MONTHS[month.casefold()]
        if given:
            return date(int(given), month_number, number)
        if near is None:
            return date(year, month_number, number)
        options = [date(y, month_number, number) for y in (year - 1, year, year + 1)]
        return min(options, key=lambda option: abs((option - near).days))
    except ValueError:  # 31 February, 2024-13-40, 29 February of a common year
        return None


def dated_entries(
    paragraphs: list[str], file_year: int, written: date | None = None
) -> list[Entry]:
    """`paragraphs` grouped into entries by the dates they open with. A file with no
    dated paragraph is one undated entry; none is lost or reordered.

    `written` is the day the file says it was written (its front matter or name), when
    it says: a paragraph dated after it is a plan ("Thursday 18 April 2024, TP 535 from
    Berlin"), not an entry, and stays with the text before it."""
    entries: list[Entry] = []
    year, near = file_year, None
    for paragraph in paragraphs:
        day = opening_date(paragraph, year, near)
        if day is not None and written is not None and day > written:
            day = None
        if day is not None:
            year, near = day.year, day
            entries.append(Entry(day, [paragraph]))
        elif entries:
            entries[-1].paragraphs.append(paragraph)
        else:
            entries.append(Entry(None, [paragraph]))
    return entries
