"""Facts from "Key: value" lines in notes about people, as Obsidian users keep them:

    ---
    title: Ana Ribeiro
    tags: [people]
    ---
    - Birthday: 9 September.
    - Email: ana@example.com

Sentences need a subject ("Ana's birthday is..."); these lines take theirs from the note:
the note's title when it is tagged as a person (people, person, friends, family,
contacts), the user when it is tagged `me`. Untagged notes give nothing, since a
"Phone:" line in a meeting note says nothing about whose phone it is.
"""

from __future__ import annotations

import re

from assistant.derived.attributes import is_single
from assistant.derived.people import relationship_word
from assistant.derived.proposals import FactCandidate
from assistant.reflection.engine import EpisodeView
from assistant.reflection.patterns import EMAIL as EMAIL_PATTERN
from assistant.reflection.patterns import PHONE as PHONE_PATTERN
from assistant.reflection.values import (
    address_value,
    day_month,
    diet_value,
    language_value,
    trim,
)

PERSON_TAGS = frozenset({"people", "person", "friend", "friends", "family", "contact", "contacts"})
SELF_TAGS = frozenset({"me", "myself", "self"})
# A note titled like this is about its writer, tagged or not.
SELF_TITLES = frozenset({"about me", "me", "myself", "sobre mim", "über mich", "sobre mí",
                         "à propos de moi", "mijn gegevens", "my details"})  # fmt: skip
CONFIDENCE = 0.85  # a structured field: explicit, but written once, maybe long ago

# Field names (lower case) -> attribute, for every attribute of the schema, in English,
# Portuguese, Spanish, French and German where people commonly write them.
KEYS: dict[str, str] = {
    key: attribute
    for attribute, keys in {
        "name": "name|full name|nome|nome completo|nombre|nom|vorname",
        "nickname": "nickname|nicknames|alias|aliases|also known as|aka|alcunha|apelido|"
                    "apodo|surnom|spitzname",
        "email": "email|e-mail|mail|email address|correio|correo|courriel",
        "phone": "phone|mobile|cell|tel|telephone|phone number|mobile number|telemóvel|"
                 "telemovel|telefone|teléfono|telefono|móvil|movil|handy|portable|téléphone",
        "address": "address|home address|morada|endereço|endereco|dirección|direccion|"
                   "adresse|anschrift",
        "city": "city|lives in|location|cidade|ciudad|ville|stadt|wohnort",
        "country": "country|país|pais|pays|land",
        "birthday": "birthday|born|date of birth|dob|birth date|aniversário|aniversario|"
                    "data de nascimento|cumpleaños|fecha de nacimiento|anniversaire|"
                    "date de naissance|geburtstag|geburtsdatum",
        "employer": "employer|company|works at|works for|work|empresa|entreprise|firma|"
                    "arbeitgeber|emprego|trabajo",
        "job_title": "job|role|occupation|job title|title|position|profession|profissão|"
                     "profissao|cargo|profesión|profesion|métier|beruf",
        "school": "school|university|college|uni|escola|universidade|universidad|école|"
                  "ecole|schule|universität",
        "relationship": "relationship|relation|relação|relacao|parentesco|relación|relacion|"
                        "lien|beziehung",
        "partner": "partner|wife|husband|spouse|namorado|namorada|marido|esposa|pareja|"
                   "partenaire|ehepartner",
        "child": "child|children|kids|son|daughter|sons|daughters|filhos|filho|filha|hijos|"
                 "hijo|hija|enfants|kinder",
        "pet": "pet|pets|dog|cat|animal|animais|cão|cao|gato|perro|mascota|chien|haustier",
        "vehicle": "car|vehicle|bike|carro|coche|voiture|auto|fahrzeug",
        "likes": "likes|like|loves|favourites|favorites|favourite|favorite|gosta de|gostos|"
                 "le gusta|aime|mag",
        "dislikes": "dislikes|hates|não gosta|nao gosta|odeia|no le gusta|déteste|mag nicht",
        "allergy": "allergy|allergies|allergic to|alergia|alergias|alérgica a|alérgico a|"
                   "allergie|allergien",
        "diet": "diet|dieta|régime|regime|ernährung",
        "language": "language|languages|speaks|línguas|linguas|idiomas|idioma|langues|"
                    "sprachen",
        "hobby": "hobby|hobbies|interests|passatempos|pasatiempos|loisirs",
        "nationality": "nationality|citizenship|nacionalidade|nacionalidad|nationalité|"
                       "staatsangehörigkeit",
        "hometown": "hometown|home town|grew up in|from|terra natal|naturalidade|"
                    "ciudad natal|ville natale|heimatstadt",
        "important_date": "anniversary|wedding anniversary|aniversário de casamento",
    }.items()
    for key in keys.split("|")
}  # fmt: skip
LINE = re.compile(
    r"^\s*(?:[-*+]\s+)?\**(?P<key>[^\W\d_](?:[^\W\d_]|[ '-]){0,24}?)\**\s*:\s*(?P<value>\S.*)$"
)
_NO_JOB = re.compile(
    r"^(?:retired|unemployed|none|n/?a|-+|between jobs|reformad[oa]|desempregad[oa])\b",
    re.IGNORECASE,
)
# Items of a many-valued field: "shellfish, peanuts and kiwi", "PT / EN".
_ITEMS = re.compile(r"\s*(?:[,;/]|\s(?:and|e|y|et|und)\s)\s*", re.IGNORECASE)
EMAIL = re.compile(EMAIL_PATTERN)  # the sentence rules' own patterns
PHONE = re.compile(PHONE_PATTERN)


