"""The builtin engine's extractive answer: the right sentence among distractors, cited
with its date and source, "when" and "how many" questions, and the empty case."""

from __future__ import annotations

from datetime import date, datetime

import pytest

from assistant.reflection.answer import MAX_QUOTE, NOTHING, extractive_answer, told_day
from assistant.reflection.engine import CITATION, Evidence

FLIGHTS = Evidence(
    "e12",
    "2024-03-14T09:12:00+00:00",
    "Ana's flights.md",
    "Booked everything for the Lisbon weekend. Ana lands at 14:05 on Friday. "
    "Rui picks her up at the airport.",
)
JOURNAL = Evidence(
    "e7",
    "2024-02-02",
    "journal.txt",
    "Ana loves caldo verde. Lunch with Rui at the office canteen. The dentist moved to Tuesday.",
)
MOVE = Evidence("t3", "2024-03-10", "thought", "Ana is moving to Lisbon in May 2024.")
BIRTHDAY = Evidence("f5", "", "persona", "you: birthday = 3 May")


def test_the_right_sentence_is_chosen_among_distractors() -> None:
    answer = extractive_answer("When does Ana land?", [MOVE, JOURNAL, FLIGHTS])
    # "When" is answered with the day first: "on Friday", said on Thursday 14 March.
    assert answer.text == (
        "On Friday 15 March 2024: Ana lands at 14:05 on Friday. "
        "(2024-03-14, Ana's flights.md) [e12]"
    )
    assert answer.citations == ["e12"] and answer.engine == "builtin"


def test_a_rare_shared_word_outweighs_a_common_one() -> None:
    # "Ana" is in most sentences; "caldo" and "verde" in one.
    answer = extractive_answer("Does Ana still like caldo verde?", [FLIGHTS, MOVE, JOURNAL])
    assert answer.text.splitlines()[0] == ("Ana loves caldo verde. (2024-02-02, journal.txt) [e7]")
    assert answer.citations == ["e7"]


def test_every_sentence_is_followed_by_date_source_and_ref() -> None:
    answer = extractive_answer("Rui", [FLIGHTS, JOURNAL])
    assert answer.text.splitlines() == [
        "Rui picks her up at the airport. (2024-03-14, Ana's flights.md) [e12]",
        "Lunch with Rui at the office canteen. (2024-02-02, journal.txt) [e7]",
    ]
    assert answer.citations == ["e12", "e7"]
    # `me ask` strips the refs before keeping the answer as a thought.
    assert "[e" not in CITATION.sub("", answer.text)


def test_evidence_without_a_date_shows_its_source_only() -> None:
    answer = extractive_answer("When is my birthday?", [BIRTHDAY, JOURNAL])
    assert answer.text == "you: birthday = 3 May (persona) [f5]"
    assert answer.citations == ["f5"]


def test_when_questions_favour_sentences_with_a_date_or_time() -> None:
    undated = Evidence("e1", "2024-01-05", "notes.md", "The dentist appointment went well.")
    dated = Evidence("e2", "2024-01-02", "notes.md", "The dentist appointment is on 12 March.")
    when = extractive_answer("When is the dentist appointment?", [undated, dated])
    assert when.citations[0] == "e2"
    assert when.text.startswith("On Tuesday 12 March 2024: The dentist appointment is on 12 March.")
    # Without "when", the evidence order decides between equal matches.
    how = extractive_answer("How was the dentist appointment?", [undated, dated])
    assert how.citations[0] == "e1"


def test_how_many_questions_favour_sentences_with_a_number() -> None:
    vague = Evidence("e1", "2024-01-05", "chat with Rui", "Rui has cats, they are lovely.")
    counted = Evidence("e2", "2024-01-02", "chat with Rui", "Rui has three cats now.")
    answer = extractive_answer("How many cats does Rui have?", [vague, counted])
    assert answer.citations[0] == "e2"


def test_earlier_evidence_wins_a_tie() -> None:
    first = Evidence("e1", "2024-01-01", "a.md", "The boiler was serviced.")
    second = Evidence("e2", "2024-01-02", "b.md", "The boiler was serviced.")
    answer = extractive_answer("boiler serviced", [first, second])
    # The same sentence twice is quoted once, from the better-ranked evidence.
    assert answer.citations == ["e1"]
    assert answer.text == "The boiler was serviced. (2024-01-01, a.md) [e1]"


def test_inflections_match() -> None:
    answer = extractive_answer("When did Ana's flight land?", [JOURNAL, FLIGHTS])
    assert answer.citations == ["e12"]
    assert answer.text.startswith("On Friday 15 March 2024: Ana lands at 14:05 on Friday.")


def test_irregular_forms_and_number_words_match() -> None:
    party = Evidence(
        "e4",
        "2023-07-14",
        "2023-07-14.md",
        "Dinner at Prado with Rui. Rui gave me a pottery course for my thirtieth.",
    )
    other = Evidence("e5", "2023-07-20", "chat", "Rui, give me a call about dinner.")  # fmt: skip
    answer = extractive_answer("What did Rui give me for my 30th?", [other, party], 1)
    assert "pottery" in answer.text, answer.text


