"""Thoughts: short conclusions drawn from episodes, maintained by insert / merge /
archive (Think-in-Memory's operations; hiding is the user's `changes.user_flag`, and a
real forget is `assistant.forget`).

A new thought that says what an active one already says (cosine similarity at or
above `merge_similarity`) is merged into it: the old one gains the evidence and is
reinforced (S += 1, clock reset), as repeating a memory strengthens it. Similar is not
the same, though: "Your phone number is 912…" and "…is 913…" name different values.
Those never merge. The later one supersedes the earlier (archived, with a `supersedes`
link), as a newer fact closes an older one; on a many-valued subject ("You speak
Portuguese." / "…English.") both stay. Thoughts fade
on the forgetting curve; a faded one is merged into a close, stronger neighbour or
archived, never deleted. Pinned thoughts do not fade.

A thought's text never holds a secret: card numbers, passwords and the like become typed
placeholders ("[CARD]") before it is stored, and the thought is labelled with the
highest sensitivity and lowest trust of its evidence. A thought the user forgot is not
concluded again.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import numpy as np
import sqlcipher3

from assistant.derived import links
from assistant.derived.changes import Change, inserted_id, now_iso
from assistant.derived.evidence import relabel
from assistant.derived.proposals import ThoughtCandidate
from assistant.errors import MemoryRefError
from assistant.retention import retention_at
from policies.secrets import redact
from store import tombstones


@dataclass(frozen=True)
class Thought:
    id: int
    text: str
    subject: str | None
    time: str | None
    origin: str
    engine: str
    status: str
    strength: float
    last_access: float | None
    pinned: bool
    created_at: str
    sensitivity: str = "normal"
    trust: str = "user_file"
    evidence: tuple[int, ...] = ()

    def as_json(self) -> dict[str, Any]:
        return {
            "id": f"t{self.id}",
            "text": self.text,
            "subject": self.subject,
            "date": self.time,
            "origin": self.origin,
            "status": self.status,
            "strength": self.strength,
            "pinned": self.pinned,
            "sensitivity": self.sensitivity,
            "trust": self.trust,
            "derived_from": [f"e{e}" for e in self.evidence],
        }


THOUGHT_COLUMNS = (
    "id, text, subject, time, origin, engine, status, strength, last_access, pinned, created_at, "
    "sensitivity, trust"
)


def listing(conn: sqlcipher3.Connection, include_all: bool = False) -> list[Thought]:
    """Active thoughts, newest first; with `include_all`, merged, archived and hidden
    ones too."""
    where = "" if include_all else "WHERE status = 'active'"
    ids = [r[0] for r in conn.execute(f"SELECT id FROM thoughts {where} ORDER BY id DESC")]
    return [get(conn, i) for i in ids]


def get(conn: sqlcipher3.Connection, thought_id: int) -> Thought:
    row = conn.execute(
        f"SELECT {THOUGHT_COLUMNS} FROM thoughts WHERE id = ?", (thought_id,)
    ).fetchone()
    if row is None:
        raise MemoryRefError(f"there is no thought t{thought_id}")
    evidence = tuple(
        r[0]
        for r in conn.execute(
            "SELECT episode_id FROM thought_evidence WHERE thought_id = ? ORDER BY episode_id",
            (thought_id,),
        )
    )
    (row_id, text, subject, when, origin, engine, status, strength, last_access, pinned,
     created_at, level, trust) = row  # fmt: skip
    return Thought(
        row_id, text, subject, when, origin, engine, status, strength, last_access,
        bool(pinned), created_at, level, trust, evidence,
    )  # fmt: skip


class ThoughtIndex:
    """The active thoughts' vectors in memory, for merging during one reflection run
    (thoughts number in the thousands, so exact search is fast enough)."""

    def __init__(self, conn: sqlcipher3.Connection) -> None:
        rows = conn.execute(
            "SELECT id, vector FROM thoughts WHERE status = 'active' AND vector IS NOT NULL"
        ).fetchall()
        self.ids: list[int] = [r[0] for r in rows]
        self._rows: list[np.ndarray] = [np.frombuffer(r[1], dtype="<f4") for r in rows]
        self._matrix: np.ndarray | None = None

    def nearest(self, vector: np.ndarray) -> tuple[int, float] | None:
        if not self.ids:
            return None
        if self._matrix is None:
            self._matrix = np.vstack(self._rows)
        scores = self._matrix @ vector
        best = int(np.argmax(scores))
        return self.ids[best], float(scores[best])

    def add(self, thought_id: int, vector: np.ndarray) -> None:
        self.ids.append(thought_id)
        self._rows.append(vector.astype("<f4"))
        self._matrix = None

    def discard(self, thought_id: int) -> None:
        if thought_id in self.ids:
            at = self.ids.index(thought_id)
            del self.ids[at], self._rows[at]
            self._matrix = None


def add(
    conn: sqlcipher3.Connection,
    cand: ThoughtCandidate,
    vector: np.ndarray,
    index: ThoughtIndex,
    engine: str,
    merge_similarity: float,
    origin: str = "reflection",
) -> tuple[str, int | None]:
    """Insert a thought, or merge it into an active one that says the same (or, when
    that one names another value, supersede it). Returns ('insert' | 'merge' |
    'supersede', the thought id that holds it), or ('skip', None) for a thought the
    user forgot."""
    text = redact(cand.text)
    if tombstones.buried(conn, "thought", [tombstones.thought_key(text)]):
        return "skip", None
    near = index.nearest(vector)
    if near is not None and near[1] >= merge_similarity:
        target, score = near
        older = conn.execute("SELECT text, time FROM thoughts WHERE id = ?", (target,)).fetchone()
        if contradicts(older[0], text):
            op, thought_id = _insert(conn, cand, text, vector, index, engine, origin)
            if cand.many:  # a second language stands beside the first
                return op, thought_id
            _supersede_earlier(conn, index, engine, (thought_id, cand.time), (target, older[1]))
            return "supersede", thought_id
        change = Change(conn, "merge", f"says the same as t{target} ({score:.2f})", engine)
        change.before("thought", target)
        conn.execute(
            "UPDATE thoughts SET strength = strength + 1, last_access = ?, updated_at = ? "
            "WHERE id = ?",
            (datetime.now().timestamp(), now_iso(), target),
        )
        _add_evidence(conn, target, cand.derived_from)
        change.finish()
        return "merge", target
    return _insert(conn, cand, text, vector, index, engine, origin)


def _insert(
    conn: sqlcipher3.Connection,
    cand: ThoughtCandidate,
    text: str,
    vector: np.ndarray,
    index: ThoughtIndex,
    engine: str,
    origin: str,
) -> tuple[str, int]:
    stamp = now_iso()
    time_unix = _unix(cand.time)
    change = Change(conn, "insert", f"concluded from {_refs(cand.derived_from)}", engine)
    thought_id = inserted_id(
        conn.execute(
            "INSERT INTO thoughts (text, subject, time, time_unix, origin, engine, vector, "
            "created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                text, cand.subject, cand.time, time_unix, origin, engine,
                vector.astype("<f4").tobytes(), stamp, stamp,
            ),
        )
    )  # fmt: skip
    _add_evidence(conn, thought_id, cand.derived_from)
    change.created("thought", thought_id)
    change.finish()
    index.add(thought_id, vector)
    return "insert", thought_id


# The values a statement names: numbers (a phone number's digits run together), email
# addresses and capitalised words after its first; not dates, which say when, not what.
_DATES = re.compile(r"\(since [^)]*\)|\b\d{4}-\d{2}-\d{2}\b")
_VALUE = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+|\+?\d[\d ().-]*\d|\d|(?<!^)\b[A-Z][\w'-]+")


def values_named(text: str) -> set[str]:
    plain = _DATES.sub(" ", text)
    return {re.sub(r"[\s().-]", "", v).casefold() for v in _VALUE.findall(plain)}


def contradicts(old: str, new: str) -> bool:
    """Whether two similar statements name different values: neither's values contain
    the other's ("3 May" and "3 May 1990" agree; "Porto" and "Lisbon" do not)."""
    a, b = values_named(old), values_named(new)
    return bool(a and b) and not (a <= b or b <= a)


