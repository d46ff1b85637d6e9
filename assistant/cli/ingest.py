"""`me ingest PATH...`: read notes into the memory with a progress bar and a summary."""

from __future__ import annotations

import json
from pathlib import Path

import click

from assistant.cli.common import current_config, current_paths, err_console, open_memory


@click.command(
    epilog="Example:\n\n\b\n  me ingest ~/notes ~/Documents/journal.txt\n"
    "  me ingest ~/ObsidianVault --json   # summary as one JSON object"
)
@click.argument("roots", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option("--json", "as_json", is_flag=True, help="Print the summary as JSON.")
def ingest(roots: tuple[Path, ...], as_json: bool) -> None:
    """Read Markdown/Obsidian notes and text files into the memory (idempotent)."""
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

    from assistant.ingest import FileOutcome, Ingestor

    paths = current_paths()
    with open_memory(paths, current_config(paths)) as memory:
        columns = [TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn()]
        with Progress(*columns, console=err_console, transient=True) as bar:
            task = bar.add_task("Ingesting", total=None)

            def on_file(outcome: FileOutcome) -> None:
                bar.update(task, advance=1, description=f"Ingesting {outcome.path.name[:40]}")

            summary = Ingestor(memory, on_file).run(list(roots))
    if as_json:
        out = {
            "added": summary.added,
            "updated": summary.updated,
            "unchanged": summary.unchanged,
            "failed": [{"path": str(f.path), "reason": f.reason} for f in summary.failed],
            "chunks_added": summary.chunks_added,
            "chunks_removed": summary.chunks_removed,
        }
        click.echo(json.dumps(out, ensure_ascii=False))
    else:
        click.echo(
            f"added {summary.added}, updated {summary.updated}, "
            f"unchanged {summary.unchanged}, failed {len(summary.failed)} "
            f"({summary.chunks_added} chunks stored, {summary.chunks_removed} replaced)"
        )
        for failure in summary.failed:
            click.echo(f"  failed: {failure.path}: {failure.reason}", err=True)
    if summary.failed:
        raise SystemExit(2)  # partial success: scripts can tell
