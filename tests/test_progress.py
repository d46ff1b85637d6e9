"""One shape of progress and one way to stop: a cancelled ingest, sync, reflection,
index rebuild or integrity check keeps what it finished, leaves nothing half-written,
and the next run carries on."""

from __future__ import annotations

import pickle
import threading
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

import assistant.ingest as ingest_mod
from assistant import config as config_mod
from assistant import paths as paths_mod
from assistant.errors import USER_ERRORS
from assistant.identity import add_identity
from assistant.ingest import READING
from assistant.memory import Memory
from assistant.paths import Paths
from assistant.reflection.builtin import BuiltinEngine
from assistant.service.core import Service
from assistant.vault import Secrets, create_vault
from store.integrity import AUTH_STAGE, STRUCTURE_STAGE, check_database
from store.progress import Cancel, Cancelled, relabel
from store.vectors import REBUILD_STAGE
from tests.test_reflect import STORY, write_chat

pytestmark = pytest.mark.slow

Call = tuple[str, int, int | None]


class Recorder:
    """A progress listener that records every report and can cancel at a chosen one."""

    def __init__(self, cancel: Cancel | None = None, at: int | None = None) -> None:
        self.calls: list[Call] = []
        self.cancel, self.at = cancel, at

    def __call__(self, stage: str, done: int, total: int | None) -> None:
        self.calls.append((stage, done, total))
        if self.cancel is not None and done == self.at:
            self.cancel.cancel()


def notes(folder: Path, n: int) -> Path:
    folder.mkdir()
    for i in range(n):
        (folder / f"note-{i:02d}.md").write_text(f"# Note {i}\n\nThe number {i} is written here.\n")
    return folder


def consistent(memory: Memory) -> dict[str, int]:
    """Counts of what is stored, after checking that every part agrees with the rest."""
    conn = memory.db.conn

    def count(sql: str) -> int:
        return int(conn.execute(sql).fetchone()[0])

    found = {
        "documents": count("SELECT count(*) FROM documents"),
        "episodes": count("SELECT count(*) FROM episodes"),
        "vectors": count("SELECT count(*) FROM vectors"),
    }
    # No document without its chunks, no chunk without its vector, the index in step.
    assert count("SELECT count(*) FROM documents d WHERE NOT EXISTS "
                 "(SELECT 1 FROM episodes e WHERE e.document_id = d.id)") == 0  # fmt: skip
    assert found["episodes"] == found["vectors"] == memory.index.count()
    return found


def test_the_token_and_its_error() -> None:
    cancel = Cancel()
    assert not cancel.cancelled
    cancel.check("sync")  # nothing asked: no error
    threading.Thread(target=cancel.cancel).start()
    event = threading.Event()
    wrapped = Cancel(event)  # the daemon's own event, set when it locks
    event.set()
    with pytest.raises(Cancelled) as caught:
        wrapped.check("sync")
    message = str(caught.value)
    assert message.startswith("sync cancelled:") and "nothing half-written" in message
    assert isinstance(caught.value, USER_ERRORS)  # one line from `main()`, no traceback
    assert caught.value.exit_code == 130
    assert str(pickle.loads(pickle.dumps(caught.value))) == message
    calls: list[Call] = []
    shown = relabel(lambda *call: calls.append(call), "Purging every copy")
    assert shown is not None and relabel(None, "x") is None
    shown("Rebuilding the vector index", 1, 2)
    assert calls == [("Purging every copy", 1, 2)]


