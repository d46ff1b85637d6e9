"""`me reflect`: turn new episodes into thoughts, persona facts and links."""

from __future__ import annotations

import click

from assistant.cli.common import backend
from assistant.cli.output import Bars, clean, echo, echo_json


@click.command(
    epilog="Example:\n\n\b\n  me reflect\n  me reflect --engine ollama --model qwen2.5:3b-instruct"
)
@click.option(
    "--engine",
    type=click.Choice(["builtin", "ollama"]),
    default=None,
    help="Override the [reflection] engine setting.",
)
@click.option("--model", default=None, help="The ollama model (overrides the setting).")
@click.option("--limit", type=click.IntRange(1), default=None, help="Stop after N episodes.")
@click.option("--json", "as_json", is_flag=True, help="Print the summary as JSON.")
def reflect(engine: str | None, model: str | None, limit: int | None, as_json: bool) -> None:
    """Reflect on episodes not yet reflected on, oldest first. Safe to interrupt:
    the next run carries on where this one stopped."""
    with Bars(disable=as_json) as bars:  # a bad engine fails before the vault opens
        report = backend().reflect(engine, limit, progress=bars.update, model=model)
    if as_json:
        echo_json(report.as_json())
        return
    facts = ", ".join(f"{n} {op}" for op, n in sorted(report.facts.items())) or "none"
    thoughts = ", ".join(f"{n} {op}" for op, n in sorted(report.thoughts.items())) or "none"
    echo(f"Reflected on {report.episodes} episode(s) with {report.engine}.")
    echo(f"  facts: {facts}")
    echo(f"  thoughts: {thoughts}")
    echo(f"  links: {report.links}")
    if report.quarantined:
        echo(f"  quarantined (never turned into facts or thoughts): {report.quarantined}")
    if report.faded:
        faded = ", ".join(f"{n} {op}d" for op, n in sorted(report.faded.items()))
        echo(f"  faded thoughts: {faded}")
    for kept, other in report.people_merged:
        echo(f"  one person: {clean(other, one_line=True)} is {clean(kept, one_line=True)} "
             "(`me people split` if not)")  # fmt: skip
    for note in report.notes:
        echo(f"  note: {note}", err=True)
    if report.left > 0:
        echo(f"{report.left} episode(s) still to reflect on; run `me reflect` again.")
