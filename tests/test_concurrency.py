"""The service on one open memory, driven from 8 threads at once as a daemon serving
several clients would: recall, ask (which writes thoughts), ingest and persona edits,
a fixed number of each. Nothing may fail and no write may be lost."""

from __future__ import annotations

import threading
from collections.abc import Callable
from pathlib import Path

from assistant.derived import persona
from assistant.memory import Memory
from assistant.reflection.builtin import BuiltinEngine
from assistant.service.core import AskRequest, RecallRequest, Service

FILES_PER_THREAD = 4
EDITS_PER_THREAD = 15
QUERIES = ("Lisbon trip", "when is the dentist", "what did Ana say", "bread recipe")


def note_word(thread: int, n: int) -> str:
    """A made-up word only this note contains, to find it by afterwards."""
    return f"quorblat{thread}x{n}"


def run_threads(jobs: list[Callable[[], None]]) -> list[BaseException]:
    errors: list[BaseException] = []
    start = threading.Barrier(len(jobs))

    def guarded(job: Callable[[], None]) -> None:
        start.wait()  # all at once, not one after another
        try:
            job()
        except BaseException as exc:  # collected and asserted on below
            errors.append(exc)

    threads = [threading.Thread(target=guarded, args=(job,)) for job in jobs]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=600)
    assert not any(t.is_alive() for t in threads), "a thread hung (a deadlock?)"
    return errors


def test_eight_threads_lose_nothing(memory: Memory, tmp_path: Path) -> None:
    memory.embedder.load()  # the model is shared; load it once up front
    service = Service(memory)
    engine = BuiltinEngine()
    recalled: list[int] = []

    def recaller() -> None:
        for i in range(12):
            recalled.append(len(service.recall(RecallRequest(QUERIES[i % len(QUERIES)], k=3))))

    def asker() -> None:
        for i in range(4):
            service.ask(AskRequest(f"what about the {QUERIES[i % len(QUERIES)]}?"), engine)

    def ingester(thread: int) -> Callable[[], None]:
        def job() -> None:
            for n in range(FILES_PER_THREAD):
                folder = tmp_path / f"notes-{thread}-{n}"
                folder.mkdir()
                (folder / "note.md").write_text(
                    f"# Day {n}\n\nWe talked about the {QUERIES[n % len(QUERIES)]} and "
                    f"the word {note_word(thread, n)} came up.\n",
                    encoding="utf-8",
                )
                summary = service.ingest([folder])
                assert summary.added == 1 and not summary.failed, summary.as_json()

        return job

    def editor(person: str) -> Callable[[], None]:
        def job() -> None:
            for n in range(EDITS_PER_THREAD):
                fact = service.set_fact(person, "city", f"City{n}")
                assert fact.value == f"City{n}"

        return job

    jobs = [
        recaller,
        recaller,
        asker,
        asker,
        ingester(1),
        ingester(2),
        editor("me"),
        editor("Ana Ribeiro"),
    ]
    errors = run_threads(jobs)
    assert errors == [], [repr(e) for e in errors]

    conn = memory.db.conn
    # Every note is stored, in the database, the keyword index and the vector index.
    episodes = conn.execute("SELECT count(*) FROM episodes").fetchone()[0]
    assert episodes == 2 * FILES_PER_THREAD
    vectors = conn.execute("SELECT count(*) FROM vectors").fetchone()[0]
    assert vectors == episodes == memory.index.count()
    for thread in (1, 2):
        for n in range(FILES_PER_THREAD):
            hits = service.recall(RecallRequest(note_word(thread, n), k=1, reinforce=False))
            assert hits and note_word(thread, n) in hits[0].text
    # Every edit is recorded, in order, and the last one is current.
    sets = conn.execute("SELECT count(*) FROM changes WHERE op = 'set'").fetchone()[0]
    assert sets == 2 * EDITS_PER_THREAD
    for person in ("me", "Ana Ribeiro"):
        current = [f.value for f in persona.facts(conn, person, "city")]
        assert current == [f"City{EDITS_PER_THREAD - 1}"], (person, current)
    assert len(recalled) == 24


def test_threads_that_release_leave_no_connection_behind(memory: Memory) -> None:
    """A server runs each client on a new thread: a connection kept per finished thread
    grew the daemon by ~220 KB a recall. Released, the count stays where it was."""
    db = memory.db
    before = len(db._others)

    def client() -> None:
        db.conn.execute("SELECT count(*) FROM episodes").fetchone()
        db.release_thread()

    for _ in range(50):
        worker = threading.Thread(target=client)
        worker.start()
        worker.join()
    assert len(db._others) == before
    db.release_thread()  # the main connection is never released
    assert db.conn.execute("SELECT 1").fetchone() == (1,)