def _supersede_earlier(
    conn: sqlcipher3.Connection,
    index: ThoughtIndex,
    engine: str,
    a: tuple[int, str | None],
    b: tuple[int, str | None],
) -> None:
    """Of two contradicting thoughts, (id, time) each, the later supersedes the earlier:
    archived, with a `supersedes` link from the later one."""
    new, old = (a[0], b[0]) if (a[1] or "9999") >= (b[1] or "") else (b[0], a[0])
    change = Change(conn, "supersede", f"t{new} names a newer value than t{old}", engine)
    change.before("thought", old)
    conn.execute(
        "UPDATE thoughts SET status = 'archived', updated_at = ? WHERE id = ?", (now_iso(), old)
    )
    change.finish()
    index.discard(old)
    links.store(conn, [links.NewLink("thought", new, "thought", old, "supersedes", None)],
                engine, f"t{new} supersedes t{old}")  # fmt: skip


def _add_evidence(conn: sqlcipher3.Connection, thought_id: int, episodes: Sequence[int]) -> None:
    conn.executemany(
        "INSERT OR IGNORE INTO thought_evidence (thought_id, episode_id) "
        "SELECT ?, id FROM episodes WHERE id = ?",
        [(thought_id, e) for e in episodes],
    )
    relabel(conn, "thought", thought_id)


