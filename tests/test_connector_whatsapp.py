"""WhatsApp export connector: the shared contract plus Android/iOS logs, zips and dates."""

from __future__ import annotations

import contextlib
import io
import struct
import time as time_module
import tracemalloc
import zipfile
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from assistant.identity import Identity, normalize
from connectors.base import Item, ParseError
from connectors.registry import available_connectors, connector_for
from connectors.whatsapp import (
    MAX_CHAT_BYTES,
    WhatsAppConnector,
    conversation_from_filename,
    message_content,
    read_bounded,
)
from connectors.whatsapp_lines import ParsedLine, choose_date_order, parse_line
from tests.connector_contract import FIXTURES, MTIME, ConnectorContract

CHATS = FIXTURES / "whatsapp"
ANDROID = CHATS / "Conversa do WhatsApp com Ana Ribeiro.txt"
ANDROID_LATER = CHATS / "reexport" / "Conversa do WhatsApp com Ana Ribeiro (1).txt"
IOS = CHATS / "ios_group" / "_chat.txt"
AMBIGUOUS = CHATS / "WhatsApp Chat with Book Club.txt"
BAD = FIXTURES / "bad" / "whatsapp"
CONNECTOR = WhatsAppConnector()
LRM, NNBSP = "\u200e", "\u202f"
GROUP = "Lisbon Trip 🇵🇹"
DOCUMENTS = {
    ANDROID: "whatsapp:Ana Ribeiro",
    ANDROID_LATER: "whatsapp:Ana Ribeiro",
    IOS: f"whatsapp:{GROUP}",
    AMBIGUOUS: "whatsapp:Book Club",
}


def local(
    year: int, month: int, day: int, hour: int = 0, minute: int = 0, sec: int = 0
) -> datetime:
    """A naive wall-clock time read as local time, as the connector must."""
    return datetime(year, month, day, hour, minute, sec).astimezone()


def parse(path: Path) -> list[Item]:
    """The connector reads `path` itself (`reads_path`); the worker passes empty bytes."""
    return CONNECTOR.parse(path, b"", MTIME)


def parse_bytes(directory: Path, name: str, data: bytes) -> list[Item]:
    """Items of `data` saved as the file `name` in `directory`."""
    path = directory / name
    path.write_bytes(data)
    return parse(path)


