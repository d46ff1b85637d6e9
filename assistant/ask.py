"""`me ask`: recall, answer, post-think (Think-in-Memory).

A question for one attribute of one person ("what is my phone number?") is answered
from the persona (`persona_answer.py`): the current value, since when, and the memory
it rests on. Every other question goes to the engine, with relevant thoughts first,
then persona facts, then episodes: a conclusion drawn before need not be drawn again.
The engine answers from that evidence only (ollama: a grounded answer citing ids;
builtin: the best supporting sentences with their dates and sources). The answer is
then stored as a thought derived from the episodes it rests on, so the next time the
same question finds it ready.

Quarantined episodes (instruction-like text) are never evidence: they reach no model and
never become a thought. A stored conclusion has its secrets replaced by placeholders.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

import numpy as np

from assistant import asking, event_pairs, persona_answer
from assistant.derived import persona, thoughts
from assistant.derived.attributes import ATTRIBUTES, is_single, value_key
from assistant.derived.proposals import ThoughtCandidate
from assistant.evidence import evidence_of
from assistant.governance import audited, model_calls
from assistant.hits import query_terms, require_words
from assistant.memory import Memory
from assistant.question_time import Window
from assistant.recall import (
    RRF_K,
    Scope,
    asked_window,
    dense_query,
    dense_ranking,
    fts_query,
    fuse,
    keyword_ranking,
    load_hits,
    ranked,
    strengthen,
    with_retention,
)
from assistant.reflection.answer import GATHER, GATHERING
from assistant.reflection.engine import Answer, Engine, Evidence
from assistant.reflection.extract import extract_facts
from assistant.reflection.run import clean_views
from policies.secrets import redact
from store.database import chunked, marks

# Words in a question that point at a persona attribute.
ATTRIBUTE_WORDS: dict[str, tuple[str, ...]] = {
    "name": ("name", "called"),
    "nickname": ("nickname",),
    "email": ("email", "e-mail", "mail address"),
    "phone": ("phone", "number", "mobile", "cell"),
    "address": ("address",),
    "city": ("live", "living", "lives", "city", "moved", "move"),
    "country": ("country",),
    "birthday": ("birthday", "born"),
    "employer": ("work", "works", "working", "job", "employer", "company"),
    "job_title": ("job", "role", "title", "position", "do for a living"),
    "school": ("study", "studies", "school", "university", "college"),
    "relationship": ("who is", "related", "relationship"),
    "partner": ("partner", "wife", "husband", "girlfriend", "boyfriend", "married"),
    "child": ("child", "children", "son", "daughter", "kids"),
    "pet": ("pet", "pets", "dog", "cat"),
    "vehicle": ("car", "vehicle", "bike", "drive"),
    "likes": ("like", "likes", "love", "loves", "favourite", "favorite", "enjoy"),
    "dislikes": ("dislike", "dislikes", "hate", "hates"),
    "allergy": ("allergic", "allergy", "allergies"),
    "diet": ("diet", "vegetarian", "vegan", "eat"),
    "language": ("speak", "speaks", "language", "languages"),
    "hobby": ("hobby", "hobbies", "pastime", "free time"),
    "nationality": ("nationality", "citizen"),
    "important_date": ("anniversary",),
}


@dataclass
class AskResult:
    question: str
    answer: Answer
    evidence: list[Evidence]
    thought: thoughts.Thought | None  # what post-thinking stored (or reinforced)
    thought_op: str | None  # 'insert' or 'merge'
    searched: Window | None = None  # the period the question named, searched first

    def as_json(self) -> dict[str, Any]:
        return {
            "question": self.question,
            "answer": self.answer.text,
            "citations": [
                {"ref": e.ref, "date": e.date, "source": e.source, "text": e.text}
                for e in self.evidence
                if e.ref in self.answer.citations
            ],
            "engine": self.answer.engine,
            "thought": None
            if self.thought is None
            else {**self.thought.as_json(), "operation": self.thought_op},
            "notes": self.answer.notes,
            "searched": None
            if self.searched is None
            else {"first": self.searched.first.isoformat(),
                  "last": self.searched.last.isoformat(), "said": self.searched.said},
        }  # fmt: skip


def thought_ranking(memory: Memory, question: str, n: int, vector: np.ndarray | None) -> list[int]:
    """Active thoughts by fused keyword and vector similarity."""
    conn = memory.db.conn
    keyword: list[int] = []
    terms = query_terms(question)
    if terms:
        keyword = [
            r[0]
            for r in conn.execute(
                "SELECT t.id FROM thoughts_fts f JOIN thoughts t ON t.id = f.rowid "
                "WHERE thoughts_fts MATCH ? AND t.status = 'active' "
                "ORDER BY bm25(thoughts_fts) LIMIT ?",
                (fts_query(terms), n),
            )
        ]
    dense: list[int] = []
    if vector is not None:
        rows = conn.execute(
            "SELECT id, vector FROM thoughts WHERE status = 'active' AND vector IS NOT NULL"
        ).fetchall()
        if rows:
            matrix = np.vstack([np.frombuffer(r[1], dtype="<f4") for r in rows])
            scores = matrix @ vector
            order = np.argsort(-scores, kind="stable")[:n]
            dense = [rows[i][0] for i in order if scores[i] >= 0.3]
    return [i for i, _ in fuse([keyword, dense])][:n]


def relevant_facts(memory: Memory, question: str) -> list[persona.Fact]:
    """Current facts about the people the question is about (`asking.asked_people`)
    whose attribute the question's words point at."""
    lowered = f" {question.casefold()} "
    wanted = {
        attr
        for attr, words in ATTRIBUTE_WORDS.items()
        if any(re.search(rf"\b{re.escape(w)}\b", lowered) for w in words)
    }
    if not wanted:
        return []
    out = []
    for person in sorted(asking.asked_people(memory.db.conn, question)):
        for fact in persona.facts(memory.db.conn, person):
            if fact.attribute in wanted and fact.attribute in ATTRIBUTES:
                out.append(fact)
    return out


