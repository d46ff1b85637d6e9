"""Three clients and the daemon for a minute: a recall loop, an ask loop, and files
changing under a watched source. Not one error, and the daemon still answers."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.conftest import ROOT
from tests.test_daemon import DEMO, Vault

pytestmark = pytest.mark.slow

SECONDS = float(os.environ.get("SECONDSELF_LOAD_SECONDS", "60"))

# Each client loops for SECONDS through the daemon client API in its own process and
# prints {"calls": n, "errors": [...]}.
CLIENT = """
import json, sys, time
from assistant.daemon.client import find
from assistant.paths import resolve
from assistant.service.requests import AskRequest, RecallRequest
kind, seconds = sys.argv[1], float(sys.argv[2])
client = find(resolve())
questions = ["Lisbon flight", "who is Ana", "pottery class", "what did I book", "dentist"]
calls, errors, end = 0, [], time.monotonic() + seconds
while time.monotonic() < end:
    question = questions[calls % len(questions)]
    try:
        if kind == "recall":
            client.recall(RecallRequest(question, k=5))
        else:
            client.ask(AskRequest(question, remember=False))
    except Exception as exc:
        errors.append(f"{type(exc).__name__}: {exc}")
    calls += 1
print(json.dumps({"calls": calls, "errors": errors[:5], "error_count": len(errors)}))
"""


def test_three_clients_for_a_minute(tmp_path: Path) -> None:
    vault = Vault(tmp_path)
    import shutil

    shutil.copytree(DEMO, vault.notes)
    vault.me("init", "--mode", "passphrase")
    vault.me("sources", "add", str(vault.notes))
    vault.me("sync")
    vault.me("daemon", "start")
    env = {**os.environ, **vault.env}
    try:
        clients = [
            subprocess.Popen(
                [sys.executable, "-c", CLIENT, kind, str(SECONDS)],
                env=env,
                cwd=ROOT,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
            )  # fmt: skip
            for kind in ("recall", "ask")
        ]
        end, written = time.monotonic() + SECONDS, 0
        while time.monotonic() < end:  # the third client: a person editing notes
            note = vault.notes / f"load-{written % 7}.md"
            note.write_text(f"# Load {written}\n\nEdit number {written} of the load test.\n")
            if written % 5 == 4:
                (vault.notes / f"load-{(written - 2) % 7}.md").unlink(missing_ok=True)
            written += 1
            time.sleep(0.7)
        results = []
        for client in clients:
            out, err = client.communicate(timeout=120)
            assert client.returncode == 0, err
            results.append(json.loads(out))
        print(results, f"{written} file changes")
        for result in results:
            assert result["error_count"] == 0, result["errors"]
            assert result["calls"] > 10
        state = vault.status()
        assert state["running"] is True and state["locked"] is False
    finally:
        vault.me("daemon", "stop", check=False)
        shutil.rmtree(vault.runtime, ignore_errors=True)
