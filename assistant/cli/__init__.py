"""The `me` / `secondself` command line: a thin front end over the assistant core.

Each command's module is imported only when that command runs (a lazy group), and
heavy modules (chromadb, onnxruntime, SQLCipher) only inside commands, so `me --help`
and a recall through the daemon start in a blink.
"""

from __future__ import annotations

import importlib
import logging
import os
import sys

import click

from assistant import __version__
from assistant.cli import common
from assistant.cli.common import current_paths, fail
from assistant.cli.output import echo
from assistant.errors import USER_ERRORS

# Every command, and the module of assistant/cli/ that defines it under the same name.
COMMANDS = {
    "init": "vault", "unlock": "vault", "lock": "daemon", "ingest": "ingest",
    "sync": "ingest", "sources": "sources", "identity": "sources", "recall": "recall",
    "ask": "ask", "reflect": "reflect", "persona": "persona", "thoughts": "thoughts",
    "history": "history", "undo": "history", "why": "why", "forget": "forget",
    "status": "info", "paths": "info", "check": "check", "demo": "demo", "daemon": "daemon",
    "tui": "tui", "review": "review", "release": "review", "people": "people",
    "timeline": "timeline", "grants": "governance", "audit": "governance",
    "autofill": "autofill", "backup": "backup", "restore": "backup", "export": "backup",
    "retention": "retention",
}  # fmt: skip


class LazyGroup(click.Group):
    """Imports a command's module when the command is asked for, not before."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return list(COMMANDS)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        module = COMMANDS.get(cmd_name)
        if module is None:
            return None
        command = getattr(importlib.import_module(f"assistant.cli.{module}"), cmd_name)
        assert isinstance(command, click.Command)
        return command


@click.group(
    cls=LazyGroup,
    epilog='Example:\n\n\b\n  me init && me ingest ~/notes && me recall "Lisbon trip"',
    context_settings={"help_option_names": ["-h", "--help"]},
)
@click.version_option(__version__, prog_name="secondself")
@click.option("-v", "--verbose", count=True, help="More log output on stderr (-vv for debug).")
@click.option(
    "--no-daemon",
    is_flag=True,
    help="Open the vault in this process even if a daemon runs (also SECONDSELF_NO_DAEMON=1).",
)
def cli(verbose: int, no_daemon: bool) -> None:
    """Second Self: your encrypted, local personal memory.

    Like remembering, `recall` and `ask` strengthen the memories they return
    (--no-reinforce leaves them as they are); no other command changes a memory's
    strength.

    When a daemon runs for this vault (`me daemon start`), commands go through it;
    while it is locked they fail with exit status 3 until `me unlock`."""
    common.FORCE_IN_PROCESS = no_daemon
    level = logging.WARNING - 10 * min(verbose, 2)
    logging.basicConfig(level=level, format="%(levelname)s %(name)s: %(message)s")
    from assistant.runtime import sweep_stale

    try:  # what a killed process left in the clear goes before anything else runs
        swept = sweep_stale(current_paths())
    except OSError as exc:  # never a reason not to run the command itself
        logging.getLogger(__name__).warning("stale runtime files not removed: %s", exc)
    else:
        if swept:
            logging.getLogger(__name__).info("removed stale %s", ", ".join(map(str, swept)))


def _database_error(exc: Exception) -> str:
    """A SQLCipher error that escaped the store's own translation, for a person."""
    import sqlcipher3

    from store.integrity import RESTORE_HINT, is_damage

    if is_damage(exc, None):
        return f"memory.db is damaged ({exc}); nothing more was written. {RESTORE_HINT}."
    code = getattr(exc, "sqlite_errorcode", None)
    if code is not None and code & 0xFF == sqlcipher3.SQLITE_FULL:
        return (
            f"the disk holding {current_paths().data} is full ({exc}): the change was "
            "rolled back and nothing stored was lost. Free some space and run it again."
        )
    return f"the database refused a change ({exc}); the transaction was rolled back"


def main() -> None:
    """Console entry point: user errors become one line on stderr and exit status 1."""
    # Every file and folder this process creates is private, chroma's included.
    os.umask(0o077)
    try:
        cli.main(standalone_mode=False)
    except click.exceptions.Exit as exc:
        sys.exit(exc.exit_code)
    except click.exceptions.Abort:
        echo("Aborted.", err=True)
        sys.exit(130)
    except click.ClickException as exc:
        exc.show()
        sys.exit(exc.exit_code)
    except USER_ERRORS as exc:
        fail(str(exc), getattr(exc, "exit_code", 1))
    except KeyboardInterrupt:
        echo("Interrupted; nothing half-written was kept.", err=True)
        sys.exit(130)
    except OSError as exc:
        if os.environ.get("SECONDSELF_DEBUG"):
            raise
        fail(f"{exc.strerror or exc}: {exc.filename or ''}".rstrip(": "))
    except Exception as exc:
        # sqlcipher3 is imported only by commands that open the vault (a recall through
        # the daemon never loads it), so its errors are recognised without importing it.
        if type(exc).__module__.startswith("sqlcipher3"):
            fail(_database_error(exc))
        raise
