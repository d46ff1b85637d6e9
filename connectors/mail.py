"""Email: single `.eml` messages and mbox mailboxes, one item per message, grouped by thread.

A message's `document` is its thread ("mail:<root message-id>") and its `locator` its own
Message-ID, so the same message read from a Takeout mbox, a Thunderbird folder or a saved
`.eml` lands on one source_ref. Real mail is messy (8-bit headers, mislabelled charsets,
mangled MIME boundaries, truncated base64), so problems are recorded in the item's meta
and only a message with nothing readable at all is dropped; one bad message never costs
the rest of its mailbox.

An HTML body loses its hidden elements (see `connectors.webpage.hidden_from_sight`):
newsletters hide a preview line there, an attacker hides instructions for a model. When
the hidden text reads as instructions, the message's meta says why in "hidden_text" and
ingest quarantines it.
"""

from __future__ import annotations

import email
import email.policy
import hashlib
import logging
import re
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta, timezone
from email.header import decode_header
from email.message import Message
from email.utils import getaddresses, parsedate_to_datetime
from pathlib import Path
from typing import Any, ClassVar

from bs4 import BeautifulSoup
from bs4.element import NavigableString, PageElement, PreformattedString, Tag

from connectors.base import Connector, Item, ParseError
from connectors.chunking import MAX_CHARS, split_long
from connectors.textfile import aware
from connectors.webpage import hidden_from_sight
from policies.injection import instruction_reason

__all__ = ["EmlConnector", "MboxConnector", "html_to_text", "normalize_subject", "trim_reply"]

log = logging.getLogger(__name__)

# Bounds on work per message: MIME nesting deeper than this is hostile, not mail, and a
# body past this many characters is a log dump, not correspondence.
_MAX_DEPTH = 40
_MAX_HTML_CHARS = 4_000_000
_MAX_TEXT_CHARS = 400_000
_MAX_NONPRINTABLE_RATIO = 0.3

# No `^`: `.match(data, pos)` anchors at `pos`, where `^` would only match at offset 0.
_HEADER_LINE = re.compile(rb"[!-9;-~]{1,76}:")
_MAIL_HEADERS = frozenset({b"from", b"date", b"subject", b"message-id"})
# Headers that mark a file as mail even without a `.eml` name.
_STRONG_HEADERS = frozenset(
    {b"message-id", b"received", b"return-path", b"mime-version", b"delivered-to", b"to"}
)
_MONTHS = ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec")
# The mbox "From_" line: `From <sender> <asctime date>`, the zone sometimes before the year.
_FROM_LINE = re.compile(
    rb"^From \S*\s+(?:[A-Za-z]{3},?\s+)?(?P<mon>[A-Za-z]{3})\s+(?P<day>\d{1,2})\s+"
    rb"(?P<h>\d{1,2}):(?P<m>\d{2})(?::(?P<s>\d{2}))?\s+(?:(?P<zone>[+-]\d{4}|[A-Z]{1,5})\s+)?"
    rb"(?P<year>\d{4})\s*$"
)
_SURROGATES = re.compile("[\udc80-\udcff]")
_ASCII_LABELS = frozenset({"", "us-ascii", "ascii", "ansi_x3.4-1968", "x-unknown", "unknown-8bit"})
# Mail labelled Latin-1 is nearly always Windows-1252 (Outlook's curly quotes and euro
# sign), which is why the WHATWG encoding standard maps these labels to it.
_LATIN1_LABELS = frozenset(
    {"iso-8859-1", "iso8859-1", "iso_8859-1", "latin-1", "latin1", "l1", "cp819", "windows-1252"}
)
_SUBJECT_PREFIX = re.compile(
    r"^\s*(?:(?:re|fwd?|aw|res|enc|tr|sv|wg|rv)\s*(?:\[\d+\]|\(\d+\))?\s*:\s*)+",
    re.IGNORECASE,
)
_ATTRIBUTION_START = re.compile(
    r"^\s*(?:On|Em|Le|Am|El|Il|Op|Den|W dniu)\s", re.IGNORECASE
)  # fmt: skip
_ATTRIBUTION = re.compile(
    r"^\s*(?:On\s.*\swrote|Em\s.*\sescreveu|Le\s.*\sa\s+écrit|Am\s.*\sschrieb"
    r"|El\s.*\sescribió|Il\s.*\sha\s+scritto|Op\s.*\sschreef|Den\s.*\sskrev"
    r"|W dniu\s.*\spisze)\s*:\s*$",
    re.IGNORECASE | re.DOTALL,
)
_ORIGINAL_MESSAGE = re.compile(
    r"^\s*-{2,}\s*(?:original message|mensagem original|message d'origine|"
    r"ursprüngliche nachricht|mensaje original)\s*-{2,}\s*$",
    re.IGNORECASE,
)
_OUTLOOK_RULE = re.compile(r"^\s*_{20,}\s*$")
_OUTLOOK_FROM = re.compile(r"^\s*(?:From|De|Von|Da)\s*:", re.IGNORECASE)
_BLANK_RUNS = re.compile(r"\n{3,}")

