"""Telegram Desktop JSON exports: the shared contract plus what chat histories need."""

from __future__ import annotations

import json
import shutil
import time as time_module
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest

from assistant.identity import Identity, normalize
from connectors.base import Item, ParseError
from connectors.chunking import MAX_CHARS
from connectors.telegram import TelegramConnector, describe_media, flatten_text
from tests.connector_contract import FIXTURES, MTIME, ConnectorContract

TELEGRAM = FIXTURES / "telegram"
CHAT = TELEGRAM / "ChatExport_2024-03-20" / "result.json"
CHAT_LATER = TELEGRAM / "ChatExport_2024-05-02" / "result.json"
ACCOUNT = TELEGRAM / "DataExport_2024-04-10" / "result.json"
BAD = FIXTURES / "bad" / "telegram"
CONNECTOR = TelegramConnector()


def parse(path: Path) -> list[Item]:
    return CONNECTOR.parse(path, path.read_bytes(), MTIME)


def chat_file(directory: Path, messages: list[dict[str, Any]], name: str = "result.json") -> Path:
    """A single-chat export with `messages`, as Telegram Desktop lays it out."""
    export = {"name": "Ana Ribeiro", "type": "personal_chat", "id": 4815162342}
    path = directory / name
    path.write_text(
        json.dumps({**export, "messages": messages}, ensure_ascii=False, indent=1),
        encoding="utf-8",
    )
    return path


def message(mid: int, text: object, **extra: object) -> dict[str, Any]:
    return {
        "id": mid,
        "type": "message",
        "date": "2024-03-12T09:15:02",
        "date_unixtime": "1710234902",
        "from": "Ana Ribeiro",
        "from_id": "user4815162342",
        "text": text,
        **extra,
    }


class TestTelegramContract(ConnectorContract):
    connector = CONNECTOR

    def sample_files(self) -> list[Path]:
        return [CHAT, CHAT_LATER, ACCOUNT]

    def make_file(self, directory: Path, body: str) -> Path:
        return chat_file(directory, [message(1, body)])

    def test_items_name_their_document_and_kind(self) -> None:
        # A history's document is the chat's own identity, not the file path (the
        # contract's default check is for files read whole): see the module docstring.
        for path in self.sample_files():
            chat_ids = _chat_ids(json.loads(path.read_text(encoding="utf-8")))
            for item in self.parse(path):
                assert item.document in {f"telegram:{i}" for i in chat_ids}
                assert item.source_ref == f"{item.document}#{item.locator}"
                assert item.locator
                assert item.kind == "message"


def _chat_ids(export: dict[str, Any]) -> set[int]:
    if "messages" in export:
        return {export["id"]}
    chats = export["chats"]["list"] + export["left_chats"]["list"]
    return {chat["id"] for chat in chats}


# --- a personal chat ------------------------------------------------------------------


def test_personal_chat_messages_in_order() -> None:
    items = parse(CHAT)
    assert [(i.locator, i.sender, i.text) for i in items] == [
        ("101", "Ana Ribeiro", "Bom dia! Já compraste os bilhetes para o Porto? 🚆"),
        (
            "102",
            "Rui Costa",
            "Ainda não. Vi este horário da CP, o Alfa Pendular das 8h39 parece bom.",
        ),
        ("104", "Ana Ribeiro", "Perfeito, reserva dois lugares à janela 😊"),
        (
            "105",
            "Ana Ribeiro",
            "Aviso: greve parcial no dia 15 de março. Informações em www.cp.pt.",
        ),
        ("106", "Rui Costa", "[photo]"),
        ("107", "Ana Ribeiro", "[sticker 👍]"),
        ("108", "Rui Costa", "[voice message]"),
        ("109", "Ana Ribeiro", "Os bilhetes, guarda-os tu 🎫"),
        ("110", "Rui Costa", "Obrigado! Depois do Porto quero mesmo ir a 東京 contigo 🇯🇵"),
    ]
    assert {i.document for i in items} == {"telegram:4815162342"}
    assert {i.conversation for i in items} == {"Ana Ribeiro"}
    assert {i.author for i in items} == {"unknown"}  # a chat export does not say who "me" is
    assert {i.kind for i in items} == {"message"}
    assert {i.title for i in items} == {None}
    assert items[0].source_ref == "telegram:4815162342#101"


