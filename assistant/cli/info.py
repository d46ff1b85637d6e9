"""`me status` and `me paths`: what is stored and where."""

from __future__ import annotations

import click

from assistant.cli.common import backend, current_paths
from assistant.cli.output import echo, echo_json


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
    found = backend().status()
    if as_json:
        echo_json(found.as_json())
        return
    echo(f"data      {found.data}")
    echo(f"runtime   {found.runtime} ({found.storage.describe()})")
    echo(f"vault     {found.vault}")
    if found.unlock_mode is None:
        return
    echo(f"unlock    {found.unlock_mode}")
    if found.counts is not None:
        c = found.counts
        echo(
            f"memory    {c.sources} sources, {c.documents} documents, {c.episodes} episodes, "
            f"{c.vectors} vectors"
        )
        echo(f"index     {c.index_vectors} vectors ({c.index_state})")
    echo("sizes     " + ", ".join(f"{k} {_human(v)}" for k, v in found.sizes.items()))
    if found.counts is not None:
        echo(f"model     {found.counts.model}")
