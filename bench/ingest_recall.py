"""Ingest, recall, close and open timings of a throwaway vault, at several sizes.

Run by hand from the repository root (it is not a test; the machine's load shows in
every number, so compare runs on the same machine only):

    .venv/bin/python bench/ingest_recall.py --chunks 1000 10000
    .venv/bin/python bench/ingest_recall.py --chunks 100000          # slow: ~15+ min
    .venv/bin/python bench/ingest_recall.py --chunks 1000 --json     # JSON lines on stdout

For each size N it writes N synthetic note paragraphs as Markdown files (one heading per
paragraph, so each paragraph is exactly one stored chunk), creates a passphrase-mode
vault in a temp `SECONDSELF_HOME`-style folder, and measures:

- model load: loading all-MiniLM-L6-v2 (incl. importing torch) in this process; only the
  first size pays it, later sizes reuse the process-wide cached model.
- ingest: `ingest(memory, [folder])` end to end (parse, chunk, embed, SQLCipher writes,
  vector-index replay) -> chunks/s. The model is loaded before the clock starts.
- recall p50/p95: 100 `recall()` calls after 5 warm-up calls, model loaded; a mix of
  keyword-ish and natural-language queries, about a third with since/until filters
  (their p95 is also shown apart, as filtered dense search takes a slower path).
- close: `Memory.close()`, i.e. sealing the vector snapshot and checkpointing the WAL;
  then the sizes of the sealed snapshot (vectors.sealed) and of the database file.
- open-to-ready: in fresh subprocesses (no warm imports or caches), the time of
  `Memory.open()`: Argon2id unlock, database verification, snapshot restore, log replay.
  Median of 3 processes. The model is not loaded by open; its load time in the same
  subprocess is reported apart, as are the imports before open.
- me --help: wall time of a fresh `python -c "from assistant.cli import main; main()"
  --help`, median of 5.
- peak RSS: `ru_maxrss` (KiB on Linux) of this process (a high-water mark over the whole
  run, so later sizes include earlier ones) and of the open-to-ready subprocess, after
  open and after the model load. The subprocess reads VmHWM from /proc instead: Linux
  carries `ru_maxrss` over fork+exec, so a child would report this process's peak.

Targets (from the performance issue) are printed as PASS/MISS for the size they are set
at; at other sizes they are marked "indicative" against the next target size up.
Temporary folders are removed at the end unless `--keep` is given.
"""

from __future__ import annotations

import os

# Before anything can import torch: busy-waiting OpenMP threads starve a 2-core machine.
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

import argparse  # noqa: E402
import json  # noqa: E402
import random  # noqa: E402
import resource  # noqa: E402
import shutil  # noqa: E402
import statistics  # noqa: E402
import subprocess  # noqa: E402
import sys  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
from collections.abc import Callable  # noqa: E402
from dataclasses import dataclass  # noqa: E402
from datetime import date, timedelta  # noqa: E402
from pathlib import Path  # noqa: E402
from typing import Any  # noqa: E402

PASSPHRASE = "bench-passphrase"
PARAGRAPHS_PER_FILE = 10
FILES_PER_FOLDER = 500
WARMUP_QUERIES = 5
QUERIES = 100
OPEN_RUNS = 3
HELP_RUNS = 5
FIRST_DAY = date(2018, 1, 1)
DAYS = 7 * 365  # notes dated 2018-01-01 .. ~2024-12-30

