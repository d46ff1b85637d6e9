"""`me forget`: delete memories for good, with everything derived from them and every
copy, after showing what goes and asking."""

from __future__ import annotations

import sys
from collections.abc import Callable
from datetime import date
from typing import TYPE_CHECKING

import click

from assistant.cli.common import backend, parse_day, ref_of
from assistant.cli.output import Bars, echo, echo_json

if TYPE_CHECKING:  # the forget machinery loads only when a command runs
    from assistant.forget import ForgetPreview, ForgetReport, Target

LABELS = {
    "episodes": "memories",
    "facts": "persona facts",
    "thoughts": "thoughts",
    "links": "links",
    "history_values": "values in the change history",
}


def _show_plan(plan: ForgetPreview) -> None:
    counts = plan.counts
    listed = ", ".join(f"{counts[k]} {label}" for k, label in LABELS.items() if counts[k])
    echo(f"This forgets, for good: {listed}.")
    if counts["documents"]:
        echo(f"  {counts['documents']} file(s) will have nothing left in the memory.")
    if counts["facts_keeping_other_evidence"]:
        echo(
            f"  {counts['facts_keeping_other_evidence']} persona fact(s) stay: other memories "
            "say them too."
        )
    if counts["thoughts_concluded_again"]:
        echo(
            f"  {counts['thoughts_concluded_again']} thought(s) rest on other memories too: "
            "each is concluded again from those alone, or goes."
        )
    for row in plan.sample:
        text = " ".join(row.text.split())
        echo(f"  {row.ref:<7} {row.date[:10]:<10}  {text[:90]}{'…' if len(text) > 90 else ''}")
    shown = len(plan.sample)
    total = counts["episodes"] + counts["facts"] + counts["thoughts"]
    if total > shown:
        echo(f"  … and {total - shown} more")


def _show_report(report: ForgetReport) -> None:
    counts = report.counts
    listed = ", ".join(f"{counts[k]} {label}" for k, label in LABELS.items() if counts[k])
    echo(f"Forgotten: {listed} (change {report.change}).")
    if report.concluded_again:
        echo(f"  {report.concluded_again} thought(s) concluded again from what remains.")
    echo(
        "  The keyword index was rebuilt, the vector index resealed and the database "
        "compacted: no copy is left."
    )


def run_forget(target: Target, yes: bool, dry_run: bool, as_json: bool) -> None:
    """Plan, show, confirm, apply: shared by `me forget` and the scoped forgets. What
    is applied is what was shown: the service refuses if it changed meanwhile."""
    planned = backend().forget_plan(target)
    if planned.empty:
        echo("Nothing matches: nothing was forgotten.")
        return
    if not confirmed(planned, yes, dry_run, as_json):
        return
    with Bars() as bars:
        report = backend().forget(target, expect=planned.fingerprint, progress=bars.update)
    if as_json:
        echo_json(report.as_json())
    else:
        _show_report(report)


def confirmed(planned: ForgetPreview, yes: bool, dry_run: bool, as_json: bool) -> bool:
    """Show what a forget (or a rule that forgets) reaches and ask; whether to go on."""
    if as_json:
        echo_json({"plan": planned.as_json()})
    else:
        _show_plan(planned)
    if dry_run:
        return False
    if not yes:
        if not sys.stdin.isatty():
            raise click.UsageError(
                "forgetting cannot be undone: confirm with --yes when there is no terminal"
            )
        if not click.confirm("Forget these for good? This cannot be undone", err=True):
            echo("Nothing was forgotten.")
            return False
    return True


def show_forgotten(counts: dict[str, int]) -> None:
    listed = ", ".join(f"{counts[k]} {label}" for k, label in LABELS.items() if counts.get(k))
    echo(f"Forgotten now: {listed or 'nothing'}.")


def scoped_forget(kind: str, doc: str) -> click.Command:
    """`persona forget f7` / `thoughts forget t3`: `me forget` for one item."""

    @click.argument("memory_ref")
    @forget_options
    def command(memory_ref: str, yes: bool, dry_run: bool, as_json: bool) -> None:
        from assistant.service.requests import Target

        run_forget(Target(refs=(ref_of(kind, memory_ref),)), yes, dry_run, as_json)

    command.__doc__ = doc
    return click.command(name="forget")(command)


def forget_options(command: Callable[..., None]) -> Callable[..., None]:
    """The confirmation options every forget shares."""
    for option in reversed(
        [
            click.option("--yes", is_flag=True, help="Do not ask before forgetting."),
            click.option("--dry-run", is_flag=True, help="Only show what would be forgotten."),
            click.option("--json", "as_json", is_flag=True, help="Plan and result as JSON."),
        ]
    ):
        command = option(command)
    return command


@click.command(
    epilog="Example:\n\n\b\n  me forget e12 t3                      # these memories\n"
    "  me forget --source 2                  # all that came from a source\n"
    "  me forget --person Tiago              # a person: their messages, facts, thoughts\n"
    '  me forget --matching "old password"   # anything that says this\n'
    "  me forget --before 2019-01-01 --dry-run"
)
@click.argument("memory_refs", nargs=-1)
@click.option("--source", "source_id", type=int, help="Everything read from this source.")
@click.option("--person", help="Everything about this person.")
@click.option("--matching", help="Every memory, fact and thought containing this text.")
@click.option("--before", callback=parse_day, help="Every memory dated before this day.")
@forget_options
def forget(
    memory_refs: tuple[str, ...],
    source_id: int | None,
    person: str | None,
    matching: str | None,
    before: date | None,
    yes: bool,
    dry_run: bool,
    as_json: bool,
) -> None:
    """Forget memories for good: the memories, what was derived from them (facts,
    thoughts, links), their values in the history, and every copy (keyword index,
    vector index, free pages). Shows what goes and asks first."""
    from assistant.service.requests import Target

    target = Target(tuple(memory_refs), source_id, person, matching, before)
    if target.empty:
        raise click.UsageError(
            "say what to forget: ids (e12 t3 f7), --source, --person, --matching or --before"
        )
    run_forget(target, yes, dry_run, as_json)
