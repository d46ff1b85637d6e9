"""Authenticated, streaming encryption of a file (AES-256-GCM in the STREAM construction).

Used to write the vector index to disk: the plaintext is cut into 1 MiB segments,
each sealed with a nonce made of a random per-file prefix, the segment counter and
a last-segment flag, with the file header as associated data. Reordering,
truncating, extending or editing any byte fails authentication.

Layout: MAGIC | prefix (7 bytes) | header length (4, BE) | header JSON |
        { segment length (4, BE) | ciphertext+tag }*
"""

from __future__ import annotations

import io
import json
import os
import struct
from pathlib import Path
from typing import Any, BinaryIO

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from store.errors import SnapshotError

MAGIC = b"SSSEAL01"
SEGMENT = 1 << 20
TAG = 16
PREFIX = 7
MAX_HEADER = 64 * 1024


def _nonce(prefix: bytes, counter: int, last: bool) -> bytes:
    return prefix + struct.pack(">I", counter) + (b"\x01" if last else b"\x00")


class SealedWriter(io.RawIOBase):
    """A write-only stream that encrypts into `sink`; `close()` seals the last segment."""

    def __init__(self, sink: BinaryIO, key: bytes, header: dict[str, Any]) -> None:
        super().__init__()
        self._sink = sink
        self._aead = AESGCM(key)
        self._prefix = os.urandom(PREFIX)
        head = json.dumps(header, sort_keys=True).encode()
        self._aad = MAGIC + self._prefix + struct.pack(">I", len(head)) + head
        sink.write(self._aad)
        self._buf = bytearray()
        self._counter = 0

    def writable(self) -> bool:
        return True

    def write(self, data: Any) -> int:
        self._buf += data
        while len(self._buf) > SEGMENT:  # keep the tail: the last segment must be flagged
            self._emit(bytes(self._buf[:SEGMENT]), last=False)
            del self._buf[:SEGMENT]
        return len(data)

    def _emit(self, chunk: bytes, last: bool) -> None:
        sealed = self._aead.encrypt(_nonce(self._prefix, self._counter, last), chunk, self._aad)
        self._sink.write(struct.pack(">I", len(sealed)) + sealed)
        self._counter += 1

    def close(self) -> None:
        if not self.closed:
            self._emit(bytes(self._buf), last=True)
            self._buf.clear()
        super().close()


class SealedReader(io.RawIOBase):
    """A read-only stream that decrypts and authenticates `source` segment by segment."""

    def __init__(self, source: BinaryIO, key: bytes) -> None:
        super().__init__()
        self._source = source
        self._aead = AESGCM(key)
        magic = source.read(len(MAGIC))
        if magic != MAGIC:
            raise SnapshotError("not a sealed Second Self file (bad magic)")
        self._prefix = source.read(PREFIX)
        size_raw = source.read(4)
        if len(self._prefix) != PREFIX or len(size_raw) != 4:
            raise SnapshotError("sealed file header is truncated")
        (size,) = struct.unpack(">I", size_raw)
        if size > MAX_HEADER:
            raise SnapshotError("sealed file header is implausibly large")
        head = source.read(size)
        if len(head) != size:
            raise SnapshotError("sealed file header is truncated")
        self._aad = magic + self._prefix + size_raw + head
        try:
            self.header: dict[str, Any] = json.loads(head)
        except ValueError as exc:
            raise SnapshotError("sealed file header is not valid JSON") from exc
        self._counter = 0
        self._buf = b""
        self._done = False

    def readable(self) -> bool:
        return True

    def _next_segment(self) -> None:
        raw = self._source.read(4)
        if len(raw) != 4:
            raise SnapshotError("sealed file is truncated (no final segment)")
        (size,) = struct.unpack(">I", raw)
        if size < TAG or size > SEGMENT + TAG:
            raise SnapshotError("sealed file has a malformed segment")
        sealed = self._source.read(size)
        if len(sealed) != size:
            raise SnapshotError("sealed file is truncated mid-segment")
        for last in (False, True):
            try:
                plain = self._aead.decrypt(
                    _nonce(self._prefix, self._counter, last), sealed, self._aad
                )
            except InvalidTag:
                continue
            self._counter += 1
            self._buf += plain
            if last:
                if self._source.read(1):
                    raise SnapshotError("sealed file has data after its final segment")
                self._done = True
            return
        raise SnapshotError("sealed file failed authentication (damaged or another key)")

    def read(self, n: int = -1) -> bytes:
        while not self._done and (n < 0 or len(self._buf) < n):
            self._next_segment()
        if n < 0:
            n = len(self._buf)
        out, self._buf = self._buf[:n], self._buf[n:]
        return out

    def readinto(self, b: Any) -> int:
        data = self.read(len(b))
        b[: len(data)] = data
        return len(data)


def read_header(path: Path) -> dict[str, Any]:
    """The authenticated-later header of a sealed file (read without decrypting)."""
    with path.open("rb") as fh:
        return SealedReader(fh, bytes(32)).header
