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

import calendar
import re
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path

import sqlcipher3

from assistant import asking
from assistant.derived import persona
from assistant.derived.attributes import ATTRIBUTES, is_single
from assistant.question_time import Window, window_of
from assistant.reflection.engine import Answer, Evidence
from assistant.reflection.extract import split_sentences

ENGINE = "persona"
MAX_PEOPLE = 4  # a question about a group ("my parents") is answered person by person


# A value of another attribute named in the question dates what is asked: "my job title
# at Farol" is the title held while the employer was Farol.
_ANCHORS = {"employer": "at", "school": "at", "city": "in", "address": "at"}
# Values that change over a life: a question naming a period ("in 2022") asks for the
# one held then. A birthday or an allergy is the same whenever asked.
_CHANGING = frozenset({"address", "city", "country", "employer", "job_title", "school",
                       "relationship", "partner", "phone", "email"})  # fmt: skip
_HOUSEHOLD = frozenset({"address", "city", "pet"})  # what "we" share with whom we live
_WHEN = re.compile(r"^\s*(?:since\s+)?when\b", re.IGNORECASE)
LABELS = {"phone": "phone number", "job_title": "job title", "important_date": "important dates",
          "pet": "pets", "child": "children", "allergy": "allergies", "language": "languages",
          "hobby": "hobbies", "likes": "likes", "dislikes": "dislikes"}  # fmt: skip


@dataclass(frozen=True)
class Direct:
    """The persona's answer, and the evidence it cites (facts, then their memories)."""

    answer: Answer
    evidence: list[Evidence]


def answer(
    conn: sqlcipher3.Connection, question: str, now: datetime | None = None
) -> Direct | None:
    """The persona's answer to an attribute question (as of `now`, for ages), or None
    to leave it to the engine."""
    if asking.asks_for_more(question):
        return None
    aged = _age(conn, question, now)
    if aged is not None:
        return aged
    attribute = asking.asked_attribute(question)
    if attribute is None:
        return None
    person = asking.asked_person(conn, question)
    if person is None and attribute in _HOUSEHOLD and "self" in asking.asked_people(conn, question):
        person = "self"  # "what street do Tiago and I live on?": your home is theirs
    if person is not None:
        asked = [person]
    else:  # "where do my parents live?": each of them, in turn
        others = sorted(asking.asked_people(conn, question) - {"self"})
        asked = others if 2 <= len(others) <= MAX_PEOPLE else []
    parts = [part for who in asked if (part := _told(conn, question, who, attribute, now))]
    if not parts:
        return None
    lines = [line for part_lines, _ in parts for line in part_lines]
    evidence = [e for _, part_evidence in parts for e in part_evidence]
    citations = list(dict.fromkeys(e.ref for e in evidence))
    return Direct(Answer("\n".join(lines), citations, ENGINE), evidence)


def _told(
    conn: sqlcipher3.Connection, question: str, person: str, attribute: str, now: datetime | None
) -> tuple[list[str], list[Evidence]] | None:
    """One person's value of the attribute as the question asks it (now, then, before),
    as the answer's lines and their evidence; None when the persona has none."""
    slot = persona.facts(conn, person, attribute, include_closed=True)
    slot = [f for f in slot if f.status != "hidden"]
    current = [f for f in slot if f.current]
    anchor = _anchor(conn, person, attribute, question)
    window = window_of(question, now) if is_single(attribute) and attribute in _CHANGING else None
    earlier = asking.asks_earlier(question) and is_single(attribute)
    if anchor is not None:
        chosen = _during(slot, anchor.valid_from, anchor.valid_to)[-1:]
    elif window is not None:  # "where did I live in 2022?"
        after = (window.last + timedelta(days=1)).isoformat()
        chosen = _during(slot, window.first.isoformat(), after)[-1:]
    elif earlier:
        closed = sorted((f for f in slot if not f.current and f.valid_to),
                        key=lambda f: (f.valid_to or "", f.id))  # fmt: skip
        chosen = closed[-1:]
    else:
        chosen = current
    if not chosen:
        return None
    if anchor is not None:
        headline = _anchored_headline(person, attribute, chosen, anchor)
    elif window is not None:
        headline = _dated_headline(person, attribute, chosen, window)
    else:
        headline = _headline(question, person, attribute, chosen, earlier)
    facts = [_fact_evidence(f) for f in chosen]
    memories = _supporting(conn, chosen)
    lines = [headline, *(f'"{e.text}" ({_where(e)}) [{e.ref}]' for e in memories)]
    return lines, facts + memories


