"""LoCoMo retrieval: does recall find the chat turns that answer a question about a long chat?

Run by hand from the repository root (it is not a test). The data set is not part of
the repository (CC BY-NC 4.0); pass its path:

    .venv/bin/python bench/locomo.py --data ../shared/bench-data/locomo/locomo10.json
    .venv/bin/python bench/locomo.py --data PATH --limit 1      # one conversation, ~1 min
    .venv/bin/python bench/locomo.py --data PATH --json         # one JSON object on stdout

LoCoMo (Maharana et al., ACL 2024) has 10 long two-person conversations (19-32 sessions
each, ~5,900 turns in all) and ~2,000 questions whose `evidence` names the turns
(`dia_id`s) that answer them. The script goes through the product's normal path:

1. converts each conversation to the generic chat JSON Lines format (docs/chat-jsonl.md)
   in a temp folder: one message per turn, `time` = the session's date-time plus one
   second per turn (so order is kept), `sender` = the speaker, `conversation` = the
   sample id, `id` = the turn's `dia_id` (also in `meta`). A turn that shares a photo
   gets the photo's caption appended, "[image: a photo of ...]" (`--no-captions` drops
   it): the caption is often what a question asks about. Ingest embeds and indexes each
   turn's sender with it, so questions that name a speaker can match.
2. creates a throwaway passphrase-mode vault, adds speaker_a's name to the identity (so
   speaker_a's turns are "self"), and runs `ingest(memory, [folder])`.
3. asks every question of categories 1-4 (1 multi-hop, 2 temporal, 3 open-domain,
   4 single-hop; 5, adversarial, has no evidence and is skipped) with `recall()`, and,
   from the same store, with the keyword-only and dense-only rankings as baselines.

With `--reflect`, the builtin reflection runs after ingest (its speed is reported) and a
fourth retriever, "+ thoughts, facts" (`assistant.ask.reflective_ranking`), fuses the
episodes behind matching thoughts and persona facts with the dense and keyword rankings.

Every question is asked within its own conversation (`recall(..., conversation=...)`,
and the same scope for the keyword-only and dense-only baselines), as a user asking
about one chat would, on the day after its last session (`now=`): a question naming a
period ("in May 2023", "last week") searches that period first. The row "naming a
period" gives the scores of those questions alone.

Metrics, per category and over categories 1-4: evidence recall@k for k = 1, 5, 10, 20
(share of the question's evidence turns in the top k, averaged over questions), any@10
(at least one evidence turn in the top 10) and MRR (1 / rank of the first evidence turn,
0 if none in the top 20). Malformed evidence entries ("D8:6; D9:17") are split, those
that name no turn are skipped, and a question left without evidence is not scored.
Ingest time covers ingest() alone (the model is loaded first); query latency is that of
the fused `recall()` call with k = 20 and the model loaded.
"""

from __future__ import annotations

import os

# Before anything can import torch: busy-waiting OpenMP threads starve a 2-core machine.
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

import argparse  # noqa: E402
import json  # noqa: E402
import re  # noqa: E402
import shutil  # noqa: E402
import statistics  # noqa: E402
import sys  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
from collections.abc import Callable, Iterable, Sequence  # noqa: E402
from dataclasses import dataclass  # noqa: E402
from datetime import UTC, datetime, timedelta  # noqa: E402
from pathlib import Path  # noqa: E402
from typing import Any  # noqa: E402

PASSPHRASE = "bench-passphrase"
CATEGORIES = {1: "multi-hop", 2: "temporal", 3: "open-domain", 4: "single-hop"}
KS = (1, 5, 10, 20)
FETCH = max(KS)
METRICS = ("recall@1", "recall@5", "recall@10", "recall@20", "any@10", "mrr")
# recall@10 of a plain script on the same data (per-conversation BM25, all-MiniLM-L6-v2
# cosine, and their RRF fusion), for comparison.
REFERENCE = (("BM25", 0.543), ("MiniLM dense", 0.506), ("RRF fusion", 0.586))
_SESSION = re.compile(r"session_(\d+)")
_DIA_ID = re.compile(r"D\d+:\d+")


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def secrets() -> Any:
    from assistant.vault import Secrets

    return Secrets(ask_passphrase=lambda _confirm: PASSPHRASE)