# Private-use characters mark block structure while BeautifulSoup flattens the HTML.
_PARA, _LINE, _QUOTE_OPEN, _QUOTE_CLOSE = "\ue000", "\ue001", "\ue002", "\ue003"
_HTML_MARKS = re.compile(f"([{_PARA}{_LINE}{_QUOTE_OPEN}{_QUOTE_CLOSE}])")
_PARAGRAPH_TAGS = frozenset([
    "p", "div", "h1", "h2", "h3", "h4", "h5", "h6", "ul", "ol", "table", "pre",
    "section", "article", "header", "footer", "hr", "dl",
])  # fmt: skip
_LINE_TAGS = frozenset(["li", "tr", "dt", "dd", "caption"])
_DROPPED_TAGS = frozenset(["script", "style", "head", "title", "noscript", "template", "object"])


@dataclass
class _Mail:
    """What one message says, before it becomes items."""

    key: str  # locator: the Message-ID, or a hash when the message has none
    thread: str  # the thread root's id
    text: str
    time: datetime
    subject: str | None
    sender: str | None
    meta: dict[str, Any] = field(default_factory=dict)


class EmlConnector(Connector):
    """Reads one RFC 5322 message saved as `.eml` (Thunderbird, Outlook, Apple Mail)."""

    name: ClassVar[str] = "eml"
    kind: ClassVar[str] = "email"
    history: ClassVar[str] = "append"
    priority: ClassVar[int] = 5  # content detection must run before the generic text reader
    extensions: ClassVar[tuple[str, ...]] = (".eml",)

    def detect(self, path: Path, head: bytes) -> bool:
        """Mail headers at the start; a leading mbox From_ line only under a `.eml` name."""
        is_eml = path.suffix.lower() in self.extensions
        if head.startswith(b"From "):
            return is_eml and _looks_like_mbox(head)
        return is_eml or _looks_like_message(head)

    def parse(self, path: Path, data: bytes, mtime: datetime) -> list[Item]:
        """The message's items; a file that is not a message raises `ParseError`."""
        if not data.strip():
            raise ParseError("empty file: no mail headers")
        from_line = None
        if data.startswith(b"From "):
            from_line, _, data = data.partition(b"\n")
        if not _HEADER_LINE.match(data) or not _header_names(data) & _MAIL_HEADERS:
            raise ParseError(
                "not an email message: it does not start with mail headers "
                "(From:, Date:, Subject:, Message-ID:)"
            )
        header_end = re.search(rb"\r?\n\r?\n", data)
        if b"\x00" in data[: header_end.start() if header_end else len(data)]:
            raise ParseError("binary file, not an email message: NUL bytes in the headers")
        fallback = _from_line_time(from_line) if from_line else None
        try:
            mail = read_message(data, fallback or (aware(mtime), "mtime"))
        except RecursionError as exc:
            raise ParseError("email message nested too deeply to read") from exc
        if mail is None:
            raise ParseError("email message has no readable text, subject or attachments")
        return _items([mail], self.kind)


