"""Hostile files: FIFOs, sockets, devices, names that are not UTF-8, oversized notes.

Each must cost at most itself: ingest and sync finish, say what they skipped and why,
store everything else, and a second sync changes nothing.
"""

from __future__ import annotations

import json
import os
import re
import signal
import time
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

from assistant.discovery import EMPTY, HIDDEN, LINKED_FOLDER, NOT_A_FORMAT, NOT_REGULAR
from assistant.embedder import BATCH_CHARS, _batches
from assistant.ingest import Ingestor, ingest
from assistant.memory import Memory
from assistant.sources import add_source
from connectors.markdown import MarkdownConnector
from connectors.reading import NotRegularFileError, open_regular, read_file
from connectors.registry import available_connectors, connector_for
from connectors.sandbox import ParseSandbox
from connectors.surrogates import path_from_text, path_text, valid_text
from tests.conftest import PASSPHRASE, run_me
from tests.hostile_folder import HostileFolder, hostile_folder  # noqa: F401 (fixture)

# One `me` command, model load included, takes 10-30 s on a busy 2-core machine; a
# command that waits on a FIFO never ends (run_me gives up at 300 s).
WELL_WITHIN = 240.0


@pytest.fixture
def alarm() -> Iterator[None]:
    """Fail, instead of hanging the suite, if the test blocks for 20 s."""

    def hung(signum: int, frame: object) -> None:
        raise TimeoutError("blocked for 20 s")

    previous = signal.signal(signal.SIGALRM, hung)
    signal.alarm(20)
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)


# --- opening files --------------------------------------------------------------------


def test_a_fifo_is_refused_at_once_not_waited_on(tmp_path: Path, alarm: None) -> None:
    fifo = tmp_path / "notes.md"
    os.mkfifo(fifo)
    with pytest.raises(NotRegularFileError, match="named pipe"):
        open_regular(fifo)
    with pytest.raises(NotRegularFileError, match="named pipe"):
        read_file(fifo, [MarkdownConnector()], 0.0)
    assert connector_for(fifo, available_connectors()) is None


@pytest.mark.parametrize("device", ["/dev/zero", "/dev/urandom"])
def test_links_to_devices_are_refused_without_reading(
    tmp_path: Path, alarm: None, device: str
) -> None:
    link = tmp_path / "endless.txt"
    link.symlink_to(device)
    with pytest.raises(NotRegularFileError, match="character device"):
        read_file(link, available_connectors(), 0.0)


def test_the_worker_refuses_a_fifo_within_its_time_limit(tmp_path: Path, alarm: None) -> None:
    fifo = tmp_path / "pipe.txt"
    os.mkfifo(fifo)
    note = tmp_path / "note.md"
    note.write_text("# Hello\n\nStill read after the FIFO.\n", encoding="utf-8")
    with ParseSandbox(timeout=15) as sandbox:
        with pytest.raises(NotRegularFileError, match="named pipe"):
            sandbox.read(fifo, available_connectors(), 0.0)
        reading = sandbox.read(note, available_connectors(), 0.0)
    assert reading.connector == "markdown"
    assert [i.text for i in reading.items] == ["Still read after the FIFO."]


# --- names that are not UTF-8 ----------------------------------------------------------


def test_names_that_are_not_utf8_become_escaped_text_and_back(tmp_path: Path) -> None:
    raw = os.path.join(os.fsencode(tmp_path), b"caf\xe9 \xff.md")
    with open(raw, "w") as stream:
        stream.write("x")
    path = Path(os.fsdecode(raw))
    text = path_text(path)
    assert text.endswith("caf\\xe9 \\xff.md")
    text.encode("utf-8")  # storable
    assert path_text(path) == text  # the same on every run
    assert path_from_text(text) == path and path_from_text(text).exists()
    assert valid_text("cut emoji \ud83d here") == "cut emoji \\ud83d here"
    assert valid_text("plain é 🎉") == "plain é 🎉"


def test_a_name_that_is_not_utf8_crosses_the_worker(tmp_path: Path) -> None:
    raw = os.path.join(os.fsencode(tmp_path), b"\xff\xfe weird.md")
    with open(raw, "w", encoding="utf-8") as stream:
        stream.write("# Weird\n\nA note with a byte-soup name.\n")
    with ParseSandbox(timeout=30) as sandbox:
        reading = sandbox.read(Path(os.fsdecode(raw)), available_connectors(), 0.0)
    assert reading.connector == "markdown"
    assert [i.text for i in reading.items] == ["A note with a byte-soup name."]


