"""The nearest-neighbour index: chromadb in a private runtime folder, sealed at rest.

chromadb cannot encrypt and keeps deleted data in its files, so it only ever lives
in the runtime directory (tmpfs where the OS has one) while the vault is open.
The `vectors` table in SQLCipher is the source of truth; every change to it is
appended to `vector_log`. On disk the index exists only as a sealed snapshot that
records the last log entry it contains:

    open:  restore snapshot -> replay log entries after it  (or rebuild from SQLCipher)
    close: seal snapshot (if anything changed) -> prune log -> remove runtime copy

Whatever fails (a damaged snapshot excepted, which is rebuilt and reported in
`OpenReport.notice`), the runtime copy is removed before the error leaves, and a
full folder is named as such (`DiskFullError`), never as a chromadb traceback.
"""

from __future__ import annotations

import errno
import functools
import logging
import multiprocessing
import os
import shutil
import sys
import tarfile
import threading
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any, TypeVar

import numpy as np

from store.database import Database
from store.errors import DiskFullError, SnapshotError
from store.layout import restore_dir, snapshot_tmp
from store.progress import Cancel, Progress, check
from store.sealing import SEGMENT, SealedReader, SealedWriter

log = logging.getLogger(__name__)

COLLECTION = "episodes"
REBUILD_BATCH = 5000
REBUILD_STAGE = "Rebuilding the vector index"


@dataclass
class OpenReport:
    """How the index came to be ready; shown by `me status` and the benchmarks."""

    how: str  # "restored", "rebuilt", "empty"
    reason: str = ""
    replayed: int = 0
    vectors: int = 0
    notice: str = ""  # for the user, once; empty when nothing happened worth telling


def _no_space(exc: BaseException | None) -> bool:
    """Whether an error (or one it grew from) means a full disk or quota."""
    while exc is not None:
        if isinstance(exc, OSError) and exc.errno in (errno.ENOSPC, errno.EDQUOT):
            return True
        if "disk is full" in str(exc) or "No space left" in str(exc):
            return True  # chromadb wraps SQLite's and the OS's errors in its own
        exc = exc.__cause__ or exc.__context__
    return False


def _private(root: Path) -> None:
    """Files 0600 and folders 0700, whatever the umask chroma was started under."""
    for folder, dirs, files in os.walk(root):
        for name in dirs:
            os.chmod(os.path.join(folder, name), 0o700)
        for name in files:
            path = os.path.join(folder, name)
            if os.stat(path).st_mode & 0o077:
                os.chmod(path, 0o600)


def _chroma() -> Any:
    # chromadb costs ~1 s to import; only load it when an index is opened.
    os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")
    import chromadb
    from chromadb.config import Settings

    return chromadb, Settings


F = TypeVar("F", bound=Callable[..., Any])


def _serialized(method: F) -> F:
    """Run `method` holding the index's lock: chroma's client is not safe to share
    between threads, and a seal must not interleave with a query or a replay."""

    @functools.wraps(method)
    def locked(self: VectorIndex, *args: Any, **kwargs: Any) -> Any:
        with self._lock:
            return method(self, *args, **kwargs)

    return locked  # type: ignore[return-value]


