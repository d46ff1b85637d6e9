"""Telegram Desktop's machine-readable export (`result.json`): one chat or a whole account.

"Export chat history" writes one chat, `{"name", "type", "id", "messages": [...]}`;
"Export Telegram data" writes the account, `{"personal_information", "chats": {"list"},
"left_chats": {"list"}, ...}`. Every message carries an integer id unique in its chat, so
the document is `telegram:<chat id>` and the locator the message id: a later, longer
export of the same chat, in whatever folder, maps onto the messages already stored.

Only the account export says who "me" is (`personal_information.user_id`); there the
user's own messages are author "self". Everywhere else the author stays "unknown" and
`sender` (the display name Telegram shows) is resolved by ingest against the identity.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path, PurePosixPath
from typing import Any, ClassVar, TypeVar

from connectors.base import Author, Connector, Item, ParseError
from connectors.chunking import MAX_CHARS, split_long
from connectors.jsonfile import json_type, load_json
from connectors.textfile import aware

log = logging.getLogger(__name__)

CHAT_TYPES = (
    "personal_chat",
    "bot_chat",
    "private_group",
    "private_supergroup",
    "public_supergroup",
    "private_channel",
    "public_channel",
    "saved_messages",
)
# What Telegram writes in place of a media path when media were not exported.
_NOT_INCLUDED = "(File not included"
_MEDIA_LABELS = {
    "voice_message": "voice message",
    "video_message": "video message",
    "video_file": "video",
    "animation": "GIF",
    "audio_file": "audio",
}

_OBJECT_START = re.compile(r"\A\ufeff?\s*\{")
_MESSAGES = re.compile(r'"messages"\s*:\s*\[')
_CHAT_TYPE = re.compile(r'"type"\s*:\s*"(?:{})"'.format("|".join(CHAT_TYPES)))
_MESSAGE_KEYS = re.compile(
    r'"date_unixtime"\s*:\s*"\d+"|"from_id"\s*:\s*"(?:user|channel|chat)\d+"'
)
_ACCOUNT = re.compile(r'"personal_information"\s*:\s*\{')
_ACCOUNT_KEYS = re.compile(r'"(?:user_id|phone_number)"\s*:|"chats"\s*:\s*\{')
# The fixed English preamble Telegram Desktop puts first in an account export.
_ABOUT = re.compile(r'\A\ufeff?\s*\{\s*"about"\s*:\s*"Here is the data you requested')
_UNIX = re.compile(r"-?\d{1,12}")

T = TypeVar("T")


@dataclass(frozen=True)
class _Chat:
    """What every message of one chat shares."""

    id: int
    type: str
    conversation: str
    self_id: str | None  # "user<id>" of the account owner, when the export names them


class TelegramConnector(Connector):
    """Reads Telegram Desktop JSON exports, single-chat or full-account.

    The whole file is parsed at once with `json.loads`: an account export is one JSON
    document. Python objects take about four to eight times the file's size, so files
    over `max_file_bytes` are refused by ingest rather than let to exhaust the worker's
    memory cap; export big accounts chat by chat.
    """

    name: ClassVar[str] = "telegram"
    kind: ClassVar[str] = "message"
    history: ClassVar[str] = "append"
    priority: ClassVar[int] = 20  # a .json that is a Telegram export, before generic readers
    extensions: ClassVar[tuple[str, ...]] = (".json",)
    max_file_bytes: ClassVar[int] = 100 * 1024 * 1024
    export_names: ClassVar[frozenset[str]] = frozenset({"result.json"})

    def detect(self, path: Path, head: bytes) -> bool:
        """A JSON object whose head shows a Telegram chat or account export, any file name."""
        text = head.decode("utf-8", errors="ignore")
        if not _OBJECT_START.match(text):
            return False
        if _MESSAGES.search(text) and (_CHAT_TYPE.search(text) or _MESSAGE_KEYS.search(text)):
            return True
        if _ACCOUNT.search(text) and _ACCOUNT_KEYS.search(text):
            return True
        return bool(_ABOUT.match(text))

    def parse(self, path: Path, data: bytes, mtime: datetime) -> list[Item]:
        """One item per message (or per piece of a very long one); service events skipped."""
        root = load_json(data, "Telegram export")
        if not isinstance(root, dict):
            raise ParseError(
                f"not a Telegram export: the top level is {json_type(root)}, expected an object"
            )
        self_id = _self_id(root)
        items: list[Item] = []
        for chat in _chats(root):
            items.extend(self._chat_items(chat, self_id))
        log.debug("%s: %d messages", path.name, len(items))
        return items

    def _chat_items(self, chat: Mapping[str, Any], self_id: str | None) -> list[Item]:
        chat_id = chat.get("id")
        if not isinstance(chat_id, int) or isinstance(chat_id, bool):
            raise ParseError(f'chat {chat.get("name")!r} has no integer "id"')
        where = f"chat {chat_id}"
        chat_type = _optional(chat, "type", str, where) or "unknown"
        name = _optional(chat, "name", str, where)
        if not name:
            name = "Saved Messages" if chat_type == "saved_messages" else f"Telegram {chat_id}"
        messages = _optional(chat, "messages", list, where) or []
        info = _Chat(chat_id, chat_type, name, self_id)
        items: list[Item] = []
        for index, message in enumerate(messages):
            if not isinstance(message, dict):
                raise ParseError(
                    f"{where}: message #{index} is {json_type(message)}, not an object"
                )
            items.extend(self._message_items(message, info, f"{where}, message #{index}"))
        return items

    def _message_items(self, msg: Mapping[str, Any], chat: _Chat, where: str) -> list[Item]:
        message_type = _required(msg, "type", str, where)
        message_id = _required(msg, "id", int, where)
        where = f"{where} (id {message_id})"
        if message_type != "message":  # joins, pins, calls, title changes: not speech
            return []
        time = _moment(msg, "date_unixtime", "date", where)
        text, links = flatten_text(msg.get("text", msg.get("text_entities", "")), where)
        marker, media_meta = describe_media(msg, where)
        body = text.strip() or marker
        if not body:
            log.debug("%s: nothing to keep", where)
            return []
        sender_name = _optional(msg, "from", str, where)
        from_id = _optional(msg, "from_id", str, where)
        meta = _message_meta(msg, chat, message_id, from_id, where)
        if links:
            meta["links"] = links
        meta.update(media_meta)
        author: Author = "unknown"
        if chat.self_id is not None and from_id == chat.self_id:
            author = "self"
        pieces = [body] if len(body) <= MAX_CHARS else split_long(body)
        return [
            Item(
                text=piece,
                time=time,
                kind=self.kind,
                document=f"telegram:{chat.id}",
                locator=str(message_id) if len(pieces) == 1 else f"{message_id}:{k}",
                author=author,
                conversation=chat.conversation,
                sender=sender_name or from_id,
                meta=meta if len(pieces) == 1 else {**meta, "part": k, "parts": len(pieces)},
            )
            for k, piece in enumerate(pieces)
        ]


def _chats(root: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    """The chat objects of a single-chat export (itself) or of an account export."""
    if "messages" in root:
        return [root]
    if not any(key in root for key in ("chats", "left_chats", "personal_information")):
        keys = ", ".join(sorted(str(k) for k in root)[:8]) or "none"
        raise ParseError(
            'not a Telegram export: no chat "messages" and no account "chats" '
            f"(top-level keys: {keys})"
        )
    chats: list[Mapping[str, Any]] = []
    for key in ("chats", "left_chats"):
        section = root.get(key)
        if section is None:
            continue
        if not isinstance(section, dict) or not isinstance(section.get("list"), list):
            raise ParseError(f'not a Telegram export: "{key}" is not a {{"list": [...]}} object')
        for index, chat in enumerate(section["list"]):
            if not isinstance(chat, dict):
                raise ParseError(f'"{key}" entry #{index} is {json_type(chat)}, not a chat object')
            chats.append(chat)
    return chats


def _self_id(root: Mapping[str, Any]) -> str | None:
    """`user<id>` of the account owner: how their own messages' `from_id` reads."""
    info = root.get("personal_information")
    if info is None:
        return None
    if not isinstance(info, dict):
        raise ParseError('"personal_information" is not an object')
    user_id = _optional(info, "user_id", int, "personal_information")
    return None if user_id is None else f"user{user_id}"


