"""Fail closed, for real: damage found before a write, full folders named, no plaintext left.

Everything runs on real files: SQLCipher databases with bytes flipped on disk, real
tmpfs mounts that fill up (the tests run as root in CI; elsewhere they are skipped
with the reason), real `kill -9` of running commands, and the real CLI in
subprocesses. Only the tests marked `slow` load the embedding model.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import stat
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from assistant import config as config_mod
from assistant import paths as paths_mod
from assistant.memory import Memory
from assistant.paths import Paths
from assistant.runtime import VaultLock
from assistant.vault import Secrets, create_vault, unlock
from store.database import create_database, open_database
from store.errors import DatabaseDamagedError, DiskFullError
from store.guard import IntegrityGuard
from store.layout import restore_dir, snapshot_tmp
from tests.conftest import PASSPHRASE, ROOT, run_me
from tests.test_database import PAGE, filled, flip_page
from tests.test_vectors import add_rows, unit_vectors

FILLER_ROWS = 120  # one 3000-byte row per page: pages that no command reads
ENV = {"SECONDSELF_PASSPHRASE": PASSPHRASE}


# -- helpers ---------------------------------------------------------------------------
def open_memory(paths: Paths, secrets: Secrets) -> Memory:
    return Memory.open(paths, config_mod.load(paths.config_file), secrets)


def build(paths: Paths, secrets: Secrets, vectors: int = 200) -> None:
    """A vault with memories, a sealed index, and a table of pages no command touches."""
    with open_memory(paths, secrets) as memory:
        add_rows(memory, unit_vectors(vectors, 7))
        memory.index.replay()
        filled(memory.db, FILLER_ROWS)


def filler_page(paths: Paths) -> int:
    """A page (1-based) in the middle of the filler rows, which were written last."""
    return paths.database.stat().st_size // PAGE - FILLER_ROWS // 2


def vault_bytes(paths: Paths) -> dict[str, bytes]:
    """The vault's own files (database, key file, sealed index) with their bytes."""
    return {p.name: p.read_bytes() for p in (paths.database, paths.key_file, paths.snapshot)
            if p.exists()}  # fmt: skip


def assert_clear_error(proc: subprocess.CompletedProcess[str], *needles: str) -> None:
    assert proc.returncode != 0, proc.stdout
    assert "Traceback" not in proc.stderr, proc.stderr
    for needle in needles:
        assert needle.lower() in proc.stderr.lower(), proc.stderr


def tree(root: Path) -> list[Path]:
    return sorted(root.rglob("*")) if root.exists() else []


@pytest.fixture
def tmpfs(tmp_path: Path) -> Iterator[Callable[[str, str], Path]]:
    """Mount small real tmpfs filesystems; unmounted at teardown."""
    mounted: list[Path] = []

    def mount(name: str, size: str) -> Path:
        where = tmp_path / name
        where.mkdir(mode=0o700)
        try:
            proc = subprocess.run(
                ["mount", "-t", "tmpfs", "-o", f"size={size},mode=0700", "tmpfs", str(where)],
                capture_output=True,
                text=True,
            )
        except FileNotFoundError:
            pytest.skip("no `mount` command here: cannot make a small real filesystem")
        if proc.returncode != 0:
            pytest.skip(f"mounting a tmpfs is not permitted here ({proc.stderr.strip()})")
        mounted.append(where)
        return where

    yield mount
    for where in reversed(mounted):
        subprocess.run(["umount", "-l", str(where)], check=False)


@pytest.fixture
def umask_000() -> Iterator[None]:
    """Child processes inherit the umask: the most careless one a user could have."""
    old = os.umask(0)
    try:
        yield
    finally:
        os.umask(old)


