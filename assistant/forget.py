"""Forget that reaches every copy (DESIGN.md section 5, governance).

The user names what to forget: memory ids (e12, t3, f7, l5), a source, a person,
matching text, or everything before a date. `plan` works out, without changing
anything, every row that goes, for the preview; `apply` removes them:

- episodes, with their vectors and evidence rows;
- thoughts and facts whose evidence is all forgotten, and those named directly;
  a fact with other evidence keeps its value (other memories say it too) and loses
  only the forgotten evidence; a thought with other evidence is concluded again from
  what remains (builtin engine) as a new thought, or deleted when nothing remains
  that says it; a slot's history is re-derived (what a forgotten fact closed holds
  again);
- links that touch anything removed;
- the history's pictures of removed rows and the reasons of the changes that touched
  them: the history keeps *that* something was forgotten (a `forget` change), not what.

Tombstones keep forgotten episodes from being read again by ingest or sync, and facts
and thoughts named directly from being learned again. The rows go in one transaction,
marked `forget_pending`; then `store.purge` purges the copies SQLite and chroma keep
(keyword index terms, queued embeddings, freed pages), and a crash before that ends is
finished by the next open.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import sqlcipher3

from assistant import refs
from assistant.derived import persona, thoughts
from assistant.derived.attributes import person_key
from assistant.derived.changes import TABLES, Change, erase
from assistant.derived.evidence import relabel
from assistant.derived.proposals import ThoughtCandidate
from assistant.documents import embed_text
from assistant.errors import MemoryRefError
from assistant.governance import audited
from assistant.memory import Memory
from assistant.recall import day_start
from assistant.reflection.builtin import BuiltinEngine
from assistant.reflection.run import clean_views
from assistant.service.requests import Target
from store import ledger, tombstones
from store.database import chunked, marks
from store.progress import Progress
from store.purge import PENDING, purge_copies

SAMPLE = 12  # rows shown in the preview


@dataclass(frozen=True)
class Preview:
    """One row of the preview: its ref, date and what it says."""

    ref: str
    date: str
    text: str


@dataclass
class ForgetPlan:
    target: Target
    episodes: set[int] = field(default_factory=set)
    facts: set[int] = field(default_factory=set)  # deleted
    thoughts: set[int] = field(default_factory=set)  # deleted
    reconclude: set[int] = field(default_factory=set)  # thoughts with evidence left
    kept_facts: set[int] = field(default_factory=set)  # facts with evidence left
    links: set[int] = field(default_factory=set)
    releases: set[int] = field(default_factory=set)  # the user's releases of these episodes
    named_facts: set[int] = field(default_factory=set)  # tombstoned: never learned again
    named_thoughts: set[int] = field(default_factory=set)
    documents: set[int] = field(default_factory=set)  # left with nothing: removed
    sources: set[int] = field(default_factory=set)
    history: int = 0  # change-history pictures to erase
    sample: list[Preview] = field(default_factory=list)
    label: str = ""  # how a rule's forget names itself; else the target's summary

    @property
    def summary(self) -> str:
        return self.label or self.target.summary()

    @property
    def empty(self) -> bool:
        return not (self.episodes or self.facts or self.thoughts or self.reconclude or self.links)

    def counts(self) -> dict[str, int]:
        return {
            "episodes": len(self.episodes),
            "facts": len(self.facts),
            "thoughts": len(self.thoughts),
            "links": len(self.links),
            "history_values": self.history,
            "documents": len(self.documents),
            "sources": len(self.sources),
            "thoughts_concluded_again": len(self.reconclude),
            "facts_keeping_other_evidence": len(self.kept_facts),
        }

    def as_json(self) -> dict[str, Any]:
        return self.preview().as_json()

    def fingerprint(self) -> str:
        """A digest of every row the plan reaches: equal for equal plans."""
        digest = hashlib.sha256()
        for name in ("episodes", "facts", "thoughts", "reconclude", "kept_facts", "links",
                     "named_facts", "named_thoughts", "documents", "sources"):  # fmt: skip
            ids = ",".join(str(i) for i in sorted(getattr(self, name)))
            digest.update(f"{name}:{ids};".encode())
        return digest.hexdigest()

    def preview(self) -> ForgetPreview:
        return ForgetPreview(self.summary, self.counts(), list(self.sample), self.fingerprint())


@dataclass(frozen=True)
class ForgetPreview:
    """What a plan would forget, as shown before asking. `fingerprint` lets the forget
    that follows refuse to run when what matches has changed since it was shown."""

    target: str  # how the target was given, naming no forgotten value
    counts: dict[str, int]
    sample: list[Preview]
    fingerprint: str

    @property
    def empty(self) -> bool:
        reached = ("episodes", "facts", "thoughts", "links", "thoughts_concluded_again")
        return not any(self.counts[k] for k in reached)

    def as_json(self) -> dict[str, Any]:
        return {
            "target": self.target,
            "counts": self.counts,
            "sample": [{"ref": p.ref, "date": p.date, "text": p.text} for p in self.sample],
        }


@dataclass
class ForgetReport:
    counts: dict[str, int]
    change: int  # the `forget` change in the history
    concluded_again: int  # thoughts that came back, said from the remaining evidence
    tombstones: int

    def as_json(self) -> dict[str, Any]:
        return {
            "forgotten": self.counts,
            "change": self.change,
            "thoughts_concluded_again": self.concluded_again,
            "tombstones": self.tombstones,
        }


# -- planning ------------------------------------------------------------------------
def plan(memory: Memory, target: Target) -> ForgetPlan:
    """Everything `target` reaches, changing nothing."""
    check_target(target)
    conn = memory.db.conn
    out = ForgetPlan(target)
    _select_refs(conn, target.refs, out)
    if target.source is not None:
        _select_source(conn, target.source, out)
    if target.person:
        _select_person(conn, target.person, out)
    if target.matching:
        _select_matching(conn, target.matching, out)
    if target.before is not None:
        out.episodes.update(
            r[0]
            for r in conn.execute(
                "SELECT id FROM episodes WHERE time_unix < ?", (day_start(target.before),)
            )
        )
    return complete(conn, out)


def plan_episodes(memory: Memory, episode_ids: Iterable[int], label: str) -> ForgetPlan:
    """A forget of these episodes and what rests on them, named `label` in the history
    and the audit log (an exclusion, a retention rule): changing nothing."""
    out = ForgetPlan(Target(), label=label)
    out.episodes.update(episode_ids)
    return complete(memory.db.conn, out)


def complete(conn: sqlcipher3.Connection, out: ForgetPlan) -> ForgetPlan:
    """Add to the rows chosen in `out` (episodes, named facts and thoughts, links)
    everything that goes with them."""
    _derived(conn, out)
    out.links |= _links_touching(conn, out)
    out.documents |= _emptied_documents(conn, out.episodes)
    out.releases = _releases_of(conn, out.episodes)
    out.history = _history_pictures(conn, out)
    out.sample = _sample(conn, out)
    return out


def check_target(target: Target) -> None:
    """Refuse a target that is wrong on its face; it needs no vault, so front ends
    call it before one is opened (or a passphrase asked for)."""
    if target.empty:
        raise MemoryRefError(
            "say what to forget: ids (e12 t3 f7 l5), --source, --person, --matching or --before"
        )
    for text in target.refs:
        refs.parse(text)
    if target.person:
        who = persona.resolve_person(target.person)
        if who == "self" or not who:
            raise MemoryRefError(
                "--person names someone else; to forget things about yourself, give their "
                "ids or use --matching"
            )
    if target.matching and not target.matching.casefold().strip():
        raise MemoryRefError("--matching needs some text to match")


def _select_refs(conn: sqlcipher3.Connection, given: Iterable[str], out: ForgetPlan) -> None:
    chosen = {
        "episode": out.episodes,
        "fact": out.named_facts,
        "thought": out.named_thoughts,
        "link": out.links,
    }
    for text in given:
        kind, row_id = refs.parse(text)
        table = "episodes" if kind == "episode" else TABLES[kind]
        if conn.execute(f"SELECT 1 FROM {table} WHERE id = ?", (row_id,)).fetchone() is None:
            raise MemoryRefError(f"there is no {kind} {refs.ref(kind, row_id)}; nothing forgotten")
        chosen[kind].add(row_id)


def _select_source(conn: sqlcipher3.Connection, source_id: int, out: ForgetPlan) -> None:
    if conn.execute("SELECT 1 FROM sources WHERE id = ?", (source_id,)).fetchone() is None:
        raise MemoryRefError(f"no source with id {source_id}; see `me sources list`")
    out.sources.add(source_id)
    out.documents.update(
        r[0] for r in conn.execute("SELECT id FROM documents WHERE source_id = ?", (source_id,))
    )
    out.episodes.update(
        r[0]
        for r in conn.execute(
            "SELECT e.id FROM episodes e JOIN documents d ON d.id = e.document_id "
            "WHERE d.source_id = ?",
            (source_id,),
        )
    )


def _select_person(conn: sqlcipher3.Connection, name: str, out: ForgetPlan) -> None:
    """Their messages, conversations with them, memories that name them, and every
    fact and thought about them (someone else: see `check_target`)."""
    who = persona.resolve_person(name)
    word = re.compile(rf"(?<!\w){re.escape(who)}(?!\w)", re.IGNORECASE)
    out.episodes.update(_scan_episodes(conn, word.search))
    key = person_key(who)
    for fact_id, pkey, value in conn.execute("SELECT id, person_key, value FROM facts"):
        if pkey == key or word.search(value):
            out.named_facts.add(fact_id)
    for thought_id, subject, text in conn.execute("SELECT id, subject, text FROM thoughts"):
        if word.search(subject or "") or word.search(text):
            out.named_thoughts.add(thought_id)


def _select_matching(conn: sqlcipher3.Connection, needle: str, out: ForgetPlan) -> None:
    folded = needle.casefold()  # not blank: see `check_target`

    def contains(text: str) -> bool:
        return folded in text.casefold()

    out.episodes.update(_scan_episodes(conn, contains))
    out.named_facts.update(
        r[0] for r in conn.execute("SELECT id, value FROM facts") if contains(r[1])
    )
    out.named_thoughts.update(
        r[0] for r in conn.execute("SELECT id, text FROM thoughts") if contains(r[1])
    )


def _scan_episodes(conn: sqlcipher3.Connection, test: Callable[[str], object]) -> set[int]:
    """Episodes whose text, title, sender, conversation, place (file and heading) or
    metadata (tags, links, note title) passes `test`: a full scan, since forget is rare
    and exactness matters more than speed here."""
    found: set[int] = set()
    cursor = conn.execute(
        "SELECT id, text, title, sender, conversation, source_ref, meta FROM episodes"
    )
    while rows := cursor.fetchmany(2000):
        found.update(r[0] for r in rows if any(test(x) for x in r[1:] if x))
    return found


def _evidence_of(conn: sqlcipher3.Connection, kind: str, episodes: set[int]) -> dict[int, set[int]]:
    """Every evidence set of the thoughts or facts resting on any of `episodes`."""
    table, column = (
        ("fact_evidence", "fact_id") if kind == "fact" else ("thought_evidence", "thought_id")
    )
    touched: set[int] = set()
    for part in chunked(sorted(episodes)):
        touched.update(
            r[0]
            for r in conn.execute(
                f"SELECT {column} FROM {table} WHERE episode_id IN ({marks(part)})", part
            )
        )
    evidence: dict[int, set[int]] = {}
    for part in chunked(sorted(touched)):
        for row_id, episode_id in conn.execute(
            f"SELECT {column}, episode_id FROM {table} WHERE {column} IN ({marks(part)})", part
        ):
            evidence.setdefault(row_id, set()).add(episode_id)
    return evidence


def _derived(conn: sqlcipher3.Connection, out: ForgetPlan) -> None:
    """Facts and thoughts that rest on forgotten episodes, and what was merged into a
    forgotten thought (it said the same)."""
    out.facts |= out.named_facts
    out.thoughts |= out.named_thoughts
    for fact_id, evidence in _evidence_of(conn, "fact", out.episodes).items():
        (out.facts if evidence <= out.episodes else out.kept_facts).add(fact_id)
    for thought_id, evidence in _evidence_of(conn, "thought", out.episodes).items():
        (out.thoughts if evidence <= out.episodes else out.reconclude).add(thought_id)
    out.kept_facts -= out.facts
    while True:  # merged_into chains: a thought folded into a forgotten one goes with it
        gone = out.thoughts | out.reconclude
        merged = {
            r[0]
            for part in chunked(sorted(gone))
            for r in conn.execute(
                f"SELECT id FROM thoughts WHERE merged_into IN ({marks(part)})", part
            )
        } - gone
        if not merged:
            break
        out.thoughts |= merged
    out.reconclude -= out.thoughts


def _links_touching(conn: sqlcipher3.Connection, out: ForgetPlan) -> set[int]:
    found: set[int] = set()
    ends = {"episode": out.episodes, "fact": out.facts, "thought": out.thoughts | out.reconclude}
    for kind, ids in ends.items():
        for part in chunked(sorted(ids)):
            found.update(
                r[0]
                for r in conn.execute(
                    f"SELECT id FROM links WHERE (src_kind = ? AND src_id IN ({marks(part)})) "
                    f"OR (dst_kind = ? AND dst_id IN ({marks(part)}))",
                    [kind, *part, kind, *part],
                )
            )
    return found


def _emptied_documents(conn: sqlcipher3.Connection, episodes: set[int]) -> set[int]:
    """Documents all of whose episodes are forgotten."""
    counts: dict[int, int] = {}
    for part in chunked(sorted(episodes)):
        for doc, n in conn.execute(
            f"SELECT document_id, count(*) FROM episodes WHERE id IN ({marks(part)}) "
            "GROUP BY document_id",
            part,
        ):
            counts[doc] = counts.get(doc, 0) + n
    return {
        doc
        for doc, n in counts.items()
        if conn.execute("SELECT count(*) FROM episodes WHERE document_id = ?", (doc,)).fetchone()[0]
        == n
    }


def _history_pictures(conn: sqlcipher3.Connection, out: ForgetPlan) -> int:
    total = 0
    for kind, ids in _removed_rows(out).items():
        for part in chunked(ids):
            total += conn.execute(
                f"SELECT count(*) FROM change_rows WHERE kind = ? AND row_id IN ({marks(part)}) "
                "AND (old IS NOT NULL OR new IS NOT NULL)",
                [kind, *part],
            ).fetchone()[0]
    return total


def _removed_rows(out: ForgetPlan) -> dict[str, list[int]]:
    """Rows of the history's kinds that the forget deletes (a thought concluded again
    is a new row: the old one, and its words, go)."""
    return {
        "fact": sorted(out.facts),
        "thought": sorted(out.thoughts | out.reconclude),
        "link": sorted(out.links),
        "release": sorted(out.releases),  # deleted with their episodes (ON DELETE CASCADE)
    }


def _releases_of(conn: sqlcipher3.Connection, episode_ids: set[int]) -> set[int]:
    """The releases of these episodes: their pictures name the detector's reason, which
    quotes the text, so the forget erases them too."""
    return {
        r[0]
        for part in chunked(sorted(episode_ids))
        for r in conn.execute(f"SELECT id FROM releases WHERE episode_id IN ({marks(part)})", part)
    }


def _sample(conn: sqlcipher3.Connection, out: ForgetPlan) -> list[Preview]:
    rows: list[Preview] = []
    for part in chunked(sorted(out.episodes)[:SAMPLE]):
        rows += [
            Preview(f"e{r[0]}", r[1][:10], r[2])
            for r in conn.execute(
                f"SELECT id, time, text FROM episodes WHERE id IN ({marks(part)})", part
            )
        ]
    for fact_id in sorted(out.facts)[:SAMPLE]:
        fact = persona.get(conn, fact_id)
        who = "you" if fact.person == "self" else fact.person
        rows.append(
            Preview(f"f{fact.id}", fact.valid_from or "", f"{who}: {fact.attribute} = {fact.value}")
        )
    for thought_id in sorted(out.thoughts | out.reconclude)[:SAMPLE]:
        thought = thoughts.get(conn, thought_id)
        rows.append(Preview(f"t{thought.id}", thought.time or "", thought.text))
    return rows


# -- applying ------------------------------------------------------------------------
def apply(
    memory: Memory, plan: ForgetPlan, progress: Progress | None = None, action: str = "forget"
) -> ForgetReport:
    """Forget everything in `plan`, then purge every copy (see the module docstring).
    `action` names the audit entry: a forget, or an exclusion or retention rule's."""
    again = _conclude_again(memory, plan)
    unleaned = _unleaned(memory, plan)
    db = memory.db
    with audited(memory) as record:
        conn = record.conn
        buried = _bury(conn, plan)
        _store_unleaned(memory, conn, unleaned)
        erase(conn, _removed_rows(plan))
        change = Change(conn, "forget", f"the user forgot {plan.summary}", "user")
        _delete_links_and_thoughts(conn, change, plan)
        persona.remove(conn, change, plan.facts)
        for part in chunked(sorted(plan.episodes)):
            conn.execute(f"DELETE FROM episodes WHERE id IN ({marks(part)})", part)
        for part in chunked(sorted(plan.documents)):
            conn.execute(f"DELETE FROM documents WHERE id IN ({marks(part)})", part)
        for source_id in plan.sources:  # its documents are in plan.documents
            conn.execute("DELETE FROM sources WHERE id = ?", (source_id,))
        for fact_id in plan.kept_facts:
            relabel(conn, "fact", fact_id)
        change_id = change.finish()
        concluded = _store_again(memory, conn, again)
        # Counts and how it was asked, never what was forgotten.
        record(action, detail={"target": plan.summary, "counts": plan.counts(),
                                 "tombstones": buried, "change": change_id})  # fmt: skip
        db.set_meta(PENDING, "1")
    purge_copies(db, memory.index, progress)
    # Beside the database too: a restore over a damaged memory.db still knows them.
    ledger.write(memory.paths.forget_ledger, memory.keys.ledger, memory.keys.vault_id, db.conn)
    return ForgetReport(plan.counts(), change_id, concluded, buried)


