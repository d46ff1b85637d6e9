"""Full integrity checks of the encrypted files, and the damage they name.

SQLCipher authenticates a page only when it reads it, so a flipped byte in a page
that no command happens to read goes unnoticed while new data is written around it.
A full check reads every page: `PRAGMA cipher_integrity_check` verifies each page's
HMAC, then `PRAGMA integrity_check` walks the b-trees, indexes and FTS tables. The
sealed vector snapshot is authenticated by streaming it through `SealedReader`.

When the full check must run before writing is decided in `store/guard.py`.
"""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import sqlcipher3

from store.errors import Cancelled, SnapshotError
from store.progress import Cancel, Progress, check, report
from store.sealing import SEGMENT, SealedReader

CHECK_JOB = "the integrity check"

PAGE_SIZE = 4096  # SQLCipher 4 default; the check counts whole pages
AUTH_STAGE = "Authenticating memory.db pages"
STRUCTURE_STAGE = "Checking memory.db structure"
SNAPSHOT_STAGE = "Authenticating vectors.sealed"
# integrity_check reports no total. It first walks every b-tree, advancing the progress
# handler one step a page, for most of its time (85-89% at 10k-100k memories); then it
# checks each row against its indexes, for about 170 steps a page in all. Both measured
# by bench/integrity_check.py; they turn handler calls into an estimated bar.
WALK_SHARE = 0.85
STEPS_PER_PAGE = 170
HANDLER_STEPS = 1000
PAGE_RE = re.compile(r"\bpage (\d+)", re.IGNORECASE)
# SQLITE_CORRUPT and SQLITE_NOTADB, in the low byte of extended result codes.
DAMAGE_CODES = {sqlcipher3.SQLITE_CORRUPT, sqlcipher3.SQLITE_NOTADB}
RESTORE_HINT = (
    "Restore memory.db from a backup (together with the keys.json of the same time); "
    "`me check` lists the damage"
)


def page_list(pages: Sequence[int], limit: int = 8) -> str:
    """'page 41', 'pages 41, 104 and 5001', or the first few and how many more."""
    if len(pages) == 1:
        return f"page {pages[0]}"
    shown = ", ".join(str(p) for p in pages[:limit])
    if len(pages) > limit:
        return f"pages {shown} and {len(pages) - limit} more"
    head, _, last = shown.rpartition(", ")
    return f"pages {head} and {last}"


@dataclass(frozen=True)
class DatabaseCheck:
    """What a full check of one database file found."""

    file: str
    pages: int
    unauthenticated: tuple[int, ...] = ()  # pages whose HMAC does not verify
    problems: tuple[str, ...] = ()  # findings of the structure check
    seconds: float = 0.0

    @property
    def ok(self) -> bool:
        return not self.unauthenticated and not self.problems

    def describe(self) -> str:
        """What is damaged, in one sentence (or that nothing is)."""
        if self.ok:
            return f"{self.file}: {self.pages} pages authenticated, structure intact"
        parts = []
        if self.unauthenticated:
            parts.append(
                f"{page_list(self.unauthenticated)} of {self.pages} fail authentication "
                "(their bytes changed on disk)"
            )
        if self.problems:
            found = sorted({int(n) for line in self.problems for n in PAGE_RE.findall(line)})
            where = f" on {page_list(found)}" if found else ""
            parts.append(
                f"the structure check found {len(self.problems)} problem(s){where}, "
                f"first: {self.problems[0]}"
            )
        return f"{self.file} is damaged: " + "; ".join(parts)


def _file_pages(path: Path) -> int:
    wal = path.with_name(path.name + "-wal")
    wal_pages = wal.stat().st_size // (PAGE_SIZE + 24) if wal.exists() else 0
    return path.stat().st_size // PAGE_SIZE + wal_pages


def unauthenticated_pages(conn: sqlcipher3.Connection) -> tuple[tuple[int, ...], tuple[str, ...]]:
    """Pages failing their HMAC, and any finding that names no page.

    It reads the file directly, so it works even on a connection that an earlier
    authentication failure has put into SQLCipher's error state.
    """
    rows = [str(r[0]) for r in conn.execute("PRAGMA cipher_integrity_check").fetchall()]
    pages = sorted({int(n) for line in rows for n in PAGE_RE.findall(line)})
    return tuple(pages), tuple(line for line in rows if not PAGE_RE.search(line))


def _read_by_thread(tid: int) -> int | None:
    """Bytes a thread of this process has read so far (Linux /proc), or None."""
    try:
        for line in Path(f"/proc/self/task/{tid}/io").read_text().splitlines():
            if line.startswith("rchar:"):
                return int(line.split()[1])
    except (OSError, ValueError):
        pass
    return None


