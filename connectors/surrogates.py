"""Make text that holds lone surrogates storable: file names that are not UTF-8, broken JSON.

Linux file names are bytes. Python shows a byte that is not part of valid UTF-8 as a lone
surrogate (U+DC80-U+DCFF, PEP 383), and a JSON export can hold any lone surrogate (a
`"\\ud83d"` left by a cut emoji). Neither can be encoded as UTF-8, so writing one to
SQLite or to the worker's pipe raises `UnicodeEncodeError`, which used to abort a whole
batch. `valid_text` writes each one as a visible escape instead: an undecodable byte as
`\\xNN` (the form `ls -b` shows) and any other lone surrogate as `\\uXXXX`.

The result is deterministic, so a file keeps the same stored name on every run (it is
seen as unchanged, and as gone once deleted). A folder someone registers as a source is
turned back into its real name with `path_from_text` when it is read again.
"""

from __future__ import annotations

import dataclasses
import json
import os
import re
from pathlib import Path
from typing import Any

from connectors.base import Item

__all__ = ["path_from_text", "path_text", "valid_item", "valid_text"]

_SURROGATE = re.compile("[\ud800-\udfff]")
_ESCAPED_BYTE = re.compile(r"\\x([89a-f][0-9a-f])")


def _escape(match: re.Match[str]) -> str:
    code = ord(match.group())
    if 0xDC80 <= code <= 0xDCFF:  # surrogateescape: the byte it stands for
        return f"\\x{code - 0xDC00:02x}"
    return f"\\u{code:04x}"


def valid_text(text: str) -> str:
    """`text` with every lone surrogate written as a visible escape; valid UTF-8 as is."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return _SURROGATE.sub(_escape, text)
    return text


def path_text(path: str | os.PathLike[str]) -> str:
    """How a path is stored and shown: its name, with bytes that are not UTF-8 escaped."""
    return valid_text(os.fspath(path))


def path_from_text(text: str) -> Path:
    """The path `path_text` gave `text` for: the stored name if it exists as written,
    else with each `\\xNN` turned back into the byte it stands for."""
    path = Path(text)
    if path.exists() or not _ESCAPED_BYTE.search(text):
        return path
    return Path(_ESCAPED_BYTE.sub(lambda m: chr(0xDC00 + int(m.group(1), 16)), text))


def _valid_value(value: Any) -> Any:
    if isinstance(value, str):
        return valid_text(value)
    if isinstance(value, dict):
        return {valid_text(str(k)): _valid_value(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_valid_value(v) for v in value]
    return value


def valid_item(item: Item) -> Item:
    """`item` with valid text in every field, meta included; the same object if it had."""
    fields = (item.text, item.kind, item.document, item.locator)
    optional = (item.conversation, item.title, item.sender)
    try:
        for value in (*fields, *(v for v in optional if v is not None)):
            value.encode("utf-8")
        if item.meta:  # repr would escape a surrogate: JSON keeps it, as the store would
            json.dumps(dict(item.meta), ensure_ascii=False, default=str).encode("utf-8")
    except UnicodeEncodeError:
        return dataclasses.replace(
            item,
            text=valid_text(item.text),
            kind=valid_text(item.kind),
            document=valid_text(item.document),
            locator=valid_text(item.locator),
            conversation=None if item.conversation is None else valid_text(item.conversation),
            title=None if item.title is None else valid_text(item.title),
            sender=None if item.sender is None else valid_text(item.sender),
            meta=_valid_value(dict(item.meta)),
        )
    return item
