"""Persona facts: attributes of the user and the people they know, kept true over time.

A fact is never overwritten. For a one-valued attribute (city, employer...), a newer
value closes the fact that held until then (`valid_to`, `superseded_by`), so the
history answers "where did I live in 2022?". Two different values dated within
`conflict_days` of each other are both kept and flagged as a conflict for the user.
A value the user set or pinned wins: reflection keeps what it extracts against it
as "shadowed" evidence and never changes it. A hidden value, or one the user forgot
(a tombstone remains), is not re-learned.

Every change goes through `changes.Change`, so it shows in `me history` and can be
undone. All functions run inside the caller's write transaction.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

import sqlcipher3

from assistant.derived import people
from assistant.derived.attributes import ATTRIBUTES, is_single, person_key, value_key
from assistant.derived.changes import Change, inserted_id, now_iso
from assistant.derived.evidence import relabel
from assistant.derived.proposals import FactCandidate
from assistant.errors import MemoryRefError
from store import tombstones
from store.database import chunked, marks

CURRENT = "status IN ('active', 'conflict') AND valid_to IS NULL"
FACT_COLUMNS = (
    "id, person, attribute, value, valid_from, valid_to, superseded_by, confidence, "
    "origin, engine, status, pinned, sensitivity, trust"
)


@dataclass(frozen=True)
class Fact:
    id: int
    person: str
    attribute: str
    value: str
    valid_from: str | None
    valid_to: str | None
    superseded_by: int | None
    confidence: float
    origin: str
    engine: str
    status: str
    pinned: bool
    sensitivity: str = "normal"
    trust: str = "user_file"
    evidence: tuple[int, ...] = ()

    @property
    def current(self) -> bool:
        return self.status in ("active", "conflict") and self.valid_to is None

    def as_json(self) -> dict[str, Any]:
        return {
            "id": f"f{self.id}",
            "person": self.person,
            "attribute": self.attribute,
            "value": self.value,
            "valid_from": self.valid_from,
            "valid_to": self.valid_to,
            "superseded_by": f"f{self.superseded_by}" if self.superseded_by else None,
            "confidence": round(self.confidence, 3),
            "origin": self.origin,
            "status": self.status,
            "pinned": self.pinned,
            "sensitivity": self.sensitivity,
            "trust": self.trust,
            "evidence": [f"e{e}" for e in self.evidence],
        }


def _fact(conn: sqlcipher3.Connection, row: tuple[Any, ...]) -> Fact:
    evidence = tuple(
        r[0]
        for r in conn.execute(
            "SELECT episode_id FROM fact_evidence WHERE fact_id = ? ORDER BY episode_id", (row[0],)
        )
    )
    (fact_id, person, attribute, value, valid_from, valid_to, superseded_by, confidence,
     origin, engine, status, pinned, level, trust) = row  # fmt: skip
    return Fact(
        fact_id, person, attribute, value, valid_from, valid_to, superseded_by, confidence,
        origin, engine, status, bool(pinned), level, trust, evidence,
    )  # fmt: skip


def get(conn: sqlcipher3.Connection, fact_id: int) -> Fact:
    row = conn.execute(f"SELECT {FACT_COLUMNS} FROM facts WHERE id = ?", (fact_id,)).fetchone()
    if row is None:
        raise MemoryRefError(f"there is no persona fact f{fact_id}; `me persona --all` lists them")
    return _fact(conn, row)


def facts(
    conn: sqlcipher3.Connection,
    person: str | None = None,
    attribute: str | None = None,
    include_closed: bool = False,
) -> list[Fact]:
    """Facts, current ones only unless `include_closed`; ordered by person, attribute,
    then time."""
    sql = f"SELECT {FACT_COLUMNS} FROM facts WHERE 1"
    args: list[Any] = []
    if person is not None:
        sql += " AND person_key = ?"
        args.append(person_key(people.resolve(conn, person)))
    if attribute is not None:
        sql += " AND attribute = ?"
        args.append(attribute)
    if not include_closed:
        sql += f" AND {CURRENT}"
    sql += " ORDER BY person_key != 'self', person_key, attribute, valid_from, id"
    return [_fact(conn, r) for r in conn.execute(sql, args).fetchall()]


def resolve_person(person: str) -> str:
    """'me', 'I', 'myself' and 'self' all mean the user."""
    return "self" if person.strip().casefold() in ("me", "i", "myself", "self") else person.strip()


def _slot(conn: sqlcipher3.Connection, pkey: str, attribute: str) -> list[Fact]:
    rows = conn.execute(
        f"SELECT {FACT_COLUMNS} FROM facts WHERE person_key = ? AND attribute = ? "
        "AND status != 'hidden' ORDER BY valid_from, id",
        (pkey, attribute),
    ).fetchall()
    return [_fact(conn, r) for r in rows]


def _holding_at(slot: list[Fact], moment: str) -> list[Fact]:
    """Facts of a slot whose validity covers `moment` (shadowed ones never do)."""
    return [
        f
        for f in slot
        if f.status in ("active", "conflict")
        and (f.valid_from or "") <= moment
        and (f.valid_to is None or moment < f.valid_to)
    ]


def _insert(
    conn: sqlcipher3.Connection,
    person: str,
    attribute: str,
    value: str,
    valid_from: str | None,
    confidence: float,
    origin: str,
    engine: str,
    status: str = "active",
    evidence: int | None = None,
) -> int:
    stamp = now_iso()
    fact_id = inserted_id(
        conn.execute(
            "INSERT INTO facts (person, person_key, attribute, value, value_key, valid_from, "
            "confidence, origin, engine, status, created_at, updated_at) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                person, person_key(person), attribute, value, value_key(value), valid_from,
                confidence, origin, engine, status, stamp, stamp,
            ),
        )
    )  # fmt: skip
    if evidence is not None:
        conn.execute(
            "INSERT OR IGNORE INTO fact_evidence (fact_id, episode_id) VALUES (?, ?)",
            (fact_id, evidence),
        )
    relabel(conn, "fact", fact_id)
    return fact_id


def _insert_candidate(
    conn: sqlcipher3.Connection, person: str, cand: FactCandidate, engine: str, status: str
) -> int:
    return _insert(
        conn, person, cand.attribute, cand.value, cand.valid_from, cand.confidence,
        "extracted", engine, status, cand.evidence,
    )  # fmt: skip


def _close(conn: sqlcipher3.Connection, fact_id: int, at: str | None, by: int) -> None:
    conn.execute(
        "UPDATE facts SET valid_to = ?, superseded_by = ?, status = 'active', updated_at = ? "
        "WHERE id = ?",
        (at, by, now_iso(), fact_id),
    )


@dataclass(frozen=True)
class Outcome:
    """What adding an extracted fact did: op is insert, reinforce, supersede,
    conflict, shadow or skip; `closed` are the facts it superseded."""

    op: str
    fact_id: int | None
    closed: tuple[int, ...] = ()


def add_extracted(
    conn: sqlcipher3.Connection, cand: FactCandidate, engine: str, conflict_days: float
) -> Outcome:
    """Fold one extracted fact into the persona (see the module docstring)."""
    person = people.resolve(conn, cand.person)
    pkey, vkey = person_key(person), value_key(cand.value)
    hidden = conn.execute(
        "SELECT 1 FROM facts WHERE person_key = ? AND attribute = ? AND value_key = ? "
        "AND status = 'hidden'",
        (pkey, cand.attribute, vkey),
    ).fetchone()
    if hidden or tombstones.buried(conn, "fact", [tombstones.fact_key(pkey, cand.attribute, vkey)]):
        return Outcome("skip", None)
    moment = cand.valid_from or ""
    slot = _slot(conn, pkey, cand.attribute)
    if not is_single(cand.attribute):
        same = [f for f in slot if value_key(f.value) == vkey and f.valid_to is None]
        if same:
            return _reinforce(conn, same[0], cand, engine)
        return _new(conn, "insert", person, cand, engine, f"new {cand.attribute} value")
    holding = _holding_at(slot, moment)
    for fact in holding:
        if same_value(cand.attribute, value_key(fact.value), vkey):
            return _reinforce(conn, fact, cand, engine)
    settled = [f for f in holding if f.origin == "user" or f.pinned]
    if settled:
        reason = f"f{settled[0].id} was set or pinned by the user; kept as evidence only"
        return _new(conn, "shadow", person, cand, engine, reason, status="shadowed")
    if not holding:  # nothing held then: the first value, or one from before the rest
        later = [f for f in slot if (f.valid_from or "") > moment and f.status != "shadowed"]
        out = _new(conn, "insert", person, cand, engine, f"first {cand.attribute} known then")
        if later and out.fact_id is not None:
            conn.execute(
                "UPDATE facts SET valid_to = ?, superseded_by = ? WHERE id = ?",
                (later[0].valid_from, later[0].id, out.fact_id),
            )
        return out
    near = [f for f in holding if _days_apart(f.valid_from, moment) <= conflict_days]
    if near:
        return _conflict(conn, person, cand, engine, near)
    return _supersede(conn, person, cand, engine, holding)


# Organisations are often called by the first words of their name: "Maré" is "Maré
# Energy", "Farol" is "Farol Analytics".
SHORTENED = frozenset({"employer", "school"})


def same_value(attribute: str, a: str, b: str) -> bool:
    """Whether two value keys name the same value of `attribute`."""
    if a == b:
        return True
    if attribute not in SHORTENED:
        return False
    short, long = sorted((a.split(), b.split()), key=len)
    return long[: len(short)] == short


def _days_apart(a: str | None, b: str | None) -> float:
    if not a or not b:
        return float("inf")
    return abs((_as_date(a) - _as_date(b)).days)


def _as_date(text: str) -> date:
    return datetime.fromisoformat(text).date() if "T" in text else date.fromisoformat(text[:10])


def _new(
    conn: sqlcipher3.Connection,
    op: str,
    person: str,
    cand: FactCandidate,
    engine: str,
    reason: str,
    status: str = "active",
) -> Outcome:
    change = Change(conn, op, f"{reason} (from e{cand.evidence})", engine)
    fact_id = _insert_candidate(conn, person, cand, engine, status)
    change.created("fact", fact_id)
    change.finish()
    return Outcome(op, fact_id)


def _reinforce(
    conn: sqlcipher3.Connection, fact: Fact, cand: FactCandidate, engine: str
) -> Outcome:
    """The same value again: one more piece of evidence, a little more confidence."""
    if cand.evidence in fact.evidence:
        return Outcome("skip", fact.id)
    change = Change(conn, "reinforce", f"e{cand.evidence} says the same", engine)
    change.before("fact", fact.id)
    confidence = 1 - (1 - fact.confidence) * (1 - cand.confidence)
    conn.execute(
        "UPDATE facts SET confidence = ?, updated_at = ? WHERE id = ?",
        (confidence, now_iso(), fact.id),
    )
    conn.execute(
        "INSERT OR IGNORE INTO fact_evidence (fact_id, episode_id) VALUES (?, ?)",
        (fact.id, cand.evidence),
    )
    relabel(conn, "fact", fact.id)
    change.finish()
    return Outcome("reinforce", fact.id)


def _conflict(
    conn: sqlcipher3.Connection, person: str, cand: FactCandidate, engine: str, near: list[Fact]
) -> Outcome:
    others = ", ".join(f"f{f.id}" for f in near)
    change = Change(
        conn, "conflict", f"e{cand.evidence} disagrees with {others}, same days", engine
    )
    for fact in near:
        change.before("fact", fact.id)
        conn.execute(
            "UPDATE facts SET status = 'conflict', updated_at = ? WHERE id = ?",
            (now_iso(), fact.id),
        )
    fact_id = _insert_candidate(conn, person, cand, engine, "conflict")
    change.created("fact", fact_id)
    change.finish()
    return Outcome("conflict", fact_id)


def _supersede(
    conn: sqlcipher3.Connection, person: str, cand: FactCandidate, engine: str, holding: list[Fact]
) -> Outcome:
    """A newer value: it closes what held until then, and inherits what came after."""
    old = ", ".join(f"f{f.id} ({f.value})" for f in holding)
    change = Change(conn, "supersede", f"e{cand.evidence} gives a newer value than {old}", engine)
    fact_id = _insert_candidate(conn, person, cand, engine, "active")
    change.created("fact", fact_id)
    successor = holding[-1]
    if successor.valid_to is not None:  # a later value already followed: ours ends there
        conn.execute(
            "UPDATE facts SET valid_to = ?, superseded_by = ? WHERE id = ?",
            (successor.valid_to, successor.superseded_by, fact_id),
        )
    for fact in holding:
        change.before("fact", fact.id)
        _close(conn, fact.id, cand.valid_from, fact_id)
    if person_key(person) == "self":
        _end_ties(conn, change, cand.attribute, holding, cand.valid_from, fact_id)
    change.finish()
    return Outcome("supersede", fact_id, tuple(f.id for f in holding))


# Relationships that hold through one of your values end with it: your manager at the old
# employer (when their employer is that one too), your landlord at the old address.
# attribute -> (relationship words, their attribute that must match your old value)
TIES: dict[str, tuple[frozenset[str], str | None]] = {
    "employer": (frozenset({"boss", "manager", "colleague", "coworker", "co-worker",
                            "teammate"}), "employer"),
    "address": (frozenset({"landlord", "landlady", "neighbour", "neighbor"}), None),
}  # fmt: skip


def _end_ties(
    conn: sqlcipher3.Connection,
    change: Change,
    attribute: str,
    old: list[Fact],
    at: str | None,
    by: int,
) -> None:
    tie = TIES.get(attribute)
    if tie is None or not old:
        return
    words, theirs = tie
    rows = conn.execute(
        f"SELECT {FACT_COLUMNS} FROM facts WHERE attribute = 'relationship' AND {CURRENT}"
    ).fetchall()
    for relation in (_fact(conn, row) for row in rows):
        if relation.value.casefold() not in words or (relation.valid_from or "") > (at or "~"):
            continue  # another kind of tie, or one that began after the change
        if theirs is not None and not any(
            same_value(theirs, value_key(f.value), value_key(o.value))
            for f in facts(conn, relation.person, theirs, include_closed=True)
            for o in old
        ):
            continue
        change.before("fact", relation.id)
        _close(conn, relation.id, at, by)


def set_value(
    conn: sqlcipher3.Connection,
    person: str,
    attribute: str,
    value: str,
    since: date | None = None,
) -> int:
    """The user states a value, true from `since` (today by default): it wins over
    anything extracted. For a one-valued attribute it closes every current value at
    that date; returns the new fact's id."""
    if attribute not in ATTRIBUTES:
        known = ", ".join(sorted(ATTRIBUTES))
        raise MemoryRefError(f"unknown attribute {attribute!r}; known ones: {known}")
    person = people.resolve(conn, person)
    today = (since or date.today()).isoformat()
    change = Change(conn, "set", f"the user set {attribute} = {value!r}", "user")
    fact_id = _insert(conn, person, attribute, value, today, 1.0, "user", "user")
    change.created("fact", fact_id)
    if is_single(attribute):
        closed = [f for f in facts(conn, person, attribute) if f.id != fact_id]
        for fact in closed:
            change.before("fact", fact.id)
            _close(conn, fact.id, today, fact_id)
        if person_key(person) == "self":
            _end_ties(conn, change, attribute, closed, today, fact_id)
    change.finish()
    return fact_id


