"""Sources and sync: notes follow their files, histories only grow, authors resolve."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path
from typing import ClassVar

import pytest
from click.testing import CliRunner

from assistant.cli import cli
from assistant.forget import Target, apply, plan
from assistant.identity import add_identity
from assistant.ingest import Ingestor
from assistant.memory import Memory
from assistant.sources import add_source, list_sources, remove_source
from connectors import Connector, Item
from connectors.markdown import MarkdownConnector
from connectors.sandbox import InProcessParser
from tests.conftest import PASSPHRASE


class TinyChat(Connector):
    """A minimal append-only chat format: one `time|sender|text` line per message."""

    name: ClassVar[str] = "tinychat"
    kind: ClassVar[str] = "message"
    history: ClassVar[str] = "append"
    extensions: ClassVar[tuple[str, ...]] = (".chat",)

    def parse(self, path: Path, data: bytes, mtime: datetime) -> list[Item]:
        items = []
        for line in data.decode().splitlines():
            when, sender, text = line.split("|")
            items.append(
                Item(
                    text=text,
                    time=datetime.fromisoformat(when),
                    kind="message",
                    document="tinychat:friends",
                    locator=f"{when}/{sender}",
                    conversation="friends",
                    sender=sender,
                )
            )
        return items


CONNECTORS: list[Connector] = [TinyChat(), MarkdownConnector()]
LINES = [
    f"2024-03-0{d}T10:00:00+00:00|{who}|message {d}"
    for d, who in enumerate(["Ana", "Rui Costa", "Ana", "Rui Costa", "Ana"], start=1)
]


def run(memory: Memory, roots: list[Path] | None = None, source: int | None = None):
    with Ingestor(memory, parser=InProcessParser(), connectors=CONNECTORS) as ing:
        return ing.sync(source) if source is not None else ing.ingest(roots or [])


def texts(memory: Memory) -> list[str]:
    return sorted(r[0] for r in memory.db.conn.execute("SELECT text FROM episodes"))


def test_chat_reexport_adds_only_new_messages(memory: Memory, tmp_path: Path) -> None:
    (tmp_path / "export-1.chat").write_text("\n".join(LINES[:3]))
    first = run(memory, [tmp_path])
    assert first.chunks_added == 3
    (tmp_path / "export-2.chat").write_text("\n".join(LINES))  # repeats the first three
    second = run(memory, [tmp_path])
    assert second.chunks_added == 2
    assert texts(memory) == [f"message {d}" for d in range(1, 6)]
    assert memory.index.count() == 5


def test_chat_history_is_never_forgotten_by_a_shorter_export(
    memory: Memory, tmp_path: Path
) -> None:
    export = tmp_path / "export.chat"
    export.write_text("\n".join(LINES))
    run(memory, [tmp_path])
    export.write_text("\n".join(LINES[3:]))  # a later export that lacks old messages
    again = run(memory, [tmp_path])
    assert again.chunks_removed == 0
    export.unlink()  # even the file going away keeps the history
    gone = run(memory, [tmp_path])
    assert gone.removed == 0 and len(texts(memory)) == 5


def test_deleted_note_takes_its_chunks_along(memory: Memory, tmp_path: Path) -> None:
    (tmp_path / "keep.md").write_text("# Keep\n\nStays.\n")
    (tmp_path / "drop.md").write_text("# Drop\n\nGoes away.\n")
    run(memory, [tmp_path])
    (tmp_path / "drop.md").unlink()
    result = run(memory, [tmp_path])
    assert (result.removed, result.chunks_removed) == (1, 1)
    assert texts(memory) == ["Stays."]
    assert memory.index.count() == 1
    fts = memory.db.conn.execute(
        "SELECT count(*) FROM episodes_fts WHERE episodes_fts MATCH 'goes'"
    ).fetchone()[0]
    assert fts == 0


def test_ingesting_a_subfolder_does_not_remove_its_siblings(memory: Memory, tmp_path: Path) -> None:
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    (tmp_path / "a" / "one.md").write_text("One.\n")
    (tmp_path / "b" / "two.md").write_text("Two.\n")
    run(memory, [tmp_path])
    run(memory, [tmp_path / "a"])
    assert texts(memory) == ["One.", "Two."]


def test_sync_of_a_missing_source_removes_nothing(memory: Memory, tmp_path: Path) -> None:
    folder = tmp_path / "notes"
    folder.mkdir()
    (folder / "n.md").write_text("Kept safe.\n")
    source = add_source(memory.db, folder, None)
    run(memory, source=source)
    folder.rename(tmp_path / "elsewhere")  # an unmounted disk looks like this
    result = run(memory, source=source)
    assert result.removed == 0 and "missing" in result.failed[0].reason
    assert texts(memory) == ["Kept safe."]


def test_sources_listing_counts_and_one_shot_ingest_is_not_listed(
    memory: Memory, tmp_path: Path
) -> None:
    (tmp_path / "s").mkdir()
    (tmp_path / "s" / "n.md").write_text("Listed.\n")
    (tmp_path / "once.md").write_text("Once.\n")
    source = add_source(memory.db, tmp_path / "s", None)
    run(memory, source=source)
    run(memory, [tmp_path / "once.md"])
    listed = list_sources(memory.db)
    assert [(s.id, s.documents, s.episodes) for s in listed] == [(source, 1, 1)]
    assert listed[0].last_sync_at


@pytest.mark.parametrize("forget", [False, True])
def test_removing_a_source_keeps_or_forgets(memory: Memory, tmp_path: Path, forget: bool) -> None:
    (tmp_path / "n.md").write_text("Remember me.\n")
    source = add_source(memory.db, tmp_path, None)
    run(memory, source=source)
    if forget:
        apply(memory, plan(memory, Target(source=source)))
    else:
        remove_source(memory.db, source)
    assert list_sources(memory.db) == []
    assert texts(memory) == ([] if forget else ["Remember me."])
    assert memory.index.count() == (0 if forget else 1)


def test_authors_resolve_from_identity_and_follow_its_changes(
    memory: Memory, tmp_path: Path
) -> None:
    (tmp_path / "export.chat").write_text("\n".join(LINES))
    run(memory, [tmp_path])
    authors = dict(memory.db.conn.execute("SELECT text, author FROM episodes").fetchall())
    assert set(authors.values()) == {"other"}  # no identity yet: every sender is someone else
    changed = add_identity(memory.db, "name", "rui  costa")  # case and spaces do not matter
    assert changed == 2
    authors = dict(memory.db.conn.execute("SELECT text, author FROM episodes").fetchall())
    assert authors == {
        "message 1": "other",
        "message 2": "self",
        "message 3": "other",
        "message 4": "self",
        "message 5": "other",
    }


def test_sources_and_identity_commands(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SECONDSELF_PASSPHRASE", PASSPHRASE)
    runner = CliRunner()
    assert (
        runner.invoke(cli, ["init", "--mode", "passphrase", "--name", "Rui Costa"]).exit_code == 0
    )
    listed = runner.invoke(cli, ["identity", "list"])
    assert listed.output.split() == ["name", "Rui", "Costa"]
    (tmp_path / "n.md").write_text("Synced note.\n")
    added = runner.invoke(cli, ["sources", "add", str(tmp_path)])
    assert "Added source 1" in added.output
    again = runner.invoke(cli, ["sources", "add", str(tmp_path)])
    assert again.exit_code != 0
    synced = runner.invoke(cli, ["sync", "--json"])
    assert json.loads(synced.stdout)["added"] == 1
    rows = [
        json.loads(line)
        for line in runner.invoke(cli, ["sources", "list", "--json"]).stdout.splitlines()
    ]
    assert rows[0]["episodes"] == 1
    removed = runner.invoke(cli, ["sources", "remove", "1", "--forget", "--yes"])
    assert "Forgotten: 1 memories" in removed.output
    assert runner.invoke(cli, ["sync", "9"]).exit_code != 0


def test_senders_are_searchable_and_conversations_filter(memory: Memory, tmp_path: Path) -> None:
    from assistant.recall import keyword_ranking, load_hits, recall

    (tmp_path / "export.chat").write_text("\n".join(LINES))
    (tmp_path / "note.md").write_text("# Ana\n\nAna's birthday is in May.\n")
    run(memory, [tmp_path])
    # "Ana" is only in the sender of chat messages 1, 3 and 5 (and in the note's text).
    found = load_hits(memory, [(i, 0.0) for i in keyword_ranking(memory, "Ana", 10)])
    assert {h.text for h in found} == {
        "message 1",
        "message 3",
        "message 5",
        "Ana's birthday is in May.",
    }
    in_chat = recall(memory, "Ana", k=10, conversation="friends")
    assert {h.text for h in in_chat} == {f"message {d}" for d in range(1, 6)}
    assert {h.conversation for h in in_chat} == {"friends"}
    assert in_chat[0].sender in {"Ana", "Rui Costa"}
    assert recall(memory, "Ana", k=10, conversation="nobody") == []


def test_an_edited_message_replaces_its_older_version(memory: Memory, tmp_path: Path) -> None:
    export = tmp_path / "export.chat"
    export.write_text("\n".join(LINES))
    run(memory, [tmp_path])
    edited = LINES[:2] + [LINES[2].replace("message 3", "message 3 (edited)")] + LINES[3:]
    (tmp_path / "export-later.chat").write_text("\n".join(edited))
    result = run(memory, [tmp_path])
    assert (result.chunks_added, result.chunks_removed) == (1, 1)
    assert "message 3 (edited)" in texts(memory) and "message 3" not in texts(memory)
    assert memory.index.count() == 5


def test_a_file_that_turns_bad_keeps_what_was_stored(memory: Memory, tmp_path: Path) -> None:
    note = tmp_path / "n.md"
    note.write_text("# Title\n\nGood content.\n")
    run(memory, [tmp_path])
    note.write_bytes(b"\x00\x01 corrupted by a bad disk \x00" * 40)
    result = run(memory, [tmp_path])
    assert [f.path.name for f in result.failed] == ["n.md"]
    assert (result.removed, result.chunks_removed) == (0, 0)
    assert texts(memory) == ["Good content."]


def test_ingest_labels_episodes_that_hold_secrets(memory: Memory, tmp_path: Path) -> None:
    (tmp_path / "wifi.md").write_text(
        "# Home\n\nThe wifi password is Tr0ub4dor&3x.\n\n## Garden\n\nWater the basil daily.\n"
    )
    run(memory, [tmp_path])
    labels = dict(memory.db.conn.execute("SELECT text, sensitivity FROM episodes"))
    assert labels == {"The wifi password is Tr0ub4dor&3x.": "secret",
                      "Water the basil daily.": "normal"}  # fmt: skip
