"""Forget reaches every copy: rows, derived memory, history, indexes, free pages, the
sealed vector index; what stays is re-derived; nothing forgotten comes back.

Each test reads the database's pages decrypted (tests/sqlcipher_pages.py), not only its
rows: a forget that merely deletes rows leaves the words in FTS b-trees and free pages.
"""

from __future__ import annotations

import io
import json
import tarfile
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import numpy as np
import pytest

from assistant import config as config_mod
from assistant.derived import changes, persona, thoughts
from assistant.derived.proposals import FactCandidate, ThoughtCandidate
from assistant.documents import embed_text
from assistant.errors import MemoryRefError
from assistant.forget import Target, apply, plan
from assistant.identity import add_identity
from assistant.ingest import FORGOTTEN, ingest
from assistant.memory import Memory
from assistant.paths import Paths
from assistant.recall import keyword_ranking, recall
from assistant.reflection.builtin import BuiltinEngine
from assistant.reflection.run import reflect
from assistant.vault import Secrets
from store.sealing import SealedReader
from tests.sqlcipher_pages import plaintext

STORY = [
    ("2023-01-05T09:00:00+00:00", "Me", "Ana", "I'm allergic to peanuts, no satay please."),
    ("2023-02-11T10:00:00+00:00", "Ana", "Ana", "I moved to Berlin last week."),
    ("2023-03-01T12:00:00+00:00", "Me", "Ana", "I moved to Lisbon last month."),
    ("2023-04-02T16:00:00+00:00", "Me", "Ana", "We adopted a dog called Zorblax!"),
    ("2023-05-01T09:00:00+00:00", "Me", "Ana", "I moved to Quintavera yesterday."),
    ("2023-06-01T09:00:00+00:00", "Tiago", "Tiago", "I work at Glimmerforge as a baker."),
    ("2023-07-01T09:00:00+00:00", "Me", "Tiago", "I'm allergic to peanuts, as you know."),
    ("2023-08-01T09:00:00+00:00", "Me", "Tiago", "I'm allergic to cats. Card: 4111 1111 1111 1111"),
]


def write_chat(folder: Path, story: list[tuple[str, str, str, str]]) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    lines = [
        json.dumps({"time": t, "sender": s, "conversation": c, "text": x, "id": i})
        for i, (t, s, c, x) in enumerate(story)
    ]
    (folder / "chat.jsonl").write_text("\n".join(lines) + "\n", encoding="utf-8")
    return folder


@pytest.fixture
def lived(memory: Memory, tmp_path: Path) -> Iterator[Memory]:
    """A reflected memory of two conversations."""
    add_identity(memory.db, "name", "Me")
    ingest(memory, [write_chat(tmp_path / "chat", STORY)])
    reflect(memory, BuiltinEngine())
    yield memory


def episode(memory: Memory, words: str) -> int:
    row = memory.db.conn.execute(
        "SELECT id FROM episodes WHERE text LIKE ?", (f"%{words}%",)
    ).fetchone()
    assert row is not None, words
    return int(row[0])


def pages(memory: Memory) -> bytes:
    return plaintext(memory.paths.database, memory.keys.database)


def sealed_files(memory: Memory) -> bytes:
    """Every byte of every file inside the sealed vector snapshot, decrypted."""
    with memory.paths.snapshot.open("rb") as fh:
        reader = SealedReader(fh, memory.keys.snapshot)
        data = io.BytesIO(reader.read())
    out = b""
    with tarfile.open(fileobj=data) as tar:
        for member in tar.getmembers():
            extracted = tar.extractfile(member)
            if extracted is not None:
                out += extracted.read()
    return out


def forget(memory: Memory, **target: object) -> None:
    apply(memory, plan(memory, Target(**target)))  # type: ignore[arg-type]