class MboxConnector(Connector):
    """Reads mbox mailboxes: Gmail Takeout, Thunderbird folders, Apple Mail exports.

    Apple Mail exports a mailbox as a folder `Inbox.mbox/` holding a file named `mbox`.
    The file is split on its own bytes rather than with `mailbox.mbox`, which needs a path
    it can reopen (parse must stay a function of its arguments) and splits at every line
    starting "From ", including an unescaped one in a message body.
    """

    name: ClassVar[str] = "mbox"
    kind: ClassVar[str] = "email"
    history: ClassVar[str] = "append"
    priority: ClassVar[int] = 5
    extensions: ClassVar[tuple[str, ...]] = (".mbox", ".mbx")
    # Mailboxes are big. bench/parse_throughput.py reads Takeout-like mail at ~16 MB/s,
    # a mailbox of tiny messages at ~2 MB/s: 100 MB fits the worker's 60 s either way.
    max_file_bytes: ClassVar[int] = 100 * 1024 * 1024

    def detect(self, path: Path, head: bytes) -> bool:
        """A From_ line followed by headers; else an mbox name (so junk in one is reported)."""
        if _looks_like_mbox(head):
            return True
        if path.suffix.lower() in self.extensions:
            return True
        return path.name == "mbox" and path.parent.suffix.lower() == ".mbox"

    def parse(self, path: Path, data: bytes, mtime: datetime) -> list[Item]:
        """One item per message (more for long ones); an empty mailbox gives none."""
        if not data.strip():
            return []
        if not data.startswith(b"From ") or not _FROM_LINE.match(data.partition(b"\n")[0]):
            raise ParseError(
                "not an mbox: the file does not start with a 'From <sender> <date>' line"
            )
        mails: list[_Mail] = []
        unreadable = 0
        for number, (from_line, raw) in enumerate(_split_mbox(data), start=1):
            fallback = _from_line_time(from_line) or (aware(mtime), "mtime")
            try:
                mail = read_message(raw, fallback) if _HEADER_LINE.match(raw) else None
            except MemoryError:
                raise
            except Exception:  # one broken message must not cost the rest of the mailbox
                log.warning("%s: skipped message %d: unreadable", path.name, number, exc_info=True)
                unreadable += 1
                continue
            if mail is None:
                unreadable += 1
                log.warning("%s: skipped message %d: nothing readable", path.name, number)
            else:
                mails.append(mail)
        if not mails:
            raise ParseError(f"none of the {unreadable} messages in the mbox is readable mail")
        return _items(mails, self.kind)


# --- detection -----------------------------------------------------------------------


def _looks_like_mbox(head: bytes) -> bool:
    first, _, rest = head.partition(b"\n")
    return bool(_FROM_LINE.match(first.rstrip(b"\r"))) and bool(_HEADER_LINE.match(rest))


def _looks_like_message(head: bytes) -> bool:
    """Mail headers from the first line on, with the headers every message has."""
    if not _HEADER_LINE.match(head):
        return False
    names = _header_names(head)
    return {b"from", b"date"} <= names and bool(names & _STRONG_HEADERS)


def _header_names(data: bytes) -> set[bytes]:
    """Lower-cased names of the header lines before the first blank line (4 KiB at most)."""
    names: set[bytes] = set()
    for line in data[:4096].split(b"\n"):
        line = line.rstrip(b"\r")
        if not line:
            break
        if line[:1] in (b" ", b"\t"):
            continue
        match = _HEADER_LINE.match(line)
        if match is None:
            break
        names.add(match.group(0)[:-1].lower())
    return names


# --- mbox ------------------------------------------------------------------------------


def _split_mbox(data: bytes) -> Iterator[tuple[bytes, bytes]]:
    """(From_ line, message bytes) pairs, with mboxrd `>From ` escapes undone.

    A "From " line starts a message when it carries a date (the From_ format) or when it
    follows a blank line and headers follow it; a body line "From here on..." does not.
    """
    starts: list[tuple[int, int]] = []  # (line start, start of the message after it)
    for match in re.finditer(rb"^From [^\n]*\n?", data, re.MULTILINE):
        begin, end = match.span()
        line = match.group(0).rstrip(b"\r\n")
        after_blank = (
            begin == 0
            or data[max(0, begin - 2) : begin] == b"\n\n"
            or data[max(0, begin - 4) : begin] == b"\r\n\r\n"
        )
        dated = _FROM_LINE.match(line) is not None
        headed = _HEADER_LINE.match(data, end) is not None
        if (dated and (headed or after_blank)) or (after_blank and headed):
            starts.append((begin, end))
    for index, (begin, body_start) in enumerate(starts):
        stop = starts[index + 1][0] if index + 1 < len(starts) else len(data)
        from_line = data[begin:body_start].rstrip(b"\r\n")
        raw = re.sub(rb"(?m)^>(>*From )", rb"\1", data[body_start:stop])
        yield from_line, raw


