"""`me why ID`: where a memory came from, how strongly it is remembered, and what it
is linked to."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import click

from assistant.cli.common import current_config, current_paths, open_memory
from assistant.cli.output import clean, echo, echo_json
from store.database import marks

EVIDENCE_WIDTH = 100  # characters of each evidence memory's text shown by `me why`

if TYPE_CHECKING:
    import sqlcipher3

    from assistant.config import Config


def _episode(conn: sqlcipher3.Connection, episode_id: int) -> dict[str, Any] | None:
    row = conn.execute(
        "SELECT e.text, e.time, e.ingested_at, e.kind, e.author, e.sender, e.conversation, d.ref, "
        "e.title, e.connector, e.trust, e.sensitivity, e.quarantine, e.strength, e.last_access, "
        "e.pinned FROM episodes e JOIN documents d ON d.id = e.document_id WHERE e.id = ?",
        (episode_id,),
    ).fetchone()
    if row is None:
        return None
    names = ("text", "date", "stored", "kind", "author", "sender", "conversation", "source",
             "title", "connector", "trust", "sensitivity", "quarantine", "strength", "last_access",
             "pinned")  # fmt: skip
    return dict(zip(names, row, strict=True))


def _thought(conn: sqlcipher3.Connection, thought_id: int) -> dict[str, Any]:
    from assistant.derived.thoughts import get

    thought = get(conn, thought_id)
    return {
        "text": thought.text,
        "date": thought.time,
        "stored": thought.created_at,
        "origin": thought.origin,
        "engine": thought.engine,
        "status": thought.status,
        "derived_from": [f"e{e}" for e in thought.evidence],
        "evidence_memories": _evidence(conn, thought.evidence),
        "strength": thought.strength,
        "last_access": thought.last_access,
        "pinned": thought.pinned,
    }


def _fact(conn: sqlcipher3.Connection, fact_id: int) -> dict[str, Any]:
    from assistant.derived.persona import get

    fact = get(conn, fact_id)
    info = fact.as_json()
    info.pop("id")
    info["evidence_memories"] = _evidence(conn, fact.evidence)
    return info


def _evidence(conn: sqlcipher3.Connection, episode_ids: Sequence[int]) -> list[dict[str, Any]]:
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


def _evidence_line(item: dict[str, Any]) -> str:
    sender = f"{item['sender']}: " if item["sender"] else ""
    text = clean(item["text"], one_line=True)
    text = text if len(text) <= EVIDENCE_WIDTH else text[: EVIDENCE_WIDTH - 1] + "…"
    held = " [quarantined]" if item["quarantine"] else ""
    return f"{item['id']:<6} {item['date'][:10]}  {sender}{text}{held}"


def _retention(info: dict[str, Any], config: Config) -> None:
    """Add R and the rank factor to an episode's or thought's info."""
    from assistant.retention import rank_factor, retention_at

    settings = config.recall
    now = datetime.now(UTC).timestamp()
    stored = datetime.fromisoformat(info["stored"]).timestamp()
    last = info.pop("last_access")
    r = retention_at(now, stored, last, info["strength"], settings.retention_days, info["pinned"])
    info.update(
        last_recall=datetime.fromtimestamp(last, UTC).isoformat(timespec="seconds")
        if last
        else None,
        pinned=bool(info["pinned"]),
        retention=round(r, 4),
        rank_factor=round(rank_factor(r, settings.retention_floor), 4),
        retention_days=settings.retention_days,
    )


@click.command(
    epilog="Example:\n\n\b\n  me recall --json Lisbon   # find an id\n  me why 42\n  me why f7"
)
@click.argument("memory_ref")
@click.option("--json", "as_json", is_flag=True, help="Print as one JSON object.")
def why(memory_ref: str, as_json: bool) -> None:
    """Explain a memory (42 or e42 an episode, t3 a thought, f7 a persona fact): source,
    author, sensitivity, strength S, last recall, R, pins and links."""
    from assistant import refs
    from assistant.derived.links import links_of
    from assistant.errors import MemoryRefError

    kind, row_id = refs.parse(memory_ref)
    if kind == "link":
        raise MemoryRefError("links are explained by the memories at their ends; try `me history`")
    paths = current_paths()
    config = current_config(paths)
    with open_memory(paths, config) as memory:
        conn = memory.db.conn
        info = _episode(conn, row_id) if kind == "episode" else None
        if kind == "episode" and info is None:
            raise MemoryRefError(f"no memory with id {memory_ref}")
        if kind == "thought":
            info = _thought(conn, row_id)
        elif kind == "fact":
            info = _fact(conn, row_id)
        assert info is not None
        info = {"id": refs.ref(kind, row_id), **info}
        info["links"] = [
            {"direction": d, "other": refs.ref(k, i), "label": lab}
            for d, k, i, lab in links_of(conn, kind, row_id)
        ]
    if kind != "fact":
        _retention(info, config)
    if as_json:
        echo_json(info)
        return
    for key, value in info.items():
        if key == "evidence_memories":
            for item in value:
                echo(f"{'':<14} {_evidence_line(item)}")
        elif key != "links":
            shown = ", ".join(map(str, value)) if isinstance(value, list) else str(value)
            echo(f"{key:<14} {clean(shown, one_line=True)}")
    for link in info["links"]:
        arrow = "->" if link["direction"] == "to" else "<-"
        echo(f"link           {arrow} {link['other']} ({link['label']})")
    if kind != "fact":
        settings = config.recall
        echo(
            f"\nR = exp(-days since {'last recall' if info['last_recall'] else 'stored'} / "
            f"({settings.retention_days:g} x S)); recall ranks with "
            f"{settings.retention_floor:g} + {1 - settings.retention_floor:g} x R."
        )
