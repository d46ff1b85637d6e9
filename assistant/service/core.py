"""The service: one method per user action on an open memory.

Each method returns a typed result (a dataclass with `as_json()`) and raises only the
core's errors (`assistant/errors.py`). It neither prompts nor prints: front ends
parse, call and render. Transactions and SQL stay below this line.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path

from assistant import refs
from assistant.ask import AskResult
from assistant.ask import ask as run_ask
from assistant.derived import changes, persona, thoughts
from assistant.errors import MemoryRefError
from assistant.hits import Hit
from assistant.ingest import FileOutcome, IngestSummary
from assistant.ingest import ingest as run_ingest
from assistant.memory import Memory
from assistant.recall import recall as run_recall
from assistant.reflection.engine import Engine
from assistant.service import explain, overview
from assistant.service.requests import AskRequest, RecallRequest


def history_target(memory_ref: str) -> tuple[str, int]:
    """The (kind, id) whose history is asked for; episodes have none (they are read,
    never changed). Checked before any vault is opened."""
    kind, row_id = refs.parse(memory_ref)
    if kind == "episode":
        raise MemoryRefError(
            "episodes are not changed by reflection, only read; `me why ID` explains one"
        )
    return kind, row_id


class Service:
    """Every user action on one open memory; safe to call from several threads."""

    def __init__(self, memory: Memory) -> None:
        self.memory = memory

    def recall(self, request: RecallRequest) -> list[Hit]:
        return run_recall(
            self.memory,
            request.question,
            k=request.k or self.memory.config.recall.k,
            since=request.since,
            until=request.until,
            conversation=request.conversation,
            reinforce=request.reinforce,
        )

    def ask(self, request: AskRequest, engine: Engine) -> AskResult:
        return run_ask(
            self.memory,
            request.question,
            engine,
            k=request.k or self.memory.config.recall.k,
            post_think=request.remember,
            reinforce=request.reinforce,
        )

    def ingest(
        self, roots: Sequence[Path], on_file: Callable[[FileOutcome], None] | None = None
    ) -> IngestSummary:
        return run_ingest(self.memory, list(roots), on_file)

    def set_fact(self, person: str, attribute: str, value: str) -> persona.Fact:
        """The user states a value; it wins over anything extracted."""
        with self.memory.db.write() as conn:
            fact_id = persona.set_value(conn, person, attribute, value)
        return persona.get(self.memory.db.conn, fact_id)

    def facts(
        self, person: str | None = None, attribute: str | None = None, include_closed: bool = False
    ) -> list[persona.Fact]:
        """Current facts (all of them, closed ones too, with `include_closed`)."""
        return persona.facts(self.memory.db.conn, person, attribute, include_closed)

    def flag(self, kind: str, row_id: int, op: str) -> int:
        """Pin, unpin or hide a fact or a thought; returns the change's id."""
        with self.memory.db.write() as conn:
            return changes.user_flag(conn, kind, row_id, op)

    def history(self, memory_ref: str) -> list[changes.ChangeRecord]:
        kind, row_id = history_target(memory_ref)
        records = changes.history_of(self.memory.db.conn, kind, row_id)
        if not records:
            raise MemoryRefError(f"no changes recorded for {memory_ref}")
        return records

    def undo(self, change_id: int) -> int:
        """Take back a change; returns the id of the change that records the undo."""
        with self.memory.db.write() as conn:
            return changes.undo(conn, change_id)

    def why(self, memory_ref: str) -> explain.Explanation:
        return explain.why(self.memory, memory_ref)

    def thoughts(self, include_all: bool = False) -> list[thoughts.Thought]:
        return thoughts.listing(self.memory.db.conn, include_all)

    def counts(self) -> overview.VaultCounts:
        return overview.counts(self.memory)