# --- the whole folder, through the real command line ------------------------------------


def _me(*args: str, env: dict[str, str]) -> tuple[int, str, str]:
    started = time.monotonic()
    proc = run_me(*args, env=env, check=False)
    elapsed = time.monotonic() - started
    assert elapsed < WELL_WITHIN, f"me {args[0]} took {elapsed:.0f} s"
    assert "Traceback" not in proc.stdout + proc.stderr, proc.stderr
    return proc.returncode, proc.stdout, proc.stderr


def _by_name(entries: list[dict[str, str]], root: Path, key: str) -> dict[str, str]:
    """Summary entries as {name under root: entries[key]}."""
    prefix = path_text(root.resolve()) + os.sep
    assert all(e["path"].startswith(prefix) for e in entries), entries
    return {e["path"][len(prefix) :]: e[key] for e in entries}


def _check_summary(summary: dict[str, object], folder: HostileFolder, fresh: bool) -> None:
    skipped = _by_name(summary["skipped"], folder.root, "reason")  # type: ignore[arg-type]
    expected = dict(folder.skipped)
    assert skipped == expected
    failed = _by_name(summary["failed"], folder.root, "reason")  # type: ignore[arg-type]
    assert set(failed) == set(folder.failed)
    for name, words in folder.failed.items():
        assert words in failed[name], failed[name]
    stored = len(folder.stored)
    assert (summary["added"], summary["unchanged"]) == ((stored, 0) if fresh else (0, stored))


# What a terminal must never receive from stored text: C0 controls but newline and tab
# (ESC among them), DEL and the C1 controls (U+009B is a one-character CSI).
RAW_CONTROLS = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f]")


def _printable(*outputs: str) -> None:
    for output in outputs:
        found = RAW_CONTROLS.search(output)
        assert found is None, f"raw {found.group()!r} printed in {output!r}"


def _escapes_never_reach_the_terminal(env: dict[str, str]) -> None:
    """Every command that shows the pergola note prints it without its escape codes."""
    code, out, err = _me("recall", "pergola", "--json", env=env)
    assert code == 0 and "\\u009b" in out  # escaped inside JSON strings, not raw
    _printable(out, err)
    hit = json.loads(out.splitlines()[0])
    assert "pergola" in hit["text"] and "\x1b" in hit["text"]  # stored as the file said
    for args in (["recall", "pergola"], ["why", f"e{hit['id']}"], ["status"], ["sources", "list"]):
        code, out, err = _me(*args, env=env)
        assert code == 0, err
        _printable(out, err)
    code, out, _ = _me("recall", "pergola", env=env)
    assert "The pergola needs paint before spring." in out  # whole sequences gone, not "31m"


def _recall_everything(folder: HostileFolder, env: dict[str, str]) -> None:
    words = sorted(folder.stored.values())
    code, out, _ = _me("recall", " ".join(words), "-k", "20", "--json", env=env)
    assert code == 0
    hits = [json.loads(line) for line in out.splitlines() if line.strip()]
    for name, word in folder.stored.items():
        found = [h for h in hits if word in h["text"]]
        assert found, f"{name}: no memory holds {word!r}"
        assert any(name.rsplit("/", 1)[-1] in h["source_ref"] for h in found), found