def _from_line_time(line: bytes) -> tuple[datetime, str] | None:
    """The delivery time on a From_ line; without a zone it is taken as UTC (as Gmail)."""
    match = _FROM_LINE.match(line.rstrip(b"\r"))
    if match is None:
        return None
    try:
        month = _MONTHS.index(match["mon"].decode().lower()) + 1
        zone = match["zone"]
        tz = UTC
        if zone and zone[:1] in (b"+", b"-"):
            sign = -1 if zone[:1] == b"-" else 1
            tz = timezone(sign * timedelta(hours=int(zone[1:3]), minutes=int(zone[3:5])))
        moment = datetime(
            int(match["year"]),
            month,
            int(match["day"]),
            int(match["h"]),
            int(match["m"]),
            int(match["s"] or 0),
            tzinfo=tz,
        )
    except ValueError:
        return None
    return moment, "from_line"


# --- one message ----------------------------------------------------------------------


def read_message(raw: bytes, fallback: tuple[datetime, str]) -> _Mail | None:
    """Read one message's bytes; None when it holds nothing readable at all.

    Parsed with the `compat32` policy and headers decoded here: `policy.default` builds
    header objects with a parser that raises (IndexError) on some malformed addresses
    and costs two thirds of the parse time of a typical mailbox.

    `fallback` is the time (and where it came from) used when the Date header is missing
    or unreadable: the mbox From_ line's date, else the file's modification time.
    """
    problems: list[str] = []
    msg = _repair_boundary(
        raw, email.message_from_bytes(raw, policy=email.policy.compat32), problems
    )
    headers = {name.lower(): str(value) for name, value in reversed(list(msg.raw_items()))}
    if not headers.keys() & {"from", "date", "subject", "message-id", "to"}:
        return None
    subject = _header_text(headers.get("subject")) or None
    sender = _header_text(headers.get("from")) or None
    date_raw = _header_text(headers.get("date")) or None
    time, time_source = _date(date_raw) or fallback
    message_id = next(iter(_ids(headers.get("message-id"))), None)
    in_reply_to = next(iter(_ids(headers.get("in-reply-to"))), None)
    references = _ids(headers.get("references"))

    hidden: list[str] = []
    body, body_kind, attachments = _content(msg, problems, hidden)
    decode_errors = [p.removeprefix("decode: ") for p in problems if p.startswith("decode: ")]
    parse_errors = [p for p in problems if not p.startswith("decode: ")]
    text, trimmed, signed = body, False, None
    if body:
        text = trim_reply(body)
        trimmed = text != body
        signed = signature(body)
    elif attachments:
        text = "Attachments: " + ", ".join(
            a["filename"] or a["content_type"] or "" for a in attachments
        )
        body_kind = "attachments"
    elif subject:
        text, body_kind = subject, "subject"
    else:
        return None

    key = message_id or _stable_hash(sender, date_raw, subject)
    meta: dict[str, Any] = {
        "from": _addresses(headers.get("from")),
        "to": _addresses(headers.get("to")),
        "cc": _addresses(headers.get("cc")),
        "subject": subject,
        "message_id": message_id,
        "in_reply_to": in_reply_to,
        "references": references,
        "attachments": attachments,
        "date": date_raw,
        "time_estimated": time_source != "date_header",
        "time_source": time_source,
        "body": body_kind,
        "quote_trimmed": trimmed,
    }
    if signed:  # cut from the text; reflection reads the sender's role from it
        meta["signature"] = signed
    if decode_errors:
        meta["decode_errors"] = decode_errors
    if parse_errors:
        meta["parse_errors"] = parse_errors
    hidden_reason = instruction_reason("\n".join(hidden)) if hidden else None
    if hidden_reason:
        meta["hidden_text"] = hidden_reason
    thread = (references or [in_reply_to or key])[0]
    return _Mail(key, thread, text, time, subject, sender, meta)