@pytest.fixture(scope="module")
def scratch(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One folder for the property tests' files (hypothesis reruns a test many times)."""
    return tmp_path_factory.mktemp("whatsapp")


def write(directory: Path, name: str, text: str) -> Path:
    path = directory / name
    path.write_text(text, encoding="utf-8")
    return path


def make_zip(path: Path, members: dict[str, bytes]) -> Path:
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return path


def view(items: list[Item]) -> list[tuple[str, str | None, str]]:
    return [(i.locator, i.sender, i.text) for i in items]


class TestWhatsAppContract(ConnectorContract):
    connector = CONNECTOR

    def sample_files(self) -> list[Path]:
        return sorted(DOCUMENTS)

    def make_file(self, directory: Path, body: str) -> Path:
        return write(
            directory, "WhatsApp Chat with Ana Ribeiro.txt", f"12/03/2024, 14:05 - Ana: {body}"
        )

    def test_items_name_their_document_and_kind(self) -> None:
        # A history's document is the conversation, not the file path (the contract's
        # default check is for files read whole): see the module docstring.
        for path in self.sample_files():
            for item in self.parse(path):
                assert item.document == DOCUMENTS[path]
                assert item.source_ref == f"{DOCUMENTS[path]}#{item.locator}"
                assert item.conversation == DOCUMENTS[path].removeprefix("whatsapp:")
                assert item.kind == "message"
                assert item.author == "unknown"


# --- Android, day-first, 24-hour, Portuguese ------------------------------------------


def test_android_portuguese_chat_items() -> None:
    items = parse(ANDROID)
    assert view(items) == [
        (
            "2024-02-28T21:14:00/Ana Ribeiro/0",
            "Ana Ribeiro",
            "Olá Rui! Já tens os bilhetes para o concerto? 🎶",
        ),
        ("2024-02-28T21:16:00/Rui Costa/0", "Rui Costa", "Ainda não 😅 vendem amanhã às 10h"),
        ("2024-02-28T21:16:00/Rui Costa/1", "Rui Costa", "Horário da bilheteira: 10h–19h"),
        (
            "2024-02-28T21:17:00/Ana Ribeiro/0",
            "Ana Ribeiro",
            "Perfeito. Compra dois, eu pago-te depois 💶",
        ),
        (
            "2024-02-29T09:02:00/Rui Costa/0",
            "Rui Costa",
            "Bom dia! Lista para o fim de semana:\n- pão de Mafra\n- queijo da Serra 🧀\n\n"
            "- vinho verde 🍷",
        ),
        # "<Media omitted>" alone is no memory, yet keeps its place in the count.
        ("2024-02-29T09:05:00/Ana Ribeiro/1", "Ana Ribeiro", "Olha a vista daqui ☀️🌊"),
        ("2024-03-01T12:30:00/Rui Costa/0", "Rui Costa", "[image] A francesinha do Santiago 🤤"),
        (
            "2024-03-03T18:40:00/Rui Costa/0",
            "Rui Costa",
            "Chego à estação de São Bento às 19h30 🚆",
        ),
        # The deleted message at 18:41 gives no item but keeps its place in the count.
        ("2024-03-03T18:41:00/Ana Ribeiro/1", "Ana Ribeiro", "Espero-te na saída 🙂"),
        (
            "2024-03-14T22:03:00/Rui Costa/0",
            "Rui Costa",
            "Obrigado pelo jantar de ontem, foi incrível ❤️",
        ),
    ]
    assert [i.time for i in items[:3]] == [
        local(2024, 2, 28, 21, 14),
        local(2024, 2, 28, 21, 16),
        local(2024, 2, 28, 21, 16),
    ]
    assert items[-1].time == local(2024, 3, 14, 22, 3)
    assert dict(items[0].meta) == {
        "platform": "android",
        "date_order": "day-first",
        "date_order_source": "evidence",
        "participants": ["Ana Ribeiro", "Rui Costa"],
    }
    assert items[6].meta["attachments"] == [
        {"type": "image", "file": "IMG-20240301-WA0004.jpg", "omitted": False}
    ]
    assert items[7].meta["edited"] is True
    assert [i for i, item in enumerate(items) if "edited" in item.meta] == [7]
    assert not any("[media]" in i.text for i in items)
    assert {i.document for i in items} == {"whatsapp:Ana Ribeiro"}
    assert {i.conversation for i in items} == {"Ana Ribeiro"}


# --- iOS, month-first, 12-hour, group --------------------------------------------------


def test_ios_group_chat_items() -> None:
    items = parse(IOS)
    assert view(items) == [
        (
            "2024-03-12T09:45:27/Ana Ribeiro/0",
            "Ana Ribeiro",
            "Welcome everyone! Dates: May 3–6. Flights from Munich are cheapest on Friday ✈️",
        ),
        ("2024-03-12T09:47:02/Kenji Watanabe/0", "Kenji Watanabe", "楽しみ！I'm in 🙌"),
        (
            "2024-03-12T09:51:40/Rui Costa/0",
            "Rui Costa",
            "Packing list so far:\n• sunscreen\n• adapters (type F)\n• pastéis de nata budget 😄",
        ),
        ("2024-03-14T13:05:31/Ana Ribeiro/0", "Ana Ribeiro", "Hotel booked near Alfama, 3 rooms"),
        (
            "2024-03-14T13:07:12/+351 912 345 678/0",
            "+351 912 345 678",
            "This is Rui's work phone, use this one for the booking codes",
        ),
        ("2024-03-14T13:10:22/Ana Ribeiro/0", "Ana Ribeiro", "[document: Flights MUC-LIS.pdf]"),
        ("2024-03-14T13:11:30/Rui Costa/0", "Rui Costa", "Sorry, wrong group 🙈"),
        (
            "2024-03-14T23:58:09/Kenji Watanabe/0",
            "Kenji Watanabe",
            "Note to self: 12:30 lunch at Time Out Market",
        ),
        ("2024-03-15T08:15:00/Ana Ribeiro/0", "Ana Ribeiro", "Bom dia! ☀️"),
        ("2024-03-15T08:15:00/Ana Ribeiro/1", "Ana Ribeiro", "Taxi or metro from the airport?"),
    ]  # the photo at 09:50:15, the voice note at 13:08 and the photo at 08:16:12 give none
    assert items[0].time == local(2024, 3, 12, 9, 45, 27)
    assert items[3].time == local(2024, 3, 14, 13, 5, 31)  # "1:05:31 PM"
    assert items[7].time == local(2024, 3, 14, 23, 58, 9)
    assert {i.document for i in items} == {f"whatsapp:{GROUP}"}
    meta = dict(items[0].meta)
    assert meta == {
        "platform": "ios",
        "date_order": "month-first",
        "date_order_source": "evidence",
        "participants": ["Ana Ribeiro", "Kenji Watanabe", "Rui Costa", "+351 912 345 678"],
    }
    assert items[3].meta["edited"] is True
    assert items[5].meta["attachments"] == [
        {"type": "document", "file": "00000016-Flights MUC-LIS.pdf", "omitted": False}
    ]
    assert [i.meta.get("attachments") for i in items].count(None) == len(items) - 1


def test_ios_system_lines_never_become_items() -> None:
    items = parse(IOS)
    assert GROUP not in {i.sender for i in items}
    joined = "\n".join(i.text for i in items)
    for system in ("end-to-end", "created group", "added", "changed", "security code"):
        assert system not in joined
    assert "This message was deleted" not in joined
    assert all(LRM not in i.text and LRM not in (i.sender or "") for i in items)


def test_midnight_in_a_12_hour_clock(tmp_path: Path) -> None:
    text = f"[3/15/24, 12:03:44{NNBSP}AM] Ana: late\n[3/15/24, 12:10:00{NNBSP}PM] Ana: noon\n"
    items = parse(write(tmp_path, "_chat.txt", text))
    assert [i.time for i in items] == [local(2024, 3, 15, 0, 3, 44), local(2024, 3, 15, 12, 10)]


# --- zip exports ----------------------------------------------------------------------


def test_ios_zip_built_from_the_fixture_gives_the_same_items(tmp_path: Path) -> None:
    archive = make_zip(
        tmp_path / f"WhatsApp Chat - {GROUP}.zip",
        {
            "_chat.txt": IOS.read_bytes(),
            "00000012-PHOTO-2024-03-12-09-50-15.jpg": b"\xff\xd8\xff\xe0 not really a jpeg",
            "00000015-AUDIO-2024-03-14-13-08-00.opus": b"OggS fake audio",
        },
    )
    assert CONNECTOR.detect(archive, archive.read_bytes()[:4096])
    picked = connector_for(archive, available_connectors())
    assert picked is not None and picked.name == "whatsapp"  # no other zip reader claims it
    from_zip = parse(archive)
    from_txt = parse(IOS)
    assert from_zip == from_txt
    assert [i.content_hash for i in from_zip] == [i.content_hash for i in from_txt]


def test_android_zip_takes_the_name_of_its_chat_member(tmp_path: Path) -> None:
    archive = make_zip(
        tmp_path / "export.zip",
        {"IMG-20240301-WA0004.jpg": b"\xff\xd8 fake", ANDROID.name: ANDROID.read_bytes()},
    )
    assert CONNECTOR.detect(archive, archive.read_bytes()[:4096])
    assert parse(archive) == parse(ANDROID)


def test_zip_named_after_ios_chat_overrides_the_log(tmp_path: Path) -> None:
    archive = make_zip(
        tmp_path / "WhatsApp Chat - Trip planning.zip", {"_chat.txt": IOS.read_bytes()}
    )
    assert {i.document for i in parse(archive)} == {"whatsapp:Trip planning"}


def test_rezipped_export_folder_names_the_chat(tmp_path: Path) -> None:
    archive = make_zip(
        tmp_path / "backup.zip", {"WhatsApp Chat - Trip planning/_chat.txt": IOS.read_bytes()}
    )
    assert {i.document for i in parse(archive)} == {"whatsapp:Trip planning"}


# --- date order -----------------------------------------------------------------------


def test_ambiguous_file_defaults_to_day_first() -> None:
    items = parse(AMBIGUOUS)
    assert {(i.meta["date_order"], i.meta["date_order_source"]) for i in items} == {
        ("day-first", "default")
    }
    assert [i.time for i in items] == [
        local(2024, 2, 1, 20, 16),
        local(2024, 2, 1, 20, 18),
        local(2024, 2, 3, 11, 7),
        local(2024, 2, 7, 19, 31),
    ]


def test_ambiguous_group_system_lines_with_colons_are_not_messages() -> None:
    items = parse(AMBIGUOUS)
    assert view(items) == [
        (
            "2024-02-01T20:16:00/Marta Silva/0",
            "Marta Silva",
            'First pick: "Ensaio sobre a cegueira" by Saramago 📚',
        ),
        ("2024-02-01T20:18:00/Rui Costa/0", "Rui Costa", "Great choice. Meeting at mine?"),
        (
            "2024-02-03T11:07:00/Tomás Ribeiro/0",
            "Tomás Ribeiro",
            "Hi all! Page 120 so far, no spoilers please 🙏",
        ),
        (
            "2024-02-07T19:31:00/Marta Silva/0",
            "Marta Silva",
            "Reminder: we meet on Saturday at 17:00\nBring snacks 🍪",
        ),
    ]
    assert items[0].meta["participants"] == ["Marta Silva", "Rui Costa", "Tomás Ribeiro"]


@pytest.mark.parametrize(
    ("lines", "expected"),
    [
        # Forward in time only when read day-first (11 Jan, 12 Jan, 1 Feb).
        (["11/01/2024, 10:00", "12/01/2024, 10:00", "01/02/2024, 10:00"], "day-first"),
        # Forward in time only when read month-first (11 Jan, 12 Jan, 1 Feb).
        (["01/11/2024, 10:00", "01/12/2024, 10:00", "02/01/2024, 10:00"], "month-first"),
    ],
)
def test_chronology_decides_an_ambiguous_file(
    tmp_path: Path, lines: list[str], expected: str
) -> None:
    body = "".join(f"{stamp} - Ana: message {n}\n" for n, stamp in enumerate(lines))
    items = parse(write(tmp_path, "WhatsApp Chat with Ana.txt", body))
    assert {(i.meta["date_order"], i.meta["date_order_source"]) for i in items} == {
        (expected, "chronology")
    }


@pytest.mark.parametrize(
    ("stamp", "expected", "month", "day"),
    [
        (f"[3/4/24, 2:05:31{NNBSP}PM]", "month-first", 3, 4),  # en_US iOS
        ("3/4/24, 2:05 PM -", "month-first", 3, 4),  # en_US Android
        ("3/4/24, 2:05 pm -", "day-first", 4, 3),  # en_IN / en_AU: lower-case pm
        ("03/04/2024, 14:05 -", "day-first", 4, 3),  # 24-hour clock
        ("3.4.24, 2:05 PM -", "day-first", 4, 3),  # AM/PM but not "/" dates
    ],
)
def test_default_order_for_a_single_ambiguous_date(
    tmp_path: Path, stamp: str, expected: str, month: int, day: int
) -> None:
    items = parse(write(tmp_path, "WhatsApp Chat with Ana.txt", f"{stamp} Ana: hi\n"))
    assert items[0].meta["date_order"] == expected
    assert items[0].meta["date_order_source"] == "default"
    assert (items[0].time.month, items[0].time.day) == (month, day)


def test_year_first_dates(tmp_path: Path) -> None:
    items = parse(
        write(tmp_path, "WhatsApp Chat with Ana.txt", "2024-03-04, 2:05 p.m. - Ana: hi\n")
    )
    assert items[0].time == local(2024, 3, 4, 14, 5)
    assert items[0].meta["date_order"] == "year-first"


def test_choose_date_order_reasons() -> None:
    def header(first: int, second: int, meridiem: str | None = None) -> ParsedLine:
        return ParsedLine("android", first, second, 2024, False, 9, 0, 0, meridiem, "/",
                          "message", "Ana", "x")  # fmt: skip

    assert choose_date_order([]) == ("day-first", "default")
    assert choose_date_order([header(13, 1)]) == ("day-first", "evidence")
    assert choose_date_order([header(1, 13)]) == ("month-first", "evidence")
    assert choose_date_order([header(2, 3, "PM")]) == ("month-first", "default")
    assert choose_date_order([header(2, 3, "PM"), header(2, 3)]) == ("month-first", "default")
    with pytest.raises(ParseError, match="1/13/2024 is no day/month date and 13/1/2024"):
        choose_date_order([header(13, 1), header(1, 13)])


def test_dates_are_read_as_local_time(tokyo_local_time: None, tmp_path: Path) -> None:
    items = parse(write(tmp_path, "WhatsApp Chat with Ana.txt", "13/03/2024, 14:05 - Ana: hi\n"))
    jst = timezone(timedelta(hours=9))
    assert items[0].time == datetime(2024, 3, 13, 14, 5, tzinfo=jst)
    assert items[0].time.utcoffset() == timedelta(hours=9)
    assert items[0].locator == "2024-03-13T14:05:00/Ana/0"  # the wall clock, not UTC


@pytest.fixture
def tokyo_local_time(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    if not hasattr(time_module, "tzset"):
        pytest.skip("needs time.tzset to change the local zone")
    monkeypatch.setenv("TZ", "JST-9")
    time_module.tzset()
    yield
    monkeypatch.undo()
    time_module.tzset()


# --- re-exports and stable refs --------------------------------------------------------


def test_longer_reexport_keeps_old_refs_and_hashes() -> None:
    old = {(i.source_ref, i.content_hash) for i in parse(ANDROID)}
    new_items = parse(ANDROID_LATER)
    new = {(i.source_ref, i.content_hash) for i in new_items}
    assert old < new
    assert sorted(ref for ref, _ in new - old) == [
        "whatsapp:Ana Ribeiro#2024-03-14T22:03:00/Rui Costa/1",
        "whatsapp:Ana Ribeiro#2024-03-15T08:30:00/Ana Ribeiro/0",
        "whatsapp:Ana Ribeiro#2024-03-16T10:12:00/Ana Ribeiro/0",
    ]
    assert new_items[-1].text == "Vamos ao Porto em abril?\nDiz-me as datas: 12–14 ou 19–21"


def test_same_export_under_another_name_maps_to_the_same_refs(tmp_path: Path) -> None:
    renamed = write(tmp_path, "WhatsApp Chat with Ana Ribeiro.txt", ANDROID.read_text("utf-8"))
    assert [i.source_ref for i in parse(renamed)] == [i.source_ref for i in parse(ANDROID)]


def test_long_message_is_split_with_suffixed_locators(tmp_path: Path) -> None:
    sentence = "Frase número {n} sobre a viagem a Lisboa e o hotel em Alfama. "
    long_text = "".join(sentence.format(n=n) for n in range(40)).strip()
    items = parse(
        write(tmp_path, "WhatsApp Chat with Ana.txt", f"13/03/2024, 14:05 - Ana: {long_text}\n")
    )
    assert len(items) == 3
    assert [i.locator for i in items] == [f"2024-03-13T14:05:00/Ana/0:{k}" for k in range(3)]
    assert [i.meta["chunk"] for i in items] == [0, 1, 2]
    assert all(len(i.text) <= 1000 for i in items)
    assert " ".join(i.text for i in items).split() == long_text.split()


# --- conversation names ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("WhatsApp Chat with Ana Ribeiro.txt", "Ana Ribeiro"),
        ("WhatsApp Chat with Ana Ribeiro (2).txt", "Ana Ribeiro"),
        ("WhatsApp Chat - Lisbon Trip 🇵🇹.zip", "Lisbon Trip 🇵🇹"),
        ("Conversa do WhatsApp com Família 👨‍👩‍👧.txt", "Família 👨‍👩‍👧"),
        ("WhatsApp-Chat mit Jonas.txt", "Jonas"),
        ("whatsapp chat with +351 912 345 678.txt", "+351 912 345 678"),
        ("_chat.txt", None),
        ("notes.txt", None),
        ("WhatsApp Chat with .txt", None),
    ],
)
def test_conversation_from_filename(name: str, expected: str | None) -> None:
    assert conversation_from_filename(name) == expected


