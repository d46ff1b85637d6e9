"""The user's word on a quarantined episode: release it, and it is trusted like any other.

At ingest and again at reflection, `policies/injection.py` holds apart episodes that read
as instructions to an assistant (DESIGN.md 5.2): they stay searchable, marked, but never
become facts or thoughts and are never cited by `ask`. The detector is a heuristic, so
the user may overrule it for one episode ("yes, that mail is really mine"). A release is
a row in `releases`; the schema's triggers clear the episode's `quarantine` (and queue it
for reflection), and put the reason back when the release is deleted by an undo. It is a
change like any other: listed in the history and taken back with `me undo`.

It lasts while the episode does: re-syncing an unchanged file keeps it, and reflection
does not check a released episode again. Text that changed is new content, checked anew.
"""

from __future__ import annotations

import sqlcipher3

from assistant.derived.changes import Change, inserted_id, now_iso
from assistant.errors import MemoryRefError
from store.database import chunked, marks


def release(conn: sqlcipher3.Connection, episode_id: int) -> int:
    """Release episode `episode_id` from quarantine; returns the change's id. Call it
    inside a write transaction."""
    row = conn.execute("SELECT quarantine FROM episodes WHERE id = ?", (episode_id,)).fetchone()
    if row is None:
        raise MemoryRefError(f"there is no episode e{episode_id}")
    if row[0] is None:
        raise MemoryRefError(f"e{episode_id} is not quarantined; there is nothing to release")
    change = Change(conn, "release", f"the user released e{episode_id} from quarantine", "user")
    cursor = conn.execute(
        "INSERT INTO releases (episode_id, reason, released_at) VALUES (?, ?, ?)",
        (episode_id, row[0], now_iso()),
    )
    change.created("release", inserted_id(cursor))
    return change.finish()


def released(conn: sqlcipher3.Connection, episode_ids: list[int]) -> set[int]:
    """Which of these episodes the user released (the detector must not hold them again)."""
    if not episode_ids:
        return set()
    return {
        r[0]
        for part in chunked(episode_ids)
        for r in conn.execute(
            f"SELECT episode_id FROM releases WHERE episode_id IN ({marks(part)})", part
        )
    }