# -- damage between two commands --------------------------------------------------------
def test_byte_flipped_between_commands_stops_the_next_write(vault: Paths, secrets: Secrets) -> None:
    build(vault, secrets)
    run_me("persona", "set", "employer", "Acme", env=ENV)  # a write; the file is sound
    page = filler_page(vault)
    flip_page(vault.database, page)
    before = vault_bytes(vault)

    proc = run_me("persona", "set", "employer", "Maré Energy", env=ENV, check=False)
    assert_clear_error(proc, "memory.db is damaged", f"page {page}", "backup")
    assert vault_bytes(vault) == before  # not one byte written into the damaged file
    with pytest.raises(DatabaseDamagedError, match=f"page {page}"):
        open_memory(vault, secrets)
    assert vault_bytes(vault) == before

    check = run_me("check", env=ENV, check=False)
    assert check.returncode == 1, check.stdout + check.stderr
    assert "DAMAGED" in check.stdout and f"page {page}" in check.stdout
    assert "Restore memory.db from a backup" in check.stdout
    assert "Traceback" not in check.stderr
    as_json = json.loads(run_me("check", "--json", env=ENV, check=False).stdout)
    assert as_json["ok"] is False
    bad = [f for f in as_json["findings"] if not f["ok"]]
    assert [f["file"] for f in bad] == ["memory.db"]
    assert vault_bytes(vault) == before


def test_check_says_all_is_well_and_spares_the_next_command(vault: Paths, secrets: Secrets) -> None:
    build(vault, secrets)
    proc = run_me("check", env=ENV)
    lines = proc.stdout.splitlines()
    assert lines[-1] == "All is well."
    for name in ("keys.json", "memory.db", "vectors.sealed"):
        assert any(line.startswith(name) and " ok: " in line for line in lines), proc.stdout
    assert "pages authenticated, structure intact" in proc.stdout
    assert json.loads(run_me("check", "--json", env=ENV).stdout)["ok"] is True
    # The pass is remembered: the next command has no check due before it writes.
    with open_memory(vault, secrets) as memory:
        assert memory.db.guard.due is None


def test_damage_met_while_reading_is_named_and_forgotten_by_the_stamp(
    vault: Paths, secrets: Secrets
) -> None:
    build(vault, secrets)
    memory = open_memory(vault, secrets)
    assert vault.integrity_stamp.exists()  # written by the close in build()
    flip_page(vault.database, filler_page(vault))
    before = vault_bytes(vault)
    with pytest.raises(DatabaseDamagedError, match="memory.db is damaged") as raised, memory:
        memory.db.conn.execute("SELECT sum(length(x)) FROM filler").fetchone()
    assert "backup" in str(raised.value)
    assert vault_bytes(vault) == before
    assert not vault.runtime.exists()  # the plaintext copy went, unsealed
    assert not vault.integrity_stamp.exists()  # so the next command checks first


def test_no_write_gets_through_once_the_check_failed(vault: Paths, secrets: Secrets) -> None:
    build(vault, secrets)
    flip_page(vault.database, filler_page(vault))
    before = vault.database.read_bytes()
    guard = IntegrityGuard(vault.integrity_stamp, 365.0)
    db = open_database(vault.database, unlock(vault, secrets).database, guard)
    try:
        assert guard.due == "memory.db changed since Second Self last closed it"
        for _ in range(2):  # the first write runs the check; the second is refused outright
            with (
                pytest.raises(DatabaseDamagedError, match="fail authentication"),
                db.write() as conn,
            ):
                conn.execute("INSERT INTO meta(key, value) VALUES ('x', 'y')")
    finally:
        db.close()
    assert vault.database.read_bytes() == before
    assert not vault.integrity_stamp.exists()


# -- the vector snapshot -----------------------------------------------------------------
def test_damaged_snapshot_is_rebuilt_and_said_so(vault: Paths, secrets: Secrets) -> None:
    build(vault, secrets)
    flip_page(vault.snapshot, 3, at=50)
    keys_before = vault.key_file.read_bytes()
    proc = run_me("status", env=ENV)
    assert "Note: vectors.sealed could not be used" in proc.stderr
    assert "rebuilt from the database (200 vectors)" in proc.stderr
    assert proc.stderr.count("Note:") == 1
    assert "200 vectors (rebuilt)" in proc.stdout
    assert vault.key_file.read_bytes() == keys_before
    again = run_me("status", env=ENV)
    assert "Note:" not in again.stderr  # sealed afresh: nothing more to tell
    assert "(restored)" in again.stdout


