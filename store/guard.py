"""When a full integrity check must run before writing, and the stamp that remembers it.

A full check costs seconds at 100k memories (bench/integrity_check.py), too much for
every command. The guard runs it before the first write of a process when:

- there is no record of a passing check (a new machine, a lost stamp);
- memory.db is not the file this program last closed: its size, times, inode or
  write-ahead log differ (a byte flipped by another program, a restored copy, a
  crash that left the log behind);
- the last passing check is older than the `[vault] check_after_days` setting (damage
  that changes no timestamp, such as a failing disk);
- a vector-index rebuild or a schema migration is about to run (always).

Once damage is seen, every later write of the process is refused and the stamp is
dropped, so the next process checks again. The stamp lives outside the vault (in the
cache folder): losing it costs one check, never a memory.
"""

from __future__ import annotations

import json
import logging
import os
import time
from dataclasses import asdict, dataclass
from pathlib import Path

import sqlcipher3

from store.errors import DatabaseDamagedError
from store.integrity import RESTORE_HINT, DatabaseCheck, check_database
from store.progress import Cancel, Progress

log = logging.getLogger(__name__)

DAY = 86_400.0


@dataclass(frozen=True)
class Fingerprint:
    """What changes when anyone writes the file: size, times, inode, write-ahead log."""

    size: int
    mtime_ns: int
    ctime_ns: int
    inode: int
    wal_size: int

    @classmethod
    def of(cls, path: Path) -> Fingerprint | None:
        try:
            info = path.stat()
        except FileNotFoundError:
            return None
        wal = path.with_name(path.name + "-wal")
        wal_size = wal.stat().st_size if wal.exists() else 0
        return cls(info.st_size, info.st_mtime_ns, info.st_ctime_ns, info.st_ino, wal_size)


@dataclass(frozen=True)
class Stamp:
    """The last passing full check, and the file as this program last closed it."""

    checked_at: float  # unix time; 0 when no check has passed yet
    closed: Fingerprint | None


def read_stamp(path: Path) -> Stamp | None:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        closed = Fingerprint(**data["closed"]) if data.get("closed") else None
        return Stamp(float(data["checked_at"]), closed)
    except (OSError, ValueError, TypeError, KeyError):
        return None  # missing or unreadable: a check is due, nothing else is lost


def write_stamp(path: Path, stamp: Stamp) -> None:
    """Atomic and private; a failure only means the next process checks again."""
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            json.dump(asdict(stamp), fh)
        os.replace(tmp, path)
    except OSError as exc:
        log.warning("integrity stamp not written (%s); the next command checks again", exc)
        tmp.unlink(missing_ok=True)


class IntegrityGuard:
    """Runs the full check before the first write of a process when one is due."""

    def __init__(
        self,
        stamp: Path | None = None,
        max_age_days: float = float("inf"),
        progress: Progress | None = None,
        cancel: Cancel | None = None,
    ) -> None:
        """Without a stamp file, only forced checks run (a new or a bare database).
        `progress` and `cancel` serve whoever is waiting for the check now (the command
        opening the vault); they can be dropped once it has opened."""
        self.stamp_path = stamp
        self.max_age_days = max_age_days
        self.progress = progress
        self.cancel = cancel
        self._due = None if stamp is None else "there is no record of an earlier check"
        self._passed = False  # a full check passed in this process
        self._checked_at = 0.0
        self._damage: str | None = None

    def observe(self, db_path: Path) -> None:
        """Before opening: compare the file with how this program last left it."""
        if self.stamp_path is None:
            return
        stamp = read_stamp(self.stamp_path)
        if stamp is None:
            return
        self._checked_at = stamp.checked_at
        if stamp.closed is None or stamp.closed != Fingerprint.of(db_path):
            self._due = f"{db_path.name} changed since Second Self last closed it"
        elif time.time() - stamp.checked_at > self.max_age_days * DAY:
            self._due = f"the last full check is more than {self.max_age_days:g} days old"
        else:
            self._due = None

    @property
    def due(self) -> str | None:
        """Why a check must run before the next write, or None."""
        return None if self._passed else self._due

    def ensure(self, conn: sqlcipher3.Connection, path: Path, reason: str | None = None) -> None:
        """Return once writing is safe; raise DatabaseDamagedError when it is not."""
        if self._damage is not None:
            raise DatabaseDamagedError(self._damage)
        if self._passed:
            return
        why = reason or self._due
        if why is None:
            return
        log.info("full integrity check of %s: %s", path.name, why)
        result = self.run(conn, path)
        if not result.ok:
            raise DatabaseDamagedError(f"{result.describe()}. Nothing was written. {RESTORE_HINT}.")

    def run(self, conn: sqlcipher3.Connection, path: Path) -> DatabaseCheck:
        """The full check, now, remembered for this process and the next."""
        result = check_database(conn, path, self.progress, self.cancel)
        if result.ok:
            self._passed = True
            self._checked_at = time.time()
        else:
            self.mark_damaged(f"{result.describe()}. {RESTORE_HINT}.")
        return result

    def mark_damaged(self, message: str) -> None:
        """Refuse every later write of this process; the next one checks again."""
        self._damage = message
        self._passed = False

    @property
    def damaged(self) -> bool:
        return self._damage is not None

    def record_close(self, db_path: Path) -> None:
        """After the last connection closed: remember the file as it is now."""
        if self.stamp_path is None:
            return
        if self._damage is not None:
            self.stamp_path.unlink(missing_ok=True)
            return
        stamp = Stamp(self._checked_at, Fingerprint.of(db_path))
        if read_stamp(self.stamp_path) != stamp:
            write_stamp(self.stamp_path, stamp)
