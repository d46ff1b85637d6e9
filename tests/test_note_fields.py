"""Facts from "Key: value" lines of notes about people (Obsidian-style person notes)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from assistant.reflection.engine import EpisodeView
from assistant.reflection.note_fields import note_facts

WHEN = datetime(2023, 5, 20, 9, tzinfo=UTC)


def note(text: str, kind: str = "note", **meta: Any) -> EpisodeView:
    return EpisodeView(id=7, time=WHEN, author="self", sender=None, text=text, kind=kind,
                       meta=meta)  # fmt: skip


def facts(view: EpisodeView) -> set[tuple[str, str, str]]:
    return {(f.person, f.attribute, f.value) for f in note_facts(view)}


def test_a_person_note_gives_its_fields_to_the_person() -> None:
    text = (
        "- Birthday: 9 September.\n- **Email**: ana.r@example.com\n"
        "- Phone: +351 912 345 678 (mobile)\n- Takes her coffee as a galão.\n"
        "Job: architect\n- Favourite colour: green"
    )
    got = facts(note(text, note_title="Ana Ribeiro", tags=["people", "friends"]))
    assert got == {
        ("Ana Ribeiro", "birthday", "9 September"),
        ("Ana Ribeiro", "email", "ana.r@example.com"),
        ("Ana Ribeiro", "phone", "+351 912 345 678"),
        ("Ana Ribeiro", "job_title", "architect"),
    }  # "Favourite colour" is no attribute; a sentence without a key gives nothing
    fact = note_facts(note("Birthday: 9 September", note_title="Ana", tags=["people"]))[0]
    assert fact.valid_from == "2023-05-20" and fact.evidence == 7


def test_a_note_tagged_me_describes_the_user() -> None:
    got = facts(note("- Email: rui@example.com", note_title="About me", tags=["me"]))
    assert got == {("self", "email", "rui@example.com")}


def test_untagged_notes_and_other_kinds_give_nothing() -> None:
    assert facts(note("Phone: +351 912 345 678", note_title="Meeting with the bank")) == set()
    assert facts(note("Phone: +351 912 345 678", kind="message", note_title="Ana",
                      tags=["people"])) == set()  # fmt: skip
    assert facts(note("Birthday: someday soon", note_title="Ana", tags=["people"])) == set()
