"""`me tui` in a real terminal: tmux runs it on the demo notes, keys go in with
`send-keys` and the screen comes back with `capture-pane`. It starts the daemon, as a
user's first `me tui` does.

Skipped without tmux, unless SECONDSELF_REQUIRE_TMUX=1 (CI) makes that a failure.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import PASSPHRASE, ROOT, run_me

pytestmark = pytest.mark.slow

DEMO = ROOT / "assistant" / "demo_notes"


@pytest.fixture
def terminal() -> Iterator[list[str]]:
    """The tmux command for a private server, killed at the end."""
    if shutil.which("tmux") is None:
        if os.environ.get("SECONDSELF_REQUIRE_TMUX") == "1":
            pytest.fail("SECONDSELF_REQUIRE_TMUX=1 but tmux is not installed", pytrace=False)
        pytest.skip("tmux is not installed")
    tmux = ["tmux", "-L", f"secondself-smoke-{os.getpid()}"]
    yield tmux
    subprocess.run([*tmux, "kill-server"], capture_output=True)


def screen(tmux: list[str]) -> str:
    return subprocess.run(
        [*tmux, "capture-pane", "-p", "-t", "smoke"], capture_output=True, text=True
    ).stdout


def wait_for(tmux: list[str], text: str, limit: float = 60, times: int = 1) -> str:
    """The screen once `text` shows on it (`times` times: a search box echoes it once)."""
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        shown = screen(tmux)
        if shown.count(text) >= times:
            return shown
        time.sleep(0.2)
    raise AssertionError(f"{text!r} not on the screen within {limit} s:\n{screen(tmux)}")


def test_search_persona_and_quit_in_a_real_terminal(
    terminal: list[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    runtime = Path(tempfile.mkdtemp(prefix="sst", dir="/tmp"))  # a socket path is short
    monkeypatch.setenv("XDG_RUNTIME_DIR", str(runtime))
    short = Path(tempfile.mkdtemp(prefix="ssn", dir="/tmp"))  # labels that fit a line
    monkeypatch.setenv("SECONDSELF_PASSPHRASE", PASSPHRASE)  # the daemon unlocks itself
    monkeypatch.setenv("SECONDSELF_DAEMON_REFLECT_AFTER_IDLE_S", "0")
    notes = short / "notes"
    shutil.copytree(DEMO, notes)
    run_me("init", "--mode", "passphrase")
    run_me("sources", "add", str(notes))
    run_me("sync")
    run_me("reflect")
    exit_file = tmp_path / "exit"
    command = f"{sys.executable} -m assistant tui; echo $? > {exit_file}"
    try:
        subprocess.run(
            [*terminal, "new-session", "-d", "-s", "smoke", "-x", "100", "-y", "30", command],
            check=True, env=dict(os.environ, TERM="xterm-256color"),
        )  # fmt: skip
        # A detached session may take another size than asked; insist on it.
        subprocess.run([*terminal, "resize-window", "-t", "smoke", "-x", "100", "-y", "30"])
        wait_for(terminal, "Search your memory")
        subprocess.run([*terminal, "send-keys", "-t", "smoke", "-l", "Lisbon trip"], check=True)
        # The notes about the trip come up: their source labels, and the words marked.
        shown = wait_for(terminal, "Lisbon", times=3)
        assert f"{notes}/" in shown

        subprocess.run([*terminal, "send-keys", "-t", "smoke", "C-p"], check=True)
        wait_for(terminal, "Search for commands")
        subprocess.run([*terminal, "send-keys", "-t", "smoke", "-l", "Persona"], check=True)
        time.sleep(0.5)  # the palette filters as it is typed
        subprocess.run([*terminal, "send-keys", "-t", "smoke", "Enter"], check=True)
        wait_for(terminal, "Amsterdam")

        subprocess.run([*terminal, "send-keys", "-t", "smoke", "C-q"], check=True)
        deadline = time.monotonic() + 30
        while not exit_file.exists() and time.monotonic() < deadline:
            time.sleep(0.2)
        assert exit_file.read_text().strip() == "0"
        assert "Traceback" not in screen(terminal)
    finally:
        run_me("daemon", "stop", check=False)
        shutil.rmtree(runtime, ignore_errors=True)
        shutil.rmtree(short, ignore_errors=True)
