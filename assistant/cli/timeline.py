"""`me timeline TOPIC`: how a thread of life unfolded, memory by memory, grouped by day,
with the links between them."""

from __future__ import annotations

from datetime import date, datetime, timedelta

import click

from assistant.cli.common import NOW_HELP, backend, parse_day, parse_moment
from assistant.cli.output import clean, echo, echo_json

SHOWN = 160  # characters of an entry's text on its line


@click.command(
    epilog="Example:\n\n\b\n  me timeline 'Lisbon trip'\n  me timeline --person Ana\n"
    "  me timeline --week 2024-03-11\n  me timeline move --since 2024-01-01 --json"
)
@click.argument("topic", nargs=-1)
@click.option("--person", help="Life with someone: their facts over time, what they rest on.")
@click.option("--since", callback=parse_day, help="Only memories on or after this day.")
@click.option("--until", callback=parse_day, help="Only memories on or before this day.")
@click.option("--day", callback=parse_day, help="What happened on this day.")
@click.option(
    "--week", callback=parse_day, help="What happened in the week (Monday on) of this day."
)
@click.option("--now", callback=parse_moment, help=NOW_HELP)
@click.option("--json", "as_json", is_flag=True, help="One JSON object per entry.")
def timeline(
    topic: tuple[str, ...],
    person: str | None,
    since: date | None,
    until: date | None,
    day: date | None,
    week: date | None,
    now: datetime | None,
    as_json: bool,
) -> None:
    """The story of TOPIC (or of life with --person, or of a --day or --week): the
    memories recall finds, those reflection linked to them and the facts they changed,
    in time order. Each entry says why it is there; a label ties it to the one before."""
    from assistant.service.requests import TimelineRequest

    if day is not None:
        since, until = day, day
    if week is not None:
        since = week - timedelta(days=week.weekday())
        until = since + timedelta(days=6)
    request = TimelineRequest(" ".join(topic) or None, person, since, until, now)
    if request.empty:
        raise click.UsageError("give a TOPIC, --person, or a period (--day, --week, --since)")
    entries = backend().timeline(request)
    if as_json:
        for entry in entries:
            echo_json(entry.as_json())
        return
    if not entries:
        echo("Nothing found for this timeline.")
        return
    shown_day = None
    for entry in entries:
        if entry.date[:10] != shown_day:
            shown_day = entry.date[:10]
            echo(f"\n{shown_day or 'undated'}")
        if entry.label:
            echo(f"   ↳ {clean(entry.label, one_line=True)}")
        text = clean(entry.text, one_line=True)
        text = text if len(text) <= SHOWN else text[: SHOWN - 1].rstrip() + "…"
        echo(f"  [{entry.id}] {text}")
        echo(f"        {clean(entry.why, one_line=True)}")
