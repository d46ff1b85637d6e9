"""The service: one method per user action on an open memory.

Each method returns a typed result (a dataclass with `as_json()`) and raises only the
core's errors (`assistant/errors.py`). It neither prompts nor prints: front ends
parse, call and render. Transactions and SQL stay below this line.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import replace
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, TypeVar

from assistant import identity as identities
from assistant import refs
from assistant.derived import changes
from assistant.errors import GovernanceError, MemoryRefError, QueryError
from assistant.hits import Hit
from assistant.integrity import VaultCheck, check_open
from assistant.memory import Memory
from assistant.recall import recall as run_recall
from assistant.service import overview
from assistant.service.requests import (
    AskRequest,
    AutofillRequest,
    RecallRequest,
    TimelineRequest,
)
from store.progress import Cancel, Progress

T = TypeVar("T")

# The modules behind reading files, reflecting and forgetting compile hundreds of
# patterns at import (~0.25 s together); the methods that need them import them, so a
# cold `me recall` pays only for recall.
if TYPE_CHECKING:
    from assistant import forget as forgetting
    from assistant import sources as registry
    from assistant.ask import AskResult
    from assistant.autofill.fill import AutofillResult
    from assistant.backup import BackupReport
    from assistant.consent import RuleReport
    from assistant.derived import people, persona, thoughts
    from assistant.export import ExportReport
    from assistant.ingest import IngestSummary
    from assistant.reflection import run as reflection
    from assistant.reflection.engine import Engine
    from assistant.service import explain, review
    from assistant.service import sync as syncing
    from assistant.timeline import TimelineEntry
    from policies.audit import Entry, Verdict
    from policies.consent import Exclusion, RetentionRule
    from policies.grants import Grant


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
    """Every user action on one open memory; safe to call from several threads. Short
    actions are one transaction each; the long jobs (ingest, sync, reflect, forget) run
    one at a time per memory, a second waiting for the first."""

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
            now=request.now,
        )

    def ask(self, request: AskRequest, engine: Engine) -> AskResult:
        from assistant.ask import ask as run_ask

        return run_ask(
            self.memory,
            request.question,
            engine,
            k=request.k or self.memory.config.recall.k,
            post_think=request.remember,
            reinforce=request.reinforce,
            now=request.now,
        )

    def ingest(
        self,
        roots: Sequence[Path],
        progress: Progress | None = None,
        cancel: Cancel | None = None,
    ) -> IngestSummary:
        """Read files and folders once (they are not added to the sources)."""
        from assistant.ingest import ingest as run_ingest

        with self.memory.jobs:
            return run_ingest(self.memory, list(roots), progress=progress, cancel=cancel)

    def sync(
        self,
        only: Sequence[int] | None = None,
        progress: Progress | None = None,
        cancel: Cancel | None = None,
    ) -> syncing.SyncReport:
        """Bring every registered source, or those with the ids in `only`, up to date."""
        from assistant import consent
        from assistant.service import sync as syncing

        with self.memory.jobs:
            report = syncing.sync(self.memory, only, progress, cancel)
            # Retention rules are applied by every sync (the daemon's too).
            return replace(report, expired=consent.apply_retention(self.memory, progress=progress))

    def sources(self) -> list[registry.Source]:
        from assistant import sources as registry

        return registry.list_sources(self.memory.db)

    def source_for(self, path: Path) -> int | None:
        """The registered source holding `path` (for a file watcher), or None."""
        from assistant import sources as registry

        return registry.source_for(self.sources(), path)

    def add_source(self, path: Path, kind: str | None = None) -> registry.Source:
        """Register `path` to be kept in step by `sync`; `kind` a connector name, or None
        to detect each file's format."""
        from assistant import sources as registry

        source_id = registry.add_source(self.memory.db, path, kind)
        return next(s for s in self.sources() if s.id == source_id)

    def remove_source(self, source_id: int) -> None:
        """Stop syncing a source; what was read from it stays (`forget` removes it)."""
        from assistant import sources as registry

        registry.remove_source(self.memory.db, source_id)

    def identity(self) -> list[identities.IdentityValue]:
        return identities.list_identity(self.memory.db)

    def add_identity(self, values: Sequence[tuple[str, str]]) -> int:
        """Add (kind, value) pairs; returns how many stored messages became the user's."""
        return sum(identities.add_identity(self.memory.db, k, v) for k, v in values)

    def reflect(
        self,
        engine: Engine,
        limit: int | None = None,
        progress: Progress | None = None,
        cancel: Cancel | None = None,
    ) -> reflection.ReflectReport:
        """Reflect on up to `limit` pending episodes (all when None), oldest first."""
        from assistant.reflection import run as reflection

        with self.memory.jobs:
            return reflection.reflect(self.memory, engine, limit, progress, cancel)

    def pending_reflection(self) -> int:
        """Episodes not yet reflected on."""
        from assistant.reflection import run as reflection

        return reflection.pending_count(self.memory)

    def forget_plan(self, target: forgetting.Target) -> forgetting.ForgetPreview:
        """What `forget(target)` would remove, changing nothing."""
        from assistant import forget as forgetting

        return forgetting.plan(self.memory, target).preview()

    def forget(
        self,
        target: forgetting.Target,
        expect: str | None = None,
        progress: Progress | None = None,
    ) -> forgetting.ForgetReport:
        """Forget everything `target` reaches, and every copy of it. With `expect` (the
        fingerprint of the preview the user agreed to), refuse if that has changed."""
        from assistant import forget as forgetting

        with self.memory.jobs:  # no sync writes back what is being forgotten meanwhile
            planned = forgetting.plan(self.memory, target)
            if planned.empty:
                raise MemoryRefError("nothing matches: nothing was forgotten")
            if expect is not None and planned.fingerprint() != expect:
                raise MemoryRefError(
                    "what matches changed since it was shown (the memory was written to "
                    "meanwhile); nothing was forgotten. Run the forget again to see it anew."
                )
            return forgetting.apply(self.memory, planned, progress)

    def check(self, progress: Progress | None = None, cancel: Cancel | None = None) -> VaultCheck:
        """Read every page of the open vault and its sealed index, and say what, if
        anything, is damaged."""
        memory = self.memory
        return check_open(memory.paths, memory.keys, memory.db, progress, cancel)

    def set_fact(
        self, person: str, attribute: str, value: str, since: date | None = None
    ) -> persona.Fact:
        """The user states a value, true from `since` (today when None); it wins over
        anything extracted."""
        from assistant.derived import persona

        with self.memory.db.write() as conn:
            fact_id = persona.set_value(conn, person, attribute, value, since)
        return persona.get(self.memory.db.conn, fact_id)

    def facts(
        self, person: str | None = None, attribute: str | None = None, include_closed: bool = False
    ) -> list[persona.Fact]:
        """Current facts (all of them, closed ones too, with `include_closed`)."""
        from assistant.derived import persona

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

    def review(self) -> review.ReviewItems:
        """What reflection learned, and what was quarantined, since the last review."""
        from assistant.service import review

        return review.pending(self.memory)

    def mark_reviewed(self, until: str) -> None:
        """The user has seen everything a review listed up to `until`."""
        from assistant.service import review

        review.mark_reviewed(self.memory, until)

    def recent_changes(self, limit: int = 50) -> list[changes.ChangeRecord]:
        """What changed lately (reflection, the user, undos), newest first."""
        return changes.recent(self.memory.db.conn, limit)

    def undo(self, change_id: int) -> int:
        """Take back a change; returns the id of the change that records the undo."""
        with self.memory.db.write() as conn:
            return changes.undo(conn, change_id)

    def timeline(self, request: TimelineRequest) -> list[TimelineEntry]:
        """How a topic, life with a person, or a period unfolded (`assistant/timeline.py`)."""
        from assistant.timeline import timeline

        if request.empty:
            raise QueryError("a timeline needs a topic, a person or a period (--day, --since)")
        return timeline(self.memory, request.topic, request.person, request.since,
                        request.until, request.now)  # fmt: skip

    # -- governance: grants and the audit log -------------------------------------------
    def grant(
        self, requester: str, categories: tuple[str, ...], expires_days: int | None = None
    ) -> Grant:
        """Allow `requester` these categories (replacing its grant), audited."""
        from assistant.governance import audited
        from policies import grants

        try:
            with audited(self.memory) as record:
                made = grants.add(record.conn, requester, categories, expires_days)
                allowed = {"categories": list(made.categories), "expires": made.expires}
                record("grant", requester=made.requester, detail=allowed)
        except grants.GrantError as exc:
            raise GovernanceError(str(exc)) from exc
        return made

    def autofill(self, request: AutofillRequest) -> AutofillResult:
        """Fill a form as far as the requester's grant allows (`assistant/autofill/`)."""
        from assistant.autofill.fill import autofill

        return autofill(self.memory, request)

    def revoke_grant(self, requester: str) -> None:
        """Take back `requester`'s grant, audited."""
        from assistant.governance import audited
        from policies import grants

        with audited(self.memory) as record:
            if not grants.revoke(record.conn, requester):
                raise GovernanceError(f"{requester!r} has no grant; `me grants list` shows them")
            record("revoke", requester=requester.strip())

    def grants(self) -> list[Grant]:
        from policies import grants

        return grants.listing(self.memory.db.conn)

    def audit_log(self, since: date | None = None) -> list[Entry]:
        """The audit entries, oldest first (from `since`)."""
        from assistant import governance

        return governance.entries(self.memory, since.isoformat() if since else None)

    def verify_audit(self) -> Verdict:
        """Recompute the audit chain and compare it with its mirrored head."""
        from assistant import governance

        return governance.verify(self.memory)

    # -- governance: backups, export, exclusions and retention --------------------------
    def backup(self, path: Path) -> BackupReport:
        """Write an encrypted backup of the vault to `path` (`assistant/backup.py`)."""
        from assistant.backup import backup

        return backup(self.memory, path)

    def export(self, path: Path) -> ExportReport:
        """Write the whole memory to `path` as JSON lines, NOT encrypted, audited."""
        from assistant.export import export_jsonl

        return export_jsonl(self.memory, path)

    def exclude_plan(self, source_id: int, kind: str, pattern: str) -> forgetting.ForgetPreview:
        """What excluding `pattern` from a source would forget now, changing nothing."""
        from assistant import consent
        from assistant import forget as forgetting
        from policies import consent as rules

        conn = self.memory.db.conn
        rule = _consent(lambda: rules.checked_exclusion(conn, source_id, kind, pattern))
        found = consent.excluded_episodes(conn, rule)
        return forgetting.plan_episodes(self.memory, found, "an exclusion").preview()

    def exclude(
        self, source_id: int, kind: str, pattern: str, expect: str | None = None,
        progress: Progress | None = None,
    ) -> RuleReport:  # fmt: skip
        """Never remember a conversation, or files matching a pattern, of a source: what
        is stored of it is forgotten now, and ingest never reads it again. With `expect`
        (the preview's fingerprint), refuse if what matches changed since it was shown."""
        from assistant import consent
        from policies import consent as rules

        with self.memory.jobs:
            conn = self.memory.db.conn
            probe = _consent(lambda: rules.checked_exclusion(conn, source_id, kind, pattern))
            reached = consent.excluded_episodes(conn, probe)
            return _consent(lambda: consent.make_rule(
                self.memory, reached, expect,
                lambda c: rules.add_exclusion(c, source_id, kind, pattern),
                consent.exclusion_label, "exclude", progress, source=source_id, kind=kind,
            ))  # fmt: skip

    def exclusions(self, source_id: int | None = None) -> list[Exclusion]:
        from policies import consent as rules

        return rules.exclusions(self.memory.db.conn, source_id)

    def remove_exclusion(self, rule_id: int) -> Exclusion:
        """Drop an exclusion: new content it matched is read again; what it forgot stays
        forgotten."""
        from assistant import consent
        from policies import consent as rules

        with self.memory.db.write() as conn:
            removed = _consent(lambda: rules.remove_exclusion(conn, rule_id))
        consent.record_rule(self.memory, "exclude", removed, removed=True)
        return removed

    def retention_plan(self, kind: str | None, days: int) -> forgetting.ForgetPreview:
        """What a retention rule would forget now, changing nothing."""
        from assistant import consent
        from assistant import forget as forgetting
        from policies import consent as rules

        probe = rules.RetentionRule(0, kind, days, "")
        found = consent.expired_episodes(self.memory.db.conn, probe)
        return forgetting.plan_episodes(self.memory, found, "a retention rule").preview()

    def add_retention(
        self, kind: str | None, days: int, expect: str | None = None,
        progress: Progress | None = None,
    ) -> RuleReport:  # fmt: skip
        """Keep memories of `kind` (every kind when None) for `days`: what is older is
        forgotten now, and by every sync from now on."""
        from assistant import consent
        from policies import consent as rules

        with self.memory.jobs:
            probe = rules.RetentionRule(0, kind, days, "")
            reached = consent.expired_episodes(self.memory.db.conn, probe)
            return _consent(lambda: consent.make_rule(
                self.memory, reached, expect, lambda c: rules.add_retention(c, kind, days),
                consent.retention_label, "retention", progress, kind=kind, days=days,
            ))  # fmt: skip

    def retention_rules(self) -> list[RetentionRule]:
        from policies import consent as rules

        return rules.retention_rules(self.memory.db.conn)

    def remove_retention(self, rule_id: int) -> RetentionRule:
        from assistant import consent
        from policies import consent as rules

        with self.memory.db.write() as conn:
            removed = _consent(lambda: rules.remove_retention(conn, rule_id))
        consent.record_rule(self.memory, "retention", removed, removed=True)
        return removed

    def people(self) -> list[people.Person]:
        """Everyone the persona knows, with their other names and handles."""
        from assistant.derived import people

        return people.listing(self.memory.db.conn)

    def merge_people(self, keep: str, other: str) -> int:
        """`other` is `keep`: one person from now on; returns the change's id."""
        from assistant.derived import people

        with self.memory.db.write() as conn:
            kept, merged = people.stored_name(conn, keep), people.stored_name(conn, other)
            return people.merge(conn, kept, merged, "user", f"the user said {merged!r} is {kept!r}")

    def split_person(self, name: str) -> str:
        """Undo the merge that folded `name` into someone; returns who that was."""
        from assistant.derived import people

        with self.memory.db.write() as conn:
            return people.split(conn, name)[0]

    def release(self, memory_ref: str) -> int:
        """Release a quarantined episode: it may be cited and learned from (the user's
        word outranks the detector's); returns the change's id, for `undo`."""
        from assistant import quarantine

        kind, episode_id = refs.parse(memory_ref)
        if kind != "episode":
            raise MemoryRefError(f"only an episode is quarantined; {memory_ref} is a {kind}")
        with self.memory.db.write() as conn:
            return quarantine.release(conn, episode_id)

    def surroundings(self, memory_ref: str, n: int = 3) -> explain.Surroundings:
        """The turns (or chunks) just before and after an episode."""
        from assistant.service import explain

        return explain.surroundings(self.memory, memory_ref, n)

    def why(self, memory_ref: str) -> explain.Explanation:
        from assistant.service import explain

        return explain.why(self.memory, memory_ref)

    def thoughts(self, include_all: bool = False) -> list[thoughts.Thought]:
        from assistant.derived import thoughts

        return thoughts.listing(self.memory.db.conn, include_all)

    def counts(self) -> overview.VaultCounts:
        return overview.counts(self.memory)


def _consent(make: Callable[[], T]) -> T:
    """A consent rule's refusal, as the core's error."""
    from policies.consent import ConsentError

    try:
        return make()
    except ConsentError as exc:
        raise GovernanceError(str(exc)) from exc
