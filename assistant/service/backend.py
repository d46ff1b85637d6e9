"""The seam every front end calls through: the same methods, whoever holds the vault.

`InProcess` opens the vault for each call in this process (the command line's cold
path); `Resident` serves a memory that stays open (the demo's throwaway vault, the
daemon). A daemon client, talking to a process that keeps the vault open, is the other
implementation (issue 9); the CLI and the terminal app pick one and never see which.

Long calls take `progress` (stage, done, total) and a `Cancel` (store/progress.py).
Every argument checked without the vault is checked before it is opened, so a bad
one fails before a passphrase prompt. The result types of the heavier actions are
imported for type checking only, so that a cold `me recall` does not load them; the
daemon, which rebuilds a request's arguments from the annotations, resolves them
with `annotation_types()`.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Sequence
from dataclasses import replace
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol, TypeVar

from assistant import identity as identities
from assistant.config import Config
from assistant.derived.changes import ChangeRecord
from assistant.errors import GovernanceError, IngestError, SecondSelfError
from assistant.hits import Hit, require_words
from assistant.integrity import VaultCheck, check_vault
from assistant.memory import Memory
from assistant.paths import Paths
from assistant.service import overview
from assistant.service.core import (
    AskRequest,
    AutofillRequest,
    RecallRequest,
    Service,
    TimelineRequest,
    history_target,
)
from assistant.vault import Secrets
from store.progress import Cancel, Progress

if TYPE_CHECKING:
    from assistant import forget as forgetting
    from assistant import sources as registry
    from assistant.ask import AskResult
    from assistant.autofill.fill import AutofillResult
    from assistant.backup import BackupReport
    from assistant.consent import RuleReport
    from assistant.derived.people import Person
    from assistant.derived.persona import Fact
    from assistant.derived.thoughts import Thought
    from assistant.export import ExportReport
    from assistant.ingest import IngestSummary
    from assistant.reflection.run import ReflectReport
    from assistant.service.explain import Explanation, Surroundings
    from assistant.service.review import ReviewItems
    from assistant.service.sync import SyncReport
    from assistant.timeline import TimelineEntry
    from policies.audit import Entry, Verdict
    from policies.consent import Exclusion, RetentionRule
    from policies.grants import Grant

T = TypeVar("T")


@functools.cache
def annotation_types() -> dict[str, Any]:
    """The names this module imports for type checking only, imported now, for
    `typing.get_type_hints(method, localns=...)` in the daemon."""
    from assistant import forget as forgetting
    from assistant import sources as registry
    from assistant.ask import AskResult
    from assistant.autofill.fill import AutofillResult
    from assistant.backup import BackupReport
    from assistant.consent import RuleReport
    from assistant.derived.people import Person
    from assistant.derived.persona import Fact
    from assistant.derived.thoughts import Thought
    from assistant.export import ExportReport
    from assistant.ingest import IngestSummary
    from assistant.reflection.run import ReflectReport
    from assistant.service.explain import Explanation, Surroundings
    from assistant.service.review import ReviewItems
    from assistant.service.sync import SyncReport
    from assistant.timeline import TimelineEntry
    from policies.audit import Entry, Verdict
    from policies.consent import Exclusion, RetentionRule
    from policies.grants import Grant

    return {
        "AutofillResult": AutofillResult,
        "BackupReport": BackupReport,
        "ExportReport": ExportReport,
        "RuleReport": RuleReport,
        "Exclusion": Exclusion,
        "RetentionRule": RetentionRule,
        "TimelineEntry": TimelineEntry,
        "Entry": Entry,
        "Verdict": Verdict,
        "Grant": Grant,
        "Person": Person,
        "forgetting": forgetting,
        "registry": registry,
        "AskResult": AskResult,
        "Fact": Fact,
        "Thought": Thought,
        "IngestSummary": IngestSummary,
        "ReflectReport": ReflectReport,
        "Explanation": Explanation,
        "Surroundings": Surroundings,
        "ReviewItems": ReviewItems,
        "SyncReport": SyncReport,
    }


class Backend(Protocol):
    def recall(self, request: RecallRequest) -> list[Hit]: ...

    def ask(
        self, request: AskRequest, engine: str | None = None, model: str | None = None
    ) -> AskResult: ...

    def facts(
        self, person: str | None = None, attribute: str | None = None, include_closed: bool = False
    ) -> list[Fact]: ...

    def set_fact(
        self, person: str, attribute: str, value: str, since: date | None = None
    ) -> Fact: ...

    def flag(self, kind: str, row_id: int, op: str) -> int: ...

    def history(self, memory_ref: str) -> list[ChangeRecord]: ...

    def review(self) -> ReviewItems: ...

    def mark_reviewed(self, until: str) -> None: ...

    def recent_changes(self, limit: int = 50) -> list[ChangeRecord]: ...

    def undo(self, change_id: int) -> int: ...

    def release(self, memory_ref: str) -> int: ...

    def timeline(self, request: TimelineRequest) -> list[TimelineEntry]: ...

    def people(self) -> list[Person]: ...

    def grant(
        self, requester: str, categories: tuple[str, ...], expires_days: int | None = None
    ) -> Grant: ...

    def revoke_grant(self, requester: str) -> None: ...

    def autofill(self, request: AutofillRequest) -> AutofillResult: ...

    def grants(self) -> list[Grant]: ...

    def audit_log(self, since: date | None = None) -> list[Entry]: ...

    def verify_audit(self) -> Verdict: ...

    def backup(self, path: Path) -> BackupReport: ...

    def export(self, path: Path) -> ExportReport: ...

    def exclude_plan(self, source_id: int, kind: str, pattern: str) -> forgetting.ForgetPreview: ...

    def exclude(
        self, source_id: int, kind: str, pattern: str, expect: str | None = None,
        progress: Progress | None = None,
    ) -> RuleReport: ...  # fmt: skip

    def exclusions(self, source_id: int | None = None) -> list[Exclusion]: ...

    def remove_exclusion(self, rule_id: int) -> Exclusion: ...

    def retention_plan(self, kind: str | None, days: int) -> forgetting.ForgetPreview: ...

    def add_retention(
        self, kind: str | None, days: int, expect: str | None = None,
        progress: Progress | None = None,
    ) -> RuleReport: ...  # fmt: skip

    def retention_rules(self) -> list[RetentionRule]: ...

    def remove_retention(self, rule_id: int) -> RetentionRule: ...

    def merge_people(self, keep: str, other: str) -> int: ...

    def split_person(self, name: str) -> str: ...

    def why(self, memory_ref: str) -> Explanation: ...

    def surroundings(self, memory_ref: str, n: int = 3) -> Surroundings: ...

    def thoughts(self, include_all: bool = False) -> list[Thought]: ...

    def status(self) -> overview.Status: ...

    def ingest(
        self,
        roots: Sequence[Path],
        progress: Progress | None = None,
        cancel: Cancel | None = None,
    ) -> IngestSummary: ...

    def sync(
        self,
        only: Sequence[int] | None = None,
        progress: Progress | None = None,
        cancel: Cancel | None = None,
    ) -> SyncReport: ...

    def sources(self) -> list[registry.Source]: ...

    def source_for(self, path: Path) -> int | None: ...

    def add_source(self, path: Path, kind: str | None = None) -> registry.Source: ...

    def remove_source(self, source_id: int) -> None: ...

    def identity(self) -> list[identities.IdentityValue]: ...

    def add_identity(self, values: Sequence[tuple[str, str]]) -> int: ...

    def reflect(
        self,
        engine: str | None = None,
        limit: int | None = None,
        progress: Progress | None = None,
        cancel: Cancel | None = None,
        model: str | None = None,
    ) -> ReflectReport: ...

    def pending_reflection(self) -> int: ...

    def forget_plan(self, target: forgetting.Target) -> forgetting.ForgetPreview: ...

    def forget(
        self,
        target: forgetting.Target,
        expect: str | None = None,
        progress: Progress | None = None,
    ) -> forgetting.ForgetReport: ...

    def check(
        self, progress: Progress | None = None, cancel: Cancel | None = None
    ) -> VaultCheck: ...


class InProcess:
    """Opens the vault for each call with `opener` (which may prompt for the
    passphrase and show progress), runs the action, and seals and closes it again.

    `opener(index)` says whether to open the vector index at once: reads pass False,
    and their searches score the stored vectors without starting chroma.

    `check` reads the vault without opening it as a memory (no index is started), so
    it unlocks with `secrets`; without them, only SECONDSELF_PASSPHRASE or the
    keyring can."""

    def __init__(
        self,
        paths: Paths,
        config: Config,
        opener: Callable[[bool], Memory],
        secrets: Secrets | None = None,
    ) -> None:
        self.paths = paths
        self.config = config
        self._open = opener
        self._secrets = secrets

    def _run(self, action: Callable[[Service], T], index: bool = True) -> T:
        with self._open(index) as memory:
            return action(Service(memory))

    def _read(self, action: Callable[[Service], T]) -> T:
        """Run an action that changes no vectors: without opening the chroma index."""
        return self._run(action, index=False)

    def _search(self, action: Callable[[Service], T]) -> T:
        """A read that encodes a query: the model loads on the other core while the
        passphrase is stretched and the database opened (~0.2 s sooner)."""
        from assistant.embedder import Embedder
        from assistant.memory import onnx_cache

        warming = Embedder(self.config.embedding, onnx_cache(self.paths)).warm_up()
        try:
            return self._read(action)
        finally:
            warming.join()  # after a refusal (a busy vault) too: exit only once it is done

    def recall(self, request: RecallRequest) -> list[Hit]:
        require_words(request.question)  # an empty question fails before a prompt
        return self._search(lambda service: service.recall(request))

    def ask(
        self, request: AskRequest, engine: str | None = None, model: str | None = None
    ) -> AskResult:
        from assistant.reflection.run import make_engine

        require_words(request.question)
        chosen = make_engine(self.config, engine, model)  # a bad setting fails before a prompt
        return self._search(lambda service: service.ask(request, chosen))

    def facts(
        self, person: str | None = None, attribute: str | None = None, include_closed: bool = False
    ) -> list[Fact]:
        return self._read(lambda service: service.facts(person, attribute, include_closed))

    def set_fact(self, person: str, attribute: str, value: str, since: date | None = None) -> Fact:
        return self._read(lambda service: service.set_fact(person, attribute, value, since))

    def flag(self, kind: str, row_id: int, op: str) -> int:
        return self._read(lambda service: service.flag(kind, row_id, op))

    def history(self, memory_ref: str) -> list[ChangeRecord]:
        history_target(memory_ref)
        return self._read(lambda service: service.history(memory_ref))

    def review(self) -> ReviewItems:
        return self._read(lambda service: service.review())

    def mark_reviewed(self, until: str) -> None:
        self._run(lambda service: service.mark_reviewed(until), index=False)

    def recent_changes(self, limit: int = 50) -> list[ChangeRecord]:
        return self._read(lambda service: service.recent_changes(limit))

    def undo(self, change_id: int) -> int:
        return self._run(lambda service: service.undo(change_id))

    def release(self, memory_ref: str) -> int:
        return self._read(lambda service: service.release(memory_ref))

    def timeline(self, request: TimelineRequest) -> list[TimelineEntry]:
        return self._read(lambda service: service.timeline(request))

    def grant(
        self, requester: str, categories: tuple[str, ...], expires_days: int | None = None
    ) -> Grant:
        from policies.grants import GrantError, checked_categories

        try:  # a bad category fails before a prompt
            checked_categories(list(categories))
        except GrantError as exc:
            raise GovernanceError(str(exc)) from exc
        return self._read(lambda service: service.grant(requester, categories, expires_days))

    def revoke_grant(self, requester: str) -> None:
        return self._read(lambda service: service.revoke_grant(requester))

    def autofill(self, request: AutofillRequest) -> AutofillResult:
        from assistant.autofill.forms import read_form

        read_form(request.form)  # a form that cannot be read fails before a prompt
        return self._read(lambda service: service.autofill(request))

    def grants(self) -> list[Grant]:
        return self._read(lambda service: service.grants())

    def audit_log(self, since: date | None = None) -> list[Entry]:
        return self._read(lambda service: service.audit_log(since))

    def verify_audit(self) -> Verdict:
        return self._read(lambda service: service.verify_audit())

    def backup(self, path: Path) -> BackupReport:
        dest = path.expanduser().resolve()  # this process's working folder, not another's
        return self._run(lambda service: service.backup(dest))

    def export(self, path: Path) -> ExportReport:
        dest = path.expanduser().resolve()
        return self._read(lambda service: service.export(dest))

    def exclude_plan(self, source_id: int, kind: str, pattern: str) -> forgetting.ForgetPreview:
        return self._read(lambda service: service.exclude_plan(source_id, kind, pattern))

    def exclude(
        self, source_id: int, kind: str, pattern: str, expect: str | None = None,
        progress: Progress | None = None,
    ) -> RuleReport:  # fmt: skip
        return self._run(lambda service: service.exclude(source_id, kind, pattern, expect,
                                                         progress))  # fmt: skip

    def exclusions(self, source_id: int | None = None) -> list[Exclusion]:
        return self._read(lambda service: service.exclusions(source_id))

    def remove_exclusion(self, rule_id: int) -> Exclusion:
        return self._read(lambda service: service.remove_exclusion(rule_id))

    def retention_plan(self, kind: str | None, days: int) -> forgetting.ForgetPreview:
        return self._read(lambda service: service.retention_plan(kind, days))

    def add_retention(
        self, kind: str | None, days: int, expect: str | None = None,
        progress: Progress | None = None,
    ) -> RuleReport:  # fmt: skip
        return self._run(lambda service: service.add_retention(kind, days, expect, progress))

    def retention_rules(self) -> list[RetentionRule]:
        return self._read(lambda service: service.retention_rules())

    def remove_retention(self, rule_id: int) -> RetentionRule:
        return self._read(lambda service: service.remove_retention(rule_id))

    def people(self) -> list[Person]:
        return self._read(lambda service: service.people())

    def merge_people(self, keep: str, other: str) -> int:
        return self._read(lambda service: service.merge_people(keep, other))

    def split_person(self, name: str) -> str:
        return self._read(lambda service: service.split_person(name))

    def surroundings(self, memory_ref: str, n: int = 3) -> Surroundings:
        from assistant import refs

        refs.parse(memory_ref)  # a malformed ref fails before a prompt
        return self._read(lambda service: service.surroundings(memory_ref, n))

    def why(self, memory_ref: str) -> Explanation:
        from assistant import refs

        refs.parse(memory_ref)  # a malformed ref fails before a prompt
        return self._read(lambda service: service.why(memory_ref))

    def thoughts(self, include_all: bool = False) -> list[Thought]:
        return self._read(lambda service: service.thoughts(include_all))

    def status(self) -> overview.Status:
        found = overview.outside(self.paths)
        if found.unlock_mode is None:
            return found
        return replace(found, counts=self._run(lambda service: service.counts()))

    def ingest(
        self,
        roots: Sequence[Path],
        progress: Progress | None = None,
        cancel: Cancel | None = None,
    ) -> IngestSummary:
        missing = [str(r) for r in roots if not r.exists()]
        if missing:
            raise IngestError(f"no such file or folder: {', '.join(missing)}")
        given = [r.resolve() for r in roots]  # this process's working folder, not another's
        return self._run(lambda service: service.ingest(given, progress, cancel))

    def sync(
        self,
        only: Sequence[int] | None = None,
        progress: Progress | None = None,
        cancel: Cancel | None = None,
    ) -> SyncReport:
        return self._run(lambda service: service.sync(only, progress, cancel))

    def sources(self) -> list[registry.Source]:
        return self._read(lambda service: service.sources())

    def source_for(self, path: Path) -> int | None:
        return self._read(lambda service: service.source_for(path))

    def add_source(self, path: Path, kind: str | None = None) -> registry.Source:
        from assistant import sources as registry

        root = registry.check_new_source(path, kind)
        return self._run(lambda service: service.add_source(root, kind))

    def remove_source(self, source_id: int) -> None:
        self._run(lambda service: service.remove_source(source_id))

    def identity(self) -> list[identities.IdentityValue]:
        return self._read(lambda service: service.identity())

    def add_identity(self, values: Sequence[tuple[str, str]]) -> int:
        for kind, value in values:
            identities.check_value(kind, value)
        return self._run(lambda service: service.add_identity(values))

    def reflect(
        self,
        engine: str | None = None,
        limit: int | None = None,
        progress: Progress | None = None,
        cancel: Cancel | None = None,
        model: str | None = None,
    ) -> ReflectReport:
        from assistant.reflection.run import make_engine

        if limit is not None and limit < 1:
            raise SecondSelfError(f"a reflection limit must be at least 1, not {limit}")
        chosen = make_engine(self.config, engine, model)  # ollama not there: fails here
        return self._run(lambda service: service.reflect(chosen, limit, progress, cancel))

    def pending_reflection(self) -> int:
        return self._read(lambda service: service.pending_reflection())

    def forget_plan(self, target: forgetting.Target) -> forgetting.ForgetPreview:
        from assistant import forget as forgetting

        forgetting.check_target(target)
        return self._read(lambda service: service.forget_plan(target))

    def forget(
        self,
        target: forgetting.Target,
        expect: str | None = None,
        progress: Progress | None = None,
    ) -> forgetting.ForgetReport:
        from assistant import forget as forgetting

        forgetting.check_target(target)
        return self._run(lambda service: service.forget(target, expect, progress))

    def check(self, progress: Progress | None = None, cancel: Cancel | None = None) -> VaultCheck:
        secrets = self._secrets or Secrets()
        return check_vault(self.paths, self.config, secrets, progress, cancel)


class Resident(InProcess):
    """The in-process backend over a memory that stays open between calls; its holder
    closes it."""

    def __init__(self, memory: Memory) -> None:
        super().__init__(memory.paths, memory.config, opener=lambda _index: memory)
        self.memory = memory

    def _run(self, action: Callable[[Service], T], index: bool = True) -> T:
        return action(Service(self.memory))

    def _search(self, action: Callable[[Service], T]) -> T:
        return self._run(action)  # the memory is open: nothing to overlap

    def check(self, progress: Progress | None = None, cancel: Cancel | None = None) -> VaultCheck:
        return self._run(lambda service: service.check(progress, cancel))
