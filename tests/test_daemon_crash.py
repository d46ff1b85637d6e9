"""kill -9 at any moment loses nothing: the daemon is killed over and over while it
syncs and reflects, restarted each time, and in the end the memory is the one an
uninterrupted daemon makes from the same files.

Bounded in time: it stops at `SECONDSELF_KILL_ROUNDS` kills (100) or after
`SECONDSELF_KILL_SECONDS` (200 s), whichever comes first, and needs at least 20.
"""

from __future__ import annotations

import json
import os
import random
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import ROOT
from tests.test_daemon import DEMO, Vault, wait_for

pytestmark = pytest.mark.slow

ROUNDS = int(os.environ.get("SECONDSELF_KILL_ROUNDS", "100"))
BUDGET_S = float(os.environ.get("SECONDSELF_KILL_SECONDS", "200"))
MIN_ROUNDS = 20


def notes_into(folder: Path) -> None:
    """The demo notes, and enough more files that a scan takes a while."""
    shutil.copytree(DEMO, folder)
    rng = random.Random(5)
    people = ["Ana", "Rui", "Marta", "Tiago", "Inês", "Pedro"]
    places = ["Porto", "Lisbon", "Braga", "Faro", "Coimbra", "Évora"]
    for i in range(60):
        who, where = rng.choice(people), rng.choice(places)
        (folder / f"day-{i:02d}.md").write_text(
            f"---\ndate: 2024-{1 + i % 12:02d}-{1 + i % 27:02d}\n---\n# Day {i}\n\n"
            f"Met {who} in {where} for coffee; we talked about the trip in week {i}.\n\n"
            f"{who} moved to {where} last month and loves the new flat.\n"
        )


# A link's ends by their content (ids depend on the order files were read in).
END = (
    "coalesce((SELECT text FROM episodes WHERE {k} = 'episode' AND id = {i}),"
    " (SELECT text FROM thoughts WHERE {k} = 'thought' AND id = {i}),"
    " (SELECT attribute || '=' || value FROM facts WHERE {k} = 'fact' AND id = {i}))"
)
LINKS = (
    f"SELECT src_kind, {END.format(k='src_kind', i='src_id')}, dst_kind, "
    f"{END.format(k='dst_kind', i='dst_id')}, label FROM links"
)

FACTS = "SELECT person, attribute, value, valid_from, valid_to, status FROM facts"


def snapshot(vault: Vault) -> dict[str, Any]:
    """What the memory holds, without ids or timestamps of when it was written."""
    probe = (
        "import json\n"
        "from assistant import config\n"
        "from assistant.memory import Memory\n"
        "from assistant.paths import resolve\n"
        "from assistant.vault import Secrets\n"
        "p = resolve()\n"
        "with Memory.open(p, config.load(p.config_file), Secrets()) as m:\n"
        "    q = lambda sql: sorted(map(list, m.db.conn.execute(sql).fetchall()))\n"
        "    print(json.dumps({\n"
        "      'episodes': q('SELECT text, time FROM episodes'),\n"
        f"      'facts': q({FACTS!r}),\n"
        "      'thoughts': q('SELECT text, status, strength FROM thoughts'),\n"
        f"      'links': q({LINKS!r}),\n"
        "      'pending': q('SELECT count(*) FROM episodes WHERE reflected_at IS NULL'),\n"
        "    }))\n"
    )  # fmt: skip
    env = {**os.environ, **vault.env}
    out = subprocess.run(
        [sys.executable, "-c", probe], env=env, capture_output=True, text=True, cwd=ROOT
    )
    assert out.returncode == 0, out.stderr
    return dict(json.loads(out.stdout))


def settle(vault: Vault) -> None:
    """Run a daemon until every file is stored and every memory reflected on, then stop."""
    vault.me("daemon", "start")
    wait_for(
        lambda: (s := vault.status())["pending_reflection"] == 0 and s["job"] is None
        and s["last_sync"] is not None,
        300,
        "sync and reflection to finish",
    )  # fmt: skip
    vault.me("daemon", "stop")


def make(tmp: Path) -> Vault:
    vault = Vault(tmp)
    vault.env["SECONDSELF_DAEMON_REFLECT_AFTER_IDLE_S"] = "0.5"
    vault.env["SECONDSELF_DAEMON_REFLECT_BATCH"] = "4"
    vault.notes.mkdir(parents=True)
    (vault.notes / "first.md").write_text("# First\n\nThe first note, before the rest.\n")
    os.utime(vault.notes / "first.md", (1_700_000_000, 1_700_000_000))
    vault.me("init", "--mode", "passphrase")
    vault.me("sources", "add", str(vault.notes))
    vault.me("sync")
    shutil.rmtree(vault.notes)
    notes_into(vault.notes)
    (vault.notes / "first.md").write_text("# First\n\nThe first note, before the rest.\n")
    for path in vault.notes.rglob("*"):  # undated notes are dated by their mtime
        os.utime(path, (1_700_000_000, 1_700_000_000))
    return vault


def test_kill_9_at_random_moments_loses_nothing(tmp_path: Path) -> None:
    reference = make(tmp_path / "reference")
    settle(reference)
    expected = snapshot(reference)
    assert expected["pending"] == [[0]] and len(expected["episodes"]) > 100

    victim = make(tmp_path / "victim")
    rng = random.Random(20261204)
    command = [sys.executable, "-m", "assistant", "daemon", "run"]
    started, kills = time.monotonic(), 0
    while kills < ROUNDS and time.monotonic() - started < BUDGET_S:
        proc = subprocess.Popen(
            command, env={**os.environ, **victim.env}, cwd=ROOT,
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )  # fmt: skip
        time.sleep(rng.uniform(0.2, 3.0))
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=30)
        kills += 1
    print(f"{kills} kills in {time.monotonic() - started:.0f} s")
    assert kills >= MIN_ROUNDS

    settle(victim)
    found = snapshot(victim)
    for part, rows in expected.items():
        missing = [r for r in rows if r not in found[part]]
        extra = [r for r in found[part] if r not in rows]
        assert (missing, extra) == ([], []), part
    assert victim.plaintext_left() == []
    assert not (victim.paths.runtime / "daemon.sock").exists()
    shutil.rmtree(reference.runtime, ignore_errors=True)
    shutil.rmtree(victim.runtime, ignore_errors=True)