# -- vocabulary -----------------------------------------------------------------
# fmt: off
PEOPLE = [
    "Maya", "Tomás", "Priya", "Jonas", "Aiko", "Lena", "Omar", "Sofia", "Mateo", "Grace",
    "Kwame", "Ingrid", "Ravi", "Chloé", "Dmitri", "Amara", "Felix", "Noor", "Elena", "Hugo",
    "Yuki", "Sam", "Zanele", "Pedro", "Mum", "Dad", "Aunt Rosa", "Dr. Okafor",
]
PLACES = [
    "Lisbon", "Porto", "Kyoto", "Berlin", "Marseille", "Oslo", "Dublin", "Seville",
    "Bologna", "Edinburgh", "Kraków", "Montréal", "the harbour", "the climbing gym",
    "Café Aurora", "the farmers market", "Grandma's house", "the office", "the lake cabin",
    "the library", "the dentist", "the train station", "the park by the river",
    "the allotment", "the community hall", "the bakery on Elm Street",
]
ACTIVITIES = [  # (past, present)
    ("went hiking", "go hiking"), ("had dinner", "have dinner"), ("played chess", "play chess"),
    ("went bouldering", "go bouldering"), ("watched a film", "watch a film"),
    ("cooked paella", "cook paella"), ("fixed the bike", "fix the bike"),
    ("visited the museum", "visit the museum"), ("went swimming", "go swimming"),
    ("planned the trip", "plan the trip"), ("did the weekly shop", "do the weekly shop"),
    ("painted the kitchen", "paint the kitchen"), ("ran ten kilometres", "run ten kilometres"),
    ("baked sourdough", "bake sourdough"), ("went to a concert", "go to a concert"),
    ("played board games", "play board games"), ("walked the dog", "walk the dog"),
    ("repotted the plants", "repot the plants"), ("studied Portuguese", "study Portuguese"),
]
THINGS = [
    "the lease", "the passport renewal", "the tax return", "the birthday present",
    "the concert tickets", "the car insurance", "the new laptop", "the wedding speech",
    "the garden shed", "the piano lessons", "the flight to Lisbon", "the dentist bill",
    "the broken dishwasher", "the book club", "the marathon training plan",
    "the holiday rental", "the electricity bill", "the job interview", "the bike repair",
    "the kitchen renovation", "the vet appointment", "the pension form",
]
ADJECTIVES = ["quiet", "long", "strange", "bright", "cold", "lovely", "busy", "slow", "odd"]
WEATHER = ["raining", "sunny", "windy", "foggy", "snowing", "humid", "clear"]
OPINIONS = [
    "it is too expensive", "we should wait until spring", "it is worth it",
    "the first offer was better", "we should ask again next week", "it can be done in a day",
]
MONTHS = [
    "January", "February", "March", "April", "May", "June", "July", "August",
    "September", "October", "November", "December",
]
HEADINGS = ["Morning", "Evening", "Errands", "Money", "Plans", "Work", "Health", "Travel",
            "Family", "Ideas", "Reading", "Weekend", "Friends", "Home", "To do"]
# fmt: on


# -- synthetic notes ------------------------------------------------------------
def _sentence(rng: random.Random, day: date) -> str:
    p, q = rng.sample(PEOPLE, 2)
    place, thing = rng.choice(PLACES), rng.choice(THINGS)
    past, _ = rng.choice(ACTIVITIES)
    n = rng.randint(2, 950)
    templates: list[Callable[[], str]] = [
        lambda: f"{p} and I {past} at {place}.",
        lambda: f"On {day:%A} {p} {past} in {place} with {q}.",
        lambda: f"{p} said {thing} would cost about {n} euros.",
        lambda: f"I paid {n}.{rng.randint(0, 99):02d} for {thing} at {place}.",
        lambda: f"Need to call {p} about {thing} before {rng.choice(MONTHS)} {rng.randint(1, 28)}.",
        lambda: (
            f"The train to {rng.choice(PLACES[:12])} left at {rng.randint(5, 22):02d}:"
            f"{rng.choice(['05', '15', '20', '35', '48'])} from platform {rng.randint(1, 14)}."
        ),
        lambda: (
            f"We talked about {thing} for {rng.randint(5, 90)} minutes; {q} thinks "
            f"{rng.choice(OPINIONS)}."
        ),
        lambda: (
            f"It was {rng.choice(WEATHER)} and {rng.randint(-5, 34)} degrees, a "
            f"{rng.choice(ADJECTIVES)} day."
        ),
        lambda: f"{p}'s new phone number ends in {rng.randint(1000, 9999)}.",
        lambda: f"{q} recommended {thing} and {rng.choice(ACTIVITIES)[0]} afterwards.",
    ]
    return rng.choice(templates)()


def _paragraph(rng: random.Random, day: date, seen: set[str]) -> str:
    while True:
        text = " ".join(_sentence(rng, day) for _ in range(rng.randint(1, 3)))
        if text not in seen:  # distinct texts: nothing is deduplicated away
            seen.add(text)
            return text


