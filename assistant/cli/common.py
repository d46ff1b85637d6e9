"""Helpers shared by the commands: paths, config, prompts, opening the memory."""

from __future__ import annotations

import functools
import sys
from datetime import date, datetime
from typing import TYPE_CHECKING, NoReturn

import click

from assistant import config as config_mod
from assistant import paths as paths_mod
from assistant.config import Config
from assistant.errors import VaultLockedError
from assistant.paths import Paths

if TYPE_CHECKING:  # `me --help` and a recall through the daemon pay for none of these
    from rich.console import Console

    from assistant.keys import VaultKeys
    from assistant.memory import Memory
    from assistant.question_time import Window
    from assistant.service.backend import Backend
    from assistant.vault import Secrets


@functools.cache
def err_console() -> Console:
    from rich.console import Console

    return Console(stderr=True)


# `me --no-daemon`: open the vault in this process even when a daemon serves it.
FORCE_IN_PROCESS = False


# Only `recall` and `ask` strengthen what they return; every other command only reads.
NO_REINFORCE_HELP = (
    "Leave the strength of what is returned as it is (by default a recall "
    "strengthens it, as remembering does; for scripts and benchmarks)."
)


def fail(message: str, code: int = 1) -> NoReturn:
    from assistant.cli.output import echo

    echo(f"Error: {message}", err=True)
    sys.exit(code)


def current_paths() -> Paths:
    return paths_mod.resolve()


def current_config(paths: Paths) -> Config:
    return config_mod.load(paths.config_file)


def _ask_passphrase(confirm: bool) -> str:
    if not sys.stdin.isatty():
        raise VaultLockedError(
            "the vault needs its passphrase and there is no terminal to ask: "
            "set SECONDSELF_PASSPHRASE"
        )
    text = click.prompt(
        "New passphrase" if confirm else "Passphrase",
        hide_input=True,
        confirmation_prompt=confirm,
        err=True,
    )
    return str(text)


def _ask_recovery() -> str:
    if sys.stdin.isatty():
        return str(click.prompt("Recovery phrase (24 words)", hide_input=True, err=True))
    return sys.stdin.readline().strip()  # scripts pipe the phrase in


def terminal_secrets() -> Secrets:
    """Secrets from SECONDSELF_PASSPHRASE, or prompts on the terminal."""
    from assistant.vault import Secrets

    return Secrets(ask_passphrase=_ask_passphrase, ask_recovery=_ask_recovery)


def open_memory(
    paths: Paths,
    config: Config,
    secrets: Secrets | None = None,
    keys: VaultKeys | None = None,
    index: bool = True,
) -> Memory:
    """Open the vault, with progress bars for a due integrity check or an index rebuild.
    Without `index`, the vector index opens only if something needs it (a read's
    search scores the stored vectors instead).

    The bars start at their first update, after any passphrase prompt has been answered.
    """
    from assistant.cli.output import Bars, echo
    from assistant.memory import Memory

    with Bars() as bars:
        memory = Memory.open(
            paths,
            config,
            secrets or terminal_secrets(),
            progress=bars.update,
            keys=keys,
            index=index,
        )
    if memory.index_report is not None and memory.index_report.notice:
        echo(f"Note: {memory.index_report.notice}", err=True)
    return memory


def backend() -> Backend:
    """The service for this user's vault: its daemon when one runs (and neither
    --no-daemon nor SECONDSELF_NO_DAEMON says otherwise), else opened in this process."""
    from assistant.daemon.client import find

    paths = current_paths()
    if not FORCE_IN_PROCESS:
        client = find(paths)
        if client is not None:
            return client
    from assistant.service.backend import InProcess

    config = current_config(paths)
    secrets = terminal_secrets()  # asked once per command, however many calls it makes
    return InProcess(
        paths, config, lambda index: open_memory(paths, config, secrets, index=index), secrets
    )


def parse_day(_ctx: click.Context, _param: click.Parameter, value: str | None) -> date | None:
    """A click callback: an ISO day, or a clear error."""
    if value is None:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise click.BadParameter(f"{value!r} is not a date like 2024-01-31") from None


NOW_HELP = (
    "Ask as of this moment (2024-03-14 or 2024-03-14T09:30): what 'last week' or "
    "'two weeks ago' means. Default: now."
)


def parse_moment(
    _ctx: click.Context, _param: click.Parameter, value: str | None
) -> datetime | None:
    """A click callback: an ISO day or date-time (local time when it names no zone)."""
    if value is None:
        return None
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        raise click.BadParameter(f"{value!r} is not a moment like 2024-03-14T09:30") from None
    return moment if moment.tzinfo else moment.astimezone()


def searched_line(window: Window | None) -> str | None:
    """'searched 2024-03-01 … 2024-03-31 ("in March")' for a question naming a period."""
    return None if window is None else f'searched {window} ("{window.said}")'


KIND_NAMES = {"fact": "persona fact", "thought": "thought"}


def ref_of(kind: str, memory_ref: str) -> str:
    """`memory_ref` as a ref of `kind` ("7" -> "f7"), refused if it names another kind."""
    from assistant import refs
    from assistant.errors import MemoryRefError

    letter = refs.PREFIX[kind]
    given = memory_ref if memory_ref.strip()[:1].isalpha() else letter + memory_ref.strip()
    found, row_id = refs.parse(given)
    if found != kind:
        raise MemoryRefError(
            f"{memory_ref} is not a {KIND_NAMES[kind]} (those look like {letter}7)"
        )
    return f"{letter}{row_id}"


def flag_command(kind: str, op: str, doc: str) -> click.Command:
    """`pin`, `unpin` or `hide` for a thought or a persona fact, as a subcommand."""

    @click.argument("memory_ref")
    def command(memory_ref: str) -> None:
        from assistant import refs
        from assistant.cli.output import echo

        _, row_id = refs.parse(ref_of(kind, memory_ref))
        change_id = backend().flag(kind, row_id, op)
        echo(
            f"{refs.ref(kind, row_id)}: {op} done (change {change_id}; "
            f"`me undo {change_id}` reverts)"
        )

    command.__doc__ = doc
    return click.command(name=op)(command)
