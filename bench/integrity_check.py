"""What the full integrity check costs at realistic vault sizes, and what it adds to a command.

Run by hand from the repository root (not a test; compare runs on the same machine):

    .venv/bin/python bench/integrity_check.py --episodes 10000
    .venv/bin/python bench/integrity_check.py --episodes 10000 100000   # 100k: ~15 min to build
    .venv/bin/python bench/integrity_check.py --episodes 1000 --json

For each size N it builds a throwaway passphrase-mode vault in a temp folder holding N
episodes (the synthetic note paragraphs of bench/ingest_recall.py, ~60-280 characters,
with their FTS rows) and N random 384-d unit vectors, indexed by chromadb and sealed, as
ingest would leave it, without loading the embedding model. Then it measures:

- trigger: deciding whether a check is due (read the stamp, `stat` memory.db): what
  every command pays;
- cipher_integrity_check: every page's HMAC (SQLCipher), and integrity_check: b-trees,
  indexes and FTS tables (SQLite), each on a fresh connection; also the progress
  handler's steps per page and the share of the time spent walking the b-trees
  (quick_check / integrity_check), the two constants `store/integrity.py` uses to
  estimate the structure stage's progress bar;
- snapshot authentication: streaming vectors.sealed through AES-GCM, nothing written;
- check_vault: `me check`'s core end to end (Argon2id unlock, lock, all of the above);
- open, check due / not due: `Memory.open` (unlock, verify, restore the index) when the
  automatic check runs first, and when it does not. The difference is what a command
  pays once per `[vault] check_after_days`, or after memory.db changed behind its back.

Timings are medians of `--runs` (default 3). The folder is removed unless `--keep`.
"""

from __future__ import annotations

import argparse
import json
import random
import shutil
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

import numpy as np  # noqa: E402
import sqlcipher3  # noqa: E402
from ingest_recall import DAYS, FIRST_DAY, _paragraph, log  # noqa: E402

from assistant import config as config_mod  # noqa: E402
from assistant import paths as paths_mod  # noqa: E402
from assistant.integrity import check_vault  # noqa: E402
from assistant.memory import Memory  # noqa: E402
from assistant.paths import Paths  # noqa: E402
from assistant.vault import Secrets, create_vault, unlock  # noqa: E402
from store.guard import IntegrityGuard  # noqa: E402
from store.integrity import HANDLER_STEPS, check_snapshot  # noqa: E402

PASSPHRASE = "bench-passphrase"
DIM = 384
NOW = "2024-05-01T12:00:00+00:00"
PER_DOCUMENT = 10


def secrets() -> Secrets:
    return Secrets(ask_passphrase=lambda _confirm: PASSPHRASE)


def median_time(action: Callable[[], Any], runs: int) -> float:
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        action()
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def build(paths: Paths, n: int, seed: int) -> float:
    """A vault of `n` episodes with vectors, indexed and sealed; returns seconds taken."""
    started = time.perf_counter()
    create_vault(paths, secrets(), mode="passphrase")
    rng, seen = random.Random(seed), set[str]()
    vectors = np.random.default_rng(seed).standard_normal((n, DIM)).astype("<f4")
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    with Memory.open(paths, config_mod.load(paths.config_file), secrets()) as memory:
        with memory.db.write() as conn:
            for start in range(0, n, PER_DOCUMENT):
                day = FIRST_DAY + timedelta(days=rng.randrange(DAYS))
                doc = conn.execute(
                    "INSERT INTO documents(ref, connector, content_hash, ingested_at, "
                    "updated_at) VALUES (?, 'markdown', 'h', ?, ?)",
                    (f"/notes/{start}.md", NOW, NOW),
                ).lastrowid
                for i in range(start, min(start + PER_DOCUMENT, n)):
                    episode = conn.execute(
                        "INSERT INTO episodes(document_id, source_ref, kind, text, time, "
                        "time_unix, author, content_hash, connector, ingested_at) "
                        "VALUES (?, ?, 'note', ?, ?, ?, 'self', ?, 'markdown', ?)",
                        (doc, f"/notes/{start}.md#{i}", _paragraph(rng, day, seen),
                         day.isoformat(), 1.5e9 + i, f"h{i}", NOW),
                    ).lastrowid  # fmt: skip
                    conn.execute(
                        "INSERT INTO vectors(episode_id, model, dim, vector) VALUES (?, ?, ?, ?)",
                        (episode, "bench", DIM, vectors[i].tobytes()),
                    )
        memory.index.replay()
    return time.perf_counter() - started


def raw_connection(paths: Paths) -> sqlcipher3.Connection:
    keys = unlock(paths, secrets())
    conn = sqlcipher3.connect(str(paths.database), isolation_level=None)
    conn.execute(f"PRAGMA key = \"x'{keys.database.hex()}'\"")
    return conn


