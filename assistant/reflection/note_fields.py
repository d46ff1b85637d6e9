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

from assistant.derived.proposals import FactCandidate
from assistant.reflection.engine import EpisodeView
from assistant.reflection.patterns import EMAIL as EMAIL_PATTERN
from assistant.reflection.patterns import PHONE as PHONE_PATTERN
from assistant.reflection.values import address_value, day_month, diet_value, trim

PERSON_TAGS = frozenset({"people", "person", "friend", "friends", "family", "contact", "contacts"})
SELF_TAGS = frozenset({"me", "myself", "self"})
CONFIDENCE = 0.85  # a structured field: explicit, but written once, maybe long ago

# Field names (lower case) -> attribute.
KEYS: dict[str, str] = {
    "birthday": "birthday", "born": "birthday", "date of birth": "birthday", "dob": "birthday",
    "email": "email", "e-mail": "email", "mail": "email",
    "phone": "phone", "mobile": "phone", "cell": "phone", "tel": "phone", "telephone": "phone",
    "address": "address", "home address": "address",
    "city": "city", "lives in": "city", "location": "city",
    "employer": "employer", "company": "employer", "works at": "employer",
    "job": "job_title", "role": "job_title", "occupation": "job_title",
    "job title": "job_title",
    "partner": "partner", "wife": "partner", "husband": "partner", "spouse": "partner",
    "diet": "diet", "nickname": "nickname",
}  # fmt: skip
LINE = re.compile(
    r"^\s*(?:[-*+]\s+)?\**(?P<key>[A-Za-z][A-Za-z -]{1,20}?)\**\s*:\s*(?P<value>\S.*)$"
)
EMAIL = re.compile(EMAIL_PATTERN)  # the sentence rules' own patterns
PHONE = re.compile(PHONE_PATTERN)


def note_subject(episode: EpisodeView) -> str | None:
    """Whom a note's fields describe: 'self', the note's title, or None."""
    tags = {str(t).casefold().lstrip("#") for t in episode.meta.get("tags", [])}
    title = episode.meta.get("note_title")
    if tags & SELF_TAGS:
        return "self"
    if tags & PERSON_TAGS and isinstance(title, str) and title.strip():
        return title.strip()
    return None


def _value(attribute: str, raw: str) -> str | None:
    raw = trim(re.split(r"\s+[(–—]|;", raw)[0])
    if attribute == "birthday":
        return day_month(raw)
    if attribute == "email":
        found = EMAIL.search(raw)
        return found.group() if found else None
    if attribute == "phone":
        found = PHONE.search(raw)
        return " ".join(found.group().split()) if found else None
    if attribute == "address":
        return address_value(raw)
    if attribute == "diet":
        return diet_value(raw)
    words = raw.split()
    return raw if 0 < len(words) <= 6 else None  # a field, not a paragraph


def note_facts(episode: EpisodeView) -> list[FactCandidate]:
    """Facts from the note's "Key: value" lines, dated by the note."""
    person = note_subject(episode)
    if person is None or episode.kind != "note":
        return []
    out = []
    for line in episode.text.splitlines():
        m = LINE.match(line)
        if m is None:
            continue
        attribute = KEYS.get(" ".join(m.group("key").casefold().split()))
        if attribute is None:
            continue
        value = _value(attribute, m.group("value"))
        if value:
            out.append(
                FactCandidate(
                    person=person,
                    attribute=attribute,
                    value=value,
                    valid_from=episode.time.date().isoformat(),
                    evidence=episode.id,
                    confidence=CONFIDENCE,
                    statement=line.strip(),
                )
            )
    return out