def _refs(ids: Sequence[int]) -> str:
    shown = ", ".join(f"e{i}" for i in ids[:5])
    return shown + (f" and {len(ids) - 5} more" if len(ids) > 5 else "")


def _unix(iso: str | None) -> float | None:
    if not iso:
        return None
    try:
        moment = datetime.fromisoformat(iso)
    except ValueError:
        return None
    return (moment if moment.tzinfo else moment.astimezone()).timestamp()


def archive_faded(
    conn: sqlcipher3.Connection,
    index: ThoughtIndex,
    k_days: float,
    below: float,
    merge_similarity: float,
    now: float | None = None,
) -> dict[str, int]:
    """Archive (or merge into a close, stronger neighbour) every unpinned active thought
    whose retention fell below `below`. Returns counts by operation."""
    now = datetime.now().timestamp() if now is None else now
    rows = conn.execute(
        "SELECT id, created_at, last_access, strength, vector FROM thoughts "
        "WHERE status = 'active' AND pinned = 0"
    ).fetchall()
    counts = {"archive": 0, "merge": 0}
    for thought_id, created, last_access, strength, blob in rows:
        r = retention_at(now, _unix(created) or now, last_access, strength, k_days)
        if r >= below:
            continue
        index.discard(thought_id)
        near = index.nearest(np.frombuffer(blob, dtype="<f4")) if blob else None
        change_reason = f"retention {r:.3f} fell below {below}"
        if near is not None and near[1] >= merge_similarity * 0.9:
            target = near[0]
            change = Change(conn, "merge", f"{change_reason}; folded into t{target}", "builtin")
            change.before("thought", thought_id)
            change.before("thought", target)
            conn.execute(
                "UPDATE thoughts SET status = 'merged', merged_into = ?, updated_at = ? "
                "WHERE id = ?",
                (target, now_iso(), thought_id),
            )
            conn.execute(
                "INSERT OR IGNORE INTO thought_evidence (thought_id, episode_id) "
                "SELECT ?, episode_id FROM thought_evidence WHERE thought_id = ?",
                (target, thought_id),
            )
            relabel(conn, "thought", target)
            counts["merge"] += 1
        else:
            change = Change(conn, "archive", change_reason, "builtin")
            change.before("thought", thought_id)
            conn.execute(
                "UPDATE thoughts SET status = 'archived', updated_at = ? WHERE id = ?",
                (now_iso(), thought_id),
            )
            counts["archive"] += 1
        change.finish()
    return counts


def strengthen(conn: sqlcipher3.Connection, thought_ids: Sequence[int]) -> None:
    """A recall reinforces a thought as it does an episode."""
    conn.executemany(
        "UPDATE thoughts SET strength = strength + 1, last_access = ? WHERE id = ?",
        [(datetime.now().timestamp(), i) for i in thought_ids],
    )
