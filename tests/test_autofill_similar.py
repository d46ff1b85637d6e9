"""The similarity fallback of field classification, with the real model: only a field
no rule decided is typed by it, and only when its label is near one type's
descriptions and clearly nearer than to any other's."""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pytest

from assistant.autofill.classify import UNDECIDED, classify, classify_form
from assistant.autofill.fields import FIELD_TYPES, FormField
from assistant.autofill.similar import DESCRIPTIONS, Encoder, guess, nearest
from assistant.config import PACKAGED_MODEL, EmbeddingSettings
from assistant.embedder import Embedder
from assistant.memory import Memory
from assistant.service.backend import Resident
from assistant.service.requests import AutofillRequest


@pytest.fixture(scope="module")
def embedder(onnx_cache: Path) -> Embedder:
    """The packaged model as `Memory.embedder` gives it, one for the module (the model
    under it is loaded once per process, from the run's shared ONNX export)."""
    return Embedder(EmbeddingSettings(), onnx_cache)


def test_every_type_is_described() -> None:
    assert set(DESCRIPTIONS) == set(FIELD_TYPES)
    assert all(len(phrases) >= 4 for phrases in DESCRIPTIONS.values())


@pytest.mark.parametrize(
    ("label", "expected"),
    [
        ("Ihre Handynummer", "phone"),  # the rules know "Handy" alone, not compounded
        ("Sobrenome(s)", "family_name"),  # Brazilian Portuguese, which no rule has
    ],
)
def test_a_label_the_rules_miss_is_typed_by_similarity(
    embedder: Embedder, label: str, expected: str
) -> None:
    field = FormField("f1", label=label)
    assert classify(field).rule == UNDECIDED
    [found] = classify_form([field], similar=embedder)
    assert found.type == expected
    assert found.rule.startswith(f"label: {label!r} similar to ")
    assert f"({expected}, 0." in found.rule  # the type and the similarity, said


@pytest.mark.parametrize(
    "field",
    [
        FormField("f1", label="qwertyuiop"),
        FormField("f2", label="Favourite colour"),
        FormField("f3", placeholder="Lorem ipsum dolor"),
        # Near a type's words but not asking for it: left alone.
        FormField("f4", label="Familienstand"),  # marital status, not a family name
        FormField("f5", label="Kennung"),  # a login id, near "Kennwort"
        FormField("f6", label="Bankleitzahl"),  # a bank code, near "Postleitzahl"
    ],
)
def test_an_unclear_label_stays_undecided(embedder: Embedder, field: FormField) -> None:
    assert classify(field).rule == UNDECIDED
    [found] = classify_form([field], similar=embedder)
    assert (found.type, found.rule) == (None, UNDECIDED)


def test_a_field_decided_by_the_rules_is_never_changed(embedder: Embedder) -> None:
    fields = [
        # Rules that said "never fill", on labels the model finds identical to a type's.
        FormField("emergency_contact_name", label="Full name"),
        FormField("emergency_phone", label="Phone number", type="tel"),
        FormField("a", label="Promo code"),
        # A type by the rules, and one by a valid token, whatever the label says.
        FormField("b", label="Adresse électronique"),
        FormField("c", label="Sobrenome", autocomplete="email"),
        # No text a person reads: nothing to compare.
        FormField("field_12"),
    ]
    alone = [classify(field) for field in fields]
    assert alone[0].rule != UNDECIDED and alone[0].type is None
    assert nearest(embedder, ["Full name"])[0].score > 0.99
    assert classify_form(fields, similar=embedder) == alone


def test_a_bare_name_beside_a_part_found_by_similarity(embedder: Embedder) -> None:
    # Brazilian "Nome, Sobrenome": the bare name is the given one.
    fields = [FormField("n", label="Nome"), FormField("s", label="Sobrenome")]
    assert [c.type for c in classify_form(fields)] == ["name", None]
    assert [c.type for c in classify_form(fields, similar=embedder)] == [
        "given_name",
        "family_name",
    ]


class Lookalike:
    """A stand-in for the packaged model that finds each text in `same` identical to
    the description it names, and every other text unlike anything."""

    name = PACKAGED_MODEL

    def __init__(self, same: dict[str, str]) -> None:
        self.same = same
        self.index: dict[str, int] = {}

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        vectors = np.zeros((len(texts), 512), dtype=np.float32)
        for row, text in enumerate(texts):
            vectors[row, self.index.setdefault(self.same.get(text, text), len(self.index))] = 1
        return vectors


def test_the_rules_exclusions_veto_a_guess() -> None:
    # As near to "número de tarjeta" as can be, but a health card is no bank card.
    health, bank = "Nº tarjeta sanitaria", "Nº tarjeta"
    encoder = Lookalike({health: "número de tarjeta", bank: "número de tarjeta"})
    fields = [FormField("f1", label=health), FormField("f2", label=bank)]
    assert all(classify(f).rule == UNDECIDED for f in fields)
    assert [n and n.type for n in guess(encoder, [health, bank])] == ["card_number"] * 2
    found = classify_form(fields, similar=encoder)
    assert [c.type for c in found] == [None, "card_number"]
    assert found[1].rule == "label: 'Nº tarjeta' similar to 'número de tarjeta' (card_number, 1.00)"


class OtherModel:
    """Another model's encoder: vectors the bounds were not chosen for."""

    name = "sentence-transformers/some-other-model"

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        raise AssertionError("another model is never asked")


def test_another_model_types_nothing() -> None:
    other: Encoder = OtherModel()
    assert guess(other, ["Ihre Handynummer"]) == [None]
    [found] = classify_form([FormField("f1", label="Ihre Handynummer")], similar=other)
    assert found.rule == UNDECIDED


def test_autofill_gives_a_field_typed_by_similarity(memory: Memory, tmp_path: Path) -> None:
    service = Resident(memory)
    service.set_fact("self", "phone", "+351 936 710 225")
    service.grant("script", ("contact",))
    form = tmp_path / "fields.json"
    form.write_text(json.dumps([{"name": "f1", "label": "Ihre Handynummer"},
                                {"name": "x", "label": "qwertyuiop"}]))  # fmt: skip
    fields = {f.field: f for f in service.autofill(AutofillRequest(form, "script")).fields}
    assert fields["f1"].released and fields["f1"].value == "+351 936 710 225"
    assert "similar to 'Handynummer'" in fields["f1"].rule
    assert not fields["x"].released and fields["x"].attribute is None
