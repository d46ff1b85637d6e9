"""Registered sources: the folders and exports `me sync` keeps in step."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from assistant.documents import now_iso
from assistant.errors import IngestError
from connectors.registry import connector_named
from connectors.surrogates import path_text
from store.database import Database


def add_source(db: Database, path: Path, connector: str | None) -> int:
    root = path.resolve()
    if not root.exists():
        raise IngestError(f"no such file or folder: {path}")
    if connector is not None:
        try:
            connector_named(connector)
        except KeyError as exc:
            raise IngestError(str(exc.args[0])) from None
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


def list_sources(db: Database) -> list[dict[str, Any]]:
    rows = db.conn.execute(
        "SELECT s.id, s.root, s.connector, s.last_sync_at, "
        "(SELECT count(*) FROM documents d WHERE d.source_id = s.id), "
        "(SELECT count(*) FROM episodes e JOIN documents d ON d.id = e.document_id "
        " WHERE d.source_id = s.id) "
        "FROM sources s WHERE s.listed = 1 ORDER BY s.id"
    ).fetchall()
    return [
        {"id": r[0], "root": r[1], "kind": r[2] or "auto", "last_sync_at": r[3],
         "documents": r[4], "episodes": r[5]}
        for r in rows
    ]  # fmt: skip


def remove_source(db: Database, source_id: int) -> None:
    """Unregister a source; its memories stay (`assistant.forget` removes them)."""
    row = db.conn.execute(
        "SELECT id FROM sources WHERE id = ? AND listed = 1", (source_id,)
    ).fetchone()
    if row is None:
        raise IngestError(f"no source with id {source_id}; see `me sources list`")
    with db.write() as conn:
        conn.execute("UPDATE documents SET source_id = NULL WHERE source_id = ?", (source_id,))
        conn.execute("DELETE FROM sources WHERE id = ?", (source_id,))
