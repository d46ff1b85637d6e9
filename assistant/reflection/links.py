"""Typed links from each new memory to its few most similar earlier ones: the edges a
timeline is drawn from (THEANINE-style relation labels).

The builtin labels come from rules, in this order:
- changed:    a newer persona fact superseded an older one (set by the pass, see run.py);
- cause:      the new memory follows from the earlier ("so", "that's why", "as a result");
- reason:     the new memory explains the earlier ("because", "due to", "the reason");
- same_topic: very similar, whatever the order;
- before:     related, and the earlier one came first.
A link always points from the newer memory to the earlier one; nothing is deleted.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import sqlcipher3

from assistant.reflection.changes import Change, inserted_id, now_iso
from store.vectors import VectorIndex

LABELS = ("before", "changed", "cause", "reason", "same_topic")
CAUSE = re.compile(
    r"(?:^|[.!?]\s+)so\b|\b(?:therefore|as a result|that'?s why|which is why"
    r"|because of (?:that|this)|consequently)\b",
    re.IGNORECASE,
)
REASON = re.compile(
    r"\b(?:because|due to|the reason|since (?!\d|last|yesterday|monday|tuesday|wednesday"
    r"|thursday|friday|saturday|sunday|january|february|march|april|may|june|july|august"
    r"|september|october|november|december))\b",
    re.IGNORECASE,
)
SAME_TOPIC_MARGIN = 0.15  # above link_similarity by this much: same topic
MIN_WORDS = 4  # "ok", "haha yes": too short to be about anything


def label(new_text: str, score: float, threshold: float) -> str:
    """The relation of a new memory to a similar earlier one, by rules."""
    if CAUSE.search(new_text):
        return "cause"
    if REASON.search(new_text):
        return "reason"
    if score >= threshold + SAME_TOPIC_MARGIN:
        return "same_topic"
    return "before"


@dataclass(frozen=True)
class NewLink:
    src_kind: str
    src_id: int
    dst_kind: str
    dst_id: int
    label: str
    score: float | None


def episode_links(
    conn: sqlcipher3.Connection,
    index: VectorIndex,
    episode_ids: Sequence[int],
    candidates: int,
    threshold: float,
) -> list[NewLink]:
    """Links from each of `episode_ids` to its most similar earlier episodes."""
    rows = conn.execute(
        "SELECT e.id, e.time_unix, e.text, v.vector FROM episodes e "
        f"JOIN vectors v ON v.episode_id = e.id WHERE e.id IN ({','.join('?' * len(episode_ids))})",
        list(episode_ids),
    ).fetchall()
    rows = [r for r in rows if len(r[2].split()) >= MIN_WORDS]
    if not rows:
        return []
    matrix = np.vstack([np.frombuffer(r[3], dtype="<f4") for r in rows])
    # Extra neighbours: some are later than the new memory, or the memory itself.
    found = index.query_many(matrix, candidates * 4 + 1)
    neighbour_ids = {i for hits in found for i, _ in hits}
    marks = ",".join("?" * len(neighbour_ids))
    when = dict(
        conn.execute(
            f"SELECT id, time_unix FROM episodes WHERE id IN ({marks})", list(neighbour_ids)
        ).fetchall()
    )
    links = []
    for (episode_id, t, text, _), hits in zip(rows, found, strict=True):
        earlier = [
            (other, score)
            for other, score in hits
            if other in when and (when[other], other) < (t, episode_id) and score >= threshold
        ][:candidates]
        for other, score in earlier:
            kind = label(text, score, threshold)
            links.append(NewLink("episode", episode_id, "episode", other, kind, round(score, 4)))
    return links


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
