"""WhatsApp "Export chat" files: the Android and iOS `.txt` logs and the `.zip` around them.

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
- Times are the exporting phone's wall clock without an offset; they are read as the
  local time of the machine that parses (`datetime(...).astimezone()`), the best guess
  for a user's own exports. Two-digit years are 20xx (WhatsApp dates from 2009).
- `sender` is the name or number exactly as written (bidi marks removed) and `author`
  stays "unknown"; ingest resolves it against the user's identity.

System lines (encryption notices, "X added Y", subject changes, security codes...) are
not speech and give no item. Android writes them without a "Name: " part, so a line
with no ": " is a system line; a system line whose text holds a colon (a new subject
"Trip: Lisbon") is recognised by English patterns that require a colon-free actor before
the verb, and, in any language, by an odd number of quotation marks before the first
": ". iOS attributes system lines to the chat's own name and marks their text with
U+200E; those are recognised by the same English patterns. Limitation: a system line in
another language that contains ": " outside quotes is read as a message.

Inside a `.zip` only the chat log (`_chat.txt` or "WhatsApp Chat with ….txt") is read:
media members and nested archives are never opened, and the log's declared and inflated
sizes are both held under `MAX_CHAT_BYTES`. An empty file is an empty chat ([]); text
before the first header, a line longer than any message, or dates that fit no order are
`ParseError`s. A continuation line that itself looks like a header (a pasted message)
starts a new message: nothing in the format tells them apart. AM/PM words other than
Latin "am"/"pm" spellings (午後, 오후) are not recognised.

Each message is one item in document `whatsapp:<conversation>`; the conversation name
comes from the export's file name ("WhatsApp Chat with Ana Ribeiro.txt", the zip
"WhatsApp Chat - Ana Ribeiro.zip" around an iOS `_chat.txt`), else from the chat name
iOS puts on its system lines, else from the participants. The locator is
`<ISO local time>/<sender>/<n>`, n counting earlier messages with the same time and
sender in the file (deleted ones too), so a longer re-export of the same chat keeps the
refs and content hashes of the messages it shares with an older one.
"""

from __future__ import annotations

import io
import logging
import re
import zipfile
import zlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path, PurePosixPath
from typing import IO, Any, ClassVar, Literal, NamedTuple

from connectors.base import Connector, Item, ParseError
from connectors.chunking import MAX_CHARS, split_long
from connectors.textfile import aware, decode_text

__all__ = [
    "MAX_CHAT_BYTES",
    "ParsedLine",
    "WhatsAppConnector",
    "choose_date_order",
    "conversation_from_filename",
    "message_content",
    "parse_chat",
    "parse_line",
]

log = logging.getLogger(__name__)

DateOrder = Literal["day-first", "month-first", "year-first"]
# "placeholder": a message that says nothing yet still takes its place in the count of
# identical time+sender pairs ("This message was deleted", "Waiting for this message").
LineKind = Literal["message", "system", "placeholder"]

# A chat log past this is not a chat someone exported; it also bounds what a zip member
# may inflate to, so a zip bomb is refused instead of filling the worker's memory.
MAX_CHAT_BYTES = 200 * 1024 * 1024
# WhatsApp caps a message at 65,536 characters (at most 4 UTF-8 bytes each): a longer
# line means the file is something else, and refusing it early keeps the work bounded.
MAX_LINE_BYTES = 1024 * 1024
# Exports "with media" hold one member per photo or voice note; far more than any export
# has, and bounded before zipfile builds its index of every member.
MAX_ZIP_MEMBERS = 100_000
_READ_CHUNK = 1024 * 1024
# System lines are one short sentence; longer text is never tested against their patterns,
# which keeps those (backtracking) regexes linear on a hostile 1 MB line.
_MAX_SYSTEM_CHARS = 1000
# The edited marker is looked for only in a message's last characters, for the same reason.
_EDITED_TAIL = 80

_LRM = "\u200e"
# Bidi controls WhatsApp wraps around names and numbers (U+202A...U+202C on phones).
_BIDI = "\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069"
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
_EDITED = re.compile(
    r"\s*\u200e?<(?:This message was edited|Mensagem editada|Se editó este mensaje\.?"
    r"|Diese Nachricht wurde bearbeitet|Ce message a été modifié)>\s*\Z"
)

