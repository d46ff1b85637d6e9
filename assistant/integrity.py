"""The whole vault checked on demand (`me check`): what is damaged, and what to do.

It reads every page of memory.db, authenticates vectors.sealed to its last byte and
compares keys.json with its checksums, without starting the vector index or writing
any memory. A passing check is remembered, so commands skip their automatic check
for a while (store/guard.py).
"""

from __future__ import annotations

from dataclasses import dataclass

from assistant.config import Config
from assistant.errors import KeyFileError
from assistant.keys import VaultKeys, remedy
from assistant.paths import Paths, ensure_private
from assistant.runtime import VaultLock
from assistant.vault import Secrets, load_key_file, unlock
from store.database import Database, open_database
from store.errors import DatabaseDamagedError, DatabaseKeyError
from store.guard import IntegrityGuard
from store.integrity import check_snapshot
from store.progress import Cancel, Progress

DATABASE_REMEDY = (
    "Restore memory.db from a backup, together with the keys.json of the same time; "
    "memories added since that backup must be ingested again. Until then Second Self "
    "refuses to write to it."
)
SNAPSHOT_REMEDY = (
    "Nothing to restore: it holds only derived data, and is rebuilt from memory.db the "
    "next time the vault opens (any command, e.g. `me status`)."
)


@dataclass(frozen=True)
class Finding:
    """One file's state: fine (no problem), or what is wrong and what to do."""

    file: str
    summary: str
    problem: str = ""
    remedy: str = ""

    @property
    def ok(self) -> bool:
        return not self.problem


@dataclass(frozen=True)
class VaultCheck:
    findings: tuple[Finding, ...]

    @property
    def ok(self) -> bool:
        return all(f.ok for f in self.findings)


def _key_findings(paths: Paths) -> list[Finding]:
    problems = load_key_file(paths).problems()
    if not problems:
        return [Finding("keys.json", "its checksums match")]
    return [Finding("keys.json", "", problem, remedy(part)) for part, problem in problems.items()]


def _snapshot_finding(
    paths: Paths,
    keys: VaultKeys,
    db: Database,
    progress: Progress | None,
    cancel: Cancel | None,
    held_open: bool = False,
) -> Finding:
    vectors = db.conn.execute("SELECT EXISTS (SELECT 1 FROM vectors)").fetchone()[0]
    expected = db.get_meta("snapshot_id")
    found = check_snapshot(paths.snapshot, keys.snapshot, expected, progress, cancel)
    if found.missing:
        if not vectors:
            return Finding(found.file, "not written yet (no vectors)")
        if held_open:  # the index lives in the runtime folder until the vault closes
            return Finding(found.file, "not sealed yet (the open index is sealed on lock)")
        return Finding(found.file, "", "it is missing", SNAPSHOT_REMEDY)
    if not found.ok:
        return Finding(found.file, "", f"it cannot be used: {found.problem}", SNAPSHOT_REMEDY)
    return Finding(found.file, f"authenticated ({found.size / 2**20:.1f} MiB)")


def _database_findings(
    paths: Paths, keys: VaultKeys, config: Config, progress: Progress | None, cancel: Cancel | None
) -> list[Finding]:
    guard = IntegrityGuard(paths.integrity_stamp, config.vault.check_after_days, progress, cancel)
    try:
        db = open_database(paths.database, keys.database, guard)
    except (DatabaseDamagedError, DatabaseKeyError) as exc:
        return [Finding(paths.database.name, "", str(exc), DATABASE_REMEDY)]
    try:
        return _open_database_findings(paths, keys, db, progress, cancel)
    finally:
        db.close()  # records the result: a pass spares the next commands their check


def _open_database_findings(
    paths: Paths,
    keys: VaultKeys,
    db: Database,
    progress: Progress | None,
    cancel: Cancel | None,
    held_open: bool = False,
) -> list[Finding]:
    result = db.guard.run(db.conn, db.path)
    if not result.ok:
        return [Finding(result.file, "", result.describe(), DATABASE_REMEDY)]
    summary = f"{result.pages} pages authenticated, structure intact ({result.seconds:.1f} s)"
    snapshot = _snapshot_finding(paths, keys, db, progress, cancel, held_open)
    return [Finding(result.file, summary), snapshot]


def check_open(
    paths: Paths,
    keys: VaultKeys,
    db: Database,
    progress: Progress | None = None,
    cancel: Cancel | None = None,
) -> VaultCheck:
    """`check_vault` for a vault this process already holds open (the daemon): the same
    findings, read through its connection. The sealed snapshot is the one on disk; one
    not written yet is no damage while the open index is still to be sealed."""
    guard = db.guard
    guard.progress, guard.cancel = progress, cancel
    try:
        found = _open_database_findings(paths, keys, db, progress, cancel, held_open=True)
        findings = _key_findings(paths) + found
    finally:
        guard.progress = guard.cancel = None
    return VaultCheck(tuple(findings))


def check_vault(
    paths: Paths,
    config: Config,
    secrets: Secrets,
    progress: Progress | None = None,
    cancel: Cancel | None = None,
) -> VaultCheck:
    """Check every file of the vault; damage is a finding, not an error.

    A wrong passphrase or a vault in use still raise: they say nothing about damage;
    nor does a cancelled check (`Cancelled`), which records nothing.
    """
    try:
        keys = unlock(paths, secrets)
    except KeyFileError as exc:
        return VaultCheck((Finding("keys.json", "", str(exc)),))  # says what to do
    lock = VaultLock(paths.lock_file, config.vault.lock_timeout)
    lock.acquire()
    try:
        ensure_private(paths.cache)
        findings = _key_findings(paths) + _database_findings(paths, keys, config, progress, cancel)
    finally:
        lock.release()
    return VaultCheck(tuple(findings))
