"""`me reflect`: turn new episodes into thoughts, persona facts and links."""

from __future__ import annotations

import click

from assistant.cli.common import current_config, current_paths, open_memory
from assistant.cli.output import Bars, echo, echo_json


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
    from assistant.reflection.run import make_engine, pending_count
    from assistant.reflection.run import reflect as run_reflect

    paths = current_paths()
    config = current_config(paths)
    chosen = make_engine(config, engine, model)  # fails early if ollama is not there
    with open_memory(paths, config) as memory:
        todo = pending_count(memory)
        stage, total = f"Reflecting ({chosen.name})", min(todo, limit or todo)
        with Bars(disable=as_json) as bars:
            report = run_reflect(
                memory, chosen, limit, progress=lambda done, _t: bars.update(stage, done, total)
            )
    if as_json:
        echo_json({"engine": chosen.name, **report.as_json()})
        return
    facts = ", ".join(f"{n} {op}" for op, n in sorted(report.facts.items())) or "none"
    thoughts = ", ".join(f"{n} {op}" for op, n in sorted(report.thoughts.items())) or "none"
    echo(f"Reflected on {report.episodes} episode(s) with {chosen.name}.")
    echo(f"  facts: {facts}")
    echo(f"  thoughts: {thoughts}")
    echo(f"  links: {report.links}")
    if report.quarantined:
        echo(f"  quarantined (never turned into facts or thoughts): {report.quarantined}")
    if report.faded:
        faded = ", ".join(f"{n} {op}d" for op, n in sorted(report.faded.items()))
        echo(f"  faded thoughts: {faded}")
    for note in report.notes:
        echo(f"  note: {note}", err=True)
    left = todo - report.episodes
    if left > 0:
        echo(f"{left} episode(s) still to reflect on; run `me reflect` again.")
