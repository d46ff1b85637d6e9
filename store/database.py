"""Open the SQLCipher database with a key, verify it, and run writes safely.

The store never sees a passphrase or the keyring: it gets a raw 256-bit key.
Opening never creates a file unless asked to, so a damaged vault is reported,
not silently replaced by an empty one. Every write passes `Database.write()`, where
the integrity guard (store/guard.py) gets its say first, and where SQLCipher's errors
that mean damage or a full disk become messages a person can act on.
"""

from __future__ import annotations

import contextlib
import logging
import os
import threading
from collections.abc import Iterator, Sequence, Sized
from pathlib import Path
from typing import TypeVar

import sqlcipher3

from store.errors import (
    DatabaseDamagedError,
    DatabaseKeyError,
    DiskFullError,
    SchemaError,
    StoreError,
)
from store.guard import IntegrityGuard
from store.integrity import (
    RESTORE_HINT,
    damage_message,
    failing_pages,
    is_damage,
    page_list,
)
from store.schema import MIGRATIONS

log = logging.getLogger(__name__)

BUSY_TIMEOUT_MS = 10_000
T = TypeVar("T")
SQLCIPHER_PAGE_SIZE = 4096  # SQLCipher 4 default; files are whole pages


class Database:
    """An open, keyed, verified memory database, safe to share between threads.

    Each thread reads through its own connection (`conn`), so a reader never sees
    another thread's transaction half done; the thread that opened the database uses
    the connection that was verified. Writes go one at a time through `write()`, under
    a process-wide lock, and SQLite's own lock keeps other processes out meanwhile.
    """

    def __init__(
        self,
        conn: sqlcipher3.Connection,
        path: Path,
        guard: IntegrityGuard | None = None,
        key: bytes | None = None,
    ) -> None:
        self.path = path
        self.guard = guard or IntegrityGuard()
        self._key = key  # for the other threads' connections; None: this thread only
        self._main = conn
        self._local = threading.local()
        self._local.conn = conn
        self._others: list[sqlcipher3.Connection] = []
        self._others_lock = threading.Lock()
        self._writer = threading.RLock()
        self._closed = False

    @property
    def conn(self) -> sqlcipher3.Connection:
        """This thread's connection, opened on its first use."""
        conn: sqlcipher3.Connection | None = getattr(self._local, "conn", None)
        if conn is None:
            conn = self._connect_thread()
            self._local.conn = conn
        return conn

    def _connect_thread(self) -> sqlcipher3.Connection:
        if self._closed:
            raise StoreError(f"{self.path.name} is closed")
        if self._key is None:
            raise StoreError("this database was opened for one thread only")
        conn = _connect(self.path, self._key, create=False)
        try:
            _configure(conn)
        except BaseException:
            conn.close()
            raise
        with self._others_lock:
            self._others.append(conn)
        return conn

    def release_thread(self) -> None:
        """Close this thread's own connection, when a thread is done with the database.

        A server that runs each client on a new thread must call this as the thread
        ends: every connection keeps its page cache until closed, so one left behind
        per request grows the process without bound (measured: ~220 KB a recall).
        """
        conn: sqlcipher3.Connection | None = getattr(self._local, "conn", None)
        if conn is None or conn is self._main:
            return
        self._local.conn = None
        with self._others_lock:
            if conn not in self._others:
                return  # closed already, with the database
            self._others.remove(conn)
        conn.close()

    @contextlib.contextmanager
    def write(self) -> Iterator[sqlcipher3.Connection]:
        """A writing transaction, one at a time in this process, taken with BEGIN
        IMMEDIATE so that writers in other processes never deadlock with it.

        Never starts in a file that failed (or is due for) the full integrity check.
        """
        with self._writer:
            conn = self.conn
            self.ensure_checked()
            try:
                conn.execute("BEGIN IMMEDIATE")
                try:
                    yield conn
                except BaseException:
                    self._rollback(conn)
                    raise
                conn.execute("COMMIT")
            except (sqlcipher3.Error, MemoryError) as exc:
                self._rollback(conn)  # a failed COMMIT (a full disk) can leave it open
                explained = self.explain(exc)
                if explained is None:
                    raise
                raise explained from exc

    @staticmethod
    def _rollback(conn: sqlcipher3.Connection) -> None:
        try:
            if conn.in_transaction:
                conn.execute("ROLLBACK")
        except (sqlcipher3.Error, MemoryError) as exc:  # a damaged file; nothing commits
            log.debug("rollback failed: %s", exc)

    def ensure_checked(self, reason: str | None = None) -> None:
        """Run the full integrity check now if it is due, or if `reason` forces it."""
        self.guard.ensure(self.conn, self.path, reason)

    def explain(self, exc: BaseException) -> StoreError | None:
        """The user's error for a SQLCipher error that means damage or a full disk."""
        if is_damage(exc, self.conn):
            message = damage_message(self.conn, self.path, exc)
            self.guard.mark_damaged(message)
            return DatabaseDamagedError(message)
        code = getattr(exc, "sqlite_errorcode", None)
        if code is not None and code & 0xFF == sqlcipher3.SQLITE_FULL:
            return DiskFullError(
                f"the disk holding {self.path.parent} is full: the change was rolled back "
                "and nothing stored was lost. Free some space there and run the command again."
            )
        return None

    def get_meta(self, key: str) -> str | None:
        row = self.conn.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
        return row[0] if row else None

    def set_meta(self, key: str, value: str) -> None:
        """Set a meta value; call inside `write()`."""
        self.conn.execute(
            "INSERT INTO meta(key, value) VALUES (?, ?) "
            "ON CONFLICT(key) DO UPDATE SET value = excluded.value",
            (key, value),
        )

    def checkpoint(self) -> None:
        """Fold the WAL into the main file and truncate it (deleted pages leave the WAL)."""
        self.conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")

    def vacuum(self) -> None:
        """Fold the WAL in, then rewrite the file without its free pages (no other write
        may run meanwhile; VACUUM cannot run inside a transaction)."""
        with self._writer:
            self.checkpoint()
            self.conn.execute("VACUUM")

    def close(self) -> None:
        """Close every thread's connection, then checkpoint and close the main one."""
        with self._writer:
            self._closed = True
            with self._others_lock:
                others, self._others = self._others, []
            for conn in others:
                conn.close()
            try:
                self._main.execute("PRAGMA wal_checkpoint(TRUNCATE)")
            except (sqlcipher3.Error, MemoryError) as exc:  # a busy reader, or damage
                log.debug("checkpoint on close skipped: %s", exc)
            self._main.close()
            self.guard.record_close(self.path)


