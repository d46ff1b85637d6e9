"""`me persona`: what Second Self knows about you and the people you know."""

from __future__ import annotations

from datetime import date
from typing import TYPE_CHECKING

import click

from assistant.cli.common import backend, flag_command, parse_day
from assistant.cli.forget import scoped_forget
from assistant.cli.output import clean, echo, echo_json

if TYPE_CHECKING:
    from assistant.derived.persona import Fact


def _who(person: str) -> str:
    return "you" if person == "self" else person


def _line(fact: Fact) -> str:
    since = f" since {fact.valid_from[:10]}" if fact.valid_from else ""
    until = f" until {fact.valid_to[:10]}" if fact.valid_to else ""
    flags = [
        flag
        for flag, on in (
            ("CONFLICT: settle with `me persona set`", fact.status == "conflict"),
            ("pinned", fact.pinned),
            ("set by you", fact.origin == "user"),
            (fact.status, fact.status in ("shadowed", "hidden")),
            (f"superseded by f{fact.superseded_by}", fact.superseded_by is not None),
        )
        if on
    ]
    extra = f"  [{'; '.join(flags)}]" if flags else ""
    return (
        f"  f{fact.id:<5} {fact.attribute:<14} {fact.value}{since}{until}"
        f"  (confidence {fact.confidence:.2f}, {len(fact.evidence)} evidence){extra}"
    )


def _show(facts: list[Fact], as_json: bool) -> None:
    if as_json:
        for fact in facts:
            echo_json(fact.as_json())
        return
    if not facts:
        echo("Nothing known yet. Run `me reflect` after `me ingest`.")
        return
    person = None
    for fact in facts:
        if fact.person != person:
            person = fact.person
            echo("You:" if person == "self" else f"{clean(person, one_line=True)}:")
        echo(_line(fact))


@click.group(
    invoke_without_command=True,
    epilog="Example:\n\n\b\n  me persona\n  me persona --person Ana --json\n"
    "  me persona history city\n  me persona set city Porto\n  me persona pin f12",
)
@click.option("--person", help="Only this person ('me' for yourself).")
@click.option("--all", "show_all", is_flag=True, help="Include closed, shadowed and hidden facts.")
@click.option("--json", "as_json", is_flag=True, help="One JSON object per fact.")
@click.pass_context
def persona(ctx: click.Context, person: str | None, show_all: bool, as_json: bool) -> None:
    """Show the current profile: each fact with its confidence and evidence count."""
    if ctx.invoked_subcommand is not None:
        return
    _show(backend().facts(person, include_closed=show_all), as_json)


@persona.command()
@click.argument("attribute")
@click.option("--person", default="me", show_default=True, help="Whose attribute.")
@click.option("--json", "as_json", is_flag=True, help="One JSON object per fact.")
def history(attribute: str, person: str, as_json: bool) -> None:
    """Every value ATTRIBUTE has had, oldest first, with when each held."""
    _show(backend().facts(person, attribute, include_closed=True), as_json)


@persona.command(name="set")
@click.argument("attribute")
@click.argument("value")
@click.option("--person", default="me", show_default=True, help="Whose attribute.")
@click.option(
    "--since", callback=parse_day, help="The day it became true, YYYY-MM-DD (default: today)."
)
def set_(attribute: str, value: str, person: str, since: date | None) -> None:
    """Set ATTRIBUTE to VALUE yourself; reflection never changes what you set."""
    fact = backend().set_fact(person, attribute, value, since)
    echo(f"f{fact.id}: {_who(fact.person)} {fact.attribute} = {fact.value}")


persona.add_command(
    flag_command("fact", "pin", "Pin fact MEMORY_REF (e.g. f12): reflection will not change it.")
)
persona.add_command(
    flag_command("fact", "unpin", "Unpin fact MEMORY_REF: newer evidence may supersede it.")
)
persona.add_command(
    flag_command(
        "fact", "hide", "Hide fact MEMORY_REF: out of the profile, never re-learned; undoable."
    )
)
persona.add_command(
    scoped_forget(
        "fact",
        "Forget fact MEMORY_REF for good: deleted with its values in the history, never "
        "learned again. The memories it came from stay (`me forget` removes those).",
    )
)
