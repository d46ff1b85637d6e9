"""Ingest: idempotent, replaces changed files atomically, isolates bad files."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from assistant.errors import IngestError
from assistant.ingest import ingest
from assistant.memory import Memory


def count(memory: Memory, table: str) -> int:
    return int(memory.db.conn.execute(f"SELECT count(*) FROM {table}").fetchone()[0])


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    root = tmp_path / "vault"
    write(root / "a.md", "# Alpha\n\nFirst paragraph about apples.\n\n## Beta\n\nBananas here.\n")
    write(root / "b.txt", "A plain text journal line about cherries.\n")
    write(root / "sub" / "2024-05-01.md", "Daily note about dates and figs.\n")
    write(root / ".obsidian" / "workspace.md", "Obsidian settings are not memories.\n")
    write(root / ".hidden.md", "Hidden files are skipped.\n")
    write(root / "image.png", "not a note")  # no connector: skipped inside folders
    return root


def test_first_run_adds_everything_and_second_run_nothing(memory: Memory, folder: Path) -> None:
    first = ingest(memory, [folder])
    assert (first.added, first.updated, first.unchanged, first.failed) == (3, 0, 0, [])
    episodes = count(memory, "episodes")
    assert episodes == first.chunks_added == 4
    assert count(memory, "vectors") == episodes == memory.index.count()
    texts = {r[0] for r in memory.db.conn.execute("SELECT text FROM episodes")}
    assert not any("Obsidian settings" in t or "Hidden files" in t for t in texts)

    second = ingest(memory, [folder])
    assert (second.added, second.updated, second.unchanged) == (0, 0, 3)
    assert second.chunks_added == 0
    assert count(memory, "episodes") == episodes
    assert count(memory, "vector_log") == episodes  # no new vector writes either


def test_touched_but_identical_file_is_unchanged(memory: Memory, folder: Path) -> None:
    ingest(memory, [folder])
    target = folder / "a.md"
    os.utime(target, (1_700_000_000, 1_700_000_000))
    again = ingest(memory, [folder])
    assert again.unchanged == 3 and again.chunks_added == 0


def test_changed_file_replaces_only_its_changed_chunks(memory: Memory, folder: Path) -> None:
    ingest(memory, [folder])
    ids_before = dict(memory.db.conn.execute("SELECT text, id FROM episodes").fetchall())
    write(
        folder / "a.md", "# Alpha\n\nFirst paragraph about apples.\n\n## Beta\n\nBlueberries now.\n"
    )
    result = ingest(memory, [folder])
    assert (result.added, result.updated, result.unchanged) == (0, 1, 2)
    assert (result.chunks_added, result.chunks_removed) == (1, 1)
    rows = dict(memory.db.conn.execute("SELECT text, id FROM episodes").fetchall())
    assert "Bananas here." not in rows and "Blueberries now." in rows
    # The untouched section kept its row (and its vector was not recomputed).
    assert rows["First paragraph about apples."] == ids_before["First paragraph about apples."]
    assert count(memory, "vectors") == count(memory, "episodes") == memory.index.count()
    fts = memory.db.conn.execute(
        "SELECT count(*) FROM episodes_fts WHERE episodes_fts MATCH 'bananas'"
    ).fetchone()[0]
    assert fts == 0


def test_bad_files_fail_alone(memory: Memory, folder: Path, tmp_path: Path) -> None:
    (folder / "binary.md").write_bytes(bytes(range(256)) * 8)
    write(folder / "broken.md", "---\ndate: [unclosed\n---\nbody\n")
    (folder / "dangling.md").symlink_to(tmp_path / "does-not-exist.md")
    result = ingest(memory, [folder])
    assert result.added == 3
    failed = {f.path.name: f.reason for f in result.failed}
    assert set(failed) == {"binary.md", "broken.md", "dangling.md"}
    assert "binary" in failed["binary.md"]
    assert "cannot read" in failed["dangling.md"]
    assert all(failed.values())
    refs = {r[0] for r in memory.db.conn.execute("SELECT ref FROM documents")}
    assert not any(name in ref for ref in refs for name in failed)


@pytest.mark.skipif(os.geteuid() == 0, reason="root reads files whatever their mode")
def test_unreadable_file_fails_alone(memory: Memory, folder: Path) -> None:
    locked = write(folder / "locked.md", "secret")
    locked.chmod(0)
    try:
        result = ingest(memory, [folder])
    finally:
        locked.chmod(0o600)
    assert [f.path.name for f in result.failed] == ["locked.md"]
    assert result.added == 3


def test_a_failed_write_leaves_no_half_written_file(
    memory: Memory, folder: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from assistant import documents as documents_mod

    real = documents_mod._insert_episode

    def flaky(conn, document_id, connector, item, identity, now, *context):
        if item.title == "Alpha > Beta":  # second chunk of a.md
            raise RuntimeError("disk full")
        return real(conn, document_id, connector, item, identity, now, *context)

    monkeypatch.setattr(documents_mod, "_insert_episode", flaky)
    result = ingest(memory, [folder])
    assert [f.path.name for f in result.failed] == ["a.md"]
    assert "disk full" in result.failed[0].reason
    refs = [r[0] for r in memory.db.conn.execute("SELECT ref FROM documents")]
    assert not any(ref.endswith("a.md") for ref in refs)
    texts = {r[0] for r in memory.db.conn.execute("SELECT text FROM episodes")}
    assert "First paragraph about apples." not in texts  # the first chunk was rolled back
    assert count(memory, "vectors") == count(memory, "episodes") == memory.index.count() == 2

    monkeypatch.setattr(documents_mod, "_insert_episode", real)
    retry = ingest(memory, [folder])
    assert retry.added == 1 and retry.failed == []


def test_explicit_unsupported_file_is_reported(memory: Memory, folder: Path) -> None:
    result = ingest(memory, [folder / "image.png"])
    assert [f.reason for f in result.failed] == ["no connector reads image.png"]


def test_missing_path_is_an_error(memory: Memory, tmp_path: Path) -> None:
    with pytest.raises(IngestError, match="no such file"):
        ingest(memory, [tmp_path / "nope"])
    assert count(memory, "sources") == 0


def test_sources_and_provenance_recorded(memory: Memory, folder: Path) -> None:
    ingest(memory, [folder])
    roots = [r[0] for r in memory.db.conn.execute("SELECT root FROM sources")]
    assert roots == [str(folder.resolve())]
    row = memory.db.conn.execute(
        "SELECT author, connector, trust, kind, content_hash, time FROM episodes "
        "WHERE text LIKE 'Daily note%'"
    ).fetchone()
    assert row[:4] == ("self", "markdown", "user_file", "note")
    assert len(row[4]) == 64
    assert row[5].startswith("2024-05-01")  # date from the file name


def test_survives_close_and_reopen(memory: Memory, folder: Path, secrets) -> None:
    from assistant import config as config_mod

    ingest(memory, [folder])
    memory.close()
    again = Memory.open(memory.paths, config_mod.load(memory.paths.config_file), secrets)
    try:
        assert again.open_index().how == "restored"
        assert again.index.count() == 4
        assert ingest(again, [folder]).unchanged == 3
    finally:
        again.close()
    memory.close = lambda: None  # type: ignore[method-assign]  # already closed above


def test_changing_the_model_setting_is_refused_clearly(
    memory: Memory, folder: Path, secrets, monkeypatch: pytest.MonkeyPatch
) -> None:
    from assistant import config as config_mod
    from assistant.errors import ModelError

    ingest(memory, [folder])
    memory.close()
    monkeypatch.setenv("SECONDSELF_EMBEDDING_MODEL", "sentence-transformers/other-model")
    other = Memory.open(memory.paths, config_mod.load(memory.paths.config_file), secrets)
    try:
        with pytest.raises(ModelError, match="packaged:all-MiniLM-L6-v2"):
            ingest(other, [folder])
        assert count(other, "episodes") == 4  # nothing lost or changed
    finally:
        other.close()
    memory.close = lambda: None  # type: ignore[method-assign]  # already closed above


def test_a_crashing_connector_fails_only_its_file(memory: Memory, folder: Path) -> None:
    from datetime import datetime

    from assistant.ingest import Ingestor
    from connectors import Item
    from connectors.markdown import MarkdownConnector

    class Fragile(MarkdownConnector):
        def parse(self, path: Path, data: bytes, mtime: datetime) -> list[Item]:
            if path.name == "a.md":
                raise ZeroDivisionError("bug in a plugin")
            return super().parse(path, data, mtime)

    from connectors.sandbox import InProcessParser

    fragile = Fragile()
    with Ingestor(memory, parser=InProcessParser(), connectors=[fragile]) as ingestor:
        result = ingestor.ingest([folder])
    assert [(f.path.name, "ZeroDivisionError" in f.reason) for f in result.failed] == [
        ("a.md", True)
    ]
    assert result.added == 1  # the other Markdown note


def test_a_chat_message_leans_towards_the_one_it_answers(memory: Memory, tmp_path: Path) -> None:
    """A reply's vector is its own plus half of the message before it in its
    conversation (`CONTEXT_WEIGHT`); a note's, and a conversation's first message's, is
    its own. Then a question about the puppy's name finds the reply that holds it."""
    import numpy as np

    from assistant.ingest import CONTEXT_WEIGHT
    from tests.conftest import chat_folder

    chat_folder(tmp_path / "chat", "Bia", [
        ("2024-05-01T10:00:00+00:00", "Bia", "What did you end up naming the new puppy?"),
        ("2024-05-01T10:01:00+00:00", "Rui", "Biscuit!! She already chewed my shoes"),
    ])  # fmt: skip
    (tmp_path / "chat" / "note.md").write_text("# Shoes\n\nBuy new running shoes.\n")
    ingest(memory, [tmp_path / "chat"])
    stored = {
        text: np.frombuffer(vector, dtype="<f4")
        for text, vector in memory.db.conn.execute(
            "SELECT e.text, v.vector FROM episodes e JOIN vectors v ON v.episode_id = e.id"
        )
    }
    ask, reply = ("What did you end up naming the new puppy?",
                  "Biscuit!! She already chewed my shoes")  # fmt: skip
    own = memory.embedder.encode(["Bia: " + ask, "Rui: " + reply, "Shoes\nBuy new running shoes."])
    assert np.allclose(stored[ask], own[0], atol=1e-5)  # the first: its own
    leaning = own[1] + CONTEXT_WEIGHT * own[0]
    assert np.allclose(stored[reply], leaning / np.linalg.norm(leaning), atol=1e-5)
    assert np.allclose(stored["Buy new running shoes."], own[2], atol=1e-5)  # not a message
    query = memory.embedder.encode(["what is the name of the puppy"])[0]
    assert float(stored[reply] @ query) > float(own[1] @ query)  # nearer than on its own
