"""What a form field asks for: its `autocomplete` token when it has a valid one, else
its words (label, name, id, placeholder) against a rule table in several languages,
else its input type; nothing when unsure, since a wrong fill is worse than an empty
field.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

from assistant.autofill.fields import FormField


@dataclass(frozen=True)
class Classified:
    type: str | None  # a key of `fields.FIELD_TYPES`, or None
    rule: str  # why: "autocomplete: email", "label 'E-mail' (email)", "none"


# -- autocomplete (WHATWG): [section-*] [shipping|billing] [home|work|mobile|fax|pager]
# field-name [webauthn]. Contact modifiers go only before the contact field names.
_AUTOCOMPLETE = {
    "name": "name", "given-name": "given_name", "family-name": "family_name",
    "email": "email", "tel": "phone", "tel-national": "phone", "tel-local": "phone",
    "street-address": "address", "address-line1": "address",
    "address-level2": "city", "postal-code": "postal_code",
    "country": "country", "country-name": "country", "bday": "birthday",
    "organization": "employer", "organization-title": "job_title",
    "cc-name": "card_name", "cc-number": "card_number", "cc-exp": "card_expiry",
    "cc-exp-month": "card_expiry", "cc-exp-year": "card_expiry", "cc-csc": "card_cvc",
    "username": "username", "current-password": "password", "new-password": "password",
}  # fmt: skip
# Valid field names that autofill gives nothing for (a region, a title, a one-time code).
_KNOWN_NONE = frozenset(
    str.split(
        "honorific-prefix additional-name honorific-suffix nickname address-line2 "
        "address-line3 address-level1 address-level3 address-level4 cc-given-name "
        "cc-additional-name cc-family-name cc-type transaction-currency transaction-amount "
        "language bday-day bday-month bday-year sex url photo one-time-code tel-country-code "
        "tel-area-code tel-local-prefix tel-local-suffix tel-extension impp"
    )
)
_CONTACT = frozenset({"tel", "tel-national", "tel-local", "email"})


def from_autocomplete(value: str) -> tuple[str | None, bool]:
    """(field type, whether the token was valid) of an `autocomplete` attribute."""
    tokens = value.casefold().split()
    if tokens and tokens[-1] == "webauthn":
        tokens = tokens[:-1]
    if tokens and tokens[0].startswith("section-"):
        tokens = tokens[1:]
    if tokens and tokens[0] in ("shipping", "billing"):
        tokens = tokens[1:]
    contact = bool(tokens) and tokens[0] in ("home", "work", "mobile", "fax", "pager")
    if contact:
        tokens = tokens[1:]
    if len(tokens) != 1:
        return None, False
    name = tokens[0]
    if contact and name not in _CONTACT:
        return None, False
    if name in _AUTOCOMPLETE:
        return _AUTOCOMPLETE[name], True
    return None, name in _KNOWN_NONE


# -- words: (type, pattern, not-pattern), most specific first. Patterns match the
# field's words lower-cased, accents removed, camelCase and snake_case split.
_RULES: list[tuple[str | None, str, str | None]] = [
    (None, r"captcha|coupon|promo|voucher|discount|gift ?card|referral|search|newsletter"
           r"|agree|consent|terms|subscribe|comment|message|remember|verification|otp|"
           r"one time|confirm(ation)? code|codigo de verificacao|reference|booking ref", None),
    ("card_cvc", r"\b(cvc|cvv|cvn|csc|security code|codigo de seguranca|prufnummer|"
                 r"cryptogramme)\b", None),
    ("card_expiry", r"\b(expir|exp date|valid(ity)? (thru|until)|validade|gultig bis|"
                    r"ablaufdatum|date d.?expiration|vencimiento|caducidad)", r"passport|id card"),
    ("card_name", r"(name on (the )?card|card ?holder|cardholder|titular do cartao|"
                  r"karteninhaber|titulaire de la carte|titular de la tarjeta)", None),
    ("card_number", r"(card ?(number|no|num)|\bcc ?(number|num|no)\b|credit card|debit card|"
                    r"numero do cartao|kartennummer|numero de (la )?carte|numero de tarjeta|"
                    r"\bpan\b)", r"id card|identity|citizen|cidadao|gift|loyalty|membership"),
    ("iban", r"\b(iban|bank account|account number|numero de conta|kontonummer|nib)\b",
     None),
    ("passport_number", r"passport|passaporte|reisepass|passeport|pasaporte", r"country|issu"),
    ("tax_id", r"\b(nif|nipc|tax ?(id|number|no)|vat|steuer ?(id|nummer)|"
               r"steueridentifikationsnummer|numero fiscal|contribuinte|tin|ssn|"
               r"social security|nie|cif|numero fiscal de referencia)\b", None),
    ("id_number", r"(id card|identity (card|number|document)|national id|citizen card|"
                  r"cartao de cidadao|\bcc number\b|numero de identificacao|\bbi\b|"
                  r"personalausweis|ausweisnummer|carte d.?identite|\bdni\b|documento de "
                  r"identidad)", None),
    ("password", r"pass ?word|passwd|\bpwd\b|palavra.?passe|senha|kennwort|passwort|"
                 r"mot de passe|contrasena", r"forgot|reset"),
    ("username", r"user ?name|\buser ?id\b|login ?(name|id)?$|benutzername|nome de utilizador|"
                 r"identifiant|usuario", None),
    ("email", r"e.?mail|correo|courriel|\bmail\b", r"(company|work|business) e.?mail"),
    ("phone", r"phone|\btel\b|telephone|telefon|telemovel|mobile|\bcell\b|handy|"
              r"portable|movil|celular|contact number", r"code|country|prefix|extension|\bext\b"),
    ("birthday", r"(birth ?(date|day)|date of birth|\bdob\b|\bbday\b|birthday|"
                 r"data de nascimento|geburtsdatum|geburtstag|date de naissance|"
                 r"fecha de nacimiento|nascimento)", r"place|local|ort|lieu|lugar|country"),
    ("nationality", r"nationalit|nacionalidad|nacionalidade|staatsangehorigkeit|"
                    r"citizenship", None),
    ("postal_code", r"(post(al)? ?code|\bzip\b|zip ?code|postcode|codigo postal|\bplz\b|"
                    r"postleitzahl|code postal|\bcp\b)", None),
    ("city", r"\b(city|town|cidade|localidade|\bstadt\b|\bort\b|ville|ciudad|"
             r"poblacion|municipio)\b", r"birth|nascimento|geburt|naissance"),
    ("country", r"\b(country|pais|land|pays)\b", r"code|birth|nascimento|geburt|issu"),
    ("address", r"(street|address|morada|endereco|rua|strasse|anschrift|adresse|direccion|"
                r"domicilio|address ?line ?1)", r"e.?mail|\bip\b|web|url|line ?2|line ?3|"
                r"billing same|company"),
    ("employer", r"(company|employer|organi[sz]ation|empresa|entidade patronal|arbeitgeber|"
                 r"firma|employeur|societe|entreprise)", r"e.?mail|phone|size|vat|tax"),
    ("job_title", r"(job ?title|position|occupation|profession|cargo|funcao|profissao|"
                  r"beruf|stellung|poste|metier|puesto|ocupacion)", None),
    ("allergy", r"allerg|alergi", None),
    ("family_name", r"(last ?name|sur ?name|family ?name|apelido|nachname|\bnom\b(?! de)|"
                    r"apellido|\blname\b)", None),
    ("given_name", r"(first ?name|given ?name|fore ?name|primeiro nome|vorname|prenom|"
                   r"\bfname\b|nombre de pila)", None),
    ("name", r"(full ?name|\bname\b|\bnome\b|\bnom\b|\bnombre\b|your name|nome completo|"
             r"vollstandiger name)", r"user|company|file|pet|card|account|display|nick|"
                                     r"contact person|business"),
]  # fmt: skip
_COMPILED = [(t, re.compile(p), re.compile(n) if n else None) for t, p, n in _RULES]
_BY_TYPE = {"email": "email", "tel": "phone", "password": "password"}


def words_of(text: str) -> str:
    """A field's text as the rules read it: camelCase and snake_case split, accents
    removed, lower-cased, single-spaced ("txtFirstName" -> "txt first name")."""
    text = re.sub(r"(?<=[a-z])(?=[A-Z])", " ", text)
    text = re.sub(r"[_\-.$\[\]:()/*#]+", " ", text)
    plain = unicodedata.normalize("NFKD", text)
    plain = "".join(c for c in plain if not unicodedata.combining(c))
    return " ".join(plain.casefold().split())


def from_words(text: str) -> str | None | bool:
    """The type the rules give `text`: a type, None for "a field we never fill", or
    False when no rule matches."""
    words = words_of(text)
    if not words:
        return False
    for kind, pattern, unless in _COMPILED:
        if pattern.search(words) and not (unless and unless.search(words)):
            return kind
    return False


def classify(field: FormField) -> Classified:
    """What `field` asks for; see the module docstring for the order."""
    if field.autocomplete.strip():
        kind, valid = from_autocomplete(field.autocomplete)
        if valid:
            return Classified(kind, f"autocomplete: {field.autocomplete.strip()}")
    for source, text in (("label", field.label), ("name", field.name), ("id", field.id),
                         ("placeholder", field.placeholder)):  # fmt: skip
        found = from_words(text)
        if found is not False:
            kind = found if isinstance(found, str) else None
            return Classified(kind, f"{source} {text!r}" + (f" ({kind})" if kind else ""))
    kind = _BY_TYPE.get(field.type)
    if kind is not None:
        return Classified(kind, f"type={field.type}")
    return Classified(None, "none")
