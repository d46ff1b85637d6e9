"""Grants: which categories of what you know a requester (a site, an app, a script)
may be given by autofill, and until when. With no grant a fill is a preview only."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import sqlcipher3

from policies.release import CATEGORIES


class GrantError(ValueError):
    """A grant that cannot be made as asked."""


@dataclass(frozen=True)
class Grant:
    requester: str
    categories: tuple[str, ...]
    created: str
    expires: str | None  # ISO time; None: until revoked

    def active(self, now: datetime | None = None) -> bool:
        moment = now or datetime.now(UTC)
        return self.expires is None or datetime.fromisoformat(self.expires) > moment

    def as_json(self) -> dict[str, Any]:
        return asdict(self)


def checked_categories(names: list[str]) -> tuple[str, ...]:
    """The categories asked for, known ones only, in their canonical order."""
    wanted = [n.strip().casefold() for n in names if n.strip()]
    unknown = [n for n in wanted if n not in CATEGORIES]
    if unknown or not wanted:
        raise GrantError(
            f"unknown categor{'y' if len(unknown) == 1 else 'ies'} {', '.join(unknown)}; "
            f"choose from {', '.join(CATEGORIES)}" if unknown else
            f"say which categories to allow: {', '.join(CATEGORIES)}"
        )  # fmt: skip
    return tuple(c for c in CATEGORIES if c in wanted)


def add(
    conn: sqlcipher3.Connection,
    requester: str,
    categories: tuple[str, ...],
    expires_days: int | None = None,
    now: datetime | None = None,
) -> Grant:
    """Grant (or replace the grant of) `requester`, inside the caller's transaction."""
    requester = requester.strip()
    if not requester:
        raise GrantError("say who the grant is for (a site, an app or a script's name)")
    if expires_days is not None and expires_days < 1:
        raise GrantError("--expires is a number of days, at least 1")
    moment = now or datetime.now(UTC)
    expires = moment + timedelta(days=expires_days) if expires_days is not None else None
    grant = Grant(requester, checked_categories(list(categories)),
                  moment.isoformat(timespec="seconds"),
                  expires.isoformat(timespec="seconds") if expires else None)  # fmt: skip
    conn.execute(
        "INSERT INTO grants (requester, categories, created, expires) VALUES (?, ?, ?, ?) "
        "ON CONFLICT(requester) DO UPDATE SET categories = excluded.categories, "
        "created = excluded.created, expires = excluded.expires",
        (grant.requester, json.dumps(list(grant.categories)), grant.created, grant.expires),
    )
    return grant


def revoke(conn: sqlcipher3.Connection, requester: str) -> bool:
    """Remove `requester`'s grant; whether there was one."""
    return conn.execute("DELETE FROM grants WHERE requester = ?", (requester.strip(),)).rowcount > 0


def listing(conn: sqlcipher3.Connection) -> list[Grant]:
    rows = conn.execute(
        "SELECT requester, categories, created, expires FROM grants ORDER BY requester"
    ).fetchall()
    return [Grant(r[0], tuple(json.loads(r[1])), r[2], r[3]) for r in rows]


def granted(
    conn: sqlcipher3.Connection, requester: str, now: datetime | None = None
) -> frozenset[str]:
    """The categories `requester` may be given now: none without an active grant."""
    row = conn.execute(
        "SELECT requester, categories, created, expires FROM grants WHERE requester = ?",
        (requester.strip(),),
    ).fetchone()
    if row is None:
        return frozenset()
    grant = Grant(row[0], tuple(json.loads(row[1])), row[2], row[3])
    return frozenset(grant.categories) if grant.active(now) else frozenset()
