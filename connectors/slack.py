"""Slack workspace exports: one channel's day file (`general/2024-03-12.json`) per parse.

An unzipped export holds `users.json`, `channels.json` (plus `groups.json`, `dms.json`,
`mpims.json` for private exports) and a folder per conversation of `YYYY-MM-DD.json`
files, each a JSON array of messages. Slack's `ts` is unique within a channel and never
changes, so the document is `slack:<channel folder>` and the locator the `ts`: a later
export over a longer range maps onto the messages already stored.

Messages name their writer by user id ("U02ABCDEF"); the names live in the export root's
`users.json`. That file is the one read beyond the bytes `parse` is given (the export
root is the day file's grandparent folder). When it is missing or broken, the name
stamped on the message (`user_profile`) or the bare id is used instead, so the same day
file can give other sender names and mention texts in an export without `users.json`.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, ClassVar

from connectors.base import Connector, Item, ParseError
from connectors.chunking import MAX_CHARS, split_long
from connectors.jsonfile import load_json

log = logging.getLogger(__name__)

_DAY_FILE = re.compile(r"\d{4}-\d{2}-\d{2}\.json", re.IGNORECASE)
_ARRAY_OF_OBJECTS = re.compile(r"\A\ufeff?\s*\[\s*\{")
_TS_IN_HEAD = re.compile(r'"ts"\s*:\s*"\d+\.\d+"')
_MESSAGE_IN_HEAD = re.compile(r'"type"\s*:\s*"message"')
_TS = re.compile(r"(\d{1,11})(?:\.(\d{1,6}))?")
# Slack escapes only these three in message text; any other `<...>` is markup.
_MARKUP = re.compile(r"<([^<>]*)>")
_SPECIAL_MENTIONS = {"here": "@here", "channel": "@channel", "everyone": "@everyone"}

# Subtypes that are someone speaking; the rest (joins, leaves, topic and purpose
# changes, pins, renames, archive events, deleted-message tombstones, huddles...) are
# channel events, not memory. `bot_message` is kept when it says something: alerts and
# integrations a team relies on are part of what happened.
SPEECH_SUBTYPES = frozenset(
    {
        "thread_broadcast",
        "reply_broadcast",
        "me_message",
        "file_share",
        "file_comment",
        "bot_message",
    }
)
# users.json of a very large workspace is a few MB; past this it is not a user list.
_MAX_USERS_BYTES = 64 * 1024 * 1024


class SlackConnector(Connector):
    """Reads the per-day message files of an unzipped Slack workspace export.

    The metadata files beside them (users.json, channels.json...) are not items and are
    not detected. users.json is parsed once per export, not once per day file: the
    connector keeps the last one read, keyed by its path, size and modification time.
    """

    name: ClassVar[str] = "slack"
    kind: ClassVar[str] = "message"
    history: ClassVar[str] = "append"
    priority: ClassVar[int] = 20  # a .json that is a Slack day file, before generic readers
    extensions: ClassVar[tuple[str, ...]] = (".json",)

    def __init__(self) -> None:
        self._users_key: tuple[str, int, int] | None = None
        self._users: Mapping[str, str] = {}

    def detect(self, path: Path, head: bytes) -> bool:
        """A `YYYY-MM-DD.json` file whose head is an array of Slack message objects."""
        if not _DAY_FILE.fullmatch(path.name):
            return False
        text = head.decode("utf-8", errors="ignore")
        return bool(
            _ARRAY_OF_OBJECTS.match(text)
            and _TS_IN_HEAD.search(text)
            and _MESSAGE_IN_HEAD.search(text)
        )

    def parse(self, path: Path, data: bytes, mtime: datetime) -> list[Item]:
        """One item per message that someone wrote (split when very long)."""
        records = load_json(data, "Slack day file")
        if not isinstance(records, list):
            raise ParseError("not a Slack day file: the top level is not an array of messages")
        channel = path.parent.name or "unknown"
        names: Mapping[str, str] | None = None  # read users.json only if there is speech
        items: list[Item] = []
        for index, record in enumerate(records):
            where = f"{path.name}, message #{index}"
            if not isinstance(record, dict):
                raise ParseError(f"{where} is not a message object")
            message = _Message.read(record, where)
            if not message.is_speech():
                continue
            if names is None:
                names = self._names(path)
            items.extend(self._items(message, channel, names))
        log.debug("%s/%s: %d messages", channel, path.name, len(items))
        return items

    def _items(self, message: _Message, channel: str, names: Mapping[str, str]) -> list[Item]:
        text, links = convert_markup(message.text, names)
        text = text.strip() or message.fallback_text() or _files_marker(message.file_names)
        if not text:
            return []
        meta = message.meta(channel)
        if links:
            meta["links"] = links
        pieces = [text] if len(text) <= MAX_CHARS else split_long(text)
        return [
            Item(
                text=piece,
                time=ts_time(message.ts),
                kind=self.kind,
                document=f"slack:{channel}",
                locator=message.ts if len(pieces) == 1 else f"{message.ts}:{k}",
                author="unknown",
                conversation=f"#{channel}",
                sender=message.sender(names),
                meta=meta if len(pieces) == 1 else {**meta, "part": k, "parts": len(pieces)},
            )
            for k, piece in enumerate(pieces)
        ]

    def _names(self, day_file: Path) -> Mapping[str, str]:
        """users.json of the export `day_file` sits in, or no names when it has none."""
        users_file = day_file.parent.parent / "users.json"
        try:
            info = users_file.stat()
        except OSError:
            return {}
        key = (str(users_file), info.st_size, info.st_mtime_ns)
        if key != self._users_key:
            self._users = _read_users(users_file, info.st_size)
            self._users_key = key
        return self._users


@dataclass(frozen=True)
class _Message:
    """One validated entry of a day file."""

    raw: Mapping[str, Any]
    type: str
    subtype: str | None
    ts: str
    text: str
    user: str | None
    thread_ts: str | None
    file_names: tuple[str, ...]

    @classmethod
    def read(cls, record: Mapping[str, Any], where: str) -> _Message:
        ts = _string(record, "ts", where)
        if ts is None:
            raise ParseError(f'{where}: no "ts"')
        if not _TS.fullmatch(ts):
            raise ParseError(f'{where}: "ts" {record.get("ts")!r} is not a Slack timestamp')
        thread_ts = _string(record, "thread_ts", where)
        if thread_ts is not None and not _TS.fullmatch(thread_ts):
            raise ParseError(f'{where}: "thread_ts" {thread_ts!r} is not a Slack timestamp')
        kind = _string(record, "type", where)
        if kind is None:
            raise ParseError(f'{where}: no "type"')
        files = record.get("files")
        if files is not None and not isinstance(files, list):
            raise ParseError(f'{where}: "files" is not a list')
        return cls(
            raw=record,
            type=kind,
            subtype=_string(record, "subtype", where),
            ts=ts,
            text=_string(record, "text", where) or "",
            user=_string(record, "user", where),
            thread_ts=thread_ts,
            file_names=tuple(_file_name(f) for f in files or () if _file_name(f)),
        )

    def is_speech(self) -> bool:
        return self.type == "message" and (self.subtype is None or self.subtype in SPEECH_SUBTYPES)

    def sender(self, names: Mapping[str, str]) -> str | None:
        """Real name from users.json, else from the message's profile, else the id."""
        if self.user and self.user in names:
            return names[self.user]
        profile = self.raw.get("user_profile")
        if isinstance(profile, dict):
            name = _person_name(profile, profile)
            if name:
                return name
        if self.subtype == "bot_message" or not self.user:
            bot = self.raw.get("bot_profile")
            for value in (
                self.raw.get("username"),
                bot.get("name") if isinstance(bot, dict) else None,
                self.raw.get("bot_id"),
            ):
                if isinstance(value, str) and value:
                    return value
        return self.user

    def fallback_text(self) -> str:
        """A bot's attachment summaries, for messages whose own text is empty."""
        attachments = self.raw.get("attachments")
        if not isinstance(attachments, list):
            return ""
        lines = [a.get("fallback") for a in attachments if isinstance(a, dict)]
        text = "\n".join(line for line in lines if isinstance(line, str) and line.strip())
        return convert_markup(text, {})[0].strip()

    def meta(self, channel: str) -> dict[str, Any]:
        meta: dict[str, Any] = {"channel": channel, "ts": self.ts}
        if self.user:
            meta["user_id"] = self.user
        if self.subtype:
            meta["subtype"] = self.subtype
        if self.subtype == "bot_message" or isinstance(self.raw.get("bot_id"), str):
            meta["bot"] = True
        if self.thread_ts is not None and self.thread_ts != self.ts:
            meta["thread"] = self.thread_ts
            meta["reply"] = True
        count = self.raw.get("reply_count")
        if isinstance(count, int) and not isinstance(count, bool) and count > 0:
            meta["reply_count"] = count
        edited = self.raw.get("edited")
        if isinstance(edited, dict):
            meta["edited"] = True
            when = edited.get("ts")
            if isinstance(when, str) and _TS.fullmatch(when):
                meta["edited_at"] = ts_time(when).isoformat()
        if self.file_names:
            meta["files"] = list(self.file_names)
        reactions = _reactions(self.raw.get("reactions"))
        if reactions:
            meta["reactions"] = reactions
        return meta


