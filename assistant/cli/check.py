"""`me check`: read every page of the vault and say what, if anything, is damaged."""

from __future__ import annotations

import json
from dataclasses import asdict
from typing import TYPE_CHECKING

import click

from assistant.cli.common import current_config, current_paths, err_console, terminal_secrets

if TYPE_CHECKING:
    from rich.progress import Progress, TaskID

    from store.integrity import CheckProgress


def stage_progress(bar: Progress, start: bool = False) -> CheckProgress:
    """A check's stages as bars; with `start`, the display begins at the first stage.

    Starting late matters: a passphrase prompt comes before the first stage, and no
    progress display may redraw the line while the prompt waits.
    """
    tasks: dict[str, TaskID] = {}

    def update(stage: str, done: int, total: int) -> None:
        if stage not in tasks:
            if start and not tasks:
                bar.start()
            tasks[stage] = bar.add_task(stage, total=total or None)
        bar.update(tasks[stage], completed=done, total=total or None)

    return update


@click.command(
    epilog="Example:\n\n\b\n  me check\n  me check --json   # exit status 1 if anything is damaged"
)
@click.option("--json", "as_json", is_flag=True, help="Print the findings as one JSON object.")
def check(as_json: bool) -> None:
    """Check the whole vault for damage: every page of memory.db, vectors.sealed, keys.json.

    Exits with status 1 and says how to recover when anything is damaged.
    """
    from rich.progress import Progress

    from assistant.integrity import check_vault

    paths = current_paths()
    bar = Progress(console=err_console, transient=True)
    try:
        result = check_vault(
            paths, current_config(paths), terminal_secrets(), stage_progress(bar, start=True)
        )
    finally:
        bar.stop()
    if as_json:
        findings = [{**asdict(f), "ok": f.ok} for f in result.findings]
        click.echo(json.dumps({"ok": result.ok, "findings": findings}))
    else:
        for finding in result.findings:
            if finding.ok:
                click.echo(f"{finding.file:<15} ok: {finding.summary}")
                continue
            click.echo(f"{finding.file:<15} DAMAGED: {finding.problem}")
            if finding.remedy:
                click.echo(f"{'':<15} To recover: {finding.remedy}")
        click.echo("All is well." if result.ok else "Damage found: see above for what to do.")
    if not result.ok:
        raise SystemExit(1)  # scripts can tell
