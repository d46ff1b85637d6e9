"""iCalendar connector: the shared contract plus zones, recurrence in words and bad calendars."""

from __future__ import annotations

import json
import logging
import time
from datetime import UTC, date, datetime
from pathlib import Path
from typing import ClassVar
from zoneinfo import ZoneInfo

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from icalendar.prop import vRecur

from assistant.identity import Identity, normalize
from connectors.base import Connector, Item, ParseError
from connectors.ical import ICalConnector, _parse_rule, occurrences, recurrence_words
from tests.connector_contract import FIXTURES, MTIME, ConnectorContract

ICAL = FIXTURES / "ical"
BAD = FIXTURES / "bad" / "ical"
CONNECTOR = ICalConnector()
LISBON = ZoneInfo("Europe/Lisbon")
FAMILIA = ICAL / "familia.ics"
TRABALHO = ICAL / "trabalho.ics"
SEM_UID = ICAL / "sem_uid.ical"
SERIES_UID = "040000008200E00074C5B7101A82E00800000000weekly-sync"


def local(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    """A naive wall-clock time read as local time, as the connector must."""
    return datetime(year, month, day, hour, minute).astimezone()


def parse(path: Path, data: bytes | None = None) -> list[Item]:
    return CONNECTOR.parse(path, path.read_bytes() if data is None else data, MTIME)


def calendar(*events: str) -> bytes:
    body = "".join(f"BEGIN:VEVENT\r\n{e.strip()}\r\nEND:VEVENT\r\n" for e in events)
    return f"BEGIN:VCALENDAR\r\nVERSION:2.0\r\n{body}END:VCALENDAR\r\n".encode()


def by_uid(items: list[Item]) -> dict[str, Item]:
    return {i.locator: i for i in items}


class TestICalContract(ConnectorContract):
    connector: ClassVar[Connector] = CONNECTOR

    def sample_files(self) -> list[Path]:
        return [FAMILIA, TRABALHO, SEM_UID]

    def make_file(self, directory: Path, body: str) -> Path:
        escaped = body.replace("\\", "\\\\").replace(";", "\\;").replace(",", "\\,")
        description = escaped.replace("\n", "\\n")
        path = directory / "sample.ics"
        path.write_bytes(
            calendar(f"UID:sample@example.org\r\nDTSTART:20240305T100000Z\r\nSUMMARY:Nota\r\n"
                     f"DESCRIPTION:{description}")
        )  # fmt: skip
        return path


# --- single events: all-day, zoned, UTC, floating ------------------------------------------


def test_all_day_event_is_local_midnight() -> None:
    item = by_uid(parse(FAMILIA))["feriado-25-abril-2024@example.org"]
    assert item.text == "Feriado: 25 de Abril\nWhen: Thursday 25 April 2024, all day"
    assert item.time == local(2024, 4, 25)
    assert item.title == "Feriado: 25 de Abril"
    assert item.document == "ical:feriado-25-abril-2024@example.org"
    assert item.sender is None
    assert item.author == "self"  # no organizer: the user's own calendar entry
    assert dict(item.meta) == {
        "uid": "feriado-25-abril-2024@example.org",
        "start": "2024-04-25",
        "end": "2024-04-26",
        "all_day": True,
        "timezone": None,
        "location": None,
        "attendees": [],
        "organizer": None,
        "status": "CONFIRMED",
        "rrule": None,
    }


def test_multi_day_all_day_event_ends_the_day_before_dtend() -> None:
    item = by_uid(parse(FAMILIA))["porto-weekend-2024@example.org"]
    assert item.text == (
        "Fim de semana no Porto\n"
        "When: Saturday 20 April 2024 to Sunday 21 April 2024, all day\n"
        "Where: Ribeira, Porto\n"
        "\n"
        "Alfa Pendular às 8h09 de Santa Apolónia.\n"
        "Alojamento reservado pela Inês."
    )


def test_zoned_event_with_organizer_and_attendees() -> None:
    item = by_uid(parse(FAMILIA))["jantar-ines-2024@example.org"]
    assert item.time == datetime(2024, 3, 16, 20, 30, tzinfo=LISBON)
    assert item.time.utcoffset() is not None
    assert item.text == (
        "Jantar de aniversário da Inês\n"
        "When: Saturday 16 March 2024, 20:30–23:00 (Europe/Lisbon)\n"
        "Where: Taberna do Largo, Alfama, Lisboa\n"
        "Organizer: Ana Ribeiro <ana@example.org>\n"
        "Attendees: Rui Costa <rui@example.com>, Inês Moura <ines@example.net>, "
        "tomas@example.org\n"
        "\n"
        "Mesa para seis. O Rui leva o bolo."
    )
    assert item.sender == "Ana Ribeiro <ana@example.org>"
    assert item.meta["attendees"] == [
        "Rui Costa <rui@example.com>",
        "Inês Moura <ines@example.net>",
        "tomas@example.org",
    ]
    assert item.meta["timezone"] == "Europe/Lisbon"
    assert item.meta["start"] == "2024-03-16T20:30:00+00:00"


def test_summer_time_in_lisbon_has_its_offset() -> None:
    items = parse(TRABALHO)
    series = by_uid(items)[SERIES_UID]
    assert series.meta["occurrences"][3] == "2024-04-09T10:00:00+01:00"


def test_utc_event() -> None:
    item = by_uid(parse(TRABALHO))["call-tokyo-0314@example.jp"]
    assert item.time == datetime(2024, 3, 14, 0, 0, tzinfo=UTC)
    assert item.text == (
        "Call with the Tokyo office 東京オフィス\n"
        "When: Thursday 14 March 2024, 00:00–01:00 (UTC)\n"
        "Organizer: kenji@example.jp\n"
        "\n"
        "Quarterly planning. Kenji shares the roadmap."
    )
    assert item.sender == "kenji@example.jp"
    assert item.meta["timezone"] == "UTC"


def test_floating_event_is_local_time() -> None:
    item = by_uid(parse(TRABALHO))["dentista-0319@example.org"]
    assert item.time == local(2024, 3, 19, 15)
    assert item.text == (
        "Dentista — Dra. Okafor\n"
        "When: Tuesday 19 March 2024, 15:00–16:00 (local time)\n"
        "Where: Clínica Sorriso"
    )
    assert item.meta["timezone"] is None
    assert item.meta["start"] == "2024-03-19T15:00:00"


def test_windows_zone_name_and_cancelled_status() -> None:
    item = by_uid(parse(TRABALHO))["london-visit@example.org"]
    assert item.time == datetime(2024, 6, 6, 9, 30, tzinfo=ZoneInfo("Europe/London"))
    assert item.text == (
        "Client workshop in London\n"
        "When: Thursday 6 June 2024, 09:30–17:00 (Europe/London)\n"
        "Status: cancelled"
    )
    assert item.meta["status"] == "CANCELLED"


def test_unknown_tzid_is_read_as_local_time() -> None:
    data = calendar("UID:m@x\r\nSUMMARY:Base\r\nDTSTART;TZID=Mars/Olympus:20240305T100000")
    [item] = CONNECTOR.parse(Path("mars.ics"), data, MTIME)
    assert item.time == local(2024, 3, 5, 10)
    assert item.meta["unknown_tzid"] == "Mars/Olympus"


def test_todos_are_ignored() -> None:
    items = parse(TRABALHO)
    assert "Enviar relatório trimestral" not in "\n".join(i.text for i in items)
    assert len(items) == 5


# --- recurrence -----------------------------------------------------------------------------


def test_weekly_series_with_exdate_and_a_changed_occurrence() -> None:
    items = by_uid(parse(TRABALHO))
    series = items[SERIES_UID]
    assert series.text == (
        "Reunião semanal de equipa\n"
        "When: Tuesday 5 March 2024, 10:00–10:30 (Europe/Lisbon)\n"
        "Repeats: every week on Tuesday until 2024-06-25\n"
        "Except: Tuesday 2 April 2024\n"
        "Changed: Tuesday 19 March 2024\n"
        "First dates: Tuesday 5 March 2024, Tuesday 12 March 2024, Tuesday 26 March 2024, "
        "Tuesday 9 April 2024, Tuesday 16 April 2024, ...\n"
        "Where: Sala Tejo (2.º piso)\n"
        "Organizer: Rui Costa <rui@example.com>\n"
        "Attendees: Ana Ribeiro <ana@example.org>, Kenji Watanabe <kenji@example.jp>"
    )
    assert series.meta["rrule"] == "FREQ=WEEKLY;UNTIL=20240625T090000Z;BYDAY=TU"
    assert series.meta["exdates"] == ["2024-04-02T10:00:00+01:00"]
    assert series.time == datetime(2024, 3, 5, 10, tzinfo=LISBON)

    changed = items[f"{SERIES_UID}/2024-03-19T10:00:00+00:00"]
    assert changed.document == series.document == f"ical:{SERIES_UID}"
    assert changed.time == datetime(2024, 3, 19, 15, tzinfo=LISBON)
    assert changed.text == (
        "Reunião semanal de equipa (à tarde)\n"
        "When: Tuesday 19 March 2024, 15:00–15:30 (Europe/Lisbon)\n"
        "Changed occurrence of a series, originally Tuesday 19 March 2024 10:00\n"
        "Where: Sala Tejo (2.º piso)\n"
        "Organizer: Rui Costa <rui@example.com>"
    )
    assert changed.meta["recurrence_id"] == "2024-03-19T10:00:00+00:00"


def test_yearly_birthday() -> None:
    item = by_uid(parse(FAMILIA))["aniversario-ines@example.org"]
    assert item.text == (
        "Aniversário da Inês 🎂\n"
        "When: Thursday 3 May 1990, all day\n"
        "Repeats: every year on 3 May\n"
        "First dates: Thursday 3 May 1990, Friday 3 May 1991, Sunday 3 May 1992, "
        "Monday 3 May 1993, Tuesday 3 May 1994, ..."
    )
    assert item.time == local(1990, 5, 3)
    assert item.meta["rrule"] == "FREQ=YEARLY"


def test_monthly_nth_weekday_with_count_and_no_uid() -> None:
    items = parse(SEM_UID)
    swim = items[1]
    assert swim.text.splitlines()[2:] == [
        "Repeats: every month on the second Tuesday, 6 times",
        "First dates: Tuesday 9 January 2024, Tuesday 13 February 2024, Tuesday 12 March 2024, "
        "Tuesday 9 April 2024, Tuesday 14 May 2024, ...",
    ]
    assert swim.locator.startswith("nouid-")
    assert swim.document == f"ical:{swim.locator}"


def rule(text: str):
    return _parse_rule(vRecur.from_ical(text))


@pytest.mark.parametrize(
    ("rrule", "start", "words"),
    [
        (
            "FREQ=WEEKLY;BYDAY=TU;UNTIL=20240630",
            date(2024, 3, 5),
            "every week on Tuesday until 2024-06-30",
        ),
        ("FREQ=YEARLY", date(1990, 5, 3), "every year on 3 May"),
        (
            "FREQ=WEEKLY;INTERVAL=2;BYDAY=MO,WE",
            date(2024, 3, 4),
            "every 2 weeks on Monday and Wednesday",
        ),
        ("FREQ=WEEKLY", date(2024, 3, 8), "every week on Friday"),
        ("FREQ=MONTHLY", date(2024, 3, 15), "every month on day 15"),
        ("FREQ=MONTHLY;BYMONTHDAY=-1", date(2024, 3, 31), "every month on the last day"),
        (
            "FREQ=MONTHLY;BYDAY=-1FR;COUNT=3",
            date(2024, 3, 29),
            "every month on the last Friday, 3 times",
        ),
        (
            "FREQ=YEARLY;BYMONTH=3;BYDAY=-1SU",
            date(2024, 3, 31),
            "every year in March on the last Sunday",
        ),
        ("FREQ=DAILY;COUNT=1", date(2024, 3, 5), "every day, once"),
        (
            "FREQ=DAILY;BYDAY=MO,TU,WE,TH,FR",
            date(2024, 3, 5),
            "every day on Monday, Tuesday, Wednesday, Thursday and Friday",
        ),
        ("FREQ=HOURLY;INTERVAL=6", date(2024, 3, 5), "every 6 hours"),
    ],
)
def test_recurrence_in_words(rrule: str, start: date, words: str) -> None:
    assert recurrence_words(rule(rrule), start) == words


def test_until_is_read_in_the_event_zone() -> None:
    start = datetime(2024, 3, 5, 23, 30, tzinfo=ZoneInfo("Asia/Tokyo"))
    words = recurrence_words(rule("FREQ=DAILY;UNTIL=20240310T143000Z"), start)
    assert words == "every day until 2024-03-10"
    words = recurrence_words(rule("FREQ=DAILY;UNTIL=20240310T153000Z"), start)
    assert words == "every day until 2024-03-11"


def test_occurrences_respect_until_count_and_exclusions() -> None:
    start = datetime(2024, 3, 5, 10, tzinfo=LISBON)
    dates, more = occurrences(
        rule("FREQ=WEEKLY;COUNT=4"), start, [datetime(2024, 3, 12, 10, tzinfo=UTC)]
    )
    assert [d.isoformat() for d in dates] == [
        "2024-03-05T10:00:00+00:00",
        "2024-03-19T10:00:00+00:00",
        "2024-03-26T10:00:00+00:00",
    ]
    assert more is False
    dates, more = occurrences(rule("FREQ=DAILY;UNTIL=20240103"), date(2024, 1, 1), [])
    assert dates == [date(2024, 1, 1), date(2024, 1, 2), date(2024, 1, 3)]
    leap, _ = occurrences(rule("FREQ=YEARLY"), date(2024, 2, 29), [])
    assert leap == [date(2024, 2, 29), date(2028, 2, 29), date(2032, 2, 29),
                    date(2036, 2, 29), date(2040, 2, 29)]  # fmt: skip


@pytest.mark.parametrize(
    "rrule",
    [
        "FREQ=SECONDLY",
        "FREQ=SECONDLY;BYMONTH=2;BYMONTHDAY=30",
        "FREQ=DAILY;BYSETPOS=366;BYDAY=MO,TU,WE,TH,FR,SA,SU",
        "FREQ=SECONDLY;BYSETPOS=2",
        "FREQ=MINUTELY;BYMONTH=2;BYMONTHDAY=31",
        "FREQ=YEARLY;INTERVAL=100000",
    ],
)
def test_unbounded_or_hopeless_rules_finish_quickly(rrule: str) -> None:
    data = calendar(f"UID:r@x\r\nSUMMARY:Spam\r\nDTSTART:20240229T100000Z\r\nRRULE:{rrule}")
    started = time.perf_counter()
    [item] = CONNECTOR.parse(Path("r.ics"), data, MTIME)
    assert time.perf_counter() - started < 3
    assert len(item.meta["occurrences"]) <= 5
    assert sorted(item.meta["rrule"].split(";")) == sorted(rrule.split(";"))  # icalendar's order


def test_every_second_forever_lists_five_seconds() -> None:
    data = calendar("UID:s@x\r\nSUMMARY:Tick\r\nDTSTART:20240229T100000Z\r\nRRULE:FREQ=SECONDLY")
    [item] = CONNECTOR.parse(Path("s.ics"), data, MTIME)
    assert item.text.splitlines()[2:] == [
        "Repeats: every second",
        "First dates: Thursday 29 February 2024 10:00, Thursday 29 February 2024 10:00:01, "
        "Thursday 29 February 2024 10:00:02, Thursday 29 February 2024 10:00:03, "
        "Thursday 29 February 2024 10:00:04, ...",
    ]


def test_rule_not_understood_is_kept_as_written() -> None:
    data = calendar("UID:b@x\r\nSUMMARY:Odd\r\nDTSTART:20240305T100000Z\r\nRRULE:FREQ=SOMETIMES")
    [item] = CONNECTOR.parse(Path("b.ics"), data, MTIME)
    assert item.text.splitlines()[2] == "Repeats: FREQ=SOMETIMES (rule not understood)"
    data = calendar(
        "UID:c@x\r\nSUMMARY:Odd\r\nDTSTART:20240305T100000Z\r\nRRULE:FREQ=DAILY;BYHOUR=25"
    )
    [item] = CONNECTOR.parse(Path("c.ics"), data, MTIME)
    assert item.text.splitlines()[2] == "Repeats: FREQ=DAILY;BYHOUR=25 (rule not understood)"


# --- broken events, duplicates, long text ---------------------------------------------


def test_broken_event_is_skipped_with_a_warning(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING, logger="connectors.ical"):
        items = parse(SEM_UID)
    assert [i.title for i in items] == [
        "Almoço de domingo em casa da avó",
        "Aula de natação da Sofia",
    ]
    assert "skipped event 'Evento com data inválida'" in caplog.text
    assert items[0].text == (
        "Almoço de domingo em casa da avó\nWhen: Sunday 24 March 2024, 13:00–16:00 (local time)"
    )  # DURATION:PT3H gives the end


def test_broken_end_exdate_or_override_id_do_not_cost_the_event() -> None:
    data = calendar(
        "UID:w@x\r\nSUMMARY:Ioga\r\nDTSTART:20240305T180000Z\r\nDTEND:junk\r\n"
        "RRULE:FREQ=WEEKLY;COUNT=2\r\nEXDATE:not-a-date",
        "UID:w@x\r\nSUMMARY:Ioga (sala 2)\r\nRECURRENCE-ID:garbage\r\nDTSTART:20240312T180000Z",
    )
    items = CONNECTOR.parse(Path("w.ics"), data, MTIME)
    assert [i.title for i in items] == ["Ioga"]  # the override's RECURRENCE-ID is unusable
    assert items[0].text == (
        "Ioga\n"
        "When: Tuesday 5 March 2024 at 18:00 (UTC)\n"
        "Repeats: every week on Tuesday, 2 times\n"
        "Dates: Tuesday 5 March 2024, Tuesday 12 March 2024"
    )
    assert items[0].meta["end"] is None
    assert items[0].meta["exdates"] == []


def test_missing_uid_hash_is_stable_across_files_and_mtimes(tmp_path: Path) -> None:
    data = SEM_UID.read_bytes()
    first = CONNECTOR.parse(SEM_UID, data, MTIME)
    again = CONNECTOR.parse(tmp_path / "other name.ics", data, datetime(2031, 1, 1, tzinfo=UTC))
    assert [i.source_ref for i in first] == [i.source_ref for i in again]


def test_duplicate_uids_get_distinct_locators() -> None:
    data = calendar(
        "UID:dup@x\r\nSUMMARY:Um\r\nDTSTART:20240305T100000Z",
        "UID:dup@x\r\nSUMMARY:Um\r\nDTSTART:20240305T100000Z",
        "UID:dup@x\r\nSUMMARY:Dois\r\nDTSTART:20240306T100000Z",
    )
    items = CONNECTOR.parse(Path("d.ics"), data, MTIME)
    assert [(i.locator, i.title) for i in items] == [("dup@x", "Um"), ("dup@x~2", "Dois")]


def test_long_description_is_split(tmp_path: Path) -> None:
    description = " ".join(f"Ponto {n} da agenda da reunião anual." for n in range(100))
    data = calendar(f"UID:long@x\r\nSUMMARY:Assembleia\r\nDTSTART:20240305T100000Z\r\n"
                    f"DESCRIPTION:{description}")  # fmt: skip
    items = CONNECTOR.parse(Path("l.ics"), data, MTIME)
    assert len(items) > 1
    assert [i.locator for i in items] == [f"long@x:{k}" for k in range(len(items))]
    assert all(len(i.text) <= 1000 for i in items)
    assert {i.title for i in items} == {"Assembleia"}


# --- re-export stability and authors -------------------------------------------------------


def test_re_export_keeps_refs_and_hashes(tmp_path: Path) -> None:
    old = parse(TRABALHO)
    text = TRABALHO.read_bytes().decode()
    text = text.replace("DTSTAMP:20240301T080000Z", "DTSTAMP:20240420T181500Z")  # export time
    extra = (
        "BEGIN:VEVENT\r\nUID:novo@example.org\r\nDTSTART:20240401T090000Z\r\n"
        "SUMMARY:Planeamento Q2\r\nEND:VEVENT\r\n"
    )
    text = text.replace("BEGIN:VTODO", extra + "BEGIN:VTODO")
    new = parse(tmp_path / "Trabalho (1).ics", text.encode())
    assert [(i.source_ref, i.content_hash) for i in new[: len(old)]] == [
        (i.source_ref, i.content_hash) for i in old
    ]
    assert [i.source_ref for i in new[len(old) :]] == ["ical:novo@example.org#novo@example.org"]


def test_organizer_resolves_against_identity() -> None:
    me = Identity(frozenset({normalize("email", "rui@example.com")}))
    items = parse(TRABALHO)
    assert [i.author for i in items] == ["unknown", "unknown", "unknown", "self", "self"]
    assert [me.author_of(i) for i in items] == ["self", "self", "other", "self", "self"]
    by_name = Identity(frozenset({normalize("name", "Ana Ribeiro")}))
    assert by_name.author_of(by_uid(parse(FAMILIA))["jantar-ines-2024@example.org"]) == "self"


# --- detection and bad files ---------------------------------------------------------------


def test_detected_by_content_under_a_misleading_name(tmp_path: Path) -> None:
    head = FAMILIA.read_bytes()[:4096]
    assert CONNECTOR.detect(tmp_path / "calendar.txt", head)
    assert CONNECTOR.detect(tmp_path / "export", b"\xef\xbb\xbf" + head)
    assert CONNECTOR.detect(tmp_path / "x.txt", b"\r\n begin:vcalendar\r\n")
    assert CONNECTOR.detect(tmp_path / "Feed.ICAL", b"")
    assert not CONNECTOR.detect(tmp_path / "notes.txt", b"BEGIN:VCARD\r\nFN:Ana\r\n")


def test_detect_rejects_other_formats() -> None:
    # fixtures/life/ is a whole life in every format, calendars too
    others = [p for p in FIXTURES.rglob("*") if p.is_file() and not {"ical", "life"} & set(p.parts)]
    assert (FIXTURES / "notes" / "2024-03-14.md") in others
    for path in others:
        assert not CONNECTOR.detect(path, path.read_bytes()[:4096]), f"ical claims {path}"


def test_connector_identity() -> None:
    assert (ICalConnector.name, ICalConnector.kind, ICalConnector.history) == (
        "ical",
        "event",
        "append",
    )
    assert ICalConnector.extensions == (".ics", ".ical")


BAD_ICAL = {
    "empty.ics": "empty file: no BEGIN:VCALENDAR",
    "binary_junk.ics": "binary file, not text",
    "truncated_no_end_vcalendar.ics": "truncated calendar: no END:VCALENDAR line",
    "no_events_only_todos.ics": "calendar has no events (VEVENT); it holds 1 VTODO",
    "no_events_empty_calendar.ics": "calendar has no events (VEVENT); it holds nothing",
    "not_a_calendar_vcard.ics": "not an iCalendar file: it does not start with BEGIN:VCALENDAR",
    "every_event_broken.ics": "no readable event in the calendar; first problem: 'No start at all'",
    "utf16_without_bom.ics": "binary file, not text",
}


@pytest.mark.parametrize("name", sorted(BAD_ICAL))
def test_each_bad_file_raises_its_parse_error(name: str) -> None:
    with pytest.raises(ParseError) as caught:
        parse(BAD / name)
    assert str(caught.value).startswith(BAD_ICAL[name])


def test_every_bad_ical_fixture_has_an_expected_error() -> None:
    assert {p.name for p in BAD.iterdir()} == set(BAD_ICAL)


# --- property: random calendars raise nothing but ParseError ----------------------------------

_DATES = st.one_of(
    st.dates(min_value=date(1, 1, 1), max_value=date(9999, 12, 31)).map(lambda d: f"{d:%Y%m%d}"),
    st.datetimes(min_value=datetime(1, 1, 1), max_value=datetime(9999, 12, 31)).map(
        lambda d: f"{d:%Y%m%dT%H%M%S}"
    ),
    st.sampled_from(["20240305T100000Z", "2024-13-45", "T1000", "", "99999999T999999", "PT1H"]),
    st.text(max_size=20),
)
_PARAMS = st.sampled_from(
    ["", ";VALUE=DATE", ";TZID=Europe/Lisbon", ";TZID=Mars/Olympus", ";TZID=GMT Standard Time"]
)
_RULE_PART = st.one_of(
    st.sampled_from(["YEARLY", "MONTHLY", "WEEKLY", "DAILY", "HOURLY", "MINUTELY", "SECONDLY",
                     "SOMETIMES"]).map(lambda f: f"FREQ={f}"),
    st.integers(-3, 10**7).map(lambda n: f"INTERVAL={n}"),
    st.integers(-3, 10**9).map(lambda n: f"COUNT={n}"),
    _DATES.map(lambda d: f"UNTIL={d}"),
    st.lists(st.sampled_from(["MO", "TU", "1MO", "-1SU", "5FR", "60SA", "XX"]), max_size=3).map(
        lambda days: "BYDAY=" + ",".join(days)
    ),
    st.lists(st.integers(-40, 40), min_size=1, max_size=3).map(
        lambda ns: f"BY{'MONTHDAY'}=" + ",".join(map(str, ns))
    ),
    st.lists(st.integers(-2, 14), min_size=1, max_size=2).map(
        lambda ns: "BYMONTH=" + ",".join(map(str, ns))
    ),
    st.sampled_from(["BYSETPOS=2", "BYSETPOS=-1", "BYHOUR=25", "BYHOUR=9", "BYWEEKNO=53",
                     "BYYEARDAY=366", "WKST=SU", "BYSECOND=60"]),
    st.text(max_size=10),
)  # fmt: skip
_LINE = st.one_of(
    st.builds(lambda p, d: f"DTSTART{p}:{d}", _PARAMS, _DATES),
    st.builds(lambda p, d: f"DTEND{p}:{d}", _PARAMS, _DATES),
    st.lists(_RULE_PART, min_size=1, max_size=5).map(lambda parts: "RRULE:" + ";".join(parts)),
    st.builds(lambda p, d: f"EXDATE{p}:{d}", _PARAMS, _DATES),
    st.builds(lambda p, d: f"RECURRENCE-ID{p}:{d}", _PARAMS, _DATES),
    st.text(max_size=30).map(lambda s: f"SUMMARY:{s}"),
    st.sampled_from(["UID:a@x", "UID:b@x", "DURATION:PT1H", "DURATION:junk", "STATUS:CANCELLED",
                     "ATTENDEE;CN=Ana:mailto:ana@example.org", "ORGANIZER:bogus", "BEGIN:VALARM",
                     "END:VALARM", "END:VEVENT", "BEGIN:VEVENT", " folded continuation"]),
    st.text(max_size=40),
)  # fmt: skip


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    events=st.lists(st.lists(_LINE, max_size=8), max_size=4),
    closed=st.booleans(),
)
def test_random_calendars_raise_only_parse_errors(events: list[list[str]], closed: bool) -> None:
    body = "".join(
        "BEGIN:VEVENT\r\n" + "".join(f"{line}\r\n" for line in lines) + "END:VEVENT\r\n"
        for lines in events
    )
    text = "BEGIN:VCALENDAR\r\nVERSION:2.0\r\n" + body + ("END:VCALENDAR\r\n" if closed else "")
    started = time.perf_counter()
    try:
        items = CONNECTOR.parse(Path("random.ics"), text.encode("utf-8"), MTIME)
    except ParseError:
        return
    finally:
        assert time.perf_counter() - started < 5
    for item in items:
        assert item.text.strip()
        assert item.time.utcoffset() is not None
        assert item.document.startswith("ical:")
        json.dumps(dict(item.meta), allow_nan=False)
