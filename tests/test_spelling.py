"""Typo-tolerant keyword search (assistant/spelling.py)."""

from __future__ import annotations

from pathlib import Path

import pytest

from assistant import spelling
from assistant.ingest import ingest
from assistant.memory import Memory
from assistant.recall import recall
from tests.conftest import chat_folder

CHAT = [
    ("2024-03-01T09:00:00+00:00", "Ana", "The keys for Cedofeita are under the mat."),
    ("2024-03-02T09:00:00+00:00", "Ana", "Fresh bread from the bakery this morning."),
    ("2024-03-03T09:00:00+00:00", "Ana", "The festival starts on Friday."),
    ("2024-03-04T09:00:00+00:00", "Ana", "Deborah says hello."),
]


@pytest.fixture
def chat(memory: Memory, tmp_path: Path) -> Memory:
    ingest(memory, [chat_folder(tmp_path / "chat", "Ana", CHAT)])
    return memory


@pytest.mark.parametrize(
    ("words", "found"),
    [
        (["cedofieta"], ["cedofeita"]),  # a swap of neighbours
        (["fesetival"], ["festiv"]),  # one letter too many, compared as stems
        (["deboran"], ["deborah"]),  # one letter wrong
        (["keys", "cedofeita"], []),  # words the memories hold
        (["breed"], []),  # a dictionary word the memories lack is no typo of "bread"
        (["zzyzx"], []),  # nothing near
        (["abc"], []),  # too short to guess
        (["deboran", "Deboran"], ["deborah"]),  # once per stem
    ],
)
def test_a_word_no_memory_holds_is_searched_as_its_nearest(
    chat: Memory, words: list[str], found: list[str]
) -> None:
    assert spelling.corrections(chat.db.conn, words) == found


def test_without_the_dictionary_nothing_is_guessed(
    chat: Memory, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(spelling, "dictionary", lambda: frozenset())
    assert spelling.corrections(chat.db.conn, ["cedofieta"]) == []


def test_a_mistyped_name_is_found_by_keyword_search(chat: Memory) -> None:
    hit = recall(chat, "Cedofieta", k=1)[0]
    assert "Cedofeita" in hit.text and hit.keyword_rank is not None


def test_edit_distance_stops_at_its_bound() -> None:
    assert spelling.edits("kitten", "sitting", 5) == 3
    assert spelling.edits("kitten", "sitting", 1) == 2  # bound + 1: more than 1
    assert spelling.edits("abcd", "abdc", 1) == 1  # a swap is one edit
    assert spelling.edits("same", "same", 0) == 0
    assert spelling.stems(["Festivals", "--", "café"]) == ["festiv", "cafe"]
