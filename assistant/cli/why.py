"""`me why ID`: where a memory came from, how strongly it is remembered, and what it
is linked to."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import click

from assistant.cli.common import current_config, current_paths, open_memory

if TYPE_CHECKING:
    import sqlcipher3

    from assistant.config import Config


def _episode(conn: sqlcipher3.Connection, episode_id: int) -> dict[str, Any] | None:
    row = conn.execute(
        "SELECT e.time, e.ingested_at, e.kind, e.author, e.sender, e.conversation, d.ref, "
        "e.title, e.connector, e.trust, e.sensitivity, e.quarantine, e.strength, e.last_access, "
        "e.pinned FROM episodes e JOIN documents d ON d.id = e.document_id WHERE e.id = ?",
        (episode_id,),
    ).fetchone()
    if row is None:
        return None
    names = ("date", "stored", "kind", "author", "sender", "conversation", "source", "title",
             "connector", "trust", "sensitivity", "quarantine", "strength", "last_access",
             "pinned")  # fmt: skip
    return dict(zip(names, row, strict=True))


def _thought(conn: sqlcipher3.Connection, thought_id: int) -> dict[str, Any]:
    from assistant.reflection.thoughts import get

    thought = get(conn, thought_id)
    return {
        "text": thought.text,
        "date": thought.time,
        "stored": thought.created_at,
        "origin": thought.origin,
        "engine": thought.engine,
        "status": thought.status,
        "derived_from": [f"e{e}" for e in thought.evidence],
        "strength": thought.strength,
        "last_access": thought.last_access,
        "pinned": thought.pinned,
    }


def _fact(conn: sqlcipher3.Connection, fact_id: int) -> dict[str, Any]:
    from assistant.reflection.persona import get

    fact = get(conn, fact_id).as_json()
    fact.pop("id")
    return fact


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
    from assistant.errors import MemoryRefError
    from assistant.reflection.links import links_of

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
        click.echo(json.dumps(info, ensure_ascii=False))
        return
    for key, value in info.items():
        if key != "links":
            click.echo(f"{key:<14} {value}")
    for link in info["links"]:
        arrow = "->" if link["direction"] == "to" else "<-"
        click.echo(f"link           {arrow} {link['other']} ({link['label']})")
    if kind != "fact":
        settings = config.recall
        click.echo(
            f"\nR = exp(-days since {'last recall' if info['last_recall'] else 'stored'} / "
            f"({settings.retention_days:g} x S)); recall ranks with "
            f"{settings.retention_floor:g} + {1 - settings.retention_floor:g} x R."
        )