# Attachment markers, on the first line of a message's text (a caption may follow).
_MEDIA_OMITTED = re.compile(
    r"<(?:Media omitted|Arquivo de mídia oculto|Multimédia omitido|Multimedia omitido"
    r"|Medien ausgeschlossen|Médias omis|Media omessi|Media weggelaten)>",
    re.IGNORECASE,
)
_ANGLE_OMITTED = re.compile(r"<(?P<what>[^<>\n]{1,40}) omitted>")
_IOS_OMITTED = re.compile(
    r"(?P<what>image|video|audio|sticker|GIF|Contact card|voice message|video note) omitted",
    re.IGNORECASE,
)
_IOS_DOCUMENT = re.compile(
    r"(?:(?P<name>[^\n]*?)(?:[ ]•[ ]\u200e?\d+[ ]pages?)?[ ]\u200e?)?document omitted"
)
_IOS_ATTACHED = re.compile(r"<attached: (?P<file>[^<>\n]+)>[ ]?")
_ANDROID_ATTACHED = re.compile(
    r"(?P<file>[^\n]+?\.\w{1,8}) \((?:file attached|arquivo anexado|ficheiro anexado"
    r"|archivo adjunto|Datei angehängt|fichier joint|file allegato)\)"
)
_IOS_MEMBER_PREFIX = re.compile(r"^\d{8}-")

_FILE_TYPES: tuple[tuple[re.Pattern[str], str], ...] = (
    (re.compile(r"PHOTO|^IMG-|\.(?:jpe?g|png|heic|heif)$", re.I), "image"),
    (re.compile(r"GIF|\.gif$", re.I), "gif"),
    (re.compile(r"STICKER|^STK-|\.webp$", re.I), "sticker"),
    (re.compile(r"VIDEO|^VID-|\.(?:mp4|mov|3gp|m4v)$", re.I), "video"),
    (re.compile(r"AUDIO|^PTT-|^AUD-|\.(?:opus|m4a|mp3|ogg|aac|amr|wav)$", re.I), "audio"),
    (re.compile(r"\.vcf$", re.I), "contact card"),
)
_ORDERS: tuple[DateOrder, DateOrder] = ("day-first", "month-first")
_MEDIA_TYPES = frozenset({"image", "gif", "sticker", "video", "audio", "media"})

