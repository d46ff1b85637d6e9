"""Decoding and naming helpers shared by connectors that read plain-text-like files.

Notes live for decades: old ones were saved as cp1252 by Windows editors, some as UTF-16
by Notepad, and a stray binary file sometimes carries a `.md` name. Every text connector
should treat those cases the same way, so the rules live here once.
"""

from __future__ import annotations

import logging
import re
from datetime import UTC, date, datetime
from pathlib import PurePath

from connectors.base import ParseError

__all__ = ["aware", "date_from_filename", "decode_text", "file_time", "local_midnight"]

log = logging.getLogger(__name__)

_BOMS: tuple[tuple[bytes, str], ...] = (
    (b"\xef\xbb\xbf", "utf-8"),
    (b"\xff\xfe", "utf-16-le"),
    (b"\xfe\xff", "utf-16-be"),
)

# Above this share of non-printable characters a "text" is really binary data that
# happened to decode (a little slack keeps text with a few stray control codes).
_MAX_NONPRINTABLE_RATIO = 0.3
_WHITESPACE = frozenset("\t\n\r\f\v")
# C0 controls other than ordinary whitespace: cp1252 maps every byte, so without this
# check any non-UTF-8 binary would "decode" and be indexed as text.
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0e-\x1f\x7f]")

# Separator captured once and reused, so 2024-03_14 is not taken for a date.
_DATE_IN_NAME = re.compile(r"(?<!\d)(\d{4})([-_.]?)(\d{2})\2(\d{2})(?!\d)")
# Long digit runs in names are often ids or counters; outside this range a match is far
# more likely an id (e.g. 10000101) than a date someone named a note after.
_YEARS = range(1900, 2200)


def decode_text(data: bytes) -> str:
    """Decode a text file's bytes to a str with `\\n` newlines, or raise `ParseError`.

    UTF-8 (BOM optional) and BOM-marked UTF-16 are read as such; NUL bytes or mostly
    non-printable content mean binary; invalid UTF-8 is retried as cp1252 because legacy
    Windows notes exist, and accepted only if that yields no control characters.
    """
    for bom, encoding in _BOMS:
        if data.startswith(bom):
            text = _strict_decode(data[len(bom) :], encoding)
            break
    else:
        if b"\x00" in data:
            raise ParseError("binary file, not text: it contains NUL bytes")
        text = _decode_unmarked(data)
    if "\x00" in text:
        raise ParseError("binary file, not text: it contains NUL characters")
    _reject_mostly_nonprintable(text)
    return text.replace("\r\n", "\n").replace("\r", "\n")


def _strict_decode(data: bytes, encoding: str) -> str:
    try:
        return data.decode(encoding)
    except UnicodeDecodeError as exc:
        raise ParseError(
            f"file starts with a {encoding} byte-order mark but is not valid {encoding} "
            f"(byte {exc.start})"
        ) from exc


def _decode_unmarked(data: bytes) -> str:
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as utf8_error:
        try:
            text = data.decode("cp1252")
        except UnicodeDecodeError:
            text = None
        if text is None or _CONTROL.search(text):
            raise ParseError(
                f"not valid UTF-8 (bad byte at offset {utf8_error.start}) and not legacy "
                "cp1252 text either; re-save the file as UTF-8"
            ) from utf8_error
        log.debug("decoded a non-UTF-8 file as cp1252 (legacy encoding)")
        return text


def _reject_mostly_nonprintable(text: str) -> None:
    if not text:
        return
    bad = 0
    for line in text.split("\n"):  # str.isprintable runs in C: only odd lines are walked
        if not line.isprintable():
            bad += sum(1 for ch in line if not ch.isprintable() and ch not in _WHITESPACE)
    if bad / len(text) > _MAX_NONPRINTABLE_RATIO:
        raise ParseError(
            f"binary file, not text: {bad} of {len(text)} characters are not printable"
        )


def date_from_filename(name: str) -> date | None:
    """The first real date written in a file name's stem (daily notes: `2024-03-14.md`).

    Accepts YYYY-MM-DD, YYYY_MM_DD, YYYY.MM.DD and YYYYMMDD anywhere in the stem and
    skips digit runs that are not a calendar date (e.g. `2024-13-40`).
    """
    pure = PurePath(name)
    # Only drop a real extension: the stem of `2024.03.14` alone would be `2024.03`.
    stem = pure.stem if re.search(r"[^\W\d_]", pure.suffix) else pure.name
    for match in _DATE_IN_NAME.finditer(stem):
        year, month, day = int(match.group(1)), int(match.group(3)), int(match.group(4))
        if year not in _YEARS:
            continue
        try:
            return date(year, month, day)
        except ValueError:
            continue
    return None


def aware(moment: datetime) -> datetime:
    """`moment` with a time zone; naive values are taken as local time.

    Items must carry aware times so that notes, chats and mail from different clocks sort
    on one timeline.
    """
    if moment.tzinfo is not None and moment.utcoffset() is not None:
        return moment
    try:
        return moment.astimezone()
    except (OverflowError, OSError, ValueError):  # platforms without pre-1970 local time
        return moment.replace(tzinfo=UTC)


def local_midnight(day: date) -> datetime:
    """The start of `day` in local time: a bare date says nothing finer."""
    return aware(datetime(day.year, day.month, day.day))


def file_time(name: str, mtime: datetime) -> tuple[datetime, str]:
    """When a file's content happened, and how we know: its name's date, else `mtime`.

    A daily note's name outlives copies and syncs that reset the modification time, so it
    wins; the second value is the `date_source` recorded in item meta.
    """
    day = date_from_filename(name)
    if day is not None:
        return local_midnight(day), "file_name"
    return aware(mtime), "mtime"
