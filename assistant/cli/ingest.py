"""`me ingest PATH...` and `me sync [ID]`: read files into the memory, with progress."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

import click

from assistant.cli.common import current_config, current_paths, open_memory
from assistant.cli.output import Bars, echo, echo_json

if TYPE_CHECKING:  # the ingest pipeline loads only when a command runs
    from assistant.ingest import FileOutcome, IngestSummary


@contextmanager
def file_progress() -> Iterator[Callable[[FileOutcome], None]]:
    """A bar counting the files read, named after the one just read."""
    from rich.progress import BarColumn, MofNCompleteColumn, TextColumn

    columns = [TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn()]
    with Bars(*columns) as bars:
        count = 0

        def on_file(outcome: FileOutcome) -> None:
            nonlocal count
            count += 1
            name = Path(outcome.name).name  # valid text, even for a name that is not UTF-8
            bars.update("Reading", count, None, description=f"Reading {name[:40]}")

        yield on_file


def report(summary: IngestSummary, as_json: bool, label: str = "", verbose: bool = False) -> None:
    if as_json:
        echo_json({"source": label, **summary.as_json()} if label else summary.as_json())
        return
    head = f"{label}: " if label else ""
    echo(
        f"{head}added {summary.added}, updated {summary.updated}, "
        f"unchanged {summary.unchanged}, removed {summary.removed}, "
        f"failed {len(summary.failed)}, skipped {len(summary.skipped)} "
        f"({summary.chunks_added} chunks stored, {summary.chunks_removed} removed)"
    )
    report_skipped(summary, verbose)
    for failure in summary.failed:
        echo(f"  failed: {failure.name}: {failure.reason}", err=True)


def report_skipped(summary: IngestSummary, verbose: bool) -> None:
    """One line counting the skipped entries per reason; with `verbose`, one per entry."""
    if summary.skipped:
        counts = ", ".join(f"{n} {reason}" for reason, n in summary.skipped_by_reason().items())
        echo(f"  skipped: {counts}" + ("" if verbose else " (--verbose lists them)"))
    if verbose:
        for skipped in summary.skipped:
            detail = f" ({skipped.detail})" if skipped.detail else ""
            echo(f"  skipped: {skipped.name}: {skipped.reason}{detail}")


@click.command(
    epilog="Example:\n\n\b\n  me ingest ~/notes ~/Documents/journal.txt\n"
    "  me ingest ~/ObsidianVault --json   # summary as one JSON object\n"
    "  me ingest ~/Downloads --verbose    # also list each skipped file and why"
)
@click.argument("roots", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option("--json", "as_json", is_flag=True, help="Print the summary as JSON.")
@click.option("--verbose", "-v", is_flag=True, help="List every skipped file with its reason.")
def ingest(roots: tuple[Path, ...], as_json: bool, verbose: bool) -> None:
    """Read notes, chats, mail and documents into the memory once (idempotent)."""
    from assistant.ingest import Ingestor

    paths = current_paths()
    with (
        open_memory(paths, current_config(paths)) as memory,
        file_progress() as on_file,
        Ingestor(memory, on_file) as ingestor,
    ):
        summary = ingestor.ingest(list(roots))
    report(summary, as_json, verbose=verbose)
    if summary.failed:
        raise SystemExit(2)  # partial success: scripts can tell


@click.command(
    epilog="Example:\n\n\b\n  me sync        # every source\n  me sync 2      # source 2 only"
)
@click.argument("source_ids", nargs=-1, type=int)
@click.option("--json", "as_json", is_flag=True, help="One JSON summary per source.")
@click.option("--verbose", "-v", is_flag=True, help="List every skipped file with its reason.")
def sync(source_ids: tuple[int, ...], as_json: bool, verbose: bool) -> None:
    """Bring registered sources up to date (see `me sources`)."""
    from assistant.ingest import Ingestor

    paths = current_paths()
    failed = False
    with open_memory(paths, current_config(paths)) as memory:
        rows = memory.db.conn.execute(
            "SELECT id, root FROM sources WHERE listed = 1 ORDER BY id"
        ).fetchall()
        chosen = [r for r in rows if not source_ids or r[0] in source_ids]
        unknown = set(source_ids) - {r[0] for r in rows}
        if unknown:
            raise click.BadParameter(f"no source with id {sorted(unknown)}; see `me sources list`")
        if not chosen:
            echo("No sources yet: add one with `me sources add PATH`.")
            return
        for source_id, root in chosen:
            with file_progress() as on_file, Ingestor(memory, on_file) as ingestor:
                summary = ingestor.sync(source_id)
            report(summary, as_json, label=f"[{source_id}] {root}", verbose=verbose)
            failed = failed or bool(summary.failed)
    if failed:
        raise SystemExit(2)