def write_notes(folder: Path, n_chunks: int, seed: int) -> int:
    """N paragraphs in Markdown files, each under its own heading; returns file count.

    The connector merges short paragraphs of one section, so a heading per paragraph is
    what makes one paragraph one chunk. Front matter dates spread notes over 7 years.
    """
    rng = random.Random(seed)
    seen: set[str] = set()
    files = (n_chunks + PARAGRAPHS_PER_FILE - 1) // PARAGRAPHS_PER_FILE
    left = n_chunks
    for index in range(files):
        day = FIRST_DAY + timedelta(days=rng.randrange(DAYS))
        count = min(PARAGRAPHS_PER_FILE, left)
        left -= count
        parts = [f"---\ndate: {day.isoformat()}\ntags: [journal]\n---\n", f"# Journal {day}\n"]
        for j in range(count):
            heading = f"{rng.choice(HEADINGS)} {j + 1}"
            parts.append(f"## {heading}\n\n{_paragraph(rng, day, seen)}\n")
        sub = folder / f"part-{index // FILES_PER_FOLDER:03d}"
        sub.mkdir(parents=True, exist_ok=True)
        (sub / f"note-{index:06d}.md").write_text("\n".join(parts), encoding="utf-8")
    return files


@dataclass(frozen=True)
class Query:
    text: str
    since: date | None = None
    until: date | None = None


def make_queries(count: int, seed: int) -> list[Query]:
    """Keyword-ish and natural-language queries; about a third carry a date filter."""
    rng = random.Random(seed)
    queries = []
    for _ in range(count):
        p, place, thing = rng.choice(PEOPLE), rng.choice(PLACES), rng.choice(THINGS)
        _, present = rng.choice(ACTIVITIES)
        text = rng.choice(
            [
                f"{p} {place}",
                f"{thing} euros",
                f"{p} {thing}",
                f"train {rng.choice(PLACES[:12])} platform",
                f"When did I {present} with {p}?",
                f"What did {p} say about {thing}?",
                f"How much did I pay for {thing}?",
                f"Where did {p} and I {present}?",
                f"who recommended {thing}",
            ]
        )
        since = until = None
        kind = rng.random()
        start = FIRST_DAY + timedelta(days=rng.randrange(DAYS))
        if kind < 0.12:  # one year
            since, until = start, start + timedelta(days=365)
        elif kind < 0.22:  # one month
            since, until = start, start + timedelta(days=30)
        elif kind < 0.33:  # open-ended
            since = start
        queries.append(Query(text, since, until))
    return queries


# -- measurements ---------------------------------------------------------------
def peak_rss_kib() -> int:
    """This process's peak RSS in KiB (`ru_maxrss`; KiB on Linux, bytes on macOS)."""
    peak = int(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)
    return peak // 1024 if sys.platform == "darwin" else peak


def own_peak_rss_kib() -> int:
    """Peak RSS of this process alone, for subprocesses.

    Linux carries `ru_maxrss` over fork and exec, so a child started by a large parent
    reports the parent's peak; VmHWM belongs to the child's own address space.
    """
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    except OSError:
        pass
    return peak_rss_kib()


def percentile(values: list[float], pct: int) -> float:
    if len(values) == 1:
        return values[0]
    return statistics.quantiles(values, n=100, method="inclusive")[pct - 1]


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def secrets() -> Any:
    from assistant.vault import Secrets

    return Secrets(ask_passphrase=lambda _confirm: PASSPHRASE)


def stored_counts(memory: Any) -> tuple[int, int, int]:
    conn = memory.db.conn
    episodes = int(conn.execute("SELECT count(*) FROM episodes").fetchone()[0])
    vectors = int(conn.execute("SELECT count(*) FROM vectors").fetchone()[0])
    return episodes, vectors, memory.index.count()


