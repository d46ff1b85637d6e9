"""ChatGPT's data export (`conversations.json`): the branch of each chat the user last saw.

A ChatGPT conversation is a tree: regenerating an answer or editing a question adds a
sibling branch, and `current_node` names the leaf the user last looked at. Only the
path from that leaf back to the root is kept, so a regenerated draft the user threw away
is not remembered as something that was said. System and tool turns, hidden turns
(custom instructions, memory updates) and model reasoning are skipped.

Messages are keyed by their own ids under `chatgpt:<conversation id>`, never by the file
name, so a later, longer export maps onto the same source refs and adds only new turns.
The conversation title is kept out of the content hash (it lives in `conversation` and
meta) because renaming a chat must not make every message look new.

`split_message` and the export size bound are shared with the Claude export, which has
the same shape: one JSON list of conversations.
"""

from __future__ import annotations

import logging
import math
import re
from collections.abc import Iterator, Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, ClassVar

from connectors.base import Author, Connector, Item, ParseError
from connectors.chunking import MAX_CHARS, chunk_text
from connectors.jsonfile import conversation_items, first_object_keys, json_type
from connectors.textfile import aware

log = logging.getLogger(__name__)

__all__ = ["ChatGPTConnector", "split_message"]

# A heavy user's export is a few hundred MB; past this, parsing it whole in the worker's
# memory cap is hopeless, and saying so beats a crash.
MAX_EXPORT_BYTES = 384 * 1024 * 1024
SENDER = "ChatGPT"
_ROLES: dict[str, Author] = {"user": "self", "assistant": "other"}
# Content that is never shown as a turn of the conversation: custom instructions, the
# model's memory, its reasoning and the "Thought for 12 s" recap.
_NOT_SHOWN = frozenset(
    {"user_editable_context", "model_editable_context", "thoughts", "reasoning_recap"}
)
# Citation marks the web tool leaves in answers: private-use brackets (newer exports) and
# 【12†source】 (older ones). They mean nothing without the tool's hidden results.
_CITATION = re.compile(
    r"[ \t]*(?:\ue200[^\ue200\ue201]{0,200}\ue201|【\d+(?::\d+)?†[^】]{0,200}】)"
)


class ChatGPTConnector(Connector):
    """Reads the `conversations.json` of a ChatGPT data export ("Export data" in settings)."""

    name: ClassVar[str] = "chatgpt"
    kind: ClassVar[str] = "message"
    history: ClassVar[str] = "append"
    priority: ClassVar[int] = 20
    extensions: ClassVar[tuple[str, ...]] = (".json",)
    max_file_bytes: ClassVar[int] = MAX_EXPORT_BYTES
    export_names: ClassVar[frozenset[str]] = frozenset({"conversations.json"})

    def detect(self, path: Path, head: bytes) -> bool:
        """A JSON list whose first object has a `mapping`, whatever the file is called."""
        return "mapping" in first_object_keys(head)[0]

    def parse(self, path: Path, data: bytes, mtime: datetime) -> list[Item]:
        """One item per shown turn of each conversation's active branch; `[]` gives none."""
        items = conversation_items(
            self, data, "ChatGPT", lambda conv, i: _conversation_items(conv, i, mtime)
        )
        log.debug("%s: %d messages", path.name, len(items))
        return items


