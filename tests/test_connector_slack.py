"""Slack workspace exports: the shared contract plus what a channel history needs."""

from __future__ import annotations

import json
import logging
import os
import shutil
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from assistant.identity import Identity, normalize
from connectors.base import Item, ParseError
from connectors.chunking import MAX_CHARS
from connectors.slack import SPEECH_SUBTYPES, SlackConnector, convert_markup, ts_time
from tests.connector_contract import FIXTURES, MTIME, ConnectorContract

EXPORT = FIXTURES / "slack"
GENERAL = EXPORT / "general"
LISBOA = EXPORT / "projeto-lisboa"
BAD = FIXTURES / "bad" / "slack"
CONNECTOR = SlackConnector()
NAMES = {"U05AR02CD2": "Ana Ribeiro", "U05KT03EF3": "田中 健二"}


def parse(path: Path, connector: SlackConnector = CONNECTOR) -> list[Item]:
    return connector.parse(path, path.read_bytes(), MTIME)


def day_file(root: Path, messages: list[dict[str, Any]], channel: str = "general") -> Path:
    path = root / channel / "2024-03-12.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(messages, ensure_ascii=False, indent=4), encoding="utf-8")
    return path


def message(ts: str, text: str, user: str = "U05AR02CD2", **extra: object) -> dict[str, Any]:
    return {"type": "message", "text": text, "user": user, "ts": ts, **extra}


def copy_export(target: Path, *, users: bool = True) -> Path:
    """A private copy of the fixture export, optionally without users.json."""
    shutil.copytree(EXPORT, target)
    if not users:
        (target / "users.json").unlink()
    return target


class TestSlackContract(ConnectorContract):
    connector = CONNECTOR

    def sample_files(self) -> list[Path]:
        return sorted(GENERAL.glob("*.json")) + sorted(LISBOA.glob("*.json"))

    def make_file(self, directory: Path, body: str) -> Path:
        return day_file(directory, [message("1710234130.119800", body)])

    def test_items_name_their_document_and_kind(self) -> None:
        # A history's document is the channel, not the file path (the contract's default
        # check is for files read whole): see the module docstring.
        for path in self.sample_files():
            for item in self.parse(path):
                assert item.document == f"slack:{path.parent.name}"
                assert item.source_ref == f"slack:{path.parent.name}#{item.locator}"
                assert item.locator == item.meta["ts"]
                assert item.kind == "message"


# --- a day file -----------------------------------------------------------------------


def test_day_file_messages_with_markup_converted() -> None:
    items = parse(GENERAL / "2024-03-11.json")
    assert [(i.locator, i.sender, i.text) for i in items] == [
        (
            "1710147690.300100",
            "Ana Ribeiro",
            "Bom dia a todos! :wave: A reunião de equipa passa para as 10h30.",
        ),
        (
            "1710147852.481900",
            "Rui Costa",
            "@Ana Ribeiro combinado. Deixo a agenda aqui: agenda da semana",
        ),
        (
            "1710148245.007300",
            "田中 健二",
            "了解です！ I'll bring the Q1 numbers & the draft <v2> 📊",
        ),
    ]
    assert items[1].meta["links"] == ["https://docs.example.org/agenda-2024-03-11"]
    assert items[1].meta["reactions"] == [{"name": "+1", "count": 2}]
    assert {i.document for i in items} == {"slack:general"}
    assert {i.conversation for i in items} == {"#general"}
    assert {i.author for i in items} == {"unknown"}
    assert {i.kind for i in items} == {"message"}
    assert items[0].source_ref == "slack:general#1710147690.300100"


def test_time_is_the_utc_ts_with_microseconds() -> None:
    items = parse(GENERAL / "2024-03-11.json")
    assert items[0].time == datetime(2024, 3, 11, 9, 1, 30, 300100, tzinfo=UTC)
    assert ts_time("1710148245.0073") == datetime(2024, 3, 11, 9, 10, 45, 7300, tzinfo=UTC)
    assert ts_time("1710148245") == datetime(2024, 3, 11, 9, 10, 45, tzinfo=UTC)


def test_thread_parent_and_replies() -> None:
    items = {i.locator: i for i in parse(GENERAL / "2024-03-12.json")}
    parent = items["1710234130.119800"]
    assert parent.meta["reply_count"] == 2
    assert "thread" not in parent.meta and "reply" not in parent.meta
    reply = items["1710234411.339000"]
    assert reply.text == "Fecha. O calendário está no #projeto-lisboa desde janeiro 📅"
    assert (reply.meta["thread"], reply.meta["reply"]) == ("1710234130.119800", True)
    broadcast = items["1710234944.002200"]
    assert broadcast.text == "Confirmo: fechado de 29/3 a 1/4. @here"
    assert broadcast.meta["subtype"] == "thread_broadcast"
    assert broadcast.meta["thread"] == "1710234130.119800"


