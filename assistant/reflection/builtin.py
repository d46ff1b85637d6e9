"""The builtin engine: rules and no model, the default. Facts come from the pattern
extractor, from "Key: value" fields in notes about people, and from what a signed mail
says about its sender (their address; their role, under their name in the sign-off).
Each fact is also kept as a dated thought in plain words, so a question finds "Ana's
birthday is 3 May." even when the message that said it was chatty."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import replace
from datetime import datetime

from assistant.derived.attributes import is_single
from assistant.derived.proposals import FactCandidate, ThoughtCandidate
from assistant.reflection.answer import extractive_answer
from assistant.reflection.engine import Answer, EpisodeView, Evidence, ModelCall, Reflection
from assistant.reflection.extract import extract_facts, render_fact
from assistant.reflection.note_fields import note_facts
from assistant.reflection.sender import sender_facts

# "Tiago Mendes is also called Tiago." says nothing a question about Tiago wants, yet it
# shares his name with every such question: the persona and `me people` keep nicknames.
NO_THOUGHT = frozenset({"nickname"})


class BuiltinEngine:
    name = "builtin"
    writes_answers = False

    def take_calls(self) -> list[ModelCall]:
        return []  # it calls no model

    def reflect(self, episodes: Sequence[EpisodeView]) -> Reflection:
        out = Reflection()
        for episode in episodes:
            found = extract_facts(episode)
            seen = {(f.person, f.attribute, f.value) for f in found}
            for fact in [*note_facts(episode), *sender_facts(episode)]:
                if (fact.person, fact.attribute, fact.value) not in seen:
                    seen.add((fact.person, fact.attribute, fact.value))
                    found.append(fact)
            found += _cities_of_addresses(found)
            for fact in found:
                out.facts.append(fact)
                if fact.attribute in NO_THOUGHT:
                    continue
                out.thoughts.append(
                    ThoughtCandidate(
                        text=render_fact(fact),
                        derived_from=(episode.id,),
                        subject=fact.person,
                        time=fact.valid_from,
                        many=not is_single(fact.attribute),
                    )
                )
        return out

    def answer(
        self, question: str, evidence: Sequence[Evidence], now: datetime | None = None
    ) -> Answer:
        return extractive_answer(question, evidence, now=now)


# "Rua dos Anjos 41, 1150-039 Lisboa", "Denkbeeldstraat 12-2, 1000 AB Amsterdam",
# "Oranienstraße 5, 10999 Berlin": an address that ends in a postal code and a town says
# the town too.
_POSTAL_TOWN = re.compile(
    r",\s*(?:\d{4}-\d{3}|\d{4}\s?[A-Z]{2}|\d{5}|\d{4})\s+(?P<town>[^\W\d_][^\W\d_'’ -]*"
    r"(?:[ -][^\W\d_][^\W\d_'’-]*){0,2})\s*$"
)


def _cities_of_addresses(found: list[FactCandidate]) -> list[FactCandidate]:
    """The town of each address fact, for a person the episode gives no town."""
    has_city = {f.person for f in found if f.attribute == "city"}
    out = []
    for fact in found:
        m = _POSTAL_TOWN.search(fact.value) if fact.attribute == "address" else None
        if m is None or fact.person in has_city:
            continue
        has_city.add(fact.person)
        out.append(replace(fact, attribute="city", value=m.group("town"), confidence=0.8))
    return out
