"""The real path end to end: one folder of mixed exports, detected by content, parsed in
the sandboxed worker, authors resolved from the identity, and a second sync idempotent."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from assistant.identity import add_identity
from assistant.ingest import ingest
from assistant.memory import Memory
from assistant.recall import recall
from assistant.sources import add_source
from tests.conftest import FIXTURES

pytestmark = pytest.mark.slow

FILES = {
    "whatsapp/Conversa do WhatsApp com Ana Ribeiro.txt": "chat.txt",  # misleading name
    "telegram/ChatExport_2024-03-20/result.json": "result.json",
    "mail/porto_thread.mbox": "mail/porto_thread.mbox",
    "ical/familia.ics": "calendar.ics",
    "chatgpt/conversations.json": "exports/conversations.json",
    "documents/blog-article.html": "saved/article.html",
    "recall_notes/lisbon-trip.md": "notes/lisbon-trip.md",
}


@pytest.fixture
def mixed(tmp_path: Path) -> Path:
    root = tmp_path / "inbox"
    for source, target in FILES.items():
        (root / target).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(FIXTURES / source, root / target)
    return root


def connector_counts(memory: Memory) -> dict[str, int]:
    rows = memory.db.conn.execute("SELECT connector, count(*) FROM episodes GROUP BY connector")
    return dict(rows.fetchall())


def test_mixed_folder_through_the_sandbox(memory: Memory, mixed: Path) -> None:
    add_identity(memory.db, "name", "Rui Costa")
    add_identity(memory.db, "email", "rui@example.com")
    first = ingest(memory, [mixed])
    assert first.failed == []
    assert first.added == len(FILES)
    counts = connector_counts(memory)
    assert set(counts) == {"whatsapp", "telegram", "mbox", "ical", "chatgpt", "html", "markdown"}
    assert memory.index.count() == sum(counts.values())

    def authors(connector: str) -> dict[str, int]:
        rows = memory.db.conn.execute(
            "SELECT author, count(*) FROM episodes WHERE connector = ? GROUP BY author",
            (connector,),
        )
        return dict(rows.fetchall())

    assert authors("telegram") == {"other": 5, "self": 4}  # Rui Costa is "me"
    assert authors("mbox")["self"] == 2  # rui@example.com
    assert set(authors("whatsapp")) == {"self", "other"}
    assert authors("chatgpt").keys() == {"self", "other"}  # the format says who spoke
    assert authors("markdown") == {"self": counts["markdown"]}

    again = ingest(memory, [mixed])
    assert (again.added, again.updated, again.unchanged) == (0, 0, len(FILES))
    assert sum(connector_counts(memory).values()) == sum(counts.values())


def test_sync_finds_a_message_by_its_sender(memory: Memory, mixed: Path) -> None:
    source = add_source(memory.db, mixed, None)
    from assistant.ingest import Ingestor

    with Ingestor(memory) as ingestor:
        assert ingestor.sync(source).failed == []
    hits = recall(memory, "Ana Ribeiro concerto bilhetes", k=3)
    assert hits[0].sender == "Ana Ribeiro"
    assert hits[0].conversation and "Ana Ribeiro" in hits[0].conversation
