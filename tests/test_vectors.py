"""The sealed vector index (store/vectors.py) through `Memory.open`: replay, seal, restore,
crash recovery, damaged snapshots and time filters.

No embedding model is loaded: vectors are deterministic random unit vectors written
straight into the `vectors` table, exactly as ingest would store them.
"""

from __future__ import annotations

import os
import shutil
import stat
import struct
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import numpy as np
import pytest

import store.vectors as vectors_mod
from assistant import config as config_mod
from assistant import paths as paths_mod
from assistant.keys import VaultKeys
from assistant.memory import Memory
from assistant.paths import Paths
from assistant.vault import Secrets, create_vault, unlock
from store.database import open_database
from store.errors import DatabaseDamagedError
from store.guard import Fingerprint, Stamp, write_stamp
from store.progress import Progress
from store.sealing import SEGMENT, read_header
from store.vectors import exact_nearest, time_clause
from tests.test_database import filled, flip_page
from tests.test_sealing import header_end

DIM = 384
DAY = 86_400.0
BASE = 1_700_000_000.0  # 2023-11-14
NOW = "2024-05-01T12:00:00+00:00"


def unit_vectors(n: int, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    vecs = rng.standard_normal((n, DIM)).astype(np.float32)
    return vecs / np.linalg.norm(vecs, axis=1, keepdims=True)


def add_rows(memory: Memory, vecs: np.ndarray, times: list[float] | None = None) -> list[int]:
    """Insert one document with an episode + vector per row; returns the episode ids."""
    times = times if times is not None else [BASE + i * DAY for i in range(len(vecs))]
    ref = f"/notes/{uuid.uuid4().hex}.md"
    ids = []
    with memory.db.write() as conn:
        doc = conn.execute(
            "INSERT INTO documents(ref, connector, content_hash, ingested_at, updated_at) "
            "VALUES (?, 'markdown', 'h', ?, ?)",
            (ref, NOW, NOW),
        ).lastrowid
        for i, (vec, t) in enumerate(zip(vecs, times, strict=True)):
            ep = conn.execute(
                "INSERT INTO episodes(document_id, source_ref, kind, text, time, time_unix, "
                "author, content_hash, connector, ingested_at) "
                "VALUES (?, ?, 'note', ?, ?, ?, 'self', ?, 'markdown', ?)",
                (doc, f"{ref}#{i}", f"episode {i}", NOW, t, f"hash{i}", NOW),
            ).lastrowid
            conn.execute(
                "INSERT INTO vectors(episode_id, model, dim, vector) VALUES (?, 'test', ?, ?)",
                (ep, DIM, np.asarray(vec, dtype="<f4").tobytes()),
            )
            assert ep is not None
            ids.append(ep)
    return ids


def delete_episode(memory: Memory, episode_id: int) -> None:
    with memory.db.write() as conn:
        conn.execute("DELETE FROM episodes WHERE id = ?", (episode_id,))


def db_vector_count(memory: Memory) -> int:
    return int(memory.db.conn.execute("SELECT count(*) FROM vectors").fetchone()[0])


def assert_top_hits(memory: Memory, ids: list[int], vecs: np.ndarray) -> None:
    """Each vector finds its own episode first, with cosine similarity ~1."""
    for ep, vec in zip(ids, vecs, strict=True):
        hits = memory.index.query(vec, 3)
        assert hits[0][0] == ep
        assert hits[0][1] == pytest.approx(1.0, abs=1e-3)
        if len(hits) > 1:  # random unit vectors in 384-d are nearly orthogonal
            assert hits[1][1] < 0.5


def crash(memory: Memory) -> None:
    """Release what the process would lose when killed, without sealing or cleaning."""
    memory.index._stop_client()
    memory.db.conn.close()
    memory._lock.release()


@pytest.fixture
def keys(vault: Paths, secrets: Secrets) -> VaultKeys:
    return unlock(vault, secrets)


Opener = Callable[..., Memory]


def rebuild_progress(calls: list[tuple[int, int | None]]) -> Progress:
    """Records the index rebuild's reports (opening also reports its integrity check)."""

    def progress(stage: str, done: int, total: int | None) -> None:
        if stage == vectors_mod.REBUILD_STAGE:
            calls.append((done, total))

    return progress


@pytest.fixture
def open_memory(vault: Paths, secrets: Secrets, keys: VaultKeys) -> Iterator[Opener]:
    """Opens the vault (first time through the passphrase); closes leftovers at teardown."""
    opened: list[Memory] = []
    first = [True]

    def _open(progress: Progress | None = None) -> Memory:
        config = config_mod.load(vault.config_file)
        if first[0]:
            first[0] = False
            mem = Memory.open(vault, config, secrets, progress=progress)
        else:
            mem = Memory.open(vault, config, secrets, progress=progress, keys=keys)
        opened.append(mem)
        return mem

    yield _open
    for mem in opened:
        if mem.index._client is not None:  # neither closed nor crashed
            mem.close()


def close(memory: Memory) -> None:
    memory.close()
    assert memory.index._client is None


def raw_log_seqs(vault: Paths, keys: VaultKeys) -> list[int]:
    db = open_database(vault.database, keys.database)
    try:
        return [r[0] for r in db.conn.execute("SELECT seq FROM vector_log ORDER BY seq")]
    finally:
        db.close()


def sealed(
    vault: Paths, keys: VaultKeys, open_memory: Opener, n: int = 40, seed: int = 1
) -> tuple[list[int], np.ndarray]:
    """A vault whose index holds `n` vectors and has been sealed and closed."""
    mem = open_memory()
    vecs = unit_vectors(n, seed)
    ids = add_rows(mem, vecs)
    assert mem.index.replay() == n
    close(mem)
    assert vault.snapshot.exists()
    return ids, vecs


# -- replay and query -------------------------------------------------------------------


def test_fresh_vault_opens_empty(open_memory: Opener, vault: Paths) -> None:
    mem = open_memory()
    assert mem.open_index().how == "empty"
    assert mem.index.count() == 0
    assert mem.index.query(unit_vectors(1, 0)[0], 5) == []
    assert mem.paths.vector_dir.is_dir()
    close(mem)
    assert not vault.snapshot.exists()  # nothing changed, nothing sealed
    assert not vault.vector_dir.exists()


def test_replay_then_query_finds_exact_vector(open_memory: Opener) -> None:
    mem = open_memory()
    vecs = unit_vectors(50, seed=11)
    ids = add_rows(mem, vecs)
    assert mem.index.count() == 0  # nothing reaches the index before replay
    assert mem.index.replay() == 50
    assert mem.index.replay() == 0  # nothing new
    assert mem.index.count() == 50
    assert_top_hits(mem, ids, vecs)
    hits = mem.index.query(vecs[7], 10)
    assert len(hits) == 10
    sims = [s for _, s in hits]
    assert sims == sorted(sims, reverse=True)
    assert len({i for i, _ in hits}) == 10
    # A query mixing two stored vectors finds both on top.
    mix = vecs[3] + vecs[4]
    top2 = {i for i, _ in mem.index.query(mix / np.linalg.norm(mix), 2)}
    assert top2 == {ids[3], ids[4]}
    # More results asked than stored: all of them.
    assert len(mem.index.query(vecs[0], 500)) == 50


def test_index_keeps_time_metadata(open_memory: Opener) -> None:
    mem = open_memory()
    vecs = unit_vectors(3, seed=5)
    times = [BASE, BASE + 1.5, BASE + 10 * DAY]
    ids = add_rows(mem, vecs, times)
    mem.index.replay()
    got = mem.index._col.get(ids=[str(i) for i in ids], include=["metadatas"])
    by_id = dict(zip(got["ids"], got["metadatas"], strict=True))
    assert by_id == {str(i): {"t": t} for i, t in zip(ids, times, strict=True)}


def test_close_seals_and_removes_runtime_copy(
    open_memory: Opener, vault: Paths, keys: VaultKeys
) -> None:
    mem = open_memory()
    vecs = unit_vectors(30, seed=2)
    add_rows(mem, vecs)
    mem.index.replay()
    top_seq = mem.db.conn.execute("SELECT max(seq) FROM vector_log").fetchone()[0]
    assert vault.vector_dir.is_dir() and any(vault.vector_dir.iterdir())
    close(mem)
    assert not vault.vector_dir.exists()
    assert not vault.runtime.exists()  # the emptied runtime folder is removed too
    assert vault.snapshot.exists()
    assert not vault.snapshot.with_name(vault.snapshot.name + ".tmp").exists()
    assert vault.snapshot.stat().st_mode & 0o777 == 0o600
    header = read_header(vault.snapshot)
    assert header["seq"] == top_seq
    # The snapshot is encrypted: no stored vector appears in it.
    blob = vault.snapshot.read_bytes()
    for vec in vecs[:5]:
        assert vec.astype("<f4").tobytes()[:64] not in blob
    db = open_database(vault.database, keys.database)
    try:
        assert db.get_meta("snapshot_id") == header["id"]
    finally:
        db.close()


def test_log_pruned_after_seal(open_memory: Opener, vault: Paths, keys: VaultKeys) -> None:
    mem = open_memory()
    add_rows(mem, unit_vectors(10, seed=3))
    mem.index.replay()
    add_rows(mem, unit_vectors(4, seed=4))  # logged but not yet in the index
    applied = mem.index.applied_seq
    mem.index.seal()
    header = read_header(vault.snapshot)
    assert header["seq"] == applied
    seqs = [r[0] for r in mem.db.conn.execute("SELECT seq FROM vector_log")]
    assert len(seqs) == 4 and min(seqs) > applied  # what the snapshot lacks is kept
    # The client was restarted: the index still answers and can take the rest.
    assert mem.index.count() == 10
    assert mem.index.replay() == 4
    assert mem.index.count() == 14
    close(mem)
    sealed_seq = read_header(vault.snapshot)["seq"]
    assert sealed_seq > applied
    assert [s for s in raw_log_seqs(vault, keys) if s <= sealed_seq] == []


def test_logged_but_unreplayed_rows_are_picked_up_at_next_open(
    open_memory: Opener, vault: Paths, keys: VaultKeys
) -> None:
    ids, vecs = sealed(vault, keys, open_memory, n=10)
    mem = open_memory()
    more_vecs = unit_vectors(5, seed=99)
    more_ids = add_rows(mem, more_vecs)  # no replay before close
    close(mem)
    mem = open_memory()
    assert mem.open_index().how == "restored"
    assert mem.open_index().replayed == 5
    assert mem.index.count() == 15
    assert_top_hits(mem, ids + more_ids, np.vstack([vecs, more_vecs]))


# -- restore and crash recovery -----------------------------------------------------------


def test_reopen_restores_snapshot(open_memory: Opener, vault: Paths, keys: VaultKeys) -> None:
    ids, vecs = sealed(vault, keys, open_memory)
    before = vault.snapshot.read_bytes()
    mem = open_memory()
    report = mem.open_index()
    assert report.how == "restored"
    assert report.replayed == 0
    assert report.vectors == 40 == mem.index.count() == db_vector_count(mem)
    assert_top_hits(mem, ids, vecs)
    close(mem)
    # Nothing changed: the snapshot was not rewritten.
    assert vault.snapshot.read_bytes() == before
    assert not vault.vector_dir.exists()


def test_crash_restores_old_snapshot_and_replays_log(
    open_memory: Opener, vault: Paths, keys: VaultKeys
) -> None:
    ids, vecs = sealed(vault, keys, open_memory, n=30)
    old_snapshot = vault.snapshot.read_bytes()
    mem = open_memory()
    assert mem.open_index().how == "restored"
    new_vecs = unit_vectors(12, seed=42)
    new_ids = add_rows(mem, new_vecs)
    assert mem.index.replay() == 12
    crash(mem)
    # The crash left the snapshot as it was and the plaintext runtime copy behind.
    assert vault.snapshot.read_bytes() == old_snapshot
    assert vault.vector_dir.exists()

    mem = open_memory()
    report = mem.open_index()
    assert report.how == "restored"
    assert report.replayed == 12
    assert report.vectors == 42 == mem.index.count() == db_vector_count(mem)
    assert_top_hits(mem, ids + new_ids, np.vstack([vecs, new_vecs]))
    close(mem)

    # The replayed state was sealed on close: the next open has nothing to replay.
    mem = open_memory()
    assert mem.open_index().how == "restored"
    assert mem.open_index().replayed == 0
    assert mem.index.count() == 42


def test_crash_twice_replays_again(open_memory: Opener, vault: Paths, keys: VaultKeys) -> None:
    ids, vecs = sealed(vault, keys, open_memory, n=10)
    mem = open_memory()
    new_ids = add_rows(mem, unit_vectors(3, seed=8))
    mem.index.replay()
    crash(mem)
    mem = open_memory()
    assert mem.open_index().replayed == 3
    crash(mem)  # crashed again before sealing the replayed state
    mem = open_memory()
    assert mem.open_index().how == "restored"
    assert mem.open_index().replayed == 3
    assert mem.index.count() == 13
    assert {i for i, _ in mem.index.query(vecs[0], 13)} == set(ids + new_ids)


def test_deletion_is_reflected_after_replay(
    open_memory: Opener, vault: Paths, keys: VaultKeys
) -> None:
    mem = open_memory()
    vecs = unit_vectors(20, seed=6)
    ids = add_rows(mem, vecs)
    mem.index.replay()
    gone = ids[5]
    delete_episode(mem, gone)
    assert mem.index.replay() == 1
    assert mem.index.count() == 19 == db_vector_count(mem)
    assert gone not in [i for i, _ in mem.index.query(vecs[5], 19)]
    close(mem)

    mem = open_memory()
    assert mem.open_index().how == "restored"
    assert mem.index.count() == 19
    assert gone not in [i for i, _ in mem.index.query(vecs[5], 19)]
    assert_top_hits(mem, ids[:5] + ids[6:], np.vstack([vecs[:5], vecs[6:]]))


def test_deletion_and_readd_in_one_replay(open_memory: Opener) -> None:
    """Only the last operation per episode counts."""
    mem = open_memory()
    vecs = unit_vectors(6, seed=12)
    ids = add_rows(mem, vecs)
    mem.index.replay()
    with mem.db.write() as conn:
        conn.execute("DELETE FROM vectors WHERE episode_id = ?", (ids[0],))
        conn.execute(
            "INSERT INTO vectors(episode_id, model, dim, vector) VALUES (?, 'test', ?, ?)",
            (ids[0], DIM, vecs[1].astype("<f4").tobytes()),  # now points like ids[1]
        )
        conn.execute("DELETE FROM episodes WHERE id = ?", (ids[2],))
    assert mem.index.replay() == 2
    assert mem.index.count() == 5
    top2 = {i for i, _ in mem.index.query(vecs[1], 2)}
    assert top2 == {ids[0], ids[1]}
    assert ids[2] not in [i for i, _ in mem.index.query(vecs[2], 5)]


def test_deletion_after_crash_is_replayed(
    open_memory: Opener, vault: Paths, keys: VaultKeys
) -> None:
    ids, vecs = sealed(vault, keys, open_memory, n=15)
    mem = open_memory()
    delete_episode(mem, ids[0])
    delete_episode(mem, ids[14])
    crash(mem)
    mem = open_memory()
    assert mem.open_index().how == "restored"
    assert mem.open_index().replayed == 2
    assert mem.index.count() == 13 == db_vector_count(mem)
    returned = {i for i, _ in mem.index.query(vecs[0], 15)}
    assert returned == set(ids[1:14])


# -- unusable snapshots: rebuilt from the database ---------------------------------------


def _runtime_leftovers(vault: Paths) -> list[Path]:
    return sorted(vault.runtime.iterdir()) if vault.runtime.exists() else []


def _assert_rebuilt(
    mem: Memory, ids: list[int], vecs: np.ndarray, total: int | None = None
) -> None:
    report = mem.open_index()
    assert report.how == "rebuilt"
    assert report.reason
    assert report.replayed == 0
    expected = len(ids) if total is None else total
    assert report.vectors == expected == mem.index.count() == db_vector_count(mem)
    assert_top_hits(mem, ids, vecs)


def test_damaged_snapshot_is_rebuilt(open_memory: Opener, vault: Paths, keys: VaultKeys) -> None:
    ids, vecs = sealed(vault, keys, open_memory, n=40)
    blob = bytearray(vault.snapshot.read_bytes())
    blob[len(blob) // 2] ^= 0x01
    vault.snapshot.write_bytes(bytes(blob))
    calls: list[tuple[int, int | None]] = []
    mem = open_memory(progress=rebuild_progress(calls))
    _assert_rebuilt(mem, ids, vecs)
    assert calls and calls[-1] == (40, 40)
    close(mem)
    # The rebuilt index was sealed afresh and restores next time.
    mem = open_memory()
    assert mem.open_index().how == "restored"
    assert_top_hits(mem, ids, vecs)


def _sealed_multi_segment(
    vault: Paths, keys: VaultKeys, open_memory: Opener
) -> tuple[list[int], np.ndarray, bytes]:
    """A sealed index big enough for several 1 MiB segments."""
    ids, vecs = sealed(vault, keys, open_memory, n=800, seed=31)
    blob = vault.snapshot.read_bytes()
    assert len(blob) > 2 * SEGMENT
    return ids, vecs, blob


def _last_segment_offset(blob: bytes) -> int:
    pos = header_end(blob)
    while True:
        (size,) = struct.unpack(">I", blob[pos : pos + 4])
        if pos + 4 + size == len(blob):
            return pos
        pos += 4 + size


@pytest.mark.parametrize("damage", ["flip-last-segment", "drop-last-segment", "append"])
def test_damage_in_a_later_segment_is_rebuilt(
    open_memory: Opener, vault: Paths, keys: VaultKeys, damage: str
) -> None:
    """Earlier segments authenticate and are extracted before the damage is met."""
    ids, vecs, blob = _sealed_multi_segment(vault, keys, open_memory)
    if damage == "flip-last-segment":
        damaged = bytearray(blob)
        damaged[-100] ^= 0x01
        blob = bytes(damaged)
    elif damage == "drop-last-segment":
        blob = blob[: _last_segment_offset(blob)]
    else:
        blob += b"\x00" * 16
    vault.snapshot.write_bytes(blob)
    mem = open_memory()
    _assert_rebuilt(mem, ids[::40], vecs[::40], total=800)


def test_damaged_snapshot_leaves_no_plaintext_in_runtime(
    open_memory: Opener, vault: Paths, keys: VaultKeys
) -> None:
    _, _, blob = _sealed_multi_segment(vault, keys, open_memory)
    damaged = bytearray(blob)
    damaged[-100] ^= 0x01
    vault.snapshot.write_bytes(bytes(damaged))
    mem = open_memory()
    assert mem.open_index().how == "rebuilt"
    assert _runtime_leftovers(vault) == [vault.vector_dir]
    close(mem)
    assert not vault.runtime.exists()


@pytest.mark.parametrize("cut", ["half", "last-byte", "header-only"])
def test_truncated_snapshot_is_rebuilt(
    open_memory: Opener, vault: Paths, keys: VaultKeys, cut: str
) -> None:
    ids, vecs = sealed(vault, keys, open_memory, n=25)
    blob = vault.snapshot.read_bytes()
    size = {"half": len(blob) // 2, "last-byte": len(blob) - 1, "header-only": 200}[cut]
    vault.snapshot.write_bytes(blob[:size])
    mem = open_memory()
    _assert_rebuilt(mem, ids, vecs)


def test_snapshot_of_another_vault_is_rebuilt(
    open_memory: Opener, vault: Paths, keys: VaultKeys, secrets: Secrets, tmp_path: Path
) -> None:
    ids, vecs = sealed(vault, keys, open_memory, n=20)
    other_paths = paths_mod.resolve(tmp_path / "other-home")
    create_vault(other_paths, secrets, mode="passphrase")
    other = Memory.open(other_paths, config_mod.load(other_paths.config_file), secrets)
    try:
        add_rows(other, unit_vectors(20, seed=1))  # even the same vectors
        other.index.replay()
    finally:
        other.close()
    shutil.copyfile(other_paths.snapshot, vault.snapshot)
    mem = open_memory()
    _assert_rebuilt(mem, ids, vecs)
    assert "snapshot" in mem.open_index().reason


def test_stale_snapshot_of_this_vault_is_rebuilt(
    open_memory: Opener, vault: Paths, keys: VaultKeys
) -> None:
    """An older snapshot would miss log entries that were pruned since: never restored."""
    ids, vecs = sealed(vault, keys, open_memory, n=10)
    old = vault.snapshot.read_bytes()
    mem = open_memory()
    delete_episode(mem, ids[0])
    more_vecs = unit_vectors(5, seed=77)
    more_ids = add_rows(mem, more_vecs)
    mem.index.replay()
    close(mem)  # seals and prunes the log
    assert raw_log_seqs(vault, keys) == []
    vault.snapshot.write_bytes(old)
    mem = open_memory()
    _assert_rebuilt(mem, ids[1:] + more_ids, np.vstack([vecs[1:], more_vecs]))
    assert "snapshot" in mem.open_index().reason
    assert ids[0] not in [i for i, _ in mem.index.query(vecs[0], 20)]


def test_deleted_snapshot_is_rebuilt(open_memory: Opener, vault: Paths, keys: VaultKeys) -> None:
    ids, vecs = sealed(vault, keys, open_memory, n=12)
    vault.snapshot.unlink()
    mem = open_memory()
    _assert_rebuilt(mem, ids, vecs)
    close(mem)
    assert vault.snapshot.exists()


def test_rebuild_reports_progress(
    open_memory: Opener, vault: Paths, keys: VaultKeys, monkeypatch: pytest.MonkeyPatch
) -> None:
    ids, vecs = sealed(vault, keys, open_memory, n=30)
    vault.snapshot.unlink()
    monkeypatch.setattr(vectors_mod, "REBUILD_BATCH", 7)
    calls: list[tuple[int, int | None]] = []
    mem = open_memory(progress=rebuild_progress(calls))
    assert mem.open_index().how == "rebuilt"
    assert calls == [(7, 30), (14, 30), (21, 30), (28, 30), (30, 30)]
    assert mem.index.count() == 30
    assert_top_hits(mem, ids, vecs)


def test_no_progress_when_restored(open_memory: Opener, vault: Paths, keys: VaultKeys) -> None:
    sealed(vault, keys, open_memory, n=5)
    calls: list[tuple[int, int | None]] = []
    mem = open_memory(progress=rebuild_progress(calls))
    assert mem.open_index().how == "restored"
    assert calls == []


def test_index_out_of_step_with_database_is_rebuilt(
    open_memory: Opener, vault: Paths, keys: VaultKeys
) -> None:
    """Vectors changed behind the log's back (log pruned): counts differ, so rebuild."""
    ids, vecs = sealed(vault, keys, open_memory, n=10)
    db = open_database(vault.database, keys.database)
    try:
        with db.write() as conn:
            conn.execute("DELETE FROM episodes WHERE id = ?", (ids[0],))
            conn.execute("DELETE FROM vector_log")
    finally:
        db.close()
    mem = open_memory()
    _assert_rebuilt(mem, ids[1:], vecs[1:])


# -- time filters -------------------------------------------------------------------------


def test_time_filters(open_memory: Opener) -> None:
    mem = open_memory()
    vecs = unit_vectors(30, seed=21)
    times = [BASE + i * DAY for i in range(30)]
    ids = add_rows(mem, vecs, times)
    mem.index.replay()
    since, until = times[10], times[20]

    def returned(vec: np.ndarray, **kw: float) -> list[int]:
        return [i for i, _ in mem.index.query(vec, 30, **kw)]

    assert sorted(returned(vecs[0], since=since, until=until)) == ids[10:20]  # [since, until)
    assert sorted(returned(vecs[0], since=since)) == ids[10:]
    assert sorted(returned(vecs[0], until=until)) == ids[:20]
    assert sorted(returned(vecs[0])) == ids
    # The best match inside the window, not the global best.
    inside = returned(vecs[15], since=since, until=until)
    assert inside[0] == ids[15]
    outside = returned(vecs[3], since=since, until=until)
    assert ids[3] not in outside
    assert len(outside) == 10
    # A window with nothing in it.
    assert returned(vecs[0], since=BASE - 10 * DAY, until=BASE - DAY) == []
    # Fewer results than asked, all in range.
    few = mem.index.query(vecs[12], 3, since=since, until=until)
    assert [i for i, _ in few][0] == ids[12]
    assert len(few) == 3
    assert all(ids.index(i) in range(10, 20) for i, _ in few)


def test_time_filters_survive_restore(open_memory: Opener, vault: Paths, keys: VaultKeys) -> None:
    ids, vecs = sealed(vault, keys, open_memory, n=20)
    mem = open_memory()
    assert mem.open_index().how == "restored"
    got = sorted(
        i for i, _ in mem.index.query(vecs[0], 20, since=BASE + 5 * DAY, until=BASE + 8 * DAY)
    )
    assert got == ids[5:8]


# -- telling the user, private files, checking before a rebuild -------------------------


def test_notice_only_when_something_happened(
    open_memory: Opener, vault: Paths, keys: VaultKeys
) -> None:
    mem = open_memory()
    assert mem.open_index().how == "empty" and mem.open_index().notice == ""
    add_rows(mem, unit_vectors(6, 3))
    mem.index.replay()
    close(mem)
    mem = open_memory()
    assert mem.open_index().how == "restored" and mem.open_index().notice == ""
    close(mem)
    vault.snapshot.write_bytes(vault.snapshot.read_bytes()[:-7])
    mem = open_memory()
    assert mem.open_index().how == "rebuilt"
    assert mem.open_index().notice.startswith("vectors.sealed could not be used (")
    assert "rebuilt from the database (6 vectors)" in mem.open_index().notice
    close(mem)
    vault.snapshot.unlink()
    mem = open_memory()
    assert mem.open_index().notice.startswith("vectors.sealed was missing")


def test_runtime_files_are_private_whatever_the_umask(open_memory: Opener, vault: Paths) -> None:
    old = os.umask(0)
    try:
        mem = open_memory()
        add_rows(mem, unit_vectors(30, 4))
        mem.index.replay()
        files = sorted(vault.vector_dir.rglob("*"))
        assert any(p.name == "chroma.sqlite3" for p in files)
        assert any(p.is_dir() for p in files)  # chroma's segment folder
        for path in files:
            mode = stat.S_IMODE(path.stat().st_mode)
            assert mode == (0o700 if path.is_dir() else 0o600), (path, oct(mode))
        close(mem)
    finally:
        os.umask(old)


def test_no_rebuild_from_a_damaged_database(
    open_memory: Opener, vault: Paths, keys: VaultKeys
) -> None:
    """Damage that changed no timestamp (a failing disk) is still caught before a rebuild."""
    sealed(vault, keys, open_memory, n=30)
    db = open_database(vault.database, keys.database)
    filled(db, 40)
    db.close()
    page = vault.database.stat().st_size // 4096 - 20
    flip_page(vault.database, page)
    # The stamp vouches for the file as it is now, as if the damage went unnoticed.
    write_stamp(vault.integrity_stamp, Stamp(time.time(), Fingerprint.of(vault.database)))
    vault.snapshot.write_bytes(vault.snapshot.read_bytes()[:-7])  # so the index is rebuilt
    before = vault.snapshot.read_bytes(), vault.database.read_bytes()
    with pytest.raises(DatabaseDamagedError, match=f"page {page} of"):
        open_memory()
    assert (vault.snapshot.read_bytes(), vault.database.read_bytes()) == before
    assert not vault.runtime.exists()


def test_exact_nearest_ranks_by_cosine_within_a_time_range(open_memory: Opener) -> None:
    """The search a one-shot command uses instead of chroma: every vector scored."""
    mem = open_memory()
    vecs = unit_vectors(30, seed=3)
    ids = add_rows(mem, vecs)
    scores = vecs @ vecs[4]
    expected = [ids[int(i)] for i in np.argsort(-scores, kind="stable")[:5]]
    found = exact_nearest(mem.db, vecs[4], 5)
    assert [i for i, _ in found] == expected
    assert found[0][1] == pytest.approx(1.0, abs=1e-5)
    assert [s for _, s in found] == sorted((s for _, s in found), reverse=True)
    assert len(exact_nearest(mem.db, vecs[4], 500)) == 30
    later = exact_nearest(mem.db, vecs[4], 50, *time_clause(BASE + 20 * DAY, None))
    assert {i for i, _ in later} == set(ids[20:])
    assert exact_nearest(mem.db, vecs[4], 50, *time_clause(None, BASE)) == []
