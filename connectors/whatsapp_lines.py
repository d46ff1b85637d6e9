"""The line grammar of WhatsApp "Export chat" logs: message headers, system lines, date order.

An export is a plain log with one header per message: Android writes
`12/03/2024, 14:05 - Ana Ribeiro: text`, iOS `[12/03/2024, 14:05:31] Ana Ribeiro: text`
(often with a U+200E mark before the bracket and a U+202F space before "PM"). Lines
without a header continue the message above. Nothing in the file says which of day and
month comes first, what time zone the clock was in, or who the exporting user is, so:

- Date order is chosen per FILE, deterministically (`choose_date_order`): an order under
  which some date is impossible (a month of 13, 31 April) is ruled out; if both orders
  stay possible, the one under which the dates run forward in time wins; if that ties
  too, a 12-hour clock written "AM"/"PM" with "/" between date fields (en_US) means
  month-first and everything else day-first. Year-first dates (2024-03-12) are never
  ambiguous. The choice and its reason go to item meta (`date_order`,
  `date_order_source`).
- Times are the exporting phone's wall clock without an offset (`ParsedLine.naive_time`);
  the connector reads them as local time. Two-digit years are 20xx (WhatsApp dates from
  2009).
- `sender` is the name or number exactly as written (bidi marks removed).

System lines (encryption notices, "X added Y", subject changes, security codes...) are
not speech and give no item. Android writes them without a "Name: " part, so a line
with no ": " is a system line; a system line whose text holds a colon (a new subject
"Trip: Lisbon") is recognised by English patterns that require a colon-free actor before
the verb, and, in any language, by an odd number of quotation marks before the first
": ". iOS attributes system lines to the chat's own name and marks their text with
U+200E; those are recognised by the same English patterns. Limitation: a system line in
another language that contains ": " outside quotes is read as a message.

Text before the first header, or dates that fit no order, are `ParseError`s. A
continuation line that itself looks like a header (a pasted message) starts a new
message: nothing in the format tells them apart. AM/PM words other than Latin "am"/"pm"
spellings (午後, 오후) are not recognised.

Everything here works on decoded text and is pure; reading files and zips, and turning
messages into items, is `connectors.whatsapp`.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Literal, NamedTuple

from connectors.base import ParseError

__all__ = [
    "BIDI",
    "LRM",
    "ChatLog",
    "DateOrder",
    "LineKind",
    "ParsedLine",
    "RawMessage",
    "choose_date_order",
    "created_group_name",
    "parse_chat",
    "parse_line",
]

DateOrder = Literal["day-first", "month-first", "year-first"]
# "placeholder": a message that says nothing yet still takes its place in the count of
# identical time+sender pairs ("This message was deleted", "Waiting for this message").
LineKind = Literal["message", "system", "placeholder"]
_ORDERS: tuple[DateOrder, DateOrder] = ("day-first", "month-first")

# System lines are one short sentence; longer text is never tested against their patterns,
# which keeps those (backtracking) regexes linear on a hostile 1 MB line.
_MAX_SYSTEM_CHARS = 1000

LRM = "\u200e"
# Bidi controls WhatsApp wraps around names and numbers (U+202A...U+202C on phones).
BIDI = "\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069"
_QUOTE = re.compile('["“”„«»]')
_SPACE = "[ \u00a0\u202f]"  # newer exports put U+202F (or U+00A0) before AM/PM

# One header for both platforms: `(?(ios)...)` picks "] " after an opening bracket and
# " - " otherwise. Dates are D/M/Y or M/D/Y with `/`, `.` or `-` (2- or 4-digit year), or
# Y-M-D; times are H:MM[:SS] with `:` or `.`, optionally with am/pm in several spellings.
_HEADER_PATTERN = rf"""
    [\u200e\u200f]?
    (?P<ios>\[)?
    (?:
        (?P<ymd_y>\d{{4}})(?P<ymd_sep>[./-])(?P<ymd_m>\d{{1,2}})(?P=ymd_sep)(?P<ymd_d>\d{{1,2}})
      | (?P<a>\d{{1,2}})(?P<sep>[./-])(?P<b>\d{{1,2}})(?P=sep)(?P<y>\d{{4}}|\d{{2}})
    )
    \.?,?[ ]
    (?P<hour>\d{{1,2}})[:.](?P<minute>\d{{2}})(?:[:.](?P<second>\d{{2}}))?
    (?:{_SPACE}?(?P<meridiem>[AaPp]\.?{_SPACE}?[Mm]\.?))?
    (?(ios)\][ ]|[ ][-–][ ])
    (?P<rest>.*)