def _authenticate(
    conn: sqlcipher3.Connection, pages: int, progress: Progress | None
) -> tuple[tuple[int, ...], tuple[str, ...]]:
    """`unauthenticated_pages`, with progress from the bytes its thread has read.

    The pragma reports nothing while it runs; it reads the file page by page, so
    where the kernel counts a thread's reads, that count is the progress.
    """
    if progress is None:
        return unauthenticated_pages(conn)
    outcome: dict[str, Any] = {}

    def work() -> None:
        outcome["tid"] = threading.get_native_id()
        try:
            outcome["result"] = unauthenticated_pages(conn)
        except BaseException as exc:  # handed to the caller's thread below
            outcome["error"] = exc

    worker = threading.Thread(target=work, name="cipher-integrity-check", daemon=True)
    worker.start()
    while worker.is_alive():
        worker.join(0.1)
        read = _read_by_thread(outcome["tid"]) if "tid" in outcome else None
        if read is not None:
            report(progress, AUTH_STAGE, min(read // PAGE_SIZE, pages - 1), pages)
    if "error" in outcome:
        raise outcome["error"]
    result: tuple[tuple[int, ...], tuple[str, ...]] = outcome["result"]
    return result


def _structure(
    conn: sqlcipher3.Connection, pages: int, progress: Progress | None, cancel: Cancel | None
) -> list[str]:
    """`PRAGMA integrity_check`'s findings. A cancel interrupts it through the progress
    handler (a read-only statement: nothing to undo)."""
    walk = max(pages // HANDLER_STEPS, 1)  # handler calls while it walks the b-trees
    rest = max(pages * STEPS_PER_PAGE // HANDLER_STEPS - walk, 1)  # ... then checks rows
    calls = 0

    def tick() -> int:
        nonlocal calls
        calls += 1
        if calls <= walk:
            share = WALK_SHARE * calls / walk
        else:  # estimated: held below 100% until the check really ends
            share = WALK_SHARE + (1 - WALK_SHARE) * min((calls - walk) / rest, 0.99)
        report(progress, STRUCTURE_STAGE, int(share * pages), pages)
        return 1 if cancel is not None and cancel.cancelled else 0  # non-zero: interrupt

    report(progress, STRUCTURE_STAGE, 0, pages)
    conn.set_progress_handler(tick, HANDLER_STEPS)
    try:
        rows = conn.execute("PRAGMA integrity_check").fetchall()
    except (sqlcipher3.Error, MemoryError) as exc:
        if cancel is not None and cancel.cancelled:
            raise Cancelled(CHECK_JOB) from exc  # interrupted, not damaged
        return [f"a page could not be read ({exc or 'authentication failed'})"]
    finally:
        conn.set_progress_handler(None, 0)
    report(progress, STRUCTURE_STAGE, pages, pages)
    lines = [line for (text,) in rows for line in str(text).splitlines() if line.strip()]
    return [] if lines == ["ok"] else [ln for ln in lines if not ln.startswith("***")]


def check_database(
    conn: sqlcipher3.Connection,
    path: Path,
    progress: Progress | None = None,
    cancel: Cancel | None = None,
) -> DatabaseCheck:
    """Authenticate every page, then check the structure (only if every page is sound).

    A cancel stops it between the two stages or during the structure check (raising
    `Cancelled`): a check cut short says nothing, so nothing is recorded."""
    started = time.monotonic()
    pages = _file_pages(path)
    check(cancel, CHECK_JOB)
    report(progress, AUTH_STAGE, 0, pages)
    bad, other = _authenticate(conn, pages, progress)
    report(progress, AUTH_STAGE, pages, pages)
    check(cancel, CHECK_JOB)
    # Structure checks on unauthenticated pages only repeat the same damage, noisily.
    problems = list(other) if bad or other else _structure(conn, pages, progress, cancel)
    return DatabaseCheck(path.name, pages, bad, tuple(problems), time.monotonic() - started)


def is_damage(exc: BaseException, conn: sqlcipher3.Connection | None) -> bool:
    """Whether an error raised by SQLCipher means the file is damaged."""
    if isinstance(exc, sqlcipher3.DatabaseError):
        code = getattr(exc, "sqlite_errorcode", None)
        return code is not None and code & 0xFF in DAMAGE_CODES
    if isinstance(exc, MemoryError) and conn is not None:
        # After a page fails its HMAC, SQLCipher answers every read with SQLITE_NOMEM.
        try:
            conn.execute("PRAGMA user_version").fetchone()
        except (MemoryError, sqlcipher3.Error):
            return True
    return False


def failing_pages(conn: sqlcipher3.Connection) -> tuple[int, ...]:
    """The pages failing their HMAC, or none when even that cannot be read."""
    try:
        return unauthenticated_pages(conn)[0]
    except (sqlcipher3.Error, MemoryError):
        return ()


def damage_message(conn: sqlcipher3.Connection, path: Path, exc: BaseException) -> str:
    """The user's message for damage met while reading or writing."""
    bad = failing_pages(conn)
    what = f"{page_list(bad)} fail authentication" if bad else f"{exc or 'a page is unreadable'}"
    return f"{path.name} is damaged ({what}). Nothing more was written. {RESTORE_HINT}."


@dataclass(frozen=True)
class SnapshotCheck:
    """What authenticating the sealed vector snapshot found."""

    file: str
    size: int
    problem: str = ""  # empty: authenticated to its last byte
    missing: bool = False

    @property
    def ok(self) -> bool:
        return not self.problem


def check_snapshot(
    path: Path,
    key: bytes,
    expected_id: str | None,
    progress: Progress | None = None,
    cancel: Cancel | None = None,
) -> SnapshotCheck:
    """Stream the snapshot through authentication without writing any plaintext."""
    if not path.exists():
        return SnapshotCheck(path.name, 0, missing=True)
    size = path.stat().st_size
    report(progress, SNAPSHOT_STAGE, 0, size)
    try:
        with path.open("rb") as fh:
            reader = SealedReader(fh, key)
            if reader.header.get("id") != expected_id:
                raise SnapshotError("it is not the snapshot this database last sealed")
            while reader.read(SEGMENT):
                check(cancel, CHECK_JOB)
                report(progress, SNAPSHOT_STAGE, fh.tell(), size)
    except (SnapshotError, OSError) as exc:
        return SnapshotCheck(path.name, size, problem=str(exc))
    report(progress, SNAPSHOT_STAGE, size, size)
    return SnapshotCheck(path.name, size)
