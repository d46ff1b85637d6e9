"""Shared fixtures: every test gets its own SECONDSELF_HOME, runtime and temp folders."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from assistant import config as config_mod
from assistant import paths as paths_mod
from assistant.memory import Memory
from assistant.paths import Paths
from assistant.vault import Secrets, create_vault

if TYPE_CHECKING:
    from assistant.service.backend import Resident

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = Path(__file__).resolve().parent / "fixtures"
PASSPHRASE = "correct horse battery staple"


@pytest.fixture(scope="session")
def onnx_cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One ONNX export of the model for the whole run (both xdist workers share it;
    each export is written atomically), instead of one per test's home."""
    return tmp_path_factory.getbasetemp().parent / "onnx-cache"


@pytest.fixture(autouse=True)
def isolated_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, onnx_cache: Path) -> Path:
    """No test touches the real home, the real keyring or the shared temp folder."""
    home = tmp_path / "home"
    runtime = tmp_path / "run"
    runtime.mkdir(mode=0o700)
    monkeypatch.setenv("SECONDSELF_HOME", str(home))
    monkeypatch.setenv("XDG_RUNTIME_DIR", str(runtime))
    monkeypatch.setenv("SECONDSELF_ONNX_CACHE", str(onnx_cache))
    monkeypatch.delenv("SECONDSELF_PASSPHRASE", raising=False)
    # The keyring is opt-in per test (see tests/test_keyring.py); keyring caches its
    # backend per process, so drop the cache for the environment to take effect.
    monkeypatch.setenv("PYTHON_KEYRING_BACKEND", "keyring.backends.fail.Keyring")
    import keyring.core

    monkeypatch.setattr(keyring.core, "_keyring_backend", None)
    return home


@pytest.fixture
def paths() -> Paths:
    return paths_mod.resolve()


@pytest.fixture
def secrets() -> Secrets:
    return Secrets(ask_passphrase=lambda _confirm: PASSPHRASE)


@pytest.fixture
def vault(paths: Paths, secrets: Secrets) -> Paths:
    """A freshly created passphrase-mode vault."""
    create_vault(paths, secrets, mode="passphrase")
    return paths


@pytest.fixture
def memory(vault: Paths, secrets: Secrets) -> Iterator[Memory]:
    """An open memory on a fresh vault, with the real embedding model."""
    mem = Memory.open(vault, config_mod.load(vault.config_file), secrets)
    try:
        yield mem
    finally:
        mem.close()


@pytest.fixture
def notes(tmp_path: Path) -> Path:
    """A private copy of the fixture notes, free to edit."""
    target = tmp_path / "notes"
    shutil.copytree(FIXTURES / "notes", target)
    return target


def chat_folder(folder: Path, conversation: str, messages: Sequence[tuple[str, str, str]]) -> Path:
    """`folder`, holding `messages` (time, sender, text) as one conversation in the
    generic chat JSON Lines format (docs/chat-jsonl.md), ids by position."""
    folder.mkdir(parents=True, exist_ok=True)
    lines = [
        json.dumps({"time": t, "sender": s, "text": x, "conversation": conversation, "id": i})
        for i, (t, s, x) in enumerate(messages)
    ]
    (folder / f"{conversation}.jsonl").write_text("\n".join(lines) + "\n", encoding="utf-8")
    return folder


def chatgpt_conversation(
    conversation_id: str, title: str, turns: Sequence[tuple[float, str, str]]
) -> dict[str, object]:
    """One conversation of a ChatGPT export's `conversations.json`, its `turns`
    (epoch, role, text) one after the other on its active branch."""
    ids = [f"m-{i}" for i in range(1, len(turns) + 1)]
    mapping: dict[str, object] = {
        "root": {"id": "root", "message": None, "parent": None, "children": ids[:1]}
    }
    for i, (epoch, role, text) in enumerate(turns):
        message = {
            "id": ids[i],
            "author": {"role": role, "name": None, "metadata": {}},
            "create_time": epoch,
            "content": {"content_type": "text", "parts": [text]},
            "metadata": {},
            "recipient": "all",
        }
        mapping[ids[i]] = {
            "id": ids[i], "message": message, "parent": ids[i - 1] if i else "root",
            "children": ids[i + 1 : i + 2],
        }  # fmt: skip
    return {
        "title": title, "create_time": turns[0][0], "update_time": turns[-1][0],
        "mapping": mapping, "current_node": ids[-1], "conversation_id": conversation_id,
        "id": conversation_id,
    }  # fmt: skip


def reflected_notes(memory: Memory, folder: Path, notes: dict[str, str]) -> Resident:
    """`notes` (file name -> text) written into `folder`, ingested and reflected on
    with the builtin engine; the service over them."""
    from assistant.service.backend import Resident

    folder.mkdir()
    for name, text in notes.items():
        (folder / name).write_text(text, encoding="utf-8")
    service = Resident(memory)
    service.ingest([folder])
    service.reflect("builtin")
    return service


def run_me(
    *args: str, env: dict[str, str] | None = None, input: str | None = None, check: bool = True
) -> subprocess.CompletedProcess[str]:
    """Run the real console entry point in a subprocess with this test's environment."""
    full_env = dict(os.environ)
    full_env.update(env or {})
    proc = subprocess.run(
        [sys.executable, "-c", "from assistant.cli import main; main()", *args],
        env=full_env,
        input=input,
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=300,
    )
    if check and proc.returncode != 0:
        raise AssertionError(
            f"me {' '.join(args)} exited {proc.returncode}\nstdout:\n{proc.stdout}\n"
            f"stderr:\n{proc.stderr}"
        )
    return proc


def tree_digest(*roots: Path) -> dict[str, bytes]:
    """Every file under `roots` with its bytes, to prove that nothing changed."""
    out = {}
    for root in roots:
        if not root.exists():
            continue
        for path in sorted(root.rglob("*")):
            if path.is_file():
                out[str(path)] = path.read_bytes()
    return out