def test_unnamed_exports_fall_back_to_what_the_log_says(tmp_path: Path) -> None:
    ios = write(tmp_path, "_chat.txt", IOS.read_text("utf-8"))
    assert {i.document for i in parse(ios)} == {f"whatsapp:{GROUP}"}
    group = write(tmp_path, "chat.txt", AMBIGUOUS.read_text("utf-8"))
    assert {i.document for i in parse(group)} == {"whatsapp:Book Club"}
    one_to_one = write(tmp_path, "notes.txt", ANDROID.read_text("utf-8"))
    assert {i.conversation for i in parse(one_to_one)} == {"Ana Ribeiro, Rui Costa"}


# --- line parser -----------------------------------------------------------------------


@pytest.mark.parametrize(
    "line",
    [
        "12/03/2024, 14:05 - Messages and calls are end-to-end encrypted. No one outside of "
        "this chat, not even WhatsApp, can read or listen to them. Tap to learn more.",
        '12/03/2024, 14:05 - Ana created group "Trip: Lisbon"',
        "12/03/2024, 14:05 - Ana added Rui Costa",
        "12/03/2024, 14:05 - You added +351 912 345 678",
        "12/03/2024, 14:05 - Rui left",
        '12/03/2024, 14:05 - Ana changed the subject from "Trip" to "Trip: Lisbon"',
        '12/03/2024, 14:05 - Ana mudou o assunto para "Viagem: Lisboa"',  # quotes, any language
        "12/03/2024, 14:05 - Ana changed this group's icon",
        "12/03/2024, 14:05 - You joined using this group's invite link",
        "12/03/2024, 14:05 - Your security code with Ana changed. Tap to learn more.",
        "12/03/2024, 14:05 - +351 912 345 678 changed to +351 913 000 000",
        f"[12/03/2024, 14:05:31] {GROUP}: {LRM}Ana added Rui",
        f"{LRM}[3/12/24, 2:05:31{NNBSP}PM] Ana: {LRM}Messages and calls are end-to-end encrypted.",
        f"[3/12/24, 2:05:31{NNBSP}PM] {GROUP}: {LRM}Ana changed the subject to “A: B”",
        f"[3/12/24, 2:05:31{NNBSP}PM] Trip: May: {LRM}Ana added Rui",
    ],
)
def test_system_lines(line: str) -> None:
    parsed = parse_line(line)
    assert parsed is not None
    assert parsed.kind == "system"


