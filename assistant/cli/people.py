"""`me people`: everyone the persona knows, one person however they appear; merge two
names that are one person, or split a merge that was wrong."""

from __future__ import annotations

import click

from assistant.cli.common import backend
from assistant.cli.output import clean, echo, echo_json


@click.group(
    invoke_without_command=True,
    epilog="Example:\n\n\b\n  me people\n  me people merge 'Tiago Mendes' Ti\n  me people split Ti",
)
@click.option("--json", "as_json", is_flag=True, help="One JSON object per line.")
@click.pass_context
def people(ctx: click.Context, as_json: bool) -> None:
    """List the people the persona knows: their names, nicknames and handles (email,
    phone), how they relate to you, and how many facts and memories are theirs."""
    if ctx.invoked_subcommand is not None:
        return
    listed = backend().people()
    if as_json:
        for person in listed:
            echo_json(person.as_json())
        return
    if not listed:
        echo("Nobody yet. Run `me reflect` after `me ingest`.")
    for person in listed:
        relation = f" ({person.relationship})" if person.relationship else ""
        echo(f"{clean(person.name, one_line=True)}{relation}: {person.facts} facts, "
             f"{person.memories} memories")  # fmt: skip
        if person.names:
            echo(f"    also: {clean(', '.join(person.names), one_line=True)}")
        if person.handles:
            echo(f"    handles: {clean(', '.join(person.handles), one_line=True)}")


@people.command()
@click.argument("keep")
@click.argument("other")
def merge(keep: str, other: str) -> None:
    """OTHER is KEEP: move OTHER's facts to KEEP, and keep OTHER as one of KEEP's names.
    Undo with `me undo` or `me people split OTHER`."""
    change = backend().merge_people(keep, other)
    echo(f"{other} is now {keep} (change {change}; `me people split {other}` undoes it).")


@people.command()
@click.argument("name")
def split(name: str) -> None:
    """Undo the merge that made NAME part of someone else, and never merge them again."""
    was = backend().split_person(name)
    echo(f"{name} is no longer {was}; they will not be merged again.")