def test_a_cancelled_sync_keeps_committed_files_and_the_next_finishes(
    memory: Memory, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(ingest_mod, "EMBED_BATCH", 1)  # every file commits on its own
    service = Service(memory)
    folder = notes(tmp_path / "notes", 12)
    source = service.add_source(folder)
    cancel = Cancel()
    progress = Recorder(cancel, at=4)
    with pytest.raises(Cancelled, match="sync cancelled"):
        service.sync(progress=progress, cancel=cancel)
    assert [c[1] for c in progress.calls] == [1, 2, 3, 4]  # stopped at the next file
    assert all(stage.startswith(f"{READING} note-") and total is None
               for stage, _, total in progress.calls)  # fmt: skip
    kept = consistent(memory)
    assert kept == {"documents": 4, "episodes": 4, "vectors": 4}
    assert service.sources()[0].last_sync_at is None  # a sync cut short is not a sync

    finished = service.sync(progress=Recorder())
    summary = finished.sources[0].summary
    assert (summary.added, summary.unchanged, summary.removed) == (8, 4, 0)
    assert consistent(memory) == {"documents": 12, "episodes": 12, "vectors": 12}
    assert service.sources()[0].last_sync_at is not None
    assert service.source_for(folder / "note-03.md") == source.id


def test_a_cancel_before_a_batch_is_written_drops_it_whole(memory: Memory, tmp_path: Path) -> None:
    """With the default batch, nothing commits before the walk ends: a cancel leaves no
    trace at all, and nothing already stored is taken for a vanished file."""
    service = Service(memory)
    folder = notes(tmp_path / "notes", 6)
    service.ingest([folder / "note-00.md"])
    cancel = Cancel()
    with pytest.raises(Cancelled):
        service.ingest([folder], Recorder(cancel, at=3), cancel)
    assert consistent(memory) == {"documents": 1, "episodes": 1, "vectors": 1}
    assert service.ingest([folder]).added == 5


def story_vault(home: Path, secrets: Secrets, tmp_path: Path) -> Memory:
    """A vault holding the STORY chat, reflected on in batches of three."""
    paths = paths_mod.resolve(home)
    create_vault(paths, secrets, mode="passphrase")
    memory = Memory.open(paths, config_mod.load(paths.config_file), secrets)
    memory.config = replace(memory.config, reflection=replace(memory.config.reflection, batch=3))
    add_identity(memory.db, "name", "Me")
    Service(memory).ingest([write_chat(tmp_path / f"{home.name}-chat", STORY)])
    return memory


def what_was_learned(memory: Memory) -> dict[str, Any]:
    conn = memory.db.conn
    service = Service(memory)
    return {
        "facts": sorted(
            (f.person, f.attribute, f.value, f.valid_from, f.valid_to, f.status)
            for f in service.facts(include_closed=True)
        ),
        "thoughts": sorted((t.text, t.status) for t in service.thoughts(include_all=True)),
        "links": sorted(
            conn.execute("SELECT src_kind, src_id, dst_kind, dst_id, label FROM links").fetchall()
        ),  # fmt: skip
        "pending": service.pending_reflection(),
    }


def test_a_cancelled_reflection_resumes_to_the_same_memory(
    secrets: Secrets, tmp_path: Path
) -> None:
    stopped = story_vault(tmp_path / "stopped", secrets, tmp_path)
    reference = story_vault(tmp_path / "reference", secrets, tmp_path)
    try:
        cancel = Cancel()
        progress = Recorder(cancel, at=3)
        with pytest.raises(Cancelled, match="reflection cancelled"):
            Service(stopped).reflect(BuiltinEngine(), progress=progress, cancel=cancel)
        assert progress.calls == [("Reflecting (builtin)", 3, len(STORY))]
        assert Service(stopped).pending_reflection() == len(STORY) - 3  # one batch, whole
        resumed = Service(stopped).reflect(BuiltinEngine())
        assert resumed.episodes == len(STORY) - 3 and resumed.left == 0

        whole = Recorder()
        Service(reference).reflect(BuiltinEngine(), progress=whole)
        assert [c[1] for c in whole.calls] == [3, 6, 9, 11]
        assert {(c[0], c[2]) for c in whole.calls} == {("Reflecting (builtin)", len(STORY))}
        learned = what_was_learned(stopped)
        assert learned["facts"] and learned["thoughts"] and learned["links"]
        assert learned == what_was_learned(reference)
    finally:
        stopped.close()
        reference.close()


def test_a_cancelled_rebuild_leaves_nothing_and_the_next_open_rebuilds(
    memory: Memory, vault: Paths, secrets: Secrets, tmp_path: Path
) -> None:
    Service(memory).ingest([notes(tmp_path / "notes", 3)])
    memory.close()
    vault.snapshot.unlink()
    config = config_mod.load(vault.config_file)
    cancel = Cancel()
    cancel.cancel()
    with pytest.raises(Cancelled):
        Memory.open(vault, config, secrets, cancel=cancel)
    assert not vault.vector_dir.exists()  # no plaintext copy left behind
    heard = Recorder()
    with Memory.open(vault, config, secrets, progress=heard) as again:
        assert again.open_index().how == "rebuilt" and again.index.count() == 3
    assert (REBUILD_STAGE, 3, 3) in heard.calls
    assert {c[0] for c in heard.calls} >= {AUTH_STAGE, STRUCTURE_STAGE}  # the forced check


def test_a_cancelled_integrity_check_is_not_damage(memory: Memory, tmp_path: Path) -> None:
    Service(memory).ingest([notes(tmp_path / "notes", 20)])
    cancel = Cancel()

    def stop_in_structure(stage: str, done: int, total: int | None) -> None:
        if stage == STRUCTURE_STAGE:
            cancel.cancel()

    with pytest.raises(Cancelled, match="integrity check cancelled"):
        check_database(memory.db.conn, memory.db.path, stop_in_structure, cancel)
    result = check_database(memory.db.conn, memory.db.path)
    assert result.ok
