"""The change history: every change to a thought, fact or link, or to the user's
releases of quarantined episodes (`assistant/quarantine.py`), and its undo.

A change is one operation (insert, merge, supersede, set, hide, forget, undo...) that
may touch several rows. For each row it keeps a JSON picture before and after, evidence
ids included, so `me history` can show it and `me undo` can put the "before" back.
A change is written inside the caller's transaction, with the rows it describes.

A forget erases the pictures of the rows it removed (they become `FORGOTTEN`) and the
reasons that could name them: the history keeps that something was forgotten, never
what. Changes that touched forgotten rows, and forgets themselves, cannot be undone.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlcipher3

from assistant.errors import MemoryRefError
from assistant.refs import ref
from store.database import chunked, marks

TABLES = {"thought": "thoughts", "fact": "facts", "link": "links", "release": "releases"}
EVIDENCE = {"thought": ("thought_evidence", "thought_id"), "fact": ("fact_evidence", "fact_id")}
FORGOTTEN = '{"forgotten": true}'  # the picture of a row after a forget erased it
WITHHELD = "details withheld: this change concerned memories that were later forgotten"
# Columns that point at another row of the same table (restored rows must not dangle).
REFERENCES = {"fact": "superseded_by", "thought": "merged_into"}


def inserted_id(cursor: sqlcipher3.Cursor) -> int:
    """The id of the row an INSERT just made."""
    if cursor.lastrowid is None:
        raise RuntimeError("INSERT reported no row id")
    return int(cursor.lastrowid)


def now_iso() -> str:
    return datetime.now().astimezone().isoformat(timespec="seconds")


def snapshot(conn: sqlcipher3.Connection, kind: str, row_id: int) -> dict[str, Any] | None:
    """The row as JSON-ready values (blobs as base64), with its evidence ids."""
    cur = conn.execute(f"SELECT * FROM {TABLES[kind]} WHERE id = ?", (row_id,))
    row = cur.fetchone()
    if row is None:
        return None
    names = [d[0] for d in cur.description]
    data: dict[str, Any] = {}
    for name, value in zip(names, row, strict=True):
        data[name] = (
            {"b64": base64.b64encode(value).decode()} if isinstance(value, bytes) else value
        )
    if kind in EVIDENCE:
        table, column = EVIDENCE[kind]
        ids = conn.execute(
            f"SELECT episode_id FROM {table} WHERE {column} = ? ORDER BY episode_id", (row_id,)
        )
        data["evidence"] = [r[0] for r in ids]
    return data


def _restore(
    conn: sqlcipher3.Connection, kind: str, row_id: int, data: dict[str, Any] | None
) -> None:
    """Make the row look like `data` again (None: the row did not exist)."""
    table = TABLES[kind]
    if data is None:
        conn.execute(f"DELETE FROM {table} WHERE id = ?", (row_id,))
        return
    values = {
        k: base64.b64decode(v["b64"]) if isinstance(v, dict) else v
        for k, v in data.items()
        if k != "evidence"
    }
    columns = ", ".join(values)
    marks = ", ".join("?" * len(values))
    conn.execute(
        f"INSERT OR REPLACE INTO {table} ({columns}) VALUES ({marks})", list(values.values())
    )
    if kind in EVIDENCE:
        ev_table, column = EVIDENCE[kind]
        conn.execute(f"DELETE FROM {ev_table} WHERE {column} = ?", (row_id,))
        existing = {
            r[0]
            for r in conn.execute(
                f"SELECT id FROM episodes WHERE id IN ({','.join('?' * len(data['evidence']))})",
                data["evidence"],
            )
        }  # an episode removed since then stays removed
        conn.executemany(
            f"INSERT INTO {ev_table} ({column}, episode_id) VALUES (?, ?)",
            [(row_id, e) for e in data["evidence"] if e in existing],
        )


class Change:
    """One change being made. Call `before` on a row before modifying it, `created`
    after inserting one, `forgotten` for a row a forget deletes (no picture of it is
    kept), and `finish` once every row is in its new state."""

    def __init__(self, conn: sqlcipher3.Connection, op: str, reason: str, engine: str) -> None:
        self.conn = conn
        self.id = inserted_id(
            conn.execute(
                "INSERT INTO changes (op, reason, engine, at) VALUES (?, ?, ?, ?)",
                (op, reason, engine, now_iso()),
            )
        )
        self._old: dict[tuple[str, int], dict[str, Any] | None] = {}
        self._gone: list[tuple[str, int]] = []

    def before(self, kind: str, row_id: int) -> None:
        self._old.setdefault((kind, row_id), snapshot(self.conn, kind, row_id))

    def created(self, kind: str, row_id: int) -> None:
        self._old.setdefault((kind, row_id), None)

    def forgotten(self, kind: str, row_ids: Sequence[int]) -> None:
        self._gone.extend((kind, i) for i in row_ids)

    def finish(self) -> int:
        rows: list[tuple[int, str, int, str | None, str | None]] = [
            (self.id, kind, row_id, FORGOTTEN, None) for kind, row_id in self._gone
        ]
        for (kind, row_id), old in self._old.items():
            new = snapshot(self.conn, kind, row_id)
            rows.append((self.id, kind, row_id, _dump(old), _dump(new)))
        self.conn.executemany(
            "INSERT INTO change_rows (change_id, kind, row_id, old, new) VALUES (?, ?, ?, ?, ?)",
            rows,
        )
        return self.id


USER_FLAGS = ("pin", "unpin", "hide")


def user_flag(conn: sqlcipher3.Connection, kind: str, row_id: int, op: str) -> int:
    """The user pins, unpins or hides a thought or fact; returns the change id.
    Hiding keeps the row (status 'hidden': never shown as current, never re-learned) so
    the change can be undone; `assistant.forget` is the forget that deletes."""
    if op not in USER_FLAGS:
        raise ValueError(f"unknown flag operation {op!r}")
    if snapshot(conn, kind, row_id) is None:
        raise MemoryRefError(f"there is no {kind} {ref(kind, row_id)}")
    change = Change(conn, op, f"the user chose to {op} {ref(kind, row_id)}", "user")
    change.before(kind, row_id)
    column, value = ("status", "hidden") if op == "hide" else ("pinned", int(op == "pin"))
    conn.execute(
        f"UPDATE {TABLES[kind]} SET {column} = ?, updated_at = ? WHERE id = ?",
        (value, now_iso(), row_id),
    )
    return change.finish()


def erase(conn: sqlcipher3.Connection, rows: dict[str, list[int]]) -> int:
    """Erase the pictures of forgotten rows from the history, and the reasons of every
    change that touched them; returns how many pictures were erased."""
    erased = 0
    for kind, ids in rows.items():
        for part in chunked(ids):
            where = f"kind = ? AND row_id IN ({marks(part)})"
            conn.execute(
                f"UPDATE changes SET reason = ? WHERE id IN "
                f"(SELECT change_id FROM change_rows WHERE {where})",
                [WITHHELD, kind, *part],
            )
            cur = conn.execute(
                "UPDATE change_rows SET "
                "old = CASE WHEN old IS NULL THEN NULL ELSE ? END, "
                f"new = CASE WHEN new IS NULL THEN NULL ELSE ? END WHERE {where}",
                [FORGOTTEN, FORGOTTEN, kind, *part],
            )
            erased += cur.rowcount
    return erased


def _dump(data: dict[str, Any] | None) -> str | None:
    return None if data is None else json.dumps(data, sort_keys=True, ensure_ascii=False)


def _load(text: str | None) -> dict[str, Any] | None:
    return None if text is None else json.loads(text)


def _is_forgotten(data: dict[str, Any] | None) -> bool:
    return data is not None and data.get("forgotten") is True


@dataclass(frozen=True)
class ChangeRow:
    kind: str
    row_id: int
    old: dict[str, Any] | None
    new: dict[str, Any] | None

    @property
    def ref(self) -> str:
        return ref(self.kind, self.row_id)


@dataclass(frozen=True)
class ChangeRecord:
    id: int
    op: str
    reason: str
    engine: str
    at: str
    undone_by: int | None
    rows: tuple[ChangeRow, ...]

    def as_json(self) -> dict[str, Any]:
        return {
            "change": self.id,
            "op": self.op,
            "reason": self.reason,
            "engine": self.engine,
            "at": self.at,
            "undone_by": self.undone_by,
            "rows": [
                {"ref": r.ref, "old": _public(r.old), "new": _public(r.new)} for r in self.rows
            ],
        }


def _public(data: dict[str, Any] | None) -> dict[str, Any] | None:
    """A row picture without its vector (numbers nobody reads)."""
    if data is None:
        return None
    return {k: v for k, v in data.items() if k != "vector"}


def load_change(conn: sqlcipher3.Connection, change_id: int) -> ChangeRecord | None:
    head = conn.execute(
        "SELECT id, op, reason, engine, at, undone_by FROM changes WHERE id = ?", (change_id,)
    ).fetchone()
    if head is None:
        return None
    rows = conn.execute(
        "SELECT kind, row_id, old, new FROM change_rows WHERE change_id = ? ORDER BY kind, row_id",
        (change_id,),
    ).fetchall()
    change_id, op, reason, engine, at, undone_by = head
    return ChangeRecord(
        change_id, op, reason, engine, at, undone_by,
        rows=tuple(ChangeRow(r[0], r[1], _load(r[2]), _load(r[3])) for r in rows),
    )  # fmt: skip


def history_of(conn: sqlcipher3.Connection, kind: str, row_id: int) -> list[ChangeRecord]:
    """Every change that touched a row, oldest first."""
    ids = conn.execute(
        "SELECT change_id FROM change_rows WHERE kind = ? AND row_id = ? ORDER BY change_id",
        (kind, row_id),
    ).fetchall()
    return [c for (i,) in ids if (c := load_change(conn, i)) is not None]


def recent(conn: sqlcipher3.Connection, limit: int = 50) -> list[ChangeRecord]:
    """The latest `limit` changes, newest first."""
    ids = conn.execute("SELECT id FROM changes ORDER BY id DESC LIMIT ?", (limit,)).fetchall()
    return [c for (i,) in ids if (c := load_change(conn, i)) is not None]


def undo(conn: sqlcipher3.Connection, change_id: int) -> int:
    """Put back what change `change_id` changed, as a new change; returns its id.

    Refused when a later change (not itself undone) touched the same rows: undoing
    out of order would silently throw the later change away."""
    record = load_change(conn, change_id)
    if record is None:
        raise MemoryRefError(f"there is no change {change_id}; `me history ID` lists them")
    if record.op == "undo":
        raise MemoryRefError(f"change {change_id} is itself an undo; it cannot be undone")
    if record.undone_by is not None:
        raise MemoryRefError(f"change {change_id} was already undone by change {record.undone_by}")
    if record.op == "forget" or any(
        _is_forgotten(r.old) or _is_forgotten(r.new) for r in record.rows
    ):
        raise MemoryRefError(
            f"change {change_id} concerns memories that were forgotten; a forget cannot be undone"
        )
    for row in record.rows:
        later = conn.execute(
            "SELECT r.change_id FROM change_rows r JOIN changes c ON c.id = r.change_id "
            "WHERE r.kind = ? AND r.row_id = ? AND r.change_id > ? AND c.undone_by IS NULL "
            "AND c.op != 'undo' ORDER BY r.change_id DESC LIMIT 1",
            (row.kind, row.row_id, change_id),
        ).fetchone()
        if later is not None:
            raise MemoryRefError(
                f"change {later[0]} changed {row.ref} after change {change_id}; "
                f"undo change {later[0]} first"
            )
    # References are checked once every row is back (`_check_references`), not row by
    # row; this setting lasts until the transaction ends.
    conn.execute("PRAGMA defer_foreign_keys = ON")
    change = Change(conn, "undo", f"undo of change {change_id} ({record.op})", "user")
    for row in record.rows:
        change.before(row.kind, row.row_id)
    # Restore facts and thoughts before links, and old rows before removing new ones,
    # so references between rows (superseded_by, merged_into) stay valid.
    for row in sorted(record.rows, key=lambda r: (r.kind == "link", r.old is None)):
        _restore(conn, row.kind, row.row_id, row.old)
    _check_references(conn, record)
    undo_id = change.finish()
    conn.execute("UPDATE changes SET undone_by = ? WHERE id = ?", (undo_id, change_id))
    return undo_id


def _check_references(conn: sqlcipher3.Connection, record: ChangeRecord) -> None:
    """Refuse an undo that would leave a row pointing at one it removed or at one that
    no longer exists (a fact superseded by a fact the undo deletes), naming what to undo
    first; without this the database itself refuses with a bare foreign-key error."""
    for kind, column in REFERENCES.items():
        table = TABLES[kind]
        dangling = conn.execute(
            f"SELECT a.id, a.{column} FROM {table} a LEFT JOIN {table} b ON b.id = a.{column} "
            f"WHERE a.{column} IS NOT NULL AND b.id IS NULL"
        ).fetchall()
        for row_id, target in dangling:
            made = conn.execute(
                "SELECT max(r.change_id) FROM change_rows r JOIN changes c ON c.id = r.change_id "
                "WHERE r.kind = ? AND r.row_id = ? AND c.undone_by IS NULL AND c.op != 'undo'",
                (kind, row_id),
            ).fetchone()[0]
            hint = f"; undo change {made} first" if made and made != record.id else ""
            raise MemoryRefError(
                f"undoing change {record.id} would remove {ref(kind, target)}, which "
                f"{ref(kind, row_id)} still points at ({column}){hint}"
            )
