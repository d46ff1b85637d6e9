"""People: one person however they appear (full name, first name, nickname, alias, handle,
relationship word), merged after reflection, listed by `me people`, merged and split by
the user as undoable changes."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from assistant.derived import people
from assistant.errors import MemoryRefError
from assistant.memory import Memory
from assistant.service.backend import Resident
from assistant.service.requests import AskRequest
from tests.conftest import PASSPHRASE, chat_folder, run_me

CHAT = [  # a chat with the partner, before any note about him
    ("2023-02-01T09:00:00+00:00", "Tiago", "My new number is +351 913 222 111."),
    ("2023-02-03T09:00:00+00:00", "Tiago", "I'm allergic to shellfish, remember."),
    ("2023-02-05T09:00:00+00:00", "Me", "Inês is my sister."),
    ("2023-02-06T09:00:00+00:00", "Me", "Ana's birthday is 3 May."),
    ("2023-02-07T09:00:00+00:00", "Me", "Ana Costa moved to Braga."),
    ("2023-02-08T09:00:00+00:00", "Me", "Ana Ribeiro moved to Faro."),
    ("2023-02-09T09:00:00+00:00", "Tiago", "Home"),
    ("2023-02-09T09:01:00+00:00", "Tiago", "AGAIN?"),
    ("2023-02-09T09:02:00+00:00", "Tiago", "ok"),
]
NOTES = {
    "Tiago Mendes.md": "---\ntags: [people]\naliases: [Ti]\ndate: 2024-01-10\n---\n"
    "# Tiago Mendes\n\n- Relationship: partner\n- Phone: +351 916 000 222\n"
    "- Email: tiago.mendes@example.com\n",
    "Inês Carvalho.md": "---\ntags: [people, family]\ndate: 2024-01-10\n---\n"
    "# Inês Carvalho\n\n- Hometown: Viseu\n",
    "Helena Sousa.md": "---\ntags: [people, family]\ndate: 2024-01-10\n---\n"
    "# Helena Sousa\n\n- Relationship: mãe\n- Birthday: 12 May\n",
}


def write_chat(folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    lines = [
        json.dumps({"time": t, "sender": s, "text": x, "conversation": "Tiago", "id": i})
        for i, (t, s, x) in enumerate(CHAT)
    ]
    path = folder / "tiago.jsonl"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


@pytest.fixture
def life(memory: Memory, tmp_path: Path) -> Resident:
    from assistant.identity import add_identity

    add_identity(memory.db, "name", "Me")
    notes = tmp_path / "notes"
    notes.mkdir()
    for name, text in NOTES.items():
        (notes / name).write_text(text, encoding="utf-8")
    service = Resident(memory)
    service.ingest([write_chat(tmp_path / "chat"), notes])
    service.reflect("builtin")
    return service


def test_a_first_name_learned_before_the_note_joins_the_full_name(life: Resident) -> None:
    listed = {p.name: p for p in life.people()}
    assert "Tiago" not in listed and "Inês" not in listed
    tiago = listed["Tiago Mendes"]
    assert tiago.relationship == "partner" and {"Ti", "Tiago"} <= set(tiago.names)
    assert set(tiago.handles) == {"+351 916 000 222", "tiago.mendes@example.com"}
    assert {f.value for f in life.facts("Tiago Mendes", "allergy")} == {"shellfish"}
    # One current number: the note's, the later one, closes the chat's.
    assert [f.value for f in life.facts("Ti", "phone")] == ["+351 916 000 222"]
    assert {f.value for f in life.facts("Inês Carvalho", "relationship")} == {"sister"}
    # Two Anas: "Ana" stays apart, since it could be either.
    assert {"Ana", "Ana Costa", "Ana Ribeiro"} <= set(listed)


@pytest.mark.parametrize(
    ("written", "person"),
    [
        ("Ti", "Tiago Mendes"),  # an alias
        ("tiago", "Tiago Mendes"),  # a first name, any case
        ("tiago.mendes@example.com", "Tiago Mendes"),  # a mail handle
        ("+351 916 000 222", "Tiago Mendes"),  # a chat display name that is a number
        ("Mãe", "Helena Sousa"),  # a relationship word, in Portuguese
        ("Mum", "Helena Sousa"),
        ("Me", "self"),  # the user's own name
        ("Ana", "Ana"),  # a person of its own
        ("Zé", "Zé"),  # nobody known: the name itself
    ],
)
def test_every_way_of_naming_resolves_to_one_person(
    life: Resident, memory: Memory, written: str, person: str
) -> None:
    assert people.resolve(memory.db.conn, written) == person


def test_ask_and_the_persona_use_the_resolved_person(life: Resident) -> None:
    answer = life.ask(AskRequest("When is Mãe's birthday?", remember=False)).answer.text
    assert answer.startswith("Helena Sousa's birthday: 12 May")
    assert "shellfish" in life.ask(AskRequest("What is Tiago allergic to?")).answer.text


def test_a_question_naming_someone_ranks_their_note_first_and_one_word_messages_low(
    life: Resident, memory: Memory
) -> None:
    from assistant.recall import fuse, person_rankings, with_retention

    [(about, _)] = person_rankings(memory, "tell me about Ti", 10, None)
    documents = dict(
        memory.db.conn.execute("SELECT e.id, d.ref FROM episodes e JOIN documents d ON "
                               "d.id = e.document_id").fetchall()
    )  # fmt: skip
    assert documents[about[0]].endswith("Tiago Mendes.md")
    assert any(documents[i].endswith("tiago.jsonl") for i in about)  # what his facts rest on
    assert person_rankings(memory, "what is the weather like", 10, None) == []
    # Two memories ranked alike: the one-word message goes below the informative one.
    texts = dict(memory.db.conn.execute("SELECT id, text FROM episodes").fetchall())
    home = next(i for i, t in texts.items() if t == "Home")
    shellfish = next(i for i, t in texts.items() if "shellfish" in t)
    order = [i for i, _ in with_retention(memory, fuse([[home, shellfish]]))]
    assert order == [shellfish, home]


@pytest.mark.parametrize(
    ("question", "holding"),
    [
        ("What is Ti allergic to?", "allergic to shellfish"),  # an alias, an attribute
        ("When is Mãe's birthday?", "Birthday: 12 May"),  # a relationship word
        ("Where did Inês grow up?", "Hometown: Viseu"),
    ],
)
def test_recall_ranks_first_the_memory_behind_the_asked_fact(
    life: Resident, question: str, holding: str
) -> None:
    from assistant.service.requests import RecallRequest

    hits = life.recall(RecallRequest(question, k=3, reinforce=False))
    assert holding in hits[0].text, [h.text for h in hits]


def test_a_question_about_you_ranks_your_own_fact_first(memory: Memory, tmp_path: Path) -> None:
    from assistant.identity import add_identity
    from assistant.service.requests import RecallRequest

    add_identity(memory.db, "name", "Marta Sousa")
    notes = tmp_path / "notes"
    notes.mkdir()
    (notes / "About me.md").write_text(
        "# About me\n\nThings I keep typing into forms.\n\n- Name: Marta Sousa\n"
        "- Birthday: 14 July 1993\n- Phone: +351 912 448 301\n- Dislikes: coriander\n",
        encoding="utf-8",
    )
    chat = tmp_path / "chat"
    chat.mkdir()
    wishes = [("Duarte", "Happy birthday pai!!"), ("Duarte", "Happy birthday mãe!!"),
              ("Tiago", "Happy birthday Ti!!!"), ("Bia", "Birthday dinner at Prado?")]  # fmt: skip
    (chat / "family.jsonl").write_text(
        "".join(
            json.dumps(
                {
                    "time": f"2023-0{i + 1}-05T09:00:00+00:00",
                    "sender": who,
                    "text": text,
                    "conversation": "Família",
                    "id": i,
                }
            )
            + "\n"
            for i, (who, text) in enumerate(wishes)
        ),  # fmt: skip
        encoding="utf-8",
    )
    service = Resident(memory)
    service.ingest([notes, chat])
    service.reflect("builtin")
    hits = service.recall(RecallRequest("When is my birthday?", k=3, reinforce=False))
    assert "14 July 1993" in hits[0].text, [h.text for h in hits]


def test_merge_and_split_are_undoable_changes(life: Resident) -> None:
    change = life.merge_people("Ana Ribeiro", "Ana")
    listed = {p.name: p for p in life.people()}
    assert "Ana" not in listed and "Ana" in listed["Ana Ribeiro"].names
    assert {f.value for f in life.facts("Ana Ribeiro", "birthday")} == {"3 May"}
    assert any(c.id == change and c.op == "merge-people" for c in life.recent_changes())
    assert life.split_person("Ana") == "Ana Ribeiro"
    assert "Ana" in {p.name for p in life.people()}
    life.reflect("builtin")  # nothing new: and a split pair is never merged again
    assert "Ana" in {p.name for p in life.people()}
    with pytest.raises(MemoryRefError, match="not merged"):
        life.split_person("Ana")
    with pytest.raises(MemoryRefError, match="no person"):
        life.merge_people("Ana Ribeiro", "Nobody Here")


def test_me_people_lists_and_merges(
    life: Resident, memory: Memory, monkeypatch: pytest.MonkeyPatch
) -> None:
    memory.close()
    monkeypatch.setenv("SECONDSELF_PASSPHRASE", PASSPHRASE)
    out = run_me("people").stdout
    assert "Tiago Mendes (partner):" in out and "also: Ti" in out
    listed = [json.loads(line) for line in run_me("people", "--json").stdout.splitlines()]
    assert {p["name"] for p in listed} >= {"Tiago Mendes", "Helena Sousa", "Inês Carvalho"}
    merged = run_me("people", "merge", "Ana Costa", "Ana").stdout
    assert "Ana is now Ana Costa" in merged
    assert "Ana is no longer Ana Costa" in run_me("people", "split", "Ana").stdout
    failed = run_me("people", "merge", "Ana Costa", "Nobody", check=False)
    assert failed.returncode == 1 and "no person called 'Nobody'" in failed.stderr


def test_the_users_short_name_and_mailbox_are_the_user(life: Resident, memory: Memory) -> None:
    life.set_fact("self", "name", "Marta Isabel Sousa")
    conn = memory.db.conn
    assert people.resolve(conn, "Marta Sousa") == "self"
    assert people.resolve(conn, "Marta Sousa <marta.sousa@example.pt>") == "self"
    assert people.resolve(conn, "Marta") == "Marta"  # a first name alone is not enough
    assert people.resolve(conn, "Tiago <tiago.mendes@example.com>") == "Tiago Mendes"


def test_a_question_about_my_relative_is_about_them_not_me(life: Resident) -> None:
    life.set_fact("Inês Carvalho", "allergy", "kiwi")
    life.set_fact("self", "allergy", "penicillin")
    answer = life.ask(AskRequest("What is my sister allergic to?", remember=False)).answer.text
    assert "kiwi" in answer.splitlines()[0] and "penicillin" not in answer
    life.set_fact("Ana Costa", "relationship", "best friend")
    life.set_fact("Ana Costa", "allergy", "peanuts")
    friend = life.ask(AskRequest("What is my best friend allergic to?", remember=False))
    assert friend.answer.text.startswith("Ana Costa's allergies: peanuts")
    partner = life.ask(AskRequest("What's my partner's number now?", remember=False)).answer
    assert partner.text.startswith("Tiago Mendes's phone number: +351 916 000 222")


MBOX = """From x Mon Mar  4 10:00:00 2024
From: Gonçalo Ferreira <goncalo.ferreira@example.pt>
To: me@example.pt
Subject: Saturday
Date: Mon, 04 Mar 2024 10:00:00 +0000
Message-ID: <a1@example.pt>

