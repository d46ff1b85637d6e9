"""Backup and restore that never bring back what was forgotten.

`backup` writes one file, a tar of the vault's own encrypted parts, taken together
while no long job runs:

- `memory.db`, copied with SQLite's backup API (a consistent copy, still SQLCipher);
- `vectors.sealed`, the sealed vector index (if it is older than the copy, or
  missing, the index is rebuilt from the database when the restored vault opens);
- `keys.json` (the wrapped keys: the same passphrase, keyring entry or recovery
  phrase opens the backup) and `audit.head`;
- `backup.json`: the vault id, the format and the time, nothing of the memory.

`restore` unpacks a backup beside the vault, opens it there and, before it replaces
anything, forgets again everything the vault's ledger of forgets (store/ledger.py,
and the live database's tombstones when it still opens) says was forgotten, with
every copy purged as any forget is. It carries the tombstones over, so a later sync
does not read the forgotten back either, and the audit entries written since the
backup. Only then are the vault's files replaced. A crash before that leaves the
vault as it was; the unpacked copy is removed by the next restore.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import shutil
import sqlite3
import tarfile
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import sqlcipher3

from assistant.config import Config
from assistant.errors import GovernanceError, KeyFileError
from assistant.governance import audited
from assistant.keys import VaultKeys
from assistant.memory import Memory
from assistant.paths import Paths, ensure_private
from assistant.runtime import VaultLock
from assistant.vault import Secrets, load_key_file, unlock
from policies import audit
from store import ledger, tombstones
from store.database import chunked, marks, open_database
from store.errors import SnapshotError, StoreError
from store.progress import Progress

if TYPE_CHECKING:
    from assistant.forget import ForgetPlan

log = logging.getLogger(__name__)

FORMAT = 1
MANIFEST = "backup.json"
PARTS = ("memory.db", "keys.json", "vectors.sealed", "audit.head")
REQUIRED = ("memory.db", "keys.json", MANIFEST)
STAGING = "restore.staging"
REPLACED = "restore.replaced"


@dataclass(frozen=True)
class BackupReport:
    path: str
    bytes: int
    episodes: int
    created: str

    def as_json(self) -> dict[str, Any]:
        return {"path": self.path, "bytes": self.bytes, "episodes": self.episodes,
                "created": self.created}  # fmt: skip


@dataclass(frozen=True)
class RestoreReport:
    path: str
    created: str  # when the backup was made
    episodes: int  # in the restored memory, after forgetting again
    forgotten_again: dict[str, int] = field(default_factory=dict)  # forget counts
    tombstones_carried: int = 0
    audit_entries_carried: int = 0
    notes: tuple[str, ...] = ()

    def as_json(self) -> dict[str, Any]:
        return {"path": self.path, "created": self.created, "episodes": self.episodes,
                "forgotten_again": self.forgotten_again,
                "tombstones_carried": self.tombstones_carried,
                "audit_entries_carried": self.audit_entries_carried,
                "notes": list(self.notes)}  # fmt: skip


class BackupError(GovernanceError):
    """A backup that cannot be written, or a file that is not a backup of this vault."""


def mirror_ledger(memory: Memory) -> None:
    """Write the forget ledger from the open database's tombstones."""
    ledger.write(memory.paths.forget_ledger, memory.keys.ledger, memory.keys.vault_id,
                 memory.db.conn)  # fmt: skip


