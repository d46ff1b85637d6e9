"""The runtime folder: who holds the vault, what a killed process left, whether it is RAM.

While a command has the vault open, the vector index lives in the clear in the
runtime folder. A process killed with SIGKILL cannot remove it, so every start of
`me` sweeps such leftovers first, unless a live process holds the vault: the lock
is an flock, which the kernel releases when its holder dies.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import shutil
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import IO

from assistant.paths import Paths
from store.errors import DatabaseBusyError
from store.layout import restore_dir, snapshot_tmp

RAM_FILESYSTEMS = {"tmpfs", "ramfs"}


class VaultLock:
    """An exclusive advisory lock on the vault, released when the process ends."""

    def __init__(self, path: Path, timeout: float) -> None:
        self.path = path
        self.timeout = timeout
        self._fh: IO[str] | None = None

    def try_acquire(self) -> bool:
        """Take the lock if it is free right now."""
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)
        fh = os.fdopen(fd, "r+")
        try:
            fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            fh.close()
            return False
        self._fh = fh
        return True

    def acquire(self) -> None:
        deadline = time.monotonic() + self.timeout
        while not self.try_acquire():
            if time.monotonic() >= deadline:
                raise DatabaseBusyError(
                    f"another Second Self process is using the vault at {self.path.parent}"
                    f" (waited {self.timeout:.0f} s); try again when it has finished"
                )
            time.sleep(0.1)

    def release(self) -> None:
        if self._fh is not None:
            fcntl.flock(self._fh, fcntl.LOCK_UN)
            self._fh.close()
            self._fh = None


def leftovers(paths: Paths) -> list[Path]:
    """Plaintext index copies and half-sealed snapshots that exist right now."""
    candidates = (paths.vector_dir, restore_dir(paths.vector_dir), snapshot_tmp(paths.snapshot))
    return [p for p in candidates if p.exists() or p.is_symlink()]


def remove(found: list[Path]) -> None:
    for path in found:
        if path.is_dir() and not path.is_symlink():
            shutil.rmtree(path, ignore_errors=True)
        else:
            path.unlink(missing_ok=True)


def drop_if_empty(folder: Path) -> None:
    with contextlib.suppress(OSError):  # not empty, or already gone
        folder.rmdir()


def sweep_stale(paths: Paths) -> list[Path]:
    """Remove what a killed process left, unless a live process holds the vault.

    Costs a few `stat` calls when there is nothing to do, so every start can afford it.
    """
    found = leftovers(paths)
    if not found:
        return []
    if paths.lock_file.exists():
        lock = VaultLock(paths.lock_file, timeout=0)
        if not lock.try_acquire():
            return []  # they belong to the process holding the vault
        try:
            remove(found)
        finally:
            lock.release()
    else:  # no vault lock ever existed here: no process can be using them
        remove(found)
    drop_if_empty(paths.runtime)
    return found


@dataclass(frozen=True)
class RuntimeStorage:
    """The filesystem under the runtime folder, and whether it keeps files in RAM only."""

    path: Path
    filesystem: str
    in_ram: bool

    def describe(self) -> str:
        if self.in_ram:
            return f"{self.filesystem}, in RAM"
        return f"{self.filesystem}: on disk, not in RAM; the open index is kept there"

    def warning(self) -> str:
        """What a user should know when the plaintext index copy is not in RAM ("" if it is)."""
        if self.in_ram:
            return ""
        return (
            f"the runtime folder {self.path} is on a disk ({self.filesystem}), not in RAM: "
            "while the vault is open the vector index is kept there unencrypted, and its "
            "deleted files may linger on the disk. Point XDG_RUNTIME_DIR at a tmpfs "
            "(such as /run/user/<uid>) to keep it in memory."
        )


def _unescape(field: str) -> str:
    """mountinfo writes spaces, tabs, newlines and backslashes as octal escapes."""
    for code, char in (("\\040", " "), ("\\011", "\t"), ("\\012", "\n"), ("\\134", "\\")):
        field = field.replace(code, char)
    return field


def _linux_filesystem(path: Path) -> str:
    """The type of the mount holding `path`, from /proc/self/mountinfo."""
    target = os.path.realpath(path)
    best, kind = "", "unknown"
    try:
        lines = Path("/proc/self/mountinfo").read_text(encoding="utf-8").splitlines()
    except OSError:
        return kind
    for line in lines:
        head, sep, tail = line.partition(" - ")
        fields = head.split()
        if not sep or len(fields) < 5 or not tail:
            continue
        point = _unescape(fields[4])
        inside = target == point or target.startswith(point.rstrip("/") + "/")
        if inside and len(point) >= len(best):  # the deepest, and the last one stacked
            best, kind = point, tail.split()[0]
    return kind


def runtime_storage(path: Path) -> RuntimeStorage:
    """Where the runtime folder's files really live (it may not exist yet)."""
    existing = next((p for p in (path, *path.parents) if p.exists()), Path("/"))
    if sys.platform.startswith("linux"):
        kind = _linux_filesystem(existing)
        return RuntimeStorage(path, kind, kind in RAM_FILESYSTEMS)
    if sys.platform == "darwin":  # macOS has no tmpfs: its temp folders are on disk
        return RuntimeStorage(path, "macOS disk", False)
    return RuntimeStorage(path, "unknown filesystem", False)
