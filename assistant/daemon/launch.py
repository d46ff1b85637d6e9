"""Start the daemon as a detached process and wait until it answers: for `me daemon
start` and for the terminal app, which starts one when none is running."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

from assistant.daemon.client import DaemonClient, find
from assistant.daemon.place import DaemonPlace
from assistant.errors import DaemonError
from assistant.paths import Paths, ensure_private

START_LIMIT_S = 120.0  # opening the vault, restoring the index and loading the model


def start_in_background(paths: Paths, limit: float = START_LIMIT_S) -> DaemonClient:
    """Start this vault's daemon, detached from the terminal, and return a client once
    it answers. Refused when one already runs (its pid is named)."""
    holder = DaemonPlace(paths).holder()
    if holder is not None:
        raise DaemonError(
            f"a daemon already serves this vault (pid {holder}); `me daemon stop` stops it"
        )
    log_file = ensure_private(paths.cache) / "daemon.log"
    with open(log_file, "ab") as log:
        child = subprocess.Popen(
            [sys.executable, "-m", "assistant", "daemon", "run"],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=log,
            start_new_session=True,  # not killed with this terminal
        )
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        if child.poll() is not None:
            raise DaemonError(f"the daemon did not start: {last_line(log_file)} (log: {log_file})")
        client = find(paths)
        if client is not None:
            return client
        time.sleep(0.1)
    raise DaemonError(f"the daemon did not answer within {limit:.0f} s (log: {log_file})")


def last_line(path: Path) -> str:
    try:
        with open(path, encoding="utf-8", errors="replace") as fh:
            lines = [line for line in fh if line.strip()]
    except OSError:
        return "no log"
    return lines[-1].strip() if lines else "no output"
