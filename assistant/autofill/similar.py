"""The last and loosest guess at what a form field asks for: its label's embedding
similarity to short descriptions of each field type, tried only where the rules of
`classify.py` had nothing to say (`classify.UNDECIDED`).

A type is taken only when the label is near enough to one of its descriptions
(`THRESHOLD`) and clearly nearer than to any other type's (`MARGIN`): a wrong fill is
worse than an empty field. Both were chosen on the labelled forms alone
(`bench/autofill_fields.py --sweep`), whose undecided fields all ask for nothing we
hold; the fresh forms are held out.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

import numpy as np

from assistant.autofill.fields import FIELD_TYPES
from assistant.config import PACKAGED_MODEL

log = logging.getLogger(__name__)

# Chosen on the labelled forms (`bench/autofill_fields.py --sweep`). Their 52 undecided
# fields with a text all ask for nothing we hold, so no bound gains recall there: the
# bounds are set for precision. The nearest of those fields is "Familienstand" (marital
# status) to "Familienname" at 0.709 ("Número de tarjeta sanitaria (CIP)", a health
# card, is at 0.739 but the card rules' exclusions veto it; see `classify.excluded`).
# The similarity alone, the rules set aside, is most precise on the labelled fields
# from 0.90 (0.987, recall 0.591; 0.977 at 0.80), where its only errors are an
# emergency contact's "Full name" and "Phone number": words a description repeats, whose
# owner only the rules see. The margin keeps types that share words apart: at 0.80 it
# drops "First and middle names" as a full name and a health card's number as a bank
# card's; at 0.90 it costs "First names" (given name, 0.032 over "first and last name").
THRESHOLD = 0.90
MARGIN = 0.10

# A few ways each type is asked for, in the rule table's five languages (en, pt, de, es,
# fr). What a label is compared with, so: words a form would print, not explanations.
DESCRIPTIONS: dict[str, tuple[str, ...]] = {
    "name": ("full name", "your name", "first and last name", "nome completo",
             "vollständiger Name", "nombre completo", "nom complet"),
    "given_name": ("first name", "given name", "forename", "primeiro nome", "nome próprio",
                   "Vorname", "nombre de pila", "prénom"),
    "family_name": ("last name", "surname", "family name", "apelido", "sobrenome",
                    "Nachname", "Familienname", "apellidos", "nom de famille"),
    "birthday": ("date of birth", "birthday", "birth date", "data de nascimento",
                 "Geburtsdatum", "fecha de nacimiento", "date de naissance"),
    "nationality": ("nationality", "citizenship", "nacionalidade", "Staatsangehörigkeit",
                    "nacionalidad", "nationalité"),
    "email": ("email address", "e-mail", "endereço de e-mail", "E-Mail-Adresse",
              "correo electrónico", "adresse e-mail", "courriel"),
    "phone": ("phone number", "mobile number", "telephone", "número de telefone",
              "telemóvel", "Telefonnummer", "Handynummer", "número de teléfono",
              "numéro de téléphone"),
    "address": ("street address", "home address", "morada", "endereço", "Anschrift",
                "Straße und Hausnummer", "dirección", "domicilio", "adresse postale"),
    "postal_code": ("postal code", "zip code", "postcode", "código postal",
                    "Postleitzahl", "code postal"),
    "city": ("city", "town", "cidade", "localidade", "Stadt", "Wohnort", "ciudad",
             "población", "ville"),
    "country": ("country", "país", "Land", "pays"),
    "employer": ("employer", "company name", "empresa", "entidade patronal", "Arbeitgeber",
                 "Firma", "empleador", "employeur", "entreprise"),
    "job_title": ("job title", "occupation", "profession", "profissão", "cargo", "Beruf",
                  "puesto de trabajo", "ocupación", "métier"),
    "card_number": ("credit card number", "card number", "número do cartão",
                    "Kreditkartennummer", "número de tarjeta", "numéro de carte"),
    "card_name": ("name on card", "cardholder name", "titular do cartão", "Karteninhaber",
                  "titular de la tarjeta", "titulaire de la carte"),
    "card_expiry": ("card expiry date", "expiration date", "validade do cartão",
                    "Ablaufdatum", "fecha de caducidad", "date d'expiration"),
    "card_cvc": ("security code", "CVC", "CVV", "código de segurança", "Prüfnummer",
                 "código de seguridad", "cryptogramme visuel"),
    "iban": ("IBAN", "international bank account number", "IBAN da conta", "IBAN des Kontos",
             "IBAN de la cuenta", "IBAN du compte"),
    "passport_number": ("passport number", "número do passaporte", "Reisepassnummer",
                        "número de pasaporte", "numéro de passeport"),
    "id_number": ("identity card number", "national ID number", "número do cartão de cidadão",
                  "Personalausweisnummer", "número de DNI", "numéro de carte d'identité"),
    "tax_id": ("tax identification number", "taxpayer number", "número de contribuinte",
               "Steuer-ID", "Steuernummer", "número de identificación fiscal",
               "numéro fiscal"),
    "allergy": ("allergies", "food allergies", "alergias", "Allergien", "allergies"),
    "username": ("username", "user name", "login", "nome de utilizador", "Benutzername",
                 "nombre de usuario", "nom d'utilisateur", "identifiant"),
    "password": ("password", "palavra-passe", "senha", "Passwort", "Kennwort", "contraseña",
                 "mot de passe"),
}  # fmt: skip


class Encoder(Protocol):
    """Turns texts into L2-normalised vectors, in order: `Memory.embedder`."""

    name: str  # the model: `THRESHOLD` and `MARGIN` hold for the packaged one only

    def encode(self, texts: Sequence[str]) -> np.ndarray: ...

    def __hash__(self) -> int: ...  # the descriptions' vectors are cached per encoder


@dataclass(frozen=True)
class Nearest:
    """The type a text is most similar to, by its nearest description."""

    type: str
    phrase: str  # that description
    score: float  # cosine similarity to it
    margin: float  # over the nearest description of any other type

    def decided(self, threshold: float = THRESHOLD, margin: float = MARGIN) -> bool:
        return self.score > threshold and self.margin > margin

    @property
    def why(self) -> str:
        return f"similar to {self.phrase!r} ({self.type}, {self.score:.2f})"


def _phrases() -> tuple[tuple[str, str], ...]:
    return tuple((kind, phrase) for kind in FIELD_TYPES for phrase in DESCRIPTIONS[kind])


@functools.lru_cache(maxsize=4)
def _described(encoder: Encoder) -> np.ndarray:
    """The descriptions' vectors, encoded once per encoder: a memory keeps one embedder
    for its life, and the model under it is loaded once per process."""
    return encoder.encode([phrase for _, phrase in _phrases()])


def nearest(encoder: Encoder, texts: Sequence[str]) -> list[Nearest]:
    """For each text, its nearest type (vectors are unit length: a dot product is the
    cosine)."""
    if not texts:
        return []
    phrases = _phrases()
    kinds = np.array([kind for kind, _ in phrases])
    scores = encoder.encode(list(texts)) @ _described(encoder).T
    found = []
    for row in scores:
        best = int(row.argmax())
        other = row[kinds != kinds[best]].max()
        found.append(Nearest(str(kinds[best]), phrases[best][1], float(row[best]),
                             float(row[best] - other)))  # fmt: skip
    return found


def guess(encoder: Encoder, texts: Sequence[str]) -> list[Nearest | None]:
    """For each text, its nearest type if near and clear enough, else None. Nothing from
    a model other than the packaged one: its similarities are on another scale, and the
    bounds were not chosen for it."""
    if encoder.name != PACKAGED_MODEL:
        log.info("no field typed by similarity: %r is not the packaged model", encoder.name)
        return [None] * len(texts)
    return [near if near.decided() else None for near in nearest(encoder, texts)]
