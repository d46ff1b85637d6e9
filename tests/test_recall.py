"""Recall finds the right note for paraphrased and exact questions; date filters hold."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import pytest

from assistant import config as config_mod
from assistant.errors import QueryError
from assistant.hits import query_terms, snippet
from assistant.ingest import ingest
from assistant.memory import Memory
from assistant.recall import (
    SESSION_MOST,
    blend,
    dense_query,
    dense_ranking,
    fts_query,
    fuse,
    keyword_ranking,
    recall,
    time_bounds,
)
from assistant.vault import Secrets
from tests.conftest import FIXTURES, chat_folder, chatgpt_conversation

NOTES = FIXTURES / "recall_notes"

# (question, file expected at rank 1). Most are paraphrases: keyword overlap alone
# is weak, so these also exercise the dense side of the fusion.
QUESTIONS = [
    ("when did I plan the Lisbon trip", "lisbon-trip.md"),
    ("what time does Ana's plane land", "lisbon-trip.md"),
    ("LH1166", "lisbon-trip.md"),
    ("when is my appointment to fix the tooth", "dentist.md"),
    ("how do I bake bread with a starter", "sourdough.md"),
    ("how far should I run on sunday", "running.md"),
    ("how much did the brake repair cost", "car.md"),
    ("which novels are on my reading list", "books.md"),
    ("what herbs did I plant on the balcony", "garden.md"),
    ("did I get promoted at work", "work-promotion.md"),
    ("my sister moving house", "2024-06-01.md"),
    ("grilled fish at the river with a friend", "2023-07-15.txt"),
    ("wifi name for visitors", "home-network.md"),
]


@pytest.fixture
def filled(memory: Memory) -> Memory:
    summary = ingest(memory, [NOTES])
    assert summary.failed == []
    return memory


def test_fixture_questions_rank_the_right_note_first(filled: Memory) -> None:
    misses = []
    for question, expected in QUESTIONS:
        hits = recall(filled, question, k=5)
        names = [Path(h.document).name for h in hits]
        if not names or names[0] != expected:
            misses.append((question, expected, names))
    assert misses == []


def test_results_carry_date_source_and_text(filled: Memory) -> None:
    hit = recall(filled, "LH1166", k=1)[0]
    assert hit.time.startswith("2024-02-10")
    assert hit.title == "Lisbon trip > Flights"
    assert hit.source_ref.startswith(str((NOTES / "lisbon-trip.md").resolve()) + "#")
    assert "LH1166" in hit.text
    assert hit.keyword_rank == 1
    assert set(hit.as_json()) >= {"id", "score", "date", "source_ref", "text"}


def test_k_limits_results(filled: Memory) -> None:
    assert len(recall(filled, "notes about my life", k=3)) == 3
    assert len(recall(filled, "notes about my life", k=50)) <= 50


def test_since_until_filter_by_whole_days(filled: Memory) -> None:
    hits = recall(filled, "trip flights Lisbon", k=20, since=date(2024, 3, 1))
    assert hits and all(h.time[:10] >= "2024-03-01" for h in hits)
    assert not any(Path(h.document).name == "lisbon-trip.md" for h in hits)

    hits = recall(filled, "anything", k=20, since=date(2024, 2, 10), until=date(2024, 2, 10))
    assert {Path(h.document).name for h in hits} == {"lisbon-trip.md"}

    hits = recall(filled, "dentist", k=20, until=date(2023, 12, 31))
    assert hits and all(h.time[:10] <= "2023-12-31" for h in hits)


def test_empty_memory_returns_nothing(memory: Memory) -> None:
    assert recall(memory, "anything at all", k=5) == []


def test_query_syntax_is_data_not_fts_operators(filled: Memory) -> None:
    # FTS5 operators and quotes in user text must not raise or change meaning.
    for nasty in ['"unbalanced', "NEAR(a b)", "title:Lisbon", "a AND OR NOT"]:
        recall(filled, nasty, k=3)
    # Without a word there is nothing to rank: refused, not answered with noise.
    for empty in ["*", "-", "", "  ?! "]:
        with pytest.raises(QueryError, match="the question is empty"):
            recall(filled, empty, k=3)


def test_query_terms_and_fts_query() -> None:
    assert query_terms("When is Ana's flight?") == ["ana", "s", "flight"]
    assert query_terms("the and of") == ["the", "and", "of"]  # all stopwords: keep them
    assert fts_query(['say "hi"']) == '"say ""hi"""'


