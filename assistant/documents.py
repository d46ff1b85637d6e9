"""Write one parsed file's items into the store, inside the caller's transaction.

Two histories (see `Connector.history`): a "replace" file (a note) is the unit, so
its old chunks that are gone are deleted; an "append" file (a chat export) only
ever adds messages not stored yet, wherever they first came from. In a history, an
item whose place (source_ref) is known but whose content changed is an edit (an
edited message, a moved meeting): the version read last replaces the stored one.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import sqlcipher3

from assistant.identity import Identity
from connectors import Connector, Item
from connectors.surrogates import path_text
from policies.injection import quarantine_reason
from policies.secrets import sensitivity


@dataclass
class ParsedFile:
    """A parsed file waiting for its new items to be embedded and written."""

    path: Path
    connector: Connector
    items: list[Item]  # for "append" files: only the items not stored yet
    doc_hash: str
    size: int
    mtime: float
    source_id: int
    document_id: int | None
    reused: dict[str, bytes]  # content hash -> vector of an old chunk that is kept


@dataclass(frozen=True)
class Written:
    added: int
    removed: int


def now_iso() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def write_file(
    conn: sqlcipher3.Connection,
    parsed: ParsedFile,
    vectors: dict[str, bytes],
    model: str,
    identity: Identity,
) -> Written:
    now = now_iso()
    document_id = _upsert_document(conn, parsed, now)
    old = {
        (ref, h): eid
        for eid, ref, h in conn.execute(
            "SELECT id, source_ref, content_hash FROM episodes WHERE document_id = ?",
            (document_id,),
        )
    }
    removed = 0
    if parsed.connector.history == "replace":
        keep = {(i.source_ref, i.content_hash) for i in parsed.items}
        gone = [(eid,) for key, eid in old.items() if key not in keep]
        conn.executemany("DELETE FROM episodes WHERE id = ?", gone)
        removed = len(gone)
    added = 0
    ids = dict(old)  # (place, content hash) -> episode id, for the messages that follow
    for item, before in in_context(parsed.items):
        if (item.source_ref, item.content_hash) in old:
            continue
        if parsed.connector.history == "append":  # an edit replaces the older version
            cur = conn.execute(
                "DELETE FROM episodes WHERE source_ref = ? AND content_hash != ?",
                (item.source_ref, item.content_hash),
            )
            removed += cur.rowcount
        prior = ids.get((before.source_ref, before.content_hash)) if before else None
        episode_id = _insert_episode(
            conn, document_id, parsed.connector, item, identity, now, _context(conn, item, prior)
        )
        if episode_id is None:  # an "append" item another export already brought
            continue
        ids[(item.source_ref, item.content_hash)] = episode_id
        _answers(conn, prior, episode_id)
        vector = vectors.get(item.content_hash) or parsed.reused[item.content_hash]
        conn.execute(
            "INSERT INTO vectors(episode_id, model, dim, vector) VALUES (?, ?, ?, ?)",
            (episode_id, model, len(vector) // 4, vector),
        )
        added += 1
    return Written(added, removed)


def embed_text(title: str | None, sender: str | None, text: str) -> str:
    """What the model reads of a memory: a heading path gives a paragraph its context,
    and a sender its speaker (questions name people: "when did Ana say...")."""
    text = f"{sender}: {text}" if sender else text
    return f"{title}\n{text}" if title else text


# How much of the message before a chat message is indexed with it (schema v13), and of
# the reply after it (v14).
CONTEXT_CHARS = 300


def in_context(items: Sequence[Item]) -> list[tuple[Item, Item | None]]:
    """Each item with the message before it in its conversation (None for the first,
    and for what is not a message)."""
    out: list[tuple[Item, Item | None]] = []
    last: dict[str, Item] = {}
    for item in items:
        if item.conversation is None:
            out.append((item, None))
            continue
        out.append((item, last.get(item.conversation)))
        last[item.conversation] = item
    return out


def _context(
    conn: sqlcipher3.Connection, item: Item, prior: int | None
) -> tuple[int | None, str | None]:
    """(context_of, context) for `item`, a message following episode `prior`: the id
    its vector leans on, and the start of that one's text for the keyword index when
    it answers someone else (a run of one sender's messages keeps its own words),
    never from a quarantined message."""
    if prior is None:
        return None, None
    row = conn.execute(
        "SELECT substr(text, 1, ?), sender FROM episodes WHERE id = ? AND quarantine IS NULL",
        (CONTEXT_CHARS, prior),
    ).fetchone()
    replies = row is not None and row[1] != item.sender
    return prior, (row[0] if replies else None)


def _answers(conn: sqlcipher3.Connection, prior: int | None, episode_id: int) -> None:
    """When message `episode_id` answers someone else's message `prior`, the start of
    its text is indexed with `prior` too (`reply`, schema v14): "What did you paint?" is
    found by "A sunset over the lake". Never from a quarantined message; a message that
    already has its reply keeps it."""
    if prior is None:
        return
    conn.execute(
        "UPDATE episodes SET reply = (SELECT substr(f.text, 1, ?) FROM episodes f "
        "WHERE f.id = ?), reply_of = ? WHERE id = ? AND reply_of IS NULL AND EXISTS ("
        "SELECT 1 FROM episodes f WHERE f.id = ? AND f.quarantine IS NULL "
        "AND f.sender IS NOT episodes.sender)",
        (CONTEXT_CHARS, episode_id, episode_id, prior, episode_id),
    )


def _upsert_document(conn: sqlcipher3.Connection, parsed: ParsedFile, now: str) -> int:
    if parsed.document_id is not None:
        conn.execute(
            "UPDATE documents SET content_hash = ?, size = ?, mtime = ?, updated_at = ?, "
            "connector = ? WHERE id = ?",
            (
                parsed.doc_hash,
                parsed.size,
                parsed.mtime,
                now,
                parsed.connector.name,
                parsed.document_id,
            ),
        )
        return parsed.document_id
    cur = conn.execute(
        "INSERT INTO documents(source_id, ref, connector, content_hash, size, mtime, "
        "ingested_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        (
            parsed.source_id,
            path_text(parsed.path),
            parsed.connector.name,
            parsed.doc_hash,
            parsed.size,
            parsed.mtime,
            now,
            now,
        ),
    )
    assert cur.lastrowid is not None
    return cur.lastrowid


def index_keys(item: Item) -> str | None:
    """Words the episode is also found by (FTS `keys`): the name of the note it is a
    section of, which its heading ("Outbound") and text need not repeat."""
    name = item.meta.get("note_title") if item.kind == "note" else None
    return name if isinstance(name, str) and name and name != item.title else None


def _insert_episode(
    conn: sqlcipher3.Connection,
    document_id: int,
    connector: Connector,
    item: Item,
    identity: Identity,
    now: str,
    context: tuple[int | None, str | None] = (None, None),
) -> int | None:
    labelled = f"{item.title or ''}\n{item.text}"
    cur = conn.execute(
        "INSERT INTO episodes(document_id, source_ref, kind, text, title, time, time_unix, "
        "author, sender, conversation, meta, content_hash, connector, trust, sensitivity, "
        "quarantine, ingested_at, keys, context_of, context) "
        "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) "
        "ON CONFLICT(source_ref, content_hash) DO NOTHING",
        (
            document_id,
            item.source_ref,
            item.kind,
            item.text,
            item.title,
            item.time.isoformat(),
            item.time.timestamp(),
            identity.author_of(item),
            item.sender,
            item.conversation,
            json.dumps(dict(item.meta), ensure_ascii=False, sort_keys=True),
            item.content_hash,
            connector.name,
            "user_file",
            sensitivity(labelled),
            _quarantine(item, labelled),
            now,
            index_keys(item),
            *context,
        ),
    )
    return cur.lastrowid if cur.rowcount == 1 else None


def _quarantine(item: Item, labelled: str) -> str | None:
    """Why the episode must never become a fact or a thought, or None (DESIGN.md 5.2).

    A connector that dropped hidden text which reads as instructions (a web page's or an
    HTML mail's `display:none` element) says so in the meta: the stored text cannot show it.
    """
    reason = quarantine_reason(labelled)
    hidden = item.meta.get("hidden_text")
    if reason is None and hidden:
        detail = f": {hidden}" if isinstance(hidden, str) else ""
        reason = f"hidden text in the page{detail}"
    return reason


def stored_keys(conn: sqlcipher3.Connection, items: list[Item]) -> set[tuple[str, str]]:
    """Which of `items` are already stored (by source_ref and content hash)."""
    found: set[tuple[str, str]] = set()
    refs = sorted({i.source_ref for i in items})
    for start in range(0, len(refs), 500):
        part = refs[start : start + 500]
        marks = ",".join("?" * len(part))
        found.update(
            (ref, h)
            for ref, h in conn.execute(
                f"SELECT source_ref, content_hash FROM episodes WHERE source_ref IN ({marks})",
                part,
            )
        )
    return found
