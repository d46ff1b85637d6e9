"""Review: what reflection learned since the user last looked, and what was held apart.

Users of memory tools ask to see what was saved about them and to reject it. Reflection
adds facts and thoughts on its own (in the background, with the daemon); the review
lists those added since the last review, with the memories quarantined meanwhile
(instructions found in the user's files, held apart from reflection and answers).
Rejecting is forgetting: the forget's tombstones keep a rejected fact from being
learned again. `mark_reviewed` records how far the user has looked.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from assistant.derived import persona, thoughts
from assistant.derived.changes import now_iso
from assistant.hits import Hit
from assistant.memory import Memory
from assistant.recall import load_hits

REVIEWED = "reviewed_through"  # meta key: the time up to which the user has reviewed


@dataclass(frozen=True)
class ReviewItems:
    since: str | None  # the last review; None: never reviewed
    until: str  # now: `mark_reviewed(until)` covers exactly what was listed
    facts: list[persona.Fact]
    thoughts: list[thoughts.Thought]
    quarantined: list[Hit]

    @property
    def empty(self) -> bool:
        return not (self.facts or self.thoughts or self.quarantined)

    def rows(self) -> list[tuple[str, str, str, str]]:
        """(ref, kind, what, why) for each item: facts, thoughts, then quarantined."""
        out = []
        for fact in self.facts:
            who = "you" if fact.person == "self" else fact.person
            why = "conflicts with another value" if fact.status == "conflict" else "new fact"
            out.append((f"f{fact.id}", "fact", f"{who}: {fact.attribute} = {fact.value}", why))
        for thought in self.thoughts:
            out.append((f"t{thought.id}", "thought", thought.text, "new thought"))
        for hit in self.quarantined:
            out.append((f"e{hit.id}", "held", hit.text, f"quarantined: {hit.quarantine}"))
        return out

    def as_json(self) -> dict[str, Any]:
        return {
            "since": self.since,
            "until": self.until,
            "facts": [f.as_json() for f in self.facts],
            "thoughts": [t.as_json() for t in self.thoughts],
            "quarantined": [h.as_json() for h in self.quarantined],
        }


def pending(memory: Memory) -> ReviewItems:
    """What reflection added, and what was quarantined, since the last review."""
    conn = memory.db.conn
    since = memory.db.get_meta(REVIEWED)
    until = now_iso()
    # julianday() reads the offsets, so a review across a clock change still compares.
    # Times are whole seconds: what was made in the second a review ended is listed
    # again rather than never (>=).
    after = "julianday({column}) >= julianday(?)" if since else "?1 IS NULL"
    fact_ids = conn.execute(
        "SELECT id FROM facts WHERE origin != 'user' AND status IN ('active', 'conflict') "
        f"AND valid_to IS NULL AND {after.format(column='created_at')} ORDER BY id",
        (since,),
    ).fetchall()
    thought_ids = {
        r[0]
        for r in conn.execute(
            f"SELECT id FROM thoughts WHERE {after.format(column='created_at')}", (since,)
        )
    }
    held = conn.execute(
        "SELECT id FROM episodes WHERE quarantine IS NOT NULL AND "
        f"{after.format(column='ingested_at')} ORDER BY time_unix",
        (since,),
    ).fetchall()
    return ReviewItems(
        since,
        until,
        [persona.get(conn, i) for (i,) in fact_ids],
        [t for t in thoughts.listing(conn) if t.id in thought_ids],
        load_hits(memory, [(i, 0.0) for (i,) in held]),
    )


def mark_reviewed(memory: Memory, until: str) -> None:
    """Everything listed up to `until` (a review's own `until`) has been seen."""
    with memory.db.write():
        memory.db.set_meta(REVIEWED, until)