def _age(conn: sqlcipher3.Connection, question: str, now: datetime | None) -> Direct | None:
    asked = asking.asked_age(conn, question)
    if asked is None:
        return None
    fact, day = asked.fact, asked.born
    who = "You" if asked.person == "self" else asked.person
    if asked.turned is not None:
        age = asked.turned
        try:
            when = day.replace(year=day.year + age)
        except ValueError:  # born on 29 February
            when = date(day.year + age, 3, 1)
        text = f"{who} turned {age} on {when.day} {calendar.month_name[when.month]} {when.year}"
    elif asked.year is not None:
        text = f"{who} turned {asked.year - day.year} in {asked.year}"
    else:
        today = now.date() if now is not None else date.today()
        age = today.year - day.year - ((today.month, today.day) < (day.month, day.day))
        text = f"{who} {'are' if asked.person == 'self' else 'is'} {age}"
    headline = f"{text} (born {fact.value}) [f{fact.id}]"
    evidence = [_fact_evidence(fact), *_supporting(conn, [fact])]
    lines = [headline, *(f'"{e.text}" ({_where(e)}) [{e.ref}]' for e in evidence[1:])]
    return Direct(Answer("\n".join(lines), [e.ref for e in evidence], ENGINE), evidence)


def _anchor(
    conn: sqlcipher3.Connection, person: str, attribute: str, question: str
) -> persona.Fact | None:
    """A fact of another attribute whose value the question names ("at Farol")."""
    lowered = question.casefold()
    for other in _ANCHORS:
        if other == attribute:
            continue
        for fact in persona.facts(conn, person, other, include_closed=True):
            names = {fact.value}
            if other in persona.SHORTENED:  # "Farol" for "Farol Analytics"
                names.add(fact.value.split()[0])
            if fact.status != "hidden" and any(
                len(n) >= 3 and re.search(rf"(?<!\w){re.escape(n.casefold())}(?!\w)", lowered)
                for n in names
            ):
                return fact
    return None


def _during(slot: list[persona.Fact], start: str | None, end: str | None) -> list[persona.Fact]:
    """The facts of `slot` true at some time in [start, end), oldest first."""
    start, end = start or "", end or "9999"
    return sorted(
        (f for f in slot if (f.valid_from or "") < end and (f.valid_to or "9999") > start),
        key=lambda f: (f.valid_from or "", f.id),
    )


def _dated_headline(person: str, attribute: str, chosen: list[persona.Fact], window: Window) -> str:
    owner = "Your" if person == "self" else f"{person}'s"
    label = LABELS.get(attribute, attribute.replace("_", " "))
    fact = chosen[-1]
    span = " – ".join(d for d in (fact.valid_from, fact.valid_to) if d)
    return f"{owner} {label} {window.said} ({window}): {fact.value}, {span} [f{fact.id}]"


def _anchored_headline(
    person: str, attribute: str, chosen: list[persona.Fact], anchor: persona.Fact
) -> str:
    owner = "Your" if person == "self" else f"{person}'s"
    label = LABELS.get(attribute, attribute.replace("_", " "))
    span = " – ".join(d for d in (anchor.valid_from, anchor.valid_to) if d)
    values = ", ".join(f.value for f in chosen)
    refs = ", ".join(f"f{f.id}" for f in (*chosen, anchor))
    return (
        f"{owner} {label} {_ANCHORS[anchor.attribute]} {anchor.value} ({span}): {values} [{refs}]"
    )


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
        whose = "your" if person == "self" else owner  # a name keeps its case
        return f"Since {since}: {whose} {label} is {values} [{refs}]"
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
            if sentence is None:
                continue
            ref, sentence = f"e{episode_id}", sentence.strip()
            # One line may state several values ("Likes: surfing, Coltrane"): cited once.
            if not any(o.ref == ref and o.text == sentence for o in out):
                source = conversation or Path(document).name
                if title and not conversation:
                    source = f"{source} › {title}"
                out.append(Evidence(ref, time, source, sentence))
            break
    return out


def _where(item: Evidence) -> str:
    return ", ".join(part for part in (item.date[:10], item.source) if part)
