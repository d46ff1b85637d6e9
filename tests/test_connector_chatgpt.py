"""ChatGPT export connector: the shared contract plus branches, content types and re-exports."""

from __future__ import annotations

import copy
import json
import shutil
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from assistant.identity import Identity, normalize
from assistant.ingest import ingest
from assistant.memory import Memory
from connectors.base import Item, ParseError
from connectors.chatgpt import ChatGPTConnector
from connectors.claude import ClaudeConnector
from connectors.jsonfile import first_object_keys
from connectors.registry import available_connectors, connector_for
from tests.conftest import chatgpt_conversation
from tests.connector_contract import FIXTURES, MTIME, ConnectorContract

EXPORT = FIXTURES / "chatgpt" / "conversations.json"
BAD = FIXTURES / "bad" / "chatgpt"
CONNECTOR = ChatGPTConnector()

LISBON = "6650a1f2-0c3e-8004-9d1e-3f6b2a1c7e01"
SOURDOUGH = "67a0c9e1-77b4-8004-a1d2-5c4b3a291801"
RECEIPT = "68012e55-3b10-8004-bb7f-0a9e8d7c6b51"
KYOTO = "6712f0aa-1c2d-8004-9e8f-7a6b5c4d3e21"
MARATHON = "5f3e2d1c-0b0a-4998-8776-655443322110"


def parse(path: Path = EXPORT, mtime: datetime = MTIME) -> list[Item]:
    return CONNECTOR.parse(path, path.read_bytes(), mtime)


def of(items: list[Item], conversation_id: str) -> list[Item]:
    return [i for i in items if i.document == f"chatgpt:{conversation_id}"]


def utc(epoch: float) -> datetime:
    return datetime.fromtimestamp(epoch, UTC)


def load_export() -> list[dict[str, Any]]:
    data: list[dict[str, Any]] = json.loads(EXPORT.read_text(encoding="utf-8"))
    return data


def write_export(path: Path, conversations: list[dict[str, Any]]) -> Path:
    path.write_text(json.dumps(conversations, ensure_ascii=False), encoding="utf-8")
    return path


def one_message_export(text: str) -> list[dict[str, Any]]:
    return [chatgpt_conversation("c-1", "t", [(1700000000.0, "user", text)])]


class TestChatGPTContract(ConnectorContract):
    connector = CONNECTOR

    def sample_files(self) -> list[Path]:
        return [EXPORT]

    def make_file(self, directory: Path, body: str) -> Path:
        return write_export(directory / "conversations.json", one_message_export(body))

    def test_items_name_their_document_and_kind(self) -> None:
        # A chat's document is the conversation's own id, not the file path (the
        # contract's default check is for files read whole).
        ids = {c.get("conversation_id", c["id"]) for c in load_export()}
        for item in self.parse(EXPORT):
            assert item.document in {f"chatgpt:{i}" for i in ids}
            assert item.source_ref == f"{item.document}#{item.locator}"
            assert item.locator
            assert item.kind == "message"


# --- branches: only what the user last saw ---------------------------------------------


def test_only_the_active_branch_of_a_regenerated_answer_is_kept() -> None:
    items = of(parse(), LISBON)
    assert [(i.locator, i.author, i.sender) for i in items] == [
        ("aaa2b7c1-1d2e-4f3a-8b9c-0d1e2f3a4b01", "self", None),
        ("b1e2c3d4-0002-4a5b-8c9d-0e1f2a3b4c02", "other", "ChatGPT"),
        ("aaa2b7c1-1d2e-4f3a-8b9c-0d1e2f3a4b02", "self", None),
        ("b1e2c3d4-0003-4a5b-8c9d-0e1f2a3b4c03", "other", "ChatGPT"),
    ]
    assert [i.text for i in items] == [
        "Estou a planear uma viagem a Lisboa em maio 🇵🇹. O que devo levar na mala?",
        "Para Lisboa em maio: roupa leve, um casaco fino para a noite, sapatos confortáveis "
        "para a calçada e protetor solar. ☀️",
        "And for a day trip to Sintra?",
        "Bring a light jacket: Sintra is cooler than Lisbon and often misty in the morning. "
        "Book the Pena Palace tickets online to skip the queue.",
    ]
    everything = " ".join(i.text for i in parse())
    assert "guarda-chuva" not in everything  # the regenerated-away draft
    assert items[1].meta["siblings"] == 2
    assert "siblings" not in items[0].meta
    assert {i.conversation for i in items} == {"Viagem a Lisboa em maio"}
    assert {i.title for i in items} == {None}  # a rename must not change content hashes


