"""The command line: help with examples everywhere, clear errors, stdout/stderr split."""

from __future__ import annotations

import json
from pathlib import Path

import click
import pytest
from click.testing import CliRunner

from assistant.cli import cli
from tests.conftest import FIXTURES, PASSPHRASE, run_me


def all_commands() -> list[str]:
    return sorted(cli.commands)


@pytest.mark.parametrize("name", [None, *all_commands()])
def test_every_command_has_help_with_an_example(name: str | None) -> None:
    args = [name, "--help"] if name else ["--help"]
    result = CliRunner().invoke(cli, args)
    assert result.exit_code == 0, result.output
    assert "Example:" in result.output
    assert "me " in result.output.split("Example:")[1]


def test_expected_commands_exist() -> None:
    ctx = click.Context(cli)
    names = cli.list_commands(ctx)
    assert {"init", "unlock", "ingest", "recall", "status", "paths", "demo", "daemon"} <= set(names)
    assert all(isinstance(cli.get_command(ctx, name), click.Command) for name in names)


def test_paths_follow_secondself_home(isolated_home: Path) -> None:
    result = CliRunner().invoke(cli, ["paths", "--json"])
    shown = json.loads(result.output)
    assert shown["data"] == str(isolated_home.resolve() / "data")
    assert shown["config"] == str(isolated_home.resolve() / "config")
    assert not isolated_home.exists()  # asking where things live creates nothing


def test_commands_without_a_vault_say_what_to_do(isolated_home: Path) -> None:
    proc = run_me("recall", "anything", env={"SECONDSELF_PASSPHRASE": PASSPHRASE}, check=False)
    assert proc.returncode == 1
    assert proc.stdout == ""
    assert "me init" in proc.stderr
    assert not (isolated_home / "data").exists()


def test_locked_vault_without_terminal_asks_for_env(isolated_home: Path) -> None:
    run_me("init", "--mode", "passphrase", env={"SECONDSELF_PASSPHRASE": PASSPHRASE})
    proc = run_me("status", check=False)
    assert proc.returncode == 1
    assert "SECONDSELF_PASSPHRASE" in proc.stderr


def test_bad_date_is_a_usage_error() -> None:
    result = CliRunner().invoke(cli, ["recall", "x", "--since", "last tuesday"])
    assert result.exit_code == 2
    assert "not a date like 2024-01-31" in result.output


@pytest.mark.slow
def test_ingest_recall_status_end_to_end(tmp_path: Path) -> None:
    env = {"SECONDSELF_PASSPHRASE": PASSPHRASE}
    init = run_me("init", "--mode", "passphrase", env=env)
    words = [w for line in init.stdout.splitlines() for w in line.split() if w.isalpha()]
    assert "Recovery phrase" in init.stdout and len(init.stdout.split(". ")) > 24
    assert words  # the phrase is printed

    notes = FIXTURES / "recall_notes"
    first = run_me("ingest", str(notes), "--json", env=env)
    summary = json.loads(first.stdout)
    assert summary["added"] == 11 and summary["failed"] == []
    second = json.loads(run_me("ingest", str(notes), "--json", env=env).stdout)
    assert second["added"] == 0 and second["unchanged"] == 11

    out = run_me(
        "recall", "Lisbon", "--since", "2024-01-01", "--until", "2024-06-30", "--json", env=env
    ).stdout.splitlines()
    rows = [json.loads(line) for line in out]
    assert rows and all({"id", "score", "date", "source_ref", "text"} <= set(r) for r in rows)
    assert "lisbon-trip.md" in rows[0]["source_ref"]
    assert all("2024-01-01" <= r["date"][:10] <= "2024-06-30" for r in rows)

    people = run_me("recall", "when did I plan the Lisbon trip", "-k", "2", env=env).stdout
    assert people.startswith("1. 2024-02-10")
    assert "lisbon-trip.md › Lisbon trip" in people

    status = json.loads(run_me("status", "--json", env=env).stdout)
    assert status["counts"]["documents"] == 11
    assert status["counts"]["episodes"] == status["counts"]["vectors"] == status["index"]["vectors"]
    assert status["index"]["state"] == "restored"
    assert status["unlock_mode"] == "passphrase"


@pytest.mark.slow
def test_ingest_reports_failures_and_exits_2(tmp_path: Path) -> None:
    env = {"SECONDSELF_PASSPHRASE": PASSPHRASE}
    run_me("init", "--mode", "passphrase", env=env)
    folder = tmp_path / "mixed"
    folder.mkdir()
    (folder / "good.md").write_text("# Good\n\nA fine note.\n", encoding="utf-8")
    (folder / "junk.md").write_bytes(b"\x00\x01\x02garbage" * 100)
    proc = run_me("ingest", str(folder), env=env, check=False)
    assert proc.returncode == 2
    assert "added 1" in proc.stdout and "failed 1" in proc.stdout
    assert "junk.md" in proc.stderr


@pytest.mark.slow
def test_demo_runs_end_to_end() -> None:
    proc = run_me("demo")
    assert "Lisbon" in proc.stdout
    results = proc.stdout.split("3. Recall:")[1]
    first_hit = results.split("  1. ")[1].split("  2. ")[0]
    assert "Lisbon" in first_hit
    assert "demo/Lisbon trip.md" in results  # the planning note itself is among the top 3
    assert "0 failed" in proc.stdout
    # The demo's question is about Ana's flight, not the user's own booking: the answer
    # is her outbound flight, with its day first.
    answer = [line.strip() for line in proc.stdout.split("5. Ask:")[1].splitlines()[1:]
              if line.strip()][0]  # fmt: skip
    assert answer.startswith("On Thursday 18 April 2024: ") and "TP 535" in answer, answer
