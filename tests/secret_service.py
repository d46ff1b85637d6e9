"""A real, private Secret Service (gnome-keyring on its own D-Bus) for the keyring tests.

Not a test module: `tests/test_keyring.py` wraps `running_secret_service` in a fixture.

    with running_secret_service() as service:
        run_me("init", env=service.env)          # the CLI now sees a trusted keyring
        service.lookup(service="secondself", username="vault:...")

Everything lives in a fresh temporary folder: the bus socket, the daemon's HOME,
XDG_RUNTIME_DIR and XDG_DATA_HOME (where the login keyring file is written), so
the user's real keyring and session bus are never touched. The bus has no service
directories, so nothing is auto-activated behind our back, and both daemons are
stopped (and the folder removed) on exit.

Needs `dbus-daemon` and `gnome-keyring-daemon` (Debian/Ubuntu:
`apt-get install -y --no-install-recommends gnome-keyring libsecret-tools dbus`);
`secret-tool` (libsecret-tools) is used for lookups when present, else the
`secretstorage` package in a subprocess.
"""

from __future__ import annotations

import contextlib
import os
import selectors
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

REQUIRED_BINARIES = ("dbus-daemon", "gnome-keyring-daemon")
INSTALL_HINT = "apt-get install -y --no-install-recommends gnome-keyring libsecret-tools dbus"
KEYRING_BACKEND = "keyring.backends.SecretService.Keyring"
START_TIMEOUT = 10.0

BUS_CONFIG = """<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN"
 "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig>
  <type>session</type>
  <listen>unix:path={socket}</listen>
  <auth>EXTERNAL</auth>
  <policy context="default">
    <allow send_destination="*" eavesdrop="true"/>
    <allow eavesdrop="true"/>
    <allow own="*"/>
  </policy>
</busconfig>
"""

# Talks to the service through the `secretstorage` package (what keyring itself uses).
_SECRETSTORAGE_SCRIPT = """
import sys, secretstorage
action, attrs = sys.argv[1], dict(zip(sys.argv[2::2], sys.argv[3::2]))
conn = secretstorage.dbus_init()
collection = secretstorage.get_default_collection(conn)
if collection.is_locked():
    sys.exit("the default collection is locked")
items = list(collection.search_items(attrs))
if action == "lookup":
    if not items:
        sys.exit(1)
    sys.stdout.write(items[0].get_secret().decode())
elif action == "clear":
    for item in items:
        item.delete()
elif action == "store":
    collection.create_item("test", attrs, sys.stdin.read().encode(), replace=True)
"""

_LOCK_SCRIPT = """
import secretstorage
collection = secretstorage.get_default_collection(secretstorage.dbus_init())
collection.lock()
assert collection.is_locked()
"""


class SecretServiceUnavailable(RuntimeError):
    """The binaries are missing or the daemons did not come up; the message says why."""


def missing_binaries() -> list[str]:
    return [name for name in REQUIRED_BINARIES if shutil.which(name) is None]


@dataclass
class SecretService:
    """A running private Secret Service and the environment that reaches it."""

    root: Path
    bus_address: str
    daemon_env: dict[str, str] = field(repr=False)
    processes: list[subprocess.Popen[bytes]] = field(default_factory=list, repr=False)

    @property
    def env(self) -> dict[str, str]:
        """What a client process must set: the private bus and keyring's backend.

        XDG_RUNTIME_DIR is deliberately not included: clients reach the service
        through DBUS_SESSION_BUS_ADDRESS alone, and the tests keep their own
        per-test runtime folder for the vault.
        """
        return {
            "DBUS_SESSION_BUS_ADDRESS": self.bus_address,
            "PYTHON_KEYRING_BACKEND": KEYRING_BACKEND,
        }

    def client_env(self) -> dict[str, str]:
        full = dict(os.environ)
        full.update(self.env)
        return full

    # -- talking to the service --------------------------------------------------
    def _run(
        self, action: str, attrs: dict[str, str], secret: str | None = None
    ) -> subprocess.CompletedProcess[str]:
        pairs = [part for kv in attrs.items() for part in kv]
        if shutil.which("secret-tool"):
            cmd = ["secret-tool", action]
            if action == "store":
                cmd += ["--label=secondself test"]
            cmd += pairs
        else:
            cmd = [sys.executable, "-c", _SECRETSTORAGE_SCRIPT, action, *pairs]
        return subprocess.run(
            cmd,
            env=self.client_env(),
            input=secret or "",
            capture_output=True,
            text=True,
            timeout=30,
        )

    def lookup(self, **attrs: str) -> str | None:
        """The secret stored under these attributes, or None."""
        proc = self._run("lookup", attrs)
        if proc.returncode != 0 or not proc.stdout:
            return None
        return proc.stdout.rstrip("\n")

    def clear(self, **attrs: str) -> None:
        proc = self._run("clear", attrs)
        if proc.returncode != 0:
            raise RuntimeError(f"clearing {attrs} failed: {proc.stderr}")

    def lock(self) -> None:
        """Lock the default collection (unlocking it again needs a prompt: no way back)."""
        proc = subprocess.run(
            [sys.executable, "-c", _LOCK_SCRIPT],
            env=self.client_env(),
            capture_output=True,
            text=True,
            timeout=30,
        )
        if proc.returncode != 0:
            raise RuntimeError(f"locking the keyring failed: {proc.stderr}")

    def store(self, secret: str, **attrs: str) -> None:
        proc = self._run("store", attrs, secret)
        if proc.returncode != 0:
            raise RuntimeError(f"storing {attrs} failed: {proc.stderr}")