def test_an_edited_question_keeps_only_the_edit_and_its_answer() -> None:
    items = of(parse(), SOURDOUGH)
    assert [i.locator for i in items] == [
        "c0000000-0000-4000-8000-000000000004",
        "c0000000-0000-4000-8000-000000000005",
    ]
    assert items[0].text == (
        "How often should I feed a rye sourdough starter that lives in the fridge?"
    )
    assert dict(items[0].meta) == {
        "conversation_id": SOURDOUGH,
        "conversation_title": "Rye starter feeding",
        "attachments": ["starter-notes.pdf"],
        "siblings": 2,
    }
    assert items[1].meta["model"] == "o4-mini"
    # The memory update (recipient "bio") and the tool's reply are not conversation.
    assert not any("User bakes rye" in i.text or "context updated" in i.text for i in items)


def test_without_current_node_the_newest_branch_is_taken(tmp_path: Path) -> None:
    export = load_export()
    for conversation in export:
        del conversation["current_node"]
    items = of(parse(write_export(tmp_path / "c.json", export)), LISBON)
    assert [i.locator for i in items] == [
        "aaa2b7c1-1d2e-4f3a-8b9c-0d1e2f3a4b01",
        "b1e2c3d4-0002-4a5b-8c9d-0e1f2a3b4c02",
        "aaa2b7c1-1d2e-4f3a-8b9c-0d1e2f3a4b02",
        "b1e2c3d4-0003-4a5b-8c9d-0e1f2a3b4c03",
    ]


# --- times ----------------------------------------------------------------------------


def test_times_are_the_messages_utc_epochs() -> None:
    items = of(parse(), LISBON)
    assert items[0].time == datetime(2024, 5, 1, 10, 30, 1, 500000, tzinfo=UTC)
    assert items[1].time == utc(1714559460.25)
    assert items[3].time == utc(1714560112.5)
    assert all(i.time.utcoffset() == timedelta(0) for i in parse())


def test_missing_create_time_takes_the_previous_time_and_is_idempotent() -> None:
    items = of(parse(), LISBON)
    sintra = items[2]
    assert sintra.text == "And for a day trip to Sintra?"
    assert sintra.time == items[1].time == utc(1714559460.25)
    assert sintra.meta["time_estimated"] is True
    assert not any(i.meta.get("time_estimated") for i in items if i is not sintra)
    # The estimate never depends on when the file was written or read.
    later = of(parse(mtime=MTIME + timedelta(days=400)), LISBON)
    assert later == items
    assert [(i.source_ref, i.content_hash, i.time) for i in parse()] == [
        (i.source_ref, i.content_hash, i.time) for i in parse()
    ]


def test_a_conversation_without_message_times_uses_its_own_create_time(tmp_path: Path) -> None:
    export = one_message_export("Sem hora")
    export[0]["mapping"]["m-1"]["message"]["create_time"] = None
    items = parse(write_export(tmp_path / "c.json", export))
    assert [(i.time, i.meta["time_estimated"]) for i in items] == [(utc(1700000000.0), True)]
    export[0]["create_time"] = export[0]["update_time"] = None
    items = parse(write_export(tmp_path / "c.json", export))
    assert [(i.time, i.meta["time_estimated"]) for i in items] == [(MTIME, True)]


# --- content types --------------------------------------------------------------------


def test_images_code_and_citations_become_readable_text() -> None:
    items = of(parse(), RECEIPT)
    assert [i.text for i in items] == [
        "[image]\n\nHere's the supermarket receipt — what's the total without the bags?",
        "items = [12.40, 3.15, 7.99]\nprint(round(sum(items), 2))",
        "The total without the bags is €23.54. The two bags add €0.20.",
    ]
    assert dict(items[0].meta) == {
        "conversation_id": RECEIPT,
        "conversation_title": "Receipt total",
        "content_type": "multimodal_text",
        "images": 1,
    }
    assert dict(items[1].meta) == {
        "conversation_id": RECEIPT,
        "conversation_title": "Receipt total",
        "content_type": "code",
        "code_language": "python",
        "model": "o3",
        "recipient": "python",
        "ai_assistant": True,  # the assistant's turn: its "I" is no person
    }
    # Reasoning, its recap and the tool's output are not shown as turns.
    assert not any(
        "Reading the receipt" in i.text or "Thought for" in i.text or i.text == "23.54"
        for i in items
    )