def test_fuse_rewards_agreement() -> None:
    fused = fuse([[1, 2, 3], [3, 4]])
    scores = dict(fused)
    assert scores[3] > scores[1] > scores[2] == scores[4]
    assert [i for i, _ in fused] == [3, 1, 2, 4]  # ties keep first-seen order


def test_blend_keeps_a_keyword_match_far_ahead_of_the_rest_first() -> None:
    # BM25 finds episode 1 far ahead (a rare name); the dense side ranks it last of
    # five. Ranks alone would put 2, second on both sides, first.
    keyword = [(1, 12.0), (2, 3.0), (3, 2.5)]
    dense = [(4, 0.52), (2, 0.50), (5, 0.45), (6, 0.40), (1, 0.30)]
    assert [i for i, _ in blend(keyword, dense, share=0.6)][0] == 1
    assert [i for i, _ in fuse([[i for i, _ in keyword], [i for i, _ in dense]])][0] == 2
    # Close keyword scores leave the order to the dense side.
    even = [(1, 3.1), (2, 3.0), (3, 1.0)]
    assert [i for i, _ in blend(even, dense, share=0.6)][0] == 2
    # One side empty: the other's order, unchanged.
    assert [i for i, _ in blend([], dense)] == [4, 2, 5, 6, 1]
    assert [i for i, _ in blend(keyword, [])] == [1, 2, 3]


def test_time_bounds_cover_whole_days() -> None:
    lo, hi = time_bounds(date(2024, 1, 1), date(2024, 1, 1))
    assert lo is not None and hi is not None and hi - lo == 86400


def test_snippet_centres_on_matches() -> None:
    text = "filler " * 100 + "the flight lands at 14:35 " + "filler " * 100
    window, marks = snippet(text, ["flight"], width=80)
    assert "flight lands" in window
    assert [window[a:b] for a, b in marks] == ["flight"]


@pytest.mark.parametrize(
    ("exact_limit", "wide_limit", "widen"),
    [(10_000, 3000, 20), (0, 3000, 20), (0, 1, 1)],
    ids=["exact scoring", "wide unfiltered search", "chroma filter fallback"],
)
def test_every_date_filter_strategy_gives_the_same_ranking(
    filled: Memory,
    monkeypatch: pytest.MonkeyPatch,
    exact_limit: int,
    wide_limit: int,
    widen: int,
) -> None:
    """Large memories take other paths than this small one; they must agree with it."""
    import assistant.recall as recall_mod

    monkeypatch.setattr(recall_mod, "EXACT_LIMIT", exact_limit)
    monkeypatch.setattr(recall_mod, "WIDE_LIMIT", wide_limit)
    monkeypatch.setattr(recall_mod, "WIDEN", widen)
    within = recall_mod.Scope.of(filled, *time_bounds(date(2024, 1, 1), date(2024, 4, 30)))
    dense = recall_mod.dense_ranking(filled, "doctor appointment for my teeth", 3, within)
    keyword = recall_mod.keyword_ranking(filled, "trip garden dentist flights", 3, within)
    names = [Path(h.document).name for h in recall_mod.load_hits(filled, [(dense[0], 1.0)])]
    assert names == ["dentist.md"]
    assert all(i in within.ids for i in dense + keyword)
    assert len(keyword) == 3
    assert len(dense) == 3


def test_a_read_without_the_index_scores_every_vector_and_agrees_with_chroma(
    filled: Memory, secrets: Secrets
) -> None:
    """A one-shot command opens no chroma index: its search reads the vectors from the
    database, makes no plaintext index copy, and ranks as the index does."""
    questions = [q for q, _ in QUESTIONS]
    with_index = [[h.id for h in recall(filled, q, k=5)] for q in questions]
    dated = [h.id for h in recall(filled, "trip", since=date(2024, 1, 1))]
    stored = filled.db.conn.execute("SELECT count(*) FROM vectors").fetchone()[0]
    filled.close()
    config = config_mod.load(filled.paths.config_file)
    cold = Memory.open(filled.paths, config, secrets, index=False)
    try:
        assert [[h.id for h in recall(cold, q, k=5)] for q in questions] == with_index
        assert [h.id for h in recall(cold, "trip", since=date(2024, 1, 1))] == dated
        assert cold.index_report is None  # chroma was never started
        assert not cold.paths.vector_dir.exists()
        assert cold.vector_count() == stored
    finally:
        cold.close()