def test_ios_system_line_names_the_chat_even_with_a_colon() -> None:
    parsed = parse_line(f"[3/12/24, 2:05:31{NNBSP}PM] Trip: May: {LRM}Ana added Rui")
    assert parsed is not None
    assert (parsed.kind, parsed.sender, parsed.text) == ("system", "Trip: May", "Ana added Rui")


@pytest.mark.parametrize(
    ("line", "sender", "text"),
    [
        ("12/03/2024, 14:05 - Ana: I added sugar: two spoons", "Ana", "I added sugar: two spoons"),
        ("12/03/2024, 14:05 - Ana: Rui left", "Ana", "Rui left"),
        ("12.03.24, 14:05 - Ana Ribeiro: x: y", "Ana Ribeiro", "x: y"),
        ("12-03-2024 14:05 - Ana: hoje", "Ana", "hoje"),
        ("12/03/24, 2:05 p. m. - Ana: hola", "Ana", "hola"),
        ("12/03/24, 2:05\u00a0pm - Ana: hi", "Ana", "hi"),
        ('12/03/2024, 14:05 - Rui "Tatu" Costa: olá', 'Rui "Tatu" Costa', "olá"),
        (f"[3/12/24, 2:05:31{NNBSP}PM] \u202a+351 912 345 678\u202c: oi", "+351 912 345 678", "oi"),
        (f"{LRM}[12/03/2024, 14:05:31] Ana: {LRM}image omitted", "Ana", f"{LRM}image omitted"),
        ("12/03/2024, 14:05 - Ana:", "Ana", ""),
    ],
)
def test_message_lines(line: str, sender: str, text: str) -> None:
    parsed = parse_line(line)
    assert parsed is not None
    assert (parsed.kind, parsed.sender, parsed.text) == ("message", sender, text)


