"""Generic chat JSONL connector: the shared contract plus the documented format's rules."""

from __future__ import annotations

import json
import shutil
import time as time_module
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest

from assistant.identity import Identity, add_identity, normalize
from assistant.ingest import ingest
from assistant.memory import Memory
from connectors import chat_jsonl
from connectors.base import Item, ParseError
from connectors.chat_jsonl import ChatJsonlConnector
from connectors.chatgpt import ChatGPTConnector
from connectors.claude import ClaudeConnector
from connectors.registry import available_connectors, connector_for
from tests.connector_contract import FIXTURES, MTIME, ConnectorContract

CHATS = FIXTURES / "chat_jsonl"
FAMILIA = CHATS / "familia.jsonl"
SIGNAL = CHATS / "signal_export.jsonl"
BAD = FIXTURES / "bad" / "chat_jsonl"
DOC = Path(__file__).resolve().parent.parent / "docs" / "chat-jsonl.md"
CONNECTOR = ChatJsonlConnector()
GROUP = "Família Costa 👨‍👩‍👧"


def parse(path: Path, data: bytes | None = None) -> list[Item]:
    return CONNECTOR.parse(path, path.read_bytes() if data is None else data, MTIME)


def line(text: str, **fields: object) -> str:
    record = {"time": "2024-03-08T19:02:11+00:00", "sender": "Ana", "text": text}
    record["conversation"] = "Notas"
    record.update(fields)  # type: ignore[arg-type]
    return json.dumps(record, ensure_ascii=False)


def local(*args: int) -> datetime:
    return datetime(*args).astimezone()  # type: ignore[arg-type]


class TestChatJsonlContract(ConnectorContract):
    connector = CONNECTOR

    def sample_files(self) -> list[Path]:
        return sorted(CHATS.glob("*.jsonl"))

    def make_file(self, directory: Path, body: str) -> Path:
        path = directory / "chat.jsonl"
        path.write_text(line(body) + "\n", encoding="utf-8")
        return path

    def test_items_name_their_document_and_kind(self) -> None:
        # A chat's document is the conversation, not the file path (the contract's default
        # check is for files read whole).
        for path in self.sample_files():
            for item in self.parse(path):
                assert item.document == f"chat:{item.conversation}"
                assert item.source_ref == f"{item.document}#{item.locator}"
                assert item.locator
                assert item.kind == "message"


# --- the format -----------------------------------------------------------------------


def test_group_chat_with_ids_replies_edits_and_emoji() -> None:
    items = parse(FAMILIA)
    assert [(i.locator, i.sender, i.text) for i in items] == [
        ("wamid.HBgM351912000001", "Ana Ribeiro", "Jantar de domingo em casa da avó? 🍲"),
        ("wamid.HBgM351912000002", "Rui Costa", "Sim! Eu levo o bacalhau à Brás."),
        (
            "wamid.HBgM351912000003",
            "+351 912 345 678",
            "(do telemóvel do Rui) Chego às 13h, não às 12h.",
        ),
        ("wamid.HBgM351912000004", "Inês Costa", "Eu faço a sobremesa: arroz doce 😋"),
        ("4711", "Ana Ribeiro", "A avó diz que traz o vinho verde 🍷"),
    ]
    assert {i.document for i in items} == {f"chat:{GROUP}"}
    assert {i.conversation for i in items} == {GROUP}
    assert {(i.author, i.title, i.kind) for i in items} == {("unknown", None, "message")}
    assert items[1].meta == {"reply_to": "wamid.HBgM351912000001"}
    assert items[3].meta == {"edited": True, "edited_at": "2024-03-08T20:16:30+01:00"}
    assert items[4].meta == {"reactions": {"❤️": ["Rui Costa", "Inês Costa"]}}
    assert items[0].meta == {}
    assert items[1].source_ref == f"chat:{GROUP}#wamid.HBgM351912000002"