def percentile(values: list[float], pct: int) -> float:
    if len(values) == 1:
        return values[0]
    return statistics.quantiles(values, n=100, method="inclusive")[pct - 1]


# -- data -------------------------------------------------------------------------


def session_time(text: str) -> datetime:
    """ "1:56 pm on 8 May, 2023" as a UTC time (the data set names no zone)."""
    return datetime.strptime(text.strip(), "%I:%M %p on %d %B, %Y").replace(tzinfo=UTC)


def turn_text(turn: dict[str, Any], captions: bool) -> str:
    text = str(turn.get("text", "")).strip()
    caption = turn.get("blip_caption")
    if captions and isinstance(caption, str) and caption.strip():
        text = f"{text} [image: {caption.strip()}]".strip()
    return text


def write_jsonl(sample: dict[str, Any], folder: Path, captions: bool) -> set[str]:
    """One chat JSONL file for a sample; returns the dia_ids written."""
    conv, sample_id = sample["conversation"], sample["sample_id"]
    sessions = sorted(int(m.group(1)) for k in conv if (m := _SESSION.fullmatch(k)))
    written: set[str] = set()
    with (folder / f"{sample_id}.jsonl").open("w", encoding="utf-8") as out:
        for n in sessions:
            start = session_time(conv[f"session_{n}_date_time"])
            for i, turn in enumerate(conv[f"session_{n}"]):
                text = turn_text(turn, captions)
                if not text:
                    continue
                record = {
                    "time": (start + timedelta(seconds=i)).isoformat(),
                    "sender": turn["speaker"],
                    "text": text,
                    "conversation": sample_id,
                    "id": turn["dia_id"],
                    "meta": {"dia_id": turn["dia_id"], "session": n},
                }
                out.write(json.dumps(record, ensure_ascii=False) + "\n")
                written.add(turn["dia_id"])
    return written


@dataclass(frozen=True)
class Question:
    sample_id: str
    text: str
    category: int
    evidence: frozenset[str]
    now: datetime  # asked the day after the conversation's last session


def last_session(sample: dict[str, Any]) -> datetime:
    conv = sample["conversation"]
    sessions = [int(m.group(1)) for k in conv if (m := _SESSION.fullmatch(k))]
    return session_time(conv[f"session_{max(sessions)}_date_time"])


def questions(sample: dict[str, Any], turns: set[str]) -> tuple[list[Question], int]:
    """Scorable questions of categories 1-4, and how many had no usable evidence."""
    found, unusable = [], 0
    now = last_session(sample) + timedelta(days=1)
    for qa in sample["qa"]:
        category = int(qa.get("category", 0))
        if category not in CATEGORIES:
            continue
        raw = " ".join(str(e) for e in qa.get("evidence", []))
        evidence = frozenset(e for e in _DIA_ID.findall(raw) if e in turns)
        if not evidence:
            unusable += 1
            continue
        found.append(Question(sample["sample_id"], str(qa["question"]), category, evidence, now))
    return found, unusable


# -- scoring ----------------------------------------------------------------------


def score(ranked: Sequence[str], evidence: frozenset[str]) -> dict[str, float]:
    """The metrics of one question for a ranked list of dia_ids (best first)."""
    ranked = list(dict.fromkeys(ranked))  # a turn split in parts counts once
    out = {f"recall@{k}": len(evidence.intersection(ranked[:k])) / len(evidence) for k in KS}
    out["any@10"] = float(bool(evidence.intersection(ranked[:10])))
    first = next((r for r, d in enumerate(ranked[:20], start=1) if d in evidence), None)
    out["mrr"] = 1.0 / first if first else 0.0
    return out