def _conversation_items(conv: Mapping[str, Any], index: int, mtime: datetime) -> Iterator[Item]:
    title = conv.get("title") if isinstance(conv.get("title"), str) else None
    where = f"conversation {index}" + (f" ({title!r})" if title else "")
    mapping = conv.get("mapping")
    if not isinstance(mapping, dict):
        raise ParseError(f"{where}: 'mapping' is {json_type(mapping)}, not an object")
    branch = active_branch(mapping, conv.get("current_node"), where)
    conv_id = _conversation_id(conv, branch)
    if conv_id is None:
        return  # no id and no message: nothing to remember
    started = _epoch(conv.get("create_time"), f"{where}: create_time")
    updated = _epoch(conv.get("update_time"), f"{where}: update_time")
    last_time = started or updated or aware(mtime)
    for node_id, node in branch:
        message = node.get("message")
        if message is None:
            continue
        if not isinstance(message, dict):
            raise ParseError(f"{where}: message of node {node_id!r} is {json_type(message)}")
        message_id = message["id"] if _is_text(message.get("id")) else node_id
        moment = _epoch(message.get("create_time"), f"{where}: message {message_id}")
        estimated = moment is None
        # A missing time borrows the last known one on the branch, so re-imports agree.
        time = last_time if moment is None else moment
        last_time = time
        turn = _turn(message)
        if turn is None:
            continue
        author, text, meta = turn
        meta = {"conversation_id": conv_id, **meta}
        if title:
            meta["conversation_title"] = title
        siblings = _siblings(mapping, node)
        if siblings > 1:
            meta["siblings"] = siblings  # regenerated or edited: other versions exist
        if estimated:
            meta["time_estimated"] = True
        if author == "other":
            meta["ai_assistant"] = True  # its "I" is a program, never a person
        for locator, piece, part_meta in split_message(message_id, text):
            yield Item(
                text=piece,
                time=time,
                kind="message",
                document=f"chatgpt:{conv_id}",
                locator=locator,
                author=author,
                conversation=title,
                sender=SENDER if author == "other" else None,
                meta={**meta, **part_meta},
            )


def active_branch(
    mapping: Mapping[str, Any], current: object, where: str
) -> list[tuple[str, Mapping[str, Any]]]:
    """(node id, node) from the root down to `current`, the leaf the user last saw.

    Without a usable `current_node` the newest branch is taken: from the root, always the
    last child, which is where ChatGPT puts a regenerated answer.
    """
    leaf = current if isinstance(current, str) and current in mapping else _last_leaf(mapping)
    chain: list[tuple[str, Mapping[str, Any]]] = []
    seen: set[str] = set()
    node_id: object = leaf
    while isinstance(node_id, str) and node_id in mapping:
        if node_id in seen:
            raise ParseError(f"{where}: the parent links of node {node_id!r} form a cycle")
        seen.add(node_id)
        node = mapping[node_id]
        if not isinstance(node, dict):
            raise ParseError(f"{where}: node {node_id!r} is {json_type(node)}, not an object")
        chain.append((node_id, node))
        node_id = node.get("parent")
    chain.reverse()
    return chain


def _last_leaf(mapping: Mapping[str, Any]) -> str | None:
    roots = [
        key
        for key, node in mapping.items()
        if isinstance(node, dict) and node.get("parent") not in mapping
    ]
    if not roots:
        return None
    node_id, seen = roots[0], {roots[0]}
    while True:
        node = mapping.get(node_id)
        children = node.get("children") if isinstance(node, dict) else None
        if not isinstance(children, list):
            return node_id
        known = [c for c in children if isinstance(c, str) and c in mapping and c not in seen]
        if not known:
            return node_id
        node_id = known[-1]
        seen.add(node_id)


def _siblings(mapping: Mapping[str, Any], node: Mapping[str, Any]) -> int:
    parent_id = node.get("parent")
    parent = mapping.get(parent_id) if isinstance(parent_id, str) else None
    children = parent.get("children") if isinstance(parent, dict) else None
    return len(children) if isinstance(children, list) else 1


def _conversation_id(conv: Mapping[str, Any], branch: list[tuple[str, Any]]) -> str | None:
    """The export's id; else the first message's id, which no later export changes."""
    for key in ("conversation_id", "id"):
        value = conv.get(key)
        if isinstance(value, str) and value.strip():
            return value.strip()
    for node_id, node in branch:
        if isinstance(node.get("message"), dict):
            return node_id
    return None