def _repair_boundary(raw: bytes, msg: Message, problems: list[str]) -> Message:
    """Re-read a multipart message whose declared boundary never occurs in its body.

    Mail gateways sometimes rewrite the boundary in one place only; the parts are still
    there, delimited by a `--token` line that repeats. Without this the whole MIME
    structure, base64 and all, would be read as one text body.
    """
    if msg.is_multipart() or _safe(msg.get_content_maintype, "text") != "multipart":
        return msg
    payload = msg.get_payload()
    if not isinstance(payload, str):
        return msg
    declared = _safe(lambda: msg.get_param("boundary"), None)
    problems.append(f"multipart boundary {declared!r} not found in the message body")
    counts = Counter(
        line.rstrip().removeprefix("--").removesuffix("--")
        for line in payload.split("\n")
        if line.startswith("--") and len(line.rstrip()) > 2
    )
    header_end = re.search(rb"\r?\n\r?\n", raw)
    token = next((t for t, n in counts.most_common(1) if n >= 2 and '"' not in t), None)
    if token is None or header_end is None:
        return msg
    head = re.sub(
        rb'boundary\s*=\s*(?:"[^"]*"|[^;\s]+)',
        b'boundary="' + token.encode("ascii", "surrogateescape").replace(b"\\", b"") + b'"',
        raw[: header_end.start()],
        count=1,
        flags=re.IGNORECASE,
    )
    repaired = email.message_from_bytes(head + raw[header_end.start() :], policy=msg.policy)
    if repaired.is_multipart():
        problems.append(f"read the parts with boundary {token!r} found in the body")
        return repaired
    return msg


def _content(
    msg: Message, problems: list[str], hidden: list[str]
) -> tuple[str, str, list[dict[str, str | None]]]:
    """The body text (plain preferred over HTML), its kind, and the attachments' names.

    The text of hidden HTML elements, when the HTML body is the one read, goes to `hidden`.
    """
    plain: list[str] = []
    html: list[str] = []
    attachments: list[dict[str, str | None]] = []
    parts = list(_walk(msg))
    for part, depth, leaf in parts:
        if not leaf:
            continue
        ctype = _safe(part.get_content_type, "application/octet-stream")
        if depth > _MAX_DEPTH:
            problems.append(f"MIME parts nested deeper than {_MAX_DEPTH}: not read")
            continue
        filename = _safe(part.get_filename, None)
        disposition = _safe(part.get_content_disposition, None)
        if filename or disposition == "attachment" or ctype == "message/rfc822":
            name = _header_text(filename) if filename else None
            attachments.append({"filename": name or None, "content_type": ctype})
            continue
        if ctype == "text/plain":
            plain.append(_part_text(part, ctype, problems))
        elif ctype == "text/html":
            html.append(_part_text(part, ctype, problems))
        elif _safe(part.get_content_maintype, "") == "multipart":  # unrepaired: raw text
            plain.append(_part_text(part, ctype, problems))
    for part, _, _ in parts:  # after decoding: base64 defects are found while decoding
        ctype = _safe(part.get_content_type, "application/octet-stream")
        problems.extend(f"{ctype}: {type(defect).__name__}" for defect in part.defects)
    body = "\n\n".join(t for t in plain if t.strip()).strip()
    kind = "plain"
    if not body:
        body = "\n\n".join(_html_text(t, hidden) for t in html if t.strip()).strip()
        kind = "html"
    if len(body) > _MAX_TEXT_CHARS:
        problems.append(f"body cut at {_MAX_TEXT_CHARS} characters of {len(body)}")
        body = body[:_MAX_TEXT_CHARS]
    return body, kind if body else "none", attachments