def test_parse_line_fields() -> None:
    parsed = parse_line(f"{LRM}[3/12/24, 2:05:31{NNBSP}PM] Ana: hi")
    assert parsed == ParsedLine(
        "ios", 3, 12, 2024, False, 2, 5, 31, "PM", "/", "message", "Ana", "hi"
    )
    assert parsed.naive_time("month-first") == datetime(2024, 3, 12, 14, 5, 31)
    assert parsed.naive_time("day-first") == datetime(2024, 12, 3, 14, 5, 31)


@pytest.mark.parametrize(
    "line",
    [
        "",
        "just text",
        "12/03/2024 - Ana: no time",
        "12/03/2024, 14:05 Ana: no dash",
        "[12/03/2024, 14:05:31 Ana: no bracket",
        "12/03/2024, 14:05 - Ana: two\nlines",
        "123/03/2024, 14:05 - Ana: bad day",
    ],
)
def test_non_header_lines(line: str) -> None:
    assert parse_line(line) is None


def test_deleted_and_waiting_messages_are_placeholders() -> None:
    for text in (
        "This message was deleted",
        "You deleted this message.",
        f"{LRM}This message was deleted.",
    ):
        parsed = parse_line(f"12/03/2024, 14:05 - Ana: {text}")
        assert parsed is not None and parsed.kind == "placeholder"
    waiting = parse_line(
        "12/03/2024, 14:05 - Ana: Waiting for this message. This may take a while."
    )
    assert waiting is not None and waiting.kind == "placeholder"


@pytest.mark.parametrize(
    ("raw", "text", "attachments", "edited"),
    [
        ("<Media omitted>", "[media]", [{"type": "media", "omitted": True}], False),
        (f"{LRM}video omitted", "[video]", [{"type": "video", "omitted": True}], False),
        (
            "<View once voice message omitted>",
            "[view once voice message]",
            [{"type": "view once voice message", "omitted": True}],
            False,
        ),  # fmt: skip
        (
            f"{LRM}Trip plan.pdf • {LRM}3 pages {LRM}document omitted",
            "[document: Trip plan.pdf]",
            [{"type": "document", "omitted": True, "file": "Trip plan.pdf"}],
            False,
        ),
        (
            "Menu.pdf (file attached)\nDinner options",
            "[document: Menu.pdf] Dinner options",
            [{"type": "document", "file": "Menu.pdf", "omitted": False}],
            False,
        ),
        (
            "PTT-20240312-WA0002.opus (file attached)",
            "[audio]",
            [{"type": "audio", "file": "PTT-20240312-WA0002.opus", "omitted": False}],
            False,
        ),
        (
            f"{LRM}<attached: 00000031-STICKER-2024-03-12.webp>",
            "[sticker]",
            [{"type": "sticker", "file": "00000031-STICKER-2024-03-12.webp", "omitted": False}],
            False,
        ),
        ("Até já <This message was edited>", "Até já", [], True),
        (f"See you {LRM}<This message was edited>", "See you", [], True),
        (
            "I wrote <Media omitted> in a sentence",
            "I wrote <Media omitted> in a sentence",
            [],
            False,
        ),
        ("  spaced text  ", "spaced text", [], False),
    ],
)
def test_message_content(
    raw: str, text: str, attachments: list[dict[str, object]], edited: bool
) -> None:
    assert message_content(raw) == (text, attachments, edited)


MEDIA_ONLY_ANDROID = [
    "<Media omitted>",
    "<Arquivo de mídia oculto>",
    "<Multimedia omitido>",
    "<Medien ausgeschlossen>",
    "<Médias omis>",
    "<View once voice message omitted>",
    "PTT-20240312-WA0002.opus (file attached)",
    "IMG-20240312-WA0007.jpg (file attached)",
]


def test_media_without_a_caption_is_no_memory(tmp_path: Path) -> None:
    lines = [f"12/03/2024, 14:05 - Ana: {marker}" for marker in MEDIA_ONLY_ANDROID]
    lines += [
        "12/03/2024, 14:05 - Ana: <Media omitted>",
        "The view from the castle",  # a caption on the next line: kept
        "12/03/2024, 14:05 - Ana: Menu.pdf (file attached)",  # a named document: kept
        "12/03/2024, 14:05 - Ana: See you at 8",
    ]
    chat = tmp_path / "WhatsApp Chat with Ana.txt"
    chat.write_text("\n".join(lines) + "\n", encoding="utf-8")
    items = parse(chat)
    n = len(MEDIA_ONLY_ANDROID)  # the media still count: later messages keep their refs
    assert [(i.locator, i.text) for i in items] == [
        (f"2024-03-12T14:05:00/Ana/{n}", "[media] The view from the castle"),
        (f"2024-03-12T14:05:00/Ana/{n + 1}", "[document: Menu.pdf]"),
        (f"2024-03-12T14:05:00/Ana/{n + 2}", "See you at 8"),
    ]