def note_subject(episode: EpisodeView) -> str | None:
    """Whom a note's fields describe: 'self', the note's title, or None."""
    tags = {str(t).casefold().lstrip("#") for t in episode.meta.get("tags", [])}
    title = episode.meta.get("note_title")
    if tags & SELF_TAGS or (isinstance(title, str) and " ".join(title.casefold().split())
                            in SELF_TITLES):  # fmt: skip
        return "self"
    if tags & PERSON_TAGS and isinstance(title, str) and title.strip():
        return title.strip()
    return None


def _values(attribute: str, raw: str) -> list[str]:
    """The field's value(s) in display form; a many-valued field may hold several."""
    raw = trim(re.split(r"\s+[(–—]|;\s", raw)[0])
    if attribute == "birthday":
        return [v] if (v := day_month(raw)) else []
    if attribute == "email":
        return [m.group() for m in EMAIL.finditer(raw)][:1]
    if attribute == "phone":
        found = PHONE.search(raw)
        return [" ".join(found.group().split())] if found else []
    if attribute == "address":
        return [v] if (v := address_value(raw)) else []
    if attribute == "diet":
        return [v] if (v := diet_value(raw)) else []
    if attribute == "relationship":
        return [relationship_word(raw)]
    if attribute in ("employer", "job_title") and _NO_JOB.match(raw):
        return []  # "Employer: retired (was at the bank)" names no employer now
    items = [raw] if is_single(attribute) else [i for i in _ITEMS.split(raw) if i]
    out = []
    for item in items:
        item = trim(item)
        if attribute == "language":
            item = language_value(item) or ""
        if item and len(item.split()) <= 6:  # a field, not a paragraph
            out.append(item)
    return out


def note_facts(episode: EpisodeView) -> list[FactCandidate]:
    """Facts from the note's "Key: value" lines and its front matter's aliases (each a
    nickname), dated by the note."""
    person = note_subject(episode)
    if person is None or episode.kind != "note":
        return []
    day = episode.time.date().isoformat()

    def fact(attribute: str, value: str, statement: str) -> FactCandidate:
        return FactCandidate(
            person=person, attribute=attribute, value=value, valid_from=day,
            evidence=episode.id, confidence=CONFIDENCE, statement=statement,
        )  # fmt: skip

    out = []
    for line in episode.text.splitlines():
        m = LINE.match(line)
        if m is None:
            continue
        attribute = KEYS.get(" ".join(m.group("key").casefold().split()))
        if attribute is None:
            continue
        out += [fact(attribute, v, line.strip()) for v in _values(attribute, m.group("value"))]
    aliases = episode.meta.get("aliases") or []
    for alias in aliases if isinstance(aliases, list) else []:
        if isinstance(alias, str) and alias.strip() and alias.strip() != person:
            out.append(fact("nickname", " ".join(alias.split()), f"aliases: {alias}"))
    return out
