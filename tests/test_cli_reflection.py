"""The reflection commands as a user types them: reflect, persona (show, --person,
--all, history, set, pin, hide, forget), history, undo, why for thoughts and facts, ask."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result

from assistant.cli import cli
from assistant.errors import USER_ERRORS
from assistant.identity import add_identity
from assistant.ingest import ingest
from assistant.memory import Memory
from tests.conftest import PASSPHRASE
from tests.test_reflect import STORY, write_chat

pytestmark = pytest.mark.slow


@pytest.fixture
def me(memory: Memory, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> CliRunner:
    """A vault holding the STORY chat, closed again so the commands can open it."""
    add_identity(memory.db, "name", "Me")
    ingest(memory, [write_chat(tmp_path / "chat", STORY)])
    memory.close()
    memory.close = lambda: None  # type: ignore[method-assign]  # the fixture closes it too
    monkeypatch.setenv("SECONDSELF_PASSPHRASE", PASSPHRASE)
    return CliRunner()


def run(runner: CliRunner, *args: str) -> Result:
    result = runner.invoke(cli, list(args), catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return result


def fails(runner: CliRunner, *args: str) -> str:
    """The message of a command that must fail with a user error (main() prints it)."""
    result = runner.invoke(cli, list(args))
    assert isinstance(result.exception, USER_ERRORS), result.exception
    return str(result.exception)


def lines(result: Result) -> list[dict[str, Any]]:
    return [json.loads(line) for line in result.stdout.splitlines() if line.strip()]


def test_reflect_then_read_the_persona(me: CliRunner) -> None:
    out = run(me, "reflect")
    assert f"Reflected on {len(STORY)} episode(s) with builtin." in out.stdout
    assert "quarantined" in out.stdout
    facts = lines(run(me, "persona", "--json"))
    assert {"person", "attribute", "value", "valid_from", "valid_to", "confidence",
            "evidence"} <= set(facts[0])  # fmt: skip
    mine = {f["attribute"]: f["value"] for f in facts if f["person"] == "self"}
    assert mine["employer"] == "Globex" and mine["city"] == "Porto"
    assert all(f["valid_to"] is None for f in facts)
    everything = lines(run(me, "persona", "--all", "--json"))
    assert any(f["value"] == "Acme" and f["valid_to"] == "2023-06-15" for f in everything)
    ana = run(me, "persona", "--person", "ana").stdout
    assert "Ana:" in ana and "birthday" in ana and "Globex" not in ana
    past = run(me, "persona", "history", "employer").stdout
    assert past.index("Acme") < past.index("Globex") and "until 2023-06-15" in past
    assert "Reflected on 0 episode(s)" in run(me, "reflect").stdout  # nothing new


def test_user_edits_history_and_undo(me: CliRunner) -> None:
    run(me, "reflect")
    out = run(me, "persona", "set", "city", "Coimbra").stdout
    fact_ref = out.split(":")[0]
    mine = {f["attribute"]: f for f in lines(run(me, "persona", "--json", "--person", "me"))}
    assert mine["city"]["value"] == "Coimbra" and mine["city"]["origin"] == "user"
    porto = next(f for f in lines(run(me, "persona", "--all", "--json")) if f["value"] == "Porto")
    changes = lines(run(me, "history", porto["id"], "--json"))
    assert [c["op"] for c in changes] == ["insert", "set"]
    assert changes[-1]["engine"] == "user" and "Coimbra" in changes[-1]["reason"]
    run(me, "undo", str(changes[-1]["change"]))
    mine = {f["attribute"]: f["value"] for f in lines(run(me, "persona", "--json"))
            if f["person"] == "self"}  # fmt: skip
    assert mine["city"] == "Porto"
    assert "no persona fact" in fails(me, "why", fact_ref)  # the undone fact is gone
    assert "already undone" in fails(me, "undo", str(changes[-1]["change"]))


def test_pin_and_forget_from_the_command_line(me: CliRunner) -> None:
    run(me, "reflect")
    peanuts = next(f for f in lines(run(me, "persona", "--json")) if f["value"] == "peanuts")
    assert "pin done" in run(me, "persona", "pin", peanuts["id"]).stdout
    assert lines(run(me, "why", peanuts["id"], "--json"))[0]["pinned"] is True
    run(me, "persona", "hide", peanuts["id"])
    assert all(f["value"] != "peanuts" for f in lines(run(me, "persona", "--json")))
    hidden = [f for f in lines(run(me, "persona", "--all", "--json")) if f["value"] == "peanuts"]
    assert hidden[0]["status"] == "hidden"
    refused = me.invoke(cli, ["persona", "forget", peanuts["id"]])  # no terminal to confirm
    assert refused.exit_code == 2 and "--yes" in refused.output
    forgotten = run(me, "persona", "forget", "--yes", peanuts["id"]).stdout
    assert "Forgotten: 1 persona facts" in forgotten
    assert all(f["value"] != "peanuts" for f in lines(run(me, "persona", "--all", "--json")))
    assert "peanuts" not in run(me, "history", peanuts["id"]).stdout
    assert "not a persona fact" in fails(me, "persona", "pin", "t1")


def test_why_explains_thoughts_and_links(me: CliRunner) -> None:
    run(me, "reflect")
    info = lines(run(me, "why", "t1", "--json"))[0]
    assert info["id"] == "t1" and info["derived_from"] and 0 < info["retention"] <= 1
    episode = info["derived_from"][0]
    assert lines(run(me, "why", episode, "--json"))[0]["id"] == episode
    changed = next(f for f in lines(run(me, "persona", "--all", "--json")) if f["value"] == "Acme")
    fact_info = lines(run(me, "why", changed["id"], "--json"))[0]
    assert {"direction": "from", "label": "changed"}.items() <= fact_info["links"][0].items()
    assert "not a memory id" in fails(me, "why", "x9")


def test_ask_answers_with_citations_and_remembers(me: CliRunner) -> None:
    run(me, "reflect")
    # An attribute question: the persona answers, and there is nothing new to keep.
    lives = json.loads(run(me, "ask", "--json", "where", "does", "Ana", "live?").stdout)
    assert lives["answer"].startswith("Ana's city: Berlin") and lives["engine"] == "persona"
    assert {c["ref"][0] for c in lives["citations"]} == {"f", "e"} and lives["thought"] is None
    first = json.loads(run(me, "ask", "--json", "what", "about", "satay?").stdout)
    assert "peanuts" in first["answer"] and first["citations"]
    assert all(c["ref"][0] in "etf" for c in first["citations"])
    assert first["thought"]["operation"] == "insert" and first["thought"]["origin"] == "answer"
    assert first["thought"]["text"] == "I'm allergic to peanuts, so no satay for me."
    # Asked again, the kept thought answers: it is cited and grows stronger, and no
    # stitched copy of the answer is kept beside it.
    second = json.loads(run(me, "ask", "--json", "what", "about", "satay?").stdout)
    thought = first["thought"]["id"]
    assert second["answer"].startswith(first["thought"]["text"]) and second["thought"] is None
    assert thought in [c["ref"] for c in second["citations"]]
    assert lines(run(me, "why", thought, "--json"))[0]["strength"] > first["thought"]["strength"]
    nothing = run(me, "ask", "--no-remember", "what", "colour", "is", "the", "submarine?").stdout
    assert "Nothing in your memory answers this question." in nothing


def test_thoughts_list_pin_and_forget(me: CliRunner) -> None:
    run(me, "reflect")
    listed = lines(run(me, "thoughts", "--json"))
    miso = next(t for t in listed if "Miso" in t["text"])
    assert miso["derived_from"] and miso["status"] == "active"
    pinned = run(me, "thoughts", "pin", miso["id"]).stdout
    assert lines(run(me, "why", miso["id"], "--json"))[0]["retention"] == 1.0  # pins never fade
    out = run(me, "thoughts", "hide", miso["id"]).stdout
    assert all(t["id"] != miso["id"] for t in lines(run(me, "thoughts", "--json")))
    kept = [t for t in lines(run(me, "thoughts", "--all", "--json")) if t["id"] == miso["id"]]
    assert kept[0]["status"] == "hidden"  # hiding keeps the row
    change = out.split("change ")[1].split(";")[0]
    run(me, "undo", change)
    assert any(t["id"] == miso["id"] for t in lines(run(me, "thoughts", "--json")))
    run(me, "thoughts", "forget", "--yes", miso["id"])
    assert all("Miso" not in t["text"] for t in lines(run(me, "thoughts", "--all", "--json")))
    assert "Miso" not in run(me, "history", miso["id"]).stdout
    pin_change = pinned.split("change ")[1].split(";")[0]
    assert "cannot be undone" in fails(me, "undo", pin_change)  # its thought was forgotten
    assert "not a thought" in fails(me, "thoughts", "pin", "f1")
