"""The builtin engine's fact extraction (assistant/reflection/extract.py): each pattern
family, each family of statements that must give nothing, who "I" is, dating, the
labelled sets' precision and recall, and properties over random and rewritten text."""

from __future__ import annotations

import json
import sys
import time
from datetime import date, datetime
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from assistant.derived.attributes import ATTRIBUTES
from assistant.derived.proposals import FactCandidate
from assistant.reflection.engine import EpisodeView
from assistant.reflection.extract import extract_facts, render_fact, split_sentences

ROOT = Path(__file__).resolve().parent.parent
LABELLED = ROOT / "tests/fixtures/extraction"
WEDNESDAY = "2023-03-01T10:00:00+00:00"
Fact = tuple[str, str, str]


def run(
    text: str, when: str = WEDNESDAY, author: str = "self", sender: str | None = None
) -> list[FactCandidate]:
    episode = EpisodeView(7, datetime.fromisoformat(when), author, sender, text)
    return extract_facts(episode)


def facts(text: str, **kwargs: Any) -> set[Fact]:
    return {(f.person, f.attribute, f.value) for f in run(text, **kwargs)}


# --- what must be read ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # contact details
        ("my new number is +351 912 345 678", {("self", "phone", "+351 912 345 678")}),
        ("You can reach me at +44 7700 900123", {("self", "phone", "+44 7700 900123")}),
        ("My email is ana.r@example.com, use that one", {("self", "email", "ana.r@example.com")}),
        ("btw my email changed, it's now r.c@mail.pt", {("self", "email", "r.c@mail.pt")}),
        ("my new address is Rua das Flores 12, 4050 Porto in case you need it",
         {("self", "address", "Rua das Flores 12, 4050 Porto")}),
        # where one lives
        ("I moved to Porto", {("self", "city", "Porto")}),
        ("just moved to lisbon 🎉", {("self", "city", "lisbon")}),
        ("I've lived in Rio de Janeiro since 2019", {("self", "city", "Rio de Janeiro")}),
        ("We moved to Canada in 2021", {("self", "country", "Canada")}),
        # birthdays and yearly dates
        ("Ana's birthday is 3 May", {("Ana", "birthday", "3 May")}),
        ("My birthday is March 3rd", {("self", "birthday", "3 March")}),
        ("I was born on 12 August 1988", {("self", "birthday", "12 August 1988")}),
        ("our anniversary is on 12 June", {("self", "important_date", "12 June (anniversary)")}),
        # health and food
        ("I'm allergic to peanuts", {("self", "allergy", "peanuts")}),
        ("I'm allergic to penicillin and shellfish, so careful",
         {("self", "allergy", "penicillin"), ("self", "allergy", "shellfish")}),
        ("I have a severe gluten allergy", {("self", "allergy", "gluten")}),
        ("im vegetarian now", {("self", "diet", "vegetarian")}),
        ("I went gluten free last year", {("self", "diet", "gluten-free")}),
        # work and school
        ("I started at Acme as a data engineer",
         {("self", "employer", "Acme"), ("self", "job_title", "data engineer")}),
        ("I work for the city council", {("self", "employer", "city council")}),
        ("Finally got a job at Spotify!!", {("self", "employer", "Spotify")}),
        ("I joined Google last month", {("self", "employer", "Google")}),
        ("I'm a nurse", {("self", "job_title", "nurse")}),
        ("I'm an ICU nurse at St Mary's Hospital",
         {("self", "job_title", "ICU nurse"), ("self", "employer", "St Mary's Hospital")}),
        ("I study at the University of Porto", {("self", "school", "University of Porto")}),
        # tastes and pastimes
        ("I love hiking", {("self", "likes", "hiking")}),
        ("i hate olives", {("self", "dislikes", "olives")}),
        ("I really don't like mushrooms", {("self", "dislikes", "mushrooms")}),
        ("I play the guitar in a band", {("self", "hobby", "guitar")}),
        ("My hobbies are chess and birdwatching",
         {("self", "hobby", "chess"), ("self", "hobby", "birdwatching")}),
        # languages, nationality
        ("I speak Portuguese and German",
         {("self", "language", "Portuguese"), ("self", "language", "German")}),
        ("I'm Portuguese", {("self", "nationality", "Portuguese")}),
        ("I got my Irish passport today!", {("self", "nationality", "Irish")}),
        # things one keeps
        ("we adopted a dog called Miso", {("self", "pet", "Miso (dog)")}),
        ("We adopted a rabbit", {("self", "pet", "rabbit")}),
        ("we got a cat, her name is Luna", {("self", "pet", "Luna (cat)")}),
        ("I bought a Honda Civic", {("self", "vehicle", "Honda Civic")}),
        ("I got a motorbike last week, a Yamaha MT-07", {("self", "vehicle", "Yamaha MT-07")}),
        # names
        ("call me Mo", {("self", "nickname", "Mo")}),
        ("Everyone calls me Mo", {("self", "nickname", "Mo")}),
        ("My name is Ana Ribeiro", {("self", "name", "Ana Ribeiro")}),
        ("Hi, I'm Ana Ribeiro, nice to meet you all", {("self", "name", "Ana Ribeiro")}),
        # family and other people
        ("my son Tom just turned five", {("self", "child", "Tom"), ("Tom", "relationship", "son")}),
        ("We have two kids, Tom and Lia", {("self", "child", "Tom"), ("self", "child", "Lia")}),
        ("my wife Marta is a nurse", {("Marta", "relationship", "wife"),
                                      ("self", "partner", "Marta"),
                                      ("Marta", "job_title", "nurse")}),
        ("my sister Ana is allergic to nuts",
         {("Ana", "allergy", "nuts"), ("Ana", "relationship", "sister")}),
        ("Emma's husband is called Noah", {("Emma", "partner", "Noah")}),
        ("Tom works at Google as a designer",
         {("Tom", "employer", "Google"), ("Tom", "job_title", "designer")}),
        ("Tom isn't vegan, he's vegetarian", {("Tom", "diet", "vegetarian")}),
        ("My neighbour Mr. Patel has a dog called Rocky",
         {("Mr. Patel", "pet", "Rocky (dog)"), ("Mr. Patel", "relationship", "neighbour")}),
    ],
)  # fmt: skip
def test_pattern_families(text: str, expected: set[Fact]) -> None:
    assert facts(text) == expected