def test_ios_media_without_a_caption_is_no_memory(tmp_path: Path) -> None:
    header = f"{LRM}[12/03/2024, 14:05:31] Ana: "
    markers = [
        f"{LRM}image omitted",
        f"{LRM}video omitted",
        f"{LRM}sticker omitted",
        f"{LRM}audio omitted",
        f"{LRM}<attached: 00000031-STICKER-2024-03-12.webp>",
        f"{LRM}<attached: 00000012-PHOTO-2024-03-12-09-50-15.jpg>",
    ]
    lines = [header + marker for marker in markers]
    lines.append(header + f"{LRM}<attached: 00000013-PHOTO-2024-03-12-09-51-00.jpg> Sunset")
    chat = tmp_path / "_chat.txt"
    chat.write_text("\n".join(lines) + "\n", encoding="utf-8")
    assert [i.text for i in parse(chat)] == ["[image] Sunset"]


# --- identity ----------------------------------------------------------------------------


def test_identity_resolves_senders() -> None:
    identity = Identity(
        frozenset({normalize("name", "Rui Costa"), normalize("phone", "+351 912 345 678")})
    )
    ios = {(i.sender, identity.author_of(i)) for i in parse(IOS)}
    assert ios == {
        ("Ana Ribeiro", "other"),
        ("Kenji Watanabe", "other"),
        ("Rui Costa", "self"),
        ("+351 912 345 678", "self"),
    }
    android = [(i.sender, identity.author_of(i)) for i in parse(ANDROID)]
    assert android[:3] == [("Ana Ribeiro", "other"), ("Rui Costa", "self"), ("Rui Costa", "self")]
    stranger = Identity(frozenset({normalize("name", "Someone Else")}))
    assert {stranger.author_of(i) for i in parse(ANDROID)} == {"other"}


# --- detection ---------------------------------------------------------------------------


def test_detected_from_content_under_a_misleading_name(tmp_path: Path) -> None:
    for source in (ANDROID, IOS):
        renamed = tmp_path / "notes.txt"
        renamed.write_bytes(source.read_bytes())
        assert CONNECTOR.detect(renamed, renamed.read_bytes()[:4096])
    bom = tmp_path / "chat.txt"
    bom.write_bytes(b"\xef\xbb\xbf" + ANDROID.read_bytes())
    assert CONNECTOR.detect(bom, bom.read_bytes()[:4096])
    assert parse(bom) == parse(write(tmp_path, "chat2.txt", ANDROID.read_text("utf-8")))
    markdown = tmp_path / "chat.md"
    markdown.write_bytes(ANDROID.read_bytes())
    assert not CONNECTOR.detect(markdown, markdown.read_bytes()[:4096])


def test_other_fixtures_are_not_detected() -> None:
    mine = {CHATS, BAD, FIXTURES / "life"}  # a whole life in every format, chats too
    others = [
        p
        for p in FIXTURES.rglob("*")
        if p.is_file() and not any(parent in mine for parent in p.parents)
    ]
    assert len(others) > 10
    for path in others:
        with path.open("rb") as fh:
            head = fh.read(4096)
        assert not CONNECTOR.detect(path, head), f"{path} taken for a WhatsApp export"


def test_zip_detection(tmp_path: Path) -> None:
    chat = make_zip(tmp_path / "a.zip", {"_chat.txt": IOS.read_bytes()})
    photos = make_zip(tmp_path / "b.zip", {"IMG-1.jpg": b"x", "readme.txt": b"hello"})
    assert CONNECTOR.detect(chat, chat.read_bytes()[:4096])
    assert not CONNECTOR.detect(photos, photos.read_bytes()[:4096])
    assert not CONNECTOR.detect(tmp_path / "missing.zip", b"PK\x03\x04")
    assert not CONNECTOR.detect(tmp_path / "c.zip", b"not a zip")


def test_connector_settings() -> None:
    assert WhatsAppConnector.name == "whatsapp"
    assert WhatsAppConnector.kind == "message"
    assert WhatsAppConnector.history == "append"
    assert WhatsAppConnector.extensions == (".txt", ".zip")
    assert WhatsAppConnector.priority > 0


# --- malformed input ---------------------------------------------------------------------

BAD_WHATSAPP = {
    "binary_junk.txt": "binary file, not text",
    "not_utf8_or_cp1252.txt": "not valid UTF-8",
    "not_a_chat_export.txt": "not a WhatsApp chat export: it does not start with a message line",
    "text_before_first_message.txt": "first line: 'Exported by a backup tool v2.1'",
    "impossible_date.txt": "31/2/2024 is no day/month date and 31/2/2024 is no month/day",
    "mixed_date_orders.txt": "1/14/2024 is no day/month date and 13/1/2024 is no month/day",
    "impossible_time.txt": "line 1: no such date or time",
    "zip_without_chat.zip": "zip archive holds no WhatsApp chat log",
    "nested_zip.zip": "nested zip archives (WhatsApp Chat - Lisbon Trip.zip...) are not opened",
    "two_chats.zip": "zip archive holds 2 chat logs",
    "corrupt_truncated.zip": "corrupt zip archive: File is not a zip file",
    "corrupt_chat_data.zip": "corrupt zip archive",
    "chat_member_is_binary.zip": "binary file, not text",
}


@pytest.mark.parametrize("name", sorted(BAD_WHATSAPP))
def test_each_bad_file_raises_its_parse_error(name: str) -> None:
    with pytest.raises(ParseError, match=BAD_WHATSAPP[name].replace(".", r"\.").replace("(", r"\(")
                       .replace(")", r"\)")):  # fmt: skip
        parse(BAD / name)


def test_empty_file_is_an_empty_chat() -> None:
    assert (BAD / "empty_file.txt").read_bytes() == b""
    assert parse(BAD / "empty_file.txt") == []


def test_every_bad_fixture_has_an_expected_outcome() -> None:
    assert {p.name for p in BAD.iterdir()} == set(BAD_WHATSAPP) | {"empty_file.txt"}


