"""`me sources` and `me identity`: what Second Self reads, and who "me" is."""

from __future__ import annotations

from pathlib import Path

import click

from assistant.cli.common import backend
from assistant.cli.forget import forget_options, run_forget
from assistant.cli.output import clean, echo, echo_json


@click.group(
    epilog="Example:\n\n\b\n  me sources add ~/notes\n  me sources add ~/chat.txt --kind whatsapp\n"
    "  me sources list\n  me sources remove 2 --forget"
)
def sources() -> None:
    """Folders and exports that `me sync` keeps in step."""


@sources.command(
    "add",
    epilog="Example:\n\n\b\n  me sources add ~/notes\n  me sources add export.json --kind telegram",
)
@click.argument("path", type=click.Path(exists=True, path_type=Path))
@click.option("--kind", default="auto", show_default=True, help="Connector name, or auto.")
def sources_add(path: Path, kind: str) -> None:
    """Register PATH as a source (then run `me sync`)."""
    added = backend().add_source(path, None if kind == "auto" else kind)
    echo(f"Added source {added.id}: {path.resolve()}. Run `me sync` to read it.")


@sources.command("list", epilog="Example:\n\n\b\n  me sources list\n  me sources list --json")
@click.option("--json", "as_json", is_flag=True, help="One JSON object per line.")
def sources_list(as_json: bool) -> None:
    """Show registered sources with their counts, last sync, and the files that sync
    could not read (whoever ran it: you, the app or the daemon)."""
    listed = backend().sources()
    if as_json:
        for source in listed:
            echo_json(source.as_json())
        return
    if not listed:
        echo("No sources yet: add one with `me sources add PATH`.")
    for s in listed:
        echo(
            f"[{s.id}] {clean(s.root, one_line=True)}  ({s.kind}; {s.documents} files, "
            f"{s.episodes} memories; last sync {s.last_sync_at or 'never'})"
        )
        for failure in s.failures:
            echo(f"    not read: {clean(failure.path, one_line=True)}: "
                 f"{clean(failure.reason, one_line=True)}")  # fmt: skip


@sources.command(
    "remove",
    epilog="Example:\n\n\b\n  me sources remove 2                   # keep its memories\n"
    "  me sources remove 2 --forget          # and forget them for good (asks first)\n"
    "  me sources remove 2 --forget --yes    # without asking",
)
@click.argument("source_id", type=int)
@click.option("--forget", is_flag=True, help="Also forget everything read from it (`me forget`).")
@forget_options
def sources_remove(source_id: int, forget: bool, yes: bool, dry_run: bool, as_json: bool) -> None:
    """Stop syncing a source; with --forget, forget for good what came from it."""
    if forget:
        from assistant.service.requests import Target

        run_forget(Target(source=source_id), yes, dry_run, as_json)
        return
    backend().remove_source(source_id)
    echo(f"Removed source {source_id}; its memories are kept.")


@sources.command(
    "exclude",
    epilog='Example:\n\n\b\n  me sources exclude 3 --conversation "Family group"\n'
    "  me sources exclude 1 --glob 'Work/*' --dry-run\n"
    "  me sources exclude 1 --glob '*.eml' --yes",
)
@click.argument("source_id", type=int)
@click.option("--conversation", help="A chat or conversation, by its name (any case).")
@click.option("--glob", "pattern", help="Files whose path inside the source matches this.")
@forget_options
def sources_exclude(
    source_id: int, conversation: str | None, pattern: str | None, yes: bool, dry_run: bool,
    as_json: bool,
) -> None:  # fmt: skip
    """Never remember a conversation, or some files, of a source: what is stored of it
    is forgotten now (shown first, as `me forget` shows it), and it is never read
    again. Removing the rule later does not bring back what it forgot."""
    from assistant.cli.forget import confirmed, show_forgotten
    from assistant.cli.output import Bars

    if (conversation is None) == (pattern is None):
        raise click.UsageError("give one of --conversation NAME or --glob PATTERN")
    kind, text = ("conversation", conversation) if conversation is not None else ("glob", pattern)
    assert text is not None
    service = backend()
    planned = service.exclude_plan(source_id, kind, text)
    if not planned.empty and not confirmed(planned, yes, dry_run, as_json):
        return
    if dry_run:
        echo("Nothing stored matches yet; the rule was not added (--dry-run).")
        return
    with Bars() as bars:
        report = service.exclude(source_id, kind, text, planned.fingerprint, bars.update)
    if as_json:
        echo_json(report.as_json())
        return
    echo(f"Exclusion {report.rule['id']} added: {kind} {clean(text, one_line=True)!r} of "
         f"source {source_id} is never read again.")  # fmt: skip
    show_forgotten(report.forgotten)


@sources.command("exclusions", epilog="Example:\n\n\b\n  me sources exclusions\n"
                 "  me sources exclusions --json")  # fmt: skip
@click.option("--json", "as_json", is_flag=True, help="One JSON object per line.")
def sources_exclusions(as_json: bool) -> None:
    """List the exclusion rules of every source."""
    rules = backend().exclusions()
    for rule in rules:
        if as_json:
            echo_json(rule.as_json())
        else:
            echo(f"[{rule.id}] source {rule.source_id}: {rule.kind} "
                 f"{clean(rule.pattern, one_line=True)!r} (since {rule.created[:10]})")  # fmt: skip
    if not rules and not as_json:
        echo("No exclusions: `me sources exclude ID --conversation NAME` makes one.")


@sources.command("unexclude", epilog="Example:\n\n\b\n  me sources unexclude 2")
@click.argument("rule_id", type=int)
def sources_unexclude(rule_id: int) -> None:
    """Remove exclusion RULE_ID: what it matches is read again from the next sync on;
    what it forgot stays forgotten."""
    removed = backend().remove_exclusion(rule_id)
    echo(f"Exclusion {removed.id} removed ({removed.kind} "
         f"{clean(removed.pattern, one_line=True)!r} of source {removed.source_id}).")  # fmt: skip


@click.group(
    epilog='Example:\n\n\b\n  me identity add --name "Rui Costa" --email rui@example.com\n'
    "  me identity list"
)
def identity() -> None:
    """Who "me" is: the names, emails, phones and handles that mark your own messages."""


@identity.command(
    "add", epilog='Example:\n\n\b\n  me identity add --phone "+351 912 345 678" --handle @rui'
)
@click.option("--name", "names", multiple=True, help="A name you write under.")
@click.option("--email", "emails", multiple=True, help="An email address of yours.")
@click.option("--phone", "phones", multiple=True, help="A phone number of yours.")
@click.option("--handle", "handles", multiple=True, help="A user name (Telegram, Slack...).")
def identity_add(
    names: tuple[str, ...],
    emails: tuple[str, ...],
    phones: tuple[str, ...],
    handles: tuple[str, ...],
) -> None:
    """Add identity values; messages already stored are re-attributed."""
    values = [("name", v) for v in names] + [("email", v) for v in emails]
    values += [("phone", v) for v in phones] + [("handle", v) for v in handles]
    if not values:
        raise click.UsageError("give at least one of --name, --email, --phone, --handle")
    changed = backend().add_identity(values)
    echo(f"Added {len(values)} identity value(s); {changed} stored messages are now yours.")


@identity.command("list", epilog="Example:\n\n\b\n  me identity list")
def identity_list() -> None:
    """Show the identity values."""
    for found in backend().identity():
        echo(f"{found.kind:<7} {found.value}")
