"""The reflection pass (`me reflect`): episodes not yet reflected on, in time order,
in batches, each batch's results and its "reflected" mark in one transaction.

A kill at any moment therefore loses at most the batch in flight, which the next run
does again from the start; nothing is done twice, because a batch either committed
(and is marked) or left no trace. A `Cancel` is heard between batches, so a stopped
run has committed every batch it began. The engine is asked outside the transaction,
since a model call can take seconds, and the vault's file lock keeps other writers out.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any

import sqlcipher3

from assistant import quarantine
from assistant.config import Config
from assistant.derived import links, people, persona, thoughts
from assistant.derived.attributes import is_known
from assistant.derived.proposals import ThoughtCandidate
from assistant.errors import ConfigError
from assistant.governance import audited, model_calls
from assistant.memory import Memory
from assistant.reflection import arrivals, index_keys, linking
from assistant.reflection.builtin import BuiltinEngine
from assistant.reflection.engine import Engine, EpisodeView, Reflection
from policies.injection import quarantine_reason
from policies.secrets import redact
from store.progress import Cancel, Progress, check

log = logging.getLogger(__name__)


@dataclass
class ReflectReport:
    """What a run did. Plain values (counts by outcome in dicts), so that it travels
    to a front end as it is; `left` is what is still pending after the run."""

    engine: str = ""
    episodes: int = 0
    quarantined: int = 0
    facts: dict[str, int] = field(default_factory=dict)  # by outcome: insert, supersede...
    thoughts: dict[str, int] = field(default_factory=dict)  # insert, merge
    links: int = 0
    faded: dict[str, int] = field(default_factory=dict)  # archive, merge
    people_merged: list[list[str]] = field(default_factory=list)  # [kept, merged] names
    notes: list[str] = field(default_factory=list)
    left: int = 0

    def as_json(self) -> dict[str, object]:
        return {
            "engine": self.engine,
            "episodes": self.episodes,
            "quarantined": self.quarantined,
            "facts": dict(self.facts),
            "thoughts": dict(self.thoughts),
            "links": self.links,
            "faded": dict(self.faded),
            "people_merged": self.people_merged,
            "notes": self.notes,
        }


def make_engine(config: Config, name: str | None = None, model: str | None = None) -> Engine:
    """The engine a run uses: the setting unless overridden; ollama falls back to
    builtin per batch, so it gets a builtin engine to fall back on."""
    settings = config.reflection
    chosen = name or settings.engine
    if chosen == "builtin":
        return BuiltinEngine()
    if chosen == "ollama":  # its client, httpx and jsonschema load only when used
        from assistant.reflection.ollama_engine import OllamaEngine

        if model:
            settings = replace(settings, model=model)
        engine = OllamaEngine(settings, fallback=BuiltinEngine())
        engine.check()
        return engine
    raise ConfigError(f"unknown reflection engine {chosen!r}; use 'builtin' or 'ollama'")


def pending_count(memory: Memory) -> int:
    row = memory.db.conn.execute("SELECT count(*) FROM episodes WHERE reflected_at IS NULL")
    return int(row.fetchone()[0])


def reflect(
    memory: Memory,
    engine: Engine,
    limit: int | None = None,
    progress: Progress | None = None,
    cancel: Cancel | None = None,
) -> ReflectReport:
    """Reflect on up to `limit` pending episodes (all when None), then let faded
    thoughts go. Safe to interrupt, to cancel between batches, and to run again."""
    settings = memory.config.reflection
    report = ReflectReport(engine.name)
    pending = pending_count(memory)
    total = pending if limit is None else min(max(limit, 0), pending)
    stage = f"Reflecting ({engine.name})"
    index = thoughts.ThoughtIndex(memory.db.conn)
    earlier: linking.EarlierIndex | None = None  # built once there is something to link
    while limit is None or report.episodes < limit:
        check(cancel, "reflection")
        size = settings.batch if limit is None else min(settings.batch, limit - report.episodes)
        batch = _next_batch(memory.db.conn, size)
        if not batch:
            break
        if earlier is None:
            earlier = linking.EarlierIndex(memory.db.conn)
        _reflect_batch(memory, engine, batch, index, earlier, report)
        if progress:
            progress(stage, report.episodes, total)
    with memory.db.write() as conn:
        faded = thoughts.archive_faded(
            conn,
            index,
            memory.config.recall.retention_days,
            settings.archive_below,
            settings.merge_similarity,
        )
        # A first name learned before the note that gives the full one, and the like.
        merged = people.consolidate(conn, engine.name) if report.episodes else []
    report.faded = dict(faded)
    report.people_merged = [[kept, other] for kept, other in merged]
    report.left = pending_count(memory)
    return report


VIEW_COLUMNS = "id, time, author, sender, text, title, conversation, kind, meta, quarantine"


def _view(row: tuple[Any, ...]) -> EpisodeView:
    return EpisodeView(
        id=row[0], time=_aware(row[1]), author=row[2], sender=row[3], text=row[4],
        title=row[5], conversation=row[6], kind=row[7], meta=json.loads(row[8]),
    )  # fmt: skip


def _next_batch(conn: sqlcipher3.Connection, size: int) -> list[tuple[EpisodeView, str | None]]:
    rows = conn.execute(
        f"SELECT {VIEW_COLUMNS} FROM episodes WHERE reflected_at IS NULL "
        "ORDER BY time_unix, id LIMIT ?",
        (size,),
    ).fetchall()
    return [(_view(r), r[9]) for r in rows]


def clean_views(conn: sqlcipher3.Connection, episode_ids: Sequence[int]) -> list[EpisodeView]:
    """What an engine may see of these episodes: the ones not quarantined, in time order."""
    if not episode_ids:
        return []
    marks = ",".join("?" * len(episode_ids))
    rows = conn.execute(
        f"SELECT {VIEW_COLUMNS} FROM episodes WHERE id IN ({marks}) AND quarantine IS NULL "
        "ORDER BY time_unix, id",
        list(episode_ids),
    ).fetchall()
    return [_view(r) for r in rows]


def _aware(iso: str) -> datetime:
    moment = datetime.fromisoformat(iso)
    return moment if moment.tzinfo else moment.astimezone()


def _reflect_batch(
    memory: Memory,
    engine: Engine,
    batch: Sequence[tuple[EpisodeView, str | None]],
    index: thoughts.ThoughtIndex,
    earlier: linking.EarlierIndex,
    report: ReflectReport,
) -> None:
    settings = memory.config.reflection
    newly_quarantined = {}
    clean = []
    released = quarantine.released(memory.db.conn, [view.id for view, _ in batch])
    for view, flag in batch:
        # The detector may have learned since ingest: check again, and record it, unless
        # the user released the episode (their word outranks the detector's).
        if view.id in released:
            clean.append(view)
            continue
        reason = flag or quarantine_reason(f"{view.title or ''}\n{view.text}")
        if reason is None:
            clean.append(view)
        elif flag is None:
            newly_quarantined[view.id] = reason
    result = engine.reflect(clean) if clean else Reflection()
    calls = engine.take_calls()
    result = _trusted(result, {v.id for v in clean})
    result.facts.extend(arrivals.fulfilled_moves(memory.db.conn, clean))
    for note in result.notes:
        log.warning("%s", note)
    report.notes.extend(result.notes)
    vectors = memory.embedder.encode([t.text for t in result.thoughts])
    ids = [view.id for view, _ in batch]
    new_links = linking.episode_links(
        memory.db.conn, earlier, ids, settings.link_candidates, settings.link_similarity
    )
    with audited(memory) as record:
        conn = record.conn
        model_calls(record, calls)
        conn.executemany(
            "UPDATE episodes SET quarantine = ? WHERE id = ?",
            [(reason, i) for i, reason in newly_quarantined.items()],
        )
        changed: list[links.NewLink] = []
        for fact in result.facts:
            outcome = persona.add_extracted(conn, fact, engine.name, settings.conflict_days)
            report.facts[outcome.op] = report.facts.get(outcome.op, 0) + 1
            if outcome.fact_id is not None:
                changed.extend(_changed_links(conn, outcome))
        for candidate, encoded in zip(result.thoughts, vectors, strict=True):
            thought, vector = _by_name(memory, conn, candidate, encoded)
            op, _ = thoughts.add(
                conn, thought, vector, index, engine.name, settings.merge_similarity
            )
            report.thoughts[op] = report.thoughts.get(op, 0) + 1
        report.links += links.store(
            conn, changed + new_links, engine.name, f"linked episodes e{ids[0]}..e{ids[-1]}"
        )
        # After the facts: their people resolve to the names the persona now holds.
        conn.executemany(
            "UPDATE episodes SET keys = ? WHERE id = ?",
            index_keys.changed_keys(conn, clean, result.facts),
        )
        conn.executemany(
            "UPDATE episodes SET reflected_at = ? WHERE id = ?",
            [(datetime.now().timestamp(), i) for i in ids],
        )
    report.episodes += len(batch)
    report.quarantined += len(batch) - len(clean)
    log.info("reflect: committed %d episode(s), e%d..e%d", len(batch), ids[0], ids[-1])


def _by_name(
    memory: Memory, conn: sqlcipher3.Connection, thought: ThoughtCandidate, vector: Any
) -> tuple[ThoughtCandidate, Any]:
    """A thought about someone names them as the persona does, now that this batch's
    facts are in: "Helena Sousa's address is…", not the chat's "Mãe's address is…".
    Encoded again when its text changes (rare: a relationship word or a nickname)."""
    subject = thought.subject
    if not subject or subject == "self" or not thought.text.startswith(subject):
        return thought, vector
    person = people.resolve(conn, subject)
    if person in ("self", subject):
        return thought, vector
    text = person + thought.text[len(subject) :]
    return replace(thought, text=text, subject=person), memory.embedder.encode([text])[0]


def _trusted(result: Reflection, allowed: set[int]) -> Reflection:
    """Only results resting on this batch's clean episodes, with known attributes, and
    thoughts with their secrets replaced by placeholders (before they are embedded): a
    model's reply is checked again here, whatever the engine promised."""
    return Reflection(
        facts=[f for f in result.facts if f.evidence in allowed and is_known(f.attribute)],
        thoughts=[
            replace(t, text=redact(t.text))
            for t in result.thoughts
            if t.text.strip() and t.derived_from and set(t.derived_from) <= allowed
        ],
        notes=list(result.notes),
    )


def _changed_links(conn: sqlcipher3.Connection, outcome: persona.Outcome) -> list[links.NewLink]:
    """A superseded fact: the new fact and its episode point at the old ones as 'changed'."""
    out = []
    new_evidence = conn.execute(
        "SELECT min(episode_id) FROM fact_evidence WHERE fact_id = ?", (outcome.fact_id,)
    ).fetchone()[0]
    for old_id in outcome.closed:
        out.append(links.NewLink("fact", outcome.fact_id or 0, "fact", old_id, "changed", None))
        old_evidence = conn.execute(
            "SELECT min(episode_id) FROM fact_evidence WHERE fact_id = ?", (old_id,)
        ).fetchone()[0]
        if new_evidence is not None and old_evidence is not None and new_evidence != old_evidence:
            out.append(
                links.NewLink("episode", new_evidence, "episode", old_evidence, "changed", None)
            )
    return out
