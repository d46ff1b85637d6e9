"""The audit log: one entry per release, refusal, grant change, forget and model call,
chained so that changing, removing or reordering entries is detected.

An entry holds who asked, for which field and attribute, the fact released and a keyed
hash of the value (so two releases of one value can be matched), never the value
itself. Each entry's MAC covers its sequence number, its content and the MAC of the
entry before it, under a key derived from the vault key: without that key no one can
write an entry that verifies. The last entry's number and MAC are mirrored in a file
outside the database (the head), so that a log cut short is detected too: its last
entry no longer reaches the head.

What it cannot do: someone holding the unlocked vault key (malware running as the
user while the vault is open) can rewrite the whole chain and its head.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import tempfile
from dataclasses import asdict, dataclass
from dataclasses import field as dataclass_field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import sqlcipher3

ACTIONS = frozenset(
    {
        "release",
        "refuse",
        "grant",
        "revoke",
        "forget",
        "model_call",
        "exclude",
        "retention",
        "backup",
        "restore",
        "export",
    }
)
GENESIS = "0" * 64  # the MAC "before" the first entry


class AuditError(Exception):
    """An entry that cannot be written as asked (an unknown action)."""


@dataclass(frozen=True)
class Entry:
    seq: int
    time: str
    action: str
    requester: str | None = None
    field: str | None = None
    attribute: str | None = None
    fact_id: int | None = None
    value_mac: str | None = None  # keyed hash of the value, never the value
    detail: dict[str, Any] = dataclass_field(default_factory=dict)  # counts, hosts, reasons
    mac: str = ""

    def as_json(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class Verdict:
    """What `verify` found: intact, or the first entry that is not as written."""

    intact: bool
    entries: int  # entries that verified
    first_bad: int | None  # the sequence number of the first bad or missing entry
    problem: str  # "" when intact; else what is wrong, in words
    note: str = ""  # something worth saying though the log is intact


def value_hash(key: bytes, value: str) -> str:
    """The keyed hash an entry keeps instead of a value."""
    return hmac.new(key, b"value\0" + value.encode(), hashlib.sha256).hexdigest()


def _mac(key: bytes, previous: str, entry: Entry) -> str:
    body = json.dumps(
        [entry.seq, previous, entry.time, entry.action, entry.requester, entry.field,
         entry.attribute, entry.fact_id, entry.value_mac, entry.detail],
        sort_keys=True, ensure_ascii=False, separators=(",", ":"),
    )  # fmt: skip
    return hmac.new(key, b"entry\0" + body.encode(), hashlib.sha256).hexdigest()


def append(
    conn: sqlcipher3.Connection,
    key: bytes,
    action: str,
    *,
    requester: str | None = None,
    field: str | None = None,
    attribute: str | None = None,
    fact_id: int | None = None,
    value: str | None = None,
    detail: dict[str, Any] | None = None,
    at: datetime | None = None,
) -> Entry:
    """Append an entry, inside the caller's write transaction (the action and its
    record commit together); `value` is kept only as its keyed hash."""
    if action not in ACTIONS:
        raise AuditError(f"unknown audit action {action!r}")
    last = conn.execute("SELECT seq, mac FROM audit ORDER BY seq DESC LIMIT 1").fetchone()
    seq, previous = (int(last[0]) + 1, str(last[1])) if last else (1, GENESIS)
    when = (at or datetime.now(UTC)).isoformat(timespec="seconds")
    entry = Entry(
        seq, when, action, requester, field, attribute, fact_id,
        value_hash(key, value) if value is not None else None, dict(detail or {}),
    )  # fmt: skip
    entry = Entry(**{**asdict(entry), "mac": _mac(key, previous, entry)})
    conn.execute(
        "INSERT INTO audit (seq, time, action, requester, field, attribute, fact_id, "
        "value_mac, detail, mac) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (entry.seq, entry.time, entry.action, entry.requester, entry.field, entry.attribute,
         entry.fact_id, entry.value_mac, json.dumps(entry.detail, ensure_ascii=False),
         entry.mac),
    )  # fmt: skip
    return entry


def entries(conn: sqlcipher3.Connection, since: str | None = None) -> list[Entry]:
    """Every entry (from the ISO day or time `since`), oldest first."""
    rows = conn.execute(
        "SELECT seq, time, action, requester, field, attribute, fact_id, value_mac, detail, "
        "mac FROM audit WHERE time >= ? ORDER BY seq",
        (since or "",),
    ).fetchall()
    return [_entry(row) for row in rows]


def _entry(row: Any) -> Entry:
    return Entry(int(row[0]), row[1], row[2], row[3], row[4], row[5], row[6], row[7],
                 json.loads(row[8] or "{}"), row[9])  # fmt: skip


# -- the head mirror ----------------------------------------------------------------------
def write_head(path: Path, key: bytes, entry: Entry) -> None:
    """Mirror the last entry (after its transaction committed), atomically, owner-only."""
    head = {"seq": entry.seq, "mac": entry.mac, "check": _head_check(key, entry.seq, entry.mac)}
    fd, temp = tempfile.mkstemp(dir=path.parent, prefix=".audit-head-")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as out:
            json.dump(head, out)
            out.flush()
            os.fsync(out.fileno())
        os.chmod(temp, 0o600)
        os.replace(temp, path)
    except BaseException:
        Path(temp).unlink(missing_ok=True)
        raise


def _head_check(key: bytes, seq: int, mac: str) -> str:
    return hmac.new(key, f"head\0{seq}\0{mac}".encode(), hashlib.sha256).hexdigest()


def read_head(path: Path, key: bytes) -> tuple[int, str] | None:
    """(sequence number, MAC) of the mirrored head; None when there is no head file.
    Raises ValueError when the file is not one this key wrote."""
    try:
        head = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return None
    except (OSError, ValueError) as exc:
        raise ValueError(f"the audit head {path.name} cannot be read ({exc})") from exc
    if not isinstance(head, dict) or not isinstance(head.get("seq"), int):
        raise ValueError(f"the audit head {path.name} is not an audit head")
    seq, mac = head["seq"], str(head.get("mac", ""))
    if not hmac.compare_digest(_head_check(key, seq, mac), str(head.get("check", ""))):
        raise ValueError(f"the audit head {path.name} was not written with this vault's key")
    return seq, mac


# -- verification -------------------------------------------------------------------------
def verify(conn: sqlcipher3.Connection, key: bytes, head_path: Path) -> Verdict:
    """Recompute the chain from the first entry; then compare its end with the head."""
    previous, expected = GENESIS, 1
    macs: dict[int, str] = {}
    for row in conn.execute(
        "SELECT seq, time, action, requester, field, attribute, fact_id, value_mac, detail, "
        "mac FROM audit ORDER BY seq"
    ):
        entry = _entry(row)
        if entry.seq != expected:
            return Verdict(False, expected - 1, expected, f"entry {expected} is missing")
        if not hmac.compare_digest(_mac(key, previous, entry), entry.mac):
            return Verdict(False, expected - 1, entry.seq,
                           f"entry {entry.seq} is not as it was written "
                           "(changed, or moved from another place in the log)")  # fmt: skip
        macs[entry.seq] = entry.mac
        previous, expected = entry.mac, expected + 1
    last = expected - 1
    try:
        head = read_head(head_path, key)
    except ValueError as exc:
        return Verdict(False, last, None, str(exc))
    if head is None:
        if last == 0:
            return Verdict(True, 0, None, "")
        return Verdict(False, last, None, "the audit head is missing: the log cannot be "
                       "shown to be complete")  # fmt: skip
    seq, mac = head
    if seq > last:
        return Verdict(False, last, last + 1, f"the log ends at entry {last}, but its head "
                       f"says {seq}: entries {last + 1} to {seq} were removed")  # fmt: skip
    if not hmac.compare_digest(macs.get(seq, ""), mac):
        return Verdict(False, last, seq, f"entry {seq} is not the one the head recorded")
    note = ""
    if seq < last:  # written, but the process stopped before mirroring it
        note = f"the head lags at entry {seq} of {last} (a stop right after a write)"
    return Verdict(True, last, None, "", note)
