"""The persona schema: the attributes a person (the user or someone they know) can
have, and whether a person has one value at a time or several.

A "one" attribute is superseded: a newer value closes the older one's validity, so
"where did I live in 2022?" and "where do I live now?" both have answers. A "many"
attribute accumulates: a new allergy does not end an old one. The schema is data so
it can grow; the ollama engine's JSON schema is generated from it.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Attribute:
    name: str
    cardinality: str  # 'one' or 'many'
    description: str  # for people reading `me persona` and for the model's prompt


ATTRIBUTES: dict[str, Attribute] = {
    a.name: a
    for a in [
        Attribute("name", "one", "full name"),
        Attribute("nickname", "many", "a name they are also called"),
        Attribute("email", "one", "email address"),
        Attribute("phone", "one", "phone number"),
        Attribute("address", "one", "postal address"),
        Attribute("city", "one", "the city they live in"),
        Attribute("country", "one", "the country they live in"),
        Attribute("birthday", "one", "day and month of birth, with the year when known"),
        Attribute("employer", "one", "the organisation they work for"),
        Attribute("job_title", "one", "their role or occupation"),
        Attribute("school", "one", "the school or university they attend"),
        Attribute("relationship", "one", "how they relate to the user (sister, boss...)"),
        Attribute("partner", "one", "their spouse or partner"),
        Attribute("child", "many", "a child of theirs"),
        Attribute("pet", "many", "an animal they keep, with its name when known"),
        Attribute("vehicle", "many", "a car, bike or other vehicle they own"),
        Attribute("likes", "many", "something they like or love"),
        Attribute("dislikes", "many", "something they dislike or hate"),
        Attribute("allergy", "many", "something they are allergic to"),
        Attribute("diet", "one", "vegetarian, vegan, gluten-free and the like"),
        Attribute("language", "many", "a language they speak"),
        Attribute("hobby", "many", "a pastime they practise"),
        Attribute("nationality", "one", "the nationality they hold"),
        Attribute("hometown", "one", "the town or city they grew up in"),
        Attribute("important_date", "many", "an anniversary or other yearly date"),
    ]
}


def is_known(attribute: str) -> bool:
    return attribute in ATTRIBUTES


def is_single(attribute: str) -> bool:
    """True when a newer value replaces the older one (unknown attributes: one value)."""
    known = ATTRIBUTES.get(attribute)
    return known is None or known.cardinality == "one"


def person_key(person: str) -> str:
    """How people are matched: case and spacing do not make a different person."""
    return " ".join(person.split()).casefold()


LEADING_ARTICLE = ("the ", "a ", "an ", "my ")


def value_key(value: str) -> str:
    """How values are matched: case, spacing, a leading article ("the Navy" is "Navy")
    and a trailing full stop do not count."""
    key = " ".join(value.split()).casefold().rstrip(".")
    for article in LEADING_ARTICLE:
        if key.startswith(article) and len(key) > len(article):
            return key[len(article) :]
    return key
