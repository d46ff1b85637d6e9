"""Registered sources: the folders and exports `me sync` keeps in step."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from assistant.documents import now_iso
from assistant.errors import IngestError, SourceNotFoundError
from connectors.registry import connector_named
from connectors.surrogates import path_from_text, path_text
from store.database import Database


@dataclass(frozen=True)
class SyncFailure:
    """A file the last sync of its source could not read, and why."""

    path: str
    reason: str
    at: str

    def as_json(self) -> dict[str, Any]:
        return {"path": self.path, "reason": self.reason, "at": self.at}


@dataclass(frozen=True)
class Source:
    """A registered source as `me sources list` shows it. `root` is the path as stored:
    valid text, with a name that is not UTF-8 escaped (`connectors.surrogates`)."""

    id: int
    root: str
    kind: str  # a connector's name, or 'auto'
    last_sync_at: str | None
    documents: int
    episodes: int
    failures: list[SyncFailure]  # of its last sync

    @property
    def path(self) -> Path:
        return path_from_text(self.root)

    def as_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "root": self.root,
            "kind": self.kind,
            "last_sync_at": self.last_sync_at,
            "documents": self.documents,
            "episodes": self.episodes,
            "last_sync_failed": [f.as_json() for f in self.failures],
        }


def check_new_source(path: Path, connector: str | None) -> Path:
    """The root a source at `path` would have; refused if it does not exist or names an
    unknown connector. Needs no vault, so a bad argument fails before a prompt."""
    root = path.resolve()
    if not root.exists():
        raise IngestError(f"no such file or folder: {path}")
    if connector is not None:
        try:
            connector_named(connector)
        except KeyError as exc:
            raise IngestError(str(exc.args[0])) from None
    return root


def source_for(sources: Iterable[Source], path: Path) -> int | None:
    """The id of the source holding `path` (the innermost, when sources nest), or None.
    Pure: paths are compared as given, so give absolute ones (a watcher's are)."""
    best: tuple[int, int] | None = None
    for source in sources:
        root = source.path
        if path == root or root in path.parents:
            depth = len(root.parts)
            if best is None or depth > best[0]:
                best = (depth, source.id)
    return None if best is None else best[1]


def add_source(db: Database, path: Path, connector: str | None) -> int:
    root = check_new_source(path, connector)
    name = path_text(root)  # a folder name that is not UTF-8 is stored escaped
    with db.write() as conn:
        row = conn.execute("SELECT id, listed FROM sources WHERE root = ?", (name,)).fetchone()
        if row and row[1]:
            raise IngestError(f"{name} is already source {row[0]}")
        if row:  # read once by `me ingest`: now the user wants it kept in step
            conn.execute(
                "UPDATE sources SET listed = 1, connector = ? WHERE id = ?", (connector, row[0])
            )
            return int(row[0])
        cur = conn.execute(
            "INSERT INTO sources(root, connector, added_at, listed) VALUES (?, ?, ?, 1)",
            (name, connector, now_iso()),
        )
        assert cur.lastrowid is not None
        return cur.lastrowid


def list_sources(db: Database) -> list[Source]:
    rows = db.conn.execute(
        "SELECT s.id, s.root, s.connector, s.last_sync_at, "
        "(SELECT count(*) FROM documents d WHERE d.source_id = s.id), "
        "(SELECT count(*) FROM episodes e JOIN documents d ON d.id = e.document_id "
        " WHERE d.source_id = s.id) "
        "FROM sources s WHERE s.listed = 1 ORDER BY s.id"
    ).fetchall()
    failures: dict[int, list[SyncFailure]] = {}
    for source_id, path, reason, at in db.conn.execute(
        "SELECT source_id, path, reason, at FROM sync_failures ORDER BY source_id, rowid"
    ):
        failures.setdefault(source_id, []).append(SyncFailure(path, reason, at))
    return [Source(r[0], r[1], r[2] or "auto", r[3], r[4], r[5], failures.get(r[0], []))
            for r in rows]  # fmt: skip


def record_sync_failures(db: Database, source_id: int, failed: Iterable[tuple[str, str]]) -> None:
    """Replace what the last sync of `source_id` could not read with `failed` (path, why)."""
    at = now_iso()
    with db.write() as conn:
        conn.execute("DELETE FROM sync_failures WHERE source_id = ?", (source_id,))
        conn.executemany(
            "INSERT INTO sync_failures (source_id, path, reason, at) VALUES (?, ?, ?, ?)",
            [(source_id, path, reason, at) for path, reason in failed],
        )


def remove_source(db: Database, source_id: int) -> None:
    """Unregister a source; its memories stay (`assistant.forget` removes them)."""
    with db.write() as conn:
        row = conn.execute(
            "SELECT id FROM sources WHERE id = ? AND listed = 1", (source_id,)
        ).fetchone()
        if row is None:
            raise SourceNotFoundError(f"no source with id {source_id}; see `me sources list`")
        conn.execute("UPDATE documents SET source_id = NULL WHERE source_id = ?", (source_id,))
        conn.execute("DELETE FROM sources WHERE id = ?", (source_id,))