@pytest.mark.slow
def test_hostile_folder_through_ingest_and_sync(
    hostile_folder: HostileFolder,  # noqa: F811 (the fixture)
    tmp_path: Path,
) -> None:
    folder = hostile_folder
    env = {"SECONDSELF_PASSPHRASE": PASSPHRASE}
    assert _me("init", "--mode", "passphrase", env=env)[0] == 0

    code, out, err = _me("ingest", str(folder.root), "--json", env=env)
    assert code == 2, err  # some files failed (documented: partial success)
    _check_summary(json.loads(out), folder, fresh=True)
    _recall_everything(folder, env)
    _escapes_never_reach_the_terminal(env)

    root = folder.root.resolve()
    code, out, err = _me("ingest", str(folder.root), "--verbose", env=env)
    assert code == 2
    _printable(out, err)
    for name, reason in folder.skipped.items():
        assert f"skipped: {path_text(root / name)}: {reason}" in out, out
    assert "skipped: 4 not a regular file" in out
    for name in folder.failed:
        assert f"failed: {path_text(root / name)}: " in err, err

    # A second vault keeps the folder as a source and syncs it twice.
    other = {**env, "SECONDSELF_HOME": str(tmp_path / "home2")}
    assert _me("init", "--mode", "passphrase", env=other)[0] == 0
    assert _me("sources", "add", str(folder.root), env=other)[0] == 0
    for fresh in (True, False):
        code, out, err = _me("sync", "--json", env=other)
        assert code == 2, err
        summary = json.loads(out)
        _check_summary(summary, folder, fresh)
        if not fresh:
            assert (summary["updated"], summary["removed"]) == (0, 0)
            assert (summary["chunks_added"], summary["chunks_removed"]) == (0, 0)
    code, out, err = _me("sync", "--verbose", env=other)
    assert code == 2 and "skipped: " + path_text(root / "pipe.md") in out
    _printable(out, err)
    _recall_everything(folder, other)


# --- in-process ingest: names, broken JSON text, the chunk bound, skip reports ----------


def _texts(memory: Memory) -> list[str]:
    return sorted(r[0] for r in memory.db.conn.execute("SELECT text FROM episodes"))


def test_a_name_that_is_not_utf8_is_stored_unchanged_then_removed(
    memory: Memory, tmp_path: Path
) -> None:
    folder = tmp_path / "notes"
    folder.mkdir()
    (folder / "plain.md").write_text("A plain note about figs.\n", encoding="utf-8")
    raw = os.path.join(os.fsencode(folder), b"r\xe9sum\xe9.md")
    with open(raw, "w", encoding="utf-8") as stream:
        stream.write("A note about quinces under a Latin-1 name.\n")
    first = ingest(memory, [folder])
    assert (first.added, first.failed) == (2, [])
    refs = {r[0] for r in memory.db.conn.execute("SELECT ref FROM documents")}
    assert path_text(folder.resolve()) + os.sep + "r\\xe9sum\\xe9.md" in refs
    again = ingest(memory, [folder])
    assert (again.added, again.updated, again.unchanged) == (0, 0, 2)
    os.unlink(raw)
    gone = ingest(memory, [folder])
    assert gone.removed == 1
    assert _texts(memory) == ["A plain note about figs."]


def test_a_source_folder_whose_name_is_not_utf8_syncs(memory: Memory, tmp_path: Path) -> None:
    raw = os.path.join(os.fsencode(tmp_path), b"\xe9t\xe9 2019")
    os.mkdir(raw)
    folder = Path(os.fsdecode(raw))
    (folder / "beach.md").write_text("Summer at the beach with the kites.\n", encoding="utf-8")
    source = add_source(memory.db, folder, None)
    with Ingestor(memory) as ingestor:
        first = ingestor.sync(source)
    assert (first.added, first.failed) == (1, [])
    with Ingestor(memory) as ingestor:
        assert ingestor.sync(source).unchanged == 1


def test_lone_surrogates_in_an_export_do_not_abort_the_batch(
    memory: Memory, tmp_path: Path
) -> None:
    folder = tmp_path / "chats"
    folder.mkdir()
    record = {"time": "2024-03-08T19:02:11+00:00", "sender": "Ana", "text": "cut \ud83d emoji"}
    record["conversation"] = "Notas"
    body = json.dumps(record)  # ASCII JSON: the lone surrogate travels as \ud83d
    (folder / "chat.jsonl").write_text(body + "\n", encoding="utf-8")
    (folder / "note.md").write_text("The batch goes on.\n", encoding="utf-8")
    result = ingest(memory, [folder])
    assert (result.added, result.failed) == (2, [])
    assert _texts(memory) == ["The batch goes on.", "cut \\ud83d emoji"]


def _long_note(paragraphs: int) -> str:
    sentence = "We walked along the river and talked about the harvest. "
    return "\n\n".join(sentence * 16 for _ in range(paragraphs))  # ~900 characters each