def _connect(path: Path, key: bytes, create: bool) -> sqlcipher3.Connection:
    mode = "rwc" if create else "rw"
    conn = sqlcipher3.connect(
        f"file:{path}?mode={mode}", uri=True, isolation_level=None, check_same_thread=False
    )
    # Raw key: no passphrase derivation inside SQLCipher, the key is already random.
    conn.execute(f"PRAGMA key = \"x'{key.hex()}'\"")
    # SQLCipher would print its own log lines on stderr; damage is reported by us.
    conn.execute("PRAGMA cipher_log_level = NONE")
    return conn


def _key_failure(conn: sqlcipher3.Connection, path: Path, exc: Exception) -> StoreError:
    """Page 1 does not authenticate: a damaged file if other pages do, else a wrong key."""
    bad = failing_pages(conn)
    total = path.stat().st_size // SQLCIPHER_PAGE_SIZE
    if bad and len(bad) < total:
        return DatabaseDamagedError(
            f"{path.name} is damaged: {page_list(bad)} of {total} fail authentication "
            f"(their bytes changed on disk). Nothing was changed. {RESTORE_HINT}."
        )
    return DatabaseKeyError(
        f"{path.name} does not open with this vault's key: it is damaged, or it "
        "belongs to another vault. Nothing was changed."
    )


def _verify(conn: sqlcipher3.Connection, path: Path) -> None:
    """Fail closed on a wrong key, a foreign file, an empty file or missing pages."""
    size = path.stat().st_size
    if size % SQLCIPHER_PAGE_SIZE:
        raise DatabaseDamagedError(
            f"{path.name} is truncated or damaged ({size} bytes is not a whole number of "
            "pages). Nothing was changed; restore it from a backup."
        )
    try:
        # Page 1 only: fails when the key does not authenticate the file at all.
        version = int(conn.execute("PRAGMA user_version").fetchone()[0])
    except sqlcipher3.DatabaseError as exc:
        if getattr(exc, "sqlite_errorcode", None) == sqlcipher3.SQLITE_CORRUPT:
            raise DatabaseDamagedError(
                f"{path.name} is truncated or damaged ({exc}). Nothing was changed; "
                "restore it from a backup."
            ) from exc
        raise _key_failure(conn, path, exc) from exc
    if version == 0:
        raise DatabaseDamagedError(
            f"{path.name} holds no memory schema (empty or truncated file). "
            "Nothing was changed; restore it from a backup."
        )
    try:
        conn.execute("SELECT count(*) FROM sqlite_master").fetchone()
        page_size = int(conn.execute("PRAGMA page_size").fetchone()[0])
        pages = int(conn.execute("PRAGMA page_count").fetchone()[0])
    except sqlcipher3.DatabaseError as exc:
        raise DatabaseDamagedError(
            f"{path.name} is damaged ({exc}). Nothing was changed; restore it from a backup."
        ) from exc
    wal = path.with_name(path.name + "-wal")
    wal_size = wal.stat().st_size if wal.exists() else 0
    if wal_size == 0 and pages * page_size > size:
        raise DatabaseDamagedError(
            f"{path.name} is truncated ({size} bytes of {pages * page_size}). "
            "Nothing was changed; restore it from a backup."
        )


