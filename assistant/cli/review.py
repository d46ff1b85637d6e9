"""`me review`: what reflection learned since you last looked, and what was quarantined;
`me release ID`: overrule the quarantine for one memory."""

from __future__ import annotations

import click

from assistant.cli.common import backend
from assistant.cli.output import clean, echo, echo_json

WHAT_WIDTH = 90  # characters of each item's text shown by `me review`


@click.command(
    epilog="Example:\n\n\b\n  me review\n  me forget f7      # reject a fact\n"
    "  me release e42    # trust a quarantined memory\n  me review --done"
)
@click.option("--json", "as_json", is_flag=True, help="Print as one JSON object.")
@click.option(
    "--done", is_flag=True, help="Record all listed as reviewed: the next review starts after."
)
def review(as_json: bool, done: bool) -> None:
    """List the facts and thoughts reflection added since your last review, and the
    memories quarantined meanwhile. Keep one by doing nothing, reject it with `me forget`
    (never learned again), correct a fact with `me persona set`."""
    service = backend()
    items = service.review()
    if done:
        service.mark_reviewed(items.until)
    if as_json:
        echo_json(items.as_json())
        return
    since = f"since {items.since[:16]}" if items.since else "since the start"
    if items.empty:
        echo(f"Nothing new {since}.")
    else:
        echo(f"To review, {since}:")
    for ref, kind, what, why in items.rows():
        text = clean(what, one_line=True)
        text = text if len(text) <= WHAT_WIDTH else text[: WHAT_WIDTH - 1] + "…"
        echo(f"{ref:<7} {kind:<8} {text}  ({clean(why, one_line=True)})")
    if done:
        echo("Marked as reviewed: the next review lists what comes after this one.")


@click.command(epilog="Example:\n\n\b\n  me review   # lists what is held\n  me release e42")
@click.argument("memory_ref")
def release(memory_ref: str) -> None:
    """Release a quarantined memory (42 or e42): the detector held it apart as
    instructions to an assistant; released, it may be cited by `ask` and learned from
    by reflection. `me undo` holds it again."""
    change = backend().release(memory_ref)
    echo(f"{memory_ref} released (change {change}; `me undo {change}` holds it again).")
