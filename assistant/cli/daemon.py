"""`me daemon run|start|stop|status|install|uninstall` and `me lock`: the background daemon."""

from __future__ import annotations

import logging
import sys
import time
from typing import Any

import click

from assistant.cli.common import current_config, current_paths, fail
from assistant.cli.output import echo, echo_json

STOP_LIMIT_S = 60.0  # sealing the index


@click.group(
    epilog="Example:\n\n\b\n  me daemon start && me recall Lisbon\n  me daemon status --json"
)
def daemon() -> None:
    """Keep the memory open in the background: instant recall, sources kept in step,
    reflection while idle. Other commands use it whenever it runs."""


@daemon.command()
def run() -> None:
    """Run in the foreground (for systemd or launchd); logs go to stderr."""
    from assistant.daemon import server

    root = logging.getLogger()
    if root.level > logging.INFO:
        root.setLevel(logging.INFO)
    paths = current_paths()
    server.run(paths, current_config(paths))


@daemon.command()
def start() -> None:
    """Start in the background; returns once it answers requests."""
    from assistant.daemon.launch import start_in_background

    state = start_in_background(current_paths()).daemon_status()
    locked = " locked: run `me unlock`" if state["locked"] else ""
    echo(f"daemon started (pid {state['pid']}){locked}")


@daemon.command()
def stop() -> None:
    """Seal the index, remove the runtime copy and stop."""
    from assistant.daemon.client import DaemonClient
    from assistant.daemon.place import DaemonPlace

    paths = current_paths()
    place = DaemonPlace(paths)
    pid = place.holder()
    if pid is None:
        echo("no daemon is running")
        return
    DaemonClient(paths).stop()
    deadline = time.monotonic() + STOP_LIMIT_S
    while place.holder() is not None:
        if time.monotonic() > deadline:
            fail(f"the daemon (pid {pid}) has not stopped after {STOP_LIMIT_S:.0f} s")
        time.sleep(0.1)
    echo(f"daemon stopped (pid {pid})")


@daemon.command()
@click.option("--json", "as_json", is_flag=True, help="Print as one JSON object.")
def status(as_json: bool) -> None:
    """Whether a daemon runs, and what it is doing."""
    from assistant.daemon.client import DaemonClient
    from assistant.daemon.place import DaemonPlace

    paths = current_paths()
    place = DaemonPlace(paths)
    state: dict[str, Any]
    if place.holder() is None or not DaemonClient(paths).reachable():
        state = dict.fromkeys(
            ("pid", "locked", "uptime_s", "sources", "last_sync", "pending_reflection", "rss_mb")
        )
        state.update(running=False, socket=str(place.socket))
    else:
        state = DaemonClient(paths).daemon_status()
    if as_json:
        echo_json(state)
        return
    if not state["running"]:
        echo("daemon    not running (`me daemon start`)")
        return
    echo(f"daemon    running, pid {state['pid']}, up {state['uptime_s']:.0f} s")
    echo(f"vault     {'locked (`me unlock`)' if state['locked'] else 'unlocked'}")
    echo(f"socket    {state['socket']}")
    if not state["locked"]:
        echo(f"sources   {state['sources']}, last sync {state['last_sync'] or 'not yet'}")
        echo(f"pending   {state['pending_reflection']} memories to reflect on")
    echo(f"memory    {state['rss_mb']} MB resident")


@daemon.command(epilog="Example:\n\n\b\n  me daemon install   # then run the command it prints")
def install() -> None:
    """Write a service unit for this user (systemd, or launchd on macOS)."""
    from assistant.daemon import units

    written = units.install(units.current_me())
    for path in written:
        echo(f"wrote {path}")
    echo(f"enable it with:\n  {units.enable_command(sys.platform)}")


@daemon.command(epilog="Example:\n\n\b\n  me daemon uninstall")
def uninstall() -> None:
    """Remove the service unit `me daemon install` wrote."""
    from assistant.daemon import units

    # The service manager cannot disable a unit whose file is gone: say how, first.
    echo(f"if the service is enabled, disable it first:\n  {units.disable_command()}")
    removed = units.uninstall()
    for path in removed:
        echo(f"removed {path}")
    if not removed:
        echo("no service unit was installed")


@click.command(epilog="Example:\n\n\b\n  me lock")
def lock() -> None:
    """Make the daemon drop its keys and seal the index; `me unlock` opens it again."""
    from assistant.daemon.client import find

    client = find(current_paths())
    if client is None:
        echo("no daemon is running: the vault is sealed whenever no command uses it")
        return
    if client.lock():
        echo("locked: the keys are dropped and the index sealed; `me unlock` opens it")
    else:
        echo("already locked")


def unlock_daemon(client: Any) -> None:
    """`me unlock` with a daemon running: prompt here, unlock there."""
    from assistant.cli.common import terminal_secrets

    state = client.daemon_status()
    if not state["locked"]:
        echo("the daemon is already unlocked")
        return
    passphrase = None
    if state.get("unlock_mode") != "keyring":
        passphrase = terminal_secrets().passphrase()
    client.unlock(passphrase)
    echo("unlocked")