def test_service_messages_are_not_items() -> None:
    raw = json.loads(CHAT.read_text(encoding="utf-8"))
    services = [m["id"] for m in raw["messages"] if m["type"] == "service"]
    assert services == [103]  # the phone call
    assert "103" not in [i.locator for i in parse(CHAT)]
    # A new group photo is a service message with a photo: an event, not a "[photo]".
    family = json.loads(ACCOUNT.read_text(encoding="utf-8"))["chats"]["list"][1]["messages"]
    photo_event = [m for m in family if m.get("action") == "edit_group_photo"]
    assert [(m["id"], m["type"], "photo" in m) for m in photo_event] == [(3010, "service", True)]
    assert "3010" not in [i.locator for i in parse(ACCOUNT)]


def test_service_message_with_text_is_not_an_item(tmp_path: Path) -> None:
    event = message(5, "Ana Ribeiro joined the group", type="service", action="join_group_by_link")
    assert parse(chat_file(tmp_path, [event, message(6, "Olá!")]))[0].locator == "6"
    assert len(parse(chat_file(tmp_path, [event]))) == 0


def test_time_is_the_utc_epoch_field() -> None:
    items = {i.locator: i for i in parse(CHAT)}
    assert items["101"].time == datetime(2024, 3, 12, 9, 15, 2, tzinfo=UTC)
    assert items["101"].time.utcoffset() == timedelta(0)
    # After the change to summer time, "date" (local, Lisbon) is an hour ahead of UTC.
    later = {i.locator: i for i in parse(CHAT_LATER)}
    assert later["113"].time == datetime(2024, 5, 1, 17, 30, 55, tzinfo=UTC)


def test_epoch_field_wins_over_the_local_date(tmp_path: Path) -> None:
    path = chat_file(tmp_path, [message(1, "x", date="2024-03-12T23:59:59")])
    assert parse(path)[0].time == datetime(2024, 3, 12, 9, 15, 2, tzinfo=UTC)


