"""WhatsApp "Export chat" files: the Android and iOS `.txt` logs and the `.zip` around them.

How a log's lines are read (message headers, system lines, the file's date order) is
`connectors.whatsapp_lines`; this module reads the files and builds the items. Times are
the phone's wall clock without an offset and are read as the local time of the machine
that parses (`datetime(...).astimezone()`), the best guess for a user's own exports.
`sender` is the name or number as written and `author` stays "unknown"; ingest resolves
it against the user's identity.

The connector opens its path itself (`reads_path`): an export "with media" can be
gigabytes of photos around a chat log of a few MB. Inside a `.zip` only the chat log
(`_chat.txt` or "WhatsApp Chat with ….txt") is read: media members and nested archives
are never opened, the central directory is bounded before zipfile indexes it, and the
log's declared and inflated sizes are both held under `MAX_CHAT_BYTES`. An empty file is
an empty chat ([]); a line longer than any message is a `ParseError`, as are the log
errors `whatsapp_lines` names.

Each message is one item in document `whatsapp:<conversation>`; the conversation name
comes from the export's file name ("WhatsApp Chat with Ana Ribeiro.txt", the zip
"WhatsApp Chat - Ana Ribeiro.zip" around an iOS `_chat.txt`), else from the chat name
iOS puts on its system lines, else from the participants. The locator is
`<ISO local time>/<sender>/<n>`, n counting earlier messages with the same time and
sender in the file (deleted ones too), so a longer re-export of the same chat keeps the
refs and content hashes of the messages it shares with an older one.
"""

from __future__ import annotations

import io
import logging
import os
import re
import struct
import zipfile
import zlib
from datetime import datetime
from pathlib import Path, PurePosixPath
from typing import IO, Any, ClassVar

from connectors.base import Connector, ConnectorError, Item, ParseError
from connectors.chunking import MAX_CHARS, split_long
from connectors.reading import open_regular
from connectors.textfile import aware, decode_text
from connectors.whatsapp_lines import (
    BIDI,
    LRM,
    ChatLog,
    DateOrder,
    choose_date_order,
    created_group_name,
    parse_chat,
    parse_line,
)

__all__ = [
    "MAX_CHAT_BYTES",
    "WhatsAppConnector",
    "conversation_from_filename",
    "media_only",
    "message_content",
    "read_bounded",
    "read_chat_from_zip",
]

log = logging.getLogger(__name__)

# A chat log past this is not a chat someone exported; it also bounds what a zip member
# may inflate to, so a zip bomb is refused instead of filling the worker's memory.
MAX_CHAT_BYTES = 200 * 1024 * 1024
# WhatsApp caps a message at 65,536 characters (at most 4 UTF-8 bytes each): a longer
# line means the file is something else, and refusing it early keeps the work bounded.
MAX_LINE_BYTES = 1024 * 1024
# Exports "with media" hold one member per photo or voice note; far more than any export
# has, and bounded before zipfile builds its index of every member.
MAX_ZIP_MEMBERS = 100_000
# zipfile reads the whole central directory at once: about 100 bytes a member in a real
# export, so this is far more than MAX_ZIP_MEMBERS members need.
MAX_ZIP_DIRECTORY_BYTES = 64 * 1024 * 1024
_READ_CHUNK = 1024 * 1024
_ZIP_MAGIC = b"PK\x03\x04"
_MEMBER_ENTRY = b"PK\x01\x02"  # starts each member's entry in the central directory
# The end-of-central-directory record, the zip64 locator before it and the zip64 record
# the locator follows (APPNOTE 4.3.14-4.3.16), as zipfile finds them.
_END = struct.Struct("<4s4H2LH")
_END_SIGNATURE = b"PK\x05\x06"
_ZIP64_LOCATOR = struct.Struct("<4sLQL")
_ZIP64_LOCATOR_SIGNATURE = b"PK\x06\x07"
_ZIP64_END = struct.Struct("<4sQ2H2L4Q")
_ZIP64_END_SIGNATURE = b"PK\x06\x06"
_END_SEARCH = 1 << 16  # how far back from the end zipfile looks for the end record
# The edited marker is looked for only in a message's last characters: a regex run over a
# hostile 1 MB message must stay linear.
_EDITED_TAIL = 80

