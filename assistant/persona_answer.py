"""Questions the persona answers directly: "what is my phone number?", "when is Mãe's
birthday?", "what is Tiago allergic to?".

Someone asking for one attribute of one person wants the value the memory holds now,
since when, and why; not the sentences that happen to share the question's words (a
relative's move for "when did I move?", a stale number from an old chat). So `ask`
reads the question for a person and an attribute first, and when the persona holds a
value, the answer is that fact, followed by the memories it rests on. (An engine with a
model writes its own answer, from the same facts given first among its evidence.)

A question that asks for something narrower than an attribute ("who is my manager at
the new job?", "what salary did they offer me?") is left to the engine, and so is any
question the persona has no value for.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import sqlcipher3

from assistant.derived import asking, persona
from assistant.derived.attributes import ATTRIBUTES, is_single
from assistant.reflection.engine import Answer, Evidence
from assistant.reflection.extract import split_sentences

ENGINE = "persona"


# Narrower than any attribute: left to the engine.
_NARROWER = re.compile(
    r"\b(?:manager|boss|colleague|team|salary|pay|offer(?:ed)?|interview|flight|hotel|"
    r"meeting|appointment|booking|reservation|ticket|vet|doctor|dentist|wedding|trip|"
    r"party|gift|present|first\s+day|name\s+of\s+the|password|pin|code)\b",
    re.IGNORECASE,
)
_EARLIER = re.compile(r"\b(?:old|previous|former|before|used\s+to|earlier|prior)\b", re.IGNORECASE)
_WHEN = re.compile(r"^\s*(?:since\s+)?when\b", re.IGNORECASE)
LABELS = {"phone": "phone number", "job_title": "job title", "important_date": "important dates",
          "pet": "pets", "child": "children", "allergy": "allergies", "language": "languages",
          "hobby": "hobbies", "likes": "likes", "dislikes": "dislikes"}  # fmt: skip


@dataclass(frozen=True)
class Direct:
    """The persona's answer, and the evidence it cites (facts, then their memories)."""

    answer: Answer
    evidence: list[Evidence]


def answer(conn: sqlcipher3.Connection, question: str) -> Direct | None:
    """The persona's answer to an attribute question, or None to leave it to the engine."""
    if _NARROWER.search(question):
        return None
    attribute = asking.asked_attribute(question)
    if attribute is None:
        return None
    person = asking.asked_person(conn, question)
    if person is None:
        return None
    slot = persona.facts(conn, person, attribute, include_closed=True)
    slot = [f for f in slot if f.status != "hidden"]
    current = [f for f in slot if f.current]
    if _EARLIER.search(question) and is_single(attribute):
        closed = sorted((f for f in slot if not f.current and f.valid_to),
                        key=lambda f: (f.valid_to or "", f.id))  # fmt: skip
        chosen, earlier = closed[-1:], True
    else:
        chosen, earlier = current, False
    if not chosen:
        return None
    lines = [_headline(question, person, attribute, chosen, earlier)]
    facts = [_fact_evidence(f) for f in chosen]
    memories = _supporting(conn, chosen)
    lines += [f'"{e.text}" ({_where(e)}) [{e.ref}]' for e in memories]
    citations = [e.ref for e in facts + memories]
    return Direct(Answer("\n".join(lines), citations, ENGINE), facts + memories)


def _headline(
    question: str, person: str, attribute: str, chosen: list[persona.Fact], earlier: bool
) -> str:
    owner = "Your" if person == "self" else f"{person}'s"
    label = LABELS.get(attribute, attribute.replace("_", " "))
    values = ", ".join(f.value for f in chosen)
    refs = ", ".join(f"f{f.id}" for f in chosen)
    if earlier:
        old = chosen[0]
        span = " – ".join(d for d in (old.valid_from, old.valid_to) if d)
        return f"{owner} {label} before was {values} ({span}) [{refs}]"
    if len(chosen) > 1 and is_single(attribute):
        return (f"{owner} {label}: {values}, which disagree; settle it with "
                f"`me persona set` [{refs}]")  # fmt: skip
    since = chosen[0].valid_from if len(chosen) == 1 else None
    if _WHEN.search(question) and since and attribute != "birthday":
        return f"Since {since}: {owner.lower()} {label} is {values} [{refs}]"
    tail = f" (since {since})" if since and attribute not in ("birthday",) else ""
    return f"{owner} {label}: {values}{tail} [{refs}]"


def _fact_evidence(fact: persona.Fact) -> Evidence:
    who = "your" if fact.person == "self" else f"{fact.person}'s"
    about = ATTRIBUTES[fact.attribute].description if fact.attribute in ATTRIBUTES else ""
    text = f"{who} {fact.attribute.replace('_', ' ')} ({about}): {fact.value}"
    return Evidence(f"f{fact.id}", fact.valid_from or "", "persona", text)


def _supporting(conn: sqlcipher3.Connection, chosen: list[persona.Fact]) -> list[Evidence]:
    """For each fact, the sentence of its latest memory that states the value."""
    out: list[Evidence] = []
    for fact in chosen:
        if not fact.evidence:
            continue
        marks = ",".join("?" * len(fact.evidence))
        rows = conn.execute(
            "SELECT e.id, e.time, e.text, e.conversation, e.title, d.ref FROM episodes e "
            "JOIN documents d ON d.id = e.document_id "
            f"WHERE e.id IN ({marks}) AND e.quarantine IS NULL ORDER BY e.time_unix DESC",
            list(fact.evidence),
        ).fetchall()
        wanted = fact.value.split(" (")[0].casefold()
        for episode_id, time, text, conversation, title, document in rows:
            sentence = next((s for s in split_sentences(text) if wanted in s.casefold()), None)
            if sentence is not None:
                source = conversation or Path(document).name
                if title and not conversation:
                    source = f"{source} › {title}"
                out.append(Evidence(f"e{episode_id}", time, source, sentence.strip()))
                break
    return out


def _where(item: Evidence) -> str:
    return ", ".join(part for part in (item.date[:10], item.source) if part)
