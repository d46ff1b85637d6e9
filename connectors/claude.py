"""Claude.ai's data export (`conversations.json`): every human and assistant turn.

The export is a JSON list of conversations, each with its `chat_messages` in order.
A turn's readable text is its `text` content blocks (tool calls, tool results and
extended thinking are not what was said to the user); attachments and uploaded files
are named in meta. Messages are keyed by their own uuids under `claude:<conversation
uuid>`, so a later, longer export adds only the new turns, whatever the file is called.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator, Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, ClassVar

from connectors.base import Author, Connector, Item, ParseError
from connectors.chatgpt import MAX_EXPORT_BYTES, split_message
from connectors.jsonfile import conversation_items, first_object_keys, json_type
from connectors.textfile import aware

log = logging.getLogger(__name__)

SENDER = "Claude"
_ROLES: dict[str, Author] = {"human": "self", "assistant": "other"}
# Keys a conversation object of the export has before `chat_messages`: when a long
# summary pushes `chat_messages` out of the detection head, these still identify it.
_LEADING_KEYS = frozenset(
    {"uuid", "name", "summary", "created_at", "updated_at", "account", "settings", "is_starred"}
)


class ClaudeConnector(Connector):
    """Reads the `conversations.json` of a Claude.ai data export."""

    name: ClassVar[str] = "claude"
    kind: ClassVar[str] = "message"
    history: ClassVar[str] = "append"
    priority: ClassVar[int] = 20
    extensions: ClassVar[tuple[str, ...]] = (".json",)
    max_file_bytes: ClassVar[int] = MAX_EXPORT_BYTES
    export_names: ClassVar[frozenset[str]] = frozenset({"conversations.json"})

    def detect(self, path: Path, head: bytes) -> bool:
        """A JSON list whose first object has `chat_messages`, whatever the file is called."""
        keys, finished = first_object_keys(head)
        if "chat_messages" in keys:
            return True
        return not finished and {"uuid", "summary"} <= set(keys) <= _LEADING_KEYS

    def parse(self, path: Path, data: bytes, mtime: datetime) -> list[Item]:
        """One item per human or assistant turn with text; `[]` gives none."""
        items = conversation_items(
            self, data, "Claude", lambda conv, i: _conversation_items(conv, i, mtime)
        )
        log.debug("%s: %d messages", path.name, len(items))
        return items


def _conversation_items(conv: Mapping[str, Any], index: int, mtime: datetime) -> Iterator[Item]:
    title = conv["name"].strip() if isinstance(conv.get("name"), str) else ""
    where = f"conversation {index}" + (f" ({title!r})" if title else "")
    messages = conv.get("chat_messages")
    if not isinstance(messages, list):
        raise ParseError(f"{where}: 'chat_messages' is {json_type(messages)}, not a list")
    for position, message in enumerate(messages):
        if not isinstance(message, dict):
            raise ParseError(f"{where}: message {position} is {json_type(message)}, not an object")
    conv_id = _conversation_id(conv, messages)
    if conv_id is None:
        return
    last_time = (
        _iso(conv.get("created_at"), f"{where}: created_at")
        or _iso(conv.get("updated_at"), f"{where}: updated_at")
        or aware(mtime)
    )
    repeats: dict[tuple[str, str], int] = {}
    for position, message in enumerate(messages):
        moment = _iso(message.get("created_at"), f"{where}: message {position} created_at")
        time = last_time if moment is None else moment  # re-imports must agree
        last_time = time
        sender = message.get("sender")
        author = _ROLES.get(sender) if isinstance(sender, str) else None
        if author is None:
            continue
        text, meta = _message_text(message)
        if not text:
            continue
        meta = {"conversation_id": conv_id, **meta}
        if title:
            meta["conversation_title"] = title
        if moment is None:
            meta["time_estimated"] = True
        if author == "other":
            meta["ai_assistant"] = True  # its "I" is a program, never a person
        message_id = _message_id(message, time, author, repeats)
        for locator, piece, part_meta in split_message(message_id, text):
            yield Item(
                text=piece,
                time=time,
                kind="message",
                document=f"claude:{conv_id}",
                locator=locator,
                author=author,
                conversation=title or None,
                sender=SENDER if author == "other" else None,
                meta={**meta, **part_meta},
            )


def _conversation_id(conv: Mapping[str, Any], messages: list[Any]) -> str | None:
    """The export's uuid; else the first message's, which no later export changes."""
    for value in (conv.get("uuid"), *(m.get("uuid") for m in messages[:1])):
        if isinstance(value, str) and value.strip():
            return value.strip()
    return None


def _message_id(
    message: Mapping[str, Any], time: datetime, author: str, repeats: dict[tuple[str, str], int]
) -> str:
    """The message's uuid; else `<UTC time>/<author>/<n>`, n counting repeats of the pair."""
    uuid = message.get("uuid")
    if isinstance(uuid, str) and uuid.strip():
        return uuid.strip()
    key = (time.astimezone(UTC).isoformat(), author)
    repeats[key] = repeats.get(key, 0) + 1
    return f"{key[0]}/{key[1]}/{repeats[key]}"


def _message_text(message: Mapping[str, Any]) -> tuple[str, dict[str, Any]]:
    """The turn's text blocks (or its plain `text`), plus attachment and file names."""
    meta: dict[str, Any] = {}
    texts: list[str] = []
    tools: list[str] = []
    content = message.get("content")
    if isinstance(content, list):
        for block in content:
            if not isinstance(block, dict):
                continue
            if block.get("type") == "text" and isinstance(block.get("text"), str):
                texts.append(block["text"].strip())
            elif block.get("type") == "tool_use" and isinstance(block.get("name"), str):
                tools.append(block["name"])
    text = "\n\n".join(t for t in texts if t)
    if not text and isinstance(message.get("text"), str):
        text = message["text"].strip()
    if tools:
        meta["tools"] = list(dict.fromkeys(tools))
    for key in ("attachments", "files"):
        names = _file_names(message.get(key))
        if names:
            meta[key] = names
    if not text and (meta.get("attachments") or meta.get("files")):
        # A bare upload is still a turn: say what was sent.
        names = [*meta.get("attachments", []), *meta.get("files", [])]
        text = f"[attached: {', '.join(names)}]"
    return text, meta


def _file_names(value: object) -> list[str]:
    if not isinstance(value, list):
        return []
    names = (v.get("file_name") for v in value if isinstance(v, dict))
    return [n for n in names if isinstance(n, str) and n.strip()]


def _iso(value: object, what: str) -> datetime | None:
    """An ISO 8601 time; Claude writes UTC, so a bare one is taken as UTC."""
    if value is None or value == "":
        return None
    if not isinstance(value, str):
        raise ParseError(f"{what}: expected an ISO 8601 time, got {json_type(value)}")
    try:
        moment = datetime.fromisoformat(value.strip())
    except ValueError as exc:
        raise ParseError(f"{what}: {value[:40]!r} is not an ISO 8601 time") from exc
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)
