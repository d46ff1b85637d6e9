"""`me tui`: the terminal app (Textual), over the daemon or the vault itself."""

from __future__ import annotations

import sys

import click

from assistant.cli import common


@click.command(epilog="Example:\n\n\b\n  me tui\n  me --no-daemon tui")
def tui() -> None:
    """Live with your memory in the terminal: search and ask it, see what it learned,
    keep its sources in step. Uses the daemon (starting one unless `[tui] start_daemon`
    is off); ctrl+p lists everything it can do, ctrl+q quits."""
    from tui.app import SecondSelfApp
    from tui.session import connect

    paths = common.current_paths()
    config = common.current_config(paths)
    in_process = common.FORCE_IN_PROCESS
    app = SecondSelfApp(lambda: connect(paths, config, in_process), config)
    try:
        app.run()
    finally:
        if app.session is not None:  # however it ended: seal what this process opened
            app.session.close()
    sys.exit(app.return_code or 0)