def _turn(message: Mapping[str, Any]) -> tuple[Author, str, dict[str, Any]] | None:
    """(author, text, meta) of a turn the user saw, or None for one to skip."""
    author_info = message.get("author")
    role = author_info.get("role") if isinstance(author_info, dict) else None
    author = _ROLES.get(role) if isinstance(role, str) else None
    if author is None:  # system, tool, or something newer
        return None
    metadata = message.get("metadata")
    metadata = metadata if isinstance(metadata, dict) else {}
    if metadata.get("is_visually_hidden_from_conversation"):
        return None
    content = message.get("content")
    if not isinstance(content, dict):
        return None
    ctype = content.get("content_type")
    recipient = message.get("recipient")
    # A text turn addressed to a tool (e.g. "bio", the memory) is not shown as said.
    if ctype != "code" and isinstance(recipient, str) and recipient != "all":
        return None
    text, meta = content_text(content)
    text = _CITATION.sub("", text).strip()
    if not text:
        return None
    if isinstance(metadata.get("model_slug"), str):
        meta["model"] = metadata["model_slug"]
    attachments = metadata.get("attachments")
    if isinstance(attachments, list):
        names = [a["name"] for a in attachments if isinstance(a, dict) and _is_text(a.get("name"))]
        if names:
            meta["attachments"] = names
    if ctype == "code" and isinstance(recipient, str) and recipient != "all":
        meta["recipient"] = recipient
    return author, text, meta


def content_text(content: Mapping[str, Any]) -> tuple[str, dict[str, Any]]:
    """The readable text of a message's content and what it says about non-text parts."""
    ctype = content.get("content_type")
    meta: dict[str, Any] = {}
    if isinstance(ctype, str) and ctype != "text":
        meta["content_type"] = ctype
    if ctype in _NOT_SHOWN:
        return "", meta
    if ctype == "code":
        if _is_text(content.get("language")) and content["language"] != "unknown":
            meta["code_language"] = content["language"]
        return (content["text"] if _is_text(content.get("text")) else ""), meta
    parts = content.get("parts")
    if isinstance(parts, list):
        return _parts_text(parts, meta), meta
    for key in ("text", "result"):  # execution output, quotes, newer types
        if _is_text(content.get(key)):
            return content[key], meta
    log.debug("skipping a message with unreadable content type %r", ctype)
    return "", meta


def _parts_text(parts: list[Any], meta: dict[str, Any]) -> str:
    texts: list[str] = []
    images = 0
    for part in parts:
        if isinstance(part, str):
            texts.append(part)
            continue
        if not isinstance(part, dict):
            continue
        ptype = part.get("content_type")
        ptype = ptype if isinstance(ptype, str) else ""
        if "image" in ptype:
            images += 1
            texts.append("[image]")
        elif _is_text(part.get("text")):  # audio transcriptions and the like
            texts.append(part["text"])
        elif "audio" in ptype:
            meta["audio"] = True
    if images:
        meta["images"] = images
    return "\n\n".join(t.strip() for t in texts if t.strip())


def split_message(message_id: str, text: str) -> list[tuple[str, str, dict[str, Any]]]:
    """(locator, text, meta) pieces: the message whole, or cut into embedding-sized parts.

    A message under the chunk bound keeps its bare id as locator; a longer one is cut at
    paragraphs and sentences into `<id>:<k>` pieces. Messages never change once sent, so
    the cut, and with it every ref and hash, is the same in every export.
    """
    if len(text) <= MAX_CHARS:
        return [(message_id, text, {})]
    pieces = chunk_text(text)
    return [
        (f"{message_id}:{k}", piece, {"part": k, "parts": len(pieces)})
        for k, piece in enumerate(pieces)
    ]


def _epoch(value: object, what: str) -> datetime | None:
    """A Unix time (UTC) as an aware datetime; None when the export left it out."""
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ParseError(f"{what}: expected a Unix time, got {json_type(value)}")
    try:
        if not math.isfinite(value):
            raise ValueError(value)
        return datetime.fromtimestamp(value, UTC)
    except (OverflowError, OSError, ValueError) as exc:
        raise ParseError(f"{what}: {value!r} is not a usable Unix time") from exc


def _is_text(value: object) -> bool:
    return isinstance(value, str) and bool(value.strip())