def test_hidden_custom_instructions_are_skipped_and_voice_is_transcribed() -> None:
    items = of(parse(), KYOTO)
    assert [(i.author, i.text) for i in items] == [
        ("self", "11月の京都で紅葉を見るならどこがいいですか？"),
        ("other", "永観堂と東福寺がおすすめです。🍁 朝早く行くと混雑を避けられます。"),
    ]
    assert items[0].meta["audio"] is True
    assert {i.conversation for i in items} == {"京都の紅葉"}
    assert "travel by train" not in " ".join(i.text for i in parse())


def test_a_long_answer_is_stored_in_parts_of_an_old_style_export() -> None:
    items = of(parse(), MARATHON)
    answer_id = "f0000000-0000-4000-8000-000000000003"
    assert [i.locator for i in items] == [
        "f0000000-0000-4000-8000-000000000002",
        f"{answer_id}:0",
        f"{answer_id}:1",
        f"{answer_id}:2",
    ]
    parts = items[1:]
    assert all(len(i.text) <= 1000 for i in parts)
    assert [(i.meta["part"], i.meta["parts"]) for i in parts] == [(0, 3), (1, 3), (2, 3)]
    export = {c["id"]: c for c in load_export()}
    original = export[MARATHON]["mapping"][answer_id]["message"]["content"]["parts"][0]
    assert " ".join(i.text for i in parts).split() == original.split()
    assert {i.time for i in parts} == {utc(1688198460.0)}


def test_empty_conversations_and_empty_exports_give_nothing(tmp_path: Path) -> None:
    assert not [i for i in parse() if "6801aa00" in i.document]
    assert parse(write_export(tmp_path / "empty.json", [])) == []
    assert len(parse()) == 15


# --- who wrote it ---------------------------------------------------------------------


def test_authors_come_from_the_roles_whatever_the_identity() -> None:
    identity = Identity(
        frozenset(
            {
                normalize("name", "Rui Costa"),
                normalize("phone", "+351 912 345 678"),
                normalize("name", "ChatGPT"),  # even a user who calls themself that
            }
        )
    )
    items = parse()
    assert {(i.author, i.sender) for i in items} == {("self", None), ("other", "ChatGPT")}
    for item in items:
        assert identity.author_of(item) == item.author
    assert Identity(frozenset()).author_of(items[0]) == "self"
    assert Identity(frozenset()).author_of(items[1]) == "other"


# --- re-exports -----------------------------------------------------------------------


def _node(node_id: str, parent: str, role: str, text: str, when: float) -> dict[str, Any]:
    message = {
        "id": node_id,
        "author": {"role": role, "name": None, "metadata": {}},
        "create_time": when,
        "content": {"content_type": "text", "parts": [text]},
        "metadata": {},
        "recipient": "all",
    }
    return {"id": node_id, "message": message, "parent": parent, "children": []}


def test_a_longer_reexport_keeps_old_refs_and_hashes_and_adds_the_new(tmp_path: Path) -> None:
    before = {(i.source_ref, i.content_hash) for i in parse()}
    export = copy.deepcopy(load_export())
    lisbon = next(c for c in export if c["id"] == LISBON)
    lisbon["title"] = "Lisboa + Sintra"  # renamed since the first export
    last = lisbon["current_node"]
    lisbon["mapping"][last]["children"].append("new-user-1")
    lisbon["mapping"]["new-user-1"] = _node("new-user-1", last, "user", "Obrigado! 🙏", 1714600000)
    lisbon["mapping"]["new-user-1"]["children"].append("new-bot-1")
    lisbon["mapping"]["new-bot-1"] = _node(
        "new-bot-1", "new-user-1", "assistant", "De nada, boa viagem!", 1714600005
    )
    lisbon["current_node"] = "new-bot-1"
    newer = copy.deepcopy(next(c for c in export if c["id"] == KYOTO))
    newer["id"] = newer["conversation_id"] = "new-conversation"
    export.append(newer)
    renamed = write_export(tmp_path / "chatgpt-export-2024-06-01.json", export)

    after = {(i.source_ref, i.content_hash) for i in parse(renamed)}
    assert before <= after
    assert {ref for ref, _ in after - before} == {
        f"chatgpt:{LISBON}#new-user-1",
        f"chatgpt:{LISBON}#new-bot-1",
        "chatgpt:new-conversation#e0000000-0000-4000-8000-000000000003",
        "chatgpt:new-conversation#e0000000-0000-4000-8000-000000000004",
    }


