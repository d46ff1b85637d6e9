"""A timeline: how a thread of life unfolded, memory by memory, with typed links.

1. Seeds: the memories recall finds for the topic; for a person, also what their facts
   rest on; with neither, every memory of the period asked (`--day`, `--week`).
2. One step out: the memories reflection linked to a seed (changed, cause, reason,
   same_topic...), the facts a seed gave with every other value of the same slot (the
   number before, the number after), and the facts of the person asked about.
3. In time order, one entry per memory; the same words said twice collapse into the
   first saying.
4. Between consecutive entries, the label of a link that joins them, if one does, and
   "changed: old → new" between two values of one fact.

A timeline is deterministic (recall without reinforcement, ties broken by id) and
explainable: every entry says why it is there.
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass, replace
from datetime import date, datetime
from typing import Any

from assistant.derived import people, persona
from assistant.derived.attributes import ATTRIBUTES, is_single
from assistant.memory import Memory
from assistant.recall import informative, recall
from store.database import chunked, marks

SEEDS = 8  # memories recall gives the topic
CLOSE = 3  # a seed that shares no word with the topic must be this close in meaning
LINKS_PER_MEMORY = 3  # links followed from one seed, the most telling labels first
# Not followed: "before" only says which came first, and the timeline orders by time.
NOT_FOLLOWED = frozenset({"before"})
MAX_ENTRIES = 60
# Labels in the order they tell a story; "before" and "same_topic" say least.
LABEL_ORDER = ("changed", "cause", "reason", "hindered_by", "react", "want", "supersedes",
               "same_topic", "before")  # fmt: skip


@dataclass(frozen=True)
class TimelineEntry:
    """One memory on a timeline; `label` ties it to the entry before it."""

    id: str  # "e12" an episode, "f5" a persona fact
    date: str  # ISO date or date-time
    kind: str  # the episode's kind (note, message, email, event) or "fact"
    text: str
    source_ref: str | None
    label: str | None  # how it follows from the entry before it, if a link says
    linked_from: str | None  # the entry it was reached from; None for a seed
    why: str  # why it is on the timeline

    def as_json(self) -> dict[str, Any]:
        return asdict(self)


def timeline(
    memory: Memory,
    topic: str | None = None,
    person: str | None = None,
    since: date | None = None,
    until: date | None = None,
    now: datetime | None = None,
) -> list[TimelineEntry]:
    """The timeline of a topic, of life with a person, or of a period (see the module
    docstring); oldest first."""
    conn = memory.db.conn
    found: dict[str, TimelineEntry] = {}

    def add(entry: TimelineEntry) -> None:
        if entry.id not in found and _inside(entry.date, since, until):
            found[entry.id] = entry

    seeds: list[int] = []
    if topic:
        hits = recall(memory, topic, k=SEEDS, since=since, until=until, now=now)
        for rank, hit in enumerate(hits, start=1):
            # A recall always fills its places; a story takes only what shares a word
            # with the topic or is among the closest few in meaning.
            on_topic = hit.keyword_rank is not None or (hit.dense_rank or SEEDS) <= CLOSE
            if hit.quarantine is None and on_topic:
                seeds.append(hit.id)
                add(_episode_entry(hit.id, hit.time, hit.kind, hit.text, hit.source_ref,
                                   None, f"seed: recall rank {rank} for {topic!r}"))  # fmt: skip
    if topic:  # "move to Porto": the slots whose values it names, their whole history
        for fact in _named_facts(conn, topic):
            add(_fact_entry(fact, None, f"a value {topic!r} names"))
            seeds += list(fact.evidence)
    who = people.resolve(conn, person) if person else None
    if who is not None:
        for fact in persona.facts(conn, who, include_closed=True):
            if fact.status != "hidden" and fact.attribute != "nickname":
                add(_fact_entry(fact, None, f"a fact of {who}"))
                seeds += list(fact.evidence)
    if not topic and who is None:
        period = _period(memory, since, until)
        for entry in _load(memory, period):
            add(replace(entry, why=f"on {entry.date[:10]}, the period asked"))
        seeds += period
    for entry in _load(memory, [i for i in dict.fromkeys(seeds) if f"e{i}" not in found]):
        add(entry)
    _expand(memory, [i for i in dict.fromkeys(seeds)], add, who)
    ordered = sorted(found.values(), key=_in_time)
    return _labelled(memory, _collapsed(ordered))[:MAX_ENTRIES]


def _in_time(entry: TimelineEntry) -> tuple[str, bool, str, int]:
    """Day by day; within a day, memories before the facts drawn from them, then by time
    and number ("f2" before "f10")."""
    number = int(entry.id[1:]) if entry.id[1:].isdigit() else 0
    return entry.date[:10], entry.kind == "fact", entry.date, number


def _named_facts(conn: Any, topic: str) -> list[persona.Fact]:
    """Every value (current or closed) of the single-valued slots one of whose values the
    topic names, oldest first."""
    lowered = f" {topic.casefold()} "
    slots = {
        (fact.person, fact.attribute)
        for fact in persona.facts(conn, include_closed=True)
        if fact.status != "hidden" and is_single(fact.attribute) and len(fact.value) >= 3
        and fact.attribute not in ("name", "birthday")
        and re.search(rf"(?<!\w){re.escape(fact.value.casefold())}(?!\w)", lowered)
    }  # fmt: skip
    return [
        fact
        for person, attribute in sorted(slots)
        for fact in persona.facts(conn, person, attribute, include_closed=True)
        if fact.status != "hidden"
    ]


def _inside(moment: str, since: date | None, until: date | None) -> bool:
    day = moment[:10]
    return (since is None or day >= since.isoformat()) and (
        until is None or day <= until.isoformat()
    )


def _period(memory: Memory, since: date | None, until: date | None) -> list[int]:
    """Every memory of the period, oldest first (at most MAX_ENTRIES)."""
    clause, args = [], []
    if since is not None:
        clause.append("substr(time, 1, 10) >= ?")
        args.append(since.isoformat())
    if until is not None:
        clause.append("substr(time, 1, 10) <= ?")
        args.append(until.isoformat())
    where = " AND ".join(["quarantine IS NULL", *clause])
    rows = memory.db.conn.execute(
        f"SELECT id FROM episodes WHERE {where} ORDER BY time, id LIMIT ?", [*args, MAX_ENTRIES]
    )
    return [r[0] for r in rows]


def _episode_entry(
    episode_id: int,
    moment: str,
    kind: str,
    text: str,
    source_ref: str | None,
    linked_from: str | None,
    why: str,
) -> TimelineEntry:
    return TimelineEntry(f"e{episode_id}", moment, kind, text, source_ref, None, linked_from, why)


def _fact_entry(fact: persona.Fact, linked_from: str | None, why: str) -> TimelineEntry:
    who = "You" if fact.person == "self" else fact.person
    label = fact.attribute.replace("_", " ")
    text = f"{who}: {label} {fact.value}" if fact.attribute in ATTRIBUTES else fact.value
    return TimelineEntry(f"f{fact.id}", fact.valid_from or "", "fact", text, None, None,
                         linked_from, why)  # fmt: skip


def _load(memory: Memory, ids: list[int], linked_from: str | None = None,
          why: str = "a memory a fact rests on") -> list[TimelineEntry]:  # fmt: skip
    out = []
    for part in chunked(ids):
        for row in memory.db.conn.execute(
            "SELECT id, time, kind, text, source_ref FROM episodes "
            f"WHERE id IN ({marks(part)}) AND quarantine IS NULL",
            part,
        ):
            episode_id, moment, kind, text, source_ref = row
            out.append(_episode_entry(episode_id, moment, kind, text, source_ref, linked_from, why))
    return out


def _expand(memory: Memory, seeds: list[int], add: Any, person: str | None) -> None:
    """One step out from each seed: its links, and the slots of the facts it gave (only
    `person`'s, for a timeline of life with them)."""
    conn = memory.db.conn
    rank = {label: n for n, label in enumerate(LABEL_ORDER)}
    for seed in seeds:
        links = conn.execute(
            "SELECT dst_id, label FROM links WHERE src_kind = 'episode' AND src_id = ? "
            "AND dst_kind = 'episode' UNION SELECT src_id, label FROM links "
            "WHERE dst_kind = 'episode' AND dst_id = ? AND src_kind = 'episode'",
            (seed, seed),
        ).fetchall()
        links = [row for row in links if row[1] not in NOT_FOLLOWED]
        links.sort(key=lambda row: (rank.get(row[1], len(rank)), row[0]))
        for other, label in links[:LINKS_PER_MEMORY]:
            for entry in _load(memory, [other], f"e{seed}", f"linked to e{seed}: {label}"):
                if informative(entry.text) >= 1.0:  # "😂❤️" says nothing on a timeline
                    add(entry)
        for (fact_id,) in conn.execute(
            "SELECT fact_id FROM fact_evidence WHERE episode_id = ? ORDER BY fact_id", (seed,)
        ):
            fact = persona.get(conn, fact_id)
            if fact.status == "hidden" or fact.attribute == "nickname":
                continue
            if person is not None and people.person_key(fact.person) != people.person_key(person):
                continue
            for value in persona.facts(conn, fact.person, fact.attribute, include_closed=True):
                if value.status != "hidden":
                    why = f"drawn from e{seed}" if value.id == fact.id else (
                        f"another value of {fact.person}'s {fact.attribute}")  # fmt: skip
                    add(_fact_entry(value, f"e{seed}", why))


def _collapsed(entries: list[TimelineEntry]) -> list[TimelineEntry]:
    """The first saying of the same words only."""
    seen: set[str] = set()
    out = []
    for entry in entries:
        key = " ".join(entry.text.casefold().split())
        if key not in seen:
            seen.add(key)
            out.append(entry)
    return out


def _labelled(memory: Memory, entries: list[TimelineEntry]) -> list[TimelineEntry]:
    """Each entry with the label that ties it to the one before, when one does."""
    episodes = [int(e.id[1:]) for e in entries if e.id[0] == "e"]
    between: dict[frozenset[int], str] = {}
    for part in chunked(episodes):
        for src, dst, label in memory.db.conn.execute(
            "SELECT src_id, dst_id, label FROM links WHERE src_kind = 'episode' "
            f"AND dst_kind = 'episode' AND src_id IN ({marks(part)})",
            part,
        ):
            between.setdefault(frozenset((src, dst)), label)
    facts = {int(e.id[1:]): persona.get(memory.db.conn, int(e.id[1:])) for e in entries
             if e.id[0] == "f"}  # fmt: skip
    out: list[TimelineEntry] = []
    for previous, entry in zip([None, *entries], entries, strict=False):
        label = None
        if previous is not None and previous.id[0] == entry.id[0] == "e":
            label = between.get(frozenset((int(previous.id[1:]), int(entry.id[1:]))))
            label = None if label in NOT_FOLLOWED else label
        elif entry.id[0] == "f":  # the value this one followed, wherever it sits
            new = facts[int(entry.id[1:])]
            before = [facts[int(e.id[1:])] for e in out if e.id[0] == "f"]
            slot = [f for f in before if (f.person, f.attribute) == (new.person, new.attribute)]
            if slot and slot[-1].value != new.value and is_single(new.attribute):
                label = f"changed: {slot[-1].value} → {new.value}"
        out.append(TimelineEntry(**{**asdict(entry), "label": label}))
    return out
