"""Persona facts over time: supersession, conflicts, user edits winning, forgetting,
and undo through the change history."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from assistant.derived import changes, persona
from assistant.derived.proposals import FactCandidate
from assistant.errors import MemoryRefError
from assistant.ingest import ingest
from assistant.memory import Memory

DAYS = ["2021-03-01", "2022-06-10", "2022-06-11", "2023-09-01", "2024-01-15", "2024-02-01"]


@pytest.fixture
def days(memory: Memory, tmp_path: Path) -> Iterator[tuple[Memory, dict[str, int]]]:
    """One note per day of DAYS, so facts have real evidence episodes."""
    folder = tmp_path / "days"
    folder.mkdir()
    for day in DAYS:
        (folder / f"{day}.md").write_text(f"---\ndate: {day}\n---\nA note written on {day}.\n")
    ingest(memory, [folder])
    ids = {
        text.split()[-1].rstrip("."): i
        for i, text in memory.db.conn.execute("SELECT id, text FROM episodes")
    }
    yield memory, ids


def add(memory: Memory, ids: dict[str, int], attribute: str, value: str, day: str,
        person: str = "self") -> persona.Outcome:  # fmt: skip
    cand = FactCandidate(person, attribute, value, day, ids[day], 0.8, "test")
    with memory.db.write() as conn:
        return persona.add_extracted(conn, cand, "builtin", conflict_days=3)


def current(memory: Memory, attribute: str, person: str = "self") -> list[str]:
    return [f.value for f in persona.facts(memory.db.conn, person, attribute)]


def test_a_newer_value_closes_the_older_one(days: tuple[Memory, dict[str, int]]) -> None:
    memory, ids = days
    first = add(memory, ids, "city", "Lisbon", "2021-03-01")
    second = add(memory, ids, "city", "Porto", "2023-09-01")
    assert (first.op, second.op) == ("insert", "supersede")
    assert current(memory, "city") == ["Porto"]
    old = persona.get(memory.db.conn, first.fact_id or 0)
    assert old.valid_to == "2023-09-01" and old.superseded_by == second.fact_id
    history = persona.facts(memory.db.conn, "me", "city", include_closed=True)
    assert [(f.value, f.valid_from, f.valid_to) for f in history] == [
        ("Lisbon", "2021-03-01", "2023-09-01"),
        ("Porto", "2023-09-01", None),
    ]


def test_an_older_value_learned_later_slots_into_the_past(
    days: tuple[Memory, dict[str, int]],
) -> None:
    memory, ids = days
    add(memory, ids, "city", "Porto", "2023-09-01")
    late = add(memory, ids, "city", "Lisbon", "2021-03-01")  # read after, happened before
    assert current(memory, "city") == ["Porto"]
    fact = persona.get(memory.db.conn, late.fact_id or 0)
    assert fact.valid_to == "2023-09-01" and fact.superseded_by is not None
    middle = add(memory, ids, "city", "Braga", "2022-06-10")  # between the two
    assert middle.op == "supersede"
    chain = persona.facts(memory.db.conn, "self", "city", include_closed=True)
    assert [(f.value, f.valid_to) for f in chain] == [
        ("Lisbon", "2022-06-10"),
        ("Braga", "2023-09-01"),
        ("Porto", None),
    ]


def test_repeating_a_value_reinforces_it(days: tuple[Memory, dict[str, int]]) -> None:
    memory, ids = days
    first = add(memory, ids, "employer", "Acme", "2021-03-01")
    again = add(memory, ids, "employer", "acme", "2022-06-10")
    assert again.op == "reinforce" and again.fact_id == first.fact_id
    fact = persona.get(memory.db.conn, first.fact_id or 0)
    assert len(fact.evidence) == 2 and fact.confidence == pytest.approx(1 - 0.2 * 0.2)
    assert add(memory, ids, "employer", "Acme", "2022-06-10").op == "skip"  # same evidence


def test_values_of_the_same_days_are_a_conflict(days: tuple[Memory, dict[str, int]]) -> None:
    memory, ids = days
    add(memory, ids, "phone", "+351 911 111 111", "2022-06-10")
    out = add(memory, ids, "phone", "+351 922 222 222", "2022-06-11")
    assert out.op == "conflict"
    both = persona.facts(memory.db.conn, "self", "phone")
    assert {f.status for f in both} == {"conflict"} and len(both) == 2
    with memory.db.write() as conn:
        persona.set_value(conn, "me", "phone", "+351 933 333 333")
    assert current(memory, "phone") == ["+351 933 333 333"]


def test_many_valued_attributes_accumulate(days: tuple[Memory, dict[str, int]]) -> None:
    memory, ids = days
    add(memory, ids, "allergy", "peanuts", "2021-03-01")
    add(memory, ids, "allergy", "penicillin", "2023-09-01")
    assert sorted(current(memory, "allergy")) == ["peanuts", "penicillin"]


def test_other_people_have_their_own_facts(days: tuple[Memory, dict[str, int]]) -> None:
    memory, ids = days
    add(memory, ids, "city", "Lisbon", "2021-03-01")
    add(memory, ids, "city", "Berlin", "2023-09-01", person="Ana")
    assert current(memory, "city") == ["Lisbon"]
    assert current(memory, "city", "ana") == ["Berlin"]


def test_user_edits_win_and_reflection_never_changes_them(
    days: tuple[Memory, dict[str, int]],
) -> None:
    memory, ids = days
    add(memory, ids, "city", "Lisbon", "2021-03-01")
    with memory.db.write() as conn:
        mine = persona.set_value(conn, "me", "city", "Coimbra")
    later = add(memory, ids, "city", "Faro", "2024-02-01")
    # The extraction dated before today's edit fits into the past; the edit stays current.
    assert current(memory, "city") == ["Coimbra"]
    fact = persona.get(memory.db.conn, mine)
    assert fact.origin == "user" and fact.valid_to is None
    assert persona.get(memory.db.conn, later.fact_id or 0).current is False


def test_a_pinned_fact_is_not_superseded(days: tuple[Memory, dict[str, int]]) -> None:
    memory, ids = days
    pinned = add(memory, ids, "employer", "Acme", "2021-03-01")
    with memory.db.write() as conn:
        changes.user_flag(conn, "fact", pinned.fact_id or 0, "pin")
    out = add(memory, ids, "employer", "Globex", "2024-01-15")
    assert out.op == "shadow"
    assert current(memory, "employer") == ["Acme"]
    with memory.db.write() as conn:
        changes.user_flag(conn, "fact", pinned.fact_id or 0, "unpin")
    assert add(memory, ids, "employer", "Initech", "2024-02-01").op == "supersede"
    assert current(memory, "employer") == ["Initech"]


def test_a_hidden_value_is_not_learned_again(days: tuple[Memory, dict[str, int]]) -> None:
    memory, ids = days
    out = add(memory, ids, "likes", "olives", "2021-03-01")
    with memory.db.write() as conn:
        changes.user_flag(conn, "fact", out.fact_id or 0, "hide")
    assert current(memory, "likes") == []
    assert add(memory, ids, "likes", "Olives", "2024-01-15").op == "skip"


def test_undo_puts_back_a_supersession(days: tuple[Memory, dict[str, int]]) -> None:
    memory, ids = days
    first = add(memory, ids, "city", "Lisbon", "2021-03-01")
    second = add(memory, ids, "city", "Porto", "2023-09-01")
    records = changes.history_of(memory.db.conn, "fact", first.fact_id or 0)
    assert [r.op for r in records] == ["insert", "supersede"]
    with memory.db.write() as conn:
        undo_id = changes.undo(conn, records[-1].id)
    assert current(memory, "city") == ["Lisbon"]
    restored = persona.get(memory.db.conn, first.fact_id or 0)
    assert restored.valid_to is None and restored.superseded_by is None
    with pytest.raises(MemoryRefError):
        persona.get(memory.db.conn, second.fact_id or 0)
    with memory.db.write() as conn, pytest.raises(MemoryRefError, match="already undone"):
        changes.undo(conn, records[-1].id)
    with memory.db.write() as conn, pytest.raises(MemoryRefError, match="itself an undo"):
        changes.undo(conn, undo_id)


def test_undo_refuses_to_skip_over_a_later_change(days: tuple[Memory, dict[str, int]]) -> None:
    memory, ids = days
    first = add(memory, ids, "city", "Lisbon", "2021-03-01")
    add(memory, ids, "city", "Porto", "2023-09-01")
    inserted = changes.history_of(memory.db.conn, "fact", first.fact_id or 0)[0]
    with memory.db.write() as conn, pytest.raises(MemoryRefError, match="first"):
        changes.undo(conn, inserted.id)
    assert current(memory, "city") == ["Porto"]  # the refusal changed nothing


def test_undo_of_a_user_hide_brings_the_fact_back(days: tuple[Memory, dict[str, int]]) -> None:
    memory, ids = days
    out = add(memory, ids, "pet", "Miso (dog)", "2021-03-01")
    with memory.db.write() as conn:
        change_id = changes.user_flag(conn, "fact", out.fact_id or 0, "hide")
    assert current(memory, "pet") == []
    with memory.db.write() as conn:
        changes.undo(conn, change_id)
    assert current(memory, "pet") == ["Miso (dog)"]
    assert persona.get(memory.db.conn, out.fact_id or 0).evidence == (ids["2021-03-01"],)


def test_unknown_attribute_is_refused_for_user_edits(days: tuple[Memory, dict[str, int]]) -> None:
    memory, _ = days
    with memory.db.write() as conn, pytest.raises(MemoryRefError, match="unknown attribute"):
        persona.set_value(conn, "me", "favourite_colour", "blue")