# "WhatsApp Chat with Ana Ribeiro" (Android, several languages) and the iOS zip name
# "WhatsApp Chat - Ana Ribeiro"; a browser's " (1)" for a repeated download is dropped.
_CHAT_NAME = re.compile(
    r"(?:WhatsApp Chat with|WhatsApp Chat -|Conversa do WhatsApp com|Conversa de WhatsApp com"
    r"|Chat de WhatsApp con|Chat de WhatsApp -|WhatsApp-Chat mit|WhatsApp Chat mit"
    r"|Discussion WhatsApp avec|Chat WhatsApp con|WhatsApp-chat met)"
    r"\s+(?P<name>.+?)(?:\s*\(\d+\))?",
    re.IGNORECASE,
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
    rest = rest.lstrip(_BIDI)
    if _is_system(rest):
        return "system", None, rest
    if platform == "ios" and ": \u200e" in rest:  # a chat name with ": " in it ("Trip: May")
        chat, _, marked = rest.rpartition(": \u200e")
        if _is_system(marked):
            return "system", chat.strip(_BIDI + " ") or None, marked
    name, colon, text = rest.partition(": ")
    if not colon and rest.endswith(":"):  # "Name:" whose text starts on the next line
        name, colon, text = rest[:-1], ":", ""
    sender = name.strip(_BIDI + " \t\u00a0\u202f")
    if not colon or not sender or (_QUOTE.search(name) and len(_QUOTE.findall(name)) % 2):
        return "system", None, rest  # no "Name: " part, or a colon inside a quoted subject
    bare = text.lstrip(_BIDI)
    if _PLACEHOLDER.fullmatch(bare.rstrip()):
        return "placeholder", sender, bare
    if _is_system(bare, actor=platform == "ios" and text.startswith(_LRM)):
        return "system", sender, bare  # iOS names the chat as the "sender" of these
    return "message", sender, text


def _is_system(text: str, *, actor: bool = True) -> bool:
    """Whether `text` is a known system message; `actor` allows the "X did Y" patterns."""
    if len(text) > _MAX_SYSTEM_CHARS:
        return False
    return bool((_SYSTEM_ANY if actor else _SYSTEM_FIXED).fullmatch(text))


def message_content(raw: str) -> tuple[str, list[dict[str, Any]], bool]:
    """A message's text with attachment markers replaced, its attachments, and if edited.

    An attachment-only message becomes a short marker such as "[image]", so the text is
    never empty while the message says something.
    """
    text = raw.strip()
    edited = False
    tail = max(0, len(text) - _EDITED_TAIL)
    if text.endswith(">") and (suffix := _EDITED.search(text, tail)) is not None:
        text, edited = text[: suffix.start()].rstrip(), True
    first, _, after = text.partition("\n")
    found = _attachment(first.strip().lstrip(_BIDI))
    if found is None:
        return text.lstrip(_LRM), [], edited
    attachment, marker, same_line = found
    caption = "\n".join(part for part in (same_line, after.strip()) if part)
    if not caption:
        return marker, [attachment], edited
    separator = "\n" if "\n" in caption else " "
    return f"{marker}{separator}{caption}", [attachment], edited


def _attachment(first: str) -> tuple[dict[str, Any], str, str] | None:
    """(meta entry, marker text, caption on the same line) for an attachment line."""
    if not first.startswith("<") and not first.endswith((")", ">", "omitted")):
        return None  # the common case, decided without a regex
    if _MEDIA_OMITTED.fullmatch(first):
        return {"type": "media", "omitted": True}, "[media]", ""
    if match := _IOS_ATTACHED.match(first):
        file_name = match.group("file").strip()
        return _file_attachment(file_name) + (first[match.end() :].strip(),)
    if match := _ANDROID_ATTACHED.fullmatch(first):
        return _file_attachment(match.group("file").strip()) + ("",)
    if match := _IOS_DOCUMENT.fullmatch(first):
        name = (match.group("name") or "").strip(_BIDI + " ")
        entry: dict[str, Any] = {"type": "document", "omitted": True}
        if name:
            entry["file"] = name
        return entry, f"[document: {name}]" if name else "[document]", ""
    if (match := _IOS_OMITTED.fullmatch(first)) or (match := _ANGLE_OMITTED.fullmatch(first)):
        kind = match.group("what").strip().lower()
        return {"type": kind, "omitted": True}, f"[{kind}]", ""
    return None


def _file_attachment(file_name: str) -> tuple[dict[str, Any], str]:
    """A file shipped in the export: its type guessed from WhatsApp's naming."""
    base = PurePosixPath(file_name).name
    kind = next((k for pattern, k in _FILE_TYPES if pattern.search(base)), "document")
    entry: dict[str, Any] = {"type": kind, "file": file_name, "omitted": False}
    if kind in _MEDIA_TYPES:
        return entry, f"[{kind}]"
    return entry, f"[{kind}: {_IOS_MEMBER_PREFIX.sub('', base)}]"


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


def conversation_from_filename(name: str) -> str | None:
    """The chat's name in an export's file name ("WhatsApp Chat with Ana Ribeiro.txt")."""
    stem = PurePosixPath(name).name
    for suffix in (".txt", ".zip"):
        if stem.lower().endswith(suffix):
            stem = stem[: -len(suffix)]
    match = _CHAT_NAME.fullmatch(stem.strip())
    return match.group("name").strip() if match else None


def _is_chat_member(name: str) -> bool:
    base = PurePosixPath(name).name
    if base.startswith("._") or "__MACOSX" in name:  # macOS resource forks, not chats
        return False
    if base == "_chat.txt":
        return True
    return base.lower().endswith(".txt") and conversation_from_filename(base) is not None


class WhatsAppConnector(Connector):
    """Reads WhatsApp chat exports (`.txt`, or the `.zip` WhatsApp shares with media)."""

    name: ClassVar[str] = "whatsapp"
    kind: ClassVar[str] = "message"
    history: ClassVar[str] = "append"
    priority: ClassVar[int] = 20  # before the generic `.txt` reader
    extensions: ClassVar[tuple[str, ...]] = (".txt", ".zip")
    # An export "with media" is mostly photos; only its chat log is read, bounded apart.
    max_file_bytes: ClassVar[int] = 512 * 1024 * 1024

    def detect(self, path: Path, head: bytes) -> bool:
        """A `.txt` starting with a message header, or a `.zip` holding a chat log."""
        suffix = path.suffix.lower()
        if suffix == ".txt":
            return _looks_like_chat(head)
        if suffix == ".zip" and head.startswith(b"PK\x03\x04"):
            return _zip_has_chat(path)
        return False

    def parse(self, path: Path, data: bytes, mtime: datetime) -> list[Item]:
        """One item per message (long ones split); system lines and deleted ones give none."""
        member: str | None = None
        if data.startswith(b"PK\x03\x04") or path.suffix.lower() == ".zip":
            member, data = read_chat_from_zip(data)
        text = _decode(data)
        if not text.strip():
            return []
        chat = parse_chat(text)
        order, order_source = choose_date_order([m.header for m in chat.messages])
        conversation = _conversation(path, member, chat)
        return _items(chat, order, order_source, conversation, self.kind)


def _items(
    chat: ChatLog, order: DateOrder, order_source: str, conversation: str, kind: str
) -> list[Item]:
    document = f"whatsapp:{conversation}"
    participants = _participants(chat)
    seen: dict[tuple[str, str], int] = {}
    local_times: dict[datetime, datetime] = {}
    items: list[Item] = []
    for message in chat.messages:
        header = message.header
        naive = header.naive_time(order)
        if naive is None:
            raise ParseError(
                f"line {chat.line_of(message)}: no such date or time under the file's {order} "
                f"order: {header.first}/{header.second}/{header.year} "
                f"{header.hour}:{header.minute:02d}"
            )
        if header.kind == "system" or header.sender is None:
            continue
        key = (naive.isoformat(), header.sender)
        ordinal = seen[key] = seen.get(key, -1) + 1
        if header.kind == "placeholder":
            continue
        text, attachments, edited = message_content(message.text)
        if not text:
            continue
        moment = local_times.get(naive) or local_times.setdefault(naive, aware(naive))
        meta: dict[str, Any] = {
            "platform": header.platform,
            "date_order": order,
            "date_order_source": order_source,
            "participants": participants,
        }
        if attachments:
            meta["attachments"] = attachments
        if edited:
            meta["edited"] = True
        locator = f"{key[0]}/{header.sender}/{ordinal}"
        pieces = [text] if len(text) <= MAX_CHARS else split_long(text)
        for index, piece in enumerate(pieces):
            items.append(
                Item(
                    text=piece,
                    time=moment,
                    kind=kind,
                    document=document,
                    locator=locator if len(pieces) == 1 else f"{locator}:{index}",
                    conversation=conversation,
                    sender=header.sender,
                    meta=meta if len(pieces) == 1 else {**meta, "chunk": index},
                )
            )
    log.debug("%s: %d items from %d lines", document, len(items), len(chat.messages))
    return items


def _participants(chat: ChatLog) -> list[str]:
    """Distinct senders of real messages, in order of first appearance."""
    found = dict.fromkeys(
        m.header.sender for m in chat.messages if m.header.kind != "system" and m.header.sender
    )
    return [name for name in found if name]


def _conversation(path: Path, member: str | None, chat: ChatLog) -> str:
    """The chat's name: from the export's file names, else from what the log says."""
    # The chat member, the folder it sits in (a re-zipped export folder), the file itself.
    names = [member, PurePosixPath(member).parent.name] if member else []
    for name in [*names, path.name]:
        if name and (found := conversation_from_filename(name)):
            return found
    if chat.platform == "ios":  # iOS puts the chat's own name on its system lines
        for message in chat.messages:
            if message.header.kind == "system" and message.header.sender:
                return message.header.sender
    for message in chat.messages:
        header = message.header
        short = len(header.text) <= _MAX_SYSTEM_CHARS  # bounds the regex's backtracking
        if header.kind == "system" and short and (created := _GROUP_CREATED.fullmatch(header.text)):
            return created.group("name")
    participants = _participants(chat)
    return ", ".join(sorted(participants)) if participants else path.stem


def _decode(data: bytes) -> str:
    """The chat log as text; refuses sizes and line lengths no export has, before decoding."""
    if len(data) > MAX_CHAT_BYTES:
        raise ParseError(
            f"chat log is {len(data)} bytes; a WhatsApp export over {MAX_CHAT_BYTES} is refused"
        )
    longest = max(map(len, data.split(b"\n")), default=0)
    if longest > MAX_LINE_BYTES and b"\r" in data:  # old Mac line ends: lines end at \r too
        longest = max(map(len, data.replace(b"\r", b"\n").split(b"\n")), default=0)
    if longest > MAX_LINE_BYTES:
        raise ParseError(
            f"a line is {longest} bytes long; WhatsApp messages are at most 65,536 characters, "
            "so this is not a chat export"
        )
    return decode_text(data)


def read_chat_from_zip(data: bytes) -> tuple[str, bytes]:
    """The chat log member's name and bytes from an export zip, refusing zip bombs.

    Media members are never opened, nested archives included; the chat member's declared
    size and the bytes it actually inflates to are both held under `MAX_CHAT_BYTES`.
    """
    if data.count(b"PK\x01\x02") > MAX_ZIP_MEMBERS:  # an upper bound, before zipfile's index
        raise ParseError(f"zip archive has more than {MAX_ZIP_MEMBERS} members; refused")
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            infos = archive.infolist()
            chats = [info for info in infos if _is_chat_member(info.filename)]
            if not chats:
                nested = [i.filename for i in infos if i.filename.lower().endswith(".zip")]
                hint = f"; nested zip archives ({nested[0]}...) are not opened" if nested else ""
                raise ParseError(
                    "zip archive holds no WhatsApp chat log (_chat.txt or "
                    f"'WhatsApp Chat with ….txt'){hint}"
                )
            if len(chats) > 1:
                listed = ", ".join(info.filename for info in chats[:3])
                raise ParseError(
                    f"zip archive holds {len(chats)} chat logs ({listed}); export one chat per zip"
                )
            info = chats[0]
            if info.flag_bits & 0x1:
                raise ParseError(f"{info.filename} in the zip archive is encrypted")
            if info.file_size > MAX_CHAT_BYTES:
                raise ParseError(
                    f"{info.filename} declares {info.file_size} bytes uncompressed, over the "
                    f"{MAX_CHAT_BYTES}-byte limit for a chat log (a zip bomb?)"
                )
            with archive.open(info) as stream:
                content = read_bounded(stream, MAX_CHAT_BYTES, info.filename)
    except ParseError:
        raise
    except (zipfile.BadZipFile, zipfile.LargeZipFile, zlib.error, EOFError) as exc:
        raise ParseError(f"corrupt zip archive: {exc}") from exc
    except (NotImplementedError, RuntimeError, ValueError, OSError) as exc:
        raise ParseError(f"unreadable zip archive: {exc}") from exc
    if content.startswith(b"PK\x03\x04"):
        raise ParseError(f"{info.filename} is itself a zip archive; nested zips are not opened")
    return info.filename, content


def read_bounded(stream: IO[bytes], limit: int, name: str) -> bytes:
    """All of `stream`, read in chunks, or `ParseError` once it passes `limit` bytes."""
    chunks: list[bytes] = []
    total = 0
    while chunk := stream.read(_READ_CHUNK):
        total += len(chunk)
        if total > limit:
            raise ParseError(
                f"{name} inflates to more than {limit} bytes, over the limit for a chat log "
                "(a zip bomb?)"
            )
        chunks.append(chunk)
    return b"".join(chunks)


def _looks_like_chat(head: bytes) -> bool:
    """Whether the first non-empty line of `head` is a WhatsApp message header."""
    if head.startswith(b"\xef\xbb\xbf"):
        head = head[3:]
    for raw in head.split(b"\n", 8)[:8]:
        line = raw.decode("utf-8", errors="ignore").rstrip("\r")
        if line.strip():
            return _HEADER.match(line) is not None
    return False


def _zip_has_chat(path: Path) -> bool:
    """Whether the zip at `path` lists a chat log; reads only its central directory."""
    try:
        with zipfile.ZipFile(path) as archive:
            names = archive.namelist()
    except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, ValueError, EOFError):
        return False
    return len(names) <= MAX_ZIP_MEMBERS and any(_is_chat_member(n) for n in names)
