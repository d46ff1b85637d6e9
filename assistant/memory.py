"""An open vault: keys unlocked, database verified, vector index ready, model on demand.

`Memory.open` is the one way into the store for the CLI, and later the daemon and
the TUI. Only one process holds a vault at a time (a file lock), because the
runtime copy of the vector index is per vault. When a full integrity check of the
database is due (store/guard.py), it runs here, before any work, so that a damaged
file stops a command before it has parsed or computed anything.
"""

from __future__ import annotations

import logging
import threading
from types import TracebackType

import sqlcipher3

from assistant.config import Config
from assistant.embedder import Embedder
from assistant.errors import KeyFileError, ModelError
from assistant.keys import VaultKeys
from assistant.paths import Paths, ensure_private
from assistant.runtime import VaultLock, drop_if_empty, leftovers, remove
from assistant.vault import Secrets, unlock
from store.database import Database, open_database
from store.guard import IntegrityGuard
from store.integrity import CheckProgress
from store.purge import resume_pending
from store.vectors import OpenReport, Progress, VectorIndex

log = logging.getLogger(__name__)


class Memory:
    """The unlocked memory; use as a context manager so the index is always sealed."""

    def __init__(
        self,
        paths: Paths,
        config: Config,
        keys: VaultKeys,
        db: Database,
        index: VectorIndex,
        lock: VaultLock,
        report: OpenReport,
    ) -> None:
        self.paths = paths
        self.config = config
        self.keys = keys
        self.db = db
        self.index = index
        self.index_report = report
        self._lock = lock
        self._embedder: Embedder | None = None
        self._embedder_lock = threading.Lock()

    @classmethod
    def open(
        cls,
        paths: Paths,
        config: Config,
        secrets: Secrets,
        progress: Progress | None = None,
        keys: VaultKeys | None = None,
        check_progress: CheckProgress | None = None,
    ) -> Memory:
        """Unlock (unless `keys` are given), lock, open the database and the index."""
        keys = keys or unlock(paths, secrets)  # checks secrets before touching any file
        lock = VaultLock(paths.lock_file, config.vault.lock_timeout)
        lock.acquire()
        try:
            remove(leftovers(paths))  # a killed holder's; the lock is ours now
            ensure_private(paths.cache)
            guard = IntegrityGuard(
                paths.integrity_stamp, config.vault.check_after_days, check_progress
            )
            db = open_database(paths.database, keys.database, guard)
            try:
                index, report = cls._ready(paths, keys, db, progress)
            except BaseException:
                db.conn.close()
                raise
            finally:
                guard.progress = None  # the caller's progress display ends with `open`
        except BaseException:
            lock.release()
            drop_if_empty(paths.runtime)
            raise
        return cls(paths, config, keys, db, index, lock, report)

    @staticmethod
    def _ready(
        paths: Paths, keys: VaultKeys, db: Database, progress: Progress | None
    ) -> tuple[VectorIndex, OpenReport]:
        """Check the vault id and, when due, the whole file; then make the index ready."""
        try:
            stored_id = db.get_meta("vault_id")
        except (sqlcipher3.Error, MemoryError) as exc:
            raise (db.explain(exc) or exc) from exc
        if stored_id != keys.vault_id:
            raise KeyFileError(
                f"keys.json belongs to vault {keys.vault_id}, the database to "
                f"{stored_id}; put the matching files together. Nothing was changed."
            )
        db.ensure_checked()
        ensure_private(paths.runtime)
        index = VectorIndex(db, paths.vector_dir, paths.snapshot, keys.snapshot)
        report = index.open(progress)
        resume_pending(db, index, progress)  # a forget cut short by a crash
        return index, report

    @property
    def embedder(self) -> Embedder:
        """The configured model, refused if the stored vectors came from another one."""
        with self._embedder_lock:
            return self._make_embedder()

    def _make_embedder(self) -> Embedder:
        if self._embedder is None:
            wanted = self.config.embedding.model
            row = self.db.conn.execute(
                "SELECT model FROM vectors WHERE model != ? LIMIT 1", (wanted,)
            ).fetchone()
            if row is not None:
                raise ModelError(
                    f"this vault's vectors were made with {row[0]!r} but the embedding model "
                    f"setting is {wanted!r}; vectors of different models cannot be mixed. "
                    f"Set [embedding] model back to {row[0]!r}."
                )
            self._embedder = Embedder(self.config.embedding)
        return self._embedder

    def close(self) -> None:
        """Seal and close; after damage, only remove the plaintext copy (no more writes)."""
        try:
            if self.db.guard.damaged:
                self.index.discard()
            else:
                self.index.close()
        finally:
            try:
                self.db.close()
            finally:
                self._lock.release()
                drop_if_empty(self.paths.runtime)

    def __enter__(self) -> Memory:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        explained = None
        if isinstance(exc, sqlcipher3.Error | MemoryError):
            explained = self.db.explain(exc)  # damage or a full disk, told plainly
        self.close()
        if explained is not None:
            raise explained from exc