def _walk(msg: Message) -> Iterator[tuple[Message, int, bool]]:
    """Every part in document order with its depth and whether it is a leaf.

    Iterative, unlike `Message.walk`; an attached message (message/rfc822) is a leaf: it
    is an attachment, not part of this message's body.
    """
    stack: list[tuple[Message, int]] = [(msg, 0)]
    while stack:
        part, depth = stack.pop()
        payload = part.get_payload() if part.is_multipart() else None
        if isinstance(payload, list) and depth <= _MAX_DEPTH and not _is_rfc822(part):
            yield part, depth, False
            children = [c for c in reversed(payload) if isinstance(c, Message)]
            stack.extend((child, depth + 1) for child in children)
        else:
            yield part, depth, True


def _is_rfc822(part: Message) -> bool:
    return _safe(part.get_content_type, "") == "message/rfc822"


def _part_text(part: Message, ctype: str, problems: list[str]) -> str:
    """A text part's content as str; unreadable (binary) content gives ""."""
    decoded = part.get_payload(decode=True)
    payload = decoded if isinstance(decoded, bytes) else b""
    if decoded is None:
        inner = part.get_payload()
        payload = inner.encode("utf-8", "surrogateescape") if isinstance(inner, str) else b""
    if ctype == "text/html" and len(payload) > _MAX_HTML_CHARS:
        problems.append(f"HTML body cut at {_MAX_HTML_CHARS} bytes of {len(payload)}")
        payload = payload[:_MAX_HTML_CHARS]
    charset = _safe(part.get_content_charset, None)
    text = decode_bytes(payload, charset, problems).replace("\r\n", "\n").replace("\r", "\n")
    text = text.replace("\x00", "")
    bad = sum(1 for ch in text if ch == "\ufffd" or (not ch.isprintable() and ch not in "\n\t"))
    if text and bad / len(text) > _MAX_NONPRINTABLE_RATIO:
        problems.append(f"{ctype} part is not readable text ({bad} of {len(text)} unprintable)")
        return ""
    return text


def decode_bytes(data: bytes, charset: str | None, problems: list[str]) -> str:
    """Decode mail bytes by their declared charset, forgiving the usual mislabels.

    Undeclared or ASCII-declared 8-bit text is tried as UTF-8, then Windows-1252; an
    unknown charset the same way. Bytes that do not fit a real declared charset are
    replaced (U+FFFD) and noted in `problems` as "decode: ..." rather than failing.
    """
    label = (charset or "").strip().lower()[:40]
    if label in _ASCII_LABELS or label in _LATIN1_LABELS:
        if label in _ASCII_LABELS:
            try:
                return data.decode("utf-8")
            except UnicodeDecodeError:
                pass
        try:
            return data.decode("cp1252")
        except UnicodeDecodeError:
            return data.decode("latin-1")  # cp1252 leaves five bytes undefined
    try:
        return data.decode(label)
    except LookupError:
        problems.append(f"decode: unknown charset {label!r}")
        return decode_bytes(data, None, problems)
    except UnicodeError as exc:
        start = getattr(exc, "start", 0)
        problems.append(f"decode: bytes that are not {label} (first at offset {start})")
        try:
            return data.decode(label, "replace")
        except (UnicodeError, LookupError):
            return data.decode("utf-8", "replace")


# --- headers ---------------------------------------------------------------------------


def _header_text(raw: str | None) -> str:
    """A header value as a reader sees it: unfolded, RFC 2047 words and 8-bit bytes decoded."""
    if not raw:
        return ""
    value = re.sub(r"\r?\n(?=[ \t])", "", str(raw)).strip()
    if _SURROGATES.search(value):  # raw 8-bit bytes in a header (old clients)
        value = decode_bytes(value.encode("ascii", "surrogateescape"), None, [])
    if "=?" in value:
        try:
            pieces = decode_header(value)
        except (ValueError, IndexError, LookupError, UnicodeError):
            return value
        value = "".join(
            chunk if isinstance(chunk, str) else decode_bytes(chunk, charset, [])
            for chunk, charset in pieces
        )
    return value.strip()


def _addresses(raw: str | None) -> list[str]:
    """`Name <addr>` (or `addr`) for each address in an address header, as written."""
    if not raw:
        return []
    value = re.sub(r"\r?\n(?=[ \t])", "", str(raw))
    if _SURROGATES.search(value):
        value = decode_bytes(value.encode("ascii", "surrogateescape"), None, [])
    found: list[str] = []
    for name, addr in getaddresses([value]):
        name, addr = _header_text(name), addr.strip()
        if addr and "@" in addr:
            found.append(f"{name} <{addr}>" if name else addr)
        elif name:
            found.append(name)
    return found


