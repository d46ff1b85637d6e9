"""`me retention`: how long memories of a kind are kept; older ones are forgotten by
every sync (yours, the app's, the daemon's), audited."""

from __future__ import annotations

import click

from assistant.cli.common import backend
from assistant.cli.forget import confirmed, forget_options, show_forgotten
from assistant.cli.output import echo, echo_json

KINDS = ("message", "email", "note", "event", "document", "any")


@click.group(
    epilog="Example:\n\n\b\n  me retention add --kind message --older-than 5y\n"
    "  me retention list\n  me retention remove 1"
)
def retention() -> None:
    """Rules that forget memories of a kind once they are older than an age."""


@retention.command(
    "add",
    epilog="Example:\n\n\b\n  me retention add --kind message --older-than 5y --dry-run\n"
    "  me retention add --kind email --older-than 18m --yes",
)
@click.option("--kind", type=click.Choice(KINDS), required=True, help="Which memories.")
@click.option("--older-than", "age", required=True, help="An age: 90d, 12w, 6m or 5y.")
@forget_options
def retention_add(kind: str, age: str, yes: bool, dry_run: bool, as_json: bool) -> None:
    """Forget memories of KIND older than AGE, now (shown first and asked, as `me forget`
    does) and by every sync from now on."""
    from assistant.cli.output import Bars
    from policies.consent import ConsentError, parse_age

    try:
        days = parse_age(age)
    except ConsentError as exc:
        raise click.BadParameter(str(exc), param_hint="--older-than") from exc
    chosen = None if kind == "any" else kind
    service = backend()
    planned = service.retention_plan(chosen, days)
    if not planned.empty and not confirmed(planned, yes, dry_run, as_json):
        return
    if dry_run:
        echo("Nothing stored is that old yet; the rule was not added (--dry-run).")
        return
    with Bars() as bars:
        report = service.add_retention(chosen, days, planned.fingerprint, bars.update)
    if as_json:
        echo_json(report.as_json())
        return
    echo(f"Retention rule {report.rule['id']} added: {kind} memories are kept {days} days.")
    show_forgotten(report.forgotten)


@retention.command("list", epilog="Example:\n\n\b\n  me retention list --json")
@click.option("--json", "as_json", is_flag=True, help="One JSON object per line.")
def retention_list(as_json: bool) -> None:
    """Show the retention rules."""
    rules = backend().retention_rules()
    for rule in rules:
        if as_json:
            echo_json(rule.as_json())
        else:
            echo(f"[{rule.id}] {rule.describe()} is forgotten (since {rule.created[:10]})")
    if not rules and not as_json:
        echo("No retention rules: every memory is kept until you forget it.")


@retention.command("remove", epilog="Example:\n\n\b\n  me retention remove 1")
@click.argument("rule_id", type=int)
def retention_remove(rule_id: int) -> None:
    """Remove retention rule RULE_ID (what it forgot stays forgotten)."""
    removed = backend().remove_retention(rule_id)
    echo(f"Retention rule {removed.id} removed ({removed.describe()}).")
