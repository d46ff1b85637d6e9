"""The other forms of a question's words that the stemmed keyword index cannot join."""

from __future__ import annotations

import pytest

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
