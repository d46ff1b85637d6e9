"""`me check`: read every page of the vault and say what, if anything, is damaged."""

from __future__ import annotations

from dataclasses import asdict

import click

from assistant.cli.common import backend
from assistant.cli.output import Bars, echo, echo_json


@click.command(
    epilog="Example:\n\n\b\n  me check\n  me check --json   # exit status 1 if anything is damaged"
)
@click.option("--json", "as_json", is_flag=True, help="Print the findings as one JSON object.")
def check(as_json: bool) -> None:
    """Check the whole vault for damage: every page of memory.db, vectors.sealed, keys.json.

    Exits with status 1 and says how to recover when anything is damaged.
    """
    with Bars() as bars:  # its first stage comes after the passphrase prompt
        result = backend().check(progress=bars.update)
    if as_json:
        findings = [{**asdict(f), "ok": f.ok} for f in result.findings]
        echo_json({"ok": result.ok, "findings": findings})
    else:
        for finding in result.findings:
            if finding.ok:
                echo(f"{finding.file:<15} ok: {finding.summary}")
                continue
            echo(f"{finding.file:<15} DAMAGED: {finding.problem}")
            if finding.remedy:
                echo(f"{'':<15} To recover: {finding.remedy}")
        echo("All is well." if result.ok else "Damage found: see above for what to do.")
    if not result.ok:
        raise SystemExit(1)  # scripts can tell
