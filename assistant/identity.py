"""Who "me" is: the user's names, emails, phone numbers and handles.

Kept inside the encrypted vault (not in config.toml: an identity is personal data).
Connectors report the writer of a message as the source names them (`sender`);
`Identity.author_of` turns that into self / other / unknown. Adding an identity
value later re-resolves the episodes already stored.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from assistant.errors import SecondSelfError
from connectors import Author, Item
from store.database import Database

KINDS = ("name", "email", "phone", "handle")
_NON_DIGITS = re.compile(r"\D+")
_SPACES = re.compile(r"\s+")


def normalize(kind: str, value: str) -> str:
    """The comparable form of an identity value or a sender of that kind."""
    value = value.strip()
    if kind == "phone":
        digits = _NON_DIGITS.sub("", value)
        return digits[-9:]  # national and international forms of a number agree here
    if kind == "handle":
        return value.lstrip("@").casefold()
    if kind == "email":
        return value.casefold()
    return _SPACES.sub(" ", value).casefold()


def _sender_forms(sender: str) -> set[str]:
    """Every kind's comparable form of a free-text sender ("Ana <ana@x.org>", "+351 ...")."""
    forms = {normalize("name", sender), normalize("handle", sender)}
    for email in re.findall(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+", sender):
        forms.add(normalize("email", email))
    digits = _NON_DIGITS.sub("", sender)
    if len(digits) >= 7 and not re.search(r"[A-Za-z]", sender):
        forms.add(normalize("phone", sender))
    name_part = re.sub(r"<[^>]*>", "", sender).strip().strip('"')
    if name_part:
        forms.add(normalize("name", name_part))
    return forms


@dataclass(frozen=True)
class Identity:
    values: frozenset[str]  # normalized forms of every identity value

    @classmethod
    def load(cls, db: Database) -> Identity:
        rows = db.conn.execute("SELECT kind, value FROM identity").fetchall()
        return cls(frozenset(normalize(kind, value) for kind, value in rows))

    def is_self(self, sender: str | None) -> bool:
        return bool(sender) and not _sender_forms(sender or "").isdisjoint(self.values)

    def author_of(self, item: Item) -> Author:
        if item.author != "unknown":
            return item.author  # the format itself said (a note, a ChatGPT "user" turn)
        if not item.sender:
            return "unknown"
        return "self" if self.is_self(item.sender) else "other"


@dataclass(frozen=True)
class IdentityValue:
    """One name, email, phone or handle of the user's, as entered."""

    kind: str
    value: str

    def as_json(self) -> dict[str, Any]:
        return {"kind": self.kind, "value": self.value}


def list_identity(db: Database) -> list[IdentityValue]:
    rows = db.conn.execute("SELECT kind, value FROM identity ORDER BY id")
    return [IdentityValue(k, v) for k, v in rows]


def check_value(kind: str, value: str) -> None:
    """Refuse an unknown kind or a value with nothing usable in it (no vault needed)."""
    if kind not in KINDS:
        raise SecondSelfError(f"unknown identity kind {kind!r}: use one of {', '.join(KINDS)}")
    if not normalize(kind, value):
        raise SecondSelfError(f"{value!r} is not a usable {kind}")


def add_identity(db: Database, kind: str, value: str) -> int:
    """Add one value; returns how many stored episodes became the user's own."""
    check_value(kind, value)
    with db.write() as conn:
        conn.execute(
            "INSERT INTO identity(kind, value, added_at) VALUES (?, ?, ?) "
            "ON CONFLICT(kind, value) DO NOTHING",
            (kind, value.strip(), datetime.now(UTC).isoformat(timespec="seconds")),
        )
        identity = Identity.load(db)
        senders = [
            r[0]
            for r in conn.execute(
                "SELECT DISTINCT sender FROM episodes WHERE sender IS NOT NULL AND author = 'other'"
            )
        ]
        mine = [s for s in senders if identity.is_self(s)]
        changed = 0
        for sender in mine:
            cur = conn.execute(
                "UPDATE episodes SET author = 'self' WHERE sender = ? AND author = 'other'",
                (sender,),
            )
            changed += cur.rowcount
    return changed