def test_a_snippet_shows_the_kind_of_answer_asked_for() -> None:
    text = (
        "Dear Marta, following your interviews we are pleased to offer you the position of "
        "Senior Data Analyst at Maré Energy. Your gross annual salary will be 48,500 EUR, paid "
        "in 14 instalments. Your start date would be 1 October 2024. Please confirm your offer "
        "acceptance by 20 September 2024. Kind regards, Rui"
    )
    question = "What salary did they offer me?"
    window, _ = snippet(text, query_terms(question), width=120, question=question)
    assert "48,500 EUR" in window
    assert not window.lstrip("…")[:1].islower()  # starts at a word, never mid-word


def test_a_question_found_first_brings_its_reply(memory: Memory, tmp_path: Path) -> None:
    chat = [  # (time, sender, text): the reply shares no word with what is asked of recall
        ("2024-06-01T09:00:00+00:00", "Ana", "Where did you go on holiday in May?"),
        ("2024-06-01T09:05:00+00:00", "Rui", "Sintra, with the kids."),
        ("2024-06-02T09:00:00+00:00", "Ana", "The holiday in May was expensive for us."),
        ("2024-06-03T09:00:00+00:00", "Ana", "Holiday photos from May are online."),
        ("2024-06-04T09:00:00+00:00", "Ana", "Where are the holiday photos from May?"),
        ("2024-06-04T09:01:00+00:00", "Ana", "Never mind, found them."),  # same sender
    ]
    ingest(memory, [chat_folder(tmp_path / "chat", "Ana", chat)])
    texts = [h.text for h in recall(memory, "Where did I go on holiday in May?", k=3)]
    assert texts[:2] == ["Where did you go on holiday in May?", "Sintra, with the kids."]
    # A question followed by more of the same sender's words brings no reply.
    texts = [h.text for h in recall(memory, "Where are the holiday photos from May?", k=6)]
    assert texts[0] == "Where are the holiday photos from May?"
    assert texts[1] != "Never mind, found them."


def test_a_question_finds_the_other_forms_of_its_verbs_and_numbers(
    memory: Memory, tmp_path: Path
) -> None:
    """ "give" finds "gave" and "30th" finds "thirty": words the stemmer keeps apart."""
    chat = [  # the answer first: no message is indexed with it as its reply
        ("2024-04-14T21:00:00+00:00", "Marta", "Thirty today! Tiago gave me a pottery course."),
        ("2024-05-01T09:00:00+00:00", "Tiago", "Can you give me a call later?"),
        ("2024-05-02T09:00:00+00:00", "Tiago", "Give the keys to Rui, please."),
        ("2024-05-03T09:00:00+00:00", "Tiago", "What do we give Ana for her birthday?"),
        ("2024-07-15T09:00:00+00:00", "Tiago", "Lunch at the usual place?"),
    ]
    ingest(memory, [chat_folder(tmp_path / "chat", "Tiago", chat)])
    hits = recall(memory, "What did Tiago give me for my 30th?", k=1)
    assert "pottery" in hits[0].text


def test_a_question_finds_what_its_phrases_and_synonyms_mean(
    memory: Memory, tmp_path: Path
) -> None:
    chat = [
        ("2023-10-01T09:00:00+00:00", "Marta", "The job in Berlin pays well."),
        ("2023-10-02T09:00:00+00:00", "Marta", "Job interview went fine, I think."),
        ("2023-10-27T12:00:00+00:00", "Marta", "Sent it. I declined Klarwerk."),
        ("2023-11-02T09:00:00+00:00", "Marta", "My salary at Farol is 38,000 a year."),
        ("2023-11-03T09:00:00+00:00", "Marta", "Did the job ad say how much?"),
    ]
    ingest(memory, [chat_folder(tmp_path / "chat", "Tiago", chat)])
    assert "declined" in recall(memory, "Which job did I turn down?", k=1)[0].text
    assert "38,000" in recall(memory, "How much did I earn at Farol?", k=1)[0].text