def test_at_most_max_sentences_and_one_citation_per_evidence() -> None:
    notes = Evidence(
        "e3", "2024-04-01", "garden.md", "Tomatoes in April. Tomatoes need sun. Tomatoes!"
    )
    answer = extractive_answer("tomatoes", [notes], max_sentences=2)
    assert len(answer.text.splitlines()) == 2
    assert answer.citations == ["e3"]


def test_nothing_that_overlaps_says_so_without_citations() -> None:
    for question, evidence in [
        ("What is the name of Ana's dog?", [MOVE, JOURNAL]),
        ("When does Ana land?", []),
        ("Who am I?", [FLIGHTS]),  # no content word at all
    ]:
        answer = extractive_answer(question, evidence)
        assert answer.text == NOTHING and answer.citations == [], question


def test_a_long_sentence_is_cut_around_the_question_word() -> None:
    filler = " ".join(["lorem ipsum dolor"] * 14)  # the sentence: ~550 characters
    long = Evidence(
        "e4", "2024-05-05", "pasted.txt", f"{filler} the passport expires in June {filler}"
    )
    answer = extractive_answer("When does the passport expire?", [long])
    assert answer.text.startswith("In June 2024: ")  # a month said is a month answered
    quote = answer.text.removeprefix("In June 2024: ").split(" (2024-05-05")[0]
    assert "passport expires in June" in quote
    assert quote.startswith("…") and quote.endswith("…")
    assert len(quote) <= MAX_QUOTE + 2


def test_the_answer_is_deterministic() -> None:
    evidence = [MOVE, JOURNAL, FLIGHTS, BIRTHDAY]
    answers = {extractive_answer("Ana Lisbon Friday May", evidence).text for _ in range(5)}
    assert len(answers) == 1


@pytest.mark.parametrize(
    ("question", "wrong", "right"),
    [
        ("Who is my manager at Farol?", "My manager at Farol is great at planning.",
         "Since March my manager at Farol is Rita Lopes."),
        ("How much is the rent for the flat?", "The rent for the flat is due monthly.",
         "The rent for the flat is 950 € a month."),
        ("What time does the dentist open?", "The dentist opens early on weekdays.",
         "The dentist opens at 08:30 on weekdays."),
        ("Where is the dentist?", "The dentist is very good with kids.",
         "The dentist is in Campo de Ourique, next to the market."),
    ],
)  # fmt: skip
def test_the_sentence_that_holds_the_kind_of_answer_comes_first(
    question: str, wrong: str, right: str
) -> None:
    evidence = [Evidence("e1", "2024-01-01", "notes.md", wrong),
                Evidence("e2", "2024-01-02", "notes.md", right)]  # fmt: skip
    answer = extractive_answer(question, evidence)
    assert answer.text.splitlines()[0].startswith(right), answer.text


def test_an_events_title_is_the_context_of_its_sentences() -> None:
    # The time sits on a line without the question's words; the title holds them.
    event = Evidence(
        "e3",
        "2024-12-21",
        "marta.ics › Flight to Amsterdam (KL1704)",
        "Flight to Amsterdam (KL1704)\nWhen: Saturday 21 December 2024, 17:05–19:50\n"
        "Where: Porto Airport (OPO)",
        context="Flight to Amsterdam (KL1704)",
    )
    mail = Evidence("e4", "2024-11-20", "Your trip", "We wish you a pleasant flight.")
    answer = extractive_answer("What time does our flight to Amsterdam leave?", [mail, event])
    first = answer.text.splitlines()[0]
    assert first.startswith("When: Saturday 21 December 2024, 17:05"), answer.text
    # The title alone answers nothing: it is shown with the source instead.
    assert not any(line.startswith("Flight to Amsterdam") for line in answer.text.splitlines())
    # Without the title as context the line shares no word with the question.
    bare = Evidence(event.ref, event.date, event.source, event.text)
    assert not extractive_answer("What time does our flight to Amsterdam leave?",
                                 [mail, bare]).text.startswith("When:")  # fmt: skip


def test_a_now_question_prefers_the_newest_evidence() -> None:
    old = Evidence("e1", "2023-02-09", "2023-02-09.md", "Dentist in the morning with Dr. Vasco.")
    new = Evidence("e2", "2024-11-07", "2024-11-07.md", "Dentist at the new clinic, Dra. Reis.")
    assert extractive_answer("Who is my dentist now?", [old, new]).text.startswith("Dentist at")
    # Without "now", the evidence's rank decides the tie.
    assert extractive_answer("Who is my dentist?", [old, new]).text.startswith("Dentist in")


def test_the_noun_a_question_asks_for_outweighs_other_shared_words() -> None:
    adopted = Evidence("e1", "2024-05-18", "notes.md", "We adopted a dog!")
    shelter = Evidence("e2", "2024-05-18", "notes.md", "The dog came from the Patas shelter.")
    answer = extractive_answer("Which shelter did we adopt the dog from?", [adopted, shelter])
    assert answer.text.startswith("The dog came from the Patas shelter."), answer.text