"""
_HEADER = re.compile(_HEADER_PATTERN, re.VERBOSE)
_HEADER_LINES = re.compile("^" + _HEADER_PATTERN, re.VERBOSE | re.MULTILINE)

# English system lines with an actor ("Ana", "You", "+351 912 345 678"). The actor must
# hold no colon: that is what tells "Ana changed the subject to "Trip: Lisbon"" (system)
# from "Ana: I added sugar" (a message whose text happens to match a pattern).
_ACTOR = r"[^:\n]+?"
_SYSTEM_WITH_ACTOR = re.compile(
    rf"{_ACTOR} (?:"
    r"created group .*|created this group|created the group .*"
    r"|added .+|removed .+|left|was removed|was added|were added"
    r"|joined using this group's invite link|joined using an invite link|joined"
    r"|joined from the community|joined via an invite link"
    r"|changed the (?:subject|group name) (?:from .* )?to .*"
    r"|changed this group's icon|deleted this group's icon|changed the group icon"
    r"|changed the group description|deleted the group description"
    r"|changed (?:this group's|the group's|the) settings.*"
    r"|changed their phone number.*|changed to .+|changed (?:his|her) number.*"
    r"|turned (?:on|off) disappearing messages.*|updated the message timer.*"
    r"|reset this group's invite link|pinned a message|unpinned a message"
    r"|started a (?:voice|video) call|is now an admin|(?:are|is) no longer an admin"
    r"|blocked this contact.*|unblocked this contact.*"
    r")\.?",
    re.DOTALL,
)
# System texts without an actor; safe to test on the text after "Name: " as well (iOS
# attributes these to the chat's name).
_SYSTEM_FIXED = re.compile(
    r"[\u200e]*(?:"
    r"Messages and calls are end-to-end encrypted.*"
    r"|Messages to this (?:group|chat) are now secured with end-to-end encryption.*"
    r"|Messages you send to this (?:group|chat) .*"
    r"|Your security code with [^:]+ changed.*|[^:]+'s security code changed.*"
    r"|You joined using this group's invite link.*|You were added.*"
    r"|You're now an admin|You are now an admin|You're no longer an admin"
    r"|This chat is with a business account.*|This business (?:account|is).*"
    r"|Disappearing messages were turned (?:on|off).*"
    r"|(?:Missed|Silenced) (?:group )?(?:voice|video) call.*"
    r"|As mensagens e (?:as )?(?:chamadas|ligações) são protegidas .*"
    r"|Los mensajes y las llamadas están cifrados de extremo a extremo.*"
    r"|Nachrichten und Anrufe sind Ende-zu-Ende-verschlüsselt.*"
    r"|Les messages et les appels sont chiffrés de bout en bout.*"
    r")",
    re.DOTALL,
)
_SYSTEM_ANY = re.compile(f"(?:{_SYSTEM_FIXED.pattern})|(?:{_SYSTEM_WITH_ACTOR.pattern})", re.DOTALL)
_PLACEHOLDER = re.compile(
    r"(?:This message was deleted|You deleted this message|Waiting for this message"
    r"|Mensagem apagada|Esta mensagem foi apagada|Você apagou esta mensagem"
    r"|Apagou esta mensagem|Se eliminó este mensaje|Eliminaste este mensaje)\.?"
    r"(?: This may take a while\.| Check your phone\.)?",
)
_GROUP_CREATED = re.compile(rf"{_ACTOR} created (?:the )?group [\"“](?P<name>.+)[\"”]\.?")


class ParsedLine(NamedTuple):
    """One message header line, before the file's date order is known.

    A named tuple, not a frozen dataclass: one is built per message, and a 20 MB export
    has hundreds of thousands.

    For D/M/Y and M/D/Y dates `first` and `second` are the two leading numbers as
    written; for Y-M-D dates they are month and day (`year_first`).
    """

    platform: Literal["android", "ios"]
    first: int
    second: int
    year: int
    year_first: bool
    hour: int
    minute: int
    second_of_minute: int
    meridiem: str | None  # as written: "PM", "p. m.", "am"...
    separator: str  # between the date's fields
    kind: LineKind
    sender: str | None  # None for system lines without "Name: " (Android)
    text: str  # the first line of the message's text (or of the system line)

    def naive_time(self, order: DateOrder) -> datetime | None:
        """The wall-clock time under `order`, or None if that is no real time."""
        if self.year_first or order == "month-first":
            month, day = self.first, self.second
        else:
            day, month = self.first, self.second
        hour = self.hour
        if self.meridiem is not None:
            if not 0 <= hour <= 12:
                return None
            pm = self.meridiem[0] in "Pp"
            hour = (hour % 12) + (12 if pm else 0)
        try:
            return datetime(self.year, month, day, hour, self.minute, self.second_of_minute)
        except ValueError:
            return None

    @property
    def us_clock(self) -> bool:
        """12-hour clock written "AM"/"PM" with "/" dates: how en_US phones export."""
        return self.meridiem in ("AM", "PM") and self.separator == "/"


class RawMessage(NamedTuple):
    """A header line and the continuation lines under it, joined by newlines."""

    header: ParsedLine
    text: str
    offset: int  # where the header starts in the decoded file


@dataclass(frozen=True)
class ChatLog:
    messages: list[RawMessage]
    platform: Literal["android", "ios"] | None
    source: str  # the decoded file, for line numbers in error messages

    def line_of(self, message: RawMessage) -> int:
        """The 1-based line number of `message`'s header (counted only when needed)."""
        return self.source.count("\n", 0, message.offset) + 1