def test_only_system_lines_is_an_empty_chat(tmp_path: Path) -> None:
    text = "12/03/2024, 14:05 - Messages and calls are end-to-end encrypted.\n"
    assert parse(write(tmp_path, "WhatsApp Chat with Ana.txt", text)) == []


def test_zip_bomb_is_refused(tmp_path: Path) -> None:
    line = b"12/03/2024, 14:05 - Ana Ribeiro: ol\xc3\xa1\n"
    chunk = line * (1024 * 1024 // len(line))
    bomb = tmp_path / "WhatsApp Chat - Bomb.zip"
    with (
        zipfile.ZipFile(bomb, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as archive,
        archive.open("_chat.txt", "w", force_zip64=True) as member,
    ):
        for _ in range(MAX_CHAT_BYTES // len(chunk) + 2):
            member.write(chunk)
    assert bomb.stat().st_size < 2 * 1024 * 1024
    with pytest.raises(ParseError, match=r"declares \d+ bytes uncompressed, over the 209715200"):
        parse(bomb)


def test_zip_member_that_lies_about_its_size_is_refused(tmp_path: Path) -> None:
    archive = make_zip(tmp_path / "liar.zip", {"_chat.txt": IOS.read_bytes() * 50})
    data = bytearray(archive.read_bytes())
    # Claim 100 bytes uncompressed in the local header and the central directory.
    data[22:26] = struct.pack("<I", 100)
    central = data.rfind(b"PK\x01\x02")
    data[central + 24 : central + 28] = struct.pack("<I", 100)
    archive.write_bytes(bytes(data))
    with pytest.raises(ParseError, match="corrupt zip archive"):
        parse(archive)


def test_inflated_bytes_are_counted_while_reading() -> None:
    assert read_bounded(io.BytesIO(b"x" * 10), 10, "_chat.txt") == b"x" * 10
    with pytest.raises(ParseError, match="_chat.txt inflates to more than 10 bytes"):
        read_bounded(io.BytesIO(b"x" * 11), 10, "_chat.txt")


def test_absurd_member_count_is_refused_before_indexing(tmp_path: Path) -> None:
    directory = b"PK\x01\x02" * 100_001
    # The end record claims one member: the directory's own entries are what count.
    end = struct.pack("<4s4H2LH", b"PK\x05\x06", 0, 0, 1, 1, len(directory), 4, 0)
    with pytest.raises(ParseError, match="more than 100000 members"):
        parse_bytes(tmp_path, "WhatsApp Chat - X.zip", b"PK\x03\x04" + directory + end)


def test_oversized_central_directory_is_refused_before_indexing(tmp_path: Path) -> None:
    end = struct.pack("<4s4H2LH", b"PK\x05\x06", 0, 0, 1, 1, 2**31, 4, 0)
    with pytest.raises(ParseError, match="central directory is 2147483648 bytes"):
        parse_bytes(tmp_path, "WhatsApp Chat - X.zip", b"PK\x03\x04" + end)


def test_zip_media_are_never_read_into_memory(tmp_path: Path) -> None:
    archive = tmp_path / "WhatsApp Chat - Ana.zip"
    block = bytes(range(256)) * 4096  # 1 MiB
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_STORED) as zipped:
        zipped.writestr("_chat.txt", "12/03/2024, 14:05 - Ana: olá\n")
        with zipped.open("00000001-VIDEO-2024-03-12-14-05-00.mp4", "w") as member:
            for index in range(50):  # 50 MiB that no compressor would shrink
                member.write(bytes([index]) + block[1:])
    assert archive.stat().st_size > 50 * 1024 * 1024
    tracemalloc.start()
    try:
        items = parse(archive)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert [i.text for i in items] == ["olá"]
    assert peak < 20 * 1024 * 1024, f"peak {peak} bytes while parsing"


def test_given_bytes_are_ignored_for_the_file(tmp_path: Path) -> None:
    path = write(tmp_path, "WhatsApp Chat with Ana.txt", "12/03/2024, 14:05 - Ana: from the file\n")
    items = CONNECTOR.parse(path, b"12/03/2024, 14:05 - Ana: not these bytes\n", MTIME)
    assert [i.text for i in items] == ["from the file"]


@pytest.mark.parametrize("prefix", [b"", b"12/03/2024, 14:05 - Ana: "])
def test_fifty_megabyte_single_line_is_refused(tmp_path: Path, prefix: bytes) -> None:
    path = tmp_path / "WhatsApp Chat with Ana.txt"
    path.write_bytes(prefix + b"a" * (50 * 1024 * 1024))
    with pytest.raises(ParseError, match="a line is 524288\\d\\d bytes long"):
        parse(path)


@pytest.mark.parametrize(
    ("line", "texts"),
    [
        # Each would take minutes with naive backtracking regexes (quadratic in the line).
        ("12/03/2024, 14:05 - " + "a changed the subject from " * 38_000, []),
        ("12/03/2024, 14:05 - " + "a created group “" * 50_000, []),
        ("12/03/2024, 14:05 - Ana: a" + " " * 1_000_000 + "b", ["a", "b"]),
    ],
)
def test_hostile_long_lines_stay_linear(tmp_path: Path, line: str, texts: list[str]) -> None:
    path = write(tmp_path, "chat.txt", line + "\n")
    assert [i.text for i in parse(path)] == texts


def test_pasted_lines_of_the_other_platform_continue_the_message(tmp_path: Path) -> None:
    text = (
        "12/03/2024, 14:05 - Ana: look what Rui sent\n"
        "[12/03/2024, 14:04:10] Rui: original\n"
        "12/03/2024, 14:06 - Rui: ok\n"
    )
    items = parse(write(tmp_path, "WhatsApp Chat with Ana.txt", text))
    assert view(items) == [
        (
            "2024-03-12T14:05:00/Ana/0",
            "Ana",
            "look what Rui sent\n[12/03/2024, 14:04:10] Rui: original",
        ),
        ("2024-03-12T14:06:00/Rui/0", "Rui", "ok"),
    ]


# --- properties --------------------------------------------------------------------------

_CHARS = st.characters(blacklist_categories=("Cc", "Cs", "Cf", "Zl", "Zp"))
_WORDS = st.one_of(
    st.text(_CHARS, min_size=1, max_size=12),
    st.sampled_from(["👩‍💻", "🇵🇹", ": ", " - ", "[", "]", "東京", "ção", "12/03/2024", "PM"]),
)
_TEXT = st.lists(_WORDS, min_size=1, max_size=8).map("".join).map(str.strip).filter(bool)
_NAME_CHARS = st.sampled_from(list("AnaRuiCostaKenjiÁéíõç東京ß 0123456789+-.'()~"))
_SENDER = st.text(_NAME_CHARS, min_size=1, max_size=24).map(str.strip).filter(bool)
_MOMENT = st.datetimes(min_value=datetime(2001, 1, 1), max_value=datetime(2099, 12, 31, 23, 59, 59))
_STYLES = ("android-24h", "android-us", "ios-24h", "ios-us")


def _format(style: str, moment: datetime, sender: str, text: str) -> str:
    d, m, y = moment.day, moment.month, moment.year
    h12 = moment.hour % 12 or 12
    ampm = "PM" if moment.hour >= 12 else "AM"
    if style == "android-24h":
        stamp = f"{d:02d}/{m:02d}/{y}, {moment:%H:%M} -"
    elif style == "android-us":
        stamp = f"{m}/{d}/{y % 100:02d}, {h12}:{moment:%M}{NNBSP}{ampm} -"
    elif style == "ios-24h":
        stamp = f"[{d:02d}.{m:02d}.{y % 100:02d}, {moment:%H:%M:%S}]"
    else:
        stamp = f"{LRM}[{m}/{d}/{y % 100:02d}, {h12}:{moment:%M:%S}{NNBSP}{ampm}]"
    return f"{stamp} {sender}: {text}"


def _exact(style: str, moment: datetime) -> datetime:
    return moment.replace(microsecond=0, second=0 if style.startswith("android") else moment.second)


@settings(max_examples=300, deadline=None)
@given(st.text())
def test_parse_line_never_raises(line: str) -> None:
    parsed = parse_line(line)
    if parsed is not None:
        for order in ("day-first", "month-first", "year-first"):
            parsed.naive_time(order)


_STRUCTURED_LINE = st.builds(
    lambda lrm, bracket, a, s, b, y, hh, mm, ss, ap, rest: (
        f"{lrm}{'[' if bracket else ''}{a}{s}{b}{s}{y}, {hh}:{mm}{ss}{ap}"
        f"{'] ' if bracket else ' - '}{rest}"
    ),
    st.sampled_from(["", LRM]),
    st.booleans(),
    st.integers(0, 99),
    st.sampled_from("/.-"),
    st.integers(0, 99),
    st.sampled_from(["24", "2024", "1999", "00", "9999"]),
    st.integers(0, 99),
    st.sampled_from(["00", "05", "59", "60", "99"]),
    st.sampled_from(["", ":00", ":59", ":61"]),
    st.sampled_from(["", " AM", f"{NNBSP}PM", " p. m.", "am"]),
    st.one_of(_TEXT, st.text(max_size=30), st.sampled_from(["Ana:", "Ana: ", ": x", '"a: b"'])),
)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.one_of(_STRUCTURED_LINE, st.text(max_size=40)), max_size=12))
def test_whole_file_parser_raises_only_parse_error(scratch: Path, lines: list[str]) -> None:
    for line in lines:
        parse_line(line)
    data = "\n".join(lines).encode("utf-8", errors="surrogatepass")
    for name in ("WhatsApp Chat with Ana.txt", "_chat.zip"):
        try:
            items = parse_bytes(scratch, name, data)
        except ParseError:
            continue
        assert all(i.text and i.time.tzinfo is not None for i in items)


