"""The generic chat format: JSON Lines, one message per line, for any chat we have no reader for.

Convert an export from any app to this and Second Self reads it like a native chat
(the same spec, with an example, is in docs/chat-jsonl.md).

Format (UTF-8, one JSON object per line, blank lines ignored)::

    {"time": "2024-03-02T18:04:05+00:00", "sender": "Ana Ribeiro",
     "text": "Dinner on Friday?", "conversation": "Ana Ribeiro", "id": "m-1041"}

- `time` (required, string): ISO 8601. With an offset or `Z` it is that instant; without
  one ("2024-03-02T18:04:05") it is local time on the machine that reads it.
- `sender` (required, non-empty string): the writer as the app names them: a display
  name, phone number, e-mail address or handle. Whether it is you is decided by your
  identity (`me identity add`), so write it exactly as the app shows it.
- `text` (required, string): the message. A line with empty text is skipped.
- `conversation` (required, non-empty string): the chat's name. Messages of one
  conversation belong together wherever they come from; one file may hold several.
- `id` (optional, non-empty string or integer): a stable message id, unique within its
  conversation. Give one whenever the app has it.
- `meta` (optional, object): anything else worth keeping (reply targets, attachments,
  edits, reactions); stored as is with the message. NaN and Infinity are not JSON.

Other keys are ignored. Each message is stored under `chat:<conversation>#<id>`, or, with
no `id`, `chat:<conversation>#<time>/<sender>/<n>` where the time is normalized (UTC
for times with an offset, as written for local ones) and n counts messages with the
same time and sender in that conversation, from 1. These refs depend only on the
conversation, so re-importing a longer export (under any file name) adds just the new
messages. Without ids, that holds as long as earlier lines are kept as they were.

A line that breaks these rules fails the whole file with a `ParseError` naming the line:
a half-read chat would look complete.
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, ClassVar

from connectors.base import Connector, Item, ParseError
from connectors.jsonfile import json_type
from connectors.textfile import aware

log = logging.getLogger(__name__)

REQUIRED = ("time", "sender", "text", "conversation")
# A chat message is at most a few KB; a longer "line" is a different kind of file.
MAX_LINE_BYTES = 1024 * 1024
_KEY_PATTERNS = tuple(re.compile(rb'"%s"\s*:' % key.encode()) for key in REQUIRED)


class ChatJsonlConnector(Connector):
    """Reads chats converted to the generic JSON Lines format (see the module docstring)."""

    name: ClassVar[str] = "chat_jsonl"
    kind: ClassVar[str] = "message"
    history: ClassVar[str] = "append"
    priority: ClassVar[int] = 10
    extensions: ClassVar[tuple[str, ...]] = (".jsonl",)
    max_file_bytes: ClassVar[int] = 256 * 1024 * 1024

    def detect(self, path: Path, head: bytes) -> bool:
        """The first line is a JSON object with the four required keys, whatever the name."""
        stripped = head.removeprefix(b"\xef\xbb\xbf").lstrip(b" \t\r\n")
        if not stripped.startswith(b"{"):
            return False
        line, newline, _ = stripped.partition(b"\n")
        if newline or len(head) < 4096:  # the whole first line is in view: parse it
            try:
                first = json.loads(line.decode("utf-8"))
            except (UnicodeDecodeError, ValueError, RecursionError):
                return False
            return isinstance(first, dict) and all(key in first for key in REQUIRED)
        # A first message longer than the head: a long `text` may hide the keys after it,
        # so three of the four are enough.
        return sum(pattern.search(line) is not None for pattern in _KEY_PATTERNS) >= 3

    def parse(self, path: Path, data: bytes, mtime: datetime) -> list[Item]:
        """One item per line with text; an empty file gives none."""
        items: list[Item] = []
        first_line: dict[tuple[str, str], tuple[int, str]] = {}  # (conv, id) -> line, text
        repeats: dict[tuple[str, str, str], int] = {}
        for number, raw in enumerate(data.removeprefix(b"\xef\xbb\xbf").split(b"\n"), start=1):
            if not raw.strip():
                continue
            record = _record(raw, number)
            message = _message(record, number)
            if message is None:
                continue
            time, time_key, sender, text, conversation, message_id, meta = message
            if message_id is None:
                key = (conversation, time_key, sender)
                repeats[key] = repeats.get(key, 0) + 1
                locator = f"{time_key}/{sender}/{repeats[key]}"
            else:
                locator = message_id
                earlier = first_line.get((conversation, message_id))
                if earlier is not None:
                    if earlier[1] == text:  # the same message twice (overlapping exports)
                        continue
                    raise ParseError(
                        f"line {number}: id {message_id!r} of conversation {conversation!r} "
                        f"was already used on line {earlier[0]} for another text"
                    )
                first_line[(conversation, message_id)] = (number, text)
            items.append(
                Item(
                    text=text,
                    time=time,
                    kind=self.kind,
                    document=f"chat:{conversation}",
                    locator=locator,
                    conversation=conversation,
                    sender=sender,
                    meta=meta,
                )
            )
        log.debug("%s: %d messages", path.name, len(items))
        return items


def _record(raw: bytes, number: int) -> dict[str, Any]:
    if len(raw) > MAX_LINE_BYTES:
        raise ParseError(
            f"line {number} is {len(raw)} bytes long; a chat message over {MAX_LINE_BYTES} "
            "bytes means this is not a chat JSONL file"
        )
    try:
        line = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ParseError(
            f"line {number}: not valid UTF-8 (bad byte at offset {exc.start})"
        ) from exc
    try:
        record = json.loads(line, parse_constant=_reject_constant)
    except json.JSONDecodeError as exc:
        raise ParseError(f"line {number}: not valid JSON: {exc.msg} (column {exc.colno})") from exc
    except RecursionError as exc:
        raise ParseError(f"line {number}: JSON nested too deeply") from exc
    except ValueError as exc:  # NaN/Infinity, or an integer of more than 4300 digits
        raise ParseError(f"line {number}: {exc}") from exc
    if not isinstance(record, dict):
        raise ParseError(f"line {number}: expected a JSON object, got {json_type(record)}")
    return record


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a JSON value")


def _message(
    record: Mapping[str, Any], number: int
) -> tuple[datetime, str, str, str, str, str | None, dict[str, Any]] | None:
    """The checked fields of one line, or None for a line with empty text."""
    missing = [key for key in REQUIRED if key not in record]
    if missing:
        raise ParseError(f"line {number}: missing {', '.join(repr(k) for k in missing)}")
    for key in REQUIRED:
        if not isinstance(record[key], str):
            raise ParseError(
                f"line {number}: {key!r} must be a string, got {json_type(record[key])}"
            )
    sender, conversation = record["sender"].strip(), record["conversation"].strip()
    for key, value in (("sender", sender), ("conversation", conversation)):
        if not value:
            raise ParseError(f"line {number}: {key!r} is empty")
    time, time_key = _time(record["time"], number)
    message_id = _id(record.get("id"), number)
    meta = record.get("meta", {})
    if meta is None:
        meta = {}
    if not isinstance(meta, dict):
        raise ParseError(f"line {number}: 'meta' must be an object, got {json_type(meta)}")
    text = record["text"].replace("\r\n", "\n").strip()
    if not text:
        return None
    return time, time_key, sender, text, conversation, message_id, meta


def _time(value: str, number: int) -> tuple[datetime, str]:
    """The aware time and its normalized form for locators (stable across machines)."""
    try:
        moment = datetime.fromisoformat(value.strip())
    except ValueError as exc:
        raise ParseError(f"line {number}: 'time' {value[:40]!r} is not an ISO 8601 time") from exc
    if moment.tzinfo is None or moment.utcoffset() is None:
        return aware(moment), moment.isoformat()
    return moment, moment.astimezone(UTC).isoformat()


def _id(value: object, number: int) -> str | None:
    if value is None:
        return None
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    if isinstance(value, str) and value.strip():
        return value.strip()
    raise ParseError(f"line {number}: 'id' must be a non-empty string or an integer")