def _ids(raw: str | None) -> list[str]:
    """Message ids in a Message-ID / In-Reply-To / References header, without `<>`."""
    if not raw:
        return []
    value = _header_text(raw)
    ids = re.findall(r"<([^<>\s]+)>", value)
    return ids or [v for v in value.split() if "@" in v][:1]


def _date(raw: str | None) -> tuple[datetime, str] | None:
    if not raw:
        return None
    try:
        moment = parsedate_to_datetime(raw)
    except (ValueError, TypeError, IndexError, OverflowError):
        return None
    if moment.tzinfo is None:  # "-0000": UTC, local zone unknown (RFC 5322 3.3)
        moment = moment.replace(tzinfo=UTC)
    return moment, "date_header"


def _stable_hash(*parts: str | None) -> str:
    digest = hashlib.sha256("\x00".join(p or "" for p in parts).encode("utf-8")).hexdigest()
    return f"nomsgid-{digest[:20]}"


def normalize_subject(subject: str | None) -> str | None:
    """The thread's name: the subject without Re:/Fwd:/AW:/RES: prefixes."""
    if not subject:
        return None
    return _SUBJECT_PREFIX.sub("", subject).strip() or subject.strip()


def _safe(call: Any, default: Any) -> Any:
    """`call()`, or `default` when a stdlib header helper trips on a malformed value.

    `get_filename`, `get_param` and friends raise assorted undocumented errors on some
    broken RFC 2231 parameters and encodings; one odd part must not cost the message.
    """
    try:
        return call()
    except Exception:  # see the docstring: the types are not documented
        return default


# --- bodies ----------------------------------------------------------------------------


def trim_reply(text: str) -> str:
    """The new part of a reply: quoted text, attribution and signature cut away.

    Cuts at the first "On ... wrote:" / "Em ... escreveu:" line (also wrapped over up to
    three lines) or "-----Original Message-----" block, drops remaining `>` lines and the
    signature after the last "-- " line. If nothing is left, the text is returned whole.
    """
    kept = _new_part(text)
    cut = _signature_line(kept)
    if cut is not None:
        kept = kept[:cut]
    trimmed = _tidy("\n".join(kept))
    return trimmed or _tidy(text)


def _new_part(text: str) -> list[str]:
    """The lines a reply adds: up to its attribution or original-message block, without
    `>` lines."""
    lines = text.split("\n")
    cut = len(lines)
    for index, line in enumerate(lines):
        if _ORIGINAL_MESSAGE.match(line) or (
            _OUTLOOK_RULE.match(line)
            and index + 1 < len(lines)
            and _OUTLOOK_FROM.match(lines[index + 1])
        ):
            cut = index
            break
        if _ATTRIBUTION_START.match(line) and any(
            _ATTRIBUTION.match(" ".join(lines[index : index + span])) for span in (1, 2, 3)
        ):
            cut = index
            break
    return [line for line in lines[:cut] if not line.lstrip().startswith(">")]


def _signature_line(lines: list[str]) -> int | None:
    """Where the signature starts: the last "-- " line."""
    return next((i for i in range(len(lines) - 1, -1, -1) if lines[i] in ("-- ", "--")), None)


MAX_SIGNATURE_LINES = 6  # more is a footer or a disclaimer, not a sign-off


def signature(text: str) -> str | None:
    """The sender's own signature: the lines after the last "-- " line of the new part
    of a mail, when they are few enough to be one."""
    lines = _new_part(text)
    cut = _signature_line(lines)
    if cut is None:
        return None
    block = [line.strip() for line in lines[cut + 1 :] if line.strip()]
    return "\n".join(block) if 0 < len(block) <= MAX_SIGNATURE_LINES else None


def _tidy(text: str) -> str:
    lines = [line.rstrip() for line in text.split("\n")]
    return _BLANK_RUNS.sub("\n\n", "\n".join(lines)).strip()