_EDITED = re.compile(
    r"\s*\u200e?<(?:This message was edited|Mensagem editada|Se editó este mensaje\.?"
    r"|Diese Nachricht wurde bearbeitet|Ce message a été modifié)>\s*\Z"
)

# Attachment markers, on the first line of a message's text (a caption may follow).
_MEDIA_OMITTED = re.compile(
    r"<(?:Media omitted|Arquivo de mídia oculto|Multimédia omitido|Multimedia omitido"
    r"|Medien ausgeschlossen|Médias omis|Media omessi|Media weggelaten)>",
    re.IGNORECASE,
)
_ANGLE_OMITTED = re.compile(r"<(?P<what>[^<>\n]{1,40}) omitted>")
_IOS_OMITTED = re.compile(
    r"(?P<what>image|video|audio|sticker|GIF|Contact card|voice message|video note) omitted",
    re.IGNORECASE,
)
_IOS_DOCUMENT = re.compile(
    r"(?:(?P<name>[^\n]*?)(?:[ ]•[ ]\u200e?\d+[ ]pages?)?[ ]\u200e?)?document omitted"
)
_IOS_ATTACHED = re.compile(r"<attached: (?P<file>[^<>\n]+)>[ ]?")
_ANDROID_ATTACHED = re.compile(
    r"(?P<file>[^\n]+?\.\w{1,8}) \((?:file attached|arquivo anexado|ficheiro anexado"
    r"|archivo adjunto|Datei angehängt|fichier joint|file allegato)\)"
)
_IOS_MEMBER_PREFIX = re.compile(r"^\d{8}-")

_FILE_TYPES: tuple[tuple[re.Pattern[str], str], ...] = (
    (re.compile(r"PHOTO|^IMG-|\.(?:jpe?g|png|heic|heif)$", re.I), "image"),
    (re.compile(r"GIF|\.gif$", re.I), "gif"),
    (re.compile(r"STICKER|^STK-|\.webp$", re.I), "sticker"),
    (re.compile(r"VIDEO|^VID-|\.(?:mp4|mov|3gp|m4v)$", re.I), "video"),
    (re.compile(r"AUDIO|^PTT-|^AUD-|\.(?:opus|m4a|mp3|ogg|aac|amr|wav)$", re.I), "audio"),
    (re.compile(r"\.vcf$", re.I), "contact card"),
)
_MEDIA_TYPES = frozenset({"image", "gif", "sticker", "video", "audio", "media"})

# "WhatsApp Chat with Ana Ribeiro" (Android, several languages) and the iOS zip name
# "WhatsApp Chat - Ana Ribeiro"; a browser's " (1)" for a repeated download is dropped.
_CHAT_NAME = re.compile(
    r"(?:WhatsApp Chat with|WhatsApp Chat -|Conversa do WhatsApp com|Conversa de WhatsApp com"
    r"|Chat de WhatsApp con|Chat de WhatsApp -|WhatsApp-Chat mit|WhatsApp Chat mit"
    r"|Discussion WhatsApp avec|Chat WhatsApp con|WhatsApp-chat met)"
    r"\s+(?P<name>.+?)(?:\s*\(\d+\))?",
    re.IGNORECASE,
)


def message_content(raw: str) -> tuple[str, list[dict[str, Any]], bool]:
    """A message's text with attachment markers replaced, its attachments, and if edited.

    An attachment-only message becomes a short marker such as "[image]", so the text is
    never empty while the message says something.
    """
    text = raw.strip()
    edited = False
    tail = max(0, len(text) - _EDITED_TAIL)
    if text.endswith(">") and (suffix := _EDITED.search(text, tail)) is not None:
        text, edited = text[: suffix.start()].rstrip(), True
    first, _, after = text.partition("\n")
    found = _attachment(first.strip().lstrip(BIDI))
    if found is None:
        return text.lstrip(LRM), [], edited
    attachment, marker, same_line = found
    caption = "\n".join(part for part in (same_line, after.strip()) if part)
    if not caption:
        return marker, [attachment], edited
    separator = "\n" if "\n" in caption else " "
    return f"{marker}{separator}{caption}", [attachment], edited