def _configure(conn: sqlcipher3.Connection) -> None:
    conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
    conn.execute("PRAGMA journal_mode = WAL")
    conn.execute("PRAGMA secure_delete = ON")
    conn.execute("PRAGMA foreign_keys = ON")
    # Temporary tables and sort spills stay in memory, never as plaintext temp files.
    conn.execute("PRAGMA temp_store = MEMORY")


def _migrate(conn: sqlcipher3.Connection, path: Path, guard: IntegrityGuard) -> None:
    version = conn.execute("PRAGMA user_version").fetchone()[0]
    if version > len(MIGRATIONS):
        raise SchemaError(
            f"{path.name} has schema version {version}, newer than this Second Self "
            f"knows ({len(MIGRATIONS)}); upgrade Second Self."
        )
    if version == len(MIGRATIONS):
        return
    if version > 0:  # a new, empty file has nothing to check
        guard.ensure(conn, path, "a schema migration is about to run")
    # A migration may rebuild a table (SQLite's way to change a constraint); foreign
    # keys must be off for that, and are checked before each migration commits.
    conn.execute("PRAGMA foreign_keys = OFF")
    try:
        for number, script in enumerate(MIGRATIONS[version:], start=version + 1):
            conn.execute("BEGIN IMMEDIATE")
            try:
                for statement in _statements(script):
                    conn.execute(statement)
                broken = conn.execute("PRAGMA foreign_key_check").fetchall()
                if broken:
                    raise SchemaError(
                        f"migrating {path.name} to version {number} would break "
                        f"{len(broken)} reference(s); nothing was changed"
                    )
                conn.execute(f"PRAGMA user_version = {number}")
            except BaseException:
                conn.execute("ROLLBACK")
                raise
            conn.execute("COMMIT")
            log.info("migrated %s to schema version %d", path.name, number)
    finally:
        conn.execute("PRAGMA foreign_keys = ON")


def _statements(script: str) -> list[str]:
    """Split a migration into statements, keeping trigger bodies whole."""
    out: list[str] = []
    buf = ""
    for line in script.splitlines(keepends=True):
        buf += line
        if sqlcipher3.complete_statement(buf):
            if buf.strip():
                out.append(buf.strip())
            buf = ""
    if buf.strip():
        out.append(buf.strip())
    return out


def create_database(path: Path, key: bytes) -> Database:
    """Create a new database file; refuses if anything already exists at `path`."""
    if path.exists():
        raise FileExistsError(path)
    conn = _connect(path, key, create=True)
    os.chmod(path, 0o600)
    _configure(conn)
    guard = IntegrityGuard()
    _migrate(conn, path, guard)
    return Database(conn, path, guard, key)


def open_database(path: Path, key: bytes, guard: IntegrityGuard | None = None) -> Database:
    """Open an existing database; never creates one. Raises a StoreError on failure.

    `guard` decides when the full integrity check runs; without one it runs only
    before a migration or a rebuild.
    """
    guard = guard or IntegrityGuard()
    if not path.exists():
        raise DatabaseDamagedError(
            f"{path} is missing while the vault's key file exists. Nothing was created; "
            "restore the file from a backup."
        )
    guard.observe(path)  # before this process changes anything
    conn = _connect(path, key, create=False)
    try:
        _verify(conn, path)
        _configure(conn)
        _migrate(conn, path, guard)
    except BaseException:
        conn.close()
        raise
    return Database(conn, path, guard, key)


def chunked(ids: Sequence[T], size: int = 500) -> Iterator[Sequence[T]]:
    """`ids` in slices small enough for one `IN (...)` list of SQL parameters."""
    for start in range(0, len(ids), size):
        yield ids[start : start + size]


def marks(values: Sized) -> str:
    """The `?, ?, ...` placeholders for an `IN (...)` list of `values`."""
    return ",".join("?" * len(values))
