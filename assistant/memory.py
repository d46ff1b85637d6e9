"""An open vault: keys unlocked, database verified, vector index ready, model on demand.

`Memory.open` is the one way into the store for the CLI, and later the daemon and
the TUI. Only one process holds a vault at a time (a file lock), because the
runtime copy of the vector index is per vault. When a full integrity check of the
database is due (store/guard.py), it runs here, before any work, so that a damaged
file stops a command before it has parsed or computed anything.
"""

from __future__ import annotations

import inspect
import logging
import os
import threading
from collections.abc import Callable
from pathlib import Path
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
from store.progress import Cancel, Progress
from store.purge import resume_pending
from store.vectors import OpenReport, VectorIndex

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
        # One long writing job at a time (ingest, sync, reflect, forget): each decides
        # what to do outside its transactions, so two at once would do it twice.
        self.jobs = threading.RLock()

    @classmethod
    def open(
        cls,
        paths: Paths,
        config: Config,
        secrets: Secrets,
        progress: Progress | Callable[[int, int], None] | None = None,
        keys: VaultKeys | None = None,
        check_progress: Progress | None = None,
        cancel: Cancel | None = None,
    ) -> Memory:
        """Unlock (unless `keys` are given), lock, open the database and the index.

        `progress` hears every long step of opening: a due integrity check, an index
        rebuild, the end of an interrupted forget. `cancel` stops the check or the
        rebuild (a forget's purge always finishes). `check_progress`, and a `progress`
        taking only (done, total), are the older shapes, kept until every caller
        passes the one shape."""
        progress, check_progress = _one_shape(progress, check_progress)
        keys = keys or unlock(paths, secrets)  # checks secrets before touching any file
        lock = VaultLock(paths.lock_file, config.vault.lock_timeout)
        lock.acquire()
        try:
            remove(leftovers(paths))  # a killed holder's; the lock is ours now
            ensure_private(paths.cache)
            guard = IntegrityGuard(
                paths.integrity_stamp, config.vault.check_after_days, check_progress, cancel
            )
            db = open_database(paths.database, keys.database, guard)
            try:
                index, report = cls._ready(paths, keys, db, progress, cancel)
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
        return cls(paths, config, keys, db, index, lock, report)

    @staticmethod
    def _ready(
        paths: Paths,
        keys: VaultKeys,
        db: Database,
        progress: Progress | None,
        cancel: Cancel | None,
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
        report = index.open(progress, cancel)
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
            self._embedder = Embedder(self.config.embedding, onnx_cache(self.paths))
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


def _one_shape(
    progress: Progress | Callable[[int, int], None] | None, check_progress: Progress | None
) -> tuple[Progress | None, Progress | None]:
    """(progress, progress of the integrity check), both in the one shape.

    Transitional: `progress` used to hear only the index as (done, total), and the
    check had its own callback. A two-argument `progress` is adapted and, as before,
    hears the index only; remove this once every caller passes the one shape."""
    if progress is None or not _takes_two(progress):
        return progress, check_progress or progress  # type: ignore[return-value]
    legacy: Callable[[int, int], None] = progress  # type: ignore[assignment]

    def index_only(_stage: str, done: int, total: int | None) -> None:
        legacy(done, total or 0)

    return index_only, check_progress


def _takes_two(func: Callable[..., None]) -> bool:
    try:
        params = inspect.signature(func).parameters.values()
    except (TypeError, ValueError):
        return False
    kinds = (inspect.Parameter.POSITIONAL_ONLY, inspect.Parameter.POSITIONAL_OR_KEYWORD)
    if any(p.kind is inspect.Parameter.VAR_POSITIONAL for p in params):
        return False
    return sum(1 for p in params if p.kind in kinds and p.default is p.empty) == 2


def onnx_cache(paths: Paths) -> Path:
    """Where the model's ONNX export is kept: the cache folder (it holds no memory
    content), or SECONDSELF_ONNX_CACHE to share one export between vaults."""
    shared = os.environ.get("SECONDSELF_ONNX_CACHE")
    return Path(shared) if shared else paths.cache / "onnx"