# -- backup ----------------------------------------------------------------------------
def backup(memory: Memory, dest: Path) -> BackupReport:
    """Write a backup of the open vault to `dest` (a new file)."""
    if dest.exists():
        raise BackupError(f"{dest} exists; choose a new file name for the backup")
    if not dest.parent.is_dir():
        raise BackupError(f"{dest.parent} is not a folder")
    created = datetime.now(UTC).isoformat(timespec="seconds")
    paths = memory.paths
    work = ensure_private(paths.data / "backup.tmp")
    tmp = dest.with_name(f".{dest.name}.partial")
    try:
        with memory.jobs:  # no ingest, forget or reflection between the parts
            mirror_ledger(memory)
            if memory.index_report is not None:
                memory.index.seal()  # the open index's latest state, then the database
            episodes = int(memory.db.conn.execute("SELECT count(*) FROM episodes").fetchone()[0])
            _copy_database(memory, work / "memory.db")
            manifest = {"format": FORMAT, "vault_id": memory.keys.vault_id, "created": created}
            (work / MANIFEST).write_text(json.dumps(manifest))
            sources = {MANIFEST: work / MANIFEST, "memory.db": work / "memory.db",
                       "keys.json": paths.key_file, "vectors.sealed": paths.snapshot,
                       "audit.head": paths.audit_head}  # fmt: skip
            fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            with os.fdopen(fd, "wb") as fh, tarfile.open(fileobj=fh, mode="w") as tar:
                for name, source in sources.items():
                    if source.exists():
                        tar.add(source, arcname=name, recursive=False)
                fh.flush()
                os.fsync(fh.fileno())
        os.replace(tmp, dest)
    except (OSError, sqlcipher3.Error) as exc:
        tmp.unlink(missing_ok=True)
        reason = getattr(exc, "strerror", None) or exc
        raise BackupError(f"the backup could not be written to {dest}: {reason}") from exc
    finally:
        shutil.rmtree(work, ignore_errors=True)
    with audited(memory) as record:  # once it exists: the log never claims a failed one
        record("backup", detail={"file": dest.name})
    return BackupReport(str(dest), dest.stat().st_size, episodes, created)


def _copy_database(memory: Memory, target: Path) -> None:
    """A consistent, still encrypted copy (SQLite's backup API, under the same key)."""
    copy = sqlcipher3.connect(str(target))
    try:
        copy.execute(f"PRAGMA key = \"x'{memory.keys.database.hex()}'\"")
        copy.execute("PRAGMA cipher_log_level = NONE")
        memory.db.conn.backup(copy)
    finally:
        copy.close()
    target.chmod(0o600)


# -- restore ---------------------------------------------------------------------------
def restore(
    paths: Paths, config: Config, secrets: Secrets, archive: Path,
    progress: Progress | None = None,
) -> RestoreReport:  # fmt: skip
    """Replace the vault at `paths` with the backup `archive`, forgetting again what was
    forgotten since; see the module docstring."""
    ensure_private(paths.data)
    lock = VaultLock(paths.lock_file, 0.5)
    try:
        lock.acquire()
    except StoreError as exc:
        raise BackupError(
            "another Second Self process holds the vault (the daemon or the app?); stop it "
            "first (`me daemon stop`), then restore. Nothing was changed."
        ) from exc
    staging = paths.data / STAGING
    try:
        shutil.rmtree(staging, ignore_errors=True)  # an earlier restore's, cut short
        manifest = _unpack(archive, ensure_private(staging))
        staged = Paths(staging, paths.config, paths.cache,
                       paths.runtime.with_name(paths.runtime.name + "-restore"))  # fmt: skip
        keys = unlock(staged, secrets)
        if keys.vault_id != manifest.get("vault_id"):
            raise BackupError(f"{archive.name} is damaged: its keys and its manifest disagree")
        report = _prepare(staged, config, keys, archive, manifest,
                          _what_the_vault_knows(paths, keys), progress)  # fmt: skip
        _swap(paths, staging)
        return report
    finally:
        shutil.rmtree(staging, ignore_errors=True)
        lock.release()


def _unpack(archive: Path, into: Path) -> dict[str, Any]:
    """The backup's parts, checked to be only what a backup holds, into `into`."""
    if not archive.is_file():
        raise BackupError(f"{archive} is not a backup file")
    try:
        with tarfile.open(archive, mode="r:") as tar:
            members = tar.getmembers()
            names = [m.name for m in members]
            unknown = sorted(set(names) - {*PARTS, MANIFEST})
            if unknown or len(names) != len(set(names)) or not all(m.isfile() for m in members):
                held = ", ".join(unknown) or "other entries"
                raise BackupError(f"{archive.name} is not a Second Self backup (it holds {held})")
            missing = [n for n in REQUIRED if n not in names]
            if missing:
                raise BackupError(
                    f"{archive.name} is not a whole backup: {', '.join(missing)} missing"
                )
            tar.extractall(into, filter="data")
        manifest = json.loads((into / MANIFEST).read_text())
    except (tarfile.TarError, OSError, ValueError) as exc:
        raise BackupError(f"{archive.name} cannot be read as a backup: {exc}") from exc
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
        raise BackupError(f"{archive.name} is a backup format this Second Self does not know")
    for part in into.iterdir():
        part.chmod(0o600)
    return manifest


