"""The forget ledger: a sealed copy of the tombstones, kept beside the database.

A backup holds what was true when it was made. Restoring it must not bring back what
was forgotten since, and the most common reason to restore is a memory.db that no
longer opens, so the tombstones inside it cannot be the only record. After every
forget the whole tombstone table, with the salt its fingerprints are keyed with, is
written here, sealed (store/sealing.py) under a key derived from the vault key.
Like the tombstones it holds fingerprints only: nothing in it can be read back as text.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path

import sqlcipher3

from store import tombstones
from store.errors import SnapshotError
from store.sealing import SealedReader, SealedWriter

KIND = "forget-ledger"


@dataclass(frozen=True)
class Ledger:
    vault_id: str
    salt: bytes
    entries: list[tuple[str, str, str]]  # (digest, kind, at)

    def digests(self, kind: str) -> set[str]:
        return {d for d, k, _at in self.entries if k == kind}


def write(path: Path, key: bytes, vault_id: str, conn: sqlcipher3.Connection) -> Ledger:
    """Mirror the tombstones of `conn` into `path` (atomically: a crash leaves the old
    ledger whole)."""
    ledger = Ledger(vault_id, bytes.fromhex(tombstones.salt_hex(conn)), tombstones.rows(conn))
    body = json.dumps({"salt": ledger.salt.hex(), "entries": ledger.entries}).encode()
    tmp = path.with_name(path.name + ".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        with os.fdopen(fd, "wb") as fh:
            writer = SealedWriter(fh, key, {"kind": KIND, "vault": vault_id})
            writer.write(body)
            writer.close()
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return ledger


def read(path: Path, key: bytes) -> Ledger | None:
    """The ledger at `path`, or None when there is none; SnapshotError when it is
    damaged or sealed under another key."""
    if not path.exists():
        return None
    with path.open("rb") as fh:
        reader = SealedReader(fh, key)
        if reader.header.get("kind") != KIND:
            raise SnapshotError(f"{path.name} is not a forget ledger")
        body = reader.read()
    try:
        data = json.loads(body)
        entries = [(str(d), str(k), str(a)) for d, k, a in data["entries"]]
        return Ledger(str(reader.header.get("vault", "")), bytes.fromhex(data["salt"]), entries)
    except (ValueError, KeyError, TypeError) as exc:
        raise SnapshotError(f"{path.name} is damaged: {exc}") from exc
