"""Items to and from JSON for the parse worker's pipe.

JSON, not pickle: the worker handles hostile files, and a parent that unpickled
what a compromised worker sent could be made to run code.
"""

from __future__ import annotations

import json
import struct
from datetime import datetime
from typing import IO, Any

from connectors.base import Item

MAX_FRAME = 1 << 31


def item_to_dict(item: Item) -> dict[str, Any]:
    return {
        "text": item.text,
        "time": item.time.isoformat(),
        "kind": item.kind,
        "document": item.document,
        "locator": item.locator,
        "author": item.author,
        "conversation": item.conversation,
        "title": item.title,
        "sender": item.sender,
        "meta": dict(item.meta),
    }


def item_from_dict(data: dict[str, Any]) -> Item:
    time = datetime.fromisoformat(data["time"])
    if time.tzinfo is None:
        raise ValueError("item time has no time zone")
    if data["author"] not in ("self", "other", "unknown"):
        raise ValueError(f"bad author {data['author']!r}")
    return Item(
        text=str(data["text"]),
        time=time,
        kind=str(data["kind"]),
        document=str(data["document"]),
        locator=str(data["locator"]),
        author=data["author"],
        conversation=data.get("conversation"),
        title=data.get("title"),
        sender=data.get("sender"),
        meta=dict(data.get("meta") or {}),
    )


def write_frame(stream: IO[bytes], message: dict[str, Any]) -> None:
    # A path that is not UTF-8 holds lone surrogates (PEP 383): they cross as such, and
    # `read_frame` (json.loads of bytes decodes with surrogatepass) gets them back.
    body = json.dumps(message, ensure_ascii=False).encode("utf-8", "surrogatepass")
    stream.write(struct.pack(">I", len(body)) + body)
    stream.flush()


def read_frame(stream: IO[bytes]) -> dict[str, Any] | None:
    """The next message, or None at end of stream."""
    head = stream.read(4)
    if len(head) < 4:
        return None
    (size,) = struct.unpack(">I", head)
    body = stream.read(size)
    if len(body) != size:
        return None
    message = json.loads(body)
    if not isinstance(message, dict):
        raise ValueError("frame is not a JSON object")
    return message
