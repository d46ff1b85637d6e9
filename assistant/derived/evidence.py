"""The labels a derived memory takes from the episodes it rests on.

Called whenever a thought's or fact's evidence changes (insert, reinforce, merge, a
forget that took some evidence away), inside the caller's transaction.
"""

from __future__ import annotations

import sqlcipher3

from assistant.derived.changes import EVIDENCE, TABLES
from policies.labels import highest_sensitivity, lowest_trust
from policies.secrets import sensitivity


def relabel(conn: sqlcipher3.Connection, kind: str, row_id: int) -> None:
    """Set the row's sensitivity (highest of its evidence and of its own words) and trust
    (lowest of its evidence; what the user typed is trusted as the user)."""
    table, column = EVIDENCE[kind]
    rows = conn.execute(
        f"SELECT e.sensitivity, e.trust FROM {table} x JOIN episodes e ON e.id = x.episode_id "
        f"WHERE x.{column} = ?",
        (row_id,),
    ).fetchall()
    own = conn.execute(
        f"SELECT {'text' if kind == 'thought' else 'value'}, origin FROM {TABLES[kind]} "
        "WHERE id = ?",
        (row_id,),
    ).fetchone()
    if own is None:
        return
    words, origin = own
    level = highest_sensitivity([r[0] for r in rows] + [sensitivity(words)])
    trust = lowest_trust([r[1] for r in rows], default="user" if origin == "user" else "user_file")
    conn.execute(
        f"UPDATE {TABLES[kind]} SET sensitivity = ?, trust = ? WHERE id = ?",
        (level, trust, row_id),
    )