def media_only(text: str, attachments: list[dict[str, Any]]) -> bool:
    """Whether a message is an attachment and nothing else: a photo, voice note or
    sticker without a caption ("[image]") says nothing to remember, and is not a memory.
    A caption, or a named document ("[document: Menu.pdf]"), is kept."""
    return len(attachments) == 1 and text == f"[{attachments[0]['type']}]"


def _attachment(first: str) -> tuple[dict[str, Any], str, str] | None:
    """(meta entry, marker text, caption on the same line) for an attachment line."""
    if not first.startswith("<") and not first.endswith((")", ">", "omitted")):
        return None  # the common case, decided without a regex
    if _MEDIA_OMITTED.fullmatch(first):
        return {"type": "media", "omitted": True}, "[media]", ""
    if match := _IOS_ATTACHED.match(first):
        file_name = match.group("file").strip()
        return _file_attachment(file_name) + (first[match.end() :].strip(),)
    if match := _ANDROID_ATTACHED.fullmatch(first):
        return _file_attachment(match.group("file").strip()) + ("",)
    if match := _IOS_DOCUMENT.fullmatch(first):
        name = (match.group("name") or "").strip(BIDI + " ")
        entry: dict[str, Any] = {"type": "document", "omitted": True}
        if name:
            entry["file"] = name
        return entry, f"[document: {name}]" if name else "[document]", ""
    if (match := _IOS_OMITTED.fullmatch(first)) or (match := _ANGLE_OMITTED.fullmatch(first)):
        kind = match.group("what").strip().lower()
        return {"type": kind, "omitted": True}, f"[{kind}]", ""
    return None


def _file_attachment(file_name: str) -> tuple[dict[str, Any], str]:
    """A file shipped in the export: its type guessed from WhatsApp's naming."""
    base = PurePosixPath(file_name).name
    kind = next((k for pattern, k in _FILE_TYPES if pattern.search(base)), "document")
    entry: dict[str, Any] = {"type": kind, "file": file_name, "omitted": False}
    if kind in _MEDIA_TYPES:
        return entry, f"[{kind}]"
    return entry, f"[{kind}: {_IOS_MEMBER_PREFIX.sub('', base)}]"


def conversation_from_filename(name: str) -> str | None:
    """The chat's name in an export's file name ("WhatsApp Chat with Ana Ribeiro.txt")."""
    stem = PurePosixPath(name).name
    for suffix in (".txt", ".zip"):
        if stem.lower().endswith(suffix):
            stem = stem[: -len(suffix)]
    match = _CHAT_NAME.fullmatch(stem.strip())
    return match.group("name").strip() if match else None


def _is_chat_member(name: str) -> bool:
    base = PurePosixPath(name).name
    if base.startswith("._") or "__MACOSX" in name:  # macOS resource forks, not chats
        return False
    if base == "_chat.txt":
        return True
    return base.lower().endswith(".txt") and conversation_from_filename(base) is not None