# -- full folders ------------------------------------------------------------------------
@pytest.mark.parametrize("case", ["restore", "rebuild"])
def test_runtime_folder_full_is_named_and_nothing_is_left(
    vault: Paths, secrets: Secrets, tmpfs: Callable[[str, str], Path], case: str
) -> None:
    build(vault, secrets, vectors=1200)
    if case == "rebuild":
        vault.snapshot.unlink()
    small = tmpfs("small-run", "512k")
    before = vault_bytes(vault)
    proc = run_me("status", env={**ENV, "XDG_RUNTIME_DIR": str(small)}, check=False)
    assert_clear_error(proc, "runtime folder", "is full", "XDG_RUNTIME_DIR")
    assert tree(small) == []  # no chroma.sqlite3, no half-unpacked index
    assert vault_bytes(vault) == before


def test_disk_full_while_sealing(tmpfs: Callable[[str, str], Path], secrets: Secrets) -> None:
    home = tmpfs("home", "16m")
    paths = paths_mod.resolve(home)
    env = {**ENV, "SECONDSELF_HOME": str(home)}
    create_vault(paths, secrets, mode="passphrase")
    with open_memory(paths, secrets) as memory:
        add_rows(memory, unit_vectors(50, 1))
        memory.index.replay()
    with open_memory(paths, secrets) as memory:  # stored and logged, not yet indexed
        add_rows(memory, unit_vectors(1500, 2))
    old_snapshot = paths.snapshot.read_bytes()
    filler = home / "filler"
    filler.write_bytes(b"\0" * (shutil.disk_usage(home).free - 64 * 1024))
    before = vault_bytes(paths)

    proc = run_me("status", env=env, check=False)
    assert_clear_error(proc, f"disk holding {paths.data} is full", "nothing was lost")
    assert not snapshot_tmp(paths.snapshot).exists()
    assert vault_bytes(paths) == before
    assert paths.snapshot.read_bytes() == old_snapshot
    assert tree(paths.runtime) == []

    filler.unlink()
    assert "1550 vectors" in run_me("status", env=env).stdout
    assert paths.snapshot.read_bytes() != old_snapshot


def test_disk_full_during_a_database_write(tmpfs: Callable[[str, str], Path]) -> None:
    folder = tmpfs("db-disk", "4m")
    key = bytes(range(32))
    db = create_database(folder / "memory.db", key)
    with db.write():
        db.set_meta("kept", "yes")
    (folder / "filler").write_bytes(b"\0" * shutil.disk_usage(folder).free)
    full = f"the disk holding {folder} is full"
    with pytest.raises(DiskFullError, match=full) as raised, db.write() as conn:
        conn.execute("INSERT INTO meta(key, value) VALUES ('big', randomblob(500000))")
    assert "rolled back and nothing stored was lost" in str(raised.value)
    (folder / "filler").unlink()
    with db.write():
        db.set_meta("after", "yes")
    assert (db.get_meta("kept"), db.get_meta("big"), db.get_meta("after")) == ("yes", None, "yes")
    db.close()


# -- what a killed process leaves ------------------------------------------------------
def _start(*args: str) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, "-c", "from assistant.cli import main; main()", *args],
        env={**os.environ, **ENV},
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


