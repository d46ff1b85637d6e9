"""`me status` and `me paths`: what is stored and where."""

from __future__ import annotations

from pathlib import Path

import click

from assistant.cli.common import current_config, current_paths, open_memory
from assistant.cli.output import echo, echo_json


def _size(path: Path) -> int:
    return path.stat().st_size if path.exists() else 0


def _human(n: float) -> str:
    for unit in ("B", "KiB", "MiB", "GiB"):
        if n < 1024 or unit == "GiB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1024
    return f"{n} B"


@click.command(epilog="Example:\n\n\b\n  me paths\n  me paths --json")
@click.option("--json", "as_json", is_flag=True, help="Print as one JSON object.")
def paths(as_json: bool) -> None:
    """Show where data, config, cache and the runtime index live."""
    p = current_paths()
    rows = {"data": p.data, "config": p.config, "cache": p.cache, "runtime": p.runtime}
    if as_json:
        echo_json({k: str(v) for k, v in rows.items()})
        return
    for name, where in rows.items():
        echo(f"{name:<8} {where}")


@click.command(epilog="Example:\n\n\b\n  me status\n  me status --json")
@click.option("--json", "as_json", is_flag=True, help="Print as one JSON object.")
def status(as_json: bool) -> None:
    """Counts, vault state, index state and sizes."""
    from assistant.runtime import runtime_storage
    from assistant.vault import key_file_mode

    p = current_paths()
    storage = runtime_storage(p.runtime)
    info: dict[str, object] = {
        "data": str(p.data),
        "runtime": {
            "path": str(p.runtime),
            "filesystem": storage.filesystem,
            "in_ram": storage.in_ram,
        },
    }
    if not p.key_file.exists() and not p.database.exists():
        info["vault"] = "none (run `me init`)"
    else:
        info["vault"] = "present"
        info["unlock_mode"] = key_file_mode(p.key_file)
        info["sizes"] = {
            "database": _size(p.database),
            "wal": _size(p.database.with_name(p.database.name + "-wal")),
            "snapshot": _size(p.snapshot),
        }
        with open_memory(p, current_config(p)) as memory:
            tables = memory.db.db  # sqlite-utils view of the same connection
            info["counts"] = {
                # as `me sources list` shows them: a folder read once by `me ingest` is
                # kept as an unlisted source, to tell its documents apart, not counted
                "sources": memory.db.conn.execute(
                    "SELECT count(*) FROM sources WHERE listed = 1"
                ).fetchone()[0],
                **{name: tables.table(name).count for name in ("documents", "episodes", "vectors")},
            }
            info["index"] = {
                "state": memory.index_report.how,
                "vectors": memory.index.count(),
                "replayed": memory.index_report.replayed,
                "note": memory.index_report.reason,
            }
            info["model"] = memory.config.embedding.model
    if as_json:
        echo_json(info)
        return
    echo(f"data      {info['data']}")
    echo(f"runtime   {p.runtime} ({storage.describe()})")
    echo(f"vault     {info['vault']}")
    if "unlock_mode" in info:
        echo(f"unlock    {info['unlock_mode']}")
        counts = info["counts"]
        assert isinstance(counts, dict)
        echo("memory    " + ", ".join(f"{v} {k}" for k, v in counts.items()))
        index = info["index"]
        assert isinstance(index, dict)
        echo(f"index     {index['vectors']} vectors ({index['state']})")
        sizes = info["sizes"]
        assert isinstance(sizes, dict)
        echo("sizes     " + ", ".join(f"{k} {_human(v)}" for k, v in sizes.items()))
        echo(f"model     {info['model']}")