@dataclass
class _InPlace:
    """What the vault being replaced knows: the fingerprints of what it forgot, by the
    salt they are keyed with; its audit rows and the last entry its head names."""

    by_salt: dict[bytes, list[tuple[str, str, str]]] = field(default_factory=dict)
    audit_rows: list[tuple[Any, ...]] = field(default_factory=list)
    head_seq: int = 0
    notes: list[str] = field(default_factory=list)

    def add(self, salt: bytes, entries: list[tuple[str, str, str]]) -> None:
        known = self.by_salt.setdefault(salt, [])
        seen = {e[0] for e in known}
        known += [e for e in entries if e[0] not in seen]


def _what_the_vault_knows(paths: Paths, keys: VaultKeys) -> _InPlace:
    """The forgets the vault in place knows of (its ledger, and its database's
    tombstones if it still opens) and its audit log; refuses another vault's files."""
    found_here = _InPlace()
    notes = found_here.notes
    if not paths.key_file.exists() and not paths.database.exists():
        notes.append("there was no vault here: nothing to forget again")
        return found_here
    try:
        live_id = load_key_file(paths).vault_id
    except KeyFileError:
        live_id = None  # damaged keys.json: the ledger's own header says whose it is
    if live_id not in (None, keys.vault_id):
        raise BackupError(
            f"this backup is of vault {keys.vault_id}, but the vault here is {live_id}. "
            f"Restoring it would drop that vault's record of what it forgot; move "
            f"{paths.data} away first if you mean to. Nothing was changed."
        )
    try:
        found = ledger.read(paths.forget_ledger, keys.ledger)
    except SnapshotError as exc:
        found = None
        notes.append(f"the forget ledger could not be read ({exc})")
    if found is not None:
        found_here.add(found.salt, found.entries)
    with contextlib.suppress(SnapshotError, OSError, ValueError):
        head = audit.read_head(paths.audit_head, keys.audit)
        found_here.head_seq = head[0] if head else 0
    if paths.database.exists():
        try:
            db = open_database(paths.database, keys.database)
            try:
                found_here.add(bytes.fromhex(tombstones.salt_hex(db.conn)),
                               tombstones.rows(db.conn))  # fmt: skip
                found_here.audit_rows = db.conn.execute(
                    "SELECT * FROM audit ORDER BY seq"
                ).fetchall()
            finally:
                db.close()
        except (StoreError, sqlcipher3.Error, sqlite3.Error, RuntimeError) as exc:
            notes.append(f"the database being replaced could not be read ({exc}); "
                         "the forget ledger alone says what was forgotten")  # fmt: skip
    if not found_here.by_salt:
        notes.append("no record of forgets was found beside the vault")
    return found_here


def _prepare(
    staged: Paths, config: Config, keys: VaultKeys, archive: Path, manifest: dict[str, Any],
    in_place: _InPlace, progress: Progress | None,
) -> RestoreReport:  # fmt: skip
    """Open the unpacked backup, forget again, carry tombstones and audit entries."""
    from assistant import forget as forgetting

    with Memory.open(staged, config, Secrets(), progress=progress, keys=keys) as memory:
        conn = memory.db.conn
        notes = in_place.notes
        # The audit entries first: the forget below chains on from the last of them.
        carried_audit, lost = _carry_audit(memory, in_place)
        carried = _carry_tombstones(memory, in_place, notes)
        plan = forgetting.ForgetPlan(
            forgetting.Target(), label="what was forgotten since the backup"
        )
        _match(conn, in_place, plan)
        counts: dict[str, int] = {}
        if plan.episodes or plan.named_facts or plan.named_thoughts:
            counts = forgetting.apply(memory, forgetting.complete(conn, plan), progress).counts
        if lost:
            notes.append(f"audit entries {lost} were in the replaced database, which could not "
                         "be read: they are lost, and this entry says so")  # fmt: skip
        with audited(memory) as record:
            record("restore", detail={"file": archive.name, "backup_created": manifest["created"],
                                      "forgotten_again": counts, "tombstones_carried": carried,
                                      "audit_entries_lost": lost or None})  # fmt: skip
        mirror_ledger(memory)
        episodes = int(conn.execute("SELECT count(*) FROM episodes").fetchone()[0])
    return RestoreReport(str(archive), str(manifest["created"]), episodes, counts, carried,
                         carried_audit, tuple(notes))  # fmt: skip


