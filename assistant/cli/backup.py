"""`me backup`, `me restore` and `me export`: copies of your memory that you keep."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from assistant.cli.common import backend, current_config, current_paths, terminal_secrets
from assistant.cli.output import Bars, clean, echo, echo_json


@click.command(epilog="Example:\n\n\b\n  me backup ~/backups/memory-2026-12.sselfbak")
@click.argument("path", type=click.Path(path_type=Path))
@click.option("--json", "as_json", is_flag=True, help="The result as JSON.")
def backup(path: Path, as_json: bool) -> None:
    """Write an encrypted backup of the whole vault to PATH (a new file). It opens with
    the same passphrase, keyring entry or recovery phrase as the vault."""
    report = backend().backup(path)
    if as_json:
        echo_json(report.as_json())
        return
    echo(f"Backup written to {clean(report.path, one_line=True)} ({report.bytes / 1e6:.1f} MB, "
         f"{report.episodes} memories). Its parts are encrypted as the vault is.")  # fmt: skip


@click.command(
    epilog="Example:\n\n\b\n  me daemon stop\n  me restore ~/backups/memory-2026-12.sselfbak"
)
@click.argument("path", type=click.Path(path_type=Path))
@click.option("--yes", is_flag=True, help="Do not ask before replacing the vault.")
@click.option("--json", "as_json", is_flag=True, help="The result as JSON.")
def restore(path: Path, yes: bool, as_json: bool) -> None:
    """Replace the vault with the backup at PATH. Whatever was forgotten since the backup
    was made is forgotten again before anything is replaced, and stays forgotten.
    Memories added since the backup are lost: `me sync` reads your sources again."""
    from assistant.backup import restore as run_restore

    if not yes:
        if not sys.stdin.isatty():
            raise click.UsageError("restoring replaces the vault: confirm with --yes")
        if not click.confirm(f"Replace this vault with {path.name}? Memories added since "
                             "that backup are lost", err=True):  # fmt: skip
            echo("Nothing was changed.")
            return
    paths = current_paths()
    with Bars() as bars:
        report = run_restore(paths, current_config(paths), terminal_secrets(),
                             path.expanduser().resolve(), bars.update)  # fmt: skip
    if as_json:
        echo_json(report.as_json())
        return
    echo(f"Restored the backup of {report.created[:19]}: {report.episodes} memories.")
    forgotten = report.forgotten_again
    again = sum(forgotten.get(k, 0) for k in ("episodes", "facts", "thoughts"))
    echo(f"Forgotten again (forgotten after the backup was made): {again} memories, "
         "facts and thoughts." if again else "Nothing in it had been forgotten since.")  # fmt: skip
    for note in report.notes:
        echo(f"Note: {note}.")


@click.command(epilog="Example:\n\n\b\n  me export --jsonl ~/memory.jsonl")
@click.option("--jsonl", "path", required=True, type=click.Path(path_type=Path),
              help="Write one JSON object per line to this new file.")  # fmt: skip
@click.option("--yes", is_flag=True, help="Do not ask (the file is not encrypted).")
def export(path: Path, yes: bool) -> None:
    """Write your whole memory (memories, facts, thoughts, links), secrets included, to
    a file in the open. It is NOT encrypted: anyone who can read the file reads all of it."""
    warning = (f"{path.name} will NOT be encrypted: it holds everything in your memory, "
               "secrets included.")  # fmt: skip
    if not yes:
        if not sys.stdin.isatty():
            raise click.UsageError(f"{warning} Confirm with --yes.")
        if not click.confirm(f"{warning} Write it?", err=True):
            echo("Nothing was written.")
            return
    report = backend().export(path)
    counts = report.counts
    echo(f"Exported {counts['episodes']} memories, {counts['facts']} facts, "
         f"{counts['thoughts']} thoughts and {counts['links']} links to "
         f"{clean(report.path, one_line=True)}.")  # fmt: skip
    echo("Warning: that file is not encrypted. Delete it (or keep it somewhere safe) when "
         "you are done.", err=True)  # fmt: skip
