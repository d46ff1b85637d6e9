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

import numpy as np
import sqlcipher3

from assistant.derived.links import NewLink

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


class EarlierIndex:
    """Every episode's vector in time order, for exact "most similar earlier memory"
    search. Exact rather than the approximate chroma index, so that a reflection run
    gives the same links however often it is interrupted and the index rebuilt; ties
    (a chat repeats "see you at 7") go to the most recent earlier memory. It holds
    4 x 384 bytes per episode (154 MB at 100k) while a reflection run lasts."""

    def __init__(self, conn: sqlcipher3.Connection) -> None:
        rows = conn.execute(
            "SELECT e.id, v.vector FROM episodes e JOIN vectors v ON v.episode_id = e.id "
            "ORDER BY e.time_unix, e.id"
        ).fetchall()
        self.ids = np.array([r[0] for r in rows], dtype=np.int64)
        self.position = {int(i): p for p, i in enumerate(self.ids)}
        self.matrix = (
            np.frombuffer(b"".join(r[1] for r in rows), dtype="<f4").reshape(len(rows), -1)
            if rows
            else np.zeros((0, 384), dtype="<f4")
        )

    def earlier_neighbours(
        self, episode_id: int, n: int, threshold: float
    ) -> list[tuple[int, float]]:
        """Up to `n` earlier episodes with similarity >= `threshold`, best first."""
        p = self.position.get(episode_id)
        if p is None or p == 0:
            return []
        scores = self.matrix[:p] @ self.matrix[p]
        cut = threshold
        if p > n:  # the n-th best score, so ties with it are all considered
            cut = max(threshold, float(np.partition(scores, p - n)[p - n]))
        found = np.nonzero(scores >= cut)[0]
        # Best score first; among equal scores, the most recent first.
        order = sorted(found.tolist(), key=lambda q: (-float(scores[q]), -q))[:n]
        return [(int(self.ids[q]), float(scores[q])) for q in order]


def episode_links(
    conn: sqlcipher3.Connection,
    earlier: EarlierIndex,
    episode_ids: Sequence[int],
    candidates: int,
    threshold: float,
) -> list[NewLink]:
    """Links from each of `episode_ids` to its most similar earlier episodes."""
    marks = ",".join("?" * len(episode_ids))
    rows = conn.execute(
        f"SELECT id, text FROM episodes WHERE id IN ({marks}) ORDER BY id", list(episode_ids)
    ).fetchall()
    links = []
    for episode_id, text in rows:
        if len(text.split()) < MIN_WORDS:
            continue
        for other, score in earlier.earlier_neighbours(episode_id, candidates, threshold):
            kind = label(text, score, threshold)
            links.append(NewLink("episode", episode_id, "episode", other, kind, round(score, 4)))
    return links
