"""How long `me forget` takes at several vault sizes, and where the time goes.

Run by hand from the repository root (not a test; numbers depend on the machine's load):

    .venv/bin/python bench/forget_speed.py --chunks 1000 10000

For each size N it ingests N synthetic note paragraphs (bench/ingest_recall.py's
generator; the embedding model runs for real, so 10k chunks take minutes to set up),
then forgets every memory mentioning one word (about 1% of them) and measures:

- plan: finding what goes (a full scan of episodes, facts and thoughts);
- forget: `apply()` end to end: the deletions, history erasure and tombstones in one
  transaction, then the purge of copies (FTS rebuild, vector index rebuilt from the
  database and sealed, WAL checkpoint, VACUUM);
- purge alone: `purge_copies()` run again on the same vault, which is the part that
  grows with the whole vault rather than with what is forgotten.
"""

from __future__ import annotations

import os

os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

import argparse  # noqa: E402
import shutil  # noqa: E402
import sys  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from ingest_recall import write_notes  # noqa: E402

from assistant import config as config_mod  # noqa: E402
from assistant import paths as paths_mod  # noqa: E402
from assistant.forget import Target, apply, plan  # noqa: E402
from assistant.ingest import ingest  # noqa: E402
from assistant.memory import Memory  # noqa: E402
from assistant.vault import Secrets, create_vault  # noqa: E402
from store.purge import purge_copies  # noqa: E402

WORD = "harbour"  # a word the synthetic notes use now and then


def bench(n: int, workdir: Path) -> dict[str, float]:
    notes = workdir / f"notes-{n}"
    write_notes(notes, n, seed=n)
    paths = paths_mod.resolve(workdir / f"home-{n}")
    secrets = Secrets(ask_passphrase=lambda _confirm: "bench passphrase")
    create_vault(paths, secrets, mode="passphrase")
    config = config_mod.load(paths.config_file)
    with Memory.open(paths, config, secrets) as memory:
        memory.embedder.load()
        ingest(memory, [notes])
        started = time.perf_counter()
        planned = plan(memory, Target(matching=WORD))
        planned_s = time.perf_counter() - started
        started = time.perf_counter()
        apply(memory, planned)
        forget_s = time.perf_counter() - started
        started = time.perf_counter()
        purge_copies(memory.db, memory.index)
        purge_s = time.perf_counter() - started
        left = memory.index.count()
    return {
        "chunks": n,
        "forgotten": len(planned.episodes),
        "left": left,
        "plan_s": planned_s,
        "forget_s": forget_s,
        "purge_s": purge_s,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--chunks", type=int, nargs="+", default=[1000])
    args = parser.parse_args()
    workdir = Path(tempfile.mkdtemp(prefix="secondself-forget-bench-"))
    try:
        print(f"{'chunks':>8} {'forgotten':>9} {'plan':>8} {'forget':>8} {'purge':>8}")
        for n in args.chunks:
            r = bench(n, workdir)
            print(
                f"{r['chunks']:>8} {r['forgotten']:>9} {r['plan_s']:>7.2f}s "
                f"{r['forget_s']:>7.2f}s {r['purge_s']:>7.2f}s",
                flush=True,
            )
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    main()
