"""Tombstones: keyed fingerprints of forgotten memories, so they are never read or
learned again.

A forget deletes every copy of a memory; what stays is an HMAC-SHA256 of a key that
identifies it (an episode's content and place in its chat, a fact's person, attribute
and value, a thought's words), under a random salt kept inside the encrypted database.
The fingerprint cannot be turned back into the text. Someone who holds the unlocked
vault and guesses the exact text could confirm the guess; that is the price of "never
again", and the README says so.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Iterable
from datetime import datetime

import sqlcipher3

from store.database import chunked, marks

KINDS = ("episode", "fact", "thought")


def _salt(conn: sqlcipher3.Connection) -> bytes:
    row = conn.execute("SELECT value FROM meta WHERE key = 'tombstone_salt'").fetchone()
    if row is None:  # written by migration 6; a missing salt means a damaged meta table
        raise RuntimeError("the database has no tombstone salt")
    return bytes.fromhex(row[0])


def _mac(salt: bytes, kind: str, key: str) -> str:
    return hmac.new(salt, f"{kind}\x00{key}".encode(), hashlib.sha256).hexdigest()


def bury(conn: sqlcipher3.Connection, kind: str, keys: Iterable[str]) -> int:
    """Record fingerprints for `keys`; call inside the forget's write transaction."""
    if kind not in KINDS:
        raise ValueError(f"unknown tombstone kind {kind!r}")
    salt = _salt(conn)
    stamp = datetime.now().astimezone().isoformat(timespec="seconds")
    rows = {(_mac(salt, kind, k), kind, stamp) for k in keys}
    conn.executemany("INSERT OR IGNORE INTO tombstones (digest, kind, at) VALUES (?, ?, ?)", rows)
    return len(rows)


def buried(conn: sqlcipher3.Connection, kind: str, keys: Iterable[str]) -> set[str]:
    """Which of `keys` were forgotten."""
    salt = _salt(conn)
    by_digest = {_mac(salt, kind, k): k for k in keys}
    found: set[str] = set()
    for part in chunked(list(by_digest)):
        found.update(
            by_digest[r[0]]
            for r in conn.execute(
                f"SELECT digest FROM tombstones WHERE digest IN ({marks(part)})", part
            )
        )
    return found


def count(conn: sqlcipher3.Connection) -> int:
    return int(conn.execute("SELECT count(*) FROM tombstones").fetchone()[0])


def salt_hex(conn: sqlcipher3.Connection) -> str:
    return _salt(conn).hex()


def digest(salt: bytes, kind: str, key: str) -> str:
    """The fingerprint of `key` under `salt` (another vault's, in a ledger)."""
    return _mac(salt, kind, key)


def rows(conn: sqlcipher3.Connection) -> list[tuple[str, str, str]]:
    """Every (digest, kind, at), oldest first."""
    return [tuple(r) for r in conn.execute("SELECT digest, kind, at FROM tombstones ORDER BY at")]


def adopt(conn: sqlcipher3.Connection, found: list[tuple[str, str, str]]) -> int:
    """Add fingerprints made under this database's salt (a ledger's); how many were new."""
    before = count(conn)
    conn.executemany("INSERT OR IGNORE INTO tombstones (digest, kind, at) VALUES (?, ?, ?)", found)
    return count(conn) - before


def episode_key(content_hash: str, sender: str | None, conversation: str | None, time: str) -> str:
    """What identifies an episode across re-reads: a note's chunk by what it says (its
    file may be renamed or touched), a message also by who sent it, where and when (the
    same "ok" from someone else, or on another day, is another memory)."""
    if conversation:
        return f"{content_hash}\x00{sender or ''}\x00{conversation}\x00{time}"
    return content_hash


def fact_key(person_key: str, attribute: str, value_key: str) -> str:
    return f"{person_key}\x00{attribute}\x00{value_key}"


def thought_key(text: str) -> str:
    return " ".join(text.casefold().split())
