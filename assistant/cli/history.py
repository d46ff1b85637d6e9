"""`me history ID` and `me undo CHANGE_ID`: every change reflection or you made to a
thought, persona fact or link, and how to take one back."""

from __future__ import annotations

from typing import Any

import click

from assistant.cli.common import backend
from assistant.cli.output import echo, echo_json

SHOWN = ("text", "person", "attribute", "value", "valid_from", "valid_to", "superseded_by",
         "status", "pinned", "strength", "label", "evidence")  # fmt: skip


def _diff(old: dict[str, Any] | None, new: dict[str, Any] | None) -> str:
    if any(picture and picture.get("forgotten") for picture in (old, new)):
        return "forgotten (what it said is not kept)"
    if old is None:
        fields = {k: v for k, v in (new or {}).items() if k in SHOWN and v not in (None, "", [])}
        return "created: " + ", ".join(f"{k}={v!r}" for k, v in fields.items())
    if new is None:
        return "removed"
    changed = [k for k in SHOWN if old.get(k) != new.get(k)]
    return ", ".join(f"{k}: {old.get(k)!r} -> {new.get(k)!r}" for k in changed) or "unchanged"


@click.command(epilog="Example:\n\n\b\n  me persona --all   # find an id\n  me history f7")
@click.argument("memory_ref")
@click.option("--json", "as_json", is_flag=True, help="One JSON object per change.")
def history(memory_ref: str, as_json: bool) -> None:
    """Every change to MEMORY_REF (t3 a thought, f7 a fact, l5 a link), oldest first."""
    for record in backend().history(memory_ref):
        if as_json:
            echo_json(record.as_json())
            continue
        undone = f" (undone by change {record.undone_by})" if record.undone_by else ""
        echo(f"change {record.id}  {record.at}  {record.op} by {record.engine}{undone}")
        echo(f"  why: {record.reason}")
        for row in record.rows:
            echo(f"  {row.ref}: {_diff(row.old, row.new)}")


@click.command(epilog="Example:\n\n\b\n  me history f7   # find the change\n  me undo 42")
@click.argument("change_id", type=int)
def undo(change_id: int) -> None:
    """Take back change CHANGE_ID (as shown by `me history`), recorded as a new change."""
    undo_id = backend().undo(change_id)
    echo(f"Change {change_id} undone (recorded as change {undo_id}).")
