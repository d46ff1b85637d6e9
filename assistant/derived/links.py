"""Typed links between memories: stored from the newer memory to the earlier one, never
changed, removed only by a forget. The rules that find and label them are in
`assistant/reflection/linking.py`."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import sqlcipher3

from assistant.derived.changes import Change, inserted_id, now_iso


@dataclass(frozen=True)
class NewLink:
    src_kind: str
    src_id: int
    dst_kind: str
    dst_id: int
    label: str
    score: float | None


def store(conn: sqlcipher3.Connection, links: Sequence[NewLink], engine: str, reason: str) -> int:
    """Insert links (existing ones are kept as they are) as one change; returns how many
    were new."""
    stamp, added = now_iso(), []
    for link in links:
        cur = conn.execute(
            "INSERT OR IGNORE INTO links (src_kind, src_id, dst_kind, dst_id, label, score, "
            "engine, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            (link.src_kind, link.src_id, link.dst_kind, link.dst_id, link.label, link.score,
             engine, stamp),
        )  # fmt: skip
        if cur.rowcount:
            added.append(inserted_id(cur))
    if added:
        change = Change(conn, "link", reason, engine)
        for link_id in added:
            change.created("link", link_id)
        change.finish()
    return len(added)


def links_of(
    conn: sqlcipher3.Connection, kind: str, row_id: int
) -> list[tuple[str, str, int, str]]:
    """(direction, other kind, other id, label) for every link touching a memory."""
    out = []
    for dst_kind, dst_id, lab in conn.execute(
        "SELECT dst_kind, dst_id, label FROM links WHERE src_kind = ? AND src_id = ? ORDER BY id",
        (kind, row_id),
    ):
        out.append(("to", dst_kind, dst_id, lab))
    for src_kind, src_id, lab in conn.execute(
        "SELECT src_kind, src_id, label FROM links WHERE dst_kind = ? AND dst_id = ? ORDER BY id",
        (kind, row_id),
    ):
        out.append(("from", src_kind, src_id, lab))
    return out