def test_file_share_and_bot_message() -> None:
    items = {i.locator: i for i in parse(GENERAL / "2024-03-12.json")}
    shared = items["1710242403.559100"]
    assert (shared.text, shared.sender) == ("[file: Q1_resultados.xlsx]", "田中 健二")
    assert shared.meta["files"] == ["Q1_resultados.xlsx"]
    bot = items["1710252000.000001"]
    assert bot.text == "[casa-verde/site] Pull request opened: #42 Corrigir horário de abertura"
    assert bot.sender == "GitHub"
    assert (bot.meta["bot"], bot.meta["subtype"]) == (True, "bot_message")
    assert "user_id" not in bot.meta


def test_channel_events_are_not_items() -> None:
    locators = [i.locator for p in sorted(EXPORT.rglob("20*.json")) for i in parse(p)]
    raw = [m for p in sorted(EXPORT.rglob("20*.json")) for m in json.loads(p.read_text())]
    subtyped = [m for m in raw if "subtype" in m]
    events = {m["ts"]: m["subtype"] for m in subtyped if m["subtype"] not in SPEECH_SUBTYPES}
    assert sorted(set(events.values())) == [
        "channel_join",
        "channel_leave",
        "channel_purpose",
        "channel_topic",
    ]
    assert set(events).isdisjoint(locators)
    assert len(locators) == len(raw) - len(events)


def test_subtype_policy(tmp_path: Path) -> None:
    path = day_file(
        tmp_path,
        [
            message("1.000001", "olá", subtype="me_message"),
            message("2.000001", "<@U05AR02CD2> pinned a message", subtype="pinned_item"),
            message("3.000001", "This message was deleted.", subtype="tombstone"),
            message("4.000001", "", subtype="bot_message", username="Alerts"),
            message("5.000001", "Deploy OK", subtype="bot_message", username="Alerts"),
            message("6.000001", "a future subtype", subtype="something_new"),
            {"type": "presence_change", "ts": "7.000001", "user": "U05AR02CD2"},
        ],
    )
    assert [(i.locator, i.text) for i in parse(path)] == [
        ("1.000001", "olá"),
        ("5.000001", "Deploy OK"),
    ]


def test_edited_message_meta() -> None:
    items = parse(GENERAL / "2024-03-13.json")
    assert dict(items[0].meta) == {
        "channel": "general",
        "ts": "1710324005.180000",
        "user_id": "U05RC01AB1",
        "edited": True,
        "edited_at": "2024-03-13T10:02:40+00:00",
    }
    assert items[1].text == (
        "Faturas para ana.ribeiro@example.org, ou vejam https://wiki.example.org/despesas."
    )
    assert items[1].meta["links"] == [
        "mailto:ana.ribeiro@example.org",
        "https://wiki.example.org/despesas",
    ]


def test_other_channel_and_non_english_text() -> None:
    items = parse(LISBOA / "2024-03-12.json")
    assert [(i.sender, i.text) for i in items] == [
        (
            "Ana Ribeiro",
            "Proposta para o cliente de Alfama: *três* opções de fachada. @田中 健二 podes rever?",
        ),
        ("田中 健二", "はい、今日中に見ます 👀"),
    ]
    assert {i.document for i in items} == {"slack:projeto-lisboa"}
    assert {i.conversation for i in items} == {"#projeto-lisboa"}


@pytest.mark.parametrize(
    ("raw", "text", "links"),
    [
        ("<@U05AR02CD2> olá", "@Ana Ribeiro olá", []),
        ("<@U09UNKNOWN> olá", "@U09UNKNOWN olá", []),
        ("<@U09UNKNOWN|zoe> olá", "@zoe olá", []),
        ("ver <#C05GEN0001|general> e <#C05X>", "ver #general e #C05X", []),
        ("<https://x.example/a?b=1&amp;c=2|o link>", "o link", ["https://x.example/a?b=1&c=2"]),
        ("<https://x.example/>", "https://x.example/", ["https://x.example/"]),
        ("<!here> <!channel> <!everyone>", "@here @channel @everyone", []),
        ("<!subteam^S0123|@design> revejam", "@design revejam", []),
        ("<!date^1392734382^{date_pretty}|Feb 18, 2014>", "Feb 18, 2014", []),
        ("5 &lt; 6 &amp;&amp; 7 &gt; 2", "5 < 6 && 7 > 2", []),
        ("&amp;lt; stays literal", "&lt; stays literal", []),
        ("*negrito* _itálico_ ~riscado~ `código`", "*negrito* _itálico_ ~riscado~ `código`", []),
    ],
)
def test_convert_markup(raw: str, text: str, links: list[str]) -> None:
    assert convert_markup(raw, NAMES) == (text, links)