def test_times_keep_their_offsets() -> None:
    items = parse(FAMILIA)
    assert items[0].time == datetime(2024, 3, 8, 19, 2, 11, tzinfo=UTC)
    assert items[3].time == datetime(2024, 3, 8, 20, 15, tzinfo=timezone(timedelta(hours=1)))
    assert items[3].time.utcoffset() == timedelta(hours=1)
    assert items[4].time == datetime(2024, 3, 8, 19, 21, 3, tzinfo=UTC)


def test_without_ids_locators_count_repeats_of_time_and_sender() -> None:
    items = parse(SIGNAL)
    assert [(i.document, i.locator) for i in items] == [
        ("chat:Tomás", "2024-05-02T08:15:00/Tomás/1"),
        ("chat:Tomás", "2024-05-02T08:15:00/Tomás/2"),
        ("chat:Tomás", "2024-05-02T08:17:30/Rui Costa/1"),
        ("chat:Climbing crew", "2024-05-03T21:40:00/Yuki/1"),
        ("chat:Climbing crew", "2024-05-03T21:41:10/Rui Costa/1"),
        ("chat:Climbing crew", "2024-05-03T21:41:10/Rui Costa/2"),
    ]
    assert items[3].text == "来週の登山、天気が良ければ行きましょう！"
    assert items[4].meta == {"reply_to_time": "2024-05-03T21:40:00"}
    assert items[2].meta == {}  # unknown top-level keys ("source") are ignored


def test_empty_text_lines_are_skipped_without_using_a_number() -> None:
    items = parse(SIGNAL)
    # "   " from Rui at 08:17:30 is dropped; the only kept message there is number 1.
    assert [i.text for i in items if "08:17:30" in i.locator] == ["In! Bringing my new shoes."]
    assert not any(i.locator == "wamid.HBgM351912000005" for i in parse(FAMILIA))


def test_aware_times_are_normalized_to_utc_in_locators(tmp_path: Path) -> None:
    path = tmp_path / "c.jsonl"
    path.write_text(
        line("a", time="2024-03-08T20:02:11+01:00") + "\n" + line("b", time="2024-03-08T19:02:11Z"),
        encoding="utf-8",
    )
    assert [i.locator for i in parse(path)] == [
        "2024-03-08T19:02:11+00:00/Ana/1",
        "2024-03-08T19:02:11+00:00/Ana/2",
    ]


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
def test_naive_times_are_local_and_locators_do_not_depend_on_the_zone() -> None:
    items = parse(SIGNAL)
    jst = timezone(timedelta(hours=9))
    assert items[0].time == datetime(2024, 5, 2, 8, 15, tzinfo=jst)
    assert items[0].time.utcoffset() == timedelta(hours=9)
    assert items[0].locator == "2024-05-02T08:15:00/Tomás/1"


def test_blank_lines_bom_crlf_and_empty_files(tmp_path: Path) -> None:
    path = tmp_path / "c.jsonl"
    data = b"\xef\xbb\xbf" + (line("linha um") + "\r\n\r\n" + line("dois\r\nlinhas")).encode()
    assert [i.text for i in parse(path, data)] == ["linha um", "dois\nlinhas"]
    assert parse(path, b"") == []
    assert parse(path, b"\n \n\t\n") == []


def test_a_repeated_line_with_the_same_id_and_text_is_stored_once(tmp_path: Path) -> None:
    path = tmp_path / "c.jsonl"
    path.write_text("\n".join([line("olá", id="m1"), line("olá", id="m1")]), encoding="utf-8")
    assert [i.locator for i in parse(path)] == ["m1"]


# --- who wrote it ---------------------------------------------------------------------


def test_identity_resolves_senders_to_self_or_other() -> None:
    identity = Identity(
        frozenset({normalize("name", "Rui Costa"), normalize("phone", "+351 912 345 678")})
    )
    by_sender = {i.sender: identity.author_of(i) for i in parse(FAMILIA) + parse(SIGNAL)}
    assert by_sender == {
        "Ana Ribeiro": "other",
        "Rui Costa": "self",
        "+351 912 345 678": "self",
        "Inês Costa": "other",
        "Tomás": "other",
        "Yuki": "other",
    }
    assert Identity(frozenset()).author_of(parse(FAMILIA)[1]) == "other"


# --- re-exports -----------------------------------------------------------------------