@pytest.mark.parametrize(
    ("question", "text", "first"),
    [
        ("When did we move to Porto?", "We moved to Porto today.", "On Thursday 14 March 2024: "),
        ("When does Ana land?", "Ana lands tomorrow at 14:05.", "On Friday 15 March 2024: "),
        ("When do we fly to Lisbon?", "We fly to Lisbon in June.", "In June 2024: "),
        ("When did Rui start at Acme?", "Rui started at Acme in 2019.", "In 2019: "),
        # "What time" asks for less than a day: the sentence answers it as it is.
        ("What time does Ana land?", "Ana lands tomorrow at 14:05.", "Ana lands tomorrow"),
    ],
)  # fmt: skip
def test_when_is_answered_with_the_day_first(question: str, text: str, first: str) -> None:
    answer = extractive_answer(question, [Evidence("e1", "2024-03-14", "notes.md", text)])
    assert answer.text.startswith(first), answer.text
    assert answer.statement == text  # the kept thought is the sentence, not the prefix


def test_how_long_ago_counts_from_the_moment_asked() -> None:
    moved = Evidence("e1", "2024-03-29", "notes.md", "We moved to Porto today.")
    answer = extractive_answer("How long ago did we move to Porto?", [moved],
                               now=datetime(2024, 12, 31, 12, 0))  # fmt: skip
    assert answer.text.startswith("277 days ago (about 9 months), on Friday 29 March 2024: ")
    landed = Evidence("e2", "2024-12-20", "notes.md", "Ana landed in Lisbon today.")
    recent = extractive_answer("How many days ago did Ana land?", [landed],
                               now=datetime(2024, 12, 31, 12, 0))  # fmt: skip
    assert recent.text.startswith("11 days ago, on Friday 20 December 2024: "), recent.text


def test_how_many_times_shows_every_memory_that_tells_of_it_with_its_days() -> None:
    baked = [Evidence(f"e{n}", day, "journal.txt", text) for n, (day, text) in enumerate([
        ("2024-05-01", "Baked sourdough bread this morning."),
        ("2024-05-03", "Baked bread again, a rye loaf."),
        ("2024-05-03", "The bread we baked was gone by noon."),
        ("2024-05-08", "Baked bread with Ana."),
        ("2024-05-09", "Ran 10 km along the canal."),
    ], start=1)]  # fmt: skip
    answer = extractive_answer("How many times did I bake bread in May?", baked)
    lines = answer.text.splitlines()
    assert lines[0] == "On 3 days (2024-05-01, 2024-05-03, 2024-05-08):", answer.text
    assert len(lines) == 5 and set(answer.citations) == {"e1", "e2", "e3", "e4"}
    # Any other question keeps to the few best sentences.
    assert len(extractive_answer("Did I bake bread?", baked).text.splitlines()) == 3


def test_a_weekday_before_a_date_names_that_date() -> None:
    said = date(2024, 2, 12)  # a Monday: "Thursday" alone would be the 15th
    assert told_day("Thursday 18 April 2024, TP 535 at 09:40", said) == (
        date(2024, 4, 18), "On Thursday 18 April 2024")  # fmt: skip
    assert told_day("See you Thursday!", said)[0] == date(2024, 2, 15)


def test_when_answers_with_the_date_the_question_word_governs() -> None:
    """ "back on the 27th" answers "when do we fly back?", though the line names the
    outbound day first; and the line that says so beats the outbound flight's, ranked
    before it."""
    said = date(2024, 11, 24)
    line = "Amsterdam is booked: KL1704 on 21 December, back on the 27th"
    assert told_day(line, said) == (date(2024, 12, 21), "On Saturday 21 December 2024")
    assert told_day(line, said, ["back"]) == (date(2024, 12, 27), "On Friday 27 December 2024")
    assert told_day("Dinner on the 31st?", date(2024, 11, 5), ["dinner"])[0] == date(2024, 11, 5)
    evidence = [
        Evidence("e1", "2024-12-21", "marta.ics",
                 "Flight to Amsterdam, Saturday 21 December 2024, 17:05"),
        Evidence("e2", "2024-11-24", "chat with Tiago", line),
    ]  # fmt: skip
    answer = extractive_answer("When do we fly back from Amsterdam?", evidence)
    assert answer.text.startswith("On Friday 27 December 2024: "), answer.text


def test_the_line_holding_the_kind_of_answer_leads_even_when_it_shares_fewer_words() -> None:
    """ "More trips for us" shares more words with the question, but holds no amount."""
    evidence = [
        Evidence("e1", "2023-12-19", "chat", "Good for him. More trips for us"),
        Evidence("e2", "2023-05-22", "2023-05-22.md",
                 "Flying back tonight. 1,400 € for the two of us. Cycling everywhere. "
                 "Tiago took six rolls of film. The harbour baths were cold."),
        Evidence("e4", "2023-05-21", "chat", "Lunch with Rui and Ana. Then a nap."),
    ]  # fmt: skip
    answer = extractive_answer("How much did the Copenhagen trip cost us?", evidence)
    assert answer.text.startswith("1,400 € for the two of us."), answer.text
