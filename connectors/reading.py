"""Open one file without ever blocking, pick its connector by content, and read it.

The parse worker runs this for every file that changed, so that every byte of a hostile
file, the 4 KiB sniff included, is looked at under the worker's time and memory limits
(`InProcessParser` runs the same code in-process, for tests and trusted plugins).

Only regular files are read. A FIFO, a socket or a device (a symbolic link to
`/dev/zero`...) is refused without reading a byte: the file is opened with `O_NONBLOCK`,
so opening a FIFO that has no writer returns at once instead of waiting forever, and the
type is then checked with `fstat` on that open descriptor, so nothing can swap the file
between the check and the read.

Detection sees the first 4 KiB. A file carrying a name a connector's exports always have
(`conversations.json`) is looked at further, up to `DEEP_SNIFF_BYTES`, by that connector
only: a big export whose first conversation is long must not be skipped as "not ours".
"""

from __future__ import annotations

import errno
import logging
import os
import stat
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import BinaryIO

from connectors.base import Connector, ConnectorError, Item

__all__ = [
    "BY_CONTENT",
    "ConnectorBugError",
    "DEEP_SNIFF_BYTES",
    "HEAD_BYTES",
    "LimitError",
    "NotRegularFileError",
    "ReadOptions",
    "Reading",
    "open_regular",
    "read_file",
    "sniff",
]

log = logging.getLogger(__name__)

HEAD_BYTES = 4096
DEEP_SNIFF_BYTES = 16 * 1024 * 1024
_OPEN_FLAGS = (
    os.O_RDONLY
    | getattr(os, "O_NONBLOCK", 0)
    | getattr(os, "O_NOCTTY", 0)
    | getattr(os, "O_CLOEXEC", 0)
    | getattr(os, "O_BINARY", 0)
)
_KINDS = (
    (stat.S_ISDIR, "a folder"),
    (stat.S_ISFIFO, "a named pipe"),
    (stat.S_ISSOCK, "a socket"),
    (stat.S_ISCHR, "a character device"),
    (stat.S_ISBLK, "a block device"),
)


class NotRegularFileError(ConnectorError):
    """The path is a FIFO, socket, device or folder: it is skipped, never read."""


class ConnectorBugError(ConnectorError):
    """A connector raised something no connector should: a bug, reported for this file."""


class LimitError(ConnectorError):
    """The file is over a bound (its size, or the chunks it would add): it is not stored."""


@dataclass(frozen=True)
class Reading:
    """What reading one file gave: the connector that read it and its items.

    `connector` is None when no connector recognises the file (`items` is then empty and
    `detail` may say more, e.g. that it is named like an export but is not one).
    """

    connector: str | None
    items: list[Item] = field(default_factory=list)
    detail: str = ""


def file_kind(mode: int) -> str:
    """What a file that is not a regular one is, in words ("a named pipe (FIFO)")."""
    return next((name for test, name in _KINDS if test(mode)), "not a regular file")


def open_regular(path: Path) -> BinaryIO:
    """`path` open for reading if it is a regular file, else `NotRegularFileError`."""
    try:
        fd = os.open(path, _OPEN_FLAGS)
    except OSError as exc:
        if exc.errno == errno.ENXIO:  # what opening a Unix socket gives
            raise NotRegularFileError("a socket") from None
        raise
    try:
        mode = os.fstat(fd).st_mode
        if not stat.S_ISREG(mode):
            raise NotRegularFileError(file_kind(mode))
        return os.fdopen(fd, "rb")
    except BaseException:
        os.close(fd)
        raise


def sniff(path: Path, stream: BinaryIO, connectors: Sequence[Connector]) -> Connector | None:
    """The first connector that claims the open file, by content or name; None if none."""
    head = stream.read(HEAD_BYTES)
    for connector in connectors:
        if connector.detect(path, head):
            return connector
    named = [c for c in connectors if path.name.lower() in c.export_names]
    if not named or len(head) < HEAD_BYTES:
        return None
    deep = head + stream.read(DEEP_SNIFF_BYTES - len(head))
    return next((c for c in named if c.detect(path, deep)), None)


@dataclass(frozen=True)
class ReadOptions:
    """How to read one file. `detect` False: with the first connector, the one the user
    chose, whatever the file looks like. `max_chunks` (0: none) bounds what a note or
    document may add; a history (chat, mail) is not bounded by it: it grows one message
    at a time and a long life fills it legitimately."""

    detect: bool = True
    max_chunks: int = 0


BY_CONTENT = ReadOptions()  # the default: detect, no bound


def read_file(
    path: Path, connectors: Sequence[Connector], mtime: float, options: ReadOptions = BY_CONTENT
) -> Reading:
    """Read `path` with the connector that claims it and return its items."""
    detect, max_chunks = options.detect, options.max_chunks
    with open_regular(path) as stream:
        connector = sniff(path, stream, connectors) if detect else connectors[0]
        if connector is None:
            return Reading(None, detail=_unclaimed_detail(path, connectors))
        size = os.fstat(stream.fileno()).st_size
        limit = connector.max_file_bytes
        if size > limit:
            raise LimitError(f"file is {size} bytes; {connector.name} reads at most {limit}")
        data = b""
        if not connector.reads_path:
            stream.seek(0)
            data = stream.read(limit + 1)  # one byte more than allowed catches a growing file
            if len(data) > limit:
                raise LimitError(f"file grew past {limit} bytes while it was read")
    moment = datetime.fromtimestamp(mtime, UTC).astimezone()
    try:
        items = list(connector.parse(path, data, moment))
    except (ConnectorError, MemoryError, RecursionError, OSError):
        raise
    except Exception as exc:  # a connector bug: named, so it costs this file only
        log.debug("connector %s crashed on %s", connector.name, path, exc_info=True)
        raise ConnectorBugError(f"{connector.name} failed: {exc!r}") from exc
    if max_chunks and connector.history == "replace" and len(items) > max_chunks:
        raise LimitError(
            f"it would add {len(items):,} chunks, over the bound of {max_chunks:,} per note "
            "or document; not stored (raise [ingest] max_chunks_per_document to store it)"
        )
    return Reading(connector.name, items)


def _unclaimed_detail(path: Path, connectors: Sequence[Connector]) -> str:
    named = [c.name for c in connectors if path.name.lower() in c.export_names]
    if named:
        return f"named like a {' or '.join(named)} export, but its content is not one"
    return ""
