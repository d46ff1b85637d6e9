"""`why`: where a memory came from, how strongly it is remembered, what it links to."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import sqlcipher3

from assistant import refs
from assistant.config import RecallSettings
from assistant.derived import persona, thoughts
from assistant.derived.links import links_of
from assistant.errors import MemoryRefError
from assistant.hits import Hit
from assistant.memory import Memory
from assistant.retention import rank_factor, retention_at
from store.database import marks

EPISODE_FIELDS = ("text", "date", "stored", "kind", "author", "sender", "conversation", "source",
                  "title", "connector", "trust", "sensitivity", "quarantine", "strength",
                  "last_access", "pinned", "released")  # fmt: skip


@dataclass(frozen=True)
class Explanation:
    """What `why` shows. `fields` keeps the order they are shown in; thoughts and facts
    carry `evidence_memories` (each memory they rest on, with its text), and episodes
    and thoughts their retention (R, the rank factor, the last recall)."""

    ref: str
    kind: str  # 'episode', 'thought' or 'fact'
    fields: dict[str, Any]
    links: list[dict[str, str]]
    retention_days: float
    retention_floor: float

    def as_json(self) -> dict[str, Any]:
        return {"id": self.ref, **self.fields, "links": self.links}


def why(memory: Memory, memory_ref: str) -> Explanation:
    """Explain a memory: `42`/`e42` an episode, `t3` a thought, `f7` a persona fact."""
    kind, row_id = refs.parse(memory_ref)
    if kind == "link":
        raise MemoryRefError("links are explained by the memories at their ends; try `me history`")
    conn = memory.db.conn
    if kind == "episode":
        fields = _episode(conn, row_id)
        if fields is None:
            raise MemoryRefError(f"no memory with id {memory_ref}")
    elif kind == "thought":
        fields = _thought(conn, row_id)
    else:
        fields = _fact(conn, row_id)
    links = [
        {"direction": d, "other": refs.ref(k, i), "label": lab}
        for d, k, i, lab in links_of(conn, kind, row_id)
    ]
    settings = memory.config.recall
    if kind != "fact":
        _add_retention(fields, settings)
    return Explanation(
        refs.ref(kind, row_id),
        kind,
        fields,
        links,
        settings.retention_days,
        settings.retention_floor,
    )


def _episode(conn: sqlcipher3.Connection, episode_id: int) -> dict[str, Any] | None:
    row = conn.execute(
        "SELECT e.text, e.time, e.ingested_at, e.kind, e.author, e.sender, e.conversation, d.ref, "
        "e.title, e.connector, e.trust, e.sensitivity, e.quarantine, e.strength, e.last_access, "
        "e.pinned, r.released_at FROM episodes e JOIN documents d ON d.id = e.document_id "
        "LEFT JOIN releases r ON r.episode_id = e.id WHERE e.id = ?",
        (episode_id,),
    ).fetchone()
    return None if row is None else dict(zip(EPISODE_FIELDS, row, strict=True))


def _thought(conn: sqlcipher3.Connection, thought_id: int) -> dict[str, Any]:
    thought = thoughts.get(conn, thought_id)
    return {
        "text": thought.text,
        "date": thought.time,
        "stored": thought.created_at,
        "origin": thought.origin,
        "engine": thought.engine,
        "status": thought.status,
        "derived_from": [f"e{e}" for e in thought.evidence],
        "evidence_memories": evidence_memories(conn, thought.evidence),
        "strength": thought.strength,
        "last_access": thought.last_access,
        "pinned": thought.pinned,
    }


def _fact(conn: sqlcipher3.Connection, fact_id: int) -> dict[str, Any]:
    fact = persona.get(conn, fact_id)
    fields = fact.as_json()
    fields.pop("id")
    fields["evidence_memories"] = evidence_memories(conn, fact.evidence)
    return fields


def evidence_memories(
    conn: sqlcipher3.Connection, episode_ids: Sequence[int]
) -> list[dict[str, Any]]:
    """What a thought or fact rests on: each episode's ref, date, sender and text."""
    if not episode_ids:
        return []
    rows = conn.execute(
        "SELECT id, time, sender, text, quarantine FROM episodes "
        f"WHERE id IN ({marks(episode_ids)}) ORDER BY time_unix",
        list(episode_ids),
    ).fetchall()
    return [
        {"id": f"e{r[0]}", "date": r[1], "sender": r[2], "text": r[3], "quarantine": r[4]}
        for r in rows
    ]


def _add_retention(fields: dict[str, Any], settings: RecallSettings) -> None:
    """R and the rank factor of an episode or a thought, as recall would weigh it now."""
    now = datetime.now(UTC).timestamp()
    stored = datetime.fromisoformat(fields["stored"]).timestamp()
    last = fields.pop("last_access")
    r = retention_at(
        now, stored, last, fields["strength"], settings.retention_days, fields["pinned"]
    )
    fields.update(
        last_recall=datetime.fromtimestamp(last, UTC).isoformat(timespec="seconds")
        if last
        else None,
        pinned=bool(fields["pinned"]),
        retention=round(r, 4),
        rank_factor=round(rank_factor(r, settings.retention_floor), 4),
        retention_days=settings.retention_days,
    )


@dataclass(frozen=True)
class Surroundings:
    """The memories just before and after one episode: the turns around it in its
    conversation, or the chunks around it in its document."""

    ref: str
    before: list[Hit]  # oldest first
    after: list[Hit]

    def as_json(self) -> dict[str, Any]:
        return {
            "id": self.ref,
            "before": [h.as_json() for h in self.before],
            "after": [h.as_json() for h in self.after],
        }


def surroundings(memory: Memory, memory_ref: str, n: int = 3) -> Surroundings:
    """Up to `n` memories either side of episode `memory_ref`, in order."""
    from assistant.recall import load_hits

    kind, episode_id = refs.parse(memory_ref)
    if kind != "episode":
        raise MemoryRefError(f"{memory_ref} is not a stored memory: only episodes have turns")
    conn = memory.db.conn
    row = conn.execute(
        "SELECT conversation, document_id, time_unix FROM episodes WHERE id = ?", (episode_id,)
    ).fetchone()
    if row is None:
        raise MemoryRefError(f"no memory with id {memory_ref}")
    conversation, document_id, at = row
    # A conversation's turns in time; a document's chunks in the order they were read.
    same, key, value = (
        ("conversation = ?", "time_unix", conversation)
        if conversation is not None
        else ("document_id = ?", "id", document_id)
    )
    mark = at if conversation is not None else episode_id
    earlier = conn.execute(
        f"SELECT id FROM episodes WHERE {same} AND ({key} < ? OR ({key} = ? AND id < ?)) "
        f"ORDER BY {key} DESC, id DESC LIMIT ?",
        (value, mark, mark, episode_id, n),
    ).fetchall()
    later = conn.execute(
        f"SELECT id FROM episodes WHERE {same} AND ({key} > ? OR ({key} = ? AND id > ?)) "
        f"ORDER BY {key}, id LIMIT ?",
        (value, mark, mark, episode_id, n),
    ).fetchall()
    before = load_hits(memory, [(i, 0.0) for (i,) in reversed(earlier)])
    return Surroundings(refs.ref("episode", episode_id), before,
                        load_hits(memory, [(i, 0.0) for (i,) in later]))  # fmt: skip
