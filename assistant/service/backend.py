"""The seam every front end calls through: the same methods, whoever holds the vault.

`InProcess` opens the vault for each call in this process (the command line's cold
path). A daemon client, talking to a process that keeps the vault open, is the other
implementation (issue 9); the CLI and the terminal app pick one and never see which.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from typing import Protocol, TypeVar

from assistant.ask import AskResult
from assistant.config import Config
from assistant.derived.changes import ChangeRecord
from assistant.derived.persona import Fact
from assistant.derived.thoughts import Thought
from assistant.hits import Hit, require_words
from assistant.memory import Memory
from assistant.paths import Paths
from assistant.service import overview
from assistant.service.core import AskRequest, RecallRequest, Service, history_target
from assistant.service.explain import Explanation

T = TypeVar("T")


class Backend(Protocol):
    def recall(self, request: RecallRequest) -> list[Hit]: ...

    def ask(
        self, request: AskRequest, engine: str | None = None, model: str | None = None
    ) -> AskResult: ...

    def facts(
        self, person: str | None = None, attribute: str | None = None, include_closed: bool = False
    ) -> list[Fact]: ...

    def set_fact(self, person: str, attribute: str, value: str) -> Fact: ...

    def flag(self, kind: str, row_id: int, op: str) -> int: ...

    def history(self, memory_ref: str) -> list[ChangeRecord]: ...

    def undo(self, change_id: int) -> int: ...

    def why(self, memory_ref: str) -> Explanation: ...

    def thoughts(self, include_all: bool = False) -> list[Thought]: ...

    def status(self) -> overview.Status: ...


class InProcess:
    """Opens the vault for each call with `opener` (which may prompt for the
    passphrase and show progress), runs the action, and seals and closes it again."""

    def __init__(self, paths: Paths, config: Config, opener: Callable[[], Memory]) -> None:
        self.paths = paths
        self.config = config
        self._open = opener

    def _run(self, action: Callable[[Service], T]) -> T:
        with self._open() as memory:
            return action(Service(memory))

    def recall(self, request: RecallRequest) -> list[Hit]:
        require_words(request.question)  # an empty question fails before a prompt
        return self._run(lambda service: service.recall(request))

    def ask(
        self, request: AskRequest, engine: str | None = None, model: str | None = None
    ) -> AskResult:
        from assistant.reflection.run import make_engine

        require_words(request.question)
        chosen = make_engine(self.config, engine, model)  # a bad setting fails before a prompt
        return self._run(lambda service: service.ask(request, chosen))

    def facts(
        self, person: str | None = None, attribute: str | None = None, include_closed: bool = False
    ) -> list[Fact]:
        return self._run(lambda service: service.facts(person, attribute, include_closed))

    def set_fact(self, person: str, attribute: str, value: str) -> Fact:
        return self._run(lambda service: service.set_fact(person, attribute, value))

    def flag(self, kind: str, row_id: int, op: str) -> int:
        return self._run(lambda service: service.flag(kind, row_id, op))

    def history(self, memory_ref: str) -> list[ChangeRecord]:
        history_target(memory_ref)
        return self._run(lambda service: service.history(memory_ref))

    def undo(self, change_id: int) -> int:
        return self._run(lambda service: service.undo(change_id))

    def why(self, memory_ref: str) -> Explanation:
        from assistant import refs

        refs.parse(memory_ref)  # a malformed ref fails before a prompt
        return self._run(lambda service: service.why(memory_ref))

    def thoughts(self, include_all: bool = False) -> list[Thought]:
        return self._run(lambda service: service.thoughts(include_all))

    def status(self) -> overview.Status:
        found = overview.outside(self.paths)
        if found.unlock_mode is None:
            return found
        return replace(found, counts=self._run(lambda service: service.counts()))
