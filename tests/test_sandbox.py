"""The parse worker: a bad parser costs one file, never the batch or a secret."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest

from connectors.base import Connector, Item, ParseError
from connectors.markdown import MarkdownConnector
from connectors.reading import ReadOptions
from connectors.sandbox import (
    ParseCrashError,
    ParseMemoryError,
    ParseSandbox,
    ParseTimeoutError,
)
from tests.hostile_connectors import Chatty, Crasher, EnvSpy, Hog, Sleeper

MARKDOWN = MarkdownConnector()
NAMED = ReadOptions(detect=False)  # as for a file the user named with --kind


def parse(sandbox: ParseSandbox, connector: Connector, path: Path) -> list[Item]:
    """`path` read in the worker by `connector`, as for a file the user named."""
    return sandbox.read(path, [connector], 0.0, NAMED).items


@pytest.fixture
def sample(tmp_path: Path) -> Path:
    path = tmp_path / "note.md"
    path.write_text("# Hello\n\nA small note.\n", encoding="utf-8")
    return path


def test_parses_with_a_real_connector(sample: Path) -> None:
    with ParseSandbox(timeout=30) as sandbox:
        items = sandbox.read(sample, [MARKDOWN], sample.stat().st_mtime, NAMED).items
    assert [(i.title, i.text) for i in items] == [("Hello", "A small note.")]


def test_parse_error_crosses_the_pipe(tmp_path: Path) -> None:
    junk = tmp_path / "junk.md"
    junk.write_bytes(b"\x00\x01binary" * 50)
    with ParseSandbox(timeout=30) as sandbox, pytest.raises(ParseError, match="binary"):
        parse(sandbox, MARKDOWN, junk)


def test_a_hanging_parser_times_out_and_the_next_file_works(sample: Path) -> None:
    with ParseSandbox(timeout=2) as sandbox:
        started = time.monotonic()
        with pytest.raises(ParseTimeoutError, match="longer than 2 s"):
            parse(sandbox, Sleeper(), sample)
        assert time.monotonic() - started < 10
        assert parse(sandbox, MARKDOWN, sample)[0].text == "A small note."


def test_starting_the_worker_is_not_charged_to_a_file(sample: Path) -> None:
    """Importing the parsers takes over a second; a new worker (the first, and the one
    that replaces a killed one) must not make a small file time out."""
    with ParseSandbox(timeout=0.5) as sandbox:
        assert parse(sandbox, MARKDOWN, sample)[0].text == "A small note."
        with pytest.raises(ParseTimeoutError):
            parse(sandbox, Sleeper(), sample)
        assert parse(sandbox, MARKDOWN, sample)[0].text == "A small note."


def test_a_crashing_parser_is_reported_and_replaced(sample: Path) -> None:
    with ParseSandbox(timeout=30) as sandbox:
        with pytest.raises(ParseCrashError, match="signal"):
            parse(sandbox, Crasher(), sample)
        assert parse(sandbox, MARKDOWN, sample)[0].text == "A small note."


def test_memory_is_capped_per_file(sample: Path) -> None:
    with ParseSandbox(timeout=60, memory_mib=512) as sandbox:
        with pytest.raises((ParseMemoryError, ParseCrashError), match="MiB"):
            parse(sandbox, Hog(), sample)
        assert parse(sandbox, MARKDOWN, sample)[0].text == "A small note."


def test_the_worker_gets_no_secrets(sample: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SECONDSELF_PASSPHRASE", "do-not-leak-this")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "nor-this")
    with ParseSandbox(timeout=30) as sandbox:
        env = json.loads(parse(sandbox, EnvSpy(), sample)[0].text)
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
        items = parse(sandbox, Chatty(), sample)
    assert items[0].text.startswith("# Hello")