def _message_meta(
    msg: Mapping[str, Any], chat: _Chat, message_id: int, from_id: str | None, where: str
) -> dict[str, Any]:
    meta: dict[str, Any] = {
        "chat_id": chat.id,
        "chat_type": chat.type,
        "message_id": message_id,
    }
    if from_id:
        meta["from_id"] = from_id
    reply_to = _optional(msg, "reply_to_message_id", int, where)
    if reply_to is not None:
        meta["reply_to"] = reply_to
    forwarded = _optional(msg, "forwarded_from", str, where)
    if forwarded:
        meta["forwarded_from"] = forwarded
    if msg.get("edited_unixtime") is not None or msg.get("edited") is not None:
        meta["edited"] = True
        meta["edited_at"] = _moment(msg, "edited_unixtime", "edited", where).isoformat()
    via_bot = _optional(msg, "via_bot", str, where)
    if via_bot:
        meta["via_bot"] = via_bot
    return meta


def flatten_text(value: object, where: str = "message") -> tuple[str, list[str]]:
    """A message's text as one string, and the URLs it links to, in order.

    Telegram writes plain text as a string and formatted text as a list mixing strings
    and entity objects (`{"type": "bold", "text": ...}`, `{"type": "text_link", "text":
    ..., "href": ...}`); the entities' own text is what the reader saw.
    """
    if isinstance(value, str):
        return value, []
    if not isinstance(value, list):
        raise ParseError(f'{where}: "text" is {json_type(value)}, not a string or list')
    parts: list[str] = []
    links: list[str] = []
    for part in value:
        if isinstance(part, str):
            parts.append(part)
            continue
        if not isinstance(part, dict) or not isinstance(part.get("text"), str):
            raise ParseError(f'{where}: a text entity is not a string or {{"text": "..."}}')
        parts.append(part["text"])
        href = part.get("href")
        if part.get("type") == "text_link" and isinstance(href, str):
            links.append(href)
        elif part.get("type") == "link":
            links.append(part["text"])
    return "".join(parts), list(dict.fromkeys(links))


