"""`me thoughts`: the conclusions reflection and `me ask` have drawn, and the user's say
over them (pin, unpin, forget)."""

from __future__ import annotations

import click

from assistant.cli.common import backend, flag_command
from assistant.cli.forget import scoped_forget
from assistant.cli.output import echo, echo_json


@click.group(
    invoke_without_command=True,
    epilog="Example:\n\n\b\n  me thoughts\n  me thoughts --all --json\n  me thoughts pin t3",
)
@click.option("--all", "show_all", is_flag=True, help="Include merged, archived, hidden.")
@click.option("--json", "as_json", is_flag=True, help="One JSON object per thought.")
@click.pass_context
def thoughts(ctx: click.Context, show_all: bool, as_json: bool) -> None:
    """List active thoughts, newest first, with what they were derived from."""
    if ctx.invoked_subcommand is not None:
        return
    found = backend().thoughts(include_all=show_all)
    if as_json:
        for t in found:
            echo_json(t.as_json())
        return
    if not found:
        echo("No thoughts yet. Run `me reflect` after `me ingest`.")
    for t in found:
        flags = [f for f, on in (("pinned", t.pinned), (t.status, t.status != "active")) if on]
        extra = f"  [{', '.join(flags)}]" if flags else ""
        evidence = ", ".join(f"e{e}" for e in t.evidence[:5])
        day = (t.time or "")[:10]
        echo(f"t{t.id:<5} {day:<10}  {t.text}  (from {evidence}; S {t.strength:g}){extra}")


thoughts.add_command(flag_command("thought", "pin", "Pin MEMORY_REF (e.g. t3): it never fades."))
thoughts.add_command(flag_command("thought", "unpin", "Unpin MEMORY_REF: it fades like the rest."))
thoughts.add_command(
    flag_command("thought", "hide", "Hide MEMORY_REF: no longer used; `me undo` brings it back.")
)
thoughts.add_command(
    scoped_forget(
        "thought",
        "Forget MEMORY_REF for good: deleted with its words in the history, never concluded "
        "again. The memories it came from stay (`me forget` removes those).",
    )
)