def test_a_longer_reexport_keeps_old_refs_and_hashes_and_adds_the_new(tmp_path: Path) -> None:
    before = {(i.source_ref, i.content_hash) for i in parse(SIGNAL)}
    longer = tmp_path / "signal-2024-06.jsonl"
    longer.write_text(
        SIGNAL.read_text(encoding="utf-8")
        + line(
            "Seil habe ich!",
            sender="Yuki",
            conversation="Climbing crew",
            time="2024-05-03T21:45:00",
        )
        + "\n"
        + line(
            "Same time, new sender",
            sender="Tomás",
            conversation="Tomás",
            time="2024-05-02 08:17:30",
        )
        + "\n",
        encoding="utf-8",
    )
    after = {(i.source_ref, i.content_hash) for i in parse(longer)}
    assert before <= after
    assert {ref for ref, _ in after - before} == {
        "chat:Climbing crew#2024-05-03T21:45:00/Yuki/1",
        "chat:Tomás#2024-05-02T08:17:30/Tomás/1",
    }


def test_ingest_resolves_authors_and_a_reexport_adds_only_new_messages(
    memory: Memory, tmp_path: Path
) -> None:
    add_identity(memory.db, "name", "Rui Costa")
    add_identity(memory.db, "phone", "+351 912 345 678")
    first = tmp_path / "first"
    first.mkdir()
    shutil.copy(FAMILIA, first / "family.jsonl")
    summary = ingest(memory, [first])
    assert (summary.added, summary.failed, summary.chunks_added) == (1, [], 5)
    authors = memory.db.conn.execute(
        "SELECT sender, author FROM episodes ORDER BY time_unix"
    ).fetchall()
    assert authors == [
        ("Ana Ribeiro", "other"),
        ("Rui Costa", "self"),
        ("+351 912 345 678", "self"),
        ("Inês Costa", "other"),
        ("Ana Ribeiro", "other"),
    ]
    second = tmp_path / "second"
    second.mkdir()
    (second / "export under another name.txt").write_text(
        FAMILIA.read_text(encoding="utf-8")
        + line("Até domingo!", id="wamid.new", conversation=GROUP, sender="Rui Costa")
        + "\n",
        encoding="utf-8",
    )
    again = ingest(memory, [second])
    assert (again.added, again.failed, again.chunks_added) == (1, [], 1)
    rows = memory.db.conn.execute(
        "SELECT connector, author FROM episodes WHERE text = ?", ("Até domingo!",)
    )
    assert rows.fetchall() == [("chat_jsonl", "self")]


# --- malformed input ------------------------------------------------------------------

BAD_FILES = {
    "line_3_not_json.jsonl": "line 3: not valid JSON: Expecting property name enclosed in "
    "double quotes (column 2)",
    "line_2_not_an_object.jsonl": "line 2: expected a JSON object, got a list",
    "missing_sender.jsonl": "line 1: missing 'sender'",
    "empty_conversation.jsonl": "line 1: 'conversation' is empty",
    "text_not_a_string.jsonl": "line 2: 'text' must be a string, got a number",
    "time_not_iso8601.jsonl": "line 1: 'time' 'yesterday at 5pm' is not an ISO 8601 time",
    "time_a_number.jsonl": "line 1: 'time' must be a string, got a number",
    "meta_not_an_object.jsonl": "line 1: 'meta' must be an object, got a string",
    "nan_in_meta.jsonl": "line 1: NaN is not a JSON value",
    "id_not_string_or_integer.jsonl": "line 1: 'id' must be a non-empty string or an integer",
    "id_reused_for_other_text.jsonl": "line 3: id 'm1' of conversation 'Família' was already "
    "used on line 1 for another text",
    "truncated_last_line.jsonl": "line 3: not valid JSON: Unterminated string",
    "not_utf8_latin1.jsonl": "line 1: not valid UTF-8 (bad byte at offset 74)",
    "binary_junk_png.jsonl": "line 1: not valid UTF-8 (bad byte at offset 0)",
}