class WhatsAppConnector(Connector):
    """Reads WhatsApp chat exports (`.txt`, or the `.zip` WhatsApp shares with media).

    `reads_path` is set: `parse` reads `path` itself and ignores `data` (the worker passes
    empty bytes), so only the chat log of a zip is ever in memory, never its media.
    """

    name: ClassVar[str] = "whatsapp"
    kind: ClassVar[str] = "message"
    history: ClassVar[str] = "append"
    priority: ClassVar[int] = 20  # before the generic `.txt` reader
    extensions: ClassVar[tuple[str, ...]] = (".txt", ".zip")
    # An export "with media" is mostly photos and videos; only its chat log is read (the
    # zip is opened, not loaded: reads_path), and that log is bounded on its own.
    max_file_bytes: ClassVar[int] = 16 * 1024**3
    reads_path: ClassVar[bool] = True

    def detect(self, path: Path, head: bytes) -> bool:
        """A `.txt` starting with a message header, or a `.zip` holding a chat log."""
        suffix = path.suffix.lower()
        if suffix == ".txt":
            return _looks_like_chat(head)
        if suffix == ".zip" and head.startswith(_ZIP_MAGIC):
            return _zip_has_chat(path)
        return False

    def parse(self, path: Path, data: bytes, mtime: datetime) -> list[Item]:
        """One item per message (long ones split); system lines, deleted ones and media
        without a caption give none.

        Reads `path`; `data` is ignored (see the class docstring).
        """
        member, raw = read_chat_log(path)
        text = _decode(raw)
        if not text.strip():
            return []
        chat = parse_chat(text)
        order, order_source = choose_date_order([m.header for m in chat.messages])
        conversation = _conversation(path, member, chat)
        return _items(chat, order, order_source, conversation, self.kind)


def _items(
    chat: ChatLog, order: DateOrder, order_source: str, conversation: str, kind: str
) -> list[Item]:
    document = f"whatsapp:{conversation}"
    participants = _participants(chat)
    seen: dict[tuple[str, str], int] = {}
    local_times: dict[datetime, datetime] = {}
    items: list[Item] = []
    for message in chat.messages:
        header = message.header
        naive = header.naive_time(order)
        if naive is None:
            raise ParseError(
                f"line {chat.line_of(message)}: no such date or time under the file's {order} "
                f"order: {header.first}/{header.second}/{header.year} "
                f"{header.hour}:{header.minute:02d}"
            )
        if header.kind == "system" or header.sender is None:
            continue
        key = (naive.isoformat(), header.sender)
        ordinal = seen[key] = seen.get(key, -1) + 1
        if header.kind == "placeholder":
            continue
        text, attachments, edited = message_content(message.text)
        if not text or media_only(text, attachments):
            continue
        moment = local_times.get(naive) or local_times.setdefault(naive, aware(naive))
        meta: dict[str, Any] = {
            "platform": header.platform,
            "date_order": order,
            "date_order_source": order_source,
            "participants": participants,
        }
        if attachments:
            meta["attachments"] = attachments
        if edited:
            meta["edited"] = True
        locator = f"{key[0]}/{header.sender}/{ordinal}"
        pieces = [text] if len(text) <= MAX_CHARS else split_long(text)
        for index, piece in enumerate(pieces):
            items.append(
                Item(
                    text=piece,
                    time=moment,
                    kind=kind,
                    document=document,
                    locator=locator if len(pieces) == 1 else f"{locator}:{index}",
                    conversation=conversation,
                    sender=header.sender,
                    meta=meta if len(pieces) == 1 else {**meta, "chunk": index},
                )
            )
    log.debug("%s: %d items from %d lines", document, len(items), len(chat.messages))
    return items


def _participants(chat: ChatLog) -> list[str]:
    """Distinct senders of real messages, in order of first appearance."""
    found = dict.fromkeys(
        m.header.sender for m in chat.messages if m.header.kind != "system" and m.header.sender
    )
    return [name for name in found if name]


def _conversation(path: Path, member: str | None, chat: ChatLog) -> str:
    """The chat's name: from the export's file names, else from what the log says."""
    # The chat member, the folder it sits in (a re-zipped export folder), the file itself.
    names = [member, PurePosixPath(member).parent.name] if member else []
    for name in [*names, path.name]:
        if name and (found := conversation_from_filename(name)):
            return found
    if chat.platform == "ios":  # iOS puts the chat's own name on its system lines
        for message in chat.messages:
            if message.header.kind == "system" and message.header.sender:
                return message.header.sender
    for message in chat.messages:
        header = message.header
        if header.kind == "system" and (created := created_group_name(header.text)):
            return created
    participants = _participants(chat)
    return ", ".join(sorted(participants)) if participants else path.stem