def test_an_episode_goes_with_what_rests_on_it_alone(lived: Memory) -> None:
    memory = lived
    dog = episode(memory, "Zorblax")
    vector = memory.db.conn.execute(
        "SELECT vector FROM vectors WHERE episode_id = ?", (dog,)
    ).fetchone()[0]
    memory.index.seal()  # the snapshot holds the dog's vector before the forget
    assert b"Zorblax" in pages(memory) and vector in sealed_files(memory)
    pet = [f for f in persona.facts(memory.db.conn) if f.attribute == "pet"]
    assert pet and dog in pet[0].evidence
    planned = plan(memory, Target(refs=(f"e{dog}",)))
    assert planned.counts()["episodes"] == 1 and pet[0].id in planned.facts
    apply(memory, planned)

    conn = memory.db.conn
    assert conn.execute("SELECT count(*) FROM facts WHERE attribute = 'pet'").fetchone()[0] == 0
    assert not [t for t in conn.execute("SELECT text FROM thoughts") if "Zorblax" in t[0]]
    assert (
        conn.execute(
            "SELECT count(*) FROM links WHERE (src_kind = 'episode' AND src_id = ?) "
            "OR (dst_kind = 'episode' AND dst_id = ?)",
            (dog, dog),
        ).fetchone()[0]
        == 0
    )
    erased = changes.history_of(conn, "fact", pet[0].id)
    assert erased and all(r.old in (None, {"forgotten": True}) for c in erased for r in c.rows)
    assert all("Zorblax" not in c.reason for c in erased)
    assert [h.id for h in recall(memory, "Zorblax dog", k=5)] == [] or all(
        "Zorblax" not in h.text for h in recall(memory, "Zorblax dog", k=5)
    )
    assert memory.index.count() == conn.execute("SELECT count(*) FROM vectors").fetchone()[0]
    assert memory.db.get_meta("forget_pending") is None
    memory.db.checkpoint()
    assert b"Zorblax" not in pages(memory) and b"zorblax" not in pages(memory)
    assert vector not in sealed_files(memory)
    with pytest.raises(MemoryRefError, match="forgotten"), memory.db.write() as write:
        changes.undo(write, erased[0].id)


def test_other_evidence_keeps_a_fact_and_a_thought_is_concluded_again(lived: Memory) -> None:
    memory = lived
    conn = memory.db.conn
    first = episode(memory, "no satay")
    second = episode(memory, "as you know")
    allergy = next(f for f in persona.facts(conn) if f.value == "peanuts")
    assert set(allergy.evidence) == {first, second}
    merged = [
        t
        for t in (thoughts.get(conn, r[0]) for r in conn.execute("SELECT id FROM thoughts"))
        if "peanuts" in t.text and t.status == "active"
    ]
    assert merged and set(merged[0].evidence) == {first, second}
    forget(memory, refs=(f"e{first}",))

    kept = persona.get(conn, allergy.id)
    assert kept.current and kept.evidence == (second,)  # other memories still say it
    assert conn.execute("SELECT 1 FROM thoughts WHERE id = ?", (merged[0].id,)).fetchone() is None
    again = [
        thoughts.get(conn, r[0])
        for r in conn.execute("SELECT id FROM thoughts WHERE text LIKE '%peanuts%'")
    ]
    assert len(again) == 1 and again[0].evidence == (second,)  # said from what remains


def test_forgetting_a_newer_value_reopens_the_one_it_closed(lived: Memory) -> None:
    memory = lived
    conn = memory.db.conn
    cities = persona.facts(conn, "me", "city", include_closed=True)
    assert [c.value for c in cities] == ["Lisbon", "Quintavera"]
    assert cities[0].superseded_by == cities[1].id
    forget(memory, refs=(f"e{episode(memory, 'Quintavera')}",))
    now = persona.facts(conn, "me", "city", include_closed=True)
    assert [(c.value, c.valid_to, c.superseded_by) for c in now] == [("Lisbon", None, None)]
    assert b"Quintavera" not in pages(memory)


def test_forget_by_person_source_text_and_date(lived: Memory, tmp_path: Path) -> None:
    memory = lived
    conn = memory.db.conn
    about_tiago = plan(memory, Target(person="Tiago"))
    assert about_tiago.counts()["episodes"] == 3  # the whole conversation with Tiago
    assert {persona.get(conn, f).value for f in about_tiago.facts} >= {"Glimmerforge"}
    matching = plan(memory, Target(matching="BERLIN"))  # case does not matter
    assert matching.counts()["episodes"] == 1
    early = plan(memory, Target(before=date(2023, 3, 1)))
    assert early.counts()["episodes"] == 2
    source = conn.execute("SELECT source_id FROM documents").fetchone()[0]
    whole = plan(memory, Target(source=source))
    assert whole.counts()["episodes"] == len(STORY) and whole.sources == {source}
    apply(memory, about_tiago)
    assert b"Glimmerforge" not in pages(memory)
    assert conn.execute("SELECT count(*) FROM episodes WHERE sender = 'Tiago'").fetchone()[0] == 0
    with pytest.raises(MemoryRefError, match="someone else"):
        plan(memory, Target(person="me"))
    with pytest.raises(MemoryRefError, match="no source"):
        plan(memory, Target(source=999))
    with pytest.raises(MemoryRefError, match="no episode"):
        plan(memory, Target(refs=("e999",)))


