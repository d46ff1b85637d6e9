"""Claude.ai export connector: the shared contract plus content blocks, uploads and re-exports."""

from __future__ import annotations

import copy
import json
import shutil
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from assistant.identity import Identity, normalize
from connectors.base import Item, ParseError
from connectors.chatgpt import ChatGPTConnector
from connectors.claude import ClaudeConnector
from connectors.registry import available_connectors, connector_for
from tests.connector_contract import FIXTURES, MTIME, ConnectorContract

EXPORT = FIXTURES / "claude" / "conversations.json"
BAD = FIXTURES / "bad" / "claude"
CONNECTOR = ClaudeConnector()

GIFT = "3f9a1c2e-5b6d-4e7f-8a9b-0c1d2e3f4a51"
TRAINS = "7c6b5a49-3827-4165-9f8e-7d6c5b4a3921"
UPLOADS = "9e8d7c6b-5a49-4382-a716-0f5e4d3c2b1a"


def parse(path: Path = EXPORT, mtime: datetime = MTIME) -> list[Item]:
    return CONNECTOR.parse(path, path.read_bytes(), mtime)


def of(items: list[Item], uuid: str) -> list[Item]:
    return [i for i in items if i.document == f"claude:{uuid}"]


def load_export() -> list[dict[str, Any]]:
    data: list[dict[str, Any]] = json.loads(EXPORT.read_text(encoding="utf-8"))
    return data


def write_export(path: Path, conversations: list[dict[str, Any]]) -> Path:
    path.write_text(json.dumps(conversations, ensure_ascii=False, indent=2), encoding="utf-8")
    return path


def message(uuid: str, sender: str, text: str, created: str | None) -> dict[str, Any]:
    return {
        "uuid": uuid,
        "text": text,
        "content": [{"type": "text", "text": text}],
        "sender": sender,
        "created_at": created,
        "updated_at": created,
        "attachments": [],
        "files": [],
    }


def conversation(uuid: str, messages: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "uuid": uuid,
        "name": "Notas",
        "created_at": "2024-01-01T09:00:00Z",
        "updated_at": "2024-01-01T09:05:00Z",
        "account": {"uuid": "acc"},
        "chat_messages": messages,
    }


class TestClaudeContract(ConnectorContract):
    connector = CONNECTOR

    def sample_files(self) -> list[Path]:
        return [EXPORT]

    def make_file(self, directory: Path, body: str) -> Path:
        convo = conversation("c-1", [message("m-1", "human", body, "2024-01-01T09:00:00Z")])
        return write_export(directory / "conversations.json", [convo])

    def test_items_name_their_document_and_kind(self) -> None:
        # A chat's document is the conversation's uuid, not the file path (the contract's
        # default check is for files read whole).
        uuids = {c["uuid"] for c in load_export()}
        for item in self.parse(EXPORT):
            assert item.document in {f"claude:{u}" for u in uuids}
            assert item.source_ref == f"{item.document}#{item.locator}"
            assert item.locator
            assert item.kind == "message"


# --- messages -------------------------------------------------------------------------


def test_turns_keep_text_authors_times_and_attachment_names() -> None:
    items = of(parse(), GIFT)
    assert [(i.locator, i.author, i.sender) for i in items] == [
        ("11111111-aaaa-4bbb-8ccc-000000000001", "self", None),
        ("11111111-aaaa-4bbb-8ccc-000000000002", "other", "Claude"),
        ("11111111-aaaa-4bbb-8ccc-000000000003", "self", None),
        ("11111111-aaaa-4bbb-8ccc-000000000004", "other", "Claude"),
    ]
    assert items[0].text == (
        "A minha irmã Inês faz 30 anos no sábado 🎂. Gosta de cerâmica e de caminhadas. "
        "Ideias de presente até 80 €?"
    )
    assert items[0].time == datetime(2024, 3, 2, 18, 4, 5, 523911, tzinfo=UTC)
    assert items[3].time == datetime(2024, 3, 2, 18, 9, 41, 882310, tzinfo=UTC)
    assert dict(items[0].meta) == {
        "conversation_id": GIFT,
        "conversation_title": "Presente de aniversário para a Inês",
        "attachments": ["lista-de-desejos.txt"],
    }
    assert items[2].meta["files"] == ["inês-na-serra.jpg"]
    assert "botas de caminhada" not in " ".join(i.text for i in items)  # attachment body
    assert {i.conversation for i in items} == {"Presente de aniversário para a Inês"}
    assert {i.title for i in items} == {None}