def test_reimporting_a_longer_export_adds_only_new_messages(memory: Memory, tmp_path: Path) -> None:
    first_folder = tmp_path / "export-1"
    first_folder.mkdir()
    shutil.copy(EXPORT, first_folder / "conversations.json")
    first = ingest(memory, [first_folder])
    assert (first.added, first.failed, first.chunks_added) == (1, [], 15)

    export = load_export()
    lisbon = next(c for c in export if c["id"] == LISBON)
    last = lisbon["current_node"]
    lisbon["mapping"][last]["children"].append("new-user-1")
    lisbon["mapping"]["new-user-1"] = _node("new-user-1", last, "user", "Obrigado!", 1714600000)
    lisbon["current_node"] = "new-user-1"
    second_folder = tmp_path / "export-2"
    second_folder.mkdir()
    write_export(second_folder / "conversations.json", export)
    second = ingest(memory, [second_folder])
    assert (second.added, second.failed, second.chunks_added) == (1, [], 1)
    rows = memory.db.conn.execute(
        "SELECT author, text FROM episodes WHERE source_ref = ?", (f"chatgpt:{LISBON}#new-user-1",)
    ).fetchall()
    assert rows == [("self", "Obrigado!")]
    total = memory.db.conn.execute("SELECT count(*) FROM episodes").fetchone()[0]
    assert total == 16


# --- malformed input ------------------------------------------------------------------

