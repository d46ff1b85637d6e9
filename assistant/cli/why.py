"""`me why ID`: where a memory came from and how strongly it is remembered."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import click

from assistant.cli.common import current_config, current_paths, open_memory


@click.command(epilog="Example:\n\n\b\n  me recall --json Lisbon   # find an id\n  me why 42")
@click.argument("episode_id", type=int)
@click.option("--json", "as_json", is_flag=True, help="Print as one JSON object.")
def why(episode_id: int, as_json: bool) -> None:
    """Explain a memory: source, author, sensitivity, strength S, last recall and R."""
    from assistant.errors import SecondSelfError
    from assistant.retention import rank_factor, retention_at

    paths = current_paths()
    config = current_config(paths)
    with open_memory(paths, config) as memory:
        row = memory.db.conn.execute(
            "SELECT e.time, e.ingested_at, e.kind, e.author, e.sender, e.conversation, d.ref, "
            "e.title, e.connector, e.trust, e.sensitivity, e.strength, e.last_access, e.pinned "
            "FROM episodes e JOIN documents d ON d.id = e.document_id WHERE e.id = ?",
            (episode_id,),
        ).fetchone()
    if row is None:
        raise SecondSelfError(f"no memory with id {episode_id}")
    settings = config.recall
    now = datetime.now(UTC).timestamp()
    stored = datetime.fromisoformat(row[1]).timestamp()
    r = retention_at(now, stored, row[12], row[11], settings.retention_days, bool(row[13]))
    last = datetime.fromtimestamp(row[12], UTC).isoformat(timespec="seconds") if row[12] else None
    names = ("date", "stored", "kind", "author", "sender", "conversation", "source", "title",
             "connector", "trust", "sensitivity", "strength")  # fmt: skip
    info: dict[str, object] = {"id": episode_id, **dict(zip(names, row[:12], strict=True))}
    info.update(
        last_recall=last,
        pinned=bool(row[13]),
        retention=round(r, 4),
        rank_factor=round(rank_factor(r, settings.retention_floor), 4),
        retention_days=settings.retention_days,
    )
    if as_json:
        click.echo(json.dumps(info, ensure_ascii=False))
        return
    for key, value in info.items():
        click.echo(f"{key:<14} {value}")
    click.echo(
        f"\nR = exp(-days since {'last recall' if last else 'stored'} / "
        f"({settings.retention_days:g} x S)); recall ranks with "
        f"{settings.retention_floor:g} + {1 - settings.retention_floor:g} x R."
    )