def parse_line(line: str) -> ParsedLine | None:
    """The header parsed from one line of an export, or None if the line continues a message.

    Pure and total: it never raises, whatever `line` holds; a string with a newline is
    not one line and gives None.
    """
    if "\n" in line:
        return None
    match = _HEADER.match(line)
    return None if match is None else _from_match(match)


def _from_match(match: re.Match[str]) -> ParsedLine:
    g = match.groupdict()  # one call: this runs once per message of a large export
    platform: Literal["android", "ios"] = "ios" if g["ios"] else "android"
    if g["ymd_y"]:
        first, second, year = int(g["ymd_m"]), int(g["ymd_d"]), int(g["ymd_y"])
        year_first, sep = True, g["ymd_sep"]
    else:
        first, second, raw_year = int(g["a"]), int(g["b"]), g["y"]
        year = int(raw_year) + (2000 if len(raw_year) == 2 else 0)
        year_first, sep = False, g["sep"]
    kind, sender, text = _classify(g["rest"], platform)
    return ParsedLine(
        platform,
        first,
        second,
        year,
        year_first,
        int(g["hour"]),
        int(g["minute"]),
        int(g["second"] or 0),
        g["meridiem"],
        sep,
        kind,
        sender,
        text,
    )


def _classify(rest: str, platform: str) -> tuple[LineKind, str | None, str]:
    """Split the text after the timestamp into (kind, sender, text)."""
    rest = rest.lstrip(BIDI)
    if _is_system(rest):
        return "system", None, rest
    if platform == "ios" and ": \u200e" in rest:  # a chat name with ": " in it ("Trip: May")
        chat, _, marked = rest.rpartition(": \u200e")
        if _is_system(marked):
            return "system", chat.strip(BIDI + " ") or None, marked
    name, colon, text = rest.partition(": ")
    if not colon and rest.endswith(":"):  # "Name:" whose text starts on the next line
        name, colon, text = rest[:-1], ":", ""
    sender = name.strip(BIDI + " \t\u00a0\u202f")
    if not colon or not sender or (_QUOTE.search(name) and len(_QUOTE.findall(name)) % 2):
        return "system", None, rest  # no "Name: " part, or a colon inside a quoted subject
    bare = text.lstrip(BIDI)
    if _PLACEHOLDER.fullmatch(bare.rstrip()):
        return "placeholder", sender, bare
    if _is_system(bare, actor=platform == "ios" and text.startswith(LRM)):
        return "system", sender, bare  # iOS names the chat as the "sender" of these
    return "message", sender, text