def html_to_text(html: str) -> str:
    """Readable text of an HTML body: paragraphs kept, scripts, styles and hidden elements
    dropped."""
    return _html_text(html, [])


def _html_text(html: str, hidden: list[str]) -> str:
    """`html_to_text`, and the text of the hidden elements appended to `hidden`.

    Blockquotes come out as `> ` lines so `trim_reply` treats quoted HTML like quoted
    plain text. One iterative pass over the parsed tree: BeautifulSoup's own tree edits
    (insert_before, decompose) cost time proportional to nesting depth, which makes
    deeply nested markup quadratic, and recursion would exhaust the stack.
    """
    soup = BeautifulSoup(html, "html.parser")
    tokens: list[str] = []
    stack: list[tuple[PageElement, bool]] = [(soup, False)]
    while stack:
        node, leaving = stack.pop()
        if isinstance(node, NavigableString):
            if not isinstance(node, PreformattedString):  # comments, doctype, CDATA
                tokens.append(str(node))
            continue
        if not isinstance(node, Tag) or node.name in _DROPPED_TAGS:
            continue
        if not leaving and hidden_from_sight(node):
            hidden.append(node.get_text(" "))
            continue
        name = node.name
        if name == "br":
            tokens.append(_LINE)
        elif name in ("td", "th"):
            tokens.append(" ")
        elif name == "blockquote":
            tokens.append(_QUOTE_CLOSE if leaving else _QUOTE_OPEN)
        elif name in _PARAGRAPH_TAGS:
            tokens.append(_PARA)
        elif name in _LINE_TAGS:
            tokens.append(_LINE)
        if not leaving:
            stack.append((node, True))
            stack.extend((child, False) for child in reversed(node.contents))
    return _lines_from_marks(re.sub(r"\s+", " ", "".join(tokens)))


def _lines_from_marks(flat: str) -> str:
    """Turn the block marks of a flattened HTML text into lines, paragraphs and `> `."""
    lines: list[str] = []
    current: list[str] = []
    depth = 0
    blank_pending = False

    def flush(paragraph: bool) -> None:
        nonlocal blank_pending
        line = "".join(current).strip()
        current.clear()
        if line:
            if blank_pending and lines:
                lines.append("")
            lines.append(("> " * depth) + line)
            blank_pending = False
        blank_pending = blank_pending or paragraph

    for token in _HTML_MARKS.split(flat):
        if token == _LINE:
            flush(paragraph=False)
        elif token == _PARA:
            flush(paragraph=True)
        elif token in (_QUOTE_OPEN, _QUOTE_CLOSE):
            flush(paragraph=True)
            depth = max(0, depth + (1 if token == _QUOTE_OPEN else -1))
        else:
            current.append(token)
    flush(paragraph=False)
    return _tidy("\n".join(line.rstrip() for line in lines))


# --- items -----------------------------------------------------------------------------


def _items(mails: list[_Mail], kind: str) -> list[Item]:
    """Items for messages, long bodies split; a message id seen twice is read once.

    The same message often sits in a mailbox twice (Sent and a reply's copy); a different
    message reusing an id (broken clients) gets `~2`, `~3`... so no source_ref repeats.
    """
    seen: dict[str, set[str]] = {}
    items: list[Item] = []
    for mail in mails:
        digest = hashlib.sha256(mail.text.encode("utf-8")).hexdigest()
        versions = seen.setdefault(mail.key, set())
        if digest in versions:
            continue
        versions.add(digest)
        key = mail.key if len(versions) == 1 else f"{mail.key}~{len(versions)}"
        pieces = [mail.text] if len(mail.text) <= MAX_CHARS else split_long(mail.text)
        for ordinal, piece in enumerate(pieces):
            meta = dict(mail.meta)
            if len(pieces) > 1:
                meta["part"], meta["parts"] = ordinal, len(pieces)
            items.append(
                Item(
                    text=piece,
                    time=mail.time,
                    kind=kind,
                    document=f"mail:{mail.thread}",
                    locator=key if len(pieces) == 1 else f"{key}:{ordinal}",
                    author="unknown",
                    conversation=normalize_subject(mail.subject),
                    title=mail.subject,
                    sender=mail.sender,
                    meta=meta,
                )
            )
    return items