def convert_markup(text: str, names: Mapping[str, str]) -> tuple[str, list[str]]:
    """Slack's `mrkdwn` control sequences as a reader sees them, and the URLs linked.

    `<@U123>` becomes `@Real Name` (or the `|label`, or `@U123`), `<#C123|general>`
    becomes `#general`, `<https://x|label>` becomes `label` and `<https://x>` the URL;
    `&amp;`, `&lt;` and `&gt;` are unescaped last, so an escaped `<` is never markup.
    """
    links: list[str] = []

    def replace(match: re.Match[str]) -> str:
        target, _, label = match.group(1).partition("|")
        if target.startswith("@"):
            return "@" + (names.get(target[1:]) or label.lstrip("@") or target[1:])
        if target.startswith("#"):
            return "#" + (label or target[1:])
        if target.startswith("!"):
            special = target[1:]
            if special in _SPECIAL_MENTIONS:
                return _SPECIAL_MENTIONS[special]
            return label or "@" + special.split("^", 1)[0]
        url = _unescape(target)
        links.append(url)
        if label:
            return label
        return url.removeprefix("mailto:")

    converted = _unescape(_MARKUP.sub(replace, text))
    return converted, list(dict.fromkeys(links))


def _unescape(text: str) -> str:
    return text.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")


