"""The connector contract: a pure reader from a file's bytes to normalized items.

Connectors only read. They receive a path and its bytes and return `Item`s; they
never see a key, a database handle or the network, so a hostile file can at worst
make its own parse fail.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any, ClassVar, Literal

Author = Literal["self", "other", "unknown"]


class ConnectorError(Exception):
    """Base of every error a connector raises (see assistant/errors.py for the tree)."""


class ParseError(ConnectorError):
    """The file is not valid for this connector (corrupt, binary, wrong encoding)."""


@dataclass(frozen=True)
class Item:
    """One unit of memory as a connector sees it, before ingest stores it.

    `document` names what the item belongs to and `locator` where inside it;
    together they form the stable `source_ref`, so re-reading an unchanged file
    yields identical refs and hashes. For files read whole (notes, documents) the
    document is the file's absolute path; for histories (chats, mail) it is the
    conversation's own identity (e.g. "whatsapp:Ana Ribeiro"), so a re-export under
    another file name maps onto the same messages.

    `author` is "self" or "other" when the format itself says so (a ChatGPT "user"
    turn, a note); otherwise connectors leave it "unknown" and set `sender` as the
    source names the writer (display name, phone, email, handle), and ingest resolves
    it against the user's identity.
    """

    text: str
    time: datetime  # always time-zone aware
    kind: str  # "note", "message", "email", ...
    document: str
    locator: str
    author: Author = "unknown"
    conversation: str | None = None
    title: str | None = None  # e.g. the heading path "Trips > Lisbon"
    sender: str | None = None  # the writer as the source names them
    meta: Mapping[str, Any] = field(default_factory=dict)  # JSON-serializable only

    @property
    def source_ref(self) -> str:
        return f"{self.document}#{self.locator}"

    @property
    def content_hash(self) -> str:
        """Hash of what the item says (title and text), independent of where it sits."""
        digest = hashlib.sha256()
        digest.update((self.title or "").encode("utf-8"))
        digest.update(b"\x00")
        digest.update(self.text.encode("utf-8"))
        return digest.hexdigest()


class Connector:
    """Base class for readers. Subclasses set `name`, `kind`, `extensions`, `parse`.

    Built-in connectors register through the `secondself.connectors` entry-point
    group exactly as a third-party plugin would.
    """

    name: ClassVar[str] = ""
    kind: ClassVar[str] = "note"
    # "replace": the file is the unit; a changed file replaces its items and a deleted
    # file takes them away (notes, documents). "append": the file is an export of a
    # history; items are only ever added, a message is not forgotten because a later
    # export lacks it (chats, mail).
    history: ClassVar[str] = "replace"
    # Detection order: specific formats (a WhatsApp export is also a .txt file) run
    # before generic ones.
    priority: ClassVar[int] = 0
    extensions: ClassVar[tuple[str, ...]] = ()
    # Folder names a walk never enters for this connector (e.g. Obsidian's settings).
    ignored_dirs: ClassVar[frozenset[str]] = frozenset()
    # File names (lower case) this format's exports always carry (`conversations.json`):
    # detection looks past the first 4 KiB of such a file, for this connector only.
    export_names: ClassVar[frozenset[str]] = frozenset()
    max_file_bytes: ClassVar[int] = 20 * 1024 * 1024
    # True for readers of big archives (a WhatsApp zip with its media): `parse` then
    # gets empty `data` and opens `path` itself, reading only the members it needs.
    reads_path: ClassVar[bool] = False

    def detect(self, path: Path, head: bytes) -> bool:
        """Whether this connector reads `path`; `head` is its first 4 KiB (more, up to
        16 MiB, for a file named as in `export_names`)."""
        return path.suffix.lower() in self.extensions

    def parse(self, path: Path, data: bytes, mtime: datetime) -> list[Item]:
        """Turn a file's bytes into items. Pure: no I/O beyond the arguments."""
        raise NotImplementedError
