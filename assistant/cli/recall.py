"""`me recall QUESTION`: the memories that best answer a question, with dates and sources."""

from __future__ import annotations

import json
from datetime import date, datetime
from pathlib import Path

import click
from rich.console import Console
from rich.text import Text

from assistant.cli.common import current_config, current_paths, open_memory


def _parse_day(_ctx: click.Context, _param: click.Parameter, value: str | None) -> date | None:
    if value is None:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise click.BadParameter(f"{value!r} is not a date like 2024-01-31") from None


def _source_label(document: str, title: str | None) -> str:
    path = Path(document)
    try:
        shown = "~/" + str(path.relative_to(Path.home()))
    except ValueError:
        shown = str(path)
    return f"{shown} › {title}" if title else shown


@click.command(
    epilog='Example:\n\n\b\n  me recall "when did I plan the Lisbon trip" -k 5\n'
    "  me recall Lisbon --since 2024-01-01 --until 2024-06-30 --json"
)
@click.argument("question", nargs=-1, required=True)
@click.option("-k", "k", type=click.IntRange(1, 200), default=None, help="How many results.")
@click.option("--since", callback=_parse_day, help="Only memories on or after this day.")
@click.option("--until", callback=_parse_day, help="Only memories on or before this day.")
@click.option("--conversation", help="Only this chat or mail thread (its name as shown).")
@click.option("--json", "as_json", is_flag=True, help="One JSON object per line.")
def recall(
    question: tuple[str, ...],
    k: int | None,
    since: date | None,
    until: date | None,
    conversation: str | None,
    as_json: bool,
) -> None:
    """Find the memories that best answer QUESTION (hybrid dense + keyword search)."""
    from assistant.recall import query_terms, snippet
    from assistant.recall import recall as run_recall

    text = " ".join(question)
    paths = current_paths()
    config = current_config(paths)
    with open_memory(paths, config) as memory:
        hits = run_recall(
            memory,
            text,
            k=k or config.recall.k,
            since=since,
            until=until,
            conversation=conversation,
            reinforce=True,
        )
    if as_json:
        for hit in hits:
            click.echo(json.dumps(hit.as_json(), ensure_ascii=False))
        return
    if not hits:
        click.echo("No memories match.")
        return
    console = Console(soft_wrap=True)  # piped output: one line per hit, never re-wrapped
    terms = query_terms(text)
    for rank, hit in enumerate(hits, start=1):
        when = datetime.fromisoformat(hit.time).strftime("%Y-%m-%d %H:%M")
        head = Text(f"{rank}. ", style="bold")
        head.append(when, style="cyan")
        where = f"{hit.conversation} (chat)" if hit.conversation else None
        head.append("  " + (where or _source_label(hit.document, hit.title)), style="dim")
        console.print(head)
        window, marks = snippet(hit.text, terms)
        lead = f"   {hit.sender}: " if hit.sender else "   "
        body = Text(lead + window)
        for start, end in marks:
            body.stylize("bold yellow", start + len(lead), end + len(lead))
        console.print(body)
