"""Where a vault's daemon lives: its socket and its pid file, in the private runtime folder.

The pid file carries an flock for as long as the daemon runs: the kernel drops it when
the process dies, however it dies, so a second daemon is refused only while the first
is really alive, and a socket file left by a killed daemon is known to be stale.
Standard library only (and `assistant.paths`): clients look here before every command.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import socket
from collections.abc import Iterator
from pathlib import Path
from typing import IO

from assistant.errors import DaemonError
from assistant.paths import Paths, ensure_private

SOCKET_NAME = "daemon.sock"
PID_NAME = "daemon.pid"
# sun_path holds 108 bytes on Linux and 104 on macOS, the terminating NUL included.
MAX_SOCKET_PATH = 103


class DaemonPlace:
    def __init__(self, paths: Paths) -> None:
        self.folder = paths.runtime
        self.socket = paths.runtime / SOCKET_NAME
        self.pid_file = paths.runtime / PID_NAME
        self._held: IO[str] | None = None

    def holder(self) -> int | None:
        """The pid of the live daemon of this vault, or None."""
        try:
            fh = open(self.pid_file, encoding="ascii")  # noqa: SIM115 (closed below)
        except OSError:
            return None
        with fh:
            try:
                fcntl.flock(fh, fcntl.LOCK_SH | fcntl.LOCK_NB)
            except BlockingIOError:  # locked: its writer is alive
                text = fh.read().strip()
                return int(text) if text.isdigit() else -1
            fcntl.flock(fh, fcntl.LOCK_UN)
            return None

    @contextlib.contextmanager
    def claim(self) -> Iterator[None]:
        """Hold the pid file for this process's lifetime, or refuse naming the holder."""
        ensure_private(self.folder)
        fd = os.open(self.pid_file, os.O_RDWR | os.O_CREAT, 0o600)
        fh = os.fdopen(fd, "r+", encoding="ascii")
        try:
            fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            text = fh.read().strip()
            fh.close()
            raise DaemonError(
                f"a daemon already serves this vault (pid {text or 'unknown'}); "
                "`me daemon stop` stops it"
            ) from None
        fh.seek(0)
        fh.truncate()
        fh.write(f"{os.getpid()}\n")
        fh.flush()
        self._held = fh
        try:
            yield
        finally:
            self.pid_file.unlink(missing_ok=True)
            fcntl.flock(fh, fcntl.LOCK_UN)
            fh.close()
            self._held = None

    def bind(self) -> Path:
        """The socket path, cleared of a file a dead daemon left (we hold the pid lock,
        so no live daemon owns it)."""
        if len(os.fsencode(self.socket)) > MAX_SOCKET_PATH:
            raise DaemonError(
                f"the socket path {self.socket} is too long for a Unix socket; "
                "set XDG_RUNTIME_DIR to a shorter folder"
            )
        if self.socket.exists() or self.socket.is_symlink():
            self.socket.unlink()
        return self.socket

    def connect(self, timeout: float | None = None) -> socket.socket | None:
        """A connection to the running daemon, or None when there is none."""
        if not self.socket.exists():
            return None
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        sock.settimeout(timeout)
        try:
            sock.connect(str(self.socket))
        except (FileNotFoundError, ConnectionRefusedError):
            sock.close()
            return None  # a file left by a killed daemon
        except OSError as exc:
            sock.close()
            raise DaemonError(f"cannot reach the daemon at {self.socket}: {exc}") from None
        return sock
