"""The parse worker: a bad parser costs one file, never the batch or a secret."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest

from connectors.base import ParseError
from connectors.sandbox import (
    ParseCrashError,
    ParseMemoryError,
    ParseSandbox,
    ParseTimeoutError,
)

HOSTILE = "tests.hostile_connectors:"


@pytest.fixture
def sample(tmp_path: Path) -> Path:
    path = tmp_path / "note.md"
    path.write_text("# Hello\n\nA small note.\n", encoding="utf-8")
    return path


def test_parses_with_a_real_connector(sample: Path) -> None:
    with ParseSandbox(timeout=30) as sandbox:
        items = sandbox.parse("markdown", sample, sample.stat().st_mtime)
    assert [(i.title, i.text) for i in items] == [("Hello", "A small note.")]


def test_parse_error_crosses_the_pipe(tmp_path: Path) -> None:
    junk = tmp_path / "junk.md"
    junk.write_bytes(b"\x00\x01binary" * 50)
    with ParseSandbox(timeout=30) as sandbox, pytest.raises(ParseError, match="binary"):
        sandbox.parse("markdown", junk, 0)


def test_a_hanging_parser_times_out_and_the_next_file_works(sample: Path) -> None:
    with ParseSandbox(timeout=2) as sandbox:
        started = time.monotonic()
        with pytest.raises(ParseTimeoutError, match="longer than 2 s"):
            sandbox.parse(HOSTILE + "Sleeper", sample, 0)
        assert time.monotonic() - started < 10
        assert sandbox.parse("markdown", sample, 0)[0].text == "A small note."


def test_a_crashing_parser_is_reported_and_replaced(sample: Path) -> None:
    with ParseSandbox(timeout=30) as sandbox:
        with pytest.raises(ParseCrashError, match="signal"):
            sandbox.parse(HOSTILE + "Crasher", sample, 0)
        assert sandbox.parse("markdown", sample, 0)[0].text == "A small note."


def test_memory_is_capped_per_file(sample: Path) -> None:
    with ParseSandbox(timeout=60, memory_mib=512) as sandbox:
        with pytest.raises((ParseMemoryError, ParseCrashError), match="MiB"):
            sandbox.parse(HOSTILE + "Hog", sample, 0)
        assert sandbox.parse("markdown", sample, 0)[0].text == "A small note."


def test_the_worker_gets_no_secrets(sample: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SECONDSELF_PASSPHRASE", "do-not-leak-this")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "nor-this")
    with ParseSandbox(timeout=30) as sandbox:
        env = json.loads(sandbox.parse(HOSTILE + "EnvSpy", sample, 0)[0].text)
    assert "do-not-leak-this" not in json.dumps(env)
    assert not {
        k for k in env if k.startswith("SECONDSELF_") and k != "SECONDSELF_WORKER_MEMORY_MIB"
    }
    assert set(env) <= {
        "PATH",
        "LANG",
        "LC_ALL",
        "LC_CTYPE",
        "TZ",
        "TMPDIR",
        "PYTHONPATH",
        "SECONDSELF_WORKER_MEMORY_MIB",
        "PYTHONDONTWRITEBYTECODE",
    }


def test_stdout_noise_from_a_plugin_does_not_break_the_protocol(sample: Path) -> None:
    with ParseSandbox(timeout=30) as sandbox:
        items = sandbox.parse(HOSTILE + "Chatty", sample, 0)
    assert items[0].text.startswith("# Hello")