class VectorIndex:
    """chromadb collection of episode vectors, kept in step with SQLCipher."""

    def __init__(self, db: Database, runtime_dir: Path, snapshot: Path, key: bytes) -> None:
        self.db = db
        self.dir = runtime_dir
        self.snapshot = snapshot
        self._key = key
        self._client: Any = None
        self._col: Any = None
        self.applied_seq = 0
        self._dirty = False
        self._broken = False  # a failed update: discard at close instead of sealing
        self._lock = threading.RLock()

    # -- lifecycle -------------------------------------------------------------
    @_serialized
    def open(self, progress: Progress | None = None, cancel: Cancel | None = None) -> OpenReport:
        """Make the index ready: restore + replay, or rebuild when that is impossible.

        A cancelled rebuild leaves nothing behind: the runtime copy goes, and the next
        open starts again (the database is the truth and was not touched)."""
        try:
            return self._open(progress, cancel)
        except BaseException as exc:
            self.discard()
            if _no_space(exc):
                raise DiskFullError(self._runtime_full()) from exc
            raise

    def _open(self, progress: Progress | None, cancel: Cancel | None) -> OpenReport:
        if self.dir.exists():  # left by a crash; SQLCipher is the truth, start clean
            shutil.rmtree(self.dir)
        self.dir.mkdir(mode=0o700, parents=True)
        total = self._count_vectors()
        report: OpenReport
        if not self.snapshot.exists():
            report = OpenReport("empty" if total == 0 else "rebuilt", "no snapshot yet")
            self._start_client()
            if total:
                self._rebuild(progress, cancel=cancel)
                report.notice = (
                    f"{self.snapshot.name} was missing; the vector index was rebuilt from "
                    f"the database ({total} vectors). Nothing was lost."
                )
        else:
            try:
                self._ensure_room(self.snapshot.stat().st_size)
                self._restore()
                replayed = self.replay()
                if self._col.count() != total:
                    raise SnapshotError(
                        f"index holds {self._col.count()} vectors, the database {total}"
                    )
                report = OpenReport("restored", replayed=replayed)
            except (SnapshotError, tarfile.TarError, OSError, ValueError) as exc:
                if _no_space(exc):
                    raise
                log.warning("vector snapshot unusable (%s); rebuilding from the database", exc)
                self.discard()
                self.dir.mkdir(mode=0o700)
                self._start_client()
                self._rebuild(progress, cancel=cancel)
                report = OpenReport("rebuilt", str(exc))
                report.notice = (
                    f"{self.snapshot.name} could not be used ({exc}); the vector index was "
                    f"rebuilt from the database ({total} vectors) and is sealed again when "
                    "this command ends. Nothing was lost: it holds only derived data."
                )
        report.vectors = self._col.count()
        return report

    def _ensure_room(self, needed: int) -> None:
        """Refuse before unpacking when the runtime folder cannot hold the index."""
        free = shutil.disk_usage(self.dir).free
        if free < needed:
            raise DiskFullError(self._runtime_full(needed))

    def _runtime_full(self, needed: int | None = None) -> str:
        size = f" (the index needs about {needed / 2**20:.0f} MiB)" if needed else ""
        return (
            f"the runtime folder {self.dir.parent} is full{size}: the vector index does not "
            "fit there. Nothing stored was lost and no copy of the index was left behind. "
            "Free space there, or point XDG_RUNTIME_DIR at a larger tmpfs, and run the "
            "command again."
        )

    @_serialized
    def close(self) -> None:
        """Seal if changed, then remove every plaintext trace of the runtime copy."""
        try:
            if self._dirty and not self._broken:
                self.seal(restart=False)
        finally:
            self.discard()

    @_serialized
    def discard(self) -> None:
        """Drop the runtime copy without sealing it (after an error, or after damage)."""
        try:
            self._stop_client()
        except Exception as exc:  # chroma after a failure; its files go regardless
            log.debug("closing chroma failed: %s", exc)
            self._client = self._col = None
        for leftover in (self.dir, restore_dir(self.dir)):
            shutil.rmtree(leftover, ignore_errors=True)

    @_serialized
    def rebuild(self, progress: Progress | None = None) -> None:
        """Start the runtime index afresh from the database and seal it. After a forget
        the old copy must go whole: chroma keeps deleted embeddings in its queue and in
        its HNSW files, and a seal would carry them on.

        The new index is written by a fresh process. hnswlib saves its whole allocated
        capacity, and the unused slots hold whatever the heap held before: in this
        process, the old index's vectors, forgotten ones included (a test found them in
        the new data_level0.bin). A fresh process's heap holds nothing of them.

        It takes no `Cancel`: once a forget has committed, its purge runs to the end (a
        stop would leave the sealed copy of what was forgotten on disk until the next
        open finishes the purge)."""
        self._stop_client()
        shutil.rmtree(self.dir, ignore_errors=True)
        self.dir.mkdir(mode=0o700, parents=True)
        _tracker_with_real_stderr()
        context = multiprocessing.get_context("spawn")
        ours, theirs = context.Pipe()
        child = context.Process(
            target=_fill_in_fresh_process, args=(str(self.dir), theirs), daemon=True
        )
        child.start()
        theirs.close()
        try:
            self._rebuild(progress, ours.send)
            ours.send(None)
            failure = ours.recv()
        finally:
            ours.close()
            child.join()
        if failure is not None:
            raise SnapshotError(f"the vector index could not be rebuilt: {failure}")
        self.seal()  # from the child's files, then opened here to serve this process

    def _start_client(self) -> None:
        self._client, self._col = _open_collection(self.dir)

    def _stop_client(self) -> None:
        if self._client is not None:
            self._client.close()
            self._client = None
            self._col = None

    # -- snapshot --------------------------------------------------------------
    @_serialized
    def seal(self, restart: bool = True) -> None:
        """Write the runtime index to disk encrypted, then drop the log it covers."""
        self._stop_client()  # flush and release chroma's files before reading them
        _private(self.dir)  # the archive records modes: keep them private on restore too
        snapshot_id = uuid.uuid4().hex
        header = {"kind": "vector-index", "seq": self.applied_seq, "id": snapshot_id}
        tmp = snapshot_tmp(self.snapshot)
        try:
            fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            with os.fdopen(fd, "wb") as fh:
                writer = SealedWriter(fh, self._key, header)
                with tarfile.open(fileobj=writer, mode="w|") as tar:
                    tar.add(self.dir, arcname="index")
                writer.close()
                fh.flush()
                os.fsync(fh.fileno())
            os.replace(tmp, self.snapshot)
        except BaseException as exc:
            tmp.unlink(missing_ok=True)
            if _no_space(exc):
                raise DiskFullError(
                    f"the disk holding {self.snapshot.parent} is full: the vector index could "
                    f"not be sealed. The old {self.snapshot.name} is kept and nothing was "
                    "lost: the index catches up from memory.db next time. Free some space "
                    "there and run any command."
                ) from exc
            raise
        with self.db.write() as conn:
            self.db.set_meta("snapshot_id", snapshot_id)
            conn.execute("DELETE FROM vector_log WHERE seq <= ?", (self.applied_seq,))
        self._dirty = False
        if restart:
            self._start_client()

    def _restore(self) -> None:
        expected = self.db.get_meta("snapshot_id")
        restored = restore_dir(self.dir)
        if restored.exists():  # left by a crash mid-restore
            shutil.rmtree(restored)
        try:
            with self.snapshot.open("rb") as fh:
                reader = SealedReader(fh, self._key)
                header = reader.header
                if header.get("id") != expected:
                    raise SnapshotError("snapshot is not the one this database last sealed")
                with tarfile.open(fileobj=reader, mode="r|") as tar:
                    tar.extractall(restored, filter="data")
                while reader.read(SEGMENT):  # authenticate to the end, not just the tar
                    pass
            shutil.rmtree(self.dir)
            os.replace(restored / "index", self.dir)
        finally:
            # A failed restore must not leave decrypted index files behind.
            shutil.rmtree(restored, ignore_errors=True)
        self.applied_seq = int(header["seq"])
        self._start_client()

    # -- keeping in step with SQLCipher -----------------------------------------
    @_serialized
    def replay(self) -> int:
        """Apply log entries newer than the index; returns how many episodes changed."""
        try:
            return self._replay()
        except Exception as exc:
            # Half-applied: never seal it; the log still holds every entry for next time.
            self._broken = True
            if _no_space(exc):
                raise DiskFullError(self._runtime_full()) from exc
            raise

    def _replay(self) -> int:
        rows = self.db.conn.execute(
            "SELECT seq, episode_id, op FROM vector_log WHERE seq > ? ORDER BY seq",
            (self.applied_seq,),
        ).fetchall()
        if not rows:
            return 0
        last_op: dict[int, str] = {}
        for _seq, episode_id, op in rows:
            last_op[episode_id] = op
        deletes = [i for i, op in last_op.items() if op == "delete"]
        adds = [i for i, op in last_op.items() if op == "add"]
        if deletes:
            self._col.delete(ids=[str(i) for i in deletes])
        for start in range(0, len(adds), REBUILD_BATCH):
            self._add_from_db(adds[start : start + REBUILD_BATCH])
        self.applied_seq = rows[-1][0]
        self._dirty = True
        _private(self.dir)
        return len(last_op)

    def _add_from_db(self, episode_ids: Sequence[int]) -> None:
        marks = ",".join("?" * len(episode_ids))
        rows = self.db.conn.execute(
            f"SELECT v.episode_id, v.vector, e.time_unix FROM vectors v "
            f"JOIN episodes e ON e.id = v.episode_id WHERE v.episode_id IN ({marks})",
            list(episode_ids),
        ).fetchall()
        if rows:
            self._upsert(rows)

    def _upsert(self, rows: Sequence[tuple[int, bytes, float]]) -> None:
        _upsert_rows(self._col, rows)

    def _rebuild(
        self,
        progress: Progress | None,
        upsert: Callable[[list[Any]], None] | None = None,
        cancel: Cancel | None = None,
    ) -> None:
        # Never rebuild from (and then seal) a database that fails the full check.
        self.db.ensure_checked("the vector index is about to be rebuilt")
        total = self._count_vectors()
        top = self.db.conn.execute("SELECT coalesce(max(seq), 0) FROM vector_log").fetchone()[0]
        done = 0
        cursor = self.db.conn.execute(
            "SELECT v.episode_id, v.vector, e.time_unix FROM vectors v "
            "JOIN episodes e ON e.id = v.episode_id ORDER BY v.episode_id"
        )
        while batch := cursor.fetchmany(REBUILD_BATCH):
            check(cancel, "the vector index rebuild")
            (upsert or self._upsert)(batch)
            done += len(batch)
            if progress:
                progress(REBUILD_STAGE, done, total)
        self.applied_seq = top
        self._dirty = True
        _private(self.dir)

    def _count_vectors(self) -> int:
        return int(self.db.conn.execute("SELECT count(*) FROM vectors").fetchone()[0])

    # -- queries ---------------------------------------------------------------
    @_serialized
    def count(self) -> int:
        return int(self._col.count())

    @_serialized
    def query(
        self,
        vector: np.ndarray,
        n: int,
        since: float | None = None,
        until: float | None = None,
    ) -> list[tuple[int, float]]:
        """Nearest episodes as (id, cosine similarity), optionally within a time range."""
        size = self._col.count()
        if size == 0:
            return []
        where: dict[str, Any] | None = None
        clauses = []
        if since is not None:
            clauses.append({"t": {"$gte": since}})
        if until is not None:
            clauses.append({"t": {"$lt": until}})
        if len(clauses) == 1:
            where = clauses[0]
        elif clauses:
            where = {"$and": clauses}
        result = self._col.query(
            query_embeddings=vector.reshape(1, -1).astype(np.float32),
            n_results=min(n, size),
            where=where,
            include=["distances"],
        )
        ids = result["ids"][0]
        distances = result["distances"][0]
        return [(int(i), 1.0 - float(d)) for i, d in zip(ids, distances, strict=True)]