def _carry_tombstones(memory: Memory, forgotten: _InPlace, notes: list[str]) -> int:
    """Add the vault's fingerprints to the restored database, so a later sync does not
    read the forgotten again. They are keyed with a salt; a backup of the same vault
    has the same one. One from before tombstones existed takes the vault's salt."""
    own = bytes.fromhex(tombstones.salt_hex(memory.db.conn))
    carried = 0
    with memory.db.write() as conn:
        for salt, entries in forgotten.by_salt.items():
            if salt != own and tombstones.count(conn) == 0:
                conn.execute(
                    "UPDATE meta SET value = ? WHERE key = 'tombstone_salt'", (salt.hex(),)
                )
                own = salt
            if salt == own:
                carried += tombstones.adopt(conn, entries)
            else:
                notes.append(f"{len(entries)} fingerprints keyed for another copy of this "
                             "vault were matched against the backup but could not be carried "
                             "over")  # fmt: skip
    return carried


def _match(conn: sqlcipher3.Connection, forgotten: _InPlace, plan: ForgetPlan) -> None:
    """Put into `plan` every row of the restored database the vault has forgotten."""
    for salt, entries in forgotten.by_salt.items():
        wanted = {k: {d for d, kind, _at in entries if kind == k} for k in tombstones.KINDS}
        for row_id, *key in conn.execute(
            "SELECT id, content_hash, sender, conversation, time FROM episodes"
        ):
            if (
                tombstones.digest(salt, "episode", tombstones.episode_key(*key))
                in wanted["episode"]
            ):
                plan.episodes.add(row_id)
        for row_id, *key in conn.execute("SELECT id, person_key, attribute, value_key FROM facts"):
            if tombstones.digest(salt, "fact", tombstones.fact_key(*key)) in wanted["fact"]:
                plan.named_facts.add(row_id)
        for row_id, text in conn.execute("SELECT id, text FROM thoughts"):
            if (
                tombstones.digest(salt, "thought", tombstones.thought_key(text))
                in wanted["thought"]
            ):
                plan.named_thoughts.add(row_id)


def _carry_audit(memory: Memory, in_place: _InPlace) -> tuple[int, str]:
    """Append the audit entries the vault wrote after the backup was made (they chain on
    from the backup's last entry, under the same key); (how many, which were lost)."""
    conn = memory.db.conn
    mine = conn.execute("SELECT seq, mac FROM audit ORDER BY seq DESC LIMIT 1").fetchone()
    last_seq, last_mac = (mine[0], mine[1]) if mine else (0, audit.GENESIS)
    live = in_place.audit_rows
    by_seq = {row[0]: row for row in live}
    shared = by_seq.get(last_seq)
    if live and (last_seq == 0 or (shared is not None and shared[-1] == last_mac)):
        newer = [row for row in live if row[0] > last_seq]
        with memory.db.write() as conn:
            columns = marks(newer[0]) if newer else ""
            for part in chunked(newer):
                conn.executemany(f"INSERT INTO audit VALUES ({columns})", part)
        if newer:
            audit.write_head(memory.paths.audit_head, memory.keys.audit, audit.entries(conn)[-1])
        return len(newer), ""
    if in_place.head_seq > last_seq:
        return 0, f"{last_seq + 1}-{in_place.head_seq}"
    return 0, ""


def _swap(paths: Paths, staging: Path) -> None:
    """Put the prepared files in place of the vault's (the old ones go)."""
    replaced = ensure_private(paths.data / REPLACED)
    names = (*PARTS, paths.forget_ledger.name)
    for name in names:  # the old database last out, so its keys stay beside it longest
        for extra in ("", "-wal", "-shm"):
            old = paths.data / (name + extra)
            if old.exists():
                os.replace(old, replaced / (name + extra))
    for name in reversed(names):  # the new database last in, once its keys are there
        new = staging / name
        if new.exists():
            os.replace(new, paths.data / name)
    shutil.rmtree(replaced, ignore_errors=True)
    log.info("restored the vault from a backup")