def time_pragma(paths: Paths, pragma: str, runs: int) -> tuple[float, int]:
    """Median seconds of one PRAGMA on fresh connections, and its progress-handler steps."""
    times, steps = [], 0
    for _ in range(runs):
        conn = raw_connection(paths)
        calls = [0]

        def tick(calls: list[int] = calls) -> int:
            calls[0] += 1
            return 0

        conn.set_progress_handler(tick, HANDLER_STEPS)
        started = time.perf_counter()
        rows = conn.execute(f"PRAGMA {pragma}").fetchall()
        times.append(time.perf_counter() - started)
        steps = calls[0] * HANDLER_STEPS
        conn.close()
        assert rows in ([], [("ok",)]), rows
    return statistics.median(times), steps


def time_open(paths: Paths, due: bool, runs: int) -> float:
    """`Memory.open` with the automatic check forced due (stamp removed) or not due."""
    config = config_mod.load(paths.config_file)
    times = []
    for _ in range(runs):
        if due:
            paths.integrity_stamp.unlink(missing_ok=True)
        started = time.perf_counter()
        memory = Memory.open(paths, config, secrets())
        times.append(time.perf_counter() - started)
        memory.close()
    return statistics.median(times)


def bench_size(n: int, seed: int, workdir: Path, runs: int) -> dict[str, Any]:
    paths = paths_mod.resolve(workdir / f"vault-{n}")
    log(f"[{n}] building the vault (episodes, vectors, chroma index, seal)...")
    built = build(paths, n, seed)
    pages = paths.database.stat().st_size // 4096
    log(f"[{n}] built in {built:.0f} s; measuring")
    keys = unlock(paths, secrets())
    guard = IntegrityGuard(paths.integrity_stamp, 7.0)
    trigger = median_time(lambda: guard.observe(paths.database), max(runs, 100))
    cipher, _ = time_pragma(paths, "cipher_integrity_check", runs)
    structure, steps = time_pragma(paths, "integrity_check", runs)
    walk, _ = time_pragma(paths, "quick_check", runs)  # the b-tree walk alone
    meta = Memory.open(paths, config_mod.load(paths.config_file), secrets(), keys=keys)
    expected = meta.db.get_meta("snapshot_id")
    meta.close()
    snapshot = median_time(lambda: check_snapshot(paths.snapshot, keys.snapshot, expected), runs)
    config = config_mod.load(paths.config_file)
    whole = median_time(lambda: check_vault(paths, config, secrets()), runs)
    return {
        "episodes": n,
        "build_s": built,
        "database_bytes": paths.database.stat().st_size,
        "snapshot_bytes": paths.snapshot.stat().st_size,
        "pages": pages,
        "trigger_ms": trigger * 1000,
        "cipher_integrity_check_s": cipher,
        "integrity_check_s": structure,
        "steps_per_page": steps / max(pages, 1),
        "walk_share": walk / structure,
        "snapshot_auth_s": snapshot,
        "check_vault_s": whole,
        "open_not_due_s": time_open(paths, due=False, runs=runs),
        "open_due_s": time_open(paths, due=True, runs=runs),
    }


def table(r: dict[str, Any]) -> str:
    mib = 2**20
    rows = [
        ("vault", f"{r['episodes']} episodes with vectors, built in {r['build_s']:.0f} s"),
        ("memory.db", f"{r['database_bytes'] / mib:.1f} MiB ({r['pages']} pages)"),
        ("vectors.sealed", f"{r['snapshot_bytes'] / mib:.1f} MiB"),
        ("trigger (every command)", f"{r['trigger_ms']:.3f} ms"),
        ("cipher_integrity_check", f"{r['cipher_integrity_check_s']:.2f} s"),
        ("integrity_check", f"{r['integrity_check_s']:.2f} s"),
        ("  progress steps per page", f"{r['steps_per_page']:.0f}"),
        ("  b-tree walk share", f"{r['walk_share']:.2f} (quick_check / integrity_check)"),
        ("snapshot authentication", f"{r['snapshot_auth_s']:.2f} s"),
        ("me check (check_vault)", f"{r['check_vault_s']:.2f} s (incl. Argon2id unlock)"),
        ("Memory.open, check not due", f"{r['open_not_due_s']:.2f} s"),
        ("Memory.open, check due", f"{r['open_due_s']:.2f} s"),
        ("  added by the check", f"{r['open_due_s'] - r['open_not_due_s']:.2f} s"),
    ]
    width = max(len(name) for name, _ in rows)
    return "\n".join(f"{name:<{width}}  {value}" for name, value in rows)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--episodes", type=int, nargs="+", default=[10_000])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--seed", type=int, default=11)
    parser.add_argument("--json", action="store_true", help="one JSON object per size")
    parser.add_argument("--keep", action="store_true", help="keep the temp folder")
    args = parser.parse_args()
    workdir = Path(tempfile.mkdtemp(prefix="secondself-integrity-bench-"))
    try:
        for n in args.episodes:
            result = bench_size(n, args.seed, workdir, args.runs)
            print(json.dumps(result) if args.json else table(result) + "\n", flush=True)
    finally:
        if args.keep:
            log(f"kept {workdir}")
        else:
            shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    main()