def time_ingest(memory: Any, folder: Path, files: int) -> tuple[float, Any]:
    from assistant.ingest import FileOutcome, ingest

    seen = 0
    step = max(1, files // 10)
    start = time.perf_counter()

    def on_file(_outcome: FileOutcome) -> None:
        nonlocal seen
        seen += 1
        if seen % step == 0 and seen < files:
            elapsed = time.perf_counter() - start
            log(f"  ingest: {seen}/{files} files, {elapsed:.1f} s")

    summary = ingest(memory, [folder], on_file=on_file)
    return time.perf_counter() - start, summary


def time_recall(memory: Any, queries: list[Query]) -> dict[str, float]:
    from assistant.recall import recall

    for q in queries[:WARMUP_QUERIES]:
        recall(memory, q.text, since=q.since, until=q.until)
    plain: list[float] = []
    filtered: list[float] = []
    for q in queries[WARMUP_QUERIES:]:
        start = time.perf_counter()
        recall(memory, q.text, since=q.since, until=q.until)
        ms = (time.perf_counter() - start) * 1000
        (filtered if q.since or q.until else plain).append(ms)
    every = plain + filtered
    out = {"recall_p50_ms": statistics.median(every), "recall_p95_ms": percentile(every, 95)}
    if plain:
        out["recall_unfiltered_p95_ms"] = percentile(plain, 95)
    if filtered:
        out["recall_filtered_p95_ms"] = percentile(filtered, 95)
    out["recall_filtered_queries"] = len(filtered)
    return out


def open_child(home: str) -> None:
    """Subprocess body: import, open, load the model, report JSON on stdout."""
    start = time.perf_counter()
    from assistant import config, paths
    from assistant.memory import Memory

    imported = time.perf_counter()
    where = paths.resolve(home)
    memory = Memory.open(where, config.load(where.config_file), secrets())
    opened = time.perf_counter()
    rss_open = own_peak_rss_kib()
    try:
        memory.embedder.load()
        loaded = time.perf_counter()
        rss_model = own_peak_rss_kib()
        report = memory.open_index()  # opened at `open` already: how it became ready
    finally:
        memory.close()
    print(
        json.dumps(
            {
                "import_s": imported - start,
                "open_s": opened - imported,
                "model_load_s": loaded - opened,
                "rss_open_kib": rss_open,
                "rss_model_kib": rss_model,
                "how": report.how,
                "replayed": report.replayed,
                "vectors": report.vectors,
            }
        )
    )


def time_open_in_subprocesses(home: Path) -> dict[str, Any]:
    runs = []
    for _ in range(OPEN_RUNS):
        start = time.perf_counter()
        done = subprocess.run(
            [sys.executable, str(Path(__file__).resolve()), "--open-child", str(home)],
            capture_output=True,
            text=True,
        )
        wall = time.perf_counter() - start
        if done.returncode != 0:
            raise RuntimeError(f"open-to-ready subprocess failed:\n{done.stderr}")
        run = json.loads(done.stdout.strip().splitlines()[-1])
        run["wall_s"] = wall
        runs.append(run)
    med = statistics.median
    return {
        "open_to_ready_s": med(r["open_s"] for r in runs),
        "open_to_ready_runs_s": [r["open_s"] for r in runs],
        "open_how": sorted({f"{r['how']} (replayed {r['replayed']})" for r in runs}),
        "open_vectors": runs[0]["vectors"],
        "child_import_s": med(r["import_s"] for r in runs),
        "child_model_load_s": med(r["model_load_s"] for r in runs),
        "child_wall_s": med(r["wall_s"] for r in runs),
        "child_peak_rss_open_kib": max(r["rss_open_kib"] for r in runs),
        "child_peak_rss_model_kib": max(r["rss_model_kib"] for r in runs),
    }


def time_help() -> dict[str, Any]:
    argv = [sys.executable, "-c", "from assistant.cli import main; main()", "--help"]
    runs = []
    for _ in range(HELP_RUNS):
        start = time.perf_counter()
        done = subprocess.run(argv, capture_output=True, text=True)
        runs.append(time.perf_counter() - start)
        if done.returncode != 0 or "Usage" not in done.stdout:
            raise RuntimeError(f"`me --help` failed ({done.returncode}):\n{done.stderr}")
    return {"me_help_s": statistics.median(runs), "me_help_runs_s": runs}


def file_size(path: Path) -> int:
    return path.stat().st_size if path.exists() else 0


def bench_size(n: int, seed: int, workdir: Path, model_cached: bool) -> dict[str, Any]:
    from assistant import config, paths
    from assistant.memory import Memory
    from assistant.vault import create_vault

    result: dict[str, Any] = {"chunks_requested": n}
    notes, home = workdir / "notes", workdir / "home"
    start = time.perf_counter()
    result["files"] = write_notes(notes, n, seed)
    result["generate_s"] = time.perf_counter() - start
    log(f"[{n}] wrote {result['files']} files in {result['generate_s']:.1f} s")

    where = paths.resolve(home)
    try:
        create_vault(where, secrets(), mode="passphrase")
        memory = Memory.open(where, config.load(where.config_file), secrets())
        try:
            start = time.perf_counter()
            memory.embedder.load()
            result["model_load_s"] = time.perf_counter() - start
            result["model_cached"] = model_cached
            log(f"[{n}] model loaded in {result['model_load_s']:.2f} s; ingesting")
            seconds, summary = time_ingest(memory, notes, result["files"])
            episodes, vectors, indexed = stored_counts(memory)
            result.update(
                ingest_s=seconds,
                chunks_stored=episodes,
                vectors_stored=vectors,
                vectors_indexed=indexed,
                ingest_failed=len(summary.failed),
                ingest_chunks_per_s=episodes / seconds,
            )
            for failure in summary.failed[:5]:
                log(f"  failed: {failure.path}: {failure.reason}")
            log(f"[{n}] ingested {episodes} chunks in {seconds:.1f} s; recall")
            result.update(time_recall(memory, make_queries(WARMUP_QUERIES + QUERIES, seed + 1)))
        finally:
            start = time.perf_counter()
            memory.close()
            result["close_s"] = time.perf_counter() - start
        result["snapshot_bytes"] = file_size(where.snapshot)
        result["database_bytes"] = file_size(where.database)
        result["database_wal_bytes"] = file_size(where.database.with_name("memory.db-wal"))
        result["peak_rss_kib"] = peak_rss_kib()
        log(f"[{n}] closed in {result['close_s']:.2f} s; open-to-ready in subprocesses")
        result.update(time_open_in_subprocesses(home))
        log(f"[{n}] me --help")
        result.update(time_help())
    finally:
        shutil.rmtree(where.runtime, ignore_errors=True)
    result["targets"] = check_targets(n, result)
    return result


# -- targets and output ---------------------------------------------------------
@dataclass(frozen=True)
class Target:
    label: str
    key: str
    op: str  # ">=", "<=", "<"
    limit: float
    unit: str
    at: int | None  # the size it is set at; None: every size


TARGETS = [
    Target("ingest rate", "ingest_chunks_per_s", ">=", 150, "chunks/s", 10_000),
    Target("recall p95", "recall_p95_ms", "<=", 60, "ms", 10_000),
    Target("recall p95", "recall_p95_ms", "<=", 100, "ms", 100_000),
    Target("open-to-ready", "open_to_ready_s", "<=", 3.0, "s", 100_000),
    Target("me --help", "me_help_s", "<", 0.5, "s", None),
]
CHECKS: dict[str, Callable[[float, float], bool]] = {
    ">=": lambda v, lim: v >= lim,
    "<=": lambda v, lim: v <= lim,
    "<": lambda v, lim: v < lim,
}


def check_targets(n: int, result: dict[str, Any]) -> list[dict[str, Any]]:
    """Targets set at N; at other sizes, those of the next target size up (indicative)."""
    scales = sorted({t.at for t in TARGETS if t.at is not None})
    ref = next((s for s in scales if s >= n), scales[-1])
    out = []
    for t in TARGETS:
        if t.at is not None and t.at != ref:
            continue
        value = result.get(t.key)
        out.append(
            {
                "target": f"{t.label} {t.op} {t.limit:g} {t.unit}"
                + (f" at {t.at:,} chunks" if t.at else ""),
                "key": t.key,
                "value": value,
                "pass": value is not None and CHECKS[t.op](value, t.limit),
                "indicative": t.at is not None and t.at != n,
            }
        )
    return out


def _mib(kib: int) -> str:
    return f"{kib / 1024:.0f} MiB"


def _bytes(size: int) -> str:
    return f"{size / 1024 / 1024:.1f} MiB ({size:,} B)"


def table(r: dict[str, Any]) -> str:
    runs = ", ".join(f"{s:.2f}" for s in r["open_to_ready_runs_s"])
    rows = [
        (
            "chunks stored / requested",
            f"{r['chunks_stored']:,} / {r['chunks_requested']:,}"
            f" in {r['files']:,} files (vectors {r['vectors_stored']:,}, "
            f"indexed {r['vectors_indexed']:,}, failed files {r['ingest_failed']})",
        ),
        ("generate notes", f"{r['generate_s']:.2f} s"),
        (
            "model load (this process)",
            f"{r['model_load_s']:.2f} s"
            + (" (cached from an earlier size)" if r["model_cached"] else ""),
        ),
        ("ingest", f"{r['ingest_s']:.2f} s = {r['ingest_chunks_per_s']:.1f} chunks/s"),
        (
            "recall p50 / p95",
            f"{r['recall_p50_ms']:.1f} / {r['recall_p95_ms']:.1f} ms"
            f" ({QUERIES} queries, {r['recall_filtered_queries']} date-filtered)",
        ),
        (
            "recall p95 unfiltered / filtered",
            f"{r.get('recall_unfiltered_p95_ms', float('nan')):.1f} / "
            f"{r.get('recall_filtered_p95_ms', float('nan')):.1f} ms",
        ),
        ("close (seal)", f"{r['close_s']:.2f} s"),
        ("snapshot vectors.sealed", _bytes(r["snapshot_bytes"])),
        (
            "database memory.db",
            _bytes(r["database_bytes"])
            + (f" + WAL {r['database_wal_bytes']:,} B" if r["database_wal_bytes"] else ""),
        ),
        (
            "open-to-ready (median)",
            f"{r['open_to_ready_s']:.2f} s (runs {runs}; "
            f"{', '.join(r['open_how'])}, {r['open_vectors']:,} vectors)",
        ),
        ("  imports before open", f"{r['child_import_s']:.2f} s"),
        ("  model load after open", f"{r['child_model_load_s']:.2f} s"),
        ("  subprocess wall", f"{r['child_wall_s']:.2f} s"),
        ("me --help (median)", f"{r['me_help_s']:.3f} s"),
        ("peak RSS, benchmark", _mib(r["peak_rss_kib"])),
        (
            "peak RSS, open subprocess",
            f"{_mib(r['child_peak_rss_open_kib'])} after open, "
            f"{_mib(r['child_peak_rss_model_kib'])} with the model",
        ),
    ]
    width = max(len(k) for k, _ in rows)
    lines = [f"== {r['chunks_requested']:,} chunks =="]
    lines += [f"{k:<{width}}  {v}" for k, v in rows]
    lines.append("targets:")
    for t in r["targets"]:
        verdict = "PASS" if t["pass"] else "MISS"
        note = f" (indicative: measured at {r['chunks_requested']:,})" if t["indicative"] else ""
        value = "n/a" if t["value"] is None else f"{t['value']:.3g}"
        lines.append(f"  {verdict}  {t['target']}: {value}{note}")
    if r["chunks_stored"] != r["chunks_requested"]:
        lines.append(
            f"WARNING: {r['chunks_stored']} chunks stored, {r['chunks_requested']} "
            "expected; the per-chunk numbers are off"
        )
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--chunks",
        type=int,
        nargs="+",
        default=[1000, 10_000],
        help="sizes to run, in chunks (default: 1000 10000)",
    )
    parser.add_argument(
        "--json",
        action="store_true",
        help="one JSON object per size on stdout (the table goes to stderr)",
    )
    parser.add_argument("--keep", action="store_true", help="keep the temp folders")
    parser.add_argument("--seed", type=int, default=20240601, help="generator seed")
    parser.add_argument("--open-child", metavar="HOME", help=argparse.SUPPRESS)
    args = parser.parse_args()
    # The lambda in `secrets()` must be what unlocks, not a passphrase from the shell.
    os.environ.pop("SECONDSELF_PASSPHRASE", None)
    if args.open_child:
        open_child(args.open_child)
        return
    if any(n < 1 for n in args.chunks):
        parser.error("--chunks must be positive")
    root = Path(tempfile.mkdtemp(prefix="secondself-bench-"))
    try:
        for i, n in enumerate(args.chunks):
            workdir = root / f"n{n}-{i}"
            result = bench_size(n, args.seed + n, workdir, model_cached=i > 0)
            print(table(result), file=sys.stderr if args.json else sys.stdout, flush=True)
            if args.json:
                print(json.dumps(result), flush=True)
            if not args.keep:
                shutil.rmtree(workdir, ignore_errors=True)
    finally:
        if args.keep:
            log(f"kept {root}")
        else:
            shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main()