def gather(
    memory: Memory,
    question: str,
    k: int,
    within: Scope | None = None,
    window: Window | None = None,
) -> tuple[list[Evidence], list[int]]:
    """Evidence for a question, thoughts first; and the episode ids among it."""
    # Thoughts are matched on the whole question; episodes as recall reads it.
    vector, meant = memory.embedder.encode([question, dense_query(memory, question)])
    n = max(memory.config.recall.candidates, k)
    fused, _, _ = ranked(memory, question, n, within, meant, window)
    hits = load_hits(memory, _clean(memory, fused)[:k])
    evidence: list[Evidence] = []
    for thought_id in thought_ranking(memory, question, k, vector)[: max(2, k // 2)]:
        t = thoughts.get(memory.db.conn, thought_id)
        if within is not None and not set(t.evidence) & within.ids:
            continue
        evidence.append(Evidence(f"t{t.id}", t.time or t.created_at[:10], "thought", t.text))
    for fact in relevant_facts(memory, question):
        # The attribute's description carries the question's words ("live" for city).
        who = "your" if fact.person == "self" else f"{fact.person}'s"
        about = ATTRIBUTES[fact.attribute].description
        text = f"{who} {fact.attribute.replace('_', ' ')} ({about}): {fact.value}"
        evidence.append(Evidence(f"f{fact.id}", fact.valid_from or "", "persona", text))
    evidence += [evidence_of(hit) for hit in hits]
    return evidence, [h.id for h in hits]


def _clean(memory: Memory, scored: Sequence[tuple[int, float]]) -> list[tuple[int, float]]:
    """The ranked episodes that are not quarantined, in the given order."""
    if not scored:
        return []
    ids = [i for i, _ in scored]
    flagged = {
        r[0]
        for part in chunked(ids)
        for r in memory.db.conn.execute(
            f"SELECT id FROM episodes WHERE id IN ({marks(part)}) AND quarantine IS NOT NULL",
            part,
        )
    }
    return [pair for pair in scored if pair[0] not in flagged]


def _episodes_behind(memory: Memory, refs: Sequence[str]) -> list[int]:
    """The episodes a set of citations rests on (thoughts and facts via their evidence)."""
    out: list[int] = []
    conn = memory.db.conn
    for ref in refs:
        kind, number = ref[0], int(ref[1:])
        if kind == "e":
            out.append(number)
        elif kind == "t":
            out.extend(thoughts.get(conn, number).evidence)
        elif kind == "f":
            out.extend(persona.get(conn, number).evidence)
    return list(dict.fromkeys(out))


def ask(
    memory: Memory,
    question: str,
    engine: Engine,
    k: int = 5,
    post_think: bool = True,
    reinforce: bool = True,
    now: datetime | None = None,
) -> AskResult:
    """Answer `question` from memory, as of `now` (the period it names, its ages).
    With `reinforce`, the episodes and thoughts the answer cites are recalled, so they
    grow stronger; `post_think` stores the answer as a thought."""
    require_words(question)
    conn = memory.db.conn
    asked, question = question, asking.with_names(conn, question)  # "the person whose…"
    direct = None if engine.writes_answers else persona_answer.answer(conn, question, now)
    if direct is not None:  # the persona holds it: nothing to conclude anew
        cited = [int(e.ref[1:]) for e in direct.evidence if e.ref.startswith("e")]
        if reinforce:
            strengthen(memory, cited)
        return AskResult(asked, direct.answer, direct.evidence, None, None)
    computed = event_pairs.answer(memory, question, now)
    if computed is not None:  # two events ordered or subtracted: nothing to conclude anew
        answered, cited_evidence = computed
        if reinforce:
            strengthen(memory, [int(e.ref[1:]) for e in cited_evidence])
        return AskResult(asked, answered, cited_evidence, None, None)
    window = asked_window(memory, question, now)
    if GATHERING.search(question):  # a count over many memories: gather more of them
        k = max(k, GATHER)
    evidence, episode_ids = gather(memory, question, k, window=window)
    answer = engine.answer(question, evidence, now)
    calls = engine.take_calls()
    if calls:
        with audited(memory) as record:
            model_calls(record, calls)
    if reinforce:
        strengthen(memory, [i for i in episode_ids if f"e{i}" in answer.citations])
    cited_thoughts = [int(r[1:]) for r in answer.citations if r.startswith("t")]
    if reinforce and cited_thoughts:
        with memory.db.write() as conn:
            thoughts.strengthen(conn, cited_thoughts)
    thought, op = None, None
    # The statement is the answer's first sentence: it rests on the first citation only,
    # and is dated by it.
    behind = _episodes_behind(memory, answer.citations[:1])
    statement = answer.statement
    if statement is not None and not _adds_to(question, statement):
        statement = None  # "My manager at the new job." answers nothing by itself
    if post_think and behind and statement and not _stale(memory, statement, behind[0]):
        said = next((e.date for e in evidence if e.ref == answer.citations[0] and e.date), None)
        cand = ThoughtCandidate(
            text=" ".join(redact(statement).split()),
            derived_from=tuple(behind),
            time=said[:10] if said else None,
        )
        vector = memory.embedder.encode([cand.text])[0]
        settings = memory.config.reflection
        with memory.db.write() as conn:
            index = thoughts.ThoughtIndex(conn)
            op, thought_id = thoughts.add(
                conn, cand, vector, index, engine.name, settings.merge_similarity, origin="answer"
            )
        if thought_id is not None:
            thought = thoughts.get(memory.db.conn, thought_id)
    return AskResult(asked, answer, evidence, thought, op, window)


def _adds_to(question: str, statement: str) -> bool:
    """Whether the statement holds a content word the question does not: only then is
    it an answer worth keeping."""
    asked = set(query_terms(question))
    return any(word not in asked for word in query_terms(statement))


def _stale(memory: Memory, statement: str, episode_id: int) -> bool:
    """Whether the statement, read as its episode's author said it, names another value
    than the current one of a one-valued attribute ("my number is 912…" after the
    number changed): a line the persona has moved past is no conclusion to keep."""
    views = clean_views(memory.db.conn, [episode_id])
    if not views:
        return False
    for fact in extract_facts(replace(views[0], text=statement)):
        if not is_single(fact.attribute):
            continue
        now = persona.facts(memory.db.conn, fact.person, fact.attribute)
        if now and all(value_key(f.value) != value_key(fact.value) for f in now):
            return True
    return False


def reflective_ranking(
    memory: Memory, question: str, n: int, within: Scope | None = None
) -> list[int]:
    """Episode ids ranked by episodes, thoughts and persona facts together: a thought
    or fact that matches lends its rank to the episodes it was drawn from. Everything
    else is as in `recall()` (candidate depth, retention), so the LoCoMo benchmark
    measures only what reflection adds."""
    depth = max(memory.config.recall.candidates, n)
    vector = memory.embedder.encode([question])[0]
    dense = dense_ranking(memory, question, depth, within, vector)
    keyword = keyword_ranking(memory, question, depth, within)
    via_thoughts: list[int] = []
    for thought_id in thought_ranking(memory, question, depth, vector):
        for episode_id in thoughts.get(memory.db.conn, thought_id).evidence:
            if (within is None or episode_id in within.ids) and episode_id not in via_thoughts:
                via_thoughts.append(episode_id)
    via_facts: list[int] = []
    for fact in relevant_facts(memory, question):
        for episode_id in fact.evidence:
            if (within is None or episode_id in within.ids) and episode_id not in via_facts:
                via_facts.append(episode_id)
    fused = with_retention(memory, fuse([keyword, dense, via_thoughts, via_facts], k=RRF_K))
    return [i for i, _ in fused][:n]
