"""Hybrid recall: dense (vectors) and keyword (FTS5 BM25) rankings fused by RRF.

Reciprocal-rank fusion needs no score calibration between the two retrievers:
each contributes 1 / (RRF_K + rank) for the episodes it found. Date filters are
applied to both sides; the dense side filters after an unfiltered search when it
can, because chroma's metadata-filtered search is much slower at scale.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

import numpy as np

from assistant import asking
from assistant.derived import persona
from assistant.hits import Hit, query_terms, require_words
from assistant.memory import Memory
from assistant.question_time import Window, window_of
from assistant.reflection.dates import RELATIVE_WHEN
from assistant.reflection.index_keys import day_key
from assistant.retention import rank_factor, retention_at
from assistant.spelling import corrections, stems, unheard
from assistant.word_forms import also_searched
from store.database import marks
from store.vectors import exact_nearest, time_clause

RRF_K = 60
KEYWORD_SHARE = 0.6  # of a memory's score in the keyword and dense blend (`blend`)
TOLD_WHEN_WEIGHT = 0.5  # chat messages that say when, for "when" questions (`told_when`)
UNHEARD_SHARE = 0.2  # taken from KEYWORD_SHARE for words no memory holds (`keyword_share`)
BLEND_WEIGHT = 2.0  # the blend stands for two rankings among those `ranked` fuses
DAY_KEYS = 7  # a period of at most this many days also finds what was said of its days
# At most SESSION_MOST of the first SPREAD_TOP results come from one session (`spread`).
# Measured on LoCoMo, where answers often span several turns of one session: at most 3
# cut recall@10 from 0.648 to 0.607 (an earlier stop), 5 from 0.742 to 0.737, 7 to 0.741;
# the life fixture is the same at 5 and 7. 7 is the cheapest guarantee that a long
# session leaves room for the others.
SPREAD_TOP = 10
SESSION_MOST = 7
REPLY_TOP = 1  # questions among this many first results bring their reply (`with_replies`)
WINDOW_WEIGHT = 2.0  # the memories inside the period a question names (`ranked`)
# What happened in a period is often told in the days after it ("yesterday", "last
# Friday"), so those days count as inside it. On LoCoMo's 220 questions that name a
# period, recall@10 0.772 with none, 0.781 with 1, 0.787 with 3, 0.783 with 7; the life
# fixture is the same at each.
TOLD_AFTER = 3
TITLED_LIMIT = 500  # memories titled by a person's name taken as about them
FACT_WEIGHT = 4.0  # the asked facts' memories count as four rankings (`person_rankings`)
ABOUT_WEIGHT = 1.0  # the memories about an asked person (`person_rankings`)
SAID_WEIGHT = 0.25  # what the one person asked about wrote themselves (`said_by`)
OWN_WEIGHT = 0.15  # the same, searched among all they wrote (`own_words`)
# title, sender, text, keys, context, reply: a heading match counts a little more, and
# the words of the message before (`context`) and of the reply after (`reply`) less than
# the message's own: on LoCoMo recall@10 0.706 without context, 0.723 at 1.0, 0.731 at
# 0.6 and 0.4 (MRR 0.543 at 0.4, 0.535 at 0.6); the reply at 0.4 then took it to 0.751
# (0.742 at 0.2). The life fixture's recall@5 stays within a question.
BM25_WEIGHTS = "1.5, 1.0, 1.0, 1.0, 0.4, 0.4"
WIDEN = 20  # with a date range, candidates fetched per result before filtering
WIDE_LIMIT = 3000  # most candidates one unfiltered dense search may return
EXACT_LIMIT = 2500  # date ranges with at most this many episodes are scored exactly


def fts_query(terms: Sequence[str]) -> str:
    """An FTS5 OR-query of quoted terms (quoting neutralizes FTS syntax in user text)."""
    return " OR ".join('"' + t.replace('"', '""') + '"' for t in terms)


def day_start(day: date) -> float:
    """Local midnight at the start of `day`, as a Unix time."""
    return datetime.combine(day, time.min).astimezone().timestamp()


def time_bounds(since: date | None, until: date | None) -> tuple[float | None, float | None]:
    """[since, until] as whole local days -> a half-open Unix time range."""
    lo = day_start(since) if since else None
    hi = day_start(until + timedelta(days=1)) if until else None
    return lo, hi


@dataclass(frozen=True)
class Scope:
    """Where to look: a half-open Unix time range and/or one conversation, resolved to
    the ids of the episodes inside it."""

    lo: float | None
    hi: float | None
    conversation: str | None
    ids: frozenset[int]

    @classmethod
    def of(
        cls, memory: Memory, lo: float | None, hi: float | None, conversation: str | None = None
    ) -> Scope:
        clause, args = _scope_clause(lo, hi, conversation)
        # Covering-index scans: cheap even for a year of a large memory.
        rows = memory.db.conn.execute(f"SELECT e.id FROM episodes e WHERE 1{clause}", args)
        return cls(lo, hi, conversation, frozenset(int(r[0]) for r in rows))

    @classmethod
    def within(cls, memory: Memory, window: Window, scope: Scope | None) -> Scope:
        """The days of `window` and the TOLD_AFTER days after it, inside `scope` (its
        conversation and range) if given."""
        lo, hi = time_bounds(window.first, window.last + timedelta(days=TOLD_AFTER))
        if scope is not None:
            lo = lo if scope.lo is None else max(lo or scope.lo, scope.lo)
            hi = hi if scope.hi is None else min(hi or scope.hi, scope.hi)
        return cls.of(memory, lo, hi, scope.conversation if scope else None)

    @property
    def clause(self) -> tuple[str, list[object]]:
        return _scope_clause(self.lo, self.hi, self.conversation)


def _scope_clause(
    lo: float | None, hi: float | None, conversation: str | None
) -> tuple[str, list[object]]:
    sql, args = time_clause(lo, hi)
    out: list[object] = list(args)
    if conversation is not None:
        sql += " AND e.conversation = ?"
        out.append(conversation)
    return sql, out


def keyword_ranking(memory: Memory, query: str, n: int, within: Scope | None = None) -> list[int]:
    return [i for i, _ in keyword_scored(memory, query, n, within)]


def keyword_scored(
    memory: Memory, query: str, n: int, within: Scope | None = None
) -> list[tuple[int, float]]:
    """(episode id, BM25 score, higher is better), best first. The FTS index is ranked
    and cut before anything is joined: joining every match to `episodes` first cost 10x
    at 100k episodes."""
    terms = query_terms(query)
    if not terms:
        return []
    match = fts_query(terms)
    if within is None:
        return _fts_top(memory, match, n)
    for limit in (n * WIDEN, None):  # a narrow range may need every match
        top = _fts_top(memory, match, limit)
        inside = [(i, score) for i, score in top if i in within.ids]
        if len(inside) >= n or limit is None or len(top) < limit:
            return inside[:n]
    return []  # unreachable: the last pass has no limit


def _fts_top(memory: Memory, match: str, limit: int | None) -> list[tuple[int, float]]:
    rows = memory.db.conn.execute(
        f"SELECT rowid, -bm25(episodes_fts, {BM25_WEIGHTS}) AS score FROM episodes_fts "
        "WHERE episodes_fts MATCH ? ORDER BY score DESC LIMIT ?",
        (match, -1 if limit is None else limit),
    ).fetchall()
    return [(int(r[0]), float(r[1])) for r in rows]


def dense_ranking(
    memory: Memory,
    query: str,
    n: int,
    within: Scope | None = None,
    vector: np.ndarray | None = None,
) -> list[int]:
    return [i for i, _ in dense_scored(memory, query, n, within, vector)]


def dense_scored(
    memory: Memory,
    query: str,
    n: int,
    within: Scope | None = None,
    vector: np.ndarray | None = None,
) -> list[tuple[int, float]]:
    """(episode id, cosine similarity), best first, inside `within` when given.

    Without an open chroma index (a one-shot command), every vector in scope is
    scored exactly. With one, chroma's metadata-filtered search is slow at scale
    (120-210 ms at 100k), so a time range is served by one wider unfiltered search
    sized to the range's share of the memory, or, for a range with few episodes, by
    scoring their vectors exactly.
    """
    total = memory.vector_count()
    if total == 0:
        return []
    if vector is None:  # callers that also need the query's vector pass it in
        vector = memory.embedder.encode([query])[0]
    if within is None:
        return memory.nearest(vector, n)
    inside = len(within.ids)
    if inside == 0:
        return []
    if inside <= EXACT_LIMIT or memory.index_report is None:
        return _exact_in_range(memory, vector, n, within)
    wide = min(total, WIDE_LIMIT, max(n * 2, int(n * total / inside * 1.5)))
    found = [(i, score) for i, score in memory.nearest(vector, wide) if i in within.ids]
    if len(found) >= n or wide >= total:
        return found[:n]
    if within.conversation is not None:  # chroma's metadata knows times, not conversations
        return _exact_in_range(memory, vector, n, within)
    return memory.nearest(vector, n, since=within.lo, until=within.hi)


def _exact_in_range(
    memory: Memory, vector: np.ndarray, n: int, within: Scope
) -> list[tuple[int, float]]:
    clause, args = within.clause
    return exact_nearest(memory.db, vector, n, clause, args)


def blend(
    keyword: Sequence[tuple[int, float]],
    dense: Sequence[tuple[int, float]],
    share: float | None = None,
) -> list[tuple[int, float]]:
    """The keyword and dense rankings as one: each list's scores scaled to [0, 1] (its
    best 1, its last 0, absent 0), then `share` of the keyword score plus the rest of
    the dense one; best first, ties to the keyword side.

    Scores, not ranks: a BM25 match far ahead of the rest (a rare name, an exact phrase)
    stays ahead, where reciprocal-rank fusion levelled it with the dense side's best
    guess, and lost to BM25 alone at the top. Measured through `recall()` on LoCoMo:
    MRR 0.418 with RRF, 0.452 with BM25 alone, 0.478 blended; recall@10 0.647 to 0.659.
    On the life fixture recall@5 went from 0.775 to 0.783. A share of 0.5 favoured the
    small life set (0.804) and cost LoCoMo (MRR 0.461), 0.7 the reverse (0.754, 0.481)."""
    share = KEYWORD_SHARE if share is None else share
    kw, dn = _unit(keyword), _unit(dense)
    order = list(dict.fromkeys([i for i, _ in keyword] + [i for i, _ in dense]))
    scored = [(i, share * kw.get(i, 0.0) + (1 - share) * dn.get(i, 0.0)) for i in order]
    return sorted(scored, key=lambda kv: -kv[1])


def _unit(scored: Sequence[tuple[int, float]]) -> dict[int, float]:
    if not scored:
        return {}
    values = [s for _, s in scored]
    low, high = min(values), max(values)
    if high <= low:
        return {i: 1.0 for i, _ in scored}
    return {i: (s - low) / (high - low) for i, s in scored}


def fuse(
    rankings: Sequence[Sequence[int]], weights: Sequence[float] = (), k: int = RRF_K
) -> list[tuple[int, float]]:
    """Reciprocal-rank fusion, each ranking scaled by its weight (1 when not given);
    ties broken by the first ranking that has the id."""
    scores: dict[int, float] = {}
    for index, ranking in enumerate(rankings):
        weight = weights[index] if index < len(weights) else 1.0
        for rank, episode_id in enumerate(ranking, start=1):
            scores[episode_id] = scores.get(episode_id, 0.0) + weight / (k + rank)
    return sorted(scores.items(), key=lambda kv: -kv[1])


# A message of a word or two ("Home", "AGAIN?") says little whatever it matches: with
# fewer content words than this its score is scaled down, to SHORT_FLOOR for none. 4
# found "What breed is Feijão?" (life recall@5 +1) but ranked down answers as short as
# "Sent it. I declined Klarwerk." and "Sintra, with the kids."; it stays 3.
SHORT_WORDS = 3
SHORT_FLOOR = 0.6


def informative(text: str) -> float:
    """The prior of a memory by its content words: 1 from SHORT_WORDS up."""
    words = len(query_terms(text[:400]))
    return min(1.0, SHORT_FLOOR + (1 - SHORT_FLOOR) * words / SHORT_WORDS)


def with_retention(memory: Memory, scored: list[tuple[int, float]]) -> list[tuple[int, float]]:
    """Scale each fused score by the memory's retention, within [floor, 1], and by how
    much it can say (`informative`), and re-sort."""
    if not scored:
        return scored
    settings = memory.config.recall
    marks = ",".join("?" * len(scored))
    rows = memory.db.conn.execute(
        "SELECT id, ingested_at, last_access, strength, pinned, substr(text, 1, 400) FROM episodes "
        f"WHERE id IN ({marks})",
        [i for i, _ in scored],
    ).fetchall()
    now = datetime.now().timestamp()
    factor = {
        r[0]: rank_factor(
            retention_at(now, _unix(r[1]), r[2], r[3], settings.retention_days, bool(r[4])),
            settings.retention_floor,
        )
        * informative(r[5])
        for r in rows
    }
    rescored = [(i, s * factor.get(i, settings.retention_floor)) for i, s in scored]
    return sorted(rescored, key=lambda kv: -kv[1])


def _unix(iso: str) -> float:
    return datetime.fromisoformat(iso).timestamp()


def strengthen(memory: Memory, episode_ids: Sequence[int]) -> None:
    """A recall reinforces: S += 1 and the forgetting clock restarts now."""
    if not episode_ids:
        return
    with memory.db.write() as conn:
        conn.executemany(
            "UPDATE episodes SET strength = strength + 1, last_access = ? WHERE id = ?",
            [(datetime.now().timestamp(), i) for i in episode_ids],
        )


def load_hits(memory: Memory, scored: Sequence[tuple[int, float]]) -> list[Hit]:
    if not scored:
        return []
    marks = ",".join("?" * len(scored))
    rows = memory.db.conn.execute(
        "SELECT e.id, e.time, e.source_ref, d.ref, e.title, e.text, e.kind, e.author, "
        "e.sender, e.conversation, e.meta, e.quarantine "
        f"FROM episodes e JOIN documents d ON d.id = e.document_id WHERE e.id IN ({marks})",
        [i for i, _ in scored],
    ).fetchall()
    by_id = {r[0]: r for r in rows}
    hits = []
    for episode_id, score in scored:
        r = by_id.get(episode_id)
        if r is None:  # removed between ranking and loading
            continue
        hits.append(
            Hit(
                id=r[0], score=score, time=r[1], source_ref=r[2], document=r[3], title=r[4],
                text=r[5], kind=r[6], author=r[7], sender=r[8], conversation=r[9],
                meta=json.loads(r[10]), quarantine=r[11],
            )
        )  # fmt: skip
    return hits


def ranked(
    memory: Memory,
    query: str,
    n: int,
    within: Scope | None = None,
    vector: np.ndarray | None = None,
    window: Window | None = None,
) -> tuple[list[tuple[int, float]], list[int], list[int]]:
    """Fused (episode id, score), best first, with retention applied; and the dense and
    keyword rankings it was fused from (`n` candidates each). `vector`, when given, is
    the one of `dense_query(memory, query)`. With a `window` (the
    period the question names), the best memories inside it are fused in too, weighted
    WINDOW_WEIGHT: found first, but not alone (a date in the wrong place must not hide
    the answer)."""
    searched = asking.for_search(query)
    meant = dense_query(memory, query)
    if vector is None:
        vector = memory.embedder.encode([meant])[0]
    senders = asking.speaker_senders(memory.db.conn, query)
    # One dense search serves both: as deep as `own_words` needs when it runs (a cold
    # recall scores every stored vector for each search).
    deep = dense_scored(memory, meant, n * WIDEN if senders else n, within, vector)
    dense = deep[:n]
    # "When do I fly to see my brother?": the words his memories use for him ("Duarte",
    # "Dudu") are searched for too, since the question has none of them.
    words = " ".join([searched, *asking.words_meant(memory.db.conn, query)])
    words = " ".join([words, *also_searched(words)])
    words = " ".join([words, *corrections(memory.db.conn, query_terms(searched))])
    keyword = keyword_scored(memory, words, n, within)
    share = keyword_share(memory, searched)
    blended = [i for i, _ in blend(keyword, dense, share)]
    about = person_rankings(memory, query, n, within, blended)
    rankings = [blended, *(ranking for ranking, _ in about)]
    weights = [BLEND_WEIGHT, *(weight for _, weight in about)]
    told = told_when(memory, query, blended)
    if told:
        rankings.append(told)
        weights.append(TOLD_WHEN_WEIGHT)
    said = said_by(memory, query, senders, blended)
    if said:
        rankings.append(said)
        weights.append(SAID_WEIGHT)
    own = own_words(memory, senders, n, within, meant, deep, share)
    if own:
        rankings.append(own)
        weights.append(OWN_WEIGHT)
    if window is not None:
        inside = Scope.within(memory, window, within)
        if inside.ids:
            both = blend(keyword_scored(memory, words, n, inside),
                         dense_scored(memory, meant, n, inside, vector))  # fmt: skip
            rankings.append([i for i, _ in both][:n])
            weights.append(WINDOW_WEIGHT)
        told = told_of(memory, window, within, n, blended)
        if told:
            rankings.append(told)
            weights.append(WINDOW_WEIGHT)
    fused = with_replies(memory, with_retention(memory, fuse(rankings, weights)))
    return fused, [i for i, _ in dense], [i for i, _ in keyword]


def dense_query(memory: Memory, query: str) -> str:
    """The question as the dense side reads it (`ranked`): searched words, without the
    names of the message senders it is about (`asking.without_senders`).

    Measured on LoCoMo, whose questions name one or both of the two people in each
    chat: leaving out the one person's name took recall@10 from 0.756 to 0.775
    (multi-hop 0.465 to 0.497, open-domain 0.406 to 0.466, single-hop 0.875 to 0.890,
    temporal 0.803 to 0.807); leaving out both when two are named ("What do Jon and
    Gina both have in common?"), with `own_words`, from 0.778 to 0.787. Taking the
    name out of the keyword side too lost (0.747): a name is rare, BM25 weighs it by
    its rarity, and what a person says of themselves often names them. The life
    fixture's recall@5 gained one question (132 to 133 of 138)."""
    return asking.without_senders(memory.db.conn, asking.for_search(query))


def keyword_share(memory: Memory, query: str) -> float:
    """The keyword side's share in `blend` for `query`: KEYWORD_SHARE, less by up to
    UNHEARD_SHARE of it for the share of the query's words that no memory holds. For
    "what breed is Feijão?" ("breed" is written nowhere) BM25 can only rank the dog's
    name, shortest message first, while the dense side finds "some kind of podengo mix".

    Measured: life recall@5 131 -> 132 of 138 (the breed), for any cut from 0.2 to 0.5
    (0.1 lost it); LoCoMo recall@10 unchanged at 0.7507 at 0.2, where 0.3 lost 0.0002
    and 0.5 lost 0.0008 (there the keyword side is the stronger one: 0.706 alone
    against the dense side's 0.476). The blend inside a period a question names keeps
    KEYWORD_SHARE: leaning there too lost a dated question ("…on 31 July, 2023?")."""
    terms = list(dict.fromkeys(stems(query_terms(query))))
    if not terms:
        return KEYWORD_SHARE
    return KEYWORD_SHARE * (1 - UNHEARD_SHARE * len(unheard(memory.db.conn, terms)) / len(terms))


def told_when(memory: Memory, query: str, relevant: Sequence[int]) -> list[int]:
    """For a question that asks when ("When did Jon get mentored?"), the chat messages
    in `relevant` (the question's own ranking, in its order) that place what they tell
    against the day they were written ("I got mentored by this amazing business dude
    yesterday!"): such a message dates the event by itself. A light ranking
    (TOLD_WHEN_WEIGHT) that reorders what the question found.

    Measured on LoCoMo: recall@10 0.7507 to 0.7564 (ten questions gained, two lost) at
    0.5, the same at 0.75, 0.7524 at 0.25. Chat messages only, and relative words only:
    on the life fixture notes and calendar events hold dates by their nature ("Flying
    back tonight" in a Copenhagen journal, "When: Monday 2 October" of every event), and
    taking them in, or absolute dates in messages, cost recall@5 one to seven questions
    and ask up to eight; as it is, the life fixture is unchanged."""
    if not relevant or not asking.asks_when(query):
        return []
    rows = memory.db.conn.execute(
        f"SELECT id, text FROM episodes WHERE id IN ({marks(relevant)}) "
        "AND conversation IS NOT NULL", list(relevant),
    ).fetchall()  # fmt: skip
    telling = {i for i, text in rows if RELATIVE_WHEN.search(text)}
    return [i for i in relevant if i in telling]


def said_by(
    memory: Memory, query: str, senders: Sequence[str], relevant: Sequence[int]
) -> list[int]:
    """The messages in `relevant` (the question's own ranking, in its order) that the one
    person a question names wrote themselves (`senders`, their sender names as
    `asking.speaker_senders` reads them): "what does
    Melanie do to destress?" is answered by what Melanie says, not by her friend's
    reply. A light ranking (SAID_WEIGHT) that reorders what the question found: on LoCoMo
    recall@10 went from 0.731 to 0.740 and MRR from 0.543 to 0.572 (0.733 at 0.5 and
    0.728 at 1.0, where the friend's words that hold the answer were pushed out).

    Nothing when the persona answers the question instead: an age ("how old did Tiago
    turn?", told in others' birthday wishes), or an attribute it holds facts of for the
    person asked (the memories those facts rest on are ranked already)."""
    conn = memory.db.conn
    if not senders or not relevant or asking.asked_age(conn, query) is not None:
        return []
    attribute = asking.asked_attribute(query)
    if attribute is not None and any(
        persona.facts(conn, person, attribute) for person in asking.asked_people(conn, query)
    ):
        return []
    mine = {r[0] for r in conn.execute(
        f"SELECT id FROM episodes WHERE id IN ({marks(relevant)}) "
        f"AND sender IN ({marks(senders)})", [*relevant, *senders],
    )}  # fmt: skip
    return [i for i in relevant if i in mine]


def own_words(
    memory: Memory,
    senders: Sequence[str],
    n: int,
    within: Scope | None,
    meant: str,
    dense: Sequence[tuple[int, float]],
    share: float,
) -> list[int]:
    """For a question about the one person who sends messages (`senders`, their sender
    names as `asking.speaker_senders` reads them), the question searched again among
    what they wrote alone, their name left out of both sides (`meant`, the question as
    `dense_query` reads it; `dense`, its dense ranking, `n * WIDEN` deep): "What
    activities has Melanie done with her family?" is answered by "I'm off to go swimming
    with the kids", which has none of its content words. `said_by` keeps the order of
    the question's own blend, where her name still counts on the keyword side; this
    ranks her messages by what they say. Each side's first `n * WIDEN` are taken,
    theirs kept. A light ranking (OWN_WEIGHT) that reorders: a memory found by it alone
    scores below every candidate of the question.

    Measured on LoCoMo with `dense_query`: recall@10 0.775 to 0.778 at 0.15 (multi-hop
    0.497 to 0.510, open-domain 0.466 to 0.485, temporal 0.807 to 0.805, single-hop
    unchanged); 0.777 at 0.1, 0.775 at 0.2, 0.774 at 0.25 and 0.772 at 0.4, where
    single-hop lost answers the other person gave ("Who invited Nate to join her on
    the trails?"). The life fixture is unchanged."""
    if not senders:
        return []
    conn = memory.db.conn
    words = " ".join([meant, *also_searched(meant)])
    keyword = keyword_scored(memory, words, n * WIDEN, within)
    found = list(dict.fromkeys([i for i, _ in keyword] + [i for i, _ in dense]))
    if not found:
        return []
    theirs = {r[0] for r in conn.execute(
        f"SELECT id FROM episodes WHERE id IN ({marks(found)}) "
        f"AND sender IN ({marks(senders)})", [*found, *senders],
    )}  # fmt: skip
    mine = blend([kv for kv in keyword if kv[0] in theirs][:n],
                 [kv for kv in dense if kv[0] in theirs][:n], share)  # fmt: skip
    return [i for i, _ in mine]


def spread(
    memory: Memory, scored: list[tuple[int, float]], top: int = SPREAD_TOP
) -> list[tuple[int, float]]:
    """`scored` with at most SESSION_MOST of its first `top` from one session (a chat's
    conversation and day, or one document otherwise); the rest of that session's are
    moved to just after the first `top`, in their order. One long session then cannot
    take every place, and a question that gathers finds the other sessions too."""
    head = scored[: top * 3]  # enough to fill `top` places when one session is deferred
    if len(head) <= SESSION_MOST:
        return scored
    rows = memory.db.conn.execute(
        "SELECT id, document_id, conversation, time_unix FROM episodes "
        f"WHERE id IN ({marks(head)})", [i for i, _ in head],
    ).fetchall()  # fmt: skip
    session = {
        r[0]: (r[1], r[2], datetime.fromtimestamp(r[3]).date() if r[2] is not None else None)
        for r in rows
    }
    kept: list[tuple[int, float]] = []
    deferred: list[tuple[int, float]] = []
    count: dict[object, int] = {}
    for item in head:
        key = session.get(item[0])  # None: removed since it was ranked, counted alone
        if key is not None and len(kept) < top and count.get(key, 0) >= SESSION_MOST:
            deferred.append(item)
            continue
        count[key] = count.get(key, 0) + 1
        kept.append(item)
    return kept[:top] + deferred + kept[top:] + scored[top * 3 :]


def prompts_first(
    memory: Memory, scored: list[tuple[int, float]], top: int = SPREAD_TOP
) -> list[tuple[int, float]]:
    """`scored` with each AI assistant's turn among the first `top` preceded by your
    message it answers (the last one of yours before it in that conversation). An AI's
    answers are long and general, and match a question's words better than the prompt
    that told of your life ("How much rent did we pay in Lisbon?": ChatGPT's estimates
    of Lisbon rents, above your own "We pay 950 €"); your words come first, the answer
    stays. Scaling the AI's turns down instead cost `ask` answers it had found in them."""
    head = scored[:top]
    rows = memory.db.conn.execute(
        "SELECT a.id, (SELECT p.id FROM episodes p WHERE p.document_id = a.document_id "
        "AND p.author = 'self' AND p.quarantine IS NULL AND (p.time_unix < a.time_unix "
        "OR (p.time_unix = a.time_unix AND p.id < a.id)) "
        "ORDER BY p.time_unix DESC, p.id DESC LIMIT 1) FROM episodes a "
        f"WHERE a.id IN ({marks(head)}) AND json_extract(a.meta, '$.ai_assistant')",
        [i for i, _ in head],
    ).fetchall()  # fmt: skip
    prompts = {ai: mine for ai, mine in rows if mine is not None}
    return _next_to(scored, prompts, before=True) if prompts else scored


def _next_to(
    scored: list[tuple[int, float]], shown_with: dict[int, int], before: bool
) -> list[tuple[int, float]]:
    """`scored` with each id's companion in `shown_with` placed just before or after it,
    at its score; a companion ranked higher already stays where it was."""
    out: list[tuple[int, float]] = []
    seen: set[int] = set()
    for episode_id, score in scored:
        companion = shown_with.get(episode_id)
        for shown in (companion, episode_id) if before else (episode_id, companion):
            if shown is not None and shown not in seen:
                seen.add(shown)
                out.append((shown, score))
    return out


def told_of(
    memory: Memory, window: Window, within: Scope | None, n: int, relevant: Sequence[int]
) -> list[int]:
    """Memories that say what happens on a day of a short `window`, whenever they were
    written ("dinner tomorrow", on Thursday, for a question about Friday): found by the
    day keys reflection gave them (`index_keys.day_key`); those in `relevant` (the
    question's own ranking) first, in its order, then the newest."""
    if (window.last - window.first).days >= DAY_KEYS:
        return []
    days = [window.first + timedelta(days=i) for i in range((window.last - window.first).days + 1)]
    match = "{keys} : (" + " OR ".join(day_key(d) for d in days) + ")"
    rows = memory.db.conn.execute(
        "SELECT e.id FROM episodes_fts f JOIN episodes e ON e.id = f.rowid "
        "WHERE episodes_fts MATCH ? ORDER BY e.time_unix DESC LIMIT ?",
        (match, n * WIDEN),
    ).fetchall()
    told = [r[0] for r in rows if within is None or r[0] in within.ids]
    return _in_order_of(told, relevant)[:n]


def _in_order_of(ids: Sequence[int], relevant: Sequence[int]) -> list[int]:
    """`ids` without repeats, those in `relevant` first in its order, the rest as given."""
    place = {episode: rank for rank, episode in enumerate(relevant)}
    return sorted(dict.fromkeys(ids), key=lambda e: place.get(e, len(place)))


def with_replies(
    memory: Memory, scored: list[tuple[int, float]], top: int = REPLY_TOP
) -> list[tuple[int, float]]:
    """Each message among the first `top` that asks a question ("Where did you go in
    May?") followed by its reply: the next message of the same conversation and day,
    from someone else, moved up to just after it. The answer is often in the reply
    alone, which shares no word with the question asked of recall. On LoCoMo, for the
    first result, this raised recall@10 from 0.657 to 0.678 (MRR 0.476 to 0.488); for
    the first five, to 0.687, but that cost the life fixture two questions its answer
    had found. Bringing the next message whatever the first one said did less."""
    if not scored:
        return scored
    head = scored[:top]
    marks = ",".join("?" * len(head))
    asking_rows = memory.db.conn.execute(
        "SELECT id, conversation, sender, time_unix, text FROM episodes "
        f"WHERE id IN ({marks}) AND conversation IS NOT NULL",
        [i for i, _ in head],
    ).fetchall()
    replies: dict[int, int] = {}
    for episode_id, conversation, sender, when, text in asking_rows:
        if not text.rstrip().endswith("?"):
            continue
        day_end = datetime.combine(datetime.fromtimestamp(when).date(), time.max).timestamp()
        row = memory.db.conn.execute(
            "SELECT id, sender FROM episodes WHERE time_unix >= ? AND time_unix <= ? "
            "AND conversation = ? AND id != ? AND (time_unix > ? OR id > ?) "
            "ORDER BY time_unix, id LIMIT 1",
            (when, day_end, conversation, episode_id, when, episode_id),
        ).fetchone()
        if row is not None and row[1] != sender:
            replies[episode_id] = row[0]
    return _next_to(scored, replies, before=False) if replies else scored


def person_rankings(
    memory: Memory, query: str, n: int, within: Scope | None, relevant: Sequence[int] = ()
) -> list[tuple[list[int], float]]:
    """For a question about someone (named, "Mãe", "my parents", or you), the memories
    about them, as (ranking, weight) pairs to fuse:

    - when it asks for one attribute ("what is Tiago allergic to?"), the memories its
      facts rest on, current facts first (closed ones first for "before", "old"...);
      weighted FACT_WEIGHT, since a labelled fact of that very person and attribute is
      stronger evidence than shared words: at 2, "where did I live before moving to
      Porto?" lost its note to messages that match both the words and the period;
    - for someone other than you: their own note (a file named after them), memories
      titled by their name, and what their current facts rest on; those in `relevant` (the
      question's own ranking) first, in its order, so that "when is Ana's flight?" puts
      her note's flight section before its birthday line.
    """
    conn = memory.db.conn
    asked = asking.asked_people(conn, query)
    if not asked:
        return []
    attribute = asking.asked_attribute(query)
    out: list[tuple[list[int], float]] = []
    if attribute is not None and not asking.asks_for_more(query):
        slot = [
            fact
            for person in sorted(asked)
            for fact in persona.facts(conn, person, attribute, include_closed=True)
            if fact.status != "hidden" and (fact.current or not asking.asks_now(query))
        ]
        if asking.asks_earlier(query):  # "where did I work before…": what ended, latest first
            slot.sort(key=lambda f: (not f.current, f.valid_to or ""), reverse=True)
        else:
            slot.sort(key=lambda f: (f.current, f.valid_from or ""), reverse=True)
        out.append((_within([e for f in slot for e in f.evidence], within, n), FACT_WEIGHT))
    about: list[int] = []
    for person in sorted(asked - {"self"}):
        names = [person, *(f.value for f in persona.facts(conn, person, "nickname"))]
        for name in names:
            pattern = "%/" + name.casefold().replace("%", "").replace("_", "") + ".%"
            about += [r[0] for r in conn.execute(
                "SELECT e.id FROM episodes e JOIN documents d ON d.id = e.document_id "
                "WHERE lower(d.ref) LIKE ? ORDER BY e.id", (pattern,),
            )]  # fmt: skip
        for name in names:  # "Ana's flights", "Lunch with Ana": titled by their name
            phrase = '"' + " ".join(query_terms(name)).replace('"', "") + '"'
            if phrase != '""':
                about += [r[0] for r in conn.execute(
                    "SELECT rowid FROM episodes_fts WHERE episodes_fts MATCH ? LIMIT ?",
                    (f"{{title keys}} : {phrase}", TITLED_LIMIT),
                )]  # fmt: skip
        facts = sorted(persona.facts(conn, person), key=lambda f: f.valid_from or "", reverse=True)
        about += [episode for fact in facts for episode in fact.evidence]
    out.append((_within(_in_order_of(about, relevant), within, n), ABOUT_WEIGHT))
    return [(ranking, weight) for ranking, weight in out if ranking]


def _within(ids: list[int], within: Scope | None, n: int) -> list[int]:
    """`ids` without repeats, only those in scope, at most `n`."""
    return [i for i in dict.fromkeys(ids) if within is None or i in within.ids][:n]


def happened(memory: Memory, within: Scope | None = None) -> Callable[[str], date | None]:
    """For `question_time.window_of`: the day of the memory that best tells of an event
    ("Ana's wedding"), searched like any question but without a period of its own."""

    def day(event: str) -> date | None:
        if not query_terms(event):
            return None
        fused, _, _ = ranked(memory, event, memory.config.recall.candidates, within)
        best = [i for i, _ in fused[:5]]
        times = dict(memory.db.conn.execute(
            f"SELECT id, time FROM episodes WHERE id IN ({marks(best)}) AND quarantine IS NULL",
            best,
        ).fetchall()) if best else {}  # fmt: skip
        first = next((times[i] for i in best if i in times), None)
        return date.fromisoformat(first[:10]) if first else None

    return day


def asked_window(
    memory: Memory, query: str, now: datetime | None, within: Scope | None = None
) -> Window | None:
    """The period a question names (`question_time.window_of`, as of `now`). An age
    question with a year or an age ("how old did Tiago turn in 2024?", "when did I turn
    30?") names that birthday, the day the wishes are said, not the whole year."""
    conn = memory.db.conn
    age = asking.asked_age(conn, query)
    birthday = age.birthday() if age is not None else None
    if birthday is not None:
        return Window(birthday, birthday, f"the birthday on {birthday.isoformat()}")
    return window_of(query, now, asking.became_true(conn), happened(memory, within))


def recall(
    memory: Memory,
    query: str,
    k: int = 5,
    since: date | None = None,
    until: date | None = None,
    conversation: str | None = None,
    reinforce: bool = False,
    now: datetime | None = None,
) -> list[Hit]:
    """The `k` episodes that best answer `query`, best first, optionally only between
    two days and/or in one conversation.

    A period the question names ("in March 2024", "two weeks ago", as of `now`) is
    searched first (see `ranked`).

    `reinforce` is for a person asking: the memories shown get stronger (S += 1) and
    their forgetting clock restarts. Scripts and benchmarks leave it off so repeated
    runs see the same ranking.

    A question with no word in it is refused: any ranking of it would be noise."""
    require_words(query)
    query = asking.with_names(memory.db.conn, query)  # "the person whose birthday is…"
    n = max(memory.config.recall.candidates, k)
    within = None
    if since is not None or until is not None or conversation is not None:
        within = Scope.of(memory, *time_bounds(since, until), conversation)
    window = asked_window(memory, query, now, within)
    fused, dense, keyword = ranked(memory, query, n, within, window=window)
    hits = load_hits(memory, spread(memory, prompts_first(memory, fused))[:k])
    if reinforce:
        strengthen(memory, [h.id for h in hits])
    dense_pos = {e: r for r, e in enumerate(dense, start=1)}
    keyword_pos = {e: r for r, e in enumerate(keyword, start=1)}
    for hit in hits:
        hit.dense_rank = dense_pos.get(hit.id)
        hit.keyword_rank = keyword_pos.get(hit.id)
    return hits