def test_a_note_over_the_chunk_bound_is_not_stored_and_says_why(
    memory: Memory, tmp_path: Path
) -> None:
    folder = tmp_path / "notes"
    folder.mkdir()
    note = folder / "journal.md"
    note.write_text(_long_note(4), encoding="utf-8")
    lines = [
        json.dumps({"time": f"2024-03-08T19:{m:02d}:00Z", "sender": "Ana", "text": f"m{m}"})[:-1]
        + ', "conversation": "Notas"}'
        for m in range(12)
    ]
    (folder / "chat.jsonl").write_text("\n".join(lines) + "\n", encoding="utf-8")
    with Ingestor(memory) as ingestor:
        ingestor.max_chunks = 5
        first = ingestor.ingest([folder])
    assert (first.added, first.failed) == (2, [])  # 12 messages: histories are not bounded
    note.write_text(_long_note(9), encoding="utf-8")
    with Ingestor(memory) as ingestor:
        ingestor.max_chunks = 5
        grown = ingestor.ingest([folder])
    assert [f.path.name for f in grown.failed] == ["journal.md"]
    assert "would add 9 chunks, over the bound of 5" in grown.failed[0].reason
    assert "max_chunks_per_document" in grown.failed[0].reason
    # Not stored at all: the note keeps the 4 chunks of its last stored version.
    stored = memory.db.conn.execute("SELECT count(*) FROM episodes WHERE kind = 'note'").fetchone()[
        0
    ]
    assert stored == 4


def test_the_summary_says_why_each_file_was_skipped(memory: Memory, tmp_path: Path) -> None:
    folder = tmp_path / "mixed"
    (folder / ".git").mkdir(parents=True)
    (folder / ".git" / "HEAD").write_text("ref: refs/heads/main\n")
    (folder / "a.md").write_text("A note about plums.\n", encoding="utf-8")
    (folder / "scan.jpg").write_bytes(b"\xff\xd8\xff\xe0" + bytes(200))
    (folder / "archive.bin").write_bytes(bytes(range(256)))
    (folder / "empty.txt").touch()
    os.mkfifo(folder / "pipe.md")
    (folder / "elsewhere").symlink_to(tmp_path)
    result = ingest(memory, [folder])
    assert result.added == 1 and result.failed == []
    assert result.skipped_by_reason() == {
        NOT_A_FORMAT: 2,
        HIDDEN: 1,
        EMPTY: 1,
        NOT_REGULAR: 1,
        LINKED_FOLDER: 1,
    }
    reasons = {s.path.name: (s.reason, s.detail) for s in result.skipped}
    assert reasons["pipe.md"] == (NOT_REGULAR, "a named pipe")
    assert reasons[".git"] == (HIDDEN, "a folder, not entered")
    as_json = result.as_json()
    assert as_json["skipped_by_reason"] == result.skipped_by_reason()
    skipped = as_json["skipped"]
    assert isinstance(skipped, list)
    assert {Path(s["path"]).name for s in skipped} == set(reasons)


def test_a_stored_note_that_becomes_a_fifo_is_removed(memory: Memory, tmp_path: Path) -> None:
    folder = tmp_path / "notes"
    folder.mkdir()
    note = folder / "a.md"
    note.write_text("A note that will turn into a pipe.\n", encoding="utf-8")
    ingest(memory, [folder])
    note.unlink()
    os.mkfifo(note)
    result = ingest(memory, [folder])
    assert result.removed == 1 and _texts(memory) == []
    assert [(s.path.name, s.reason) for s in result.skipped] == [("a.md", NOT_REGULAR)]


# --- memory while embedding -----------------------------------------------------------


def test_embedding_batches_are_bounded_in_characters() -> None:
    long, short = 1000, 40
    lengths = [short] * 100 + [long] * 40
    batches = list(_batches(lengths, 64))
    assert [i for b in batches for i in b] == list(range(len(lengths)))
    assert all(len(b) <= 64 for b in batches)
    assert all(sum(lengths[i] for i in b) <= BATCH_CHARS or len(b) == 1 for b in batches)
    assert list(_batches([BATCH_CHARS * 3], 64)) == [range(0, 1)]  # alone, never dropped


def test_bounded_batches_give_the_model_s_own_vectors(memory: Memory) -> None:
    texts = [("word " * n).strip() + f" {n}" for n in (300, 2, 150, 40, 220, 7) * 8]
    model = memory.embedder._load()
    direct = model.encode_batch(texts)  # all 48 in one pass, padded to the longest
    batched = memory.embedder.encode(texts)
    assert batched.shape == direct.shape
    assert float(np.min(np.sum(batched * direct, axis=1))) > 0.9999