def mean_scores(rows: Iterable[dict[str, float]]) -> dict[str, float]:
    rows = list(rows)
    return {m: round(sum(r[m] for r in rows) / len(rows), 4) if rows else 0.0 for m in METRICS}


# -- the run ----------------------------------------------------------------------


def turn_index(memory: Any) -> dict[int, tuple[str, str]]:
    """Episode id -> (conversation, dia_id), read once from the store."""
    index = {}
    for episode_id, conversation, meta in memory.db.conn.execute(
        "SELECT id, conversation, meta FROM episodes"
    ):
        dia_id = json.loads(meta).get("dia_id")
        if isinstance(dia_id, str) and conversation:
            index[int(episode_id)] = (conversation, dia_id)
    return index


def narrow(ids: Iterable[int], index: dict[int, tuple[str, str]], sample_id: str) -> list[str]:
    return [index[i][1] for i in ids if i in index and index[i][0] == sample_id]


def run(
    data: Path, limit: int | None, captions: bool, workdir: Path, with_reflection: bool = False
) -> dict[str, Any]:
    from assistant import config, paths
    from assistant.ask import reflective_ranking
    from assistant.identity import add_identity
    from assistant.ingest import ingest
    from assistant.memory import Memory
    from assistant.question_time import window_of
    from assistant.recall import Scope, asked_window, dense_ranking, keyword_ranking, recall, spread
    from assistant.reflection.builtin import BuiltinEngine
    from assistant.reflection.run import reflect
    from assistant.vault import create_vault

    samples = json.loads(data.read_text(encoding="utf-8"))[:limit]
    chats = workdir / "chats"
    chats.mkdir(parents=True)
    asked: list[Question] = []
    unusable = turns = 0
    for sample in samples:
        written = write_jsonl(sample, chats, captions)
        turns += len(written)
        found, skipped = questions(sample, written)
        asked += found
        unusable += skipped
    log(
        f"{len(samples)} conversations, {turns} turns, {len(asked)} questions "
        f"({unusable} without usable evidence skipped)"
    )

    where = paths.resolve(workdir / "home")
    create_vault(where, secrets(), mode="passphrase")
    memory = Memory.open(where, config.load(where.config_file), secrets())
    try:
        for sample in samples:
            add_identity(memory.db, "name", sample["conversation"]["speaker_a"])
        memory.embedder.load()
        log("model loaded; ingesting")
        start = time.perf_counter()
        summary = ingest(memory, [chats])
        ingest_s = time.perf_counter() - start
        for failure in summary.failed:
            log(f"  failed: {failure.path}: {failure.reason}")
        index = turn_index(memory)
        log(f"ingested {len(index)} turns in {ingest_s:.1f} s; asking {len(asked)} questions")
        reflection: dict[str, Any] | None = None
        if with_reflection:
            began = time.perf_counter()
            report = reflect(memory, BuiltinEngine())
            took = time.perf_counter() - began
            reflection = {
                **report.as_json(),
                "seconds": round(took, 2),
                "episodes_per_s": round(report.episodes / took, 1),
            }
            log(f"reflected on {report.episodes} turns in {took:.1f} s: {report.as_json()}")
        scopes = {s["sample_id"]: Scope.of(memory, None, None, s["sample_id"]) for s in samples}
        retrievers: dict[str, Callable[[Question], list[str]]] = {
            "keyword": lambda q: narrow(
                keyword_ranking(memory, q.text, FETCH, scopes[q.sample_id]), index, q.sample_id
            ),
            "dense": lambda q: narrow(
                dense_ranking(memory, q.text, FETCH, scopes[q.sample_id]), index, q.sample_id
            ),
        }
        if with_reflection:  # episodes + thoughts + persona facts, fused
            retrievers["with_reflection"] = lambda q: narrow(
                reflective_ranking(memory, q.text, FETCH, scopes[q.sample_id]), index, q.sample_id
            )
        fused: list[dict[str, float]] = []
        baselines: dict[str, list[dict[str, float]]] = {name: [] for name in retrievers}
        latencies: list[float] = []
        # What two steps inside recall() cost, timed again on their own: reading the
        # question's period (with the search for an event it is anchored to, "after
        # Ana's wedding") and spreading the first results over sessions.
        period_ms: list[float] = []
        spread_ms: list[float] = []
        short = 0
        for number, q in enumerate(asked, start=1):
            began = time.perf_counter()
            hits = recall(memory, q.text, k=FETCH, conversation=q.sample_id, now=q.now)
            latencies.append((time.perf_counter() - began) * 1000)
            ranked = [
                str(h.meta["dia_id"])
                for h in hits
                if h.source_ref.startswith(f"chat:{q.sample_id}#") and "dia_id" in h.meta
            ]
            short += len(ranked) < max(KS)
            began = time.perf_counter()
            asked_window(memory, q.text, q.now, scopes[q.sample_id])
            period_ms.append((time.perf_counter() - began) * 1000)
            began = time.perf_counter()
            spread(memory, [(h.id, h.score) for h in hits])
            spread_ms.append((time.perf_counter() - began) * 1000)
            dated = window_of(q.text, q.now) is not None
            fused.append({**score(ranked, q.evidence), "category": q.category, "dated": dated})
            for name, retrieve in retrievers.items():
                baselines[name].append({**score(retrieve(q), q.evidence), "category": q.category})
            if number % 100 == 0:
                log(f"  {number}/{len(asked)} questions")
    finally:
        memory.close()
    by_category = {
        str(c): mean_scores(r for r in fused if r["category"] == c)
        for c in CATEGORIES
        if any(r["category"] == c for r in fused)
    }
    return {
        "overall": mean_scores(fused),
        "dated": mean_scores(r for r in fused if r["dated"]),
        "dated_questions": sum(1 for r in fused if r["dated"]),
        "by_category": by_category,
        "baselines": {name: mean_scores(rows) for name, rows in baselines.items()},
        # The fused result must beat each baseline in every category, not only overall.
        "baselines_by_category": {
            name: {c: mean_scores(r for r in rows if str(r["category"]) == c) for c in by_category}
            for name, rows in baselines.items()
        },
        "ingest_s": round(ingest_s, 2),
        "query_ms_p50": round(statistics.median(latencies), 1) if latencies else None,
        "query_ms_p95": round(percentile(latencies, 95), 1) if latencies else None,
        "period_ms_p50": round(statistics.median(period_ms), 2) if period_ms else None,
        "period_ms_p95": round(percentile(period_ms, 95), 2) if period_ms else None,
        "spread_ms_p50": round(statistics.median(spread_ms), 2) if spread_ms else None,
        "spread_ms_p95": round(percentile(spread_ms, 95), 2) if spread_ms else None,
        "questions": len(asked),
        "questions_by_category": {str(c): sum(q.category == c for q in asked) for c in CATEGORIES},
        "questions_without_evidence": unusable,
        "conversations": len(samples),
        "turns": len(index),
        "short_lists": short,
        "captions": captions,
        "reflection": reflection,
    }


