"""Thoughts: merge by similarity (a repeat reinforces), fading into archive or merge,
pins, and undo of a merge."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from assistant.derived import changes, thoughts
from assistant.derived.proposals import ThoughtCandidate
from assistant.ingest import ingest
from assistant.memory import Memory
from assistant.reflection.linking import label


@pytest.fixture
def three(memory: Memory, tmp_path: Path) -> tuple[Memory, list[int]]:
    for i, text in enumerate(["Ana moved to Berlin.", "Ana lives in Berlin now.", "Soup."]):
        (tmp_path / f"n{i}.md").write_text(f"---\ndate: 2023-0{i + 1}-01\n---\n{text}\n")
    ingest(memory, [tmp_path])
    ids = [r[0] for r in memory.db.conn.execute("SELECT id FROM episodes ORDER BY time_unix")]
    return memory, ids


def put(memory: Memory, text: str, evidence: int) -> tuple[str, int]:
    vector = memory.embedder.encode([text])[0]
    with memory.db.write() as conn:
        index = thoughts.ThoughtIndex(conn)
        cand = ThoughtCandidate(text, (evidence,))
        text_id, thought_id = thoughts.add(conn, cand, vector, index, "builtin", 0.9)
        assert thought_id is not None
        return text_id, thought_id


def test_the_same_statement_twice_is_merged_and_reinforced(
    three: tuple[Memory, list[int]],
) -> None:
    memory, ids = three
    op1, t1 = put(memory, "Ana lives in Berlin.", ids[0])
    op2, t2 = put(memory, "Ana lives in Berlin", ids[1])
    op3, t3 = put(memory, "Your favourite soup is caldo verde.", ids[2])
    assert (op1, op2, op3) == ("insert", "merge", "insert") and t1 == t2 != t3
    merged = thoughts.get(memory.db.conn, t1)
    assert merged.evidence == (ids[0], ids[1]) and merged.strength == 2.0
    assert merged.last_access is not None and abs(merged.last_access - time.time()) < 60
    merge = changes.history_of(memory.db.conn, "thought", t1)[-1]
    with memory.db.write() as conn:
        changes.undo(conn, merge.id)
    undone = thoughts.get(memory.db.conn, t1)
    assert undone.evidence == (ids[0],) and undone.strength == 1.0


def test_faded_thoughts_are_archived_or_merged_never_deleted(
    three: tuple[Memory, list[int]],
) -> None:
    memory, ids = three
    _, keep = put(memory, "Ana lives in Berlin.", ids[0])
    _, pinned = put(memory, "Your favourite soup is caldo verde.", ids[2])
    _, faded = put(memory, "Ana moved to Berlin last spring.", ids[1])  # near `keep` (0.88)
    with memory.db.write() as conn:
        changes.user_flag(conn, "thought", pinned, "pin")
        # `keep` was recalled recently; the other two were not touched for a year.
        year_ago = time.time() - 365 * 86400
        conn.execute("UPDATE thoughts SET last_access = ? WHERE id != ?", (year_ago, keep))
        counts = thoughts.archive_faded(
            conn, thoughts.ThoughtIndex(conn), k_days=30, below=0.05, merge_similarity=0.9
        )
    statuses = dict(memory.db.conn.execute("SELECT id, status FROM thoughts").fetchall())
    assert statuses[pinned] == "active"  # pins never fade
    assert statuses[keep] == "active"
    assert statuses[faded] in ("merged", "archived") and sum(counts.values()) == 1
    if statuses[faded] == "merged":
        assert ids[1] in thoughts.get(memory.db.conn, keep).evidence
    assert memory.db.conn.execute("SELECT count(*) FROM thoughts").fetchone()[0] == 3


def test_user_hide_and_pin_are_changes(three: tuple[Memory, list[int]]) -> None:
    memory, ids = three
    _, t = put(memory, "Ana lives in Berlin.", ids[0])
    with memory.db.write() as conn:
        change = changes.user_flag(conn, "thought", t, "hide")
    assert thoughts.get(memory.db.conn, t).status == "hidden"
    with memory.db.write() as conn:
        changes.undo(conn, change)
    assert thoughts.get(memory.db.conn, t).status == "active"


@pytest.mark.parametrize(
    ("text", "score", "expected"),
    [
        ("So I quit my job at Acme.", 0.6, "cause"),
        ("That's why we moved to Porto.", 0.6, "cause"),
        ("I left because the commute was awful.", 0.6, "reason"),
        ("Lisbon trip planning, day two.", 0.8, "same_topic"),
        ("Lisbon trip planning, day two.", 0.6, "before"),
        ("Since 2019 I have lived here.", 0.6, "before"),  # "since" a date is not a reason
    ],
)
def test_link_labels_by_rule(text: str, score: float, expected: str) -> None:
    assert label(text, score, threshold=0.55) == expected
