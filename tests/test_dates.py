"""Date expressions resolved against the episode's own date (assistant/reflection/dates.py)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from assistant.reflection.dates import RELATIVE_WHEN, find_date, find_dates, month_number

WEDNESDAY = datetime(2023, 3, 1, 10, 0, tzinfo=UTC)  # 2023-03-01 is a Wednesday


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # relative days
        ("today", date(2023, 3, 1)),
        ("tonight", date(2023, 3, 1)),
        ("tomorrow", date(2023, 3, 2)),
        ("yesterday", date(2023, 2, 28)),
        # weekdays: "next" is next week's, "this"/"on"/bare the coming one
        ("next Friday", date(2023, 3, 10)),
        ("this Friday", date(2023, 3, 3)),
        ("on Friday", date(2023, 3, 3)),
        ("Friday", date(2023, 3, 3)),
        ("last Friday", date(2023, 2, 24)),
        ("next Monday", date(2023, 3, 6)),
        ("last Wednesday", date(2023, 2, 22)),
        ("on Wednesday", date(2023, 3, 8)),
        ("this Wednesday", date(2023, 3, 1)),
        # periods start on their first day
        ("next week", date(2023, 3, 6)),
        ("last week", date(2023, 2, 20)),
        ("this week", date(2023, 2, 27)),
        ("next month", date(2023, 4, 1)),
        ("last month", date(2023, 2, 1)),
        ("next year", date(2024, 1, 1)),
        ("last year", date(2022, 1, 1)),
        # counts
        ("in two weeks", date(2023, 3, 15)),
        ("in 3 days", date(2023, 3, 4)),
        ("in a week", date(2023, 3, 8)),
        ("in a couple of weeks", date(2023, 3, 15)),
        ("in 2 months", date(2023, 5, 1)),
        ("two days ago", date(2023, 2, 27)),
        ("a year ago", date(2022, 3, 1)),
        # day and month
        ("on 3 May", date(2023, 5, 3)),
        ("May 3rd", date(2023, 5, 3)),
        ("3rd of May", date(2023, 5, 3)),
        ("on the 2nd of May", date(2023, 5, 2)),
        ("3 May 2024", date(2024, 5, 3)),
        ("May 3rd, 2024", date(2024, 5, 3)),
        ("12 Aug", date(2023, 8, 12)),
        ("Sept 9", date(2023, 9, 9)),
        ("2024-05-01", date(2024, 5, 1)),
        # months and years
        ("in March", date(2023, 3, 1)),
        ("in March 2024", date(2024, 3, 1)),
        ("in September", date(2023, 9, 1)),
        ("last March", date(2022, 3, 1)),
        ("next March", date(2024, 3, 1)),
        ("since April", date(2023, 4, 1)),
        ("June 2021", date(2021, 6, 1)),
        ("in 2021", date(2021, 1, 1)),
        ("since 2019", date(2019, 1, 1)),
    ],
)
def test_expressions_resolve_against_the_anchor(text: str, expected: date) -> None:
    assert find_date(text, WEDNESDAY) == expected
    assert find_date(f"I said it {text}, really", WEDNESDAY) == expected


@pytest.mark.parametrize(
    "text",
    [
        "3/5",
        "03/05/2024",
        "5.3.",
        "every Sunday",
        "each Monday",
        "I may go",
        "it's 2023",
        "31 February",
        "room 12 may be free",
        "no date here",
        "",
    ],
)
def test_ambiguous_or_absent_dates_are_not_resolved(text: str) -> None:
    assert find_date(text, WEDNESDAY) is None


def test_the_anchor_day_is_the_episode_s_own_local_day() -> None:
    # 23:30 in New York is already the next day in UTC: "tomorrow" is still 2 March.
    evening = datetime(2023, 3, 1, 23, 30, tzinfo=timezone(timedelta(hours=-5)))
    assert find_date("tomorrow", evening) == date(2023, 3, 2)
    assert find_date("today", date(2023, 3, 1)) == date(2023, 3, 1)


def test_last_march_said_in_march_is_a_year_ago_and_in_june_this_year() -> None:
    assert find_date("last March", datetime(2023, 6, 10, tzinfo=UTC)) == date(2023, 3, 1)
    assert find_date("last March", WEDNESDAY) == date(2022, 3, 1)


def test_next_friday_from_every_day_of_the_week_is_in_the_following_week() -> None:
    for offset in range(7):
        anchor = date(2023, 2, 27) + timedelta(days=offset)  # Monday 27 Feb .. Sunday 5 Mar
        assert find_date("next Friday", anchor) == date(2023, 3, 10)


def test_a_tense_hint_picks_the_nearer_side_for_forms_without_a_direction() -> None:
    assert find_date("in November", WEDNESDAY) == date(2023, 11, 1)
    assert find_date("in November", WEDNESDAY, past=True) == date(2022, 11, 1)
    assert find_date("on Friday", WEDNESDAY, past=True) == date(2023, 2, 24)
    december = datetime(2023, 12, 10, tzinfo=UTC)
    assert find_date("in January", december) == date(2023, 1, 1)
    assert find_date("in January", december, past=False) == date(2024, 1, 1)
    assert find_date("on 3 January", december, past=False) == date(2024, 1, 3)
    # An explicit direction or year wins over the hint.
    assert find_date("next Friday", WEDNESDAY, past=True) == date(2023, 3, 10)
    assert find_date("in March 2020", WEDNESDAY, past=False) == date(2020, 3, 1)


def test_the_first_expression_wins_and_find_dates_lists_them_with_spans() -> None:
    text = "moved on 31 February, no, on 3 May, and start next Friday"
    assert find_date(text, WEDNESDAY) == date(2023, 5, 3)
    mentions = find_dates(text, WEDNESDAY)
    assert [m.value for m in mentions] == [date(2023, 5, 3), date(2023, 3, 10)]
    assert [text[m.start : m.end] for m in mentions] == ["3 May", "next Friday"]


def test_month_numbers() -> None:
    assert month_number("March") == 3
    assert month_number("sept.") == 9
    assert month_number("Mayo") is None


@settings(max_examples=300, deadline=None)
@given(
    st.text(max_size=200),
    st.dates(min_value=date(1950, 1, 1), max_value=date(2090, 12, 31)),
    st.sampled_from([None, True, False]),
)
def test_random_text_never_raises_and_stays_near_its_anchor(
    text: str, anchor: date, past: bool | None
) -> None:
    for mention in find_dates(text, anchor, past):
        assert 0 <= mention.start < mention.end <= len(text)
        assert date(1900, 1, 1) <= mention.value <= date(2100, 12, 31)


@pytest.mark.parametrize(
    ("text", "tells"),
    [
        ("I got mentored by this amazing business dude yesterday!", True),
        ("Here's a pic from last Friday with some veterans", True),
        ("I finally wrapped that up last month.", True),
        ("We adopted him a couple of weeks ago", True),
        ("See you tomorrow!", False),  # a plan, not a report
        ("I've had them for 3 years now", False),
        ("Flight on 21 December", False),  # absolute: a date, not a telling
    ],
)
def test_words_that_say_when_against_the_day_of_writing(text: str, tells: bool) -> None:
    assert (RELATIVE_WHEN.search(text) is not None) is tells