@settings(max_examples=100, deadline=None)
@given(st.binary(max_size=600))
def test_random_bytes_raise_only_parse_error(scratch: Path, data: bytes) -> None:
    for name in ("chat.txt", "chat.zip"):
        with contextlib.suppress(ParseError):
            parse_bytes(scratch, name, data)


@settings(max_examples=200, deadline=None)
@given(st.sampled_from(_STYLES), _MOMENT, _SENDER, _TEXT)
def test_formatted_line_round_trips(style: str, moment: datetime, sender: str, text: str) -> None:
    parsed = parse_line(_format(style, moment, sender, text))
    assert parsed is not None
    assert (parsed.kind, parsed.sender, parsed.text) == ("message", sender, text)
    order = "month-first" if style.endswith("us") else "day-first"
    assert parsed.naive_time(order) == _exact(style, moment)  # type: ignore[arg-type]
    assert message_content(parsed.text) == (text, [], False)


@settings(max_examples=60, deadline=None)
@given(
    st.sampled_from(_STYLES),
    st.lists(st.tuples(_MOMENT, _SENDER, st.lists(_TEXT, min_size=1, max_size=3)), min_size=1,
             max_size=8),
)  # fmt: skip
def test_generated_chat_round_trips(
    scratch: Path, style: str, messages: list[tuple[datetime, str, list[str]]]
) -> None:
    messages = sorted(messages, key=lambda m: m[0])  # exports run forward in time
    for _, _, lines in messages:
        assume(all(parse_line(line) is None for line in lines[1:]))  # not header look-alikes
    body = "".join(_format(style, t, s, "\n".join(lines)) + "\n" for t, s, lines in messages)
    items = parse_bytes(scratch, "WhatsApp Chat with Ana.txt", body.encode("utf-8"))
    expected = [(_exact(style, t).astimezone(), s, "\n".join(lines)) for t, s, lines in messages]
    assert [(i.time, i.sender, i.text) for i in items] == expected
    assert len({i.source_ref for i in items}) == len(items)
