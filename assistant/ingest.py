"""Read files through connectors and store them: chunk, dedupe, embed, write.

Ingest is cheap and model-free apart from the embedding. Each file is written in
its own savepoint inside a batch transaction, so a file is either fully stored or
not at all, and one bad file never stops the batch. Re-running on unchanged files
adds nothing: files are compared by size and mtime first, then by content hash.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import sqlcipher3

from assistant.errors import IngestError
from assistant.memory import Memory
from connectors import Connector, ConnectorError, Item, available_connectors, connector_for

log = logging.getLogger(__name__)

EMBED_BATCH = 256  # new chunks gathered before one embedding call and one transaction


@dataclass
class FileOutcome:
    path: Path
    status: str  # added | updated | unchanged | failed
    chunks: int = 0
    reason: str = ""


@dataclass
class IngestSummary:
    added: int = 0
    updated: int = 0
    unchanged: int = 0
    failed: list[FileOutcome] = field(default_factory=list)
    skipped: int = 0  # files in folders that no connector reads
    chunks_added: int = 0
    chunks_removed: int = 0

    def record(self, outcome: FileOutcome) -> None:
        if outcome.status == "failed":
            self.failed.append(outcome)
        else:
            setattr(self, outcome.status, getattr(self, outcome.status) + 1)


@dataclass
class _Pending:
    """A parsed file waiting for its new chunks to be embedded and written."""

    path: Path
    connector: Connector
    items: list[Item]
    doc_hash: str
    size: int
    mtime: float
    source_id: int
    document_id: int | None
    reused: dict[str, bytes]  # content hash -> vector of an old chunk that is kept


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def document_hash(items: Iterable[Item]) -> str:
    digest = hashlib.sha256()
    for item in items:
        digest.update(f"{item.source_ref}\x00{item.content_hash}\x00".encode())
    return digest.hexdigest()


def embed_text(item: Item) -> str:
    """What the model reads: the heading path gives a paragraph its context."""
    return f"{item.title}\n{item.text}" if item.title else item.text


def discover(
    roots: list[Path], connectors: list[Connector]
) -> Iterator[tuple[Path, Path, Connector | None]]:
    """(root, file, connector) for every file under the roots, hidden folders skipped."""
    ignored = set().union(*(c.ignored_dirs for c in connectors)) if connectors else set()
    for root in roots:
        if root.is_file():
            yield root, root, connector_for(root, connectors)
            continue
        for folder, dirs, files in os.walk(root):
            dirs[:] = sorted(d for d in dirs if not d.startswith(".") and d not in ignored)
            for name in sorted(files):
                if name.startswith("."):
                    continue
                path = Path(folder) / name
                connector = connector_for(path, connectors)
                if connector is not None:
                    yield root, path, connector


class Ingestor:
    """One ingest run over a memory; `run` returns the summary."""

    def __init__(self, memory: Memory, on_file: Callable[[FileOutcome], None] | None = None):
        self.memory = memory
        self.db = memory.db
        self.on_file = on_file
        self.summary = IngestSummary()
        self._batch: list[_Pending] = []
        self._batch_new = 0
        self._sources: dict[Path, int] = {}

    def run(self, roots: list[Path], connectors: list[Connector] | None = None) -> IngestSummary:
        missing = [str(r) for r in roots if not r.exists()]
        if missing:
            raise IngestError(f"no such file or folder: {', '.join(missing)}")
        connectors = available_connectors() if connectors is None else connectors
        self.model = self.memory.embedder.name  # refuses a model other than the vault's
        for root, path, connector in discover([r.resolve() for r in roots], connectors):
            if connector is None:
                self._done(FileOutcome(path, "failed", reason=f"no connector reads {path.name}"))
                continue
            self._visit(self._source_id(root), path, connector)
        self._flush()
        self._mark_synced()
        return self.summary

    # -- per file --------------------------------------------------------------
    def _source_id(self, root: Path) -> int:
        if root not in self._sources:
            with self.db.write() as conn:
                conn.execute(
                    "INSERT INTO sources(root, added_at) VALUES (?, ?) "
                    "ON CONFLICT(root) DO NOTHING",
                    (str(root), _now()),
                )
            row = self.db.conn.execute(
                "SELECT id FROM sources WHERE root = ?", (str(root),)
            ).fetchone()
            self._sources[root] = int(row[0])
        return self._sources[root]

    def _visit(self, source_id: int, path: Path, connector: Connector) -> None:
        try:
            info = path.stat()
        except OSError as exc:
            self._done(FileOutcome(path, "failed", reason=f"cannot read: {exc.strerror or exc}"))
            return
        row = self.db.conn.execute(
            "SELECT id, content_hash, size, mtime FROM documents WHERE ref = ?", (str(path),)
        ).fetchone()
        if row and row[2] == info.st_size and row[3] == info.st_mtime:
            self._done(FileOutcome(path, "unchanged"))
            return
        parsed = self._parse(path, connector, info.st_size, info.st_mtime)
        if isinstance(parsed, FileOutcome):
            self._done(parsed)
            return
        items = _unique(parsed)
        doc_hash = document_hash(items)
        if row and row[1] == doc_hash:
            with self.db.write() as conn:  # touched but identical: remember the new mtime
                conn.execute(
                    "UPDATE documents SET size = ?, mtime = ? WHERE id = ?",
                    (info.st_size, info.st_mtime, row[0]),
                )
            self._done(FileOutcome(path, "unchanged"))
            return
        reused = self._reusable_vectors(row[0]) if row else {}
        pending = _Pending(
            path,
            connector,
            items,
            doc_hash,
            info.st_size,
            info.st_mtime,
            source_id,
            row[0] if row else None,
            reused,
        )
        self._batch.append(pending)
        self._batch_new += sum(1 for i in items if i.content_hash not in reused)
        if self._batch_new >= EMBED_BATCH:
            self._flush()

    @staticmethod
    def _parse(
        path: Path, connector: Connector, size: int, mtime: float
    ) -> list[Item] | FileOutcome:
        """The file's items, or a failed outcome saying why it could not be read."""
        if size > connector.max_file_bytes:
            reason = (
                f"file is {size} bytes; {connector.name} reads at most {connector.max_file_bytes}"
            )
            return FileOutcome(path, "failed", reason=reason)
        try:
            data = path.read_bytes()
            return connector.parse(path, data, datetime.fromtimestamp(mtime, UTC).astimezone())
        except ConnectorError as exc:
            return FileOutcome(path, "failed", reason=str(exc))
        except OSError as exc:
            return FileOutcome(path, "failed", reason=f"cannot read: {exc.strerror or exc}")
        except Exception as exc:  # a connector bug must not stop the batch
            log.exception("connector %s crashed on %s", connector.name, path)
            return FileOutcome(path, "failed", reason=f"{connector.name} failed: {exc!r}")

    def _reusable_vectors(self, document_id: int) -> dict[str, bytes]:
        rows = self.db.conn.execute(
            "SELECT e.content_hash, v.vector FROM episodes e JOIN vectors v "
            "ON v.episode_id = e.id WHERE e.document_id = ? AND v.model = ?",
            (document_id, self.model),
        ).fetchall()
        return {h: v for h, v in rows}

    # -- per batch -------------------------------------------------------------
    def _flush(self) -> None:
        if not self._batch:
            return
        batch, self._batch, self._batch_new = self._batch, [], 0
        fresh = [i for p in batch for i in p.items if i.content_hash not in p.reused]
        vectors: dict[str, bytes] = {}
        if fresh:
            encoded = self.memory.embedder.encode([embed_text(i) for i in fresh])
            for item, vec in zip(fresh, encoded, strict=True):
                vectors[item.content_hash] = np.asarray(vec, dtype="<f4").tobytes()
        outcomes = []
        with self.db.write() as conn:
            for pending in batch:
                conn.execute("SAVEPOINT file")
                try:
                    outcome = self._write(conn, pending, vectors)
                except Exception as exc:
                    conn.execute("ROLLBACK TO file")
                    log.exception("writing %s failed", pending.path)
                    outcome = FileOutcome(pending.path, "failed", reason=f"not stored: {exc}")
                conn.execute("RELEASE file")
                outcomes.append(outcome)
        self.memory.index.replay()  # the index follows only what was committed
        for outcome in outcomes:
            self._done(outcome)

    def _write(
        self, conn: sqlcipher3.Connection, pending: _Pending, vectors: dict[str, bytes]
    ) -> FileOutcome:
        now = _now()
        status = "updated" if pending.document_id else "added"
        if pending.document_id is None:
            cur = conn.execute(
                "INSERT INTO documents(source_id, ref, connector, content_hash, size, mtime, "
                "ingested_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    pending.source_id,
                    str(pending.path),
                    pending.connector.name,
                    pending.doc_hash,
                    pending.size,
                    pending.mtime,
                    now,
                    now,
                ),
            )
            document_id = cur.lastrowid
            assert document_id is not None
        else:
            document_id = pending.document_id
            conn.execute(
                "UPDATE documents SET content_hash = ?, size = ?, mtime = ?, updated_at = ?, "
                "connector = ? WHERE id = ?",
                (
                    pending.doc_hash,
                    pending.size,
                    pending.mtime,
                    now,
                    pending.connector.name,
                    document_id,
                ),
            )
        old = {
            (ref, h): eid
            for eid, ref, h in conn.execute(
                "SELECT id, source_ref, content_hash FROM episodes WHERE document_id = ?",
                (document_id,),
            )
        }
        keep = {(i.source_ref, i.content_hash) for i in pending.items}
        gone = [eid for key, eid in old.items() if key not in keep]
        conn.executemany("DELETE FROM episodes WHERE id = ?", [(e,) for e in gone])
        added = 0
        for item in pending.items:
            if (item.source_ref, item.content_hash) in old:
                continue
            eid = self._insert_episode(conn, document_id, pending.connector, item, now)
            vector = vectors.get(item.content_hash) or pending.reused[item.content_hash]
            conn.execute(
                "INSERT INTO vectors(episode_id, model, dim, vector) VALUES (?, ?, ?, ?)",
                (eid, self.model, len(vector) // 4, vector),
            )
            added += 1
        self.summary.chunks_added += added
        self.summary.chunks_removed += len(gone)
        return FileOutcome(pending.path, status, chunks=added)

    @staticmethod
    def _insert_episode(
        conn: sqlcipher3.Connection, document_id: int, connector: Connector, item: Item, now: str
    ) -> int:
        when = item.time
        cur = conn.execute(
            "INSERT INTO episodes(document_id, source_ref, kind, text, title, time, time_unix, "
            "author, conversation, meta, content_hash, connector, trust, ingested_at) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                document_id,
                item.source_ref,
                item.kind,
                item.text,
                item.title,
                when.isoformat(),
                when.timestamp(),
                item.author,
                item.conversation,
                json.dumps(dict(item.meta), ensure_ascii=False, sort_keys=True),
                item.content_hash,
                connector.name,
                "user_file",
                now,
            ),
        )
        assert cur.lastrowid is not None
        return cur.lastrowid

    def _mark_synced(self) -> None:
        if self._sources:
            with self.db.write() as conn:
                conn.executemany(
                    "UPDATE sources SET last_sync_at = ? WHERE id = ?",
                    [(_now(), sid) for sid in self._sources.values()],
                )

    def _done(self, outcome: FileOutcome) -> None:
        self.summary.record(outcome)
        if self.on_file:
            self.on_file(outcome)


def _unique(items: list[Item]) -> list[Item]:
    """Drop exact repeats within one file (same place, same text)."""
    seen: set[tuple[str, str]] = set()
    out = []
    for item in items:
        key = (item.source_ref, item.content_hash)
        if key not in seen:
            seen.add(key)
            out.append(item)
    return out


def ingest(
    memory: Memory,
    roots: list[Path],
    on_file: Callable[[FileOutcome], None] | None = None,
) -> IngestSummary:
    """Ingest files and folders into `memory`; see the module docstring for the rules."""
    return Ingestor(memory, on_file).run(roots)
