"""What a form asks for: its fields as read from HTML, PDF or a JSON list, and the kinds
of value a field can ask for, each in one release category."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class FormField:
    """One field of a form, as its reader found it."""

    name: str  # its `name` (its `id` when it has none; a PDF field's full name)
    label: str = ""  # the text a person reads for it: <label>, aria-label, a PDF tooltip
    autocomplete: str = ""  # the raw `autocomplete` attribute, as written
    type: str = "text"  # text, email, tel, date, number, password, select, textarea,
    #                     checkbox, radio, hidden...
    id: str = ""
    placeholder: str = ""
    options: tuple[str, ...] = ()  # a select's options (their visible texts)
    hidden: bool = False  # type=hidden, or hidden by CSS, the `hidden` attribute or no size


# What a field can ask for -> its release category (`policies.release.CATEGORIES`).
# Parts of a stored value (a given name, a postal code) are derived from it when filled.
FIELD_TYPES: dict[str, str] = {
    "name": "identity",
    "given_name": "identity",
    "family_name": "identity",
    "birthday": "identity",
    "nationality": "identity",
    "email": "contact",
    "phone": "contact",
    "address": "address",  # the whole address, or its street line
    "postal_code": "address",
    "city": "address",
    "country": "address",
    "employer": "work",
    "job_title": "work",
    "card_number": "financial",
    "card_name": "financial",
    "card_expiry": "financial",
    "card_cvc": "financial",
    "iban": "financial",
    "passport_number": "government_id",
    "id_number": "government_id",
    "tax_id": "government_id",
    "allergy": "health",
    "username": "credentials",
    "password": "credentials",
}