def read_chat_log(path: Path) -> tuple[str | None, bytes]:
    """The chat log's bytes, and its member name when `path` is an export zip.

    A zip (by name or by its first bytes) is read by `read_chat_from_zip`; any other file
    is the log itself, refused unread when it is larger than any export.
    """
    with open_regular(path) as stream:  # never a FIFO swapped in since detection
        if stream.read(len(_ZIP_MAGIC)) == _ZIP_MAGIC or path.suffix.lower() == ".zip":
            return read_chat_from_zip(stream)
        stream.seek(0)
        size = os.fstat(stream.fileno()).st_size
        # Past the limit nothing is read; one byte more than it catches a file that grew.
        content = stream.read(MAX_CHAT_BYTES + 1) if size <= MAX_CHAT_BYTES else b""
    if max(size, len(content)) > MAX_CHAT_BYTES:
        raise ParseError(
            f"chat log is {max(size, len(content))} bytes; a WhatsApp export over "
            f"{MAX_CHAT_BYTES} is refused"
        )
    return None, content


def _decode(data: bytes) -> str:
    """The chat log as text; refuses line lengths no export has, before decoding."""
    longest = max(map(len, data.split(b"\n")), default=0)
    if longest > MAX_LINE_BYTES and b"\r" in data:  # old Mac line ends: lines end at \r too
        longest = max(map(len, data.replace(b"\r", b"\n").split(b"\n")), default=0)
    if longest > MAX_LINE_BYTES:
        raise ParseError(
            f"a line is {longest} bytes long; WhatsApp messages are at most 65,536 characters, "
            "so this is not a chat export"
        )
    return decode_text(data)


def read_chat_from_zip(stream: IO[bytes]) -> tuple[str, bytes]:
    """The chat log member's name and bytes from an export zip, refusing zip bombs.

    `stream` is the open zip file (seekable). Media members are never opened, nested
    archives included; the central directory is checked before zipfile indexes it
    (`check_zip_directory`), and the chat member's declared size and the bytes it
    actually inflates to are both held under `MAX_CHAT_BYTES`.
    """
    try:
        check_zip_directory(stream)
        with zipfile.ZipFile(stream) as archive:
            infos = archive.infolist()
            chats = [info for info in infos if _is_chat_member(info.filename)]
            if not chats:
                nested = [i.filename for i in infos if i.filename.lower().endswith(".zip")]
                hint = f"; nested zip archives ({nested[0]}...) are not opened" if nested else ""
                raise ParseError(
                    "zip archive holds no WhatsApp chat log (_chat.txt or "
                    f"'WhatsApp Chat with ….txt'){hint}"
                )
            if len(chats) > 1:
                listed = ", ".join(info.filename for info in chats[:3])
                raise ParseError(
                    f"zip archive holds {len(chats)} chat logs ({listed}); export one chat per zip"
                )
            info = chats[0]
            if info.flag_bits & 0x1:
                raise ParseError(f"{info.filename} in the zip archive is encrypted")
            if info.file_size > MAX_CHAT_BYTES:
                raise ParseError(
                    f"{info.filename} declares {info.file_size} bytes uncompressed, over the "
                    f"{MAX_CHAT_BYTES}-byte limit for a chat log (a zip bomb?)"
                )
            with archive.open(info) as member:
                content = read_bounded(member, MAX_CHAT_BYTES, info.filename)
    except ParseError:
        raise
    except (zipfile.BadZipFile, zipfile.LargeZipFile, zlib.error, EOFError) as exc:
        raise ParseError(f"corrupt zip archive: {exc}") from exc
    except (NotImplementedError, RuntimeError, ValueError, OSError) as exc:
        raise ParseError(f"unreadable zip archive: {exc}") from exc
    if content.startswith(_ZIP_MAGIC):
        raise ParseError(f"{info.filename} is itself a zip archive; nested zips are not opened")
    return info.filename, content


