"""The period a question names, resolved against the moment it is asked, and recall
that searches that period first."""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path

import pytest

from assistant import asking
from assistant.memory import Memory
from assistant.question_time import window_of
from assistant.service.backend import Resident
from assistant.service.requests import AskRequest, RecallRequest
from tests.conftest import FIXTURES, chat_folder

NOW = datetime(2024, 12, 31, 12, 0).astimezone()  # a Tuesday
EXPRESSIONS = FIXTURES / "time_expressions.tsv"


def _expressions() -> list[tuple[str, str, str]]:
    rows = [line.split("\t") for line in EXPRESSIONS.read_text(encoding="utf-8").splitlines()]
    return [(q, first, last) for q, first, last in (r for r in rows if r[0][:1] != "#")]


def test_the_table_of_time_expressions_is_large_enough() -> None:
    assert len(_expressions()) >= 80


@pytest.mark.parametrize(("question", "first", "last"), _expressions())
def test_the_period_a_question_names(question: str, first: str, last: str) -> None:
    window = window_of(question, NOW)
    if first == "-":
        assert window is None
        return
    assert window is not None
    assert (window.first.isoformat(), window.last.isoformat()) == (first, last)


def test_without_a_moment_the_question_is_asked_today() -> None:
    window = window_of("what happened yesterday?")
    assert window is not None and (date.today() - window.first).days == 1


CHAT = [  # the same thing said in two years: only the period tells them apart
    ("2023-03-10T09:00:00+00:00", "Ana", "We had dinner at the Thai place on Rua Augusta."),
    ("2024-03-12T09:00:00+00:00", "Ana", "We had dinner at the Thai place near the river."),
    ("2024-06-01T09:00:00+00:00", "Ana", "Lunch at the office canteen, nothing special."),
]


@pytest.fixture
def chat(memory: Memory, tmp_path: Path) -> Resident:
    service = Resident(memory)
    service.ingest([chat_folder(tmp_path / "chat", "Ana", CHAT)])
    return service


def test_recall_searches_the_named_period_first(chat: Resident) -> None:
    def first(question: str, now: datetime) -> str:
        hits = chat.recall(RecallRequest(question, k=3, reinforce=False, now=now))
        return hits[0].text

    assert "Rua Augusta" in first("Where did we have dinner in March 2023?", NOW)
    assert "near the river" in first("Where did we have dinner in March 2024?", NOW)
    # "last March" depends on when it is asked.
    assert "near the river" in first("Where did we have dinner last March?", NOW)
    assert "Rua Augusta" in first("Where did we have dinner last March?", datetime(2023, 12, 1))
    # The period boosts, it does not hide: a question about a period with nothing in it
    # still gets the best memories there are.
    assert chat.recall(RecallRequest("Thai dinner in 2019", k=2, reinforce=False, now=NOW))


def test_ask_says_which_period_it_searched(chat: Resident) -> None:
    result = chat.ask(AskRequest("Where did we have dinner last March?", remember=False, now=NOW))
    assert result.searched is not None and str(result.searched) == "2024-03-01 … 2024-03-31"
    assert result.as_json()["searched"] == {
        "first": "2024-03-01", "last": "2024-03-31", "said": "last March"
    }  # fmt: skip
    assert "near the river" in result.answer.text.splitlines()[0]


def test_a_period_bounded_by_an_event_the_persona_knows(memory: Memory) -> None:
    from assistant.asking import became_true

    service = Resident(memory)
    service.set_fact("me", "city", "Porto", since=date(2024, 3, 29))
    service.set_fact("Ana", "employer", "Maré Energy", since=date(2023, 5, 2))
    known = became_true(memory.db.conn)
    assert known("Porto") == date(2024, 3, 29) and known("Maré") == date(2023, 5, 2)
    before = window_of("Where did I work before I moved to Porto?", NOW, known)
    assert before is not None and (before.last, before.said) == (
        date(2024, 3, 28), "before I moved to Porto")  # fmt: skip
    since = window_of("What did we buy since moving to Porto?", NOW, known)
    assert since is not None and (since.first, since.last) == (date(2024, 3, 29), NOW.date())
    # An event the persona does not know bounds nothing; the rest of the question still may.
    assert window_of("What did I do before I moved to Oslo?", NOW, known) is None
    later = window_of("What did I cook after I moved to Oslo in 2023?", NOW, known)
    assert later is not None and later.first == date(2023, 1, 1)