# --- what must give nothing -------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        # negations
        "I'm not allergic to peanuts",
        "I don't work at Acme anymore",
        "I no longer live in Porto",
        "i dont live in lisbon anymore",
        "I'm not a nurse anymore",
        "It's not that I hate olives",
        "Ana is not allergic to nuts",
        # hypotheticals, wishes, plans that are not commitments
        "if I moved to Porto I'd need a new job",
        "I might move to Porto",
        "I'd love to live in Porto",
        "I'm thinking about moving to Berlin",
        "I want to work at Google",
        "maybe I'll get a dog",
        "Hopefully I'll be working at Google by summer",
        "we may relocate to Canada",
        # questions, with or without a question mark
        "Are you allergic to peanuts?",
        "Do you live in Porto?",
        "I'm moving to Porto next week?",
        "did you move to Lisbon",
        "You speak German, right",
        # reported speech and quotes
        "Ana said she moved to Porto",
        "he told me his number is 912 345 678",
        "I heard Ana moved to Lisbon",
        "My mom says I'm allergic to cats",
        'She kept saying "I\'m allergic to peanuts" in that voice',
        # second person
        "you live in Porto",
        "your birthday is 3 May",
        "You're allergic to peanuts, remember",
        # sarcasm and chat noise that looks like a pattern
        "I'm allergic to Mondays 😂",
        "I love waiting in line, said no one ever",
        "I love you",
        "I hate when that happens",
        "Call me when you land",
        "I work at home today",
        "I joined the call late",
        "I moved the meeting to Friday",
        "I'm a mess today",
        "I speak from experience",
        "I got a cat video from Ana lol",
        "Sounds like a plan",
        "I lost my job at Door Dash",
    ],
)
def test_statements_that_must_give_nothing(text: str) -> None:
    assert facts(text) == set()


