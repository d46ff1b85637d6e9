"""An open vault: keys unlocked, database verified, vector index and model on demand.

`Memory.open` is the one way into the store for the CLI, the daemon and the TUI.
Only one process holds a vault at a time (a file lock), because the runtime copy of
the vector index is per vault. When a full integrity check of the database is due
(store/guard.py), it runs here, before any work, so that a damaged file stops a
command before it has parsed or computed anything.

The chroma index is opened at `open` (`index=True`, for work that writes and for the
daemon, which keeps it warm) or at first use. Until then, `nearest` scores every
stored vector straight from SQLCipher: for a one-shot `me recall` that is ~2 s
faster than importing chromadb and restoring the sealed copy (~0.05 s at 10k
vectors), and no plaintext index copy is made at all.
"""

from __future__ import annotations

import logging
import os
import threading
from pathlib import Path
from types import TracebackType

import numpy as np
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
from store.progress import Cancel, Progress
from store.purge import purge_pending, resume_pending
from store.vectors import OpenReport, VectorIndex, exact_nearest, time_clause

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
        report: OpenReport | None,
    ) -> None:
        self.paths = paths
        self.config = config
        self.keys = keys
        self.db = db
        self._index = index
        # None until the chroma index is open; then how it came to be ready.
        self.index_report = report
        self._index_lock = threading.Lock()
        self._lock = lock
        self._embedder: Embedder | None = None
        self._embedder_lock = threading.Lock()
        # One long writing job at a time (ingest, sync, reflect, forget): each decides
        # what to do outside its transactions, so two at once would do it twice.
        self.jobs = threading.RLock()

    @classmethod
    def open(
        cls,
        paths: Paths,
        config: Config,
        secrets: Secrets,
        progress: Progress | None = None,
        keys: VaultKeys | None = None,
        cancel: Cancel | None = None,
        index: bool = True,
    ) -> Memory:
        """Unlock (unless `keys` are given), lock, open the database and, with `index`,
        the vector index (otherwise it opens at first use; see the module's notes).

        `progress` hears every long step of opening: a due integrity check, an index
        rebuild, the end of an interrupted forget. `cancel` stops the check or the
        rebuild (a forget's purge always finishes)."""
        keys = keys or unlock(paths, secrets)  # checks secrets before touching any file
        lock = VaultLock(paths.lock_file, config.vault.lock_timeout)
        lock.acquire()
        try:
            remove(leftovers(paths))  # a killed holder's; the lock is ours now
            ensure_private(paths.cache)
            guard = IntegrityGuard(
                paths.integrity_stamp, config.vault.check_after_days, progress, cancel
            )
            db = open_database(paths.database, keys.database, guard)
            try:
                vectors, report = cls._ready(paths, keys, db, index, progress, cancel)
            except BaseException:
                db.conn.close()
                raise
            finally:
                # The caller's progress display and stop button end with `open`.
                guard.progress = guard.cancel = None
        except BaseException:
            lock.release()
            drop_if_empty(paths.runtime)
            raise
        return cls(paths, config, keys, db, vectors, lock, report)

    @staticmethod
    def _ready(
        paths: Paths,
        keys: VaultKeys,
        db: Database,
        open_index: bool,
        progress: Progress | None,
        cancel: Cancel | None,
    ) -> tuple[VectorIndex, OpenReport | None]:
        """Check the vault id and, when due, the whole file; then make the index ready
        when asked, or when a forget cut short by a crash must finish its purge."""
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
        index = VectorIndex(db, paths.vector_dir, paths.snapshot, keys.snapshot)
        if not (open_index or purge_pending(db)):
            return index, None
        ensure_private(paths.runtime)
        report = index.open(progress, cancel)
        resume_pending(db, index, progress)
        return index, report

    @property
    def index(self) -> VectorIndex:
        """The chroma index, opened now if it was not yet (without progress: callers
        that may rebuild a large index call `open_index` with theirs first)."""
        self.open_index()
        return self._index

    def open_index(
        self, progress: Progress | None = None, cancel: Cancel | None = None
    ) -> OpenReport:
        """Open the chroma index unless it is open; how it came to be ready."""
        with self._index_lock:
            if self.index_report is None:
                ensure_private(self.paths.runtime)
                self.index_report = self._index.open(progress, cancel)
            return self.index_report

    def nearest(
        self, vector: np.ndarray, n: int, since: float | None = None, until: float | None = None
    ) -> list[tuple[int, float]]:
        """The `n` episodes nearest `vector` as (id, cosine), optionally within a time
        range: from the chroma index when it is open, else scored exactly."""
        if self.index_report is not None:
            return self._index.query(vector, n, since, until)
        return exact_nearest(self.db, vector, n, *time_clause(since, until))

    def vector_count(self) -> int:
        if self.index_report is not None:
            return self._index.count()
        return int(self.db.conn.execute("SELECT count(*) FROM vectors").fetchone()[0])

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
            self._embedder = Embedder(self.config.embedding, onnx_cache(self.paths))
        return self._embedder

    def close(self) -> None:
        """Seal and close; after damage, only remove the plaintext copy (no more writes)."""
        try:
            if self.db.guard.damaged:
                self._index.discard()
            else:
                self._index.close()
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


def onnx_cache(paths: Paths) -> Path:
    """Where the model's ONNX export is kept: the cache folder (it holds no memory
    content), or SECONDSELF_ONNX_CACHE to share one export between vaults."""
    shared = os.environ.get("SECONDSELF_ONNX_CACHE")
    return Path(shared) if shared else paths.cache / "onnx"
