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
