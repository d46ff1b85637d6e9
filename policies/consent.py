"""Consent and retention rules: what of a source is never remembered, and how long
memories of a kind are kept.

- An **exclusion** belongs to a source: a conversation (a group chat you do not want
  remembered), matched by its name without regard to case, or a shell pattern over the
  file's path inside the source (`Work/*`, `*.eml`; `*` crosses folders too).
- A **retention rule** forgets memories of one kind (message, email, note, event,
  document; or every kind) once their date is older than a number of days.

This module keeps the rules and says what they match; `assistant/consent.py` applies
them (as forgets, audited) and ingest honours exclusions so nothing excluded is read
again.
"""

from __future__ import annotations

import fnmatch
import re
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import PurePath
from typing import Any

import sqlcipher3

EXCLUSION_KINDS = ("conversation", "glob")
EPISODE_KINDS = ("message", "email", "note", "event", "document")
_AGE = re.compile(r"^\s*(\d+)\s*(d|w|m|y)?\s*$", re.IGNORECASE)
_DAYS = {"d": 1, "w": 7, "m": 30, "y": 365}


class ConsentError(ValueError):
    """A rule that cannot be made as asked."""


@dataclass(frozen=True)
class Exclusion:
    id: int
    source_id: int
    kind: str  # "conversation" or "glob"
    pattern: str
    created: str

    def matches_file(self, relative: str) -> bool:
        """Whether a file, by its path inside the source, is excluded by this rule."""
        if self.kind != "glob":
            return False
        path = relative.replace("\\", "/")
        return fnmatch.fnmatchcase(path, self.pattern) or fnmatch.fnmatchcase(
            PurePath(path).name, self.pattern
        )

    def matches_conversation(self, conversation: str | None) -> bool:
        return (
            self.kind == "conversation"
            and conversation is not None
            and conversation.casefold().strip() == self.pattern.casefold().strip()
        )

    def as_json(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class RetentionRule:
    id: int
    kind: str | None  # None: every kind
    older_than: int  # days
    created: str

    def describe(self) -> str:
        return f"{self.kind or 'every'} memory older than {self.older_than} days"

    def as_json(self) -> dict[str, Any]:
        return asdict(self)


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


# -- exclusions ------------------------------------------------------------------------
def add_exclusion(
    conn: sqlcipher3.Connection, source_id: int, kind: str, pattern: str
) -> Exclusion:
    """Add an exclusion (or return the same one made before), inside the caller's
    transaction."""
    pattern = checked_exclusion(conn, source_id, kind, pattern).pattern
    conn.execute(
        "INSERT INTO exclusions (source_id, kind, pattern, created) VALUES (?, ?, ?, ?) "
        "ON CONFLICT(source_id, kind, pattern) DO NOTHING",
        (source_id, kind, pattern, _now()),
    )
    row = conn.execute(
        "SELECT id, source_id, kind, pattern, created FROM exclusions "
        "WHERE source_id = ? AND kind = ? AND pattern = ?",
        (source_id, kind, pattern),
    ).fetchone()
    return Exclusion(*row)


def checked_exclusion(
    conn: sqlcipher3.Connection, source_id: int, kind: str, pattern: str
) -> Exclusion:
    """The exclusion as it would be stored (id 0), refused when it cannot be: to plan
    with before it is made."""
    pattern = pattern.strip()
    if kind not in EXCLUSION_KINDS:
        raise ConsentError(f"an exclusion is a conversation or a glob, not {kind!r}")
    if not pattern:
        raise ConsentError(f"say which {kind} to exclude")
    listed = conn.execute(
        "SELECT 1 FROM sources WHERE id = ? AND listed = 1", (source_id,)
    ).fetchone()
    if listed is None:
        raise ConsentError(f"no source with id {source_id}; see `me sources list`")
    return Exclusion(0, source_id, kind, pattern, "")


def exclusions(conn: sqlcipher3.Connection, source_id: int | None = None) -> list[Exclusion]:
    rows = conn.execute(
        "SELECT id, source_id, kind, pattern, created FROM exclusions ORDER BY id"
    ).fetchall()
    return [Exclusion(*r) for r in rows if source_id is None or r[1] == source_id]


def remove_exclusion(conn: sqlcipher3.Connection, rule_id: int) -> Exclusion:
    found = [e for e in exclusions(conn) if e.id == rule_id]
    if not found:
        raise ConsentError(f"no exclusion with id {rule_id}; `me sources exclusions` lists them")
    conn.execute("DELETE FROM exclusions WHERE id = ?", (rule_id,))
    return found[0]


# -- retention -------------------------------------------------------------------------
def parse_age(text: str) -> int:
    """Days in "90", "90d", "12w", "6m" or "5y" (a month is 30 days, a year 365)."""
    found = _AGE.match(text)
    if found is None or int(found.group(1)) < 1:
        raise ConsentError(f"--older-than takes a number of days, weeks, months or years "
                           f"(90d, 12w, 6m, 5y), not {text!r}")  # fmt: skip
    return int(found.group(1)) * _DAYS[(found.group(2) or "d").lower()]


def add_retention(conn: sqlcipher3.Connection, kind: str | None, days: int) -> RetentionRule:
    if kind is not None and kind not in EPISODE_KINDS:
        raise ConsentError(f"unknown kind {kind!r}; choose from {', '.join(EPISODE_KINDS)}")
    if days < 1:
        raise ConsentError("a retention rule keeps memories at least one day")
    conn.execute(
        "INSERT INTO retention_rules (kind, older_than, created) VALUES (?, ?, ?) "
        "ON CONFLICT(kind, older_than) DO NOTHING",
        (kind, days, _now()),
    )
    row = conn.execute(
        "SELECT id, kind, older_than, created FROM retention_rules "
        "WHERE kind IS ? AND older_than = ?",
        (kind, days),
    ).fetchone()
    return RetentionRule(*row)


def retention_rules(conn: sqlcipher3.Connection) -> list[RetentionRule]:
    rows = conn.execute("SELECT id, kind, older_than, created FROM retention_rules ORDER BY id")
    return [RetentionRule(*r) for r in rows]


def remove_retention(conn: sqlcipher3.Connection, rule_id: int) -> RetentionRule:
    found = [r for r in retention_rules(conn) if r.id == rule_id]
    if not found:
        raise ConsentError(f"no retention rule with id {rule_id}; `me retention list` lists them")
    conn.execute("DELETE FROM retention_rules WHERE id = ?", (rule_id,))
    return found[0]
