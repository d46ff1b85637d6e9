"""The daemon's numbers: recall through it against a cold start, its memory, its latency
to a file written into a source, and recall while it reflects in the background.

Run by hand from the repository root (not a test; compare runs on one machine only):

    .venv/bin/python bench/daemon.py --chunks 1000 10000
    .venv/bin/python bench/daemon.py --chunks 1000 --recalls 200   # quicker

For each size N it writes N synthetic note paragraphs (bench/ingest_recall.py's
generator), makes a passphrase vault in a throwaway home, adds them as a source with
`me sources add` and `me sync`, and
measures, always through the real console script (`.venv/bin/me`) in fresh processes:

- cold recall p50/p95: `me --no-daemon recall ...` (imports, Argon2id, index restore,
  model load, search), 5 runs;
- daemon recall p50/p95: `me recall ...` with the daemon running, 30 runs, and the same
  through `python -c "from assistant.cli import main; main()"` (no console-script shim);
- client imports: the import time of a recall through the daemon (`-X importtime`,
  summed over top-level imports), and whether torch, chromadb, numpy or sqlcipher3
  were among them (they must not be);
- recall of questions that name someone who writes (a tenth as many chat messages as
  note paragraphs, from the people the queries name, are ingested too): such a question
  is also searched among that person's messages (`recall.own_words`), timed apart;
- daemon RSS when idle after start, and after each quarter of `--recalls` recalls
  through the client API (1,000 by default): flat after the first quarter means no leak;
- write to searchable: a note written into the ingested folder, polled with recalls
  every 0.1 s until it is found (3 notes; the median and the worst);
- recall while reflecting: the daemon restarted with background reflection after 1 s
  of quiet; recalls are timed only while a reflection batch is running (the daemon
  reports its current job), against idle recalls of the same queries.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from ingest_recall import (  # noqa: E402
    ACTIVITIES,
    FIRST_DAY,
    PEOPLE,
    PLACES,
    THINGS,
    make_queries,
    write_notes,
)

ROOT = Path(__file__).resolve().parent.parent
ME = Path(sys.executable).parent / "me"
PASSPHRASE = "bench daemon passphrase"
HEAVY = ("torch", "chromadb", "numpy", "sqlcipher3")


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


class Bench:
    def __init__(self, base: Path, env_extra: dict[str, str] | None = None) -> None:
        self.base = base
        self.notes = base / "notes"
        self.runtime = Path(tempfile.mkdtemp(prefix="ssb", dir="/tmp"))
        self.env = {
            **os.environ,
            "SECONDSELF_HOME": str(base / "home"),
            "XDG_RUNTIME_DIR": str(self.runtime),
            "SECONDSELF_PASSPHRASE": PASSPHRASE,
            "SECONDSELF_DAEMON_REFLECT_AFTER_IDLE_S": "0",
            **(env_extra or {}),
        }

    def me(self, *args: str, **extra: str) -> subprocess.CompletedProcess[str]:
        proc = subprocess.run(
            [str(ME), *args], env={**self.env, **extra}, capture_output=True, text=True
        )
        if proc.returncode != 0:
            raise RuntimeError(f"me {' '.join(args)} failed: {proc.stderr.strip()}")
        return proc

    def timed(self, argv: list[str], **extra: str) -> float:
        start = time.perf_counter()
        proc = subprocess.run(argv, env={**self.env, **extra}, capture_output=True, text=True)
        took = time.perf_counter() - start
        if proc.returncode != 0:
            raise RuntimeError(f"{argv} failed: {proc.stderr.strip()}")
        return took

    def client(self) -> Any:
        os.environ.update({k: self.env[k] for k in ("SECONDSELF_HOME", "XDG_RUNTIME_DIR")})
        from assistant.daemon.client import find
        from assistant.paths import resolve

        found = find(resolve())
        if found is None:
            raise RuntimeError("no daemon answers")
        return found


def wait_until_idle(client: Any, limit: float = 300) -> None:
    """Until the daemon runs no background job (its start-up scan, a sync)."""
    deadline = time.monotonic() + limit
    time.sleep(0.5)  # the start-up scan begins just after the socket answers
    while client.daemon_status()["job"] is not None:
        if time.monotonic() > deadline:
            raise RuntimeError(f"the daemon was still busy after {limit:.0f} s")
        time.sleep(0.2)


def client_imports(bench: Bench, query: str) -> tuple[float, list[str]]:
    """Import time (s) of a recall through the daemon, and the heavy modules it loaded."""
    proc = subprocess.run(
        [sys.executable, "-X", "importtime", "-c", "from assistant.cli import main; main()",
         "recall", query, "--no-reinforce"],
        env=bench.env, capture_output=True, text=True,
    )  # fmt: skip
    total, heavy = 0, set()
    for line in proc.stderr.splitlines():
        if not line.startswith("import time:") or "|" not in line:
            continue
        _, cumulative, name = line.split("|")
        if not name.startswith("  ") and cumulative.strip().isdigit():
            total += int(cumulative)
        root = name.strip().split(".")[0]
        if root in HEAVY:
            heavy.add(root)
    return total / 1e6, sorted(heavy)


def write_chat(folder: Path, count: int, seed: int) -> None:
    """`count` chat messages (the generic chat JSONL), one conversation per person the
    queries name, each written by that person."""
    rng = random.Random(seed)
    start = datetime.combine(FIRST_DAY, datetime.min.time(), UTC)
    lines = []
    for i in range(count):
        person = rng.choice(PEOPLE)
        text = (
            f"I {rng.choice(ACTIVITIES)[0]} at {rng.choice(PLACES)} and sorted out "
            f"{rng.choice(THINGS)}."
        )
        when = start + timedelta(hours=rng.randrange(7 * 365 * 24))
        message = {"time": when.isoformat(), "sender": person, "text": text,
                   "conversation": person, "id": i}  # fmt: skip
        lines.append(json.dumps(message, ensure_ascii=False))
    (folder / "chats.jsonl").write_text("\n".join(lines) + "\n", encoding="utf-8")


def run_size(n: int, recalls: int, keep: bool) -> dict[str, Any]:
    base = Path(tempfile.mkdtemp(prefix=f"secondself-daemon-{n}-"))
    bench = Bench(base)
    out: dict[str, Any] = {"chunks": n}
    try:
        write_notes(bench.notes, n, seed=n)
        write_chat(bench.notes, n // 10, seed=n)
        bench.me("init", "--mode", "passphrase")
        start = time.perf_counter()
        bench.me("sources", "add", str(bench.notes))  # a source: the daemon watches it
        bench.me("sync")
        log(f"[{n}] ingested in {time.perf_counter() - start:.0f} s")
        queries = [q.text for q in make_queries(40, seed=7)]

        cold = [
            bench.timed([str(ME), "--no-daemon", "recall", q, "--no-reinforce"])
            for q in queries[:5]
        ]
        out["cold_p50_s"], out["cold_p95_s"] = pct(cold, 0.5), pct(cold, 0.95)

        start = time.perf_counter()
        bench.me("daemon", "start")
        out["daemon_start_s"] = time.perf_counter() - start
        client = bench.client()
        wait_until_idle(client)  # the start-up scan would slow the first recalls
        out["rss_idle_mb"] = client.daemon_status()["rss_mb"]
        warm = [bench.timed([str(ME), "recall", q, "--no-reinforce"]) for q in queries[:30]]
        out["daemon_p50_s"], out["daemon_p95_s"] = pct(warm, 0.5), pct(warm, 0.95)
        plain = [
            bench.timed(
                [
                    sys.executable,
                    "-c",
                    "from assistant.cli import main; main()",
                    "recall",
                    q,
                    "--no-reinforce",
                ]
            )  # fmt: skip
            for q in queries[:30]
        ]
        out["daemon_python_c_p50_s"] = pct(plain, 0.5)
        out["client_import_s"], out["client_heavy_imports"] = client_imports(bench, queries[0])

        from assistant.service.requests import RecallRequest

        api, rss = [], []
        for i in range(recalls):
            start = time.perf_counter()
            client.recall(RecallRequest(queries[i % len(queries)], reinforce=False))
            api.append(time.perf_counter() - start)
            if (i + 1) % (recalls // 4 or 1) == 0:  # a leak grows at every quarter
                rss.append(client.daemon_status()["rss_mb"])
        out["api_recall_p50_ms"] = pct(api, 0.5) * 1000
        out["api_recall_p95_ms"] = pct(api, 0.95) * 1000
        # The first 24 people have names; "Mum", "Dad", "Aunt Rosa", "Dr. Okafor" after
        # them are read as relations and titles, not as one sender named.
        rng = random.Random(11)
        named = [f"What did {rng.choice(PEOPLE[:24])} say about {rng.choice(THINGS)}?"
                 for _ in range(200)]  # fmt: skip
        sender = []
        for question in named:
            start = time.perf_counter()
            client.recall(RecallRequest(question, reinforce=False))
            sender.append(time.perf_counter() - start)
        out["api_recall_naming_a_sender_p50_ms"] = pct(sender, 0.5) * 1000
        out["api_recall_naming_a_sender_p95_ms"] = pct(sender, 0.95) * 1000
        out[f"rss_each_quarter_of_{recalls}_recalls_mb"] = rss

        searchable = []
        for i in range(3):
            word = f"zebrafinch{i}quokka"
            (bench.notes / f"fresh-{i}.md").write_text(f"# Fresh {i}\n\nSaw a {word} today.\n")
            start = time.perf_counter()
            while word not in json.dumps(
                [h.text for h in client.recall(RecallRequest(word, k=1, reinforce=False))]
            ):
                if time.perf_counter() - start > 60:
                    raise RuntimeError(f"{word} not searchable after 60 s")
                time.sleep(0.1)
            searchable.append(time.perf_counter() - start)
        out["write_to_searchable_p50_s"] = statistics.median(searchable)
        out["write_to_searchable_max_s"] = max(searchable)
        bench.me("daemon", "stop")

        out.update(recall_while_reflecting(bench, queries))
    finally:
        subprocess.run([str(ME), "daemon", "stop"], env=bench.env, capture_output=True)
        shutil.rmtree(bench.runtime, ignore_errors=True)
        if not keep:
            shutil.rmtree(base, ignore_errors=True)
    return out


def recall_while_reflecting(bench: Bench, queries: list[str]) -> dict[str, Any]:
    from assistant.service.requests import RecallRequest

    bench.env["SECONDSELF_DAEMON_REFLECT_AFTER_IDLE_S"] = "1"
    bench.me("daemon", "start")
    client = bench.client()
    pending_before = client.daemon_status()["pending_reflection"]
    during: list[float] = []
    deadline = time.monotonic() + 300
    while len(during) < 30 and time.monotonic() < deadline:
        state = client.daemon_status()
        if state.get("job") != "reflect":
            time.sleep(0.05)
            continue
        start = time.perf_counter()
        client.recall(RecallRequest(queries[len(during) % len(queries)], reinforce=False))
        during.append(time.perf_counter() - start)
    pending_after = client.daemon_status()["pending_reflection"]
    bench.me("daemon", "stop")
    bench.env["SECONDSELF_DAEMON_REFLECT_AFTER_IDLE_S"] = "0"
    return {
        "reflect_recalls_measured": len(during),
        "recall_during_reflection_p95_ms": pct(during, 0.95) * 1000 if during else None,
        "reflected_meanwhile": (pending_before or 0) - (pending_after or 0),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--chunks", type=int, nargs="+", default=[1000, 10000])
    parser.add_argument("--recalls", type=int, default=1000)
    parser.add_argument("--keep", action="store_true", help="keep the throwaway homes")
    parser.add_argument("--json", action="store_true", help="JSON lines on stdout")
    args = parser.parse_args()
    for n in args.chunks:
        result = run_size(n, args.recalls, args.keep)
        if args.json:
            print(json.dumps(result))
            continue
        print(f"\n== {n} chunks ==")
        for key, value in result.items():
            shown = f"{value:.3f}" if isinstance(value, float) else value
            print(f"  {key:<34} {shown}")
        print(
            f"  target: daemon recall p50 <= 0.300 s: "
            f"{'PASS' if result['daemon_p50_s'] <= 0.3 else 'MISS'}; "
            f"cold recall p50 <= 1.0 s: {'PASS' if result['cold_p50_s'] <= 1.0 else 'MISS'}"
        )


if __name__ == "__main__":
    main()