def _bury(conn: sqlcipher3.Connection, plan: ForgetPlan) -> int:
    keys = []
    for part in chunked(sorted(plan.episodes)):
        keys += [
            tombstones.episode_key(*r)
            for r in conn.execute(
                "SELECT content_hash, sender, conversation, time FROM episodes "
                f"WHERE id IN ({marks(part)})",
                part,
            )
        ]
    buried = tombstones.bury(conn, "episode", keys)
    fact_keys = [
        tombstones.fact_key(*r)
        for part in chunked(sorted(plan.named_facts))
        for r in conn.execute(
            f"SELECT person_key, attribute, value_key FROM facts WHERE id IN ({marks(part)})", part
        )
    ]
    buried += tombstones.bury(conn, "fact", fact_keys)
    thought_keys = [
        tombstones.thought_key(r[0])
        for part in chunked(sorted(plan.named_thoughts))
        for r in conn.execute(f"SELECT text FROM thoughts WHERE id IN ({marks(part)})", part)
    ]
    return buried + tombstones.bury(conn, "thought", thought_keys)


def _delete_links_and_thoughts(
    conn: sqlcipher3.Connection, change: Change, plan: ForgetPlan
) -> None:
    for part in chunked(sorted(plan.links)):
        conn.execute(f"DELETE FROM links WHERE id IN ({marks(part)})", part)
    change.forgotten("link", sorted(plan.links))
    gone = sorted(plan.thoughts | plan.reconclude)
    for part in chunked(gone):  # one statement per slice: merged_into stays consistent
        conn.execute(f"DELETE FROM thoughts WHERE id IN ({marks(part)})", part)
    change.forgotten("thought", gone)