# --- who "I" is -------------------------------------------------------------------------


def test_another_sender_s_i_is_that_sender() -> None:
    assert facts("I moved to Lisbon!", author="other", sender="Ana") == {("Ana", "city", "Lisbon")}
    assert facts("my husband Paulo is a chef", author="other", sender="Ana") == {
        ("Ana", "partner", "Paulo"),
        ("Paulo", "job_title", "chef"),
    }  # no (Paulo, relationship, husband): relationships are relative to the user


def test_an_unknown_speaker_gives_no_first_person_facts_but_third_person_ones() -> None:
    text = "My name is John Smith. I live in Paris. Ana lives in Rome."
    assert facts(text, author="unknown") == {("Ana", "city", "Rome")}
    assert facts(text, author="other", sender=None) == {("Ana", "city", "Rome")}


def test_other_people_s_facts_are_never_attributed_to_self() -> None:
    found = facts("Ana's birthday is 3 May. Rui works at Deloitte. Pedro is vegan.")
    assert found == {
        ("Ana", "birthday", "3 May"),
        ("Rui", "employer", "Deloitte"),
        ("Pedro", "diet", "vegan"),
    }


# --- dating and the candidate's fields --------------------------------------------------


@pytest.mark.parametrize(
    ("text", "when", "valid_from"),
    [
        ("I moved to Porto", WEDNESDAY, "2023-03-01"),
        ("I'm moving to Porto next Friday", WEDNESDAY, "2023-03-10"),
        ("I moved to Lyon last Friday", WEDNESDAY, "2023-02-24"),
        ("I've been vegetarian since 2015", WEDNESDAY, "2015-01-01"),
        ("I started at Amazon in November", WEDNESDAY, "2022-11-01"),
        ("I'm starting at Amazon in November", WEDNESDAY, "2023-11-01"),
        ("Yesterday I started at Stripe", WEDNESDAY, "2023-02-28"),
        ("I start at Netflix tomorrow", "2023-08-31T21:00:00-07:00", "2023-09-01"),
    ],
)
def test_valid_from_is_the_sentence_s_date_else_the_episode_s(
    text: str, when: str, valid_from: str
) -> None:
    (fact,) = run(text, when=when)
    assert fact.valid_from == valid_from


def test_a_date_in_another_statement_does_not_date_this_one() -> None:
    (fact,) = run("I love Lisbon, I've lived here since 2018")
    assert (fact.attribute, fact.valid_from) == ("likes", "2023-03-01")
    (birthday,) = run("Ana's birthday is 3 May")
    assert birthday.valid_from == "2023-03-01"  # the date is the value, not the start


def test_candidates_carry_evidence_statement_and_a_confidence() -> None:
    found = run("Long day. Anyway my new phone number is 912 000 111 in case you need it")
    (fact,) = found
    assert fact.evidence == 7
    assert fact.statement == "Anyway my new phone number is 912 000 111 in case you need it"
    assert 0.0 < fact.confidence <= 1.0
    explicit = run("my email is a@b.pt")[0].confidence
    weaker = run("I'm into bouldering")[0].confidence
    assert explicit > weaker


def test_a_value_stated_twice_is_one_candidate() -> None:
    assert len(run("I live in Porto. Yes, I live in Porto!")) == 1


def test_sentences_split_on_punctuation_newlines_and_emoji_but_not_titles() -> None:
    assert split_sentences("Hi Mr. Patel. I moved!\nNew line 🎉 next") == [
        "Hi Mr. Patel.",
        "I moved!",
        "New line 🎉",
        "next",
    ]
    # Titles in other languages too: the name after "Dra." stays in its sentence.
    assert split_sentences("New dentist (Dra. Cláudia Reis). Sra. Lopes came too.") == [
        "New dentist (Dra. Cláudia Reis).",
        "Sra. Lopes came too.",
    ]


