"""Builtin reflection throughput on synthetic chat messages.

Run by hand from the repository root (it is not a test):

    .venv/bin/python bench/reflect_throughput.py                 # 10,000 messages
    .venv/bin/python bench/reflect_throughput.py --messages 2000 --json

It writes N chat messages between the user and four friends (generic chat JSON Lines,
docs/chat-jsonl.md) over two years: about one in four states a fact in everyday
phrasing (moves, jobs, pets, allergies, likes, birthdays, numbers), some negated or
hypothetical, the rest is chatter. It ingests them into a throwaway passphrase-mode
vault (not timed), then times `reflect()` with the builtin engine end to end: fact
extraction, thought vectors (the embedding model, loaded before the clock starts),
merging, links from each message to its most similar earlier ones, and one committed
transaction per batch. Reported: episodes/s, time split, and what was produced.
LoCoMo's throughput comes from `bench/locomo.py --reflect`.
"""

from __future__ import annotations

import os

os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

import argparse  # noqa: E402
import json  # noqa: E402
import random  # noqa: E402
import shutil  # noqa: E402
import sys  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
from datetime import UTC, datetime, timedelta  # noqa: E402
from pathlib import Path  # noqa: E402
from typing import Any  # noqa: E402

PASSPHRASE = "bench passphrase, not a secret"
FRIENDS = ["Ana Ribeiro", "Tomás", "Priya", "Jonas"]
CITIES = ["Porto", "Lisbon", "Berlin", "Madrid", "Braga", "Ghent", "Lyon", "Turin"]
FIRMS = ["Acme", "Globex", "Initech", "Hooli", "Umbrella", "Stark Industries"]
ROLES = ["data engineer", "nurse", "teacher", "product manager", "designer"]
THINGS = ["hiking", "olives", "jazz", "board games", "coriander", "sushi", "running"]
FOODS = ["peanuts", "shellfish", "penicillin", "gluten", "cats"]
PETS = [("dog", "Miso"), ("cat", "Pixel"), ("rabbit", "Nube"), ("dog", "Rex")]
MONTHS = ["January", "February", "March", "April", "May", "June", "July", "August",
          "September", "October", "November", "December"]  # fmt: skip
CHATTER = [
    "ok see you then", "haha", "did you see the match last night?", "running 10 min late",
    "can you send me the photos from Saturday?", "lunch tomorrow?", "the train is delayed again",
    "happy Friday!", "call you later", "that film was so long", "good morning!",
    "are you coming to the party?", "I'm so tired today", "thanks for dinner",
]  # fmt: skip


def fact_line(rng: random.Random) -> str:
    kind = rng.randrange(9)
    if kind == 0:
        return rng.choice(["I moved to {c}.", "I'm moving to {c} next month.",
                           "we just moved to {c}!"]).format(c=rng.choice(CITIES))  # fmt: skip
    if kind == 1:
        return f"I started at {rng.choice(FIRMS)} as a {rng.choice(ROLES)}."
    if kind == 2:
        species, name = rng.choice(PETS)
        return f"we adopted a {species} called {name}"
    if kind == 3:
        return f"I'm allergic to {rng.choice(FOODS)}"
    if kind == 4:
        return f"I love {rng.choice(THINGS)}!"
    if kind == 5:
        return f"my birthday is {rng.randint(1, 28)} {rng.choice(MONTHS)}"
    if kind == 6:
        return f"my new number is +351 9{rng.randint(10, 99)} {rng.randint(100, 999)} {rng.randint(100, 999)}"  # noqa: E501
    if kind == 7:
        return f"I'm not allergic to {rng.choice(FOODS)}, don't worry"
    return f"if I moved to {rng.choice(CITIES)} I'd need a car"


def write_chat(folder: Path, n: int, seed: int) -> None:
    rng = random.Random(seed)
    start = datetime(2022, 1, 1, 8, tzinfo=UTC)
    step = timedelta(days=730) / n
    folder.mkdir(parents=True)
    with (folder / "friends.jsonl").open("w", encoding="utf-8") as out:
        for i in range(n):
            friend = FRIENDS[i % len(FRIENDS)]
            sender = "Me" if rng.random() < 0.5 else friend
            text = fact_line(rng) if rng.random() < 0.25 else rng.choice(CHATTER)
            row = {"time": (start + step * i).isoformat(), "sender": sender, "text": text,
                   "conversation": friend, "id": i}  # fmt: skip
            out.write(json.dumps(row) + "\n")


def run(n: int, seed: int, workdir: Path) -> dict[str, Any]:
    from assistant import config, paths
    from assistant.identity import add_identity
    from assistant.ingest import ingest
    from assistant.memory import Memory
    from assistant.reflection.builtin import BuiltinEngine
    from assistant.reflection.run import reflect
    from assistant.vault import Secrets, create_vault

    secrets = Secrets(ask_passphrase=lambda _confirm: PASSPHRASE)
    write_chat(workdir / "chat", n, seed)
    where = paths.resolve(workdir / "home")
    create_vault(where, secrets, mode="passphrase")
    with Memory.open(where, config.load(where.config_file), secrets) as memory:
        add_identity(memory.db, "name", "Me")
        memory.embedder.load()
        began = time.perf_counter()
        ingest(memory, [workdir / "chat"])
        ingest_s = time.perf_counter() - began
        print(f"ingested {n:,} messages in {ingest_s:.1f} s; reflecting", file=sys.stderr)
        began = time.perf_counter()
        report = reflect(memory, BuiltinEngine())
        took = time.perf_counter() - began
        facts = memory.db.conn.execute(
            "SELECT count(*), sum(valid_to IS NULL) FROM facts"
        ).fetchone()
    return {
        "messages": n,
        "ingest_s": round(ingest_s, 1),
        "reflect_s": round(took, 1),
        "episodes_per_s": round(report.episodes / took, 1),
        "facts_stored": facts[0],
        "facts_current": facts[1],
        **report.as_json(),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--messages", type=int, default=10_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--json", action="store_true", help="one JSON object on stdout")
    args = parser.parse_args()
    os.environ.pop("SECONDSELF_PASSPHRASE", None)
    workdir = Path(tempfile.mkdtemp(prefix="secondself-reflect-"))
    try:
        result = run(args.messages, args.seed, workdir)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    if args.json:
        print(json.dumps(result))
        return
    print(
        f"builtin reflection on {result['messages']:,} chat messages: {result['reflect_s']} s, "
        f"{result['episodes_per_s']:,} episodes/s (ingest, not timed: {result['ingest_s']} s)\n"
        f"facts {result['facts']} -> {result['facts_stored']} stored, "
        f"{result['facts_current']} current; thoughts {result['thoughts']}; "
        f"links {result['links']}; quarantined {result['quarantined']}"
    )


if __name__ == "__main__":
    main()
