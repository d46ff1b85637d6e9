"""Decrypt a SQLCipher 4 database file page by page, free pages included, for tests.

Querying a database only shows live rows; a forget must also leave nothing in free
pages, FTS b-tree leftovers or the WAL. So tests read the raw file and decrypt every
page with the vault's key (SQLCipher 4 defaults, raw 256-bit key: AES-256-CBC per page,
the page's IV in its reserved tail, the file's salt in the first 16 bytes of page 1).
HMACs are not checked here: the point is to see the plaintext, not to authenticate it.
"""

from __future__ import annotations

from pathlib import Path

from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

PAGE = 4096
RESERVE = 80  # IV (16) + HMAC-SHA512 (64), SQLCipher 4's default
SALT = 16
WAL_HEADER = 32
FRAME_HEADER = 24


def _decrypt_page(key: bytes, page: bytes, first: bool) -> bytes:
    start = SALT if first else 0
    iv = page[PAGE - RESERVE : PAGE - RESERVE + 16]
    decryptor = Cipher(algorithms.AES(key), modes.CBC(iv)).decryptor()
    return decryptor.update(page[start : PAGE - RESERVE]) + decryptor.finalize()


def decrypted_pages(path: Path, key: bytes) -> list[bytes]:
    """Every page of a database file, decrypted."""
    data = path.read_bytes()
    return [
        _decrypt_page(key, data[i : i + PAGE], first=(i == 0))
        for i in range(0, len(data) - PAGE + 1, PAGE)
    ]


def decrypted_wal_frames(path: Path, key: bytes) -> list[bytes]:
    """Every page image in a WAL file, decrypted (page 1 images carry the salt too)."""
    if not path.exists():
        return []
    data = path.read_bytes()
    frames = []
    at = WAL_HEADER
    while at + FRAME_HEADER + PAGE <= len(data):
        number = int.from_bytes(data[at : at + 4], "big")
        page = data[at + FRAME_HEADER : at + FRAME_HEADER + PAGE]
        frames.append(_decrypt_page(key, page, first=(number == 1)))
        at += FRAME_HEADER + PAGE
    return frames


def plaintext(database: Path, key: bytes) -> bytes:
    """The database's and its WAL's pages, decrypted and joined, to search in."""
    wal = database.with_name(database.name + "-wal")
    return b"".join(decrypted_pages(database, key) + decrypted_wal_frames(wal, key))