def describe_media(msg: Mapping[str, Any], where: str = "message") -> tuple[str, dict[str, Any]]:
    """A marker such as "[photo]" standing for the message's media, and meta about it.

    The marker becomes the text of a media-only message, so that a photo or a voice note
    still appears on the timeline; a message with text keeps its text.
    """
    photo = _optional(msg, "photo", str, where)
    if photo is not None:
        return "[photo]", {"media": "photo", **_attachment(photo)}
    media_type = _optional(msg, "media_type", str, where)
    file = _optional(msg, "file", str, where)
    if media_type is not None or file is not None:
        return _file_media(msg, media_type, file, where)
    location = _optional(msg, "location_information", dict, where)
    if location is not None:
        place = _optional(msg, "place_name", str, where)
        return (f"[location: {place}]" if place else "[location]"), {"media": "location"}
    poll = _optional(msg, "poll", dict, where)
    if poll is not None:
        question = _optional(poll, "question", str, where) or ""
        answers = _optional(poll, "answers", list, where) or []
        options = [a.get("text") for a in answers if isinstance(a, dict)]
        lines = [f"[poll] {question}".rstrip(), *(f"- {o}" for o in options if isinstance(o, str))]
        return "\n".join(lines), {"media": "poll"}
    contact = _optional(msg, "contact_information", dict, where)
    if contact is not None:
        names = [contact.get(k) for k in ("first_name", "last_name")]
        name = " ".join(n for n in names if isinstance(n, str) and n)
        return (f"[contact: {name}]" if name else "[contact]"), {"media": "contact"}
    return "", {}


def _file_media(
    msg: Mapping[str, Any], media_type: str | None, file: str | None, where: str
) -> tuple[str, dict[str, Any]]:
    meta: dict[str, Any] = {"media": media_type or "file", **_attachment(file)}
    file_name = _optional(msg, "file_name", str, where) or meta.get("file_name")
    if file_name:
        meta["file_name"] = file_name
    if media_type == "sticker":
        emoji = _optional(msg, "sticker_emoji", str, where)
        return (f"[sticker {emoji}]" if emoji else "[sticker]"), meta
    if media_type == "audio_file":
        names = [_optional(msg, k, str, where) for k in ("performer", "title")]
        song = " – ".join(n for n in names if n)
        return (f"[audio: {song}]" if song else "[audio]"), meta
    if media_type in _MEDIA_LABELS:
        return f"[{_MEDIA_LABELS[media_type]}]", meta
    return (f"[file: {file_name}]" if file_name else "[file]"), meta


def _attachment(path: str | None) -> dict[str, Any]:
    """Meta for an exported media path, unless Telegram left the media out."""
    if not path or path.startswith(_NOT_INCLUDED):
        return {}
    return {"attachment": path, "file_name": PurePosixPath(path).name}


def _moment(msg: Mapping[str, Any], unix_key: str, local_key: str, where: str) -> datetime:
    """The UTC epoch field when present (exports since 2021), else the naive local one."""
    unix = msg.get(unix_key)
    if unix is not None:
        if _is_int(unix) or (isinstance(unix, str) and _UNIX.fullmatch(unix)):
            try:
                return datetime.fromtimestamp(int(unix), UTC)
            except (OverflowError, OSError, ValueError) as exc:
                raise ParseError(f'{where}: "{unix_key}" {unix!r} is out of range') from exc
        raise ParseError(f'{where}: "{unix_key}" {unix!r} is not epoch seconds')
    local = _optional(msg, local_key, str, where)
    if local is None:
        raise ParseError(f'{where}: no "{unix_key}" or "{local_key}"')
    try:
        return aware(datetime.fromisoformat(local))
    except ValueError as exc:
        raise ParseError(f'{where}: "{local_key}" {local!r} is not an ISO date-time') from exc


def _optional(obj: Mapping[str, Any], key: str, kind: type[T], where: str) -> T | None:
    """`obj[key]` if present and not null; `ParseError` if it has another JSON type."""
    value = obj.get(key)
    if value is None:
        return None
    if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
        raise ParseError(f'{where}: "{key}" is {json_type(value)}, expected {_KIND_NAMES[kind]}')
    return value


def _required(obj: Mapping[str, Any], key: str, kind: type[T], where: str) -> T:
    value = _optional(obj, key, kind, where)
    if value is None:
        raise ParseError(f'{where}: no "{key}"')
    return value


def _is_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


_KIND_NAMES: dict[type, str] = {
    str: "a string",
    int: "an integer",
    list: "a list",
    dict: "an object",
}
