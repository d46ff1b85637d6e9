"""The daemon through the real entry point: real processes, a real Unix socket.

One vault (the demo notes plus a canary note) is made once per module; each test starts
its own daemon over it with `me daemon start` and stops it again.
"""

from __future__ import annotations

import getpass
import json
import os
import random
import secrets
import shutil
import socket
import struct
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from assistant.paths import resolve
from tests.conftest import ROOT, run_me

pytestmark = pytest.mark.slow

# Fresh per run: earlier runs' notes linger in pytest's temp folders.
CANARY = "cnry" + secrets.token_hex(10)
DEMO = ROOT / "assistant" / "demo_notes"


class Vault:
    """A vault on disk, and the environment that points `me` at it."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.notes = root / "notes"
        # A short runtime folder: a Unix socket path holds at most ~100 bytes.
        self.runtime = Path(tempfile.mkdtemp(prefix="ssd", dir="/tmp"))
        self.env = {
            "SECONDSELF_HOME": str(root / "home"),
            "XDG_RUNTIME_DIR": str(self.runtime),
            "SECONDSELF_PASSPHRASE": "correct horse battery staple",
            "SECONDSELF_DAEMON_REFLECT_AFTER_IDLE_S": "0",
            "SECONDSELF_DAEMON_DEBOUNCE_MS": "200",
        }
        saved = {k: os.environ.get(k) for k in self.env}
        os.environ.update(self.env)
        try:
            self.paths = resolve()
        finally:
            for key, value in saved.items():
                if value is None:
                    os.environ.pop(key, None)
                else:
                    os.environ[key] = value

    def me(self, *args: str, check: bool = True, **extra: str) -> subprocess.CompletedProcess[str]:
        return run_me(*args, env={**self.env, **extra}, check=check)

    def status(self) -> dict[str, object]:
        return dict(json.loads(self.me("daemon", "status", "--json").stdout))

    def plaintext_left(self) -> list[str]:
        """Files in the runtime and temp folders that hold the canary or an index copy
        (the notes themselves, under this vault's root, aside)."""
        found = []
        # Test inputs (every test's notes) live under pytest's folder; no daemon writes there.
        inputs = Path(tempfile.gettempdir()) / f"pytest-of-{getpass.getuser()}"
        for root in (self.paths.runtime, Path(tempfile.gettempdir())):
            # os.walk, not rglob: other tests' temporary folders come and go meanwhile,
            # and a folder that vanished mid-scan holds nothing of ours.
            for folder, _dirs, files in os.walk(root):
                for path in (Path(folder) / name for name in files):
                    if path.is_relative_to(self.root) or path.is_relative_to(inputs):
                        continue
                    try:
                        if path.is_file() and CANARY.encode() in path.read_bytes():
                            found.append(str(path))
                    except OSError:
                        continue
        if self.paths.vector_dir.exists():
            found.append(str(self.paths.vector_dir))
        return found


@pytest.fixture(scope="module")
def made(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Vault]:
    vault = Vault(tmp_path_factory.mktemp("daemon"))
    shutil.copytree(DEMO, vault.notes)
    (vault.notes / "canary.md").write_text(f"# Canary\n\nThe locker code is {CANARY}.\n")
    vault.me("init", "--mode", "passphrase")
    vault.me("sources", "add", str(vault.notes))  # a source: the daemon keeps it in step
    vault.me("sync")
    yield vault
    shutil.rmtree(vault.runtime, ignore_errors=True)


@pytest.fixture
def vault(made: Vault) -> Iterator[Vault]:
    """The module's vault, with no daemon left running after the test."""
    yield made
    if made.me("daemon", "status", "--json").stdout and made.status()["running"]:
        made.me("daemon", "stop", check=False)


def wait_for(condition: Callable[[], bool], limit: float, what: str) -> float:
    start = time.monotonic()
    while not condition():
        if time.monotonic() - start > limit:
            raise AssertionError(f"{what}: not within {limit} s")
        time.sleep(0.2)
    return time.monotonic() - start


def test_lifecycle_through_the_socket(vault: Vault) -> None:
    started = vault.me("daemon", "start")
    assert "daemon started" in started.stdout
    state = vault.status()
    assert state["running"] is True and state["locked"] is False
    assert state["socket"] == str(vault.paths.runtime / "daemon.sock")
    assert oct((vault.paths.runtime / "daemon.sock").stat().st_mode & 0o777) == "0o600"
    assert oct(vault.paths.runtime.stat().st_mode & 0o777) == "0o700"

    second = vault.me("daemon", "start", check=False)
    assert second.returncode == 1 and f"pid {state['pid']}" in second.stderr

    # The daemon holds the vault: an in-process recall could not get it (lock timeout 0),
    # so an answer proves the socket; the daemon's request count says so too.
    found = vault.me("recall", "Lisbon flight", "--json", "--no-reinforce",
                     SECONDSELF_VAULT_LOCK_TIMEOUT="0")  # fmt: skip
    assert "Lisbon" in found.stdout
    assert vault.status()["requests"] == 1
    busy = vault.me("--no-daemon", "recall", "Lisbon", check=False,
                    SECONDSELF_VAULT_LOCK_TIMEOUT="0")  # fmt: skip
    assert busy.returncode == 1 and "another Second Self process" in busy.stderr

    checked = vault.me("check")  # through the daemon, on the vault it holds open
    assert "All is well" in checked.stdout, checked.stdout
    # Grants and the audit log through the socket: typed results come back whole.
    vault.me("grants", "add", "shop.example", "--allow", "contact,address", "--expires", "3")
    [grant] = [
        json.loads(line) for line in vault.me("grants", "list", "--json").stdout.splitlines()
    ]
    assert grant["categories"] == ["contact", "address"] and grant["active"] is True
    assert "intact: 1 entries" in vault.me("audit", "verify").stdout
    # A backup is written by the daemon, which holds the vault; a restore is refused
    # while it does (it would replace the files under it).
    backup = vault.root / "through-the-daemon.bak"
    vault.me("backup", str(backup))
    assert backup.is_file() and CANARY.encode() not in backup.read_bytes()
    held = vault.me("restore", str(backup), "--yes", check=False)
    assert held.returncode == 1 and "me daemon stop" in held.stderr

    assert "locked" in vault.me("lock").stdout
    refused = vault.me("recall", "Lisbon", check=False)
    assert refused.returncode == 3
    assert "locked: run `me unlock`" in refused.stderr
    assert vault.plaintext_left() == []
    assert vault.status()["locked"] is True

    assert "unlocked" in vault.me("unlock").stdout
    assert CANARY in vault.me("recall", "locker code", "--json", "--no-reinforce").stdout

    assert "daemon stopped" in vault.me("daemon", "stop").stdout
    assert vault.status()["running"] is False
    assert not (vault.paths.runtime / "daemon.sock").exists()
    assert vault.plaintext_left() == []
    # Without a daemon, the same command runs in-process again.
    assert "Lisbon" in vault.me("recall", "Lisbon flight", "--no-reinforce").stdout


def test_a_long_job_shows_progress_and_stops_when_asked(vault: Vault, tmp_path: Path) -> None:
    """Progress comes back over the socket, and a cancel reaches the job in the daemon:
    it stops, keeps what it finished, and the daemon goes on serving. Hanging up
    mid-job (Ctrl-C) cancels it too."""
    from assistant.daemon import protocol
    from assistant.daemon.client import DaemonClient
    from store.errors import Cancelled
    from store.progress import Cancel

    folder = tmp_path / "many"
    folder.mkdir()
    for i in range(400):
        (folder / f"note-{i:03}.md").write_text(f"# Note {i}\n\nPebble {i} is grey.\n")
    vault.me("daemon", "start")
    client = DaemonClient(vault.paths)

    cancel = Cancel()
    heard: list[tuple[str, int, int | None]] = []

    def stop_early(stage: str, done: int, total: int | None) -> None:
        heard.append((stage, done, total))
        if done >= 3:
            cancel.cancel()

    stored = episodes(client)
    with pytest.raises(Cancelled):
        client.ingest([folder], progress=stop_early, cancel=cancel)
    assert heard and heard[0][0].startswith("Reading")
    # Stopped early: what it committed (whole batches, maybe none yet) is kept, no more.
    kept = episodes(client) - stored
    assert 0 <= kept < 400

    rest: list[tuple[str, int, int | None]] = []
    summary = client.ingest([folder], progress=lambda *call: rest.append(call))
    assert summary.added == 400 - kept and summary.unchanged == kept
    assert episodes(client) == stored + 400  # nothing twice, nothing lost
    assert [done for _, done, _ in rest] == sorted(done for _, done, _ in rest)

    # A client that hangs up after the first progress frame: its job is cancelled.
    for i in range(400, 800):
        (folder / f"note-{i:03}.md").write_text(f"# Note {i}\n\nPebble {i} is blue.\n")
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    sock.connect(str(vault.paths.runtime / "daemon.sock"))
    protocol.write_frame(sock, protocol.request("ingest", {"roots": [str(folder)]}, True))
    assert "progress" in (protocol.read_frame(sock, protocol.MAX_REPLY) or {})
    sock.close()
    time.sleep(1.0)  # the daemon notices within its 0.1 s watch, then stops the job
    after = client.ingest([folder])
    assert after.added > 0 and after.added + after.unchanged == 800
    vault.me("daemon", "stop")


def episodes(client: object) -> int:
    counts = client.status().counts  # type: ignore[attr-defined]
    assert counts is not None
    return int(counts.episodes)


def test_idle_daemon_locks_itself(vault: Vault) -> None:
    vault.me("daemon", "start", SECONDSELF_DAEMON_IDLE_LOCK_MINUTES="0.03")
    took = wait_for(lambda: vault.status()["locked"] is True, 30, "auto-lock")
    assert took < 30
    assert vault.plaintext_left() == []
    assert vault.me("recall", "Lisbon", check=False).returncode == 3
    vault.me("daemon", "stop")


def test_a_note_written_into_a_source_becomes_searchable(vault: Vault) -> None:
    vault.me("daemon", "start")
    note = vault.notes / "fresh.md"
    note.write_text("# Pottery\n\nSigned up for the wednesday pottery wheel course.\n")
    nested = vault.notes / "new-folder" / "deeper"
    nested.mkdir(parents=True)
    (nested / "kiln.md").write_text("# Kiln\n\nThe glaze firing is at cone six.\n")

    def found(words: str, needle: str) -> bool:
        out = vault.me("recall", words, "--json", "--no-reinforce", "-k", "3").stdout
        return needle in out

    took = wait_for(lambda: found("pottery wheel course", "pottery wheel"), 10, "new note")
    wait_for(lambda: found("glaze firing cone", "cone six"), 10, "note in a new folder")
    print(f"write to searchable: {took:.1f} s")
    # A file the daemon's own sync cannot read is listed by any front end afterwards.
    (vault.notes / "broken.pdf").write_bytes(b"%PDF-1.7 not really")

    def unread() -> bool:
        listed = vault.me("sources", "list", "--json").stdout.splitlines()
        return any("broken.pdf" in str(json.loads(line)["last_sync_failed"]) for line in listed)

    wait_for(unread, 10, "the unread file of a background sync")
    assert "not read: " in vault.me("sources", "list").stdout
    (vault.notes / "broken.pdf").unlink()
    vault.me("daemon", "stop")

    # Edited while no daemon runs: the scan at the next start picks it up.
    note.write_text("# Pottery\n\nMoved the pottery class to thursday evenings.\n")
    vault.me("daemon", "start")
    wait_for(lambda: found("pottery class thursday", "thursday evenings"), 20, "offline edit")
    vault.me("daemon", "stop")
    note.unlink()
    shutil.rmtree(vault.notes / "new-folder")
    vault.me("sync")


def raw_exchange(path: Path, payload: bytes, timeout: float = 10) -> dict[str, object] | None:
    """Send raw bytes, read one reply frame (None when the daemon hung up)."""
    from assistant.daemon import protocol

    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
        sock.settimeout(timeout)
        sock.connect(str(path))
        sock.sendall(payload)
        sock.shutdown(socket.SHUT_WR)
        try:
            return protocol.read_frame(sock, protocol.MAX_REPLY)
        except protocol.ProtocolError:
            return None


def frame(message: object) -> bytes:
    body = json.dumps(message).encode()
    return struct.pack(">I", len(body)) + body


def ping(path: Path) -> bool:
    reply = raw_exchange(path, frame({"v": 1, "op": "ping", "args": {}}))
    return bool(reply and reply.get("ok"))


def test_the_socket_refuses_strangers_and_survives_garbage(vault: Vault) -> None:
    vault.me("daemon", "start")
    sock_path = vault.paths.runtime / "daemon.sock"

    bad = {
        "not json": b"\x00\x00\x00\x05hello",
        "not an object": frame([1, 2, 3]),
        "no op": frame({"v": 1}),
        "unknown op": frame({"v": 1, "op": "format_disk", "args": {}}),
        "old version": frame({"v": 0, "op": "ping", "args": {}}),
        "bad args": frame({"v": 1, "op": "recall", "args": {"request": 5}}),
        "extra args": frame({"v": 1, "op": "undo", "args": {"change_id": 1, "rm": "-rf"}}),
        "oversized": struct.pack(">I", 1 << 31) + b"{}",
        "truncated": struct.pack(">I", 100) + b'{"v": 1',
        "half header": b"\x00\x00",
        "bad utf-8": struct.pack(">I", 2) + b"\xff\xfe",
    }
    for name, payload in bad.items():
        reply = raw_exchange(sock_path, payload)
        if reply is not None:
            assert reply["ok"] is False, name
            assert reply["error"]["kind"] in ("protocol", "error"), name  # type: ignore[index]
        assert ping(sock_path), f"the daemon stopped answering after {name}"
    rng = random.Random(9)
    for _ in range(200):
        raw_exchange(sock_path, bytes(rng.getrandbits(8) for _ in range(rng.randint(0, 64))))
    assert ping(sock_path)

    # A client that connects and never sends holds nothing up.
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as idle:
        idle.connect(str(sock_path))
        assert "Lisbon" in vault.me("recall", "Lisbon flight", "--no-reinforce").stdout

    # Another user: the folder (0700) keeps them out, and with the folder and socket
    # opened to all, the daemon's uid check still refuses them.
    setpriv = shutil.which("setpriv")
    if os.getuid() == 0 and setpriv:
        probe = (
            "import socket,struct,sys\n"
            "s=socket.socket(socket.AF_UNIX)\n"
            "try:\n s.connect(sys.argv[1])\n"
            "except PermissionError:\n print('EACCES'); sys.exit()\n"
            'b=b\'{"v":1,"op":"recall","args":{"request":{"question":"Lisbon"}}}\'\n'
            "s.sendall(struct.pack('>I',len(b))+b)\n"
            "data = b''\n"
            "while chunk := s.recv(65536):\n data += chunk\n"  # the daemon hangs up after
            "print(data[4:].decode())\n"
        )
        as_nobody = [setpriv, "--reuid=nobody", "--regid=nogroup", "--clear-groups",
                     sys.executable, "-c", probe, str(sock_path)]  # fmt: skip
        out = subprocess.run(as_nobody, capture_output=True, text=True, timeout=30)
        assert out.stdout.strip() == "EACCES", out.stderr
        folders = (vault.runtime, vault.paths.runtime)
        for folder in folders:
            os.chmod(folder, 0o711)
        os.chmod(sock_path, 0o666)
        try:
            out = subprocess.run(as_nobody, capture_output=True, text=True, timeout=30)
        finally:
            for folder in folders:
                os.chmod(folder, 0o700)
            os.chmod(sock_path, 0o600)
        assert out.stdout.strip(), out.stderr
        reply = json.loads(out.stdout)
        assert reply["ok"] is False and reply["error"]["kind"] == "forbidden", out.stderr
        assert "Lisbon" not in out.stdout
    assert ping(sock_path)
    vault.me("daemon", "stop")