@pytest.mark.parametrize("name", sorted(BAD_FILES))
def test_each_bad_file_raises_its_parse_error(name: str) -> None:
    with pytest.raises(ParseError) as caught:
        parse(BAD / name)
    assert str(caught.value).startswith(BAD_FILES[name])


def test_every_bad_fixture_has_an_expected_error() -> None:
    assert {p.name for p in BAD.iterdir()} == set(BAD_FILES)


def test_a_50_mb_single_line_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "huge.jsonl"
    body = line("x" * (50 * 1024 * 1024))
    path.write_text(body, encoding="utf-8")
    with pytest.raises(ParseError, match=rf"^line 1 is {len(body)} bytes long; a chat message"):
        parse(path)


def test_deeply_nested_meta_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "deep.jsonl"
    path.write_text(line("x")[:-1] + ', "meta": {"a": ' + "[" * 100_000 + "]" * 100_000 + "}}")
    with pytest.raises(ParseError, match="^line 1: JSON nested too deeply"):
        parse(path)


# --- detection ------------------------------------------------------------------------


def head(path: Path) -> bytes:
    with path.open("rb") as fh:
        return fh.read(4096)


def test_detected_by_content_under_any_name(tmp_path: Path) -> None:
    for source in (FAMILIA, SIGNAL):
        renamed = tmp_path / "notes.txt"
        shutil.copy(source, renamed)
        assert CONNECTOR.detect(renamed, head(renamed))
        assert isinstance(connector_for(renamed, available_connectors()), ChatJsonlConnector)
    assert (CONNECTOR.name, CONNECTOR.history, CONNECTOR.extensions) == (
        "chat_jsonl",
        "append",
        (".jsonl",),
    )
    assert CONNECTOR.priority > 0


def test_a_first_message_longer_than_the_head_is_detected(tmp_path: Path) -> None:
    path = tmp_path / "long.jsonl"
    path.write_text(line("palavra " * 1000) + "\n" + line("curta") + "\n", encoding="utf-8")
    assert len(head(path)) == 4096
    assert CONNECTOR.detect(path, head(path))


def test_other_formats_are_not_detected() -> None:
    others = [
        FIXTURES / "chatgpt" / "conversations.json",
        FIXTURES / "claude" / "conversations.json",
        *sorted((FIXTURES / "notes").rglob("*.md")),
        *sorted((FIXTURES / "notes").rglob("*.txt")),
        *sorted((FIXTURES / "slack").rglob("*.json")),
        *sorted((FIXTURES / "telegram").rglob("*.json")),
    ]
    assert len(others) > 5
    for path in others:
        assert not CONNECTOR.detect(path, head(path)), path
    for wrong in (
        b'{"time": "2024-01-01T00:00:00Z", "sender": "a", "text": "b"}\n',  # no conversation
        b'{"event": "login", "time": "2024-01-01"}\n{"event": "logout"}\n',  # another log
        b'[{"time": "x", "sender": "a", "text": "b", "conversation": "c"}]',
        b"",
    ):
        assert not CONNECTOR.detect(Path("x.jsonl"), wrong)
    for source in (FAMILIA, SIGNAL):
        assert not ChatGPTConnector().detect(source, head(source))
        assert not ClaudeConnector().detect(source, head(source))


def test_the_spec_in_docs_matches_the_connector(tmp_path: Path) -> None:
    spec = DOC.read_text(encoding="utf-8")
    example = spec.split("```jsonl\n", 1)[1].split("```", 1)[0]
    path = tmp_path / "example.jsonl"
    path.write_text(example, encoding="utf-8")
    items = parse(path)
    assert [(i.source_ref, i.sender) for i in items] == [
        ("chat:Família Costa#m-1041", "Ana Ribeiro"),
        ("chat:Família Costa#m-1042", "Rui Costa"),
        ("chat:Tomás#2024-05-02T08:15:00/Tomás/1", "Tomás"),
    ]
    assert items[1].meta == {"reply_to": "m-1041"}
    docstring = chat_jsonl.__doc__ or ""
    for key in ("`time`", "`sender`", "`text`", "`conversation`", "`id`", "`meta`"):
        assert key in spec
        assert key in docstring