def time_clause(lo: float | None, hi: float | None) -> tuple[str, list[float]]:
    """SQL narrowing episodes `e` to the half-open Unix time range [lo, hi)."""
    sql, args = "", []
    if lo is not None:
        sql += " AND e.time_unix >= ?"
        args.append(lo)
    if hi is not None:
        sql += " AND e.time_unix < ?"
        args.append(hi)
    return sql, args


def exact_nearest(
    db: Database, vector: np.ndarray, n: int, clause: str = "", args: Sequence[object] = ()
) -> list[tuple[int, float]]:
    """The `n` stored vectors nearest `vector` as (episode id, cosine), by scoring every
    one of them (`clause` narrows the episodes `e`: " AND e.time_unix >= ?").

    Exact, and without chroma: a one-shot command at 10k vectors reads ~15 MB from
    SQLCipher in tens of milliseconds, where starting chroma takes seconds."""
    rows = db.conn.execute(
        "SELECT v.episode_id, v.vector FROM vectors v JOIN episodes e ON e.id = v.episode_id"
        f" WHERE 1{clause}",
        list(args),
    ).fetchall()
    if not rows or n <= 0:
        return []
    ids = np.fromiter((r[0] for r in rows), dtype=np.int64, count=len(rows))
    matrix = np.frombuffer(b"".join(r[1] for r in rows), dtype="<f4").reshape(len(rows), -1)
    scores = matrix @ np.asarray(vector, dtype=np.float32)
    if n < len(rows):
        top = np.argpartition(-scores, n - 1)[:n]
        order = top[np.argsort(-scores[top], kind="stable")]
    else:
        order = np.argsort(-scores, kind="stable")
    return [(int(ids[i]), float(scores[i])) for i in order]


