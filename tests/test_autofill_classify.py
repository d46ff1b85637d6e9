"""Field classification: the autocomplete grammar first, then the field's words in
several languages with the patterns that must not match, then its input type."""

from __future__ import annotations

import pytest

from assistant.autofill.classify import classify, from_autocomplete
from assistant.autofill.fields import FIELD_TYPES, FormField


@pytest.mark.parametrize(
    ("token", "expected", "valid"),
    [
        ("email", "email", True),
        ("section-billing shipping street-address", "address", True),
        ("billing postal-code", "postal_code", True),
        ("shipping work tel", "phone", True),  # contact modifiers fit contact fields…
        ("work given-name", None, False),  # …only
        ("mobile email", "email", True),
        ("cc-number", "card_number", True),
        ("CC-EXP", "card_expiry", True),
        ("bday", "birthday", True),
        ("new-password", "password", True),
        ("username webauthn", "username", True),
        ("address-level1", None, True),  # a region: valid, nothing to give
        ("on", None, False),
        ("off", None, False),
        ("given-name family-name", None, False),
        ("", None, False),
    ],
)
def test_autocomplete_grammar(token: str, expected: str | None, valid: bool) -> None:
    assert from_autocomplete(token) == (expected, valid)


@pytest.mark.parametrize(
    ("field", "expected"),
    [
        # A valid token wins over the words; an invalid one falls through to them.
        (FormField("x", label="Phone", autocomplete="email"), "email"),
        (FormField("x", label="Phone", autocomplete="on"), "phone"),
        # Labels in five languages.
        (FormField("a", label="E-mail address"), "email"),
        (FormField("a", label="Endereço de e-mail"), "email"),
        (FormField("a", label="Telemóvel"), "phone"),
        (FormField("a", label="Código postal"), "postal_code"),
        (FormField("a", label="Postleitzahl"), "postal_code"),
        (FormField("a", label="Geburtsdatum"), "birthday"),
        (FormField("a", label="Date de naissance"), "birthday"),
        (FormField("a", label="Fecha de nacimiento"), "birthday"),
        (FormField("a", label="Nachname"), "family_name"),
        (FormField("a", label="Prénom"), "given_name"),
        (FormField("a", label="Apelido"), "family_name"),
        (FormField("a", label="Nome completo"), "name"),
        (FormField("a", label="Morada"), "address"),
        (FormField("a", label="Localidade"), "city"),
        (FormField("a", label="Nacionalidade"), "nationality"),
        (FormField("a", label="NIF"), "tax_id"),
        (FormField("a", label="Número do Cartão de Cidadão"), "id_number"),
        (FormField("a", label="Personalausweis"), "id_number"),
        (FormField("a", label="IBAN"), "iban"),
        (FormField("a", label="Numéro de passeport"), "passport_number"),
        (FormField("a", label="Palavra-passe"), "password"),
        (FormField("a", label="Alergias"), "allergy"),
        # Names, ids and placeholders when there is no label.
        (FormField("txtFirstName"), "given_name"),
        (FormField("billing_address_1"), "address"),
        (FormField("ctl00$main$email"), "email"),
        (FormField("x", placeholder="you@example.com e-mail"), "email"),
        # What must not match: the negative patterns and the priority order.
        (FormField("a", label="Username"), "username"),
        (FormField("a", label="Name on card"), "card_name"),
        (FormField("a", label="Card holder name"), "card_name"),
        (FormField("a", label="Company name"), "employer"),
        (FormField("a", label="Pet name"), None),
        (FormField("a", label="Card number"), "card_number"),
        (FormField("a", label="Country code"), None),
        (FormField("a", label="Promo code"), None),
        (FormField("a", label="Verification code"), None),
        (FormField("a", label="Place of birth"), None),
        (FormField("a", label="Company e-mail"), None),
        (FormField("a", label="Address line 2"), None),
        (FormField("a", label="Passport issuing country"), None),
        (FormField("a", label="Security code (CVC)"), "card_cvc"),
        (FormField("a", label="Expiry date"), "card_expiry"),
        # The input type when the words say nothing.
        (FormField("f1", type="email"), "email"),
        (FormField("f2", type="tel"), "phone"),
        (FormField("f3", type="password"), "password"),
        (FormField("f4"), None),
        (FormField("f5", label="Favourite colour"), None),
    ],
)
def test_field_words_in_several_languages(field: FormField, expected: str | None) -> None:
    found = classify(field)
    assert found.type == expected, found.rule
    assert found.rule
    assert expected is None or expected in FIELD_TYPES