BAD_FILES = {
    "empty_file.json": "empty file: not a ChatGPT export",
    "truncated_json.json": "malformed or truncated JSON (line 1, column 225: Unterminated string",
    "not_utf8_latin1.json": "not valid UTF-8 (bad byte at offset 237)",
    "binary_junk_png.json": "binary file (it contains NUL bytes): not a ChatGPT export",
    "top_level_object.json": "expected a JSON list of conversations, got an object",
    "conversation_not_an_object.json": "conversation 1: expected an object, got a string",
    "mapping_not_an_object.json": "conversation 0 ('Broken'): 'mapping' is a list, not an object",
    "node_not_an_object.json": "node 'n2' is a string, not an object",
    "message_not_an_object.json": "message of node 'n1' is a list",
    "parent_links_cycle.json": "the parent links of node 'b' form a cycle",
    "create_time_not_a_number.json": "message n1: expected a Unix time, got a string",
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
    path.write_text("[" * 200_000 + "]" * 200_000, encoding="utf-8")
    with pytest.raises(ParseError, match="nested too deeply"):
        parse(path)


@pytest.mark.parametrize(
    ("value", "error"),
    [(float("nan"), "is not a usable Unix time"), (1e300, "is not a usable Unix time")],
)
def test_impossible_times_are_refused(tmp_path: Path, value: float, error: str) -> None:
    export = one_message_export("Olá")
    export[0]["mapping"]["m-1"]["message"]["create_time"] = value
    with pytest.raises(ParseError, match=error):
        parse(write_export(tmp_path / "c.json", export))


def test_files_over_the_size_limit_are_refused_before_parsing(tmp_path: Path) -> None:
    class Small(ChatGPTConnector):
        max_file_bytes = 100

    path = write_export(tmp_path / "c.json", one_message_export("x" * 200))
    with pytest.raises(ParseError, match=r"file is \d+ bytes; chatgpt reads at most 100"):
        Small().parse(path, path.read_bytes(), MTIME)


# --- detection ------------------------------------------------------------------------


def head(path: Path) -> bytes:
    with path.open("rb") as fh:
        return fh.read(4096)


def test_detected_by_content_under_any_name(tmp_path: Path) -> None:
    renamed = tmp_path / "notes.txt"
    shutil.copy(EXPORT, renamed)
    assert CONNECTOR.detect(renamed, head(renamed))
    picked = connector_for(renamed, available_connectors())
    assert isinstance(picked, ChatGPTConnector)
    assert CONNECTOR.priority > 0
    assert (CONNECTOR.name, CONNECTOR.kind, CONNECTOR.history) == ("chatgpt", "message", "append")


def test_other_formats_are_not_detected() -> None:
    others = [
        FIXTURES / "claude" / "conversations.json",
        *sorted((FIXTURES / "chat_jsonl").glob("*.jsonl")),
        *sorted((FIXTURES / "notes").rglob("*.md")),
        *sorted((FIXTURES / "notes").rglob("*.txt")),
        *sorted((FIXTURES / "slack").rglob("*.json")),
        *sorted((FIXTURES / "telegram").rglob("*.json")),
    ]
    assert len(others) > 5
    for path in others:
        assert not CONNECTOR.detect(path, head(path)), path
    assert not ClaudeConnector().detect(EXPORT, head(EXPORT))


@pytest.mark.parametrize(
    "text",
    [
        b'{"title": "x", "mapping": {}}',  # an object, not a list
        b'[{"uuid": "x", "chat_messages": [{"text": "\\"mapping\\": {}"}]}]',  # in a string
        b'[{"uuid": "x", "extra": {"mapping": {}}}]',  # a nested key
        b'["mapping", {"mapping": {}}]',  # not the first object
        b"",
    ],
)
def test_mapping_only_counts_as_a_key_of_the_first_object(text: bytes) -> None:
    assert not CONNECTOR.detect(Path("conversations.json"), text)


def test_first_object_keys_reads_as_far_as_the_head_goes() -> None:
    assert first_object_keys(
        b'\xef\xbb\xbf [ {"a": 1, "b": {"c": [1, "}"]}, "d\\"": 2}, {"e": 3}]'
    ) == (
        ["a", "b", 'd\\"'],
        True,
    )
    assert first_object_keys(b'[{"title": "A long ti') == (["title"], False)
    assert first_object_keys(b'[{"tit') == ([], False)
    assert first_object_keys(head(EXPORT))[0][:4] == [
        "title",
        "create_time",
        "update_time",
        "mapping",
    ]


def big_export(path: Path, size: int) -> tuple[Path, str, int]:
    """A `size`-byte export whose first conversation only reaches `mapping` after 4 KiB:
    its fields are reordered (`mapping` last, after the hundreds of `safe_urls` a web
    browsing conversation cites) and its first message is a long pasted text. Returns the
    path, that first message and the number of conversations."""
    first_text = "Summarise this contract for me. " + "Clause text of the lease. " * 4000
    first = one_message_export(first_text)[0]
    mapping = first.pop("mapping")
    first["safe_urls"] = [f"https://example.org/lease-law/article-{n}" for n in range(200)]
    first["mapping"] = mapping
    chunk = one_message_export("A follow-up about the deposit and the notice period. " * 40)[0]
    body = json.dumps(chunk, ensure_ascii=False)
    count = size // len(body)
    parts = [json.dumps(first, ensure_ascii=False)]
    for n in range(count):
        parts.append(body.replace('"c-1"', f'"c-{n + 2}"').replace('"m-1"', f'"m-{n + 2}"'))
    path.write_text("[" + ", ".join(parts) + "]", encoding="utf-8")
    return path, first_text, count + 1


def test_a_big_export_with_a_long_first_conversation_is_recognised(tmp_path: Path) -> None:
    path, first_text, conversations = big_export(tmp_path / "conversations.json", 50_000_000)
    assert path.stat().st_size > 48_000_000
    assert not CONNECTOR.detect(path, head(path))  # the first 4 KiB alone do not tell
    assert isinstance(connector_for(path, available_connectors()), ChatGPTConnector)
    # Under another name nothing vouches for looking further: it is not read as an export.
    renamed = path.rename(tmp_path / "data.json")
    assert connector_for(renamed, available_connectors()) is None


def test_a_big_export_is_read_by_the_worker_in_a_folder(tmp_path: Path) -> None:
    from connectors.sandbox import ParseSandbox

    path, first_text, conversations = big_export(tmp_path / "conversations.json", 50_000_000)
    with ParseSandbox(timeout=120) as sandbox:
        reading = sandbox.read(path, available_connectors(), MTIME.timestamp())
    assert reading.connector == "chatgpt"
    assert len({i.document for i in reading.items}) == conversations
    first = [i for i in reading.items if i.document == "chatgpt:c-1"]
    assert "".join(i.text for i in first).replace(" ", "") == first_text.replace(" ", "")


def test_an_export_resaved_as_utf16_is_recognised(tmp_path: Path) -> None:
    path = tmp_path / "conversations.json"
    path.write_bytes(EXPORT.read_text(encoding="utf-8").encode("utf-16"))  # with a BOM
    assert isinstance(connector_for(path, available_connectors()), ChatGPTConnector)
    assert len(CONNECTOR.parse(path, path.read_bytes(), MTIME)) == len(parse())