def _wait_for(path: Path, proc: subprocess.Popen[bytes], timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while not path.exists():
        assert proc.poll() is None, "the command ended before it could be killed"
        assert time.monotonic() < deadline, f"{path} never appeared"
        time.sleep(0.05)


@pytest.mark.slow
@pytest.mark.parametrize("command", ["ingest", "reflect"])
def test_kill_9_leaves_nothing_in_the_clear_after_the_next_start(
    vault: Paths, notes: Path, umask_000: None, command: str
) -> None:
    if command == "reflect":
        run_me("ingest", str(notes), env=ENV)
    proc = _start(*(["ingest", str(notes)] if command == "ingest" else ["reflect"]))
    _wait_for(vault.vector_dir / "chroma.sqlite3", proc)
    # Soon after the copy appears: a reflect of these notes is done ~1 s later, when its
    # own close removes the copy and there is nothing left for the kill to leave.
    time.sleep(0.2)
    assert proc.poll() is None, "the command ended before it could be killed"
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()

    left = tree(vault.vector_dir)
    assert left  # the kill left the plaintext copy: nothing could remove it
    for path in left:  # ... private all the same, under umask 000
        mode = stat.S_IMODE(path.stat().st_mode)
        assert mode == (0o700 if path.is_dir() else 0o600), (path, oct(mode))
    stale = snapshot_tmp(vault.snapshot)
    stale.write_bytes(b"half a sealed snapshot")  # what a kill mid-seal leaves

    locked = run_me("status", check=False, input="")  # no passphrase: never opens the vault
    assert_clear_error(locked, "passphrase")
    assert not vault.vector_dir.exists()
    assert not restore_dir(vault.vector_dir).exists()
    assert not stale.exists()
    assert tree(vault.runtime) == []


def test_sweep_spares_the_copy_of_a_live_process(vault: Paths, secrets: Secrets) -> None:
    build(vault, secrets, vectors=20)
    memory = open_memory(vault, secrets)
    try:
        run_me("paths")
        assert (vault.vector_dir / "chroma.sqlite3").exists()
        assert memory.index.count() == 20
    finally:
        memory.close()
    # Without a holder, leftovers of any kind go at the next start, `me paths` included.
    vault.vector_dir.mkdir(parents=True)
    (vault.vector_dir / "chroma.sqlite3").write_bytes(b"plaintext")
    restore_dir(vault.vector_dir).mkdir()
    run_me("paths")
    assert tree(vault.runtime) == [] and not vault.runtime.exists()
    lock = VaultLock(vault.lock_file, 0)
    assert lock.try_acquire()  # the sweep released the vault lock it took
    lock.release()


# -- where the runtime copy lives, and permissions ---------------------------------------
def test_runtime_on_tmpfs_is_in_ram(
    tmpfs: Callable[[str, str], Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    ram = tmpfs("ram-run", "64m")
    monkeypatch.setenv("XDG_RUNTIME_DIR", str(ram))
    init = run_me("init", "--mode", "passphrase", env=ENV)
    assert "Note:" not in init.stderr
    status = json.loads(run_me("status", "--json", env=ENV).stdout)
    assert status["runtime"]["filesystem"] == "tmpfs"
    assert status["runtime"]["in_ram"] is True
    assert "(tmpfs, in RAM)" in run_me("status", env=ENV).stdout


def test_runtime_on_disk_is_said_at_init_and_in_status(tmp_path: Path) -> None:
    kind = subprocess.run(
        ["stat", "-f", "-c", "%T", str(tmp_path)], capture_output=True, text=True
    ).stdout.strip()
    if kind in ("tmpfs", "ramfs"):
        pytest.skip(f"the test folder is itself on {kind}: there is no disk to report")
    init = run_me("init", "--mode", "passphrase", env=ENV)
    assert "Note: the runtime folder" in init.stderr
    assert "not in RAM" in init.stderr and "XDG_RUNTIME_DIR" in init.stderr
    status = run_me("status", env=ENV)
    assert "on disk, not in RAM" in status.stdout
    assert json.loads(run_me("status", "--json", env=ENV).stdout)["runtime"]["in_ram"] is False


def test_everything_created_is_private_under_umask_000(
    isolated_home: Path, umask_000: None
) -> None:
    assert not isolated_home.exists()
    run_me("init", "--mode", "passphrase", "--name", "Rui Costa", env=ENV)
    run_me("persona", "set", "employer", "Acme", env=ENV)
    run_me("check", env=ENV)
    created = [isolated_home, *tree(isolated_home)]
    assert len(created) > 6
    for path in created:
        mode = stat.S_IMODE(path.stat().st_mode)
        assert mode == (0o700 if path.is_dir() else 0o600), (path, oct(mode))