@pytest.fixture
def tokyo_local_time(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    if not hasattr(time_module, "tzset"):
        pytest.skip("needs time.tzset to change the local zone")
    monkeypatch.setenv("TZ", "JST-9")
    time_module.tzset()
    yield
    monkeypatch.undo()
    time_module.tzset()


@pytest.mark.usefixtures("tokyo_local_time")
def test_old_exports_without_epoch_use_local_time(tmp_path: Path) -> None:
    old = message(1, "Antes de 2021", edited="2020-05-04T10:01:00")
    del old["date_unixtime"]
    old["date"] = "2020-05-04T10:00:00"
    item = parse(chat_file(tmp_path, [old]))[0]
    jst = timezone(timedelta(hours=9))
    assert item.time == datetime(2020, 5, 4, 10, 0, tzinfo=jst)
    assert item.time.utcoffset() == timedelta(hours=9)
    assert item.meta["edited_at"] == "2020-05-04T10:01:00+09:00"


def test_mixed_entity_text_is_flattened_and_links_kept() -> None:
    items = {i.locator: i for i in parse(CHAT)}
    assert items["102"].meta["links"] == ["https://www.cp.pt/passageiros/pt/consultar-horarios"]
    assert items["105"].meta["links"] == ["www.cp.pt"]
    assert "links" not in items["101"].meta
    text, links = flatten_text(
        [
            {"type": "mention", "text": "@ana"},
            " vê ",
            {"type": "text_link", "text": "isto", "href": "https://a.example/1"},
            " e ",
            {"type": "text_link", "text": "isto", "href": "https://a.example/1"},
            {"type": "code", "text": " `x`"},
        ]
    )
    assert (text, links) == ("@ana vê isto e isto `x`", ["https://a.example/1"])


def test_reply_forward_and_edit_are_in_meta() -> None:
    items = {i.locator: i for i in parse(CHAT)}
    assert dict(items["104"].meta) == {
        "chat_id": 4815162342,
        "chat_type": "personal_chat",
        "message_id": 104,
        "from_id": "user4815162342",
        "reply_to": 102,
        "edited": True,
        "edited_at": "2024-03-12T09:31:40+00:00",
    }
    assert items["105"].meta["forwarded_from"] == "Comboios de Portugal"
    assert "edited" not in items["105"].meta
    assert "reply_to" not in items["105"].meta


def test_media_only_messages_get_markers_and_media_meta() -> None:
    items = {i.locator: i for i in parse(CHAT)}
    assert items["106"].meta["media"] == "photo"
    assert items["106"].meta["attachment"] == "photos/photo_1@12-03-2024_10-05-33.jpg"
    # Media left out of the export: the kind is known, the file is not.
    assert items["107"].meta["media"] == "sticker"
    assert "attachment" not in items["107"].meta
    assert items["108"].meta["media"] == "voice_message"
    # A captioned file keeps its caption as text.
    assert items["109"].text == "Os bilhetes, guarda-os tu 🎫"
    assert items["109"].meta["file_name"] == "Bilhetes_Porto.pdf"
    assert items["109"].meta["attachment"] == "files/Bilhetes_Porto.pdf"


@pytest.mark.parametrize(
    ("extra", "marker", "media"),
    [
        ({"media_type": "video_file", "file": "video_files/v.mp4"}, "[video]", "video_file"),
        ({"media_type": "animation", "file": "(File not included.)"}, "[GIF]", "animation"),
        ({"media_type": "video_message", "file": "round.mp4"}, "[video message]", "video_message"),
        (
            {"media_type": "audio_file", "performer": "Mariza", "title": "Ó Gente da Minha Terra"},
            "[audio: Mariza – Ó Gente da Minha Terra]",
            "audio_file",
        ),
        ({"media_type": "sticker"}, "[sticker]", "sticker"),
        ({"file": "files/orçamento.xlsx"}, "[file: orçamento.xlsx]", "file"),
        (
            {"file": "(File not included. Change data exporting settings to download.)"},
            "[file]",
            "file",
        ),
        (
            {"location_information": {"latitude": 38.71, "longitude": -9.14}},
            "[location]",
            "location",
        ),
        (
            {"location_information": {"latitude": 38.71}, "place_name": "Miradouro da Graça"},
            "[location: Miradouro da Graça]",
            "location",
        ),
        (
            {"contact_information": {"first_name": "Inês", "last_name": "Ribeiro"}},
            "[contact: Inês Ribeiro]",
            "contact",
        ),
    ],
)
def test_media_markers(extra: dict[str, Any], marker: str, media: str) -> None:
    text, meta = describe_media(extra)
    assert (text, meta["media"]) == (marker, media)


def test_message_without_text_or_media_is_skipped(tmp_path: Path) -> None:
    path = chat_file(tmp_path, [message(1, ""), message(2, "   "), message(3, [])])
    assert parse(path) == []


def test_empty_chat_gives_no_items(tmp_path: Path) -> None:
    assert parse(chat_file(tmp_path, [])) == []


# --- a full-account export ------------------------------------------------------------


def test_account_export_reads_every_chat_including_left_ones() -> None:
    items = parse(ACCOUNT)
    by_chat: dict[str, list[str]] = {}
    for item in items:
        by_chat.setdefault(f"{item.document} {item.conversation}", []).append(item.locator)
    assert by_chat == {
        "telegram:7001234567 Анна Смирнова": ["2001", "2002", "2003"],
        "telegram:4009876543 Família Costa 🏡": ["3002", "3003", "3004", "3005", "3007", "3008"],
        "telegram:5012345678 Saved Messages": ["4001"],
        "telegram:1555000111 Lisbon Runners 🏃": ["5001", "5002"],
    }


def test_account_export_marks_the_owners_messages_as_self() -> None:
    items = parse(ACCOUNT)
    assert [(i.locator, i.author) for i in items] == [
        ("2001", "unknown"),
        ("2002", "self"),
        ("2003", "unknown"),
        ("3002", "unknown"),
        ("3003", "unknown"),
        ("3004", "self"),
        ("3005", "unknown"),
        ("3007", "unknown"),
        ("3008", "unknown"),
        ("4001", "self"),
        ("5001", "unknown"),
        ("5002", "self"),
    ]
    assert {i.sender for i in items if i.author == "self"} == {"Rui Costa"}


def test_account_export_group_details() -> None:
    items = {i.locator: i for i in parse(ACCOUNT)}
    assert items["2001"].text == "Привет, Руи! Как прошла поездка в Порту? 🙂"
    assert items["2003"].text == "Отлично! Вот рецепт для нашего ужина в субботу."
    assert items["2003"].meta["links"] == ["https://example.org/recipes/francesinha"]
    assert items["3003"].text == "@ruicosta o jantar de domingo é às 19h30, não te esqueças."
    assert items["3004"].meta["edited"] is True
    assert items["3004"].meta["reply_to"] == 3003
    assert items["3005"].meta["forwarded_from"] == "Avó Lurdes"
    assert (
        items["3007"].text == "[poll] Onde almoçamos no sábado?\n- Cervejaria Ramiro\n- Casa da avó"
    )
    assert items["3007"].meta["media"] == "poll"
    assert items["3002"].meta["chat_type"] == "private_group"
    # A deleted account has no display name: the id stands in for it.
    assert items["3008"].sender == "user5550009999"
    # A channel posting in its discussion group: the channel is the sender.
    assert items["5001"].sender == "Lisbon Runners 🏃"
    assert items["5001"].meta["from_id"] == "channel1555000111"


def test_account_export_without_chats_gives_no_items(tmp_path: Path) -> None:
    path = tmp_path / "result.json"
    path.write_text(json.dumps({"personal_information": {"user_id": 1, "first_name": "Rui"}}))
    assert parse(path) == []


# --- re-exports and identity ----------------------------------------------------------


def test_longer_reexport_keeps_old_refs_and_hashes() -> None:
    old = parse(CHAT)
    new = parse(CHAT_LATER)
    old_keys = [(i.source_ref, i.content_hash) for i in old]
    new_keys = [(i.source_ref, i.content_hash) for i in new]
    assert new_keys[: len(old_keys)] == old_keys
    assert [i.locator for i in new[len(old) :]] == ["112", "113"]
    assert new[-1].text == "Feliz 1.º de Maio! Sardinhas no sábado? 🐟"
    assert new[-2].meta["reply_to"] == 109


def test_same_chat_under_another_file_name_maps_onto_the_same_refs(tmp_path: Path) -> None:
    copy = tmp_path / "telegram-ana-backup.json"
    shutil.copyfile(CHAT, copy)
    assert [i.source_ref for i in parse(copy)] == [i.source_ref for i in parse(CHAT)]


def test_identity_resolves_senders_of_a_chat_export(tmp_path: Path) -> None:
    identity = Identity(
        frozenset({normalize("name", "Rui Costa"), normalize("phone", "+351 912 345 678")})
    )
    items = parse(CHAT)
    assert [(i.locator, identity.author_of(i)) for i in items] == [
        ("101", "other"),
        ("102", "self"),
        ("104", "other"),
        ("105", "other"),
        ("106", "self"),
        ("107", "other"),
        ("108", "self"),
        ("109", "other"),
        ("110", "self"),
    ]
    nameless = message(1, "Mensagem de ninguém", **{"from": None})
    del nameless["from_id"]
    anonymous = parse(chat_file(tmp_path, [nameless]))[0]
    assert anonymous.sender is None
    assert identity.author_of(anonymous) == "unknown"


def test_account_owner_is_self_even_without_an_identity() -> None:
    nobody = Identity(frozenset())
    authors = {i.locator: nobody.author_of(i) for i in parse(ACCOUNT)}
    assert authors["2002"] == "self"
    assert authors["2001"] == "other"


# --- long messages --------------------------------------------------------------------


def test_very_long_message_is_split_with_suffixed_locators(tmp_path: Path) -> None:
    sentence = "Isto é uma frase longa sobre a viagem ao Porto. "
    body = (sentence * 60).strip()
    items = parse(chat_file(tmp_path, [message(7, body)]))
    assert len(items) == 3
    assert [i.locator for i in items] == ["7:0", "7:1", "7:2"]
    assert all(len(i.text) <= MAX_CHARS for i in items)
    assert " ".join(i.text for i in items).split() == body.split()
    assert [(i.meta["part"], i.meta["parts"]) for i in items] == [(0, 3), (1, 3), (2, 3)]


# --- detection ------------------------------------------------------------------------


def head(path: Path) -> bytes:
    with path.open("rb") as fh:
        return fh.read(4096)


def test_detected_by_content_under_a_misleading_name(tmp_path: Path) -> None:
    for source, name in ((CHAT, "notes.txt"), (ACCOUNT, "backup")):
        copy = tmp_path / name
        shutil.copyfile(source, copy)
        assert CONNECTOR.detect(copy, head(copy))


def test_account_export_detected_when_chats_start_past_the_head(tmp_path: Path) -> None:
    export = json.loads(ACCOUNT.read_text(encoding="utf-8"))
    contacts = [
        {"first_name": f"Contacto {n}", "last_name": "", "phone_number": f"+351 91{n:07d}"}
        for n in range(300)
    ]
    export["contacts"]["list"] = contacts
    path = tmp_path / "result.json"
    path.write_text(json.dumps(export, ensure_ascii=False, indent=1), encoding="utf-8")
    assert path.read_text(encoding="utf-8").index('"chats"') > 4096
    assert CONNECTOR.detect(path, head(path))
    without_personal = {k: v for k, v in export.items() if k != "personal_information"}
    path.write_text(json.dumps(without_personal, ensure_ascii=False, indent=1), encoding="utf-8")
    assert CONNECTOR.detect(path, head(path))


def test_detect_rejects_other_formats() -> None:
    others = [
        p
        for p in FIXTURES.rglob("*")
        if p.is_file() and "telegram" not in p.parts and not p.name.startswith(".")
    ]
    assert len(others) > 20
    assert (FIXTURES / "slack" / "general" / "2024-03-11.json") in others
    claimed = [p for p in others if CONNECTOR.detect(p, head(p))]
    assert claimed == []


@pytest.mark.parametrize(
    "text",
    [
        "",
        "[]",
        '{"messages": []}',  # no Telegram keys
        '{"name": "x", "type": "personal_chat", "id": 1}',  # no messages
        '[{"name": "Ana", "type": "personal_chat", "id": 1, "messages": []}]',
        '{"personal_information": {"name": "Ana"}}',  # e.g. another service's export
    ],
)
def test_detect_rejects_lookalikes(text: str) -> None:
    assert not CONNECTOR.detect(Path("result.json"), text.encode())


def test_registration_attributes() -> None:
    assert TelegramConnector.name == "telegram"
    assert TelegramConnector.kind == "message"
    assert TelegramConnector.history == "append"
    assert TelegramConnector.priority > 0
    assert TelegramConnector.extensions == (".json",)


# --- malformed input ------------------------------------------------------------------

BAD_TELEGRAM = {
    "truncated_json.json": "malformed or truncated JSON (line 132",
    "empty.json": "empty file: not a Telegram export",
    "binary_junk_png.json": "binary file (it contains NUL bytes)",
    "not_utf8_latin1.json": "not valid UTF-8 (bad byte at offset 236)",
    "not_telegram_object.json": 'no chat "messages" and no account "chats" (top-level keys: name',
    "not_telegram_array.json": "the top level is a list, expected an object",
    "messages_not_a_list.json": '"messages" is an object, expected a list',
    "message_not_an_object.json": "message #0 is a string, not an object",
    "message_id_not_an_integer.json": '"id" is a string, expected an integer',
    "message_type_missing.json": 'message #0: no "type"',
    "text_wrong_type.json": '"text" is a number, not a string or list',
    "text_entity_without_text.json": 'a text entity is not a string or {"text": "..."}',
    "date_unixtime_not_a_number.json": "\"date_unixtime\" 'yesterday' is not epoch seconds",
    "date_missing.json": 'no "date_unixtime" or "date"',
    "date_not_iso.json": "\"date\" '12/03/2024 09:15' is not an ISO date-time",
    "from_wrong_type.json": '"from" is an object, expected a string',
    "chat_id_not_an_integer.json": "chat 'Ana Ribeiro' has no integer \"id\"",
    "chats_list_not_a_list.json": '"chats" is not a {"list": [...]} object',
    "personal_information_not_an_object.json": '"personal_information" is not an object',
}


@pytest.mark.parametrize("name", sorted(BAD_TELEGRAM))
def test_each_bad_file_raises_its_parse_error(name: str) -> None:
    with pytest.raises(ParseError) as caught:
        parse(BAD / name)
    assert BAD_TELEGRAM[name] in str(caught.value)


def test_every_bad_telegram_fixture_has_an_expected_error() -> None:
    assert {p.name for p in BAD.iterdir()} == set(BAD_TELEGRAM)


@pytest.mark.parametrize("opener", ["[", '{"a":'])
def test_deep_nesting_is_a_parse_error(tmp_path: Path, opener: str) -> None:
    path = tmp_path / "result.json"
    path.write_text('{"name": "x", "messages": ' + opener * 200_000)
    with pytest.raises(ParseError, match="nested too deeply|malformed or truncated JSON"):
        parse(path)
    closed = tmp_path / "closed.json"
    closed.write_text("[" * 100_000 + "]" * 100_000)
    with pytest.raises(ParseError, match="nested too deeply"):
        parse(closed)


def test_whitespace_only_file_is_a_parse_error(tmp_path: Path) -> None:
    path = tmp_path / "result.json"
    path.write_text(" \n\t\n")
    with pytest.raises(ParseError, match="empty file"):
        parse(path)


def test_utf8_bom_is_accepted(tmp_path: Path) -> None:
    path = tmp_path / "result.json"
    path.write_bytes(b"\xef\xbb\xbf" + CHAT.read_bytes())
    assert [i.source_ref for i in parse(path)] == [i.source_ref for i in parse(CHAT)]
    assert CONNECTOR.detect(path, head(path))