def test_a_soft_wrapped_line_stays_in_its_sentence() -> None:
    """A note's prose wrapped mid-sentence goes on in lower case, "(" or ","; a list's
    next line, or a line after a blank one, starts a sentence of its own."""
    note = (
        "Presents: a voucher (Tiago), a first edition\n(Bia, how did she find it??), a scarf\n"
        "and a cake.\nFlat 1: Bonfim\nFlat 2: Cedofeita\n\nlater that day: rain"
    )
    assert split_sentences(note) == [
        "Presents: a voucher (Tiago), a first edition (Bia, how did she find it??), a scarf "
        "and a cake.",
        "Flat 1: Bonfim",
        "Flat 2: Cedofeita",
        "later that day: rain",
    ]


# --- rendering --------------------------------------------------------------------------


def candidate(
    person: str, attribute: str, value: str, valid_from: str | None = None
) -> FactCandidate:
    return FactCandidate(person, attribute, value, valid_from, 1, 0.9)


@pytest.mark.parametrize(
    ("fact", "sentence"),
    [
        (candidate("Ana", "birthday", "3 May", "2023-03-01"), "Ana's birthday is 3 May."),
        (candidate("self", "city", "Porto", "2023-03-01"),
         "You moved to Porto (since 2023-03-01)."),
        (candidate("self", "job_title", "data engineer"), "You work as a data engineer."),
        (candidate("Rita", "job_title", "architect"), "Rita works as an architect."),
        (candidate("self", "allergy", "peanuts"), "You are allergic to peanuts."),
        (candidate("Ana", "relationship", "sister"), "Ana is your sister."),
        (candidate("self", "pet", "Miso (dog)"), "You have a pet: Miso (dog)."),
        (candidate("Tom", "language", "Italian"), "Tom speaks Italian."),
        (candidate("self", "hobby", "chess", "2023-03-01"), "Your hobbies include chess."),
    ],
)  # fmt: skip
def test_render_fact(fact: FactCandidate, sentence: str) -> None:
    assert render_fact(fact) == sentence


def test_every_attribute_renders_a_sentence_naming_its_value() -> None:
    for attribute in ATTRIBUTES:
        for person, start in (("self", "You"), ("Ana", "Ana")):
            text = render_fact(candidate(person, attribute, "Xyz", "2023-03-01"))
            assert text.startswith(start) and "Xyz" in text and text.endswith(".")


# --- the labelled sets ------------------------------------------------------------------


def rows(name: str) -> list[dict[str, Any]]:
    path = LABELLED / name
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line]


def quality() -> ModuleType:
    """bench/extraction_quality.py, which holds the scoring the bench also prints."""
    sys.path.insert(0, str(ROOT / "bench"))
    try:
        import extraction_quality
    finally:
        sys.path.remove(str(ROOT / "bench"))
    return extraction_quality


CATEGORIES = {"positive", "negation", "hypothetical", "question", "reported", "other_person",
              "second_person", "noise"}  # fmt: skip


def test_labelled_set_shape() -> None:
    tuned, held = rows("statements.jsonl"), rows("heldout.jsonl")
    data = tuned + held
    assert len(data) >= 200
    assert 0.25 <= len(held) / len(data) <= 0.35
    assert len({r["text"] for r in tuned} & {r["text"] for r in held}) == 0
    assert sum(1 for r in data if not r["facts"]) >= 60
    assert sum(1 for r in data if any(f["person"] != "self" for f in r["facts"])) >= 30
    attributes = {f["attribute"] for r in data for f in r["facts"]}
    assert len(attributes) >= 18 and attributes <= set(ATTRIBUTES)
    for row in data + rows("fresh.jsonl"):
        assert row["category"] in CATEGORIES
        assert datetime.fromisoformat(row["date"]).tzinfo is not None
        assert row["author"] in {"self", "other", "unknown"}
        for fact in row["facts"]:
            assert fact["valid_from"] is None or date.fromisoformat(fact["valid_from"])