def _read_line(proc: subprocess.Popen[bytes], timeout: float) -> str:
    """First line of a daemon's stdout, without blocking past `timeout`."""
    assert proc.stdout is not None
    sel = selectors.DefaultSelector()
    sel.register(proc.stdout, selectors.EVENT_READ)
    buf = b""
    deadline = time.monotonic() + timeout
    try:
        while b"\n" not in buf:
            remaining = deadline - time.monotonic()
            if remaining <= 0 or not sel.select(remaining):
                break
            chunk = os.read(proc.stdout.fileno(), 4096)
            if not chunk:  # the daemon exited
                break
            buf += chunk
    finally:
        sel.close()
    return buf.decode(errors="replace").split("\n", 1)[0].strip()


def _stop(proc: subprocess.Popen[bytes]) -> None:
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=5)
    for stream in (proc.stdin, proc.stdout, proc.stderr):
        if stream is not None:
            stream.close()


def _log_of(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8", errors="replace").strip()[-2000:]
    except OSError:
        return ""


@contextlib.contextmanager
def running_secret_service(password: str = "secondself-test-keyring") -> Iterator[SecretService]:
    """Start a private D-Bus and gnome-keyring with an unlocked login keyring."""
    missing = missing_binaries()
    if missing:
        raise SecretServiceUnavailable(
            f"{', '.join(missing)} not found; install with `{INSTALL_HINT}`"
        )
    # A short path: unix socket paths are limited to ~107 bytes.
    root = Path(tempfile.mkdtemp(prefix="ss-keyring-"))
    processes: list[subprocess.Popen[bytes]] = []
    try:
        home, runtime = root / "home", root / "run"
        for folder in (home, runtime, home / ".local" / "share", home / ".config", home / ".cache"):
            folder.mkdir(mode=0o700, parents=True, exist_ok=True)
        socket = runtime / "bus"
        config = root / "bus.conf"
        config.write_text(BUS_CONFIG.format(socket=socket), encoding="utf-8")

        base_env = {
            k: v
            for k, v in os.environ.items()
            if not k.startswith(("DBUS_", "GNOME_KEYRING", "SSH_AUTH_SOCK"))
        }
        base_env.update(
            HOME=str(home),
            XDG_RUNTIME_DIR=str(runtime),
            XDG_DATA_HOME=str(home / ".local" / "share"),
            XDG_CONFIG_HOME=str(home / ".config"),
            XDG_CACHE_HOME=str(home / ".cache"),
        )

        bus_log = (root / "dbus-daemon.log").open("wb")
        bus = subprocess.Popen(
            [
                "dbus-daemon",
                f"--config-file={config}",
                "--nofork",
                "--nopidfile",
                "--nosyslog",
                "--print-address=1",
            ],
            env=base_env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=bus_log,
            cwd=root,
        )
        bus_log.close()
        processes.append(bus)
        address = _read_line(bus, START_TIMEOUT)
        if not address:
            raise SecretServiceUnavailable(
                f"dbus-daemon did not start: {_log_of(root / 'dbus-daemon.log')}"
            )

        daemon_env = dict(base_env, DBUS_SESSION_BUS_ADDRESS=address)
        keyring_log = (root / "gnome-keyring.log").open("wb")
        keyring_daemon = subprocess.Popen(
            [
                "gnome-keyring-daemon",
                "--foreground",
                "--unlock",
                "--components=secrets",
                f"--control-directory={runtime / 'keyring'}",
            ],
            env=daemon_env,
            stdin=subprocess.PIPE,
            stdout=subprocess.DEVNULL,
            stderr=keyring_log,
            cwd=root,
        )
        keyring_log.close()
        processes.append(keyring_daemon)
        assert keyring_daemon.stdin is not None
        keyring_daemon.stdin.write(password.encode())
        keyring_daemon.stdin.close()  # --unlock reads the password up to end of file

        service = SecretService(root, address, daemon_env, processes)
        probe = {"service": "secondself-test-probe", "username": f"probe-{os.getpid()}"}
        deadline = time.monotonic() + START_TIMEOUT
        last_error = ""
        while True:
            if keyring_daemon.poll() is not None:
                raise SecretServiceUnavailable(
                    f"gnome-keyring-daemon exited with {keyring_daemon.returncode}: "
                    f"{_log_of(root / 'gnome-keyring.log')}"
                )
            try:
                service.store("probe", **probe)
                if service.lookup(**probe) == "probe":
                    service.clear(**probe)
                    break
                last_error = "stored probe secret not found"
            except (RuntimeError, subprocess.TimeoutExpired) as exc:
                last_error = str(exc)
            if time.monotonic() >= deadline:
                raise SecretServiceUnavailable(
                    f"the Secret Service did not answer within {START_TIMEOUT:.0f} s: "
                    f"{last_error}; daemon log: {_log_of(root / 'gnome-keyring.log')}"
                )
            time.sleep(0.2)
        yield service
    finally:
        for proc in reversed(processes):  # the keyring daemon first, then its bus
            _stop(proc)
        shutil.rmtree(root, ignore_errors=True)
