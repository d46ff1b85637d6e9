"""`me grants` (who may be given what by autofill) and `me audit` (every release,
refusal, grant change, forget and model call, in a chain that `me audit verify` checks)."""

from __future__ import annotations

from datetime import date

import click

from assistant.cli.common import backend, fail, parse_day
from assistant.cli.output import clean, echo, echo_json
from policies.release import CATEGORIES


@click.group(
    epilog="Example:\n\n\b\n  me grants add shop.example --allow identity,contact,address "
    "--expires 30\n  me grants list\n  me grants revoke shop.example"
)
def grants() -> None:
    """Who autofill may give what: a grant names a requester (a site, an app, a script)
    and the categories it may be given. Without one, a fill is a preview only."""


@grants.command("add")
@click.argument("requester")
@click.option(
    "--allow",
    "allow",
    required=True,
    help=f"Categories, comma-separated: {', '.join(CATEGORIES)}. Financial, government "
    "ids, health and credentials still need your confirmation at each use.",
)
@click.option("--expires", type=int, default=None, help="Days until the grant ends.")
def grants_add(requester: str, allow: str, expires: int | None) -> None:
    """Allow REQUESTER the categories given (replacing any grant it had)."""
    made = backend().grant(requester, tuple(allow.split(",")), expires)
    until = f" until {made.expires[:10]}" if made.expires else ""
    echo(f"{clean(made.requester, one_line=True)} may be given: {', '.join(made.categories)}"
         f"{until}.")  # fmt: skip


@grants.command("list")
@click.option("--json", "as_json", is_flag=True, help="One JSON object per line.")
def grants_list(as_json: bool) -> None:
    """Every grant, with its categories and when it ends."""
    listed = backend().grants()
    if as_json:
        for grant in listed:
            echo_json({**grant.as_json(), "active": grant.active()})
        return
    if not listed:
        echo("No grants: autofill only previews. `me grants add REQUESTER --allow …` adds one.")
    for grant in listed:
        state = "" if grant.active() else " (expired)"
        until = f", until {grant.expires[:10]}" if grant.expires else ""
        echo(f"{clean(grant.requester, one_line=True)}: {', '.join(grant.categories)}"
             f"{until}{state}")  # fmt: skip


@grants.command("revoke")
@click.argument("requester")
def grants_revoke(requester: str) -> None:
    """Take back REQUESTER's grant."""
    backend().revoke_grant(requester)
    echo(f"{clean(requester, one_line=True)} may be given nothing now.")


@click.group(
    invoke_without_command=True,
    epilog="Example:\n\n\b\n  me audit --since 2024-06-01\n  me audit verify",
)
@click.option("--json", "as_json", is_flag=True, help="One JSON object per line.")
@click.option("--since", callback=parse_day, help="Only entries from this day (YYYY-MM-DD).")
@click.pass_context
def audit(ctx: click.Context, as_json: bool, since: date | None) -> None:
    """List the audit log: every release, refusal, grant change, forget and model call,
    with who asked and a keyed hash of what was given, never the value itself."""
    if ctx.invoked_subcommand is not None:
        return
    listed = backend().audit_log(since)
    if as_json:
        for entry in listed:
            echo_json(entry.as_json())
        return
    if not listed:
        echo("The audit log is empty.")
    for entry in listed:
        parts = [entry.requester, entry.field, entry.attribute,
                 f"f{entry.fact_id}" if entry.fact_id else None]  # fmt: skip
        said = " ".join(clean(p, one_line=True) for p in parts if p)
        detail = ", ".join(f"{k}={v}" for k, v in entry.detail.items())
        echo(f"{entry.seq:>5}  {entry.time}  {entry.action:<10} {said}"
             + (f"  ({clean(detail, one_line=True)})" if detail else ""))  # fmt: skip


@audit.command("verify")
def audit_verify() -> None:
    """Recompute the audit chain: exit 0 when it is intact, else name the first bad
    entry and exit 1."""
    verdict = backend().verify_audit()
    if not verdict.intact:
        where = f"entry {verdict.first_bad}: " if verdict.first_bad else ""
        fail(f"the audit log is not intact: {where}{verdict.problem}")
    echo(f"The audit log is intact: {verdict.entries} entries.")
    if verdict.note:
        echo(f"Note: {verdict.note}.")
