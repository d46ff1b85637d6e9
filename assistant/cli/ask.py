"""`me ask QUESTION`: an answer from your memories, citing them, remembered for next time."""

from __future__ import annotations

from datetime import datetime

import click

from assistant.cli.common import NO_REINFORCE_HELP, NOW_HELP, backend, parse_moment, searched_line
from assistant.cli.output import echo, echo_json


@click.command(
    epilog='Example:\n\n\b\n  me ask "when is Ana\'s flight?"\n'
    '  me ask --engine ollama --json "where does Ana live now?"'
)
@click.argument("question", nargs=-1, required=True)
@click.option("-k", "k", type=click.IntRange(1, 50), default=None, help="Episodes to consider.")
@click.option(
    "--engine",
    type=click.Choice(["builtin", "ollama"]),
    default=None,
    help="Override the [reflection] engine setting.",
)
@click.option("--model", default=None, help="The ollama model (overrides the setting).")
@click.option("--now", callback=parse_moment, help=NOW_HELP)
@click.option("--no-remember", is_flag=True, help="Do not store the answer as a thought.")
@click.option("--no-reinforce", is_flag=True, help=NO_REINFORCE_HELP)
@click.option("--json", "as_json", is_flag=True, help="Answer, citations and thought as JSON.")
def ask(
    question: tuple[str, ...],
    k: int | None,
    engine: str | None,
    model: str | None,
    now: datetime | None,
    no_remember: bool,
    no_reinforce: bool,
    as_json: bool,
) -> None:
    """Answer QUESTION from thoughts, persona facts and episodes, citing them; the
    conclusion is stored as a thought so it need not be worked out again, and what it
    cites is strengthened (unless --no-remember, --no-reinforce)."""
    from assistant.hits import require_words
    from assistant.service.requests import AskRequest

    text = " ".join(question)
    require_words(text)  # before the passphrase prompt
    request = AskRequest(text, k, remember=not no_remember, reinforce=not no_reinforce, now=now)
    result = backend().ask(request, engine, model)
    if as_json:
        echo_json(result.as_json())
        return
    searched = searched_line(result.searched)
    if searched:
        echo(searched)
    echo(result.answer.text)
    cited = [e for e in result.evidence if e.ref in result.answer.citations]
    if cited:
        echo("\nSources:")
        for e in cited:
            echo(f"  [{e.ref}] {e.date[:10]}  {e.source}")
    for note in result.answer.notes:
        echo(f"note: {note}", err=True)
    if result.thought is not None:
        verb = "reinforced" if result.thought_op == "merge" else "remembered as"
        echo(f"\n({verb} thought t{result.thought.id})")