def _open_collection(folder: Path) -> tuple[Any, Any]:
    chromadb, settings = _chroma()
    client = chromadb.PersistentClient(
        path=str(folder), settings=settings(anonymized_telemetry=False, allow_reset=False)
    )
    # embedding_function=None: chroma's default would download a model.
    collection = client.get_or_create_collection(
        COLLECTION, embedding_function=None, metadata={"hnsw:space": "cosine"}
    )
    _private(folder)
    return client, collection


def _upsert_rows(collection: Any, rows: Sequence[tuple[int, bytes, float]]) -> None:
    collection.upsert(
        ids=[str(r[0]) for r in rows],
        embeddings=np.stack([np.frombuffer(r[1], dtype="<f4") for r in rows]),
        metadatas=[{"t": float(r[2])} for r in rows],
    )


def _tracker_with_real_stderr() -> None:
    """Start multiprocessing's resource tracker, if it is not running, with the real
    stderr. It passes `sys.stderr`'s descriptor to its helper, and a front end may have
    replaced sys.stderr with an object without one (Textual's, whose fileno is -1):
    the spawn then fails with "bad value(s) in fds_to_keep"."""
    from multiprocessing import resource_tracker

    try:
        real = sys.stderr.fileno() >= 0
    except (AttributeError, OSError, ValueError):
        real = False
    if real or sys.__stderr__ is None:
        return
    replaced, sys.stderr = sys.stderr, sys.__stderr__
    try:
        resource_tracker.ensure_running()
    finally:
        sys.stderr = replaced


def _fill_in_fresh_process(folder: str, pipe: Connection) -> None:
    """In a spawned process: write the rows the parent sends into a new index at
    `folder`; answer None when done, or what went wrong."""
    try:
        client, collection = _open_collection(Path(folder))
        while (rows := pipe.recv()) is not None:
            _upsert_rows(collection, rows)
        client.close()
        _private(Path(folder))
    except BaseException as exc:  # reported to the parent, which raises it
        pipe.send(f"{type(exc).__name__}: {exc}")
    else:
        pipe.send(None)
    finally:
        pipe.close()