def test_text_blocks_are_joined_and_thinking_and_tools_left_out() -> None:
    items = of(parse(), TRAINS)
    assert items[1].text == (
        "Yes: the ÖBB Nightjet runs Munich–Rome every night, leaving around 20:20 and "
        "arriving at Roma Termini at about 09:30.\n\n"
        "A couchette starts at roughly 70 €, a private sleeper at about 200 €. "
        "夜行列車は早めに予約してください。"
    )
    assert items[1].meta["tools"] == ["web_search"]
    assert items[0].text == "Is there still a night train from Munich to Rome? Πόσο κοστίζει;"
    everything = " ".join(i.text for i in parse())
    assert "check current routes" not in everything
    assert "ÖBB Nightjet Munich - Rome" not in everything


def test_missing_created_at_takes_the_previous_time_and_empty_turns_are_skipped() -> None:
    items = of(parse(), TRAINS)
    assert [i.locator for i in items] == [
        "22222222-bbbb-4ccc-8ddd-000000000001",
        "22222222-bbbb-4ccc-8ddd-000000000002",
        "22222222-bbbb-4ccc-8ddd-000000000003",
    ]  # the fourth, an empty assistant turn, is gone
    thanks = items[2]
    assert thanks.text == "Thanks! Booked the couchette 🚆"
    assert thanks.time == items[1].time == datetime(2024, 11, 20, 7, 31, 30, tzinfo=UTC)
    assert thanks.meta["time_estimated"] is True
    assert of(parse(mtime=MTIME + timedelta(days=9)), TRAINS) == items


def test_a_bare_upload_is_a_turn_naming_the_file() -> None:
    items = of(parse(), UPLOADS)
    assert [(i.author, i.text) for i in items] == [
        ("self", "[attached: receipt-0115.png]"),
        ("other", "This is a pharmacy receipt for 14,90 € dated 15 January."),
    ]
    assert {i.conversation for i in items} == {None}  # the chat was never named
    assert "conversation_title" not in items[0].meta


def test_plain_text_is_used_without_content_blocks(tmp_path: Path) -> None:
    old = message("m-1", "human", "Olá do formato antigo", "2023-08-01T12:00:00")
    del old["content"]
    items = parse(write_export(tmp_path / "c.json", [conversation("c-1", [old])]))
    assert [(i.text, i.time) for i in items] == [
        ("Olá do formato antigo", datetime(2023, 8, 1, 12, tzinfo=UTC))
    ]


def test_messages_without_uuid_get_time_and_author_locators(tmp_path: Path) -> None:
    when = "2024-01-01T09:00:00+01:00"
    messages = [message("", "human", "um", when), message("", "human", "dois", when)]
    for m in messages:
        del m["uuid"]
    items = parse(write_export(tmp_path / "c.json", [conversation("c-1", messages)]))
    assert [i.locator for i in items] == [
        "2024-01-01T08:00:00+00:00/self/1",
        "2024-01-01T08:00:00+00:00/self/2",
    ]


def test_empty_exports_and_conversations_give_nothing(tmp_path: Path) -> None:
    assert parse(write_export(tmp_path / "empty.json", [])) == []
    assert not of(parse(), "aaaaaaaa-0000-4000-8000-000000000000")
    assert len(parse()) == 9


def test_authors_come_from_the_sender_role_whatever_the_identity() -> None:
    identity = Identity(
        frozenset(
            {
                normalize("name", "Rui Costa"),
                normalize("phone", "+351 912 345 678"),
                normalize("name", "Claude"),
            }
        )
    )
    items = parse()
    assert {(i.author, i.sender) for i in items} == {("self", None), ("other", "Claude")}
    for item in items:
        assert identity.author_of(item) == item.author


# --- re-exports -----------------------------------------------------------------------