def _is_system(text: str, *, actor: bool = True) -> bool:
    """Whether `text` is a known system message; `actor` allows the "X did Y" patterns."""
    if len(text) > _MAX_SYSTEM_CHARS:
        return False
    return bool((_SYSTEM_ANY if actor else _SYSTEM_FIXED).fullmatch(text))


def parse_chat(text: str) -> ChatLog:
    """Cut a decoded export into header lines and their continuation lines.

    Raises `ParseError` when text comes before the first header: an export always starts
    with one, so that is another kind of file (or a truncated one).
    """
    matches = list(_HEADER_LINES.finditer(text))
    start = matches[0].start() if matches else len(text)
    if text[:start].strip():
        first = text[:start].strip().split("\n", 1)[0]
        raise ParseError(
            "not a WhatsApp chat export: it does not start with a message line such as "
            f"'12/03/2024, 14:05 - Name: text' or '[12/03/2024, 14:05:31] Name: text' "
            f"(first line: {first[:80]!r})"
        )
    if not matches:
        return ChatLog([], None, text)
    # A header of the other platform's kind is a pasted line: part of the message above.
    ios = matches[0].group("ios") is not None
    kept = [m for m in matches if (m.group("ios") is not None) == ios]
    ends = [m.start() - 1 for m in kept[1:]] + [len(text)]
    messages = []
    for match, end in zip(kept, ends, strict=True):
        header = _from_match(match)
        # text[match.end():end] is empty or "\n" plus the continuation lines.
        messages.append(RawMessage(header, header.text + text[match.end() : end], match.start()))
    return ChatLog(messages, "ios" if ios else "android", text)


def choose_date_order(headers: Sequence[ParsedLine]) -> tuple[DateOrder, str]:
    """The file's date order and why: "evidence", "chronology" or "default".

    Raises `ParseError` if no order makes every date real (mixed or corrupt dates).
    """
    if not headers:
        return "day-first", "default"
    if all(h.year_first for h in headers):
        return "year-first", "evidence"
    if any(h.year_first for h in headers):
        raise ParseError("dates mix year-first (2024-03-12) and day/month forms")
    days = _distinct_runs((h.first, h.second, h.year) for h in headers)
    unreal = {order: _first_unreal(days, order) for order in _ORDERS}
    possible = [order for order in _ORDERS if unreal[order] is None]
    if not possible:
        raise ParseError(
            f"dates fit neither order: {unreal['day-first']} is no day/month date and "
            f"{unreal['month-first']} is no month/day date (mixed formats or a corrupt file)"
        )
    if len(possible) == 1:
        return possible[0], "evidence"
    day_first, month_first = (_backward_steps(days, order) for order in _ORDERS)
    if day_first != month_first:
        return ("day-first" if day_first < month_first else "month-first"), "chronology"
    if any(h.meridiem is not None for h in headers) and all(
        h.us_clock for h in headers if h.meridiem is not None
    ):
        return "month-first", "default"
    return "day-first", "default"


def _distinct_runs(values: Iterable[tuple[int, int, int]]) -> list[tuple[int, int, int]]:
    """`values` with consecutive repeats collapsed: a day's messages share one date."""
    runs: list[tuple[int, int, int]] = []
    for value in values:
        if not runs or runs[-1] != value:
            runs.append(value)
    return runs


def _as_date(fields: tuple[int, int, int], order: str) -> date | None:
    first, second, year = fields
    day, month = (first, second) if order == "day-first" else (second, first)
    try:
        return date(year, month, day)
    except ValueError:
        return None


def _first_unreal(days: Iterable[tuple[int, int, int]], order: str) -> str | None:
    """The first date (its numbers in file order) that is no calendar date under `order`."""
    for fields in days:
        if _as_date(fields, order) is None:
            return "/".join(map(str, fields))
    return None


def _backward_steps(days: Sequence[tuple[int, int, int]], order: str) -> int:
    dates = [_as_date(fields, order) for fields in days]
    return sum(1 for a, b in zip(dates, dates[1:], strict=False) if a and b and b < a)


def created_group_name(text: str) -> str | None:
    """The group name in a "X created group "Name"" system line, else None."""
    if len(text) > _MAX_SYSTEM_CHARS:  # bounds the pattern's backtracking
        return None
    created = _GROUP_CREATED.fullmatch(text)
    return created.group("name") if created else None