def ts_time(ts: str) -> datetime:
    """A Slack `ts` ("1710252331.123456", UTC epoch seconds) as an aware UTC datetime."""
    match = _TS.fullmatch(ts)
    if match is None:
        raise ParseError(f"{ts!r} is not a Slack timestamp")
    seconds, fraction = match.group(1), match.group(2) or ""
    micros = int(fraction.ljust(6, "0"))
    try:
        return datetime.fromtimestamp(int(seconds), UTC) + timedelta(microseconds=micros)
    except (OverflowError, OSError, ValueError) as exc:
        raise ParseError(f"Slack timestamp {ts!r} is out of range") from exc


def _read_users(users_file: Path, size: int) -> dict[str, str]:
    """Real names by user id from users.json; a broken file gives none, with a warning."""
    if size > _MAX_USERS_BYTES:
        log.warning("%s is %d bytes: too large for a user list, ignored", users_file, size)
        return {}
    try:
        users = load_json(users_file.read_bytes(), "Slack users.json")
    except (OSError, ParseError) as exc:
        log.warning("cannot use %s for user names: %s", users_file, exc)
        return {}
    if not isinstance(users, list):
        log.warning("%s is not a list of users; using ids for names", users_file)
        return {}
    names: dict[str, str] = {}
    for user in users:
        if not isinstance(user, dict) or not isinstance(user.get("id"), str):
            continue
        profile = user.get("profile")
        name = _person_name(profile if isinstance(profile, dict) else {}, user)
        if name:
            names[user["id"]] = name
    return names


def _person_name(profile: Mapping[str, Any], user: Mapping[str, Any]) -> str | None:
    """Real name, then display name, then the account name: how people know each other."""
    for value in (
        profile.get("real_name"),
        user.get("real_name"),
        profile.get("display_name"),
        user.get("name"),
    ):
        if isinstance(value, str) and value.strip():
            return value.strip()
    return None


def _string(record: Mapping[str, Any], key: str, where: str) -> str | None:
    value = record.get(key)
    if value is None or isinstance(value, str):
        return value
    raise ParseError(f'{where}: "{key}" is not a string')


def _file_name(file: object) -> str:
    """A shared file's name (hidden and deleted files have none)."""
    if not isinstance(file, dict):
        return ""
    for key in ("name", "title"):
        value = file.get(key)
        if isinstance(value, str) and value.strip():
            return value.strip()
    return ""


def _files_marker(names: tuple[str, ...]) -> str:
    return "\n".join(f"[file: {name}]" for name in names)


def _reactions(value: object) -> list[dict[str, Any]]:
    if not isinstance(value, list):
        return []
    out: list[dict[str, Any]] = []
    for reaction in value:
        if isinstance(reaction, dict) and isinstance(reaction.get("name"), str):
            count = reaction.get("count")
            valid = isinstance(count, int) and not isinstance(count, bool)
            out.append({"name": reaction["name"], "count": count if valid else 1})
    return out
