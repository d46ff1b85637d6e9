"""Whole-file JSON exports (ChatGPT, Claude, Telegram, Slack) read one way, with one set of errors.

Each of those connectors gets a file that should be one JSON document, and each must say
clearly why a file is not one, so the rules live here once:

- Strict decoding: UTF-8, with a byte-order mark tolerated (and UTF-16 when a BOM says so,
  as a Windows editor's re-save does). Nothing is guessed: an export read in the wrong
  encoding would be stored as mojibake for good.
- A NUL byte means a binary file (an image or archive renamed `.json`) and is reported
  as that, rather than as a bad byte at some offset.
- Depth limit: `json.loads` recurses once per nesting level, so hostile nesting raises
  `RecursionError` at the interpreter's recursion limit; that becomes a `ParseError`
  instead of a worker crash. So does an integer too long to convert.
- Clear `ParseError`s: the message names what is wrong, the line and column where JSON
  breaks, and what the file was expected to be ("...: not a Telegram export").

`first_object_keys` serves detection, which sees only a file's head and so cannot parse
it; `json_type` names a value's JSON type in messages ("'mapping' is a list").
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from connectors.base import Connector, Item, ParseError

__all__ = ["first_object_keys", "json_type", "load_json"]

_BOMS = ((b"\xef\xbb\xbf", "utf-8"), (b"\xff\xfe", "utf-16-le"), (b"\xfe\xff", "utf-16-be"))
_TYPE_NAMES = {dict: "an object", list: "a list", str: "a string", bool: "a boolean"}
# A whole JSON string (the colon after it marks a key), a bracket, or a lone quote: the
# start of a string the head cuts off. The string pattern is unrolled, so it is linear.
_JSON_TOKEN = re.compile(
    rb'(?P<string>"[^"\\]*(?:\\.[^"\\]*)*")(?P<colon>[ \t\r\n]*:)?|[{}\[\]]|"', re.DOTALL
)


def load_json(data: bytes, what: str) -> Any:
    """The JSON document in `data`, or `ParseError` saying why it is not a `what`.

    `what` names the expected file for messages, e.g. "Telegram export".
    """
    body, encoding = data, "utf-8"
    for bom, name in _BOMS:
        if data.startswith(bom):
            body, encoding = data[len(bom) :], name
            break
    if encoding == "utf-8" and b"\x00" in body:
        raise ParseError(f"binary file (it contains NUL bytes): not a {what}")
    try:
        text = body.decode(encoding)
    except UnicodeDecodeError as exc:
        offset = exc.start + len(data) - len(body)  # counted from the file's first byte
        raise ParseError(
            f"not valid {encoding.upper()} (bad byte at offset {offset}): not a {what}"
        ) from exc
    if not text.strip():
        raise ParseError(f"empty file: not a {what}")
    if "\x00" in text:
        raise ParseError(f"binary file (it contains NUL characters): not a {what}")
    try:
        return json.loads(text)
    except RecursionError as exc:
        raise ParseError(f"JSON nested too deeply to be a {what}") from exc
    except json.JSONDecodeError as exc:
        raise ParseError(
            f"malformed or truncated JSON (line {exc.lineno}, column {exc.colno}: {exc.msg}): "
            f"not a {what}"
        ) from exc
    except ValueError as exc:  # e.g. an integer literal of more than 4300 digits
        raise ParseError(f"malformed JSON ({exc}): not a {what}") from exc


def json_type(value: object) -> str:
    """The JSON type of a parsed value with its article, for messages: "a list", "null"."""
    if value is None:
        return "null"
    if isinstance(value, int | float) and not isinstance(value, bool):
        return "a number"
    return _TYPE_NAMES.get(type(value), type(value).__name__)


def first_object_keys(head: bytes) -> tuple[list[str], bool]:
    """The keys of the first object of a top-level JSON list, as far as `head` shows it,
    and whether that object ends inside `head`.

    Detection cannot parse a whole file; this scans just enough to tell a ChatGPT export
    (`mapping`) from a Claude one (`chat_messages`) or any other JSON list. Keys of nested
    objects are not counted, and a key only counts when a `:` follows it, so the same word
    inside a message's text does not. A regular expression steps from string to bracket,
    so a deep sniff of many megabytes costs milliseconds; a UTF-16 file (a Windows
    editor's re-save) is read through its byte-order mark.
    """
    text = _as_utf8(head).lstrip(b"\xef\xbb\xbf \t\r\n")
    if not text.startswith(b"["):
        return [], False
    start = len(text) - len(text[1:].lstrip(b" \t\r\n"))
    if not text.startswith(b"{", start):
        return [], False
    keys: list[str] = []
    depth = 1
    for match in _JSON_TOKEN.finditer(text, start + 1):
        token = match.group()
        if token == b'"':
            break  # a string that the head cuts off
        if token.startswith(b'"'):
            if depth == 1 and match.group("colon") is not None:
                keys.append(match.group("string")[1:-1].decode("utf-8", errors="ignore"))
        elif token in (b"{", b"["):
            depth += 1
        else:
            depth -= 1
            if depth == 0:
                return keys, True
    return keys, False


def _as_utf8(head: bytes) -> bytes:
    """`head` as UTF-8 bytes, re-encoded when a UTF-16 byte-order mark starts it."""
    for bom, name in _BOMS[1:]:
        if head.startswith(bom):
            return head[len(bom) :].decode(name, errors="ignore").encode("utf-8")
    return head


def conversation_items(
    reader: Connector,
    data: bytes,
    what: str,
    per_conversation: Callable[[Mapping[str, Any], int], Iterable[Item]],
) -> list[Item]:
    """The items of an AI-chat export: a JSON list of conversation objects (ChatGPT,
    Claude). A conversation listed twice yields its messages once."""
    if len(data) > reader.max_file_bytes:
        raise ParseError(
            f"file is {len(data)} bytes; {reader.name} reads at most {reader.max_file_bytes}"
        )
    conversations = load_json(data, f"{what} export")
    if not isinstance(conversations, list):
        raise ParseError(
            f"not a {what} export: expected a JSON list of conversations, got "
            f"{json_type(conversations)}"
        )
    items: list[Item] = []
    seen: set[str] = set()
    for index, conversation in enumerate(conversations):
        if not isinstance(conversation, dict):
            raise ParseError(
                f"conversation {index}: expected an object, got {json_type(conversation)}"
            )
        for item in per_conversation(conversation, index):
            if item.source_ref not in seen:
                seen.add(item.source_ref)
                items.append(item)
    return items