See you at the wedding rehearsal.

From x Tue Mar  5 10:00:00 2024
From: Azores Airlines <noreply@azores.example>
To: me@example.pt
Subject: Your booking
Date: Tue, 05 Mar 2024 10:00:00 +0000
Message-ID: <a2@example.pt>

Your booking is confirmed.
"""


def test_people_who_write_to_you_are_listed_without_any_fact(
    life: Resident, memory: Memory, tmp_path: Path
) -> None:
    mail = tmp_path / "mail"
    mail.mkdir()
    (mail / "inbox.mbox").write_text(MBOX, encoding="utf-8")
    chat = tmp_path / "group"
    chat.mkdir()
    (chat / "group.jsonl").write_text(
        json.dumps({"time": "2024-03-06T09:00:00+00:00", "sender": "+351 916 000 222",
                    "text": "Running late", "conversation": "Group", "id": 1}) + "\n"
        + json.dumps({"time": "2024-03-06T09:01:00+00:00", "sender": "Zé Pedro",
                      "text": "Me too", "conversation": "Group", "id": 2}) + "\n",
        encoding="utf-8",
    )  # fmt: skip
    life.ingest([mail, chat])
    listed = {p.name: p for p in life.people()}
    goncalo = listed["Gonçalo Ferreira"]  # a personal mailbox, no fact about him
    assert goncalo.facts == 0 and goncalo.memories == 1
    assert goncalo.handles == ["goncalo.ferreira@example.pt"]
    assert listed["Zé Pedro"].memories == 1  # a chat sender
    # A number known as Tiago's is Tiago writing, not someone new.
    assert "+351 916 000 222" not in listed and listed["Tiago Mendes"].memories >= 4
    # An airline's mail is no person's.
    assert not any("Azores" in name for name in listed)


def test_a_question_by_relationship_searches_the_words_used_for_that_person(
    life: Resident, memory: Memory, tmp_path: Path
) -> None:
    from assistant.asking import names_meant
    from assistant.service.requests import RecallRequest

    life.set_fact("Duarte Sousa", "relationship", "brother")
    life.set_fact("Duarte Sousa", "nickname", "Dudu")
    conn = memory.db.conn
    assert names_meant(conn, "When does my brother fly home?") == ["Duarte", "Dudu"]
    assert names_meant(conn, "When does Duarte fly home?") == []  # named: nothing to add
    assert names_meant(conn, "When do I fly home?") == []
    chat = [("2024-12-01T09:00:00+00:00", "Dudu", "Booked it: KL 1692 lands on 21 December."),
            ("2024-12-01T10:00:00+00:00", "Rita", "Booked the dentist for Monday.")]  # fmt: skip
    life.ingest([chat_folder(tmp_path / "extra-chat", "Família", chat)])
    question = "What flight did my brother book?"
    hits = life.recall(RecallRequest(question, k=1, reinforce=False))
    assert "KL 1692" in hits[0].text
    assert hits[0].keyword_rank == 1  # found by his nickname, a word the question lacks


def test_a_question_for_more_than_an_attribute_searches_its_value(
    life: Resident, memory: Memory
) -> None:
    from assistant.asking import asks_for_more, words_meant

    life.set_fact("self", "employer", "Maré Energy")
    life.set_fact("Duarte Sousa", "relationship", "brother")
    life.set_fact("Duarte Sousa", "city", "Amsterdam")
    conn = memory.db.conn
    office = "Where is the office of my current employer?"
    assert asks_for_more(office) and not asks_for_more("Who is my employer?")
    assert asks_for_more("What did Bia give me for my birthday?")  # a gift, not the day
    assert asks_for_more("Which city was the job I turned down in?")  # not where I live
    assert words_meant(conn, office) == ["Maré Energy"]
    # The persona's value does not answer it: the question goes to the memories.
    answer = life.ask(AskRequest(office, remember=False)).answer
    assert answer.engine != "persona"
    assert words_meant(conn, "Which airline flies to my brother's city?") == [
        "Duarte", "Amsterdam"]  # fmt: skip
    assert words_meant(conn, "Who is my employer?") == []  # the persona answers that


def test_someone_described_by_a_fact_is_asked_about_by_name(life: Resident, memory: Memory) -> None:
    from assistant.asking import with_names

    life.set_fact("Tiago Mendes", "birthday", "3 November 1991")
    life.set_fact("Tiago Mendes", "employer", "Atelier Rio")
    conn = memory.db.conn
    question = "Where does the person whose birthday is on 3 November work?"
    assert with_names(conn, question) == "Where does Tiago Mendes work?"
    assert "Atelier Rio" in life.ask(AskRequest(question, remember=False)).answer.text
    # No one, or more than one, with that value: the question is left as it is.
    nobody = "Where does the person whose birthday is on 4 November work?"
    assert with_names(conn, nobody) == nobody
    assert with_names(conn, "Who is the friend whose birthday is 12 May?") == (
        "Who is Helena Sousa?")  # fmt: skip


def test_a_question_about_my_parents_is_answered_for_each_of_them(
    life: Resident, memory: Memory
) -> None:
    from assistant.asking import asked_people

    life.set_fact("António Sousa", "relationship", "father")
    life.set_fact("Helena Sousa", "city", "Figueira da Foz")
    life.set_fact("António Sousa", "city", "Figueira da Foz")
    life.set_fact("Inês Carvalho", "relationship", "sister")
    conn = memory.db.conn
    assert asked_people(conn, "Where do my parents live?") == {"Helena Sousa", "António Sousa"}
    assert asked_people(conn, "Where do my siblings live?") == {"Inês Carvalho"}
    answer = life.ask(AskRequest("Where do my parents live now?", remember=False)).answer
    assert answer.engine == "persona"
    lines = answer.text.splitlines()
    assert any(line.startswith("António Sousa's city: Figueira da Foz") for line in lines)
    assert any(line.startswith("Helena Sousa's city: Figueira da Foz") for line in lines)
    when = life.ask(AskRequest("Since when does Mãe live in Figueira?", remember=False))
    assert when.answer.text.startswith("Since ") and "Helena Sousa's city" in when.answer.text


def test_reflection_indexes_the_days_and_people_a_memory_means(
    life: Resident, memory: Memory, tmp_path: Path
) -> None:
    from datetime import datetime

    from assistant.recall import keyword_ranking
    from assistant.service.requests import RecallRequest

    chat = [("2024-03-14T09:00:00+00:00", "Me", "Dinner with Mãe tomorrow, she turns 62."),
            ("2024-03-14T09:05:00+00:00", "Me", "My new number is +351 911 000 222."),
            ("2024-03-14T09:10:00+00:00", "Me", "Mãe's birthday is on 12 May."),
            ("2024-03-01T09:00:00+00:00", "Me", "What happened to the March 2024 rent?"),
            ]  # fmt: skip
    life.ingest([chat_folder(tmp_path / "more", "Notes", chat)])
    life.reflect("builtin")
    keys = dict(memory.db.conn.execute(
        "SELECT text, keys FROM episodes WHERE conversation = 'Notes'").fetchall())  # fmt: skip
    # "tomorrow" said on 14 March is 15 March; "my number" is your phone.
    assert "d20240315" in keys[chat[0][2]].split()
    assert keys[chat[1][2]] == "phone"
    assert "Helena Sousa birthday" in keys[chat[2][2]]  # the person by her resolved name
    said = keyword_ranking(memory, "Mãe's birthday is on 12 May", 1)[0]
    assert said in keyword_ranking(memory, "Helena birthday", 2)  # beside her own note
    # A question about that day finds what was said of it the day before, by its key.
    hits = life.recall(RecallRequest("What happened on 15 March 2024?", k=1, reinforce=False,
                                     now=datetime(2024, 3, 20, 20)))  # fmt: skip
    assert hits[0].text == chat[0][2]


def test_an_age_question_searches_the_age_not_the_word_old(
    life: Resident, memory: Memory, tmp_path: Path
) -> None:
    from assistant.asking import for_search, words_meant
    from assistant.service.requests import RecallRequest

    life.set_fact("Tiago Mendes", "birthday", "3 November 1991")
    chat = [("2024-06-03T10:00:00+00:00", "Tiago", "My old number is dead, use the new one."),
            ("2024-06-04T10:00:00+00:00", "Tiago", "Old habits die hard."),
            ("2024-11-03T08:00:00+00:00", "Marta", "Happy 33 Ti!! 🎂"),
            ("2024-11-04T08:00:00+00:00", "Marta", "Did you turn the heating on?")]  # fmt: skip
    life.ingest([chat_folder(tmp_path / "birthday-chat", "Tiago Mendes", chat)])
    question = "How old did Tiago turn in 2024?"
    assert "old" not in for_search(question).casefold().split()
    assert words_meant(memory.db.conn, question)[:2] == ["33", "birthday"]
    hits = life.recall(RecallRequest(question, k=1, reinforce=False))
    assert hits[0].text == "Happy 33 Ti!! 🎂"  # said on that birthday, searched first


def test_an_age_question_names_the_day_of_that_birthday() -> None:
    from datetime import date

    from assistant.asking import AgeAsked
    from assistant.derived.persona import Fact

    fact = Fact(0, "Tiago Mendes", "birthday", "29 February 1992", None, None, None, 1.0,
                "stated", "builtin", "active", False)  # fmt: skip

    def day(turned: int | None, year: int | None) -> date | None:
        return AgeAsked("Tiago Mendes", fact, date(1992, 2, 29), turned, year).birthday()

    assert day(None, 2024) == date(2024, 2, 29)
    assert day(None, 2023) == date(2023, 2, 28)  # no 29 February that year
    assert day(30, None) == date(2022, 2, 28)
    assert day(None, None) is None  # "how old is Tiago?": no one birthday


def test_a_thought_names_the_person_as_the_persona_does(
    life: Resident, memory: Memory, tmp_path: Path
) -> None:
    """A chat calls her "Mãe"; her note says who that is: the thought names Helena."""
    chat = [("2024-08-25T10:00:00+00:00", "Mãe", "My new address is Rua do Mar 45, Buarcos.")]
    life.ingest([chat_folder(tmp_path / "family", "Família", chat)])
    life.reflect("builtin")
    texts = [r[0] for r in memory.db.conn.execute("SELECT text FROM thoughts")]
    assert any(t.startswith("Helena Sousa's address is Rua do Mar 45") for t in texts), texts
    assert not [t for t in texts if t.startswith("Mãe")]


def test_a_question_for_what_ended_ranks_the_closed_fact_first(
    memory: Memory, tmp_path: Path
) -> None:
    """ "Where did I work before…" ranks the memory of the value that ended first, not
    the current one's, in recall as in ask; "…now" ranks only the current one's."""
    from assistant.derived import persona
    from assistant.identity import add_identity
    from assistant.recall import person_rankings

    chat = [
        ("2023-01-05T09:00:00+00:00", "Me", "I work at Glimmerforge as a baker."),
        ("2024-04-02T09:00:00+00:00", "Me", "I work at Quintavera Labs now, day one!"),
    ]
    service = Resident(memory)
    add_identity(memory.db, "name", "Me")
    service.ingest([chat_folder(tmp_path / "chat", "Ana", chat)])
    service.reflect("builtin")
    employers = persona.facts(memory.db.conn, "self", "employer", include_closed=True)
    assert {(f.value, f.current) for f in employers} == {
        ("Glimmerforge", False), ("Quintavera Labs", True)}  # fmt: skip
    texts = dict(memory.db.conn.execute("SELECT id, text FROM episodes").fetchall())
    for question, first in (("Where did I work before?", "Glimmerforge"),
                            ("Where do I work?", "Quintavera")):  # fmt: skip
        [(facts_first, _), *_] = person_rankings(memory, question, 10, None)
        assert first in texts[facts_first[0]], question
    [(now, _), *_] = person_rankings(memory, "Where do I work now?", 10, None)
    assert [texts[i] for i in now] == ["I work at Quintavera Labs now, day one!"]
