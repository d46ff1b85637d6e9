"""`me timeline`: a topic's story in time order, with the facts it changed and why each
entry is there; life with a person; what happened on a day."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from assistant.errors import QueryError
from assistant.memory import Memory
from assistant.service.backend import Resident
from assistant.service.requests import TimelineRequest
from tests.conftest import reflected_notes

NOTES = {
    "Ana Ribeiro.md": "---\ntags: [people]\ndate: 2023-05-20\n---\n# Ana Ribeiro\n\n"
    "- Relationship: friend\n- City: Berlin\n",
    "2024-01-10.md": "# 2024-01-10\n\nAna says a studio in Lisbon wants her for a job.\n",
    "2024-03-14.md": "# 2024-03-14\n\nAna accepted the job in Lisbon. She moves in May.\n",
    "2024-05-20.md": "# 2024-05-20\n\nAna moved to Lisbon today, the studio is in Alfama.\n",
    "2024-05-21.md": "# 2024-05-21\n\nRan 10 km along the canal before work.\n",
    "Rui.md": "---\ntags: [people]\ndate: 2023-05-20\n---\n# Rui Costa\n\n- City: Porto\n",
}


@pytest.fixture
def life(memory: Memory, tmp_path: Path) -> Resident:
    return reflected_notes(memory, tmp_path / "notes", NOTES)


def test_a_topic_unfolds_in_time_with_the_fact_it_changed(life: Resident) -> None:
    story = life.timeline(TimelineRequest("Ana's move to Lisbon"))
    dates = [e.date[:10] for e in story]
    assert dates == sorted(dates)  # oldest first
    texts = [e.text for e in story]
    job, accepted, moved = (
        next(i for i, t in enumerate(texts) if words in t)
        for words in ("wants her for a job", "accepted the job", "moved to Lisbon today")
    )
    assert job < accepted < moved
    # The city Ana had and the one she moved to: one slot, its change labelled.
    lisbon = next(e for e in story if e.kind == "fact" and e.text.endswith("city Lisbon"))
    assert lisbon.label == "changed: Berlin → Lisbon"
    assert any(e.kind == "fact" and e.text.endswith("city Berlin") for e in story)
    # On one day, the memory comes before the fact drawn from it.
    today = next(i for i, t in enumerate(texts) if "moved to Lisbon today" in t)
    assert lisbon.date[:10] == story[today].date[:10] and today < story.index(lisbon)
    # Every entry says why it is there; nothing off topic (the run, Rui's city).
    assert all(e.why for e in story)
    assert not any("canal" in t or "Porto" in t for t in texts)
    # Deterministic: the same memory, the same timeline.
    assert life.timeline(TimelineRequest("Ana's move to Lisbon")) == story


def test_life_with_a_person_and_a_single_day(life: Resident) -> None:
    story = life.timeline(TimelineRequest(person="Ana"))
    facts = [e for e in story if e.kind == "fact"]
    assert facts and all(e.text.startswith("Ana Ribeiro:") for e in facts)
    assert any("moved to Lisbon today" in e.text for e in story)  # what a fact rests on
    day = life.timeline(TimelineRequest(since=date(2024, 5, 21), until=date(2024, 5, 21)))
    assert [e.text for e in day] == ["Ran 10 km along the canal before work."]
    assert day[0].why.startswith("on ")
    with pytest.raises(QueryError, match="a topic, a person or a period"):
        life.timeline(TimelineRequest())