def test_a_longer_reexport_keeps_old_refs_and_hashes_and_adds_the_new(tmp_path: Path) -> None:
    before = {(i.source_ref, i.content_hash) for i in parse()}
    export = copy.deepcopy(load_export())
    gift = next(c for c in export if c["uuid"] == GIFT)
    gift["name"] = "Aniversário da Inês 🎉"  # renamed since
    gift["chat_messages"].append(
        message("new-1", "human", "Reservei o workshop!", "2024-03-05T10:00:00Z")
    )
    export.append(
        conversation("new-conv", [message("new-2", "human", "Outra conversa", "2024-04-01T08:00Z")])
    )
    after = {
        (i.source_ref, i.content_hash) for i in parse(write_export(tmp_path / "x.json", export))
    }
    assert before <= after
    assert {ref for ref, _ in after - before} == {f"claude:{GIFT}#new-1", "claude:new-conv#new-2"}


# --- malformed input ------------------------------------------------------------------

BAD_FILES = {
    "empty_file.json": "empty file: not a Claude export",
    "truncated_json.json": "malformed or truncated JSON (line 26, column 9: Unterminated string",
    "not_utf8_latin1.json": "not valid UTF-8 (bad byte at offset 155)",
    "binary_junk_gzip.json": "binary file (it contains NUL bytes): not a Claude export",
    "top_level_object.json": "not a Claude export: expected a JSON list of conversations, got an "
    "object",
    "conversation_not_an_object.json": "conversation 1: expected an object, got a number",
    "chat_messages_not_a_list.json": "'chat_messages' is an object, not a list",
    "message_not_an_object.json": "conversation 0 ('Broken'): message 1 is a string, not an object",
    "created_at_not_iso.json": "message 0 created_at: 'yesterday at 5pm' is not an ISO 8601 time",
    "created_at_a_number.json": "message 0 created_at: expected an ISO 8601 time, got a number",
}


@pytest.mark.parametrize("name", sorted(BAD_FILES))
def test_each_bad_file_raises_its_parse_error(name: str) -> None:
    with pytest.raises(ParseError) as caught:
        parse(BAD / name)
    assert BAD_FILES[name] in str(caught.value)


def test_every_bad_fixture_has_an_expected_error() -> None:
    assert {p.name for p in BAD.iterdir()} == set(BAD_FILES)


def test_deeply_nested_json_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "deep.json"
    path.write_text('[{"chat_messages": ' + "[" * 200_000 + "]" * 200_000 + "}]")
    with pytest.raises(ParseError, match="nested too deeply"):
        parse(path)


# --- detection ------------------------------------------------------------------------


def head(path: Path) -> bytes:
    with path.open("rb") as fh:
        return fh.read(4096)


def test_detected_by_content_under_any_name(tmp_path: Path) -> None:
    renamed = tmp_path / "notes.txt"
    shutil.copy(EXPORT, renamed)
    assert CONNECTOR.detect(renamed, head(renamed))
    assert isinstance(connector_for(renamed, available_connectors()), ClaudeConnector)
    assert (CONNECTOR.name, CONNECTOR.kind, CONNECTOR.history) == ("claude", "message", "append")
    assert CONNECTOR.priority > 0


def test_a_long_summary_before_the_messages_is_still_detected() -> None:
    convo = {"uuid": "c-1", "name": "x", "summary": "word " * 2000, "chat_messages": []}
    text = json.dumps([convo]).encode()
    assert CONNECTOR.detect(Path("conversations.json"), text[:4096])
    projects = [{"uuid": "p-1", "name": "x", "description": "y", "docs": [{"content": "z" * 5000}]}]
    assert not CONNECTOR.detect(Path("projects.json"), json.dumps(projects).encode()[:4096])


def test_other_formats_are_not_detected() -> None:
    others = [
        FIXTURES / "chatgpt" / "conversations.json",
        *sorted((FIXTURES / "chat_jsonl").glob("*.jsonl")),
        *sorted((FIXTURES / "notes").rglob("*.md")),
        *sorted((FIXTURES / "slack").rglob("*.json")),
        *sorted((FIXTURES / "telegram").rglob("*.json")),
    ]
    assert len(others) > 5
    for path in others:
        assert not CONNECTOR.detect(path, head(path)), path
    assert not ChatGPTConnector().detect(EXPORT, head(EXPORT))
    assert not CONNECTOR.detect(Path("c.json"), b'{"chat_messages": []}')
    assert not CONNECTOR.detect(Path("c.json"), b'[{"uuid": "x", "messages": []}]')