def test_nothing_forgotten_is_read_or_learned_again(lived: Memory, tmp_path: Path) -> None:
    memory = lived
    conn = memory.db.conn
    berlin = episode(memory, "Berlin")
    glimmer = next(f for f in persona.facts(conn) if f.value == "Glimmerforge")
    forget(memory, refs=(f"e{berlin}", f"f{glimmer.id}"))
    # A re-export of the chat, with one new message: only the new one is read.
    later = [*STORY, ("2023-09-01T09:00:00+00:00", "Ana", "Ana", "See you in September.")]
    ingest(memory, [write_chat(tmp_path / "export2", later)])
    texts = [r[0] for r in conn.execute("SELECT text FROM episodes")]
    assert "See you in September." in texts
    assert not [t for t in texts if "Berlin" in t]
    # A note whose every memory was forgotten is skipped, saying why, and stays out.
    note = tmp_path / "notes" / "zorblax.md"
    note.parent.mkdir()
    note.write_text("We walk Zorblax by the river every morning.\n", encoding="utf-8")
    ingest(memory, [note.parent])
    forget(memory, matching="walk Zorblax")
    summary = ingest(memory, [note.parent])
    assert [s.reason for s in summary.skipped] == [FORGOTTEN]
    assert not [r for r in conn.execute("SELECT 1 FROM episodes WHERE text LIKE '%walk Zorblax%'")]
    # The named fact is never learned again, from old or new evidence.
    again = FactCandidate("Tiago", "employer", "Glimmerforge", "2024-01-01",
                          episode(memory, "September"), 0.9)  # fmt: skip
    with memory.db.write() as write:
        assert persona.add_extracted(write, again, "builtin", 3).op == "skip"
    # A forgotten thought is not concluded again.
    some = conn.execute("SELECT id, text FROM thoughts WHERE status = 'active'").fetchone()
    forget(memory, refs=(f"t{some[0]}",))
    cand = ThoughtCandidate(some[1], (episode(memory, "September"),))
    vector = memory.embedder.encode([some[1]])[0]
    with memory.db.write() as write:
        index = thoughts.ThoughtIndex(write)
        assert thoughts.add(write, cand, vector, index, "builtin", 0.9) == ("skip", None)


