"""`me recall QUESTION`: the memories that best answer a question, with dates and sources."""

from __future__ import annotations

from datetime import date, datetime
from typing import TYPE_CHECKING

import click

from assistant.cli.common import (
    NO_REINFORCE_HELP,
    NOW_HELP,
    backend,
    parse_day,
    parse_moment,
    searched_line,
)
from assistant.cli.output import clean, echo, echo_json, styled
from assistant.hits import source_label

if TYPE_CHECKING:
    from rich.text import Text

    from assistant.hits import Hit


THREAD_LABELS = {"email": "mail", "message": "chat", "event": "calendar"}


@click.command(
    epilog='Example:\n\n\b\n  me recall "when did I plan the Lisbon trip" -k 5\n'
    "  me recall Lisbon --since 2024-01-01 --until 2024-06-30 --json\n"
    '  me recall "what did we do last summer" --now 2024-10-01'
)
@click.argument("question", nargs=-1, required=True)
@click.option("-k", "k", type=click.IntRange(1, 200), default=None, help="How many results.")
@click.option("--since", callback=parse_day, help="Only memories on or after this day.")
@click.option("--until", callback=parse_day, help="Only memories on or before this day.")
@click.option("--conversation", help="Only this chat or mail thread (its name as shown).")
@click.option("--now", callback=parse_moment, help=NOW_HELP)
@click.option("--no-reinforce", is_flag=True, help=NO_REINFORCE_HELP)
@click.option("--json", "as_json", is_flag=True, help="One JSON object per line.")
def recall(
    question: tuple[str, ...],
    k: int | None,
    since: date | None,
    until: date | None,
    conversation: str | None,
    now: datetime | None,
    no_reinforce: bool,
    as_json: bool,
) -> None:
    """Find the memories that best answer QUESTION (hybrid dense + keyword search).
    A period it names ("last March", "two weeks ago") is searched first. What it
    returns is strengthened, as remembering does, unless --no-reinforce."""
    from rich.console import Console

    from assistant.hits import query_terms, require_words, snippet
    from assistant.question_time import window_of
    from assistant.service.requests import RecallRequest

    text = " ".join(question)
    require_words(text)  # before the passphrase prompt
    request = RecallRequest(
        text, k, since, until, conversation, reinforce=not no_reinforce, now=now
    )
    hits = backend().recall(request)
    if as_json:
        for hit in hits:
            echo_json(hit.as_json())
        return
    # The period as the question's words name it; one bounded by a remembered event
    # ("after Ana's wedding") is searched too, and shown by `me ask`.
    searched = searched_line(window_of(text, now))
    if searched:
        echo(searched)
    if not hits:
        echo("No memories match.")
        return
    console = Console(soft_wrap=True)  # piped output: one line per hit, never re-wrapped
    terms = query_terms(text)
    for rank, hit in enumerate(hits, start=1):
        console.print(_head(rank, hit))
        window, marks = snippet(clean(hit.text, one_line=True), terms, question=text)
        lead = f"   {clean(hit.sender, one_line=True)}: " if hit.sender else "   "
        body = styled(lead + window)
        for start, end in marks:
            body.stylize("bold yellow", start + len(lead), end + len(lead))
        console.print(body)


def _head(rank: int, hit: Hit) -> Text:
    """`1. 2024-03-02 10:15  Ana (chat)`, marked when the memory is quarantined."""
    when = datetime.fromisoformat(hit.time).strftime("%Y-%m-%d %H:%M")
    head = styled(f"{rank}. ", style="bold")
    head.append(when, style="cyan")
    if hit.conversation:
        where = f"{hit.conversation} ({THREAD_LABELS.get(hit.kind, hit.kind)})"
    else:
        where = source_label(hit.document, hit.title)
    head.append_text(styled("  " + clean(where, one_line=True), style="dim"))
    if hit.quarantine:
        head.append_text(styled(f"  [quarantined: {hit.quarantine}]", style="bold red"))
    return head