Again = dict[int, tuple[ThoughtCandidate, np.ndarray, str]]


def _conclude_again(memory: Memory, plan: ForgetPlan) -> Again:
    """For each thought that keeps some evidence, what the builtin engine concludes from
    that evidence alone, if it still says the same (cosine at or above the merge
    similarity); computed before the transaction, since it needs the model."""
    if not plan.reconclude:
        return {}
    conn = memory.db.conn
    engine = BuiltinEngine()
    needle = (plan.target.matching or "").casefold()
    out: Again = {}
    for thought_id in sorted(plan.reconclude):
        old = thoughts.get(conn, thought_id)
        left = [e for e in old.evidence if e not in plan.episodes]
        found = [
            c
            for c in engine.reflect(clean_views(conn, left)).thoughts
            if set(c.derived_from) <= set(left) and not (needle and needle in c.text.casefold())
        ]
        blob = conn.execute("SELECT vector FROM thoughts WHERE id = ?", (thought_id,)).fetchone()[0]
        if not found or blob is None:
            continue
        vectors = memory.embedder.encode([c.text for c in found])
        scores = vectors @ np.frombuffer(blob, dtype="<f4")
        best = int(np.argmax(scores))
        if scores[best] >= memory.config.reflection.merge_similarity:
            out[thought_id] = (found[best], vectors[best], old.origin)
    return out