def test_which_came_first_orders_two_events_by_their_memories(chat: Resident) -> None:
    result = chat.ask(AskRequest(
        "Which came first, the dinner on Rua Augusta or the lunch at the office canteen?",
        remember=False))  # fmt: skip
    first_line = result.answer.text.splitlines()[0]
    assert result.answer.engine == "order"
    assert first_line.startswith("Dinner on Rua Augusta came first (2023-03-10)"), first_line
    assert "then lunch at the office canteen (2024-06-01)" in first_line
    assert len(result.answer.citations) == 2 and result.thought is None
    # Reversed in the question, the same order in the answer.
    reversed_ = chat.ask(AskRequest(
        "What happened first: the lunch at the office canteen or the dinner on Rua Augusta?",
        remember=False))  # fmt: skip
    assert reversed_.answer.text.startswith("Dinner on Rua Augusta came first")


def test_how_long_between_two_events_is_computed_from_their_days(chat: Resident) -> None:
    result = chat.ask(AskRequest(
        "How many days passed between the lunch at the office canteen and the dinner on "
        "Rua Augusta?", remember=False))  # fmt: skip
    head = result.answer.text.splitlines()[0]
    assert result.answer.engine == "dates"
    # 10 March 2023 to 1 June 2024, earlier first whatever the question's order.
    assert head.startswith('449 days (about 15 months) between "dinner on Rua Augusta" '
                           "(Friday 10 March 2023)"), head  # fmt: skip
    assert '"lunch at the office canteen" (Saturday 1 June 2024)' in head
    assert len(result.answer.citations) == 2 and result.thought is None
    before = chat.ask(AskRequest(
        "How many days before the lunch at the office canteen did we have the dinner near "
        "the river?", remember=False))  # fmt: skip
    assert before.answer.text.startswith('81 days (about 3 months) between "we have the dinner')


def test_a_period_next_to_an_event_recall_finds(chat: Resident) -> None:
    def wedding(event: str) -> date | None:
        return date(2024, 9, 14) if "wedding" in event else None  # a Saturday

    weekend = window_of("What did we do the weekend after Bia's wedding?", NOW, happened=wedding)
    assert weekend is not None and (weekend.first, weekend.last) == (
        date(2024, 9, 21), date(2024, 9, 22))  # fmt: skip
    before = window_of("Where was I the week before Bia's wedding?", NOW, happened=wedding)
    assert before is not None and (before.first, before.last) == (
        date(2024, 9, 7), date(2024, 9, 14))  # fmt: skip
    # Through ask, the event is found by recall: a Friday dinner, so the next weekend.
    asked = chat.ask(AskRequest("What did we eat the weekend after the dinner on Rua Augusta?",
                                remember=False, now=NOW))  # fmt: skip
    assert asked.searched is not None and str(asked.searched) == "2023-03-11 … 2023-03-12"


def test_a_period_takes_in_the_days_it_is_told_of_after(
    memory: Memory, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Saturday's bowling is told of on Monday; an older message shares more words."""
    from assistant import recall as recall_mod

    older = "Bowling with the kids again, we went bowling all day."
    told = [
        ("2024-03-04T09:00:00+00:00", "Ana", older),
        ("2024-03-11T09:00:00+00:00", "Ana", "Saturday at the bowling alley: two strikes!"),
        ("2024-03-20T09:00:00+00:00", "Ana", "Dinner at the Thai place."),
    ]
    service = Resident(memory)
    service.ingest([chat_folder(tmp_path / "chat", "Ana", told)])

    def first() -> str:
        question = "Where did we go bowling on 9 March 2024?"
        return service.recall(RecallRequest(question, k=1, reinforce=False, now=NOW))[0].text

    assert first().startswith("Saturday at the bowling alley")
    monkeypatch.setattr(recall_mod, "TOLD_AFTER", 0)
    assert first() == older


@pytest.mark.parametrize(
    ("question", "asks"),
    [
        ("When did Jon get mentored?", True),
        ("what day is the pottery class?", True),
        ("How long ago did we move?", True),
        ("Who did I meet when I was in Berlin?", False),
        ("Where did Jon get mentored?", False),
    ],
)
def test_which_questions_ask_when(question: str, asks: bool) -> None:
    assert asking.asks_when(question) is asks