def remove(conn: sqlcipher3.Connection, change: Change, fact_ids: set[int]) -> None:
    """Delete facts for a forget, and re-derive their slots without them: a fact one of
    them closed holds again until whatever closed the forgotten one (or stays current),
    and a conflict with no partner left is settled."""
    if not fact_ids:
        return
    info: dict[int, tuple[int | None, str | None, str, str]] = {}
    for part in chunked(sorted(fact_ids)):
        for row in conn.execute(
            "SELECT id, superseded_by, valid_to, person_key, attribute FROM facts "
            f"WHERE id IN ({marks(part)})",
            part,
        ):
            info[row[0]] = (row[1], row[2], row[3], row[4])
    closed_by_gone = [
        (row_id, by)
        for part in chunked(sorted(info))
        for row_id, by in conn.execute(
            f"SELECT id, superseded_by FROM facts WHERE superseded_by IN ({marks(part)})", part
        ).fetchall()
        if row_id not in info
    ]
    for row_id, by in closed_by_gone:
        successor: int | None = by
        until: str | None = None
        while successor is not None and successor in info:
            successor, until = info[successor][:2]
        change.before("fact", row_id)
        conn.execute(
            "UPDATE facts SET superseded_by = ?, valid_to = ?, updated_at = ? WHERE id = ?",
            (successor, until, now_iso(), row_id),
        )
    for part in chunked(sorted(info)):
        conn.execute(f"DELETE FROM facts WHERE id IN ({marks(part)})", part)
    change.forgotten("fact", sorted(info))
    for pkey, attribute in {(v[2], v[3]) for v in info.values()}:
        left = conn.execute(
            f"SELECT id FROM facts WHERE person_key = ? AND attribute = ? AND {CURRENT} "
            "AND status = 'conflict'",
            (pkey, attribute),
        ).fetchall()
        if len(left) == 1:  # its rival was forgotten: nothing left to settle
            change.before("fact", left[0][0])
            conn.execute("UPDATE facts SET status = 'active' WHERE id = ?", (left[0][0],))
