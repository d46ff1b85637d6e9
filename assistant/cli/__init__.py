"""The `me` / `secondself` command line: a thin front end over the assistant core.

Heavy modules (torch, chromadb) are imported inside commands, never here, so
`me --help` stays fast.
"""

from __future__ import annotations

import logging
import os
import sys

import click
import sqlcipher3

from assistant import __version__
from assistant.cli.ask import ask
from assistant.cli.common import fail
from assistant.cli.demo import demo
from assistant.cli.forget import forget
from assistant.cli.history import history, undo
from assistant.cli.info import paths, status
from assistant.cli.ingest import ingest, sync
from assistant.cli.persona import persona
from assistant.cli.recall import recall
from assistant.cli.reflect import reflect
from assistant.cli.sources import identity, sources
from assistant.cli.thoughts import thoughts
from assistant.cli.vault import init, unlock
from assistant.cli.why import why
from assistant.errors import USER_ERRORS


@click.group(
    epilog='Example:\n\n\b\n  me init && me ingest ~/notes && me recall "Lisbon trip"',
    context_settings={"help_option_names": ["-h", "--help"]},
)
@click.version_option(__version__, prog_name="secondself")
@click.option("-v", "--verbose", count=True, help="More log output on stderr (-vv for debug).")
def cli(verbose: int) -> None:
    """Second Self: your encrypted, local personal memory."""
    level = logging.WARNING - 10 * min(verbose, 2)
    logging.basicConfig(level=level, format="%(levelname)s %(name)s: %(message)s")


for command in (
    init, unlock, ingest, sync, sources, identity, recall, ask, reflect, persona, thoughts,
    history, undo, why, forget, status, paths, demo,
):  # fmt: skip
    cli.add_command(command)


def main() -> None:
    """Console entry point: user errors become one line on stderr and exit status 1."""
    try:
        cli.main(standalone_mode=False)
    except click.exceptions.Exit as exc:
        sys.exit(exc.exit_code)
    except click.exceptions.Abort:
        click.echo("Aborted.", err=True)
        sys.exit(130)
    except click.ClickException as exc:
        exc.show()
        sys.exit(exc.exit_code)
    except USER_ERRORS as exc:
        fail(str(exc))
    except sqlcipher3.Error as exc:  # e.g. "database or disk is full"
        fail(f"the database refused a change ({exc}); the transaction was rolled back")
    except KeyboardInterrupt:
        click.echo("Interrupted; nothing half-written was kept.", err=True)
        sys.exit(130)
    except OSError as exc:
        if os.environ.get("SECONDSELF_DEBUG"):
            raise
        fail(f"{exc.strerror or exc}: {exc.filename or ''}".rstrip(": "))
