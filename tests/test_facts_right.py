"""Facts a person would trust: offers and plans are not facts, the events that make a
fact true supersede the old one, every attribute's "Key: value" line is read (in a few
languages), similar thoughts with different values never merge, and an attribute
question is answered from the persona."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from assistant.derived import links, thoughts
from assistant.derived.proposals import ThoughtCandidate
from assistant.memory import Memory
from assistant.reflection.engine import EpisodeView
from assistant.reflection.extract import extract_facts
from assistant.reflection.note_fields import note_facts
from assistant.service.backend import Resident
from assistant.service.requests import AskRequest
from tests.conftest import chat_folder, reflected_notes

WRITTEN = datetime(2024, 4, 10, 9, tzinfo=UTC)


def said(text: str) -> set[tuple[str, str, str]]:
    view = EpisodeView(id=1, time=WRITTEN, author="self", sender="Marta", text=text)
    return {(f.person, f.attribute, f.value) for f in extract_facts(view)}


@pytest.mark.parametrize(
    "text",
    [
        "Yesterday I got an offer from Maré Energy.",
        "I got a job offer from Maré Energy!",
        "I accepted the offer from Maré Energy, starting in May.",
        "We're thinking about moving to Berlin.",
        "I might move to Berlin next year.",
        "If I get the job at Google I'll move to London.",
        "I said yes. We're moving to Porto!",  # a plan with no day: not yet true
        "Vamos viver para a Figueira da Foz",  # Portuguese: "we are going to live in"
        "Se calhar mudamos para Braga.",  # "maybe we move to Braga"
        "Não moro em Lisboa.",
        "Se a casa nova for na Rua do Mar 45 mudamos.",  # "if the new house is on…"
        "A casa fica na praia.",  # a place, not a street with its number
        "I got the job offer! Acme Corp, designer.",
        "I got the job! Thanks, everyone.",
    ],
)
def test_offers_plans_and_hypotheticals_are_not_facts(text: str) -> None:
    assert not {f for f in said(text) if f[1] in ("employer", "city", "address")}


@pytest.mark.parametrize(
    ("text", "fact"),
    [
        ("First day at Maré Energy today!", ("self", "employer", "Maré Energy")),
        ("Today was my first day at Maré Energy.", ("self", "employer", "Maré Energy")),
        ("My first day at Maré Energy went well.", ("self", "employer", "Maré Energy")),
        ("Signed the lease for Rua das Flores 12, Porto.",
         ("self", "address", "Rua das Flores 12, Porto")),
        ("We moved to Porto on 29 March.", ("self", "city", "Porto")),
        ("We adopted a dog! His name is Feijão.", ("self", "pet", "Feijão (dog)")),
        # A new number with no "my": the only value it can be is the speaker's phone.
        ("New one is +351 965 300 418", ("self", "phone", "+351 965 300 418")),
        ("Heads up: new number: 912 345 678", ("self", "phone", "912 345 678")),
        # A job announced, its employer and role told a sentence later.
        ("Family news: I got the job in Amsterdam! Tulp Payments, backend engineer.",
         ("self", "employer", "Tulp Payments")),
        ("I got the job! Tulp Payments, backend engineer.",
         ("self", "job_title", "backend engineer")),
        ("New job: Lumen Labs, data engineer.", ("self", "employer", "Lumen Labs")),
        # Portuguese, as a family chat says it.
        ("Mudámo-nos para o Porto.", ("self", "city", "Porto")),
        ("Já vivemos na Figueira da Foz 🏡", ("self", "city", "Figueira da Foz")),
        ("Trabalho na Maré Energy desde março.", ("self", "employer", "Maré Energy")),
        ("A casa nova é na Rua do Mar 45, em Buarcos",
         ("self", "address", "Rua do Mar 45, Buarcos")),
        ("A minha morada é Rua das Flores 12, Porto.",
         ("self", "address", "Rua das Flores 12, Porto")),
    ],
)  # fmt: skip
def test_the_events_that_make_a_fact_true(text: str, fact: tuple[str, str, str]) -> None:
    assert fact in said(text)


@pytest.mark.parametrize(
    ("text", "word"),
    [("My mum Helena called today.", "mother"), ("Helena is my mom.", "mother"),
     ("My wife Ana says hi.", "wife"), ("Rita is my manager.", "manager")],
)  # fmt: skip
def test_a_relationship_word_is_stored_as_its_group_in_chat_as_in_notes(
    text: str, word: str
) -> None:
    assert {f[2] for f in said(text) if f[1] == "relationship"} == {word}


def test_a_fact_is_dated_by_the_text_when_it_says_when() -> None:
    view = EpisodeView(id=1, time=WRITTEN, author="self", sender="Marta",
                       text="We moved to Porto on 29 March.")  # fmt: skip
    [city] = [f for f in extract_facts(view) if f.attribute == "city"]
    assert city.valid_from == "2024-03-29"  # not the day it was written


def note(text: str, title: str, tags: list[str], **meta: Any) -> set[tuple[str, str, str]]:
    view = EpisodeView(id=3, time=WRITTEN, author="self", sender=None, text=text, kind="note",
                       meta={"note_title": title, "tags": tags, **meta})  # fmt: skip
    return {(f.person, f.attribute, f.value) for f in note_facts(view)}


@pytest.mark.parametrize(
    ("line", "attribute", "values"),
    [
        ("- Allergies: shellfish, peanuts", "allergy", {"shellfish", "peanuts"}),
        ("- Relationship: partner", "relationship", {"partner"}),
        ("- Relação: mãe", "relationship", {"mother"}),
        ("- Likes: hiking and old films", "likes", {"hiking", "old films"}),
        ("- Languages: Portuguese, English", "language", {"Portuguese", "English"}),
        ("- Idiomas: español / inglés", "language", set()),  # not languages it knows
        ("- Hobbies: climbing", "hobby", {"climbing"}),
        ("- Hometown: Viseu", "hometown", {"Viseu"}),
        ("- Telemóvel: +351 913 222 111", "phone", {"+351 913 222 111"}),
        ("- Morada: Rua do Sol 5, Viseu", "address", {"Rua do Sol 5, Viseu"}),
        ("- **Birthday**: 4 June", "birthday", {"4 June"}),
        ("- Nationality: Portuguese", "nationality", {"Portuguese"}),
        ("- Pets: Miso", "pet", {"Miso"}),
        ("Favourite colour: green", "likes", set()),  # no such key
        ("- Employer: retired (was at Harbour Bank)", "employer", set()),  # no employer now
    ],
)
def test_key_value_lines_for_every_attribute(line: str, attribute: str, values: set[str]) -> None:
    got = note(line, "Tiago Mendes", ["people"])
    assert {v for _, a, v in got if a == attribute} == values


def test_front_matter_aliases_are_nicknames() -> None:
    got = note("A note about him.", "Tiago Mendes", ["people"], aliases=["Tiago", "Ti"])
    assert got == {("Tiago Mendes", "nickname", "Tiago"), ("Tiago Mendes", "nickname", "Ti")}


# -- thoughts --------------------------------------------------------------------------


def put(memory: Memory, text: str, episode: int, when: str, many: bool = False) -> tuple[str, int]:
    vector = memory.embedder.encode([text])[0]
    with memory.db.write() as conn:
        cand = ThoughtCandidate(text, (episode,), subject="self", time=when, many=many)
        op, thought_id = thoughts.add(conn, cand, vector, thoughts.ThoughtIndex(conn),
                                      "builtin", 0.9)  # fmt: skip
        assert thought_id is not None
        return op, thought_id


@pytest.fixture
def episode(memory: Memory, tmp_path: Path) -> int:
    from assistant.ingest import ingest

    (tmp_path / "n.md").write_text("# N\n\nA line to rest thoughts on.\n")
    ingest(memory, [tmp_path])
    return int(memory.db.conn.execute("SELECT id FROM episodes").fetchone()[0])


def test_a_new_value_supersedes_a_similar_thought_instead_of_merging(
    memory: Memory, episode: int
) -> None:
    _, old = put(memory, "Your phone number is +351 912 345 678.", episode, "2023-01-10")
    op, new = put(memory, "Your phone number is +351 913 000 111.", episode, "2024-04-02")
    assert op == "supersede" and new != old
    conn = memory.db.conn
    assert thoughts.get(conn, old).status == "archived"
    assert thoughts.get(conn, new).status == "active"
    assert ("to", "thought", old, "supersedes") in links.links_of(conn, "thought", new)
    # The same value again is still a repeat, reinforced.
    again, same = put(memory, "Your phone number is +351 913 000 111", episode, "2024-05-01")
    assert (again, same) == ("merge", new)
    # An older value read late does not push the newer one out.
    late, older = put(memory, "Your phone number is +351 900 111 222.", episode, "2022-02-01")
    assert late == "supersede" and thoughts.get(conn, older).status == "archived"
    assert thoughts.get(conn, new).status == "active"


def test_a_second_value_of_a_many_valued_attribute_stays_beside_the_first(
    memory: Memory, episode: int
) -> None:
    _, first = put(memory, "You speak Portuguese.", episode, "2023-01-10", many=True)
    op, second = put(memory, "You speak English.", episode, "2024-01-10", many=True)
    assert op == "insert" and first != second
    assert {thoughts.get(memory.db.conn, t).status for t in (first, second)} == {"active"}


# -- asking --------------------------------------------------------------------------------

LIFE = {
    "About me.md": "---\ntags: [me]\ndate: 2023-01-15\n---\n# About me\n\n"
    "- Phone: +351 912 345 678\n- Email: marta@example.com\n- Birthday: 14 July 1993\n"
    "- Employer: Farol Analytics\n- Job title: Data analyst\n",
    "Me in 2024.md": "---\ntags: [me]\ndate: 2024-06-10\n---\n# Me in 2024\n\n"
    "- Employer: Maré Energy\n- Job title: Senior Data Scientist\n",
    "2024-04-02.md": "# 2024-04-02\n\nMy new number is +351 913 000 111. I live in Porto now.\n",
    "Helena Sousa.md": "---\ntags: [people, family]\naliases: [Mãe]\ndate: 2023-02-01\n---\n"
    "# Helena Sousa\n\n- Relationship: mother\n- Birthday: 12 May\n",
    "Tiago Mendes.md": "---\ntags: [people]\naliases: [Ti]\ndate: 2023-02-01\n---\n"
    "# Tiago Mendes\n\n- Allergies: shellfish\n- Birthday: 3 November 1991\n"
    "- Likes: surfing, FC Porto\n",
    "Miso.md": "---\ndate: 2023-05-20\n---\n# Miso\n\nWe adopted a dog called Miso in May 2023."
    " He is a small brown mix, from the Patas Felizes shelter in Gondomar.\n",
    "Work.md": "---\ndate: 2023-03-01\n---\n# Work\n\n"
    "My manager at Farol is Rita Lopes. She is great.\n",
}


@pytest.fixture
def life(memory: Memory, tmp_path: Path) -> Resident:
    return reflected_notes(memory, tmp_path / "life", LIFE)


def asked(service: Resident, question: str) -> str:
    return service.ask(AskRequest(question, remember=False)).answer.text.splitlines()[0]


def test_attribute_questions_are_answered_from_the_persona(life: Resident) -> None:
    phone = asked(life, "What is my current phone number?")
    assert "+351 913 000 111" in phone and "912" not in phone  # the current one only
    assert "12 May" in asked(life, "When is Mãe's birthday?")  # a relationship word
    assert "12 May" in asked(life, "When is my mother's birthday?")
    assert "shellfish" in asked(life, "What is Ti allergic to?")  # a nickname
    assert "Miso" in asked(life, "What is the name of our dog?")
    old = asked(life, "What was my phone number before?")
    assert "+351 912 345 678" in old
    manager = life.ask(AskRequest("Who is my manager at Farol?", remember=False)).answer
    assert manager.engine != "persona" and "Rita Lopes" in manager.text


@pytest.mark.parametrize(
    ("question", "first_line_holds"),
    [
        # Another attribute's value dates the one asked: the title held while at Farol.
        ("What was my job title at Farol Analytics?", "Data analyst"),
        ("What is my job title?", "Senior Data Scientist"),
        # A birthday with its year answers age questions.
        ("When did I turn 30?", "14 July 2023"),
        ("How old did Tiago turn in 2024?", "turned 33 in 2024"),
        # "Tiago and I": where we live is where you live.
        ("Which city do Tiago and I live in?", "Porto"),
        # A team one supports is one of one's likes.
        ("Which football club does Tiago support?", "FC Porto"),
        ("What does Ti like?", "surfing"),
    ],
)
def test_the_persona_answers_what_its_facts_imply(
    life: Resident, question: str, first_line_holds: str
) -> None:
    answer = life.ask(AskRequest(question, remember=False)).answer
    assert answer.engine == "persona"
    assert first_line_holds in answer.text.splitlines()[0], answer.text


def test_a_line_stating_several_values_is_cited_once(life: Resident) -> None:
    answer = life.ask(AskRequest("What does Tiago like?", remember=False)).answer
    assert answer.text.count("Likes: surfing, FC Porto") == 1, answer.text


def test_a_question_asking_for_another_noun_is_left_to_the_memories(life: Resident) -> None:
    # "Which shelter" asks for a shelter, not the pet the persona holds.
    answer = life.ask(AskRequest("Which shelter did we adopt the dog from?", remember=False))
    assert answer.answer.engine != "persona"
    assert "Patas Felizes" in answer.answer.text.splitlines()[0], answer.answer.text


def test_ask_keeps_only_a_clean_statement_and_asking_again_is_no_worse(life: Resident) -> None:
    first = life.ask(AskRequest("Who is my manager at Farol?"))
    assert first.thought is not None
    assert "[e" not in first.thought.text and ".md" not in first.thought.text
    assert first.thought.text == "My manager at Farol is Rita Lopes."
    second = life.ask(AskRequest("Who is my manager at Farol?"))
    assert "Rita Lopes" in second.answer.text.splitlines()[0]
    persona_answer = life.ask(AskRequest("What is my phone number?"))
    assert persona_answer.thought is None  # the persona holds it already


def test_a_correction_can_say_since_when(life: Resident) -> None:
    from datetime import date

    before = life.facts("self", "phone")
    fact = life.set_fact("self", "phone", "+351 914 555 666", since=date(2024, 6, 1))
    assert fact.valid_from == "2024-06-01" and fact.origin == "user"
    closed = [f for f in life.facts("self", "phone", include_closed=True) if f.id == before[0].id]
    assert closed[0].valid_to == "2024-06-01" and closed[0].superseded_by == fact.id


def test_an_organisation_called_by_its_first_word_is_the_same_value(life: Resident) -> None:
    from assistant.derived.persona import same_value

    assert same_value("employer", "maré", "maré energy")
    assert not same_value("employer", "maré", "farol analytics")
    assert not same_value("city", "porto", "porto alegre")  # places are not shortened


def test_an_ai_assistants_first_person_is_nobody() -> None:
    view = EpisodeView(id=1, time=WRITTEN, author="other", sender="ChatGPT",
                       text="In Portuguese: I have a severe peanut allergy.",
                       meta={"ai_assistant": True})  # fmt: skip
    assert extract_facts(view) == []


def test_a_statement_that_only_repeats_the_question_is_not_kept() -> None:
    from assistant.ask import _adds_to

    assert not _adds_to("Who is my manager at the new job?", "My manager at the new job.")
    assert _adds_to("Who is my manager at Farol?", "My manager at Farol is Rita Lopes.")


TIES = {
    "About me.md": "---\ntags: [me]\ndate: 2023-01-15\n---\n# About me\n\n"
    "- Employer: Farol Analytics\n",
    "Pedro Nunes.md": "---\ntags: [people]\ndate: 2023-01-20\n---\n# Pedro Nunes\n\n"
    "- Relationship: manager\n- Employer: Farol Analytics\n",
    "Rui Costa.md": "---\ntags: [people]\ndate: 2023-01-20\n---\n# Rui Costa\n\n"
    "- Relationship: friend\n- Employer: Farol Analytics\n",
    "Ana Lima.md": "---\ntags: [people]\ndate: 2023-01-20\n---\n# Ana Lima\n\n"
    "- Relationship: manager\n- Employer: Padaria Lima\n",  # the weekend job
    "2024-04-02.md": "# 2024-04-02\n\nFirst day at Maré Energy today!\n",
}


def test_a_new_employer_ends_the_work_ties_of_the_old_one(memory: Memory, tmp_path: Path) -> None:
    service = reflected_notes(memory, tmp_path / "ties", TIES)

    def relationship(person: str) -> list[tuple[str, str | None]]:
        return [(f.value, f.valid_to) for f in service.facts(person, "relationship", True)]

    assert relationship("Pedro Nunes") == [("manager", "2024-04-02")]  # ended with Farol
    assert relationship("Rui Costa") == [("friend", None)]  # a friendship is no work tie
    assert relationship("Ana Lima") == [("manager", None)]  # not at the old employer
    # Undoing the change that made Maré the employer gives Pedro back his role.
    [employer] = service.facts("self", "employer")
    [created] = [r for r in service.history(f"f{employer.id}") if r.op == "supersede"]
    service.undo(created.id)
    assert relationship("Pedro Nunes") == [("manager", None)]


FAMILY = [  # (time, sender, text): a move planned in one message and done in another
    ("2024-08-25T20:00:00+00:00", "Mãe", "Temos novidades: vamos viver para a Figueira da Foz!"),
    ("2024-09-01T10:00:00+00:00", "Mãe", "We're in Figueira for the weekend, to see the house."),
    ("2024-09-10T10:00:00+00:00", "Tia Rosa", "Já estamos na Figueira!"),  # no plan of hers
    ("2024-09-21T17:30:00+00:00", "Mãe", "Já estamos na Figueira 🏡🌊 Obrigada pela ajuda"),
]


def test_a_planned_move_is_a_fact_once_the_arrival_is_told(memory: Memory, tmp_path: Path) -> None:
    service = Resident(memory)
    service.ingest([chat_folder(tmp_path / "family", "Família", FAMILY)])
    service.reflect("builtin")
    cities = {(f.person, f.value, f.valid_from) for f in service.facts() if f.attribute == "city"}
    # The plan alone was no fact; the arrival makes it one, in the plan's fuller words,
    # from the arrival's day. A weekend there before it, and someone else's arrival that
    # no plan of theirs explains, give nothing.
    assert cities == {("Mãe", "Figueira da Foz", "2024-09-21")}


@pytest.mark.parametrize(
    ("text", "town"),
    [
        ("- Address: Rua dos Anjos 41, 3.º Esq., 1150-039 Lisboa", "Lisboa"),
        ("- Address: Denkbeeldstraat 12-2, 1000 AB Amsterdam", "Amsterdam"),
        ("- Address: Oranienstraße 5, 10999 Berlin", "Berlin"),
        ("- Address: Rua do Mar 45, Buarcos", None),  # no postal code: a district, maybe
        ("- Address: Rua X 1, 3080-123 Figueira da Foz\n- City: Buarcos", "Buarcos"),
    ],
)  # fmt: skip
def test_an_address_with_a_postal_code_gives_its_town(text: str, town: str | None) -> None:
    from assistant.reflection.builtin import BuiltinEngine

    note = f"# About me\n\n{text}\n"
    view = EpisodeView(id=3, time=WRITTEN, author="self", sender=None, kind="note",
                       text=note, title="About me", meta={"tags": ["me"]})  # fmt: skip
    found = BuiltinEngine().reflect([view]).facts
    assert [f.value for f in found if f.attribute == "city"] == ([town] if town else [])