def test_a_reply_is_found_by_the_words_of_the_message_it_answers(
    memory: Memory, tmp_path: Path
) -> None:
    """ "Loved it, especially the light room." says nothing of Serralves: the message
    before it does. A run of one sender's messages keeps its own words, and another
    conversation lends none."""
    ana = [
        ("2024-05-01T09:00:00+00:00", "Ana", "Did you like the exhibition at Serralves?"),
        ("2024-05-01T09:05:00+00:00", "Marta", "Loved it, especially the light room."),
        ("2024-05-01T09:06:00+00:00", "Marta", "Shall we go again in June?"),
    ]
    rui = [("2024-05-01T09:07:00+00:00", "Rui", "Dinner on Friday then.")]
    ingest(memory, [chat_folder(tmp_path / "ana", "Ana", ana),
                    chat_folder(tmp_path / "rui", "Rui", rui)])  # fmt: skip
    conn = memory.db.conn
    ids = dict(conn.execute("SELECT text, id FROM episodes").fetchall())
    rows = {text: (of, context) for text, of, context in conn.execute(
        "SELECT text, context_of, context FROM episodes")}  # fmt: skip
    assert rows["Loved it, especially the light room."] == (
        ids["Did you like the exhibition at Serralves?"],
        "Did you like the exhibition at Serralves?",
    )
    assert rows["Shall we go again in June?"] == (ids["Loved it, especially the light room."], None)
    assert rows["Dinner on Friday then."] == (None, None)
    texts = [h.text for h in recall(memory, "What did I think of the Serralves exhibition?", k=2)]
    assert "Loved it, especially the light room." in texts
    # And the other way: a message is found by the start of the reply it got.
    replies = dict(conn.execute("SELECT text, reply FROM episodes").fetchall())
    assert (
        replies["Did you like the exhibition at Serralves?"]
        == "Loved it, especially the light room."
    )
    assert replies["Loved it, especially the light room."] is None  # the same sender goes on
    assert replies["Dinner on Friday then."] is None
    found = keyword_ranking(memory, "light room", 5)
    assert ids["Did you like the exhibition at Serralves?"] in found