def _unleaned(memory: Memory, plan: ForgetPlan) -> dict[int, bytes]:
    """The messages that follow a forgotten one, each with its vector encoded anew from
    its own words alone: the stored one leans on the forgotten message's vector (see
    `assistant.ingest.leaning`), a copy of it in all but name. Computed before the
    transaction, since it needs the model."""
    rows = [
        r
        for part in chunked(sorted(plan.episodes))
        for r in memory.db.conn.execute(
            f"SELECT id, title, sender, text FROM episodes WHERE context_of IN ({marks(part)})",
            part,
        )  # fmt: skip
        if r[0] not in plan.episodes
    ]
    if not rows:
        return {}
    vectors = memory.embedder.encode([embed_text(r[1], r[2], r[3]) for r in rows])
    return {r[0]: np.asarray(v, dtype="<f4").tobytes() for r, v in zip(rows, vectors, strict=True)}


def _store_unleaned(
    memory: Memory, conn: sqlcipher3.Connection, unleaned: dict[int, bytes]
) -> None:
    """Their copy of the forgotten message's words (FTS `context`) goes too."""
    for episode_id, vector in unleaned.items():
        conn.execute(
            "UPDATE episodes SET context = NULL, context_of = NULL WHERE id = ?", (episode_id,)
        )
        conn.execute(
            "UPDATE vectors SET vector = ? WHERE episode_id = ? AND model = ?",
            (vector, episode_id, memory.embedder.name),
        )


def _store_again(memory: Memory, conn: sqlcipher3.Connection, again: Again) -> int:
    index = thoughts.ThoughtIndex(conn)
    similarity = memory.config.reflection.merge_similarity
    for cand, vector, origin in again.values():
        thoughts.add(conn, cand, vector, index, "builtin", similarity, origin=origin)
    return len(again)


def forget(memory: Memory, target: Target, progress: Progress | None = None) -> ForgetReport:
    """Plan and apply in one go (for callers that already have the user's consent)."""
    return apply(memory, plan(memory, target), progress)
