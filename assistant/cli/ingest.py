"""`me ingest PATH...` and `me sync [ID]`: read files into the memory, with progress."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

import click

from assistant.cli.common import backend
from assistant.cli.output import Bars, echo, echo_json

if TYPE_CHECKING:  # the ingest pipeline loads only when a command runs
    from assistant.ingest import IngestSummary
    from store.progress import Progress


@contextmanager
def file_progress() -> Iterator[Progress]:
    """A bar counting the files read, named after the one just read (the stage)."""
    from rich.progress import BarColumn, MofNCompleteColumn, TextColumn

    columns = [TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn()]
    with Bars(*columns) as bars:

        def on_progress(stage: str, done: int, total: int | None) -> None:
            bars.update("Reading", done, total, description=stage[:48])

        yield on_progress


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
    with file_progress() as progress:
        summary = backend().ingest(list(roots), progress=progress)
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
    from assistant.errors import SourceNotFoundError

    try:
        with file_progress() as progress:
            done = backend().sync(list(source_ids) or None, progress=progress)
    except SourceNotFoundError as exc:
        raise click.BadParameter(str(exc)) from None
    if not done.sources:
        echo("No sources yet: add one with `me sources add PATH`.")
        return
    for source in done.sources:
        report(source.summary, as_json, label=source.label, verbose=verbose)
    if done.expired and as_json:
        echo_json({"expired": done.expired})
    elif done.expired:
        echo(f"Retention rules forgot {done.expired.get('episodes', 0)} memories that had "
             "grown too old (`me retention list`).")  # fmt: skip
    if done.failed:
        raise SystemExit(2)
