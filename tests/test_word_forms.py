"""The other forms of a question's words that the stemmed keyword index cannot join."""

from __future__ import annotations

from pathlib import Path

import pytest

from assistant.ingest import ingest
from assistant.memory import Memory
from assistant.recall import recall
from assistant.word_forms import also_searched, canonical, other_forms, rephrased


@pytest.mark.parametrize(
    ("terms", "expected", "absent"),
    [
        (["give"], {"gave", "given"}, set()),
        (["swam"], {"swim", "swum"}, set()),
        (["told"], {"tell"}, set()),
        (["30th"], {"30", "thirty", "thirtieth"}, set()),
        (["thirty"], {"30", "30th", "thirtieth"}, set()),
        (["twenty-first"], {"21st", "21", "twenty-one"}, set()),
        # Bare digits count days and things too: "2 April" must not search "second".
        (["2", "april"], set(), {"second", "two"}),
        (["33"], set(), {"thirty-three"}),
        (["first", "day"], set(), {"one", "1"}),
        # A word already asked is not repeated, and plain words bring nothing.
        (["give", "gave"], {"given"}, {"gave", "give"}),
        (["flat", "porto"], set(), {"flat", "porto"}),
    ],
)
def test_other_forms(terms: list[str], expected: set[str], absent: set[str]) -> None:
    found = other_forms(terms)
    assert expected <= set(found)
    assert not absent & set(found)
    assert len(found) == len(set(found))


@pytest.mark.parametrize(
    ("word", "form"),
    [
        ("gave", "give"),
        ("given", "give"),
        ("give", "give"),
        ("swum", "swim"),
        ("thirty", "30"),
        ("30th", "30"),
        ("thirtieth", "30"),
        ("porto", "porto"),
        ("2nd", "2nd"),
        ("first", "first"),
    ],  # fmt: skip
)
def test_canonical_joins_what_other_forms_joins(word: str, form: str) -> None:
    assert canonical(word) == form


def test_also_searched_adds_what_phrases_mean_and_synonyms() -> None:
    assert rephrased("The job I turned down.") == "The job I decline."
    added = also_searched("Which job did I turn down?")
    assert {"decline", "declined", "rejected"} <= set(added)
    assert {"salary", "income"} <= set(also_searched("How much did I earn at Farol?"))
    assert also_searched("Lunch at Prado") == []


@pytest.mark.parametrize(
    ("question", "found"),
    [
        ("How much rent do we pay?", {"renda", "alquiler", "loyer", "miete", "lease"}),
        ("Which estate agency rented us the flat?", {"imobiliária", "inmobiliaria", "makler"}),
        ("Who is the landlord?", {"senhorio", "casero", "vermieter"}),
        ("How long is the lease?", {"duração", "arrendamento", "mietvertrag"}),
        ("What salary did they offer me?", {"salário", "salaire", "gehalt", "income"}),
        ("When do I fly to see my brother?", {"flight", "flew", "voo", "vuelo", "flug"}),
        ("What street do we live on?", {"rua", "calle", "straße"}),
    ],
)
def test_paperwork_words_are_searched_in_the_other_languages(
    question: str, found: set[str]
) -> None:
    assert found <= set(also_searched(question))


def test_words_with_other_meanings_are_not_translated() -> None:
    assert "seguro" not in also_searched("Which insurance do I have?")  # also "sure"
    assert canonical("renda") == "rent" and canonical("salário") == "salary"


def test_a_question_in_english_finds_a_lease_in_portuguese(memory: Memory, tmp_path: Path) -> None:
    notes = tmp_path / "docs"
    notes.mkdir()
    (notes / "contrato.md").write_text(
        "# Contrato de arrendamento\n\nSenhorio: Álvaro Pires. Renda mensal: 1.050 €. "
        "Duração: 3 anos, renovável.\n"
    )
    (notes / "groceries.md").write_text("# Groceries\n\nBread and milk on Saturdays.\n")
    ingest(memory, [notes])
    for question in ("How much rent do we pay?", "Who is our landlord?"):
        [lease] = [h for h in recall(memory, question, k=2) if "Renda mensal" in h.text]
        assert lease.keyword_rank == 1, question  # found by its words, not only by chance