@pytest.mark.parametrize(
    ("files", "precision", "recall"),
    [
        (("statements.jsonl", "heldout.jsonl"), 0.90, 0.70),
        (("heldout.jsonl",), 0.85, 0.60),
        (("fresh.jsonl",), 0.85, 0.60),
        # Offers, plans, first days, leases, moves and relatives' moves (issue 11),
        # written after the rules that read them: a regression guard, not a fresh estimate.
        (("life_events.jsonl",), 0.90, 0.85),
    ],
)
def test_labelled_precision_and_recall(
    files: tuple[str, ...], precision: float, recall: float
) -> None:
    bench = quality()
    report = bench.evaluate(bench.load([LABELLED / f for f in files]))
    assert report.total.precision >= precision, report.errors
    assert report.total.recall >= recall, report.errors
    assert report.valid_from_accuracy >= 0.9, report.errors


def test_scoring_drops_leading_articles_and_possessives() -> None:
    bench = quality()
    assert bench.fact_key("Ana ", "employer", "The Navy.") == bench.fact_key(
        "ana", "employer", "navy"
    )
    assert bench.comparable("my dog") == "dog"


# --- properties -------------------------------------------------------------------------

NOISE_WORDS = st.sampled_from(
    ["the", "a", "meeting", "coffee", "Porto", "tomorrow", "I", "you", "is", "was", "great",
     "lol", "and", "but", "we", "it", "Ana", "?", "!", ".", ",", "😂", "ok", "see", "then",
     "3", "May", "at", "on", "in", "very", "so", "nice"]
)  # fmt: skip


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=300), st.sampled_from(["self", "other", "unknown"]))
def test_random_text_never_crashes_and_gives_well_formed_facts(text: str, author: str) -> None:
    for fact in run(text, author=author, sender="Ana" if author == "other" else None):
        assert fact.attribute in ATTRIBUTES
        assert fact.value and fact.person
        assert fact.valid_from is not None and date.fromisoformat(fact.valid_from)
        assert 0.0 < fact.confidence <= 1.0


@settings(max_examples=300, deadline=None)
@given(st.lists(NOISE_WORDS, max_size=25).map(" ".join))
def test_chat_noise_without_a_predicate_gives_nothing(text: str) -> None:
    assert run(text) == []


def single_sentence_positives() -> list[str]:
    texts = [r["text"] for r in rows("statements.jsonl") if r["facts"] and r["author"] == "self"]
    return [t for t in texts if len(split_sentences(t)) == 1]


@settings(max_examples=200, deadline=None)
@given(
    st.sampled_from(single_sentence_positives()),
    st.sampled_from(["{}?", "Maybe {}", "If {}, fine", "Ana said {}", "I heard that {}",
                     "Do you think {}?", "I wish {}", "imagine if {}"]),
)  # fmt: skip
def test_a_statement_turned_into_a_question_wish_or_report_gives_nothing(
    statement: str, frame: str
) -> None:
    text = frame.format(statement.rstrip(".!🎉🐶🚲🍣 "))
    assert run(text) == [], text


@pytest.mark.parametrize(
    "text",
    [
        "I love " * 30_000,
        "I " * 100_000,
        "Mr. " * 50_000,
        "my sister Ana " * 15_000,
        "I'm allergic to nuts and " * 8_000,
        "a" * 200_000,
    ],
    ids=["likes", "subjects", "titles", "relations", "list", "letters"],
)
def test_adversarial_text_has_no_quadratic_blowup(text: str) -> None:
    # Not a speed target (bench/extraction_quality.py measures speed): a quadratic pass
    # takes minutes on these 200 KB inputs, a linear one about a second.
    started = time.perf_counter()
    run(text)
    assert time.perf_counter() - started < 15.0