def test_a_question_about_one_person_puts_their_own_words_first(
    memory: Memory, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Caroline's message names Melanie and shares the question's words; what Melanie
    does to relax is in her own, which says it otherwise. Each of two rankings puts it
    first alone: the question's candidates reordered (`said_by`), her messages searched
    alone (`own_words`); without them the friend's words come first. Naming both, or
    speaking of you too, favours no one."""
    from assistant import asking
    from assistant import recall as recall_mod

    friend = "Melanie, pottery helps me relax, you should try it!"
    chat = [
        ("2024-05-01T09:00:00+00:00", "Caroline", friend),
        ("2024-05-01T09:05:00+00:00", "Melanie Rocha", "Running clears my head after a long day."),
        ("2024-05-02T09:00:00+00:00", "Caroline", "Did you see the game?"),
    ]
    ingest(memory, [chat_folder(tmp_path / "chat", "Caroline", chat)])
    conn = memory.db.conn
    assert asking.speaker_senders(conn, "What does Melanie do to relax?") == ["Melanie Rocha"]
    assert asking.speaker_senders(conn, "What did Melanie’s friend say?") == ["Melanie Rocha"]
    assert asking.speaker_senders(conn, "What do Caroline and Melanie like?") == []
    assert asking.speaker_senders(conn, "Where did Melanie and I go?") == []
    assert asking.speaker_senders(conn, "What did Melanie give me?") == []
    assert asking.speaker_senders(conn, "What does Rocha do?") == []  # a surname: no sender
    question = "What does Melanie do to relax?"
    assert recall(memory, question, k=1)[0].text.startswith("Running")
    for said, own, first in ((0.25, 0.0, "Running"), (0.0, 0.25, "Running"), (0.0, 0.0, "Mel")):
        monkeypatch.setattr(recall_mod, "SAID_WEIGHT", said)
        monkeypatch.setattr(recall_mod, "OWN_WEIGHT", own)
        assert recall(memory, question, k=1)[0].text.startswith(first)


def test_the_dense_side_leaves_out_the_names_of_the_senders_asked_about(
    memory: Memory, tmp_path: Path
) -> None:
    """Every message of Melanie's carries her name in its vector (as its sender), and
    Caroline's name her when they speak to her: with the name in it, the question's
    vector is nearest to the shortest of them ("Ha, yes!"), where the name is most of
    the text. Without it, to what she did."""
    from assistant import asking

    hers = "I'm off to go swimming with the kids."
    chat = [
        ("2024-05-01T09:00:00+00:00", "Caroline", "Wow Melanie, that sounds amazing!"),
        ("2024-05-01T09:05:00+00:00", "Melanie", "Ha, yes!"),
        ("2024-05-02T09:00:00+00:00", "Caroline", "The new café opened on my street."),
        ("2024-05-02T09:05:00+00:00", "Melanie", hers),
    ]
    ingest(memory, [chat_folder(tmp_path / "chat", "Caroline", chat)])
    conn = memory.db.conn
    question = "What activities does Melanie do?"
    assert asking.without_senders(conn, question) == "What activities does do?"
    assert asking.without_senders(conn, "Where has Melanie’s family camped?") == (
        "Where has family camped?"
    )
    assert asking.without_senders(conn, "What do Caroline and Melanie like?") == (
        "What do and like?"
    )
    # You too; no sender named; nothing but the name to search.
    for kept in ("Where did Melanie and I go?", "What does Rocha do?", "What about Melanie?"):
        assert asking.without_senders(conn, kept) == kept
    ids = dict(conn.execute("SELECT text, id FROM episodes").fetchall())
    assert dense_ranking(memory, question, 4)[0] != ids[hers]
    assert dense_ranking(memory, dense_query(memory, question), 4)[0] == ids[hers]
    assert recall(memory, question, k=1)[0].text == hers


def test_one_long_session_cannot_take_every_place(memory: Memory, tmp_path: Path) -> None:
    """Twelve messages of one evening about the bakery, and three other days that also
    speak of it: the other days keep places in the first ten."""
    said = "The bakery on our street, part {}: bakery bread"
    evening = [(f"2024-05-01T20:{m:02d}:00+00:00", "Ana", said.format(m)) for m in range(12)]
    others = [
        ("2024-06-03T09:00:00+00:00", "Ana", "A new bakery opened near the office."),
        ("2024-07-09T09:00:00+00:00", "Ana", "The bakery closed for the summer."),
        ("2024-08-19T09:00:00+00:00", "Ana", "Bread from the bakery again."),
    ]
    ingest(memory, [chat_folder(tmp_path / "chat", "Ana", evening + others)])
    texts = [h.text for h in recall(memory, "bakery bread", k=10)]
    assert sum(t.startswith("The bakery on our street") for t in texts) == SESSION_MOST
    assert "A new bakery opened near the office." in texts
    assert "The bakery closed for the summer." in texts
    assert "Bread from the bakery again." in texts
    # What was moved down comes right after: nothing is lost.
    more = [h.text for h in recall(memory, "bakery bread", k=15)]
    assert sum(t.startswith("The bakery on our street") for t in more) == 12


def test_your_words_come_before_the_ai_answer_to_them(
    memory: Memory, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """ChatGPT's long answer about rents matches "rent" better than your prompt, which
    told what you pay without the word: the prompt is shown first, the answer after."""
    from assistant import recall as recall_mod

    mine = "I'm a data analyst in Lisbon. We pay 950 € for a one-bedroom in Arroios. Should I move?"
    answer = (  # its start is indexed with your prompt (the `reply` column): no rent in it
        "Good question! Here is a rough side-by-side of the two cities. These are estimates, so "
        "treat them as orders of magnitude rather than exact numbers, and check them against "
        "current listings and your own contract before deciding anything. Salaries, taxes and "
        "costs vary a lot by neighbourhood and by employer.\n\n"
        "Rent in Lisbon has risen fast: a one-bedroom rent in the centre is 1,100 to 1,400 € a "
        "month, and rent in Berlin is higher still. Compare the rent to your net salary."
    )
    export = [chatgpt_conversation("c-1", "Lisbon or Berlin", [
        (1709290000.0, "user", mine), (1709290030.0, "assistant", answer),
    ])]  # fmt: skip
    (tmp_path / "export").mkdir()
    (tmp_path / "export" / "conversations.json").write_text(json.dumps(export), encoding="utf-8")
    ingest(memory, [tmp_path / "export"])
    question = "How much rent did we pay in Lisbon?"
    assert [h.text for h in recall(memory, question, k=2)] == [mine, answer]
    monkeypatch.setattr(recall_mod, "prompts_first", lambda memory, scored: scored)
    assert recall(memory, question, k=1)[0].text == answer  # without it, the AI's words win


def test_a_word_or_two_naming_the_asked_thing_do_not_outrank_what_tells_of_it(
    memory: Memory, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Messages of a word or two that name the dog match its name better (BM25 favours
    short texts); the message that tells what he is says more, and comes first."""
    from assistant import recall as recall_mod

    told = (
        "We adopted a dog! His name is Biscoito. He's about two, brown with one white ear, "
        "some kind of podengo mix, from the shelter in Gondomar."
    )
    chat = [
        ("2024-03-02T09:00:00+00:00", "Tiago", told),
        ("2024-03-09T09:00:00+00:00", "Tiago", "Biscoito!!"),
        ("2024-03-10T09:00:00+00:00", "Tiago", "BISCOITO 😂"),
        ("2024-03-11T09:00:00+00:00", "Tiago", "Biscoito again"),
        ("2024-03-12T09:00:00+00:00", "Tiago", "Rain again tomorrow, bring the umbrella."),
    ]
    ingest(memory, [chat_folder(tmp_path / "chat", "Tiago", chat)])
    assert recall_mod.informative("Biscoito again") < 1.0
    assert recall_mod.informative("Sent it. I declined Klarwerk.") == 1.0
    question = "What breed is Biscoito?"
    assert recall(memory, question, k=1)[0].text == told
    monkeypatch.setattr(recall_mod, "SHORT_FLOOR", 1.0)  # without the prior, a short one wins
    assert recall(memory, question, k=1)[0].text != told


def test_a_question_word_no_memory_holds_leans_on_meaning(
    memory: Memory, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The word "breed" is written nowhere: the keyword side can only match the dog's
    name, and ranks the shortest messages naming him first. For a word no memory holds
    the blend leans to the dense side, which moves "some kind of podengo mix" up past
    some of them (fifth of seven here, seventh without)."""
    from assistant import recall as recall_mod

    told = (
        "We adopted a dog! His name is Biscoito. He's about two, brown with one white ear, "
        "some kind of podengo mix, from the shelter in Gondomar. Scared of the stairs."
    )
    named = [
        "Biscoito made breakfast?",
        "Beach with Biscoito at eleven?",
        "He's in the car. BISCOITO IS OURS",
        "Bia can keep Biscoito in August",
        "Biscoito stole a whole sock today",
        "Vet says Biscoito needs a bath",
    ]
    chat = [("2024-03-02T09:00:00+00:00", "Tiago", told)] + [
        (f"2024-03-{day:02d}T09:00:00+00:00", "Tiago", text)
        for day, text in enumerate(named, start=9)
    ]
    ingest(memory, [chat_folder(tmp_path / "chat", "Tiago", chat)])
    question = "What breed is Biscoito?"
    assert recall_mod.keyword_share(memory, question) < recall_mod.KEYWORD_SHARE
    assert recall_mod.keyword_share(memory, "Where is Biscoito?") == recall_mod.KEYWORD_SHARE

    def place() -> int:
        return [h.text for h in recall(memory, question, k=len(chat))].index(told)

    leaning = place()
    monkeypatch.setattr(recall_mod, "UNHEARD_SHARE", 0.0)
    assert leaning < place()  # without it, messages that only name him come first


def test_a_when_question_prefers_the_message_that_says_when(
    memory: Memory, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """ "When did Jon get mentored?": the answer is the message that places it against
    its own day ("…yesterday!"), not the ones that only talk about the business. A
    note that says "yesterday" is not taken in: notes hold dates by their nature."""
    from assistant import recall as recall_mod

    told = (
        "Gina, you won't believe it - I got mentored by this amazing business dude "
        "yesterday! It was really inspiring and now I'm even more pumped to chase my dreams. "
        "The studio is busy, the kids class is full and the floor finally got fixed."
    )
    talk = [
        "Business mentoring sounds great, Jon!",
        "Jon, a business mentor could really help you.",
        "Got any tips on mentoring for a new business, Jon?",
        "Jon's business could use some mentoring.",
    ]
    chat = [
        (f"2023-06-{day:02d}T10:00:00+00:00", "Jon" if day % 2 else "Gina", text)
        for day, text in enumerate(talk, start=2)
    ] + [("2023-06-16T10:00:00+00:00", "Jon", told)]
    notes = tmp_path / "notes"
    notes.mkdir()
    (notes / "studio.md").write_text("# Studio\n\nYesterday: mentor call about the business.\n")
    ingest(memory, [chat_folder(tmp_path / "chat", "Jon and Gina", chat), notes])

    question = "When did Jon get mentored for his business?"
    ids = [h.id for h in recall(memory, question, k=10)]
    told_id = next(h.id for h in recall(memory, "amazing business dude", k=1))
    note_id = next(h.id for h in recall(memory, "mentor call", k=1) if h.conversation is None)
    assert recall_mod.told_when(memory, question, ids) == [told_id]
    assert note_id in ids and recall_mod.told_when(memory, "Who mentored Jon?", ids) == []

    def place() -> int:
        return [h.text for h in recall(memory, question, k=10)].index(told)

    with_it = place()
    monkeypatch.setattr(recall_mod, "TOLD_WHEN_WEIGHT", 0.0)
    assert with_it == 0 and place() > 0  # without it, shorter messages that match win