def check_zip_directory(stream: IO[bytes]) -> None:
    """Refuse a zip whose central directory is too big to index, before zipfile reads it.

    zipfile reads the whole directory into memory and builds one entry per member before
    any member can be opened. Its size comes from the end record; its members are counted
    from the directory's own bytes, since the count the end record declares can lie. Only
    the end of the file and the directory are read. A file without an end record is left
    to zipfile, which reports it as corrupt.
    """
    end = stream.seek(0, io.SEEK_END)
    tail_start = max(0, end - _END.size - _END_SEARCH)
    stream.seek(tail_start)
    tail = stream.read()
    # zipfile's order: a record without a comment at the very end, else the last one.
    at = len(tail) - _END.size
    if at < 0 or not tail.startswith(_END_SIGNATURE, at) or tail[-2:] != b"\x00\x00":
        at = tail.rfind(_END_SIGNATURE)
        if at < 0 or at + _END.size > len(tail):
            return
    record = tail_start + at
    directory_bytes = _END.unpack_from(tail, at)[5]
    locator = record - _ZIP64_LOCATOR.size
    if locator - _ZIP64_END.size >= 0:
        stream.seek(locator - _ZIP64_END.size)
        block = stream.read(_ZIP64_END.size + _ZIP64_LOCATOR.size)
        if block[_ZIP64_END.size :].startswith(_ZIP64_LOCATOR_SIGNATURE) and block.startswith(
            _ZIP64_END_SIGNATURE
        ):
            directory_bytes = _ZIP64_END.unpack_from(block)[8]
            record = locator - _ZIP64_END.size
    if directory_bytes > MAX_ZIP_DIRECTORY_BYTES:
        raise ParseError(
            f"zip archive's central directory is {directory_bytes} bytes, over the "
            f"{MAX_ZIP_DIRECTORY_BYTES}-byte limit; refused"
        )
    start = max(0, record - directory_bytes)
    stream.seek(start)
    count, carry, left = 0, b"", record - start
    while left > 0 and (chunk := stream.read(min(_READ_CHUNK, left))):
        left -= len(chunk)
        window = carry + chunk  # an entry's signature may straddle two chunks
        count += window.count(_MEMBER_ENTRY)
        carry = window[-(len(_MEMBER_ENTRY) - 1) :]
        if count > MAX_ZIP_MEMBERS:
            raise ParseError(f"zip archive has more than {MAX_ZIP_MEMBERS} members; refused")


def read_bounded(stream: IO[bytes], limit: int, name: str) -> bytes:
    """All of `stream`, read in chunks, or `ParseError` once it passes `limit` bytes."""
    chunks: list[bytes] = []
    total = 0
    while chunk := stream.read(_READ_CHUNK):
        total += len(chunk)
        if total > limit:
            raise ParseError(
                f"{name} inflates to more than {limit} bytes, over the limit for a chat log "
                "(a zip bomb?)"
            )
        chunks.append(chunk)
    return b"".join(chunks)


def _looks_like_chat(head: bytes) -> bool:
    """Whether the first non-empty line of `head` is a WhatsApp message header."""
    if head.startswith(b"\xef\xbb\xbf"):
        head = head[3:]
    for raw in head.split(b"\n", 8)[:8]:
        line = raw.decode("utf-8", errors="ignore").rstrip("\r")
        if line.strip():
            return parse_line(line) is not None
    return False


def _zip_has_chat(path: Path) -> bool:
    """Whether the zip at `path` lists a chat log; reads only its central directory."""
    try:
        with open_regular(path) as stream:
            check_zip_directory(stream)
            with zipfile.ZipFile(stream) as archive:
                names = archive.namelist()
    except (
        ConnectorError,
        zipfile.BadZipFile,
        zipfile.LargeZipFile,
        OSError,
        ValueError,
        EOFError,
    ):
        return False
    return len(names) <= MAX_ZIP_MEMBERS and any(_is_chat_member(n) for n in names)
