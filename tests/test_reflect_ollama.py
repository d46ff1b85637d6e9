"""`me reflect --engine ollama` and `me ask --engine ollama` end to end: the real CLI in a
subprocess, the official client, and the fake Ollama server standing in for a model."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import PASSPHRASE, run_me
from tests.fake_ollama import FakeOllama, HttpError

pytestmark = pytest.mark.slow

CHAT = [
    {"time": "2023-03-01T12:00:00+00:00", "sender": "Me", "conversation": "Ana", "id": 1,
     "text": "I'm moving to Porto next Friday. My card is 4111 1111 1111 1111 btw."},
    {"time": "2023-03-02T12:00:00+00:00", "sender": "Ana", "conversation": "Ana", "id": 2,
     "text": "My birthday is 3 May!"},
]  # fmt: skip


def model_reply(body: dict[str, Any]) -> Any:
    """A stand-in model: reads the quoted memories and reports what a good model would."""
    schema = body["format"]
    prompt = body["messages"][-1]["content"]
    if "facts" in schema["properties"]:
        ids = schema["properties"]["facts"]["items"]["properties"]["evidence"]["enum"]
        facts, thoughts = [], []
        for episode_id in ids:
            quoted = re.search(rf"id={episode_id}\b.*?»(.*?)«", prompt, re.S)
            text = quoted.group(1) if quoted else ""
            if "Porto" in text:
                facts.append({"person": "self", "attribute": "city", "value": "Porto",
                              "valid_from": "2023-03-10", "evidence": episode_id,
                              "confidence": 0.9})  # fmt: skip
                thoughts.append({"text": "I moved to Porto on 2023-03-10.",
                                 "derived_from": [episode_id], "subject": "self"})  # fmt: skip
            if "birthday" in text:
                facts.append({"person": "I", "attribute": "birthday", "value": "3 May",
                              "valid_from": None, "evidence": episode_id,
                              "confidence": 0.9})  # fmt: skip
        return {"facts": facts, "thoughts": thoughts}
    refs = schema["properties"]["citations"]["items"]["enum"]
    return {"answer": "You moved to Porto on 10 March 2023.", "citations": refs[:1]}


@pytest.fixture
def vault_env(tmp_path: Path) -> dict[str, str]:
    folder = tmp_path / "chat"
    folder.mkdir()
    (folder / "ana.jsonl").write_text("\n".join(json.dumps(m) for m in CHAT) + "\n")
    env = {"SECONDSELF_PASSPHRASE": PASSPHRASE}
    run_me("init", "--mode", "passphrase", "--name", "Me", env=env)
    run_me("ingest", str(folder), env=env)
    return env


def test_reflect_and_ask_with_ollama(vault_env: dict[str, str]) -> None:
    with FakeOllama() as fake:
        env = {**vault_env, "OLLAMA_HOST": fake.host}
        fake.script(model_reply)
        out = run_me("reflect", "--engine", "ollama", "--json", env=env)
        report = json.loads(out.stdout)
        assert report["engine"] == "ollama:qwen2.5:3b-instruct" and report["episodes"] == 2
        shown = run_me("persona", "--json", env=env).stdout.splitlines()
        persona = [json.loads(line) for line in shown if line]
        values = {(p["person"], p["attribute"]): p["value"] for p in persona}
        assert values == {("self", "city"): "Porto", ("Ana", "birthday"): "3 May"}
        fake.script(model_reply)
        asked = run_me("ask", "--engine", "ollama", "--json", "where do I live?", env=env)
        answer = json.loads(asked.stdout)
        assert answer["answer"] == "You moved to Porto on 10 March 2023."
        # Post-thinking: the conclusion is stored, or reinforces the thought it repeats.
        assert answer["citations"] and answer["thought"]["operation"] in ("insert", "merge")
        assert answer["thought"]["date"] == "2023-03-01"  # as of its evidence, not today
        prompts = json.dumps([b["messages"] for b in fake.chats()])
        calls, host = len(fake.chats()), fake.host
    assert "4111" not in prompts and "[CARD]" in prompts  # the card never reached the model
    # Every call is in the audit log: where it went, what model, how much was sent and
    # which secrets were replaced; never the text.
    listed = [json.loads(line) for line in run_me("audit", "--json", env=env).stdout.split("\n")
              if line]  # fmt: skip
    sent = [e for e in listed if e["action"] == "model_call"]
    assert len(sent) == calls
    assert {e["detail"]["host"] for e in sent} == {host}
    assert {e["detail"]["model"] for e in sent} == {"qwen2.5:3b-instruct"}
    assert all(e["detail"]["characters"] > 0 for e in sent)
    assert sum(e["detail"]["redactions"].get("card", 0) for e in sent) >= 1
    assert "Porto" not in json.dumps(sent) and "4111" not in json.dumps(listed)
    assert "intact" in run_me("audit", "verify", env=env).stdout


def test_a_failing_model_falls_back_to_builtin_per_batch(vault_env: dict[str, str]) -> None:
    with FakeOllama() as fake:
        env = {**vault_env, "OLLAMA_HOST": fake.host, "SECONDSELF_REFLECTION_RETRIES": "0"}
        fake.script(HttpError(500, "out of memory"))
        out = run_me("reflect", "--engine", "ollama", "--json", env=env)
    report = json.loads(out.stdout)
    assert report["episodes"] == 2 and any("builtin" in n for n in report["notes"])
    assert report["facts"]  # the builtin engine still found the move and the birthday


def test_missing_model_and_missing_server_say_what_to_do(vault_env: dict[str, str]) -> None:
    with FakeOllama(models=["llama3.2:1b"]) as fake:
        env = {**vault_env, "OLLAMA_HOST": fake.host}
        proc = run_me("reflect", "--engine", "ollama", env=env, check=False)
    assert proc.returncode == 1 and "ollama pull qwen2.5:3b-instruct" in proc.stderr
    env = {**vault_env, "OLLAMA_HOST": "http://127.0.0.1:9"}  # nothing listens on port 9
    proc = run_me("reflect", "--engine", "ollama", env=env, check=False)
    assert proc.returncode == 1 and "ollama serve" in proc.stderr
    remote = {**vault_env, "OLLAMA_HOST": "http://192.0.2.10:11434"}
    proc = run_me("reflect", "--engine", "ollama", env=remote, check=False)
    assert proc.returncode == 1 and "allow_remote_host" in proc.stderr
    # Nothing was reflected on by the failed attempts.
    status = run_me("reflect", "--json", env=vault_env)
    assert json.loads(status.stdout)["episodes"] == 2
