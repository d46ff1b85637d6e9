"""An open vault: keys unlocked, database verified, vector index ready, model on demand.

`Memory.open` is the one way into the store for the CLI, and later the daemon and
the TUI. Only one process holds a vault at a time (a file lock), because the
runtime copy of the vector index is per vault.
"""

from __future__ import annotations

import contextlib
import fcntl
import logging
import os
import time
from pathlib import Path
from types import TracebackType
from typing import IO

from assistant.config import Config
from assistant.embedder import Embedder
from assistant.errors import KeyFileError, ModelError
from assistant.keys import VaultKeys
from assistant.paths import Paths, ensure_private
from assistant.vault import Secrets, unlock
from store.database import Database, open_database
from store.errors import DatabaseBusyError
from store.purge import resume_pending
from store.vectors import OpenReport, Progress, VectorIndex

log = logging.getLogger(__name__)


class VaultLock:
    """An exclusive advisory lock on the vault, released when the process ends."""

    def __init__(self, path: Path, timeout: float) -> None:
        self.path = path
        self.timeout = timeout
        self._fh: IO[str] | None = None

    def acquire(self) -> None:
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)
        fh = os.fdopen(fd, "r+")
        deadline = time.monotonic() + self.timeout
        while True:
            try:
                fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    fh.close()
                    raise DatabaseBusyError(
                        f"another Second Self process is using the vault at {self.path.parent}"
                        f" (waited {self.timeout:.0f} s); try again when it has finished"
                    ) from None
                time.sleep(0.1)
        self._fh = fh

    def release(self) -> None:
        if self._fh is not None:
            fcntl.flock(self._fh, fcntl.LOCK_UN)
            self._fh.close()
            self._fh = None


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

    @classmethod
    def open(
        cls,
        paths: Paths,
        config: Config,
        secrets: Secrets,
        progress: Progress | None = None,
        keys: VaultKeys | None = None,
    ) -> Memory:
        """Unlock (unless `keys` are given), lock, open the database and the index."""
        keys = keys or unlock(paths, secrets)  # checks secrets before touching any file
        lock = VaultLock(paths.lock_file, config.vault.lock_timeout)
        lock.acquire()
        try:
            db = open_database(paths.database, keys.database)
            try:
                stored_id = db.get_meta("vault_id")
                if stored_id != keys.vault_id:
                    raise KeyFileError(
                        f"keys.json belongs to vault {keys.vault_id}, the database to "
                        f"{stored_id}; put the matching files together. Nothing was changed."
                    )
                ensure_private(paths.runtime)
                index = VectorIndex(db, paths.vector_dir, paths.snapshot, keys.snapshot)
                report = index.open(progress)
                resume_pending(db, index, progress)  # a forget cut short by a crash
            except BaseException:
                db.conn.close()
                raise
        except BaseException:
            lock.release()
            raise
        return cls(paths, config, keys, db, index, lock, report)

    @property
    def embedder(self) -> Embedder:
        """The configured model, refused if the stored vectors came from another one."""
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
        try:
            self.index.close()
        finally:
            try:
                self.db.close()
            finally:
                self._lock.release()
                self._remove_empty_runtime()

    def _remove_empty_runtime(self) -> None:
        with contextlib.suppress(OSError):  # not empty, or already gone
            self.paths.runtime.rmdir()

    def __enter__(self) -> Memory:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()