def test_an_interrupted_forget_is_finished_at_the_next_open(
    vault: Paths, secrets: Secrets, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    config = config_mod.load(vault.config_file)
    with Memory.open(vault, config, secrets) as memory:
        ingest(memory, [write_chat(tmp_path / "chat", STORY)])
        memory.index.seal()
        dog = episode(memory, "Zorblax")
        vector = memory.db.conn.execute(
            "SELECT vector FROM vectors WHERE episode_id = ?", (dog,)
        ).fetchone()[0]

        def crash(*_args: object) -> None:
            raise KeyboardInterrupt  # the process dies after the rows were deleted

        with monkeypatch.context() as patch, pytest.raises(KeyboardInterrupt):
            patch.setattr("assistant.forget.purge_copies", crash)
            forget(memory, refs=(f"e{dog}",))
        assert memory.db.get_meta("forget_pending") == "1"
    with Memory.open(vault, config, secrets) as memory:
        assert memory.db.get_meta("forget_pending") is None
        assert vector not in sealed_files(memory)
        memory.db.checkpoint()
        assert b"Zorblax" not in pages(memory)
        assert memory.index.count() == len(STORY) - 1


def test_derived_memory_inherits_labels_and_never_holds_a_secret(lived: Memory) -> None:
    conn = lived.db.conn
    card = episode(lived, "4111")
    assert conn.execute("SELECT sensitivity FROM episodes WHERE id = ?", (card,)).fetchone()[0] == (
        "secret"
    )
    derived = [
        thoughts.get(conn, r[0])
        for r in conn.execute(
            "SELECT thought_id FROM thought_evidence WHERE episode_id = ?", (card,)
        )
    ]
    facts = [f for f in persona.facts(conn) if card in f.evidence]
    assert derived or facts
    assert {t.sensitivity for t in derived} | {f.sensitivity for f in facts} == {"secret"}
    for t in derived:
        assert "4111" not in t.text
    cand = ThoughtCandidate("Pay with 4111 1111 1111 1111 next time.", (card,))
    vector = lived.embedder.encode([cand.text])[0]
    with lived.db.write() as write:
        _, new_id = thoughts.add(write, cand, vector, thoughts.ThoughtIndex(write), "builtin", 0.99)
    assert new_id is not None
    stored = thoughts.get(conn, new_id)
    assert "[CARD]" in stored.text and "4111" not in stored.text
    assert stored.sensitivity == "secret"


def test_undo_never_leaves_a_fact_pointing_at_a_removed_one(lived: Memory) -> None:
    """An older value learned after a newer one points at it (superseded_by); undoing
    the newer one's insert used to fail with a bare FOREIGN KEY error."""
    memory = lived
    conn = memory.db.conn
    newer = FactCandidate(
        "self", "employer", "Initech", "2023-06-01", episode(memory, "Zorblax"), 0.8
    )
    older = FactCandidate("self", "employer", "Acme", "2022-01-01", episode(memory, "Berlin"), 0.8)
    with memory.db.write() as write:
        made = persona.add_extracted(write, newer, "builtin", 3)
        assert persona.add_extracted(write, older, "builtin", 3).op == "insert"
    insert = changes.history_of(conn, "fact", made.fact_id or 0)[0]
    with pytest.raises(MemoryRefError, match="points at"), memory.db.write() as write:
        changes.undo(write, insert.id)
    assert persona.get(conn, made.fact_id or 0).value == "Initech"  # nothing changed


def test_the_message_after_a_forgotten_one_keeps_nothing_of_it(lived: Memory) -> None:
    """A message is found by the words of the one it follows, and its vector leans on
    that one's: once that one is forgotten, neither copy is left."""
    memory, conn = lived, lived.db.conn
    work, after = episode(memory, "Glimmerforge"), episode(memory, "as you know")

    def stored_vector() -> np.ndarray:
        blob = conn.execute("SELECT vector FROM vectors WHERE episode_id = ?", (after,))
        return np.frombuffer(blob.fetchone()[0], dtype="<f4")

    row = conn.execute("SELECT title, sender, text FROM episodes WHERE id = ?", (after,)).fetchone()
    own = memory.embedder.encode([embed_text(*row)])[0]
    assert conn.execute(
        "SELECT context_of, context FROM episodes WHERE id = ?", (after,)
    ).fetchone() == (work, "I work at Glimmerforge as a baker.")
    assert after in keyword_ranking(memory, "Glimmerforge", 5)
    assert float(stored_vector() @ own) < 0.99  # leaning on the message before

    forget(memory, refs=(f"e{work}",))
    assert conn.execute(
        "SELECT context_of, context FROM episodes WHERE id = ?", (after,)
    ).fetchone() == (None, None)
    assert keyword_ranking(memory, "Glimmerforge", 5) == []
    assert np.allclose(stored_vector(), own, atol=1e-5)
    assert memory.index.query(own, 1)[0][0] == after
    memory.db.checkpoint()
    assert b"glimmerforge" not in pages(memory).lower()


def test_the_message_before_a_forgotten_reply_keeps_nothing_of_it(lived: Memory) -> None:
    """A message is found by the words of the reply it got: once the reply is
    forgotten, that copy is gone too."""
    memory, conn = lived, lived.db.conn
    work, after = episode(memory, "Glimmerforge"), episode(memory, "as you know")
    assert conn.execute(
        "SELECT reply_of, reply FROM episodes WHERE id = ?", (work,)
    ).fetchone() == (after, "I'm allergic to peanuts, as you know.")
    assert work in keyword_ranking(memory, "peanuts", 5)

    forget(memory, refs=(f"e{after}",))
    assert conn.execute(
        "SELECT reply_of, reply FROM episodes WHERE id = ?", (work,)
    ).fetchone() == (None, None)
    assert work not in keyword_ranking(memory, "peanuts", 5)
    memory.db.checkpoint()
    assert b"as you know" not in pages(memory).lower()


def test_forget_leaves_no_vector_of_it_in_the_runtime_index(lived: Memory) -> None:
    memory = lived
    dog = episode(memory, "Zorblax")
    vector = np.frombuffer(
        memory.db.conn.execute(
            "SELECT vector FROM vectors WHERE episode_id = ?", (dog,)
        ).fetchone()[0],
        dtype="<f4",
    )
    forget(memory, refs=(f"e{dog}",))
    runtime = b"".join(p.read_bytes() for p in memory.paths.vector_dir.rglob("*") if p.is_file())
    assert vector.tobytes() not in runtime
    assert dog not in [i for i, _ in memory.index.query(vector, 3)]
