"""Audited writes: a write transaction whose audit entries commit with it, the audit
head mirrored once it has; and the audit log read and verified for `me audit`."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

import sqlcipher3

from assistant.memory import Memory
from assistant.reflection.engine import ModelCall
from policies import audit


class Record:
    """Appends entries to the audit log inside one write transaction."""

    def __init__(self, conn: sqlcipher3.Connection, key: bytes) -> None:
        self.conn = conn
        self._key = key
        self.last: audit.Entry | None = None

    def __call__(self, action: str, **fields: Any) -> audit.Entry:
        self.last = audit.append(self.conn, self._key, action, **fields)
        return self.last


@contextmanager
def audited(memory: Memory) -> Iterator[Record]:
    """`with audited(memory) as record:` a write transaction (`record.conn`) whose
    `record(action, ...)` entries commit with the rest; the head is mirrored after."""
    with memory.db.write() as conn:
        record = Record(conn, memory.keys.audit)
        yield record
    if record.last is not None:
        audit.write_head(memory.paths.audit_head, memory.keys.audit, record.last)


def model_calls(record: Record, calls: Sequence[ModelCall]) -> None:
    """Each request sent to a model: where, which model, how many characters, and which
    secrets were replaced by placeholders; never the text."""
    for call in calls:
        record("model_call", detail={"host": call.host, "model": call.model,
                                     "characters": call.characters,
                                     "redactions": call.redactions})  # fmt: skip


def entries(memory: Memory, since: str | None = None) -> list[audit.Entry]:
    return audit.entries(memory.db.conn, since)


def verify(memory: Memory) -> audit.Verdict:
    return audit.verify(memory.db.conn, memory.keys.audit, memory.paths.audit_head)