def _ratio(fused: float, baseline: dict[str, float]) -> str:
    value = baseline["recall@10"]
    return f"×{fused / value:.2f}" if value else "baseline 0"


def table(r: dict[str, Any]) -> str:
    head = f"{'':<18}{'n':>6}" + "".join(f"{m:>11}" for m in METRICS)
    counts = r["questions_by_category"]

    def row(label: str, n: int, values: dict[str, float]) -> str:
        return f"{label:<18}{n:>6}" + "".join(f"{values[m]:>11.3f}" for m in METRICS)

    lines = [
        f"LoCoMo retrieval: {r['conversations']} conversations, {r['turns']:,} turns, "
        f"{r['questions']:,} questions (categories 1-4; {r['questions_without_evidence']} "
        "without usable evidence skipped)",
        f"ingest {r['ingest_s']:.1f} s; fused recall p50 {r['query_ms_p50']:.1f} ms, "
        f"p95 {r['query_ms_p95']:.1f} ms (k = {FETCH}, within the question's conversation;"
        f" {r['short_lists']} result lists shorter than {FETCH})",
        f"inside it: the question's period p50 {r['period_ms_p50']:.2f} ms, p95 "
        f"{r['period_ms_p95']:.2f} ms; spreading over sessions p50 {r['spread_ms_p50']:.2f} "
        f"ms, p95 {r['spread_ms_p95']:.2f} ms",
        "",
        head,
    ]
    if not r["captions"]:
        lines.insert(2, "photo captions left out (--no-captions)")
    for c, name in CATEGORIES.items():
        if str(c) in r["by_category"]:
            lines.append(row(f"{name} ({c})", counts[str(c)], r["by_category"][str(c)]))
    lines.append(row("overall (fused)", r["questions"], r["overall"]))
    lines.append(row("  naming a period", r["dated_questions"], r["dated"]))
    lines.append(row("keyword only", r["questions"], r["baselines"]["keyword"]))
    lines.append(row("dense only", r["questions"], r["baselines"]["dense"]))
    if "with_reflection" in r["baselines"]:
        lines.append(row("+ thoughts, facts", r["questions"], r["baselines"]["with_reflection"]))
        ref = r["reflection"]
        lines.append(
            f"builtin reflection: {ref['episodes']:,} turns in {ref['seconds']:.1f} s "
            f"({ref['episodes_per_s']:.0f}/s); facts {ref['facts']}; thoughts {ref['thoughts']}; "
            f"links {ref['links']}"
        )
    lines += ["", "recall@10 by category: fused against each baseline (fused / baseline)"]
    for c, name in CATEGORIES.items():
        if str(c) not in r["by_category"]:
            continue
        fused = r["by_category"][str(c)]["recall@10"]
        against = [
            f"{baseline} {values[str(c)]['recall@10']:.3f} ({_ratio(fused, values[str(c)])})"
            for baseline, values in r["baselines_by_category"].items()
        ]
        lines.append(f"  {name + f' ({c})':<16}fused {fused:.3f}; " + "; ".join(against))
    reference = ", ".join(f"{name} {value:.3f}" for name, value in REFERENCE)
    lines += ["", f"reference recall@10 (plain script, same data, all 10): {reference}"]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", type=Path, required=True, help="path to locomo10.json")
    parser.add_argument("--json", action="store_true", help="one JSON object on stdout")
    parser.add_argument("--limit", type=int, help="only the first N conversations")
    parser.add_argument(
        "--no-captions", action="store_true", help="leave shared photos' captions out"
    )
    parser.add_argument("--keep", action="store_true", help="keep the temp folder")
    parser.add_argument(
        "--reflect",
        action="store_true",
        help="run the builtin reflection after ingest and also score retrieval with "
        "thoughts and persona facts joined (baseline 'with_reflection')",
    )
    args = parser.parse_args()
    if not args.data.is_file():
        parser.error(f"no such file: {args.data}")
    if args.limit is not None and args.limit < 1:
        parser.error("--limit must be positive")
    # The lambda in `secrets()` must be what unlocks, not a passphrase from the shell.
    os.environ.pop("SECONDSELF_PASSPHRASE", None)
    workdir = Path(tempfile.mkdtemp(prefix="secondself-locomo-"))
    try:
        result = run(args.data, args.limit, not args.no_captions, workdir, args.reflect)
    finally:
        if args.keep:
            log(f"kept {workdir}")
        else:
            shutil.rmtree(workdir, ignore_errors=True)
    print(json.dumps(result) if args.json else table(result), flush=True)


if __name__ == "__main__":
    main()