# --- users.json: the one read beyond the day file ---------------------------------------


def test_without_users_json_names_come_from_the_message(tmp_path: Path) -> None:
    export = copy_export(tmp_path / "export", users=False)
    items = parse(export / "general" / "2024-03-11.json", SlackConnector())
    assert [i.sender for i in items] == ["Ana Ribeiro", "Rui Costa", "田中 健二"]
    assert items[1].text == "@U05AR02CD2 combinado. Deixo a agenda aqui: agenda da semana"
    bare = day_file(tmp_path / "bare", [message("1.000001", "sem perfil", user="U05ZZ00ZZ9")])
    assert parse(bare, SlackConnector())[0].sender == "U05ZZ00ZZ9"


def test_broken_users_json_falls_back_with_a_warning(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    export = copy_export(tmp_path / "export")
    users = export / "users.json"
    users.write_bytes(users.read_bytes()[:500])
    with caplog.at_level(logging.WARNING, logger="connectors.slack"):
        items = parse(export / "general" / "2024-03-11.json", SlackConnector())
    assert [i.sender for i in items] == ["Ana Ribeiro", "Rui Costa", "田中 健二"]
    assert items[1].text.startswith("@U05AR02CD2 combinado.")
    assert "cannot use" in caplog.text and "users.json" in caplog.text
    users.write_text('{"members": []}', encoding="utf-8")
    assert parse(export / "general" / "2024-03-11.json", SlackConnector())[0].sender == (
        "Ana Ribeiro"
    )


def test_users_json_names_win_and_are_reread_when_it_changes(tmp_path: Path) -> None:
    export = copy_export(tmp_path / "export")
    connector = SlackConnector()
    day = export / "general" / "2024-03-11.json"
    assert parse(day, connector)[1].text.startswith("@Ana Ribeiro combinado")
    users_file = export / "users.json"
    users = json.loads(users_file.read_text(encoding="utf-8"))
    for user in users:
        if user["id"] == "U05AR02CD2":
            user["profile"]["real_name"] = "Ana Ribeiro Costa"
    users_file.write_text(json.dumps(users, ensure_ascii=False), encoding="utf-8")
    os.utime(users_file, ns=(1_700_000_000_000_000_000, 1_700_000_000_000_000_000))
    items = parse(day, connector)
    assert items[0].sender == "Ana Ribeiro Costa"  # users.json beats the message's profile
    assert items[1].text.startswith("@Ana Ribeiro Costa combinado")


# --- re-exports and identity ----------------------------------------------------------


def test_longer_reexport_keeps_old_refs_and_hashes(tmp_path: Path) -> None:
    old = parse(GENERAL / "2024-03-12.json")
    later = copy_export(tmp_path / "Casa Verde Slack export Mar 1 2024 - Apr 30 2024")
    day = later / "general" / "2024-03-12.json"
    messages = json.loads(day.read_text(encoding="utf-8"))
    messages.append(message("1710270000.000100", "Boa noite, até amanhã 🌙", user="U05RC01AB1"))
    day.write_text(json.dumps(messages, ensure_ascii=False, indent=4), encoding="utf-8")
    new = parse(day, SlackConnector())
    assert [(i.source_ref, i.content_hash) for i in new[: len(old)]] == [
        (i.source_ref, i.content_hash) for i in old
    ]
    assert [(i.source_ref, i.sender) for i in new[len(old) :]] == [
        ("slack:general#1710270000.000100", "Rui Costa")
    ]


def test_identity_resolves_senders() -> None:
    identity = Identity(
        frozenset({normalize("name", "Rui Costa"), normalize("phone", "+351 912 345 678")})
    )
    items = parse(GENERAL / "2024-03-12.json")
    assert [(i.sender, identity.author_of(i)) for i in items] == [
        ("Rui Costa", "self"),
        ("Ana Ribeiro", "other"),
        ("Sofia Bauer", "other"),
        ("田中 健二", "other"),
        ("GitHub", "other"),
    ]


def test_message_without_any_writer_is_unknown(tmp_path: Path) -> None:
    anonymous = {"type": "message", "text": "quem escreveu isto?", "ts": "1710234130.119800"}
    item = parse(day_file(tmp_path, [anonymous]))[0]
    assert item.sender is None
    assert Identity(frozenset({normalize("name", "Rui Costa")})).author_of(item) == "unknown"


def test_empty_day_file_gives_no_items(tmp_path: Path) -> None:
    assert parse(day_file(tmp_path, [])) == []


def test_very_long_message_is_split_with_suffixed_locators(tmp_path: Path) -> None:
    body = ("Notas da reunião sobre a obra em Alfama. " * 70).strip()
    items = parse(day_file(tmp_path, [message("1710234130.119800", body)]))
    assert [i.locator for i in items] == [
        "1710234130.119800:0",
        "1710234130.119800:1",
        "1710234130.119800:2",
    ]
    assert all(len(i.text) <= MAX_CHARS for i in items)
    assert " ".join(i.text for i in items).split() == body.split()


# --- detection ------------------------------------------------------------------------


def head(path: Path) -> bytes:
    with path.open("rb") as fh:
        return fh.read(4096)


def test_export_metadata_files_are_not_items(tmp_path: Path) -> None:
    for name in ("users.json", "channels.json", "integration_logs.json"):
        path = EXPORT / name
        assert not CONNECTOR.detect(path, head(path)), name
    channels = (EXPORT / "channels.json").read_bytes()
    for name in ("groups.json", "dms.json", "mpims.json", "canvases.json"):
        path = tmp_path / name
        path.write_bytes(channels)
        assert not CONNECTOR.detect(path, head(path)), name


def test_detected_by_content_and_the_day_file_name(tmp_path: Path) -> None:
    day = GENERAL / "2024-03-12.json"
    # Another folder layout, another channel: still a day file.
    moved = tmp_path / "anything" / "2024-03-12.JSON"
    moved.parent.mkdir()
    shutil.copyfile(day, moved)
    assert CONNECTOR.detect(moved, head(moved))
    # The name is part of the format (an export is a tree of day files), so the same
    # bytes under a non-day name are not claimed: a bare message array says too little.
    renamed = tmp_path / "notes.txt"
    shutil.copyfile(day, renamed)
    assert not CONNECTOR.detect(renamed, head(renamed))
    # A day-named file that is not a Slack message array is not claimed either.
    for body in ('[{"date": "2024-03-12", "steps": 9000}]', '{"ts": "1.2"}', "[]", ""):
        assert not CONNECTOR.detect(Path("2024-03-12.json"), body.encode())


def test_detect_rejects_other_formats() -> None:
    others = [
        p
        for p in FIXTURES.rglob("*")
        if p.is_file() and "slack" not in p.parts and not p.name.startswith(".")
    ]
    assert (FIXTURES / "telegram" / "ChatExport_2024-03-20" / "result.json") in others
    assert [p for p in others if CONNECTOR.detect(p, head(p))] == []


def test_registration_attributes() -> None:
    assert SlackConnector.name == "slack"
    assert SlackConnector.kind == "message"
    assert SlackConnector.history == "append"
    assert SlackConnector.priority > 0
    assert SlackConnector.extensions == (".json",)


# --- malformed input ------------------------------------------------------------------

BAD_SLACK = {
    "truncated_json.json": "malformed or truncated JSON (line 79",
    "empty.json": "empty file: not a Slack day file",
    "binary_junk_zip.json": "binary file (it contains NUL bytes)",
    "not_utf8_latin1.json": "not valid UTF-8 (bad byte at offset 62)",
    "not_slack_api_response_object.json": "the top level is not an array of messages",
    "array_of_strings.json": "message #0 is not a message object",
    "ts_missing.json": 'message #0: no "ts"',
    "ts_not_a_string.json": '"ts" is not a string',
    "ts_malformed.json": "\"ts\" '2024-03-11 09:01' is not a Slack timestamp",
    "thread_ts_malformed.json": "\"thread_ts\" 'yesterday' is not a Slack timestamp",
    "type_missing.json": 'message #0: no "type"',
    "text_not_a_string.json": '"text" is not a string',
    "user_not_a_string.json": '"user" is not a string',
    "files_not_a_list.json": '"files" is not a list',
}


@pytest.mark.parametrize("name", sorted(BAD_SLACK))
def test_each_bad_file_raises_its_parse_error(name: str) -> None:
    with pytest.raises(ParseError) as caught:
        parse(BAD / name)
    assert BAD_SLACK[name] in str(caught.value)


def test_every_bad_slack_fixture_has_an_expected_error() -> None:
    assert {p.name for p in BAD.iterdir()} == set(BAD_SLACK)


def test_deep_nesting_is_a_parse_error(tmp_path: Path) -> None:
    path = tmp_path / "general" / "2024-03-12.json"
    path.parent.mkdir()
    path.write_text("[" * 100_000 + "]" * 100_000)
    with pytest.raises(ParseError, match="nested too deeply"):
        parse(path)
