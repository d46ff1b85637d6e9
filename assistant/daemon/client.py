"""The backend that talks to a running daemon: the same methods as `InProcess`.

Light on purpose: `me recall` through the daemon imports neither torch, chromadb,
numpy nor SQLCipher. Result types that live in heavier modules are imported by the
methods that return them, never by `recall`.
"""

from __future__ import annotations

import os
import select
import socket
from datetime import date
from typing import TYPE_CHECKING, Any

from assistant.daemon import codec, protocol
from assistant.daemon.place import DaemonPlace
from assistant.errors import DaemonError, DaemonLockedError
from assistant.hits import Hit, require_words
from assistant.paths import Paths
from assistant.service.requests import (
    AskRequest,
    AutofillRequest,
    RecallRequest,
    TimelineRequest,
)
from store.errors import Cancelled

if TYPE_CHECKING:
    from collections.abc import Sequence
    from pathlib import Path

    from assistant import forget as forgetting
    from assistant import identity as identities
    from assistant import sources as registry
    from assistant.ask import AskResult
    from assistant.autofill.fill import AutofillResult
    from assistant.backup import BackupReport
    from assistant.consent import RuleReport
    from assistant.derived.changes import ChangeRecord
    from assistant.derived.people import Person
    from assistant.derived.persona import Fact
    from assistant.derived.thoughts import Thought
    from assistant.export import ExportReport
    from assistant.ingest import IngestSummary
    from assistant.integrity import VaultCheck
    from assistant.reflection.run import ReflectReport
    from assistant.service.explain import Explanation, Surroundings
    from assistant.service.overview import Status
    from assistant.service.review import ReviewItems
    from assistant.service.sync import SyncReport
    from assistant.timeline import TimelineEntry
    from policies.audit import Entry, Verdict
    from policies.consent import Exclusion, RetentionRule
    from policies.grants import Grant
    from store.progress import Cancel, Progress

NO_DAEMON_ENV = "SECONDSELF_NO_DAEMON"
CONNECT_TIMEOUT_S = 5.0


def disabled() -> bool:
    return os.environ.get(NO_DAEMON_ENV, "").strip().lower() in ("1", "true", "yes")


def find(paths: Paths) -> DaemonClient | None:
    """A client for this vault's daemon if one is running and `SECONDSELF_NO_DAEMON`
    does not forbid it."""
    if disabled():
        return None
    place = DaemonPlace(paths)
    if not place.socket.exists():
        return None
    client = DaemonClient(paths)
    return client if client.reachable() else None


class DaemonClient:
    def __init__(self, paths: Paths) -> None:
        self.paths = paths
        self.place = DaemonPlace(paths)

    # -- transport --------------------------------------------------------------------

    def reachable(self) -> bool:
        sock = self.place.connect(CONNECT_TIMEOUT_S)
        if sock is None:
            return False
        sock.close()
        return True

    def call(self, op: str, /, **args: Any) -> Any:
        """Send one request and return its result, or raise the error it was answered with."""
        return self._exchange(op, args)

    def job(self, op: str, progress: Progress | None, cancel: Cancel | None, /, **args: Any) -> Any:
        """`call` for a long job: the daemon's progress frames go to `progress`, and
        `cancel` stops the job in the daemon (its reply is then `Cancelled`)."""
        return self._exchange(op, args, progress, cancel)

    def _exchange(
        self,
        op: str,
        args: dict[str, Any],
        progress: Progress | None = None,
        cancel: Cancel | None = None,
    ) -> Any:
        sock = self.place.connect(CONNECT_TIMEOUT_S)
        if sock is None:
            raise DaemonError("the daemon is not running (it stopped?); run the command again")
        # Leaving this block early (Ctrl-C) closes the socket, which cancels a job too.
        with sock:
            sock.settimeout(None)  # a sync or a reflection may take minutes
            try:
                protocol.write_frame(sock, protocol.request(op, args, progress is not None))
                reply = _await_reply(sock, progress, cancel)
            except (OSError, protocol.ProtocolError) as exc:
                raise DaemonError(f"the daemon did not answer {op}: {exc}") from None
        if reply is None:
            raise DaemonError(f"the daemon closed the connection without answering {op}")
        if reply.get("ok"):
            return reply.get("result")
        error = reply.get("error") or {}
        message = str(error.get("message", "the daemon refused the request"))
        if error.get("kind") == "locked":
            raise DaemonLockedError(message)
        if error.get("kind") == "cancelled":
            raise Cancelled(str(error.get("job") or op))
        raise DaemonError(message)

    # -- control ----------------------------------------------------------------------

    def status(self) -> Status:
        """What `me status` shows; while the daemon is locked, what can be told without keys."""
        from assistant.service.overview import Status, outside

        try:
            return codec.load(Status, self.call("status"))
        except DaemonLockedError:
            return outside(self.paths)

    def daemon_status(self) -> dict[str, Any]:
        return dict(self.call("daemon_status"))

    def lock(self) -> bool:
        return bool(self.call("lock")["locked_now"])

    def unlock(self, passphrase: str | None) -> bool:
        return bool(self.call("unlock", passphrase=passphrase)["unlocked_now"])

    def stop(self) -> None:
        self.call("stop")

    # -- the backend seam -------------------------------------------------------------

    def recall(self, request: RecallRequest) -> list[Hit]:
        require_words(request.question)
        found = self.call("recall", request=codec.dump(request))
        return [codec.load(Hit, hit) for hit in found]

    def ask(
        self, request: AskRequest, engine: str | None = None, model: str | None = None
    ) -> AskResult:
        from assistant.ask import AskResult

        require_words(request.question)
        reply = self.call("ask", request=codec.dump(request), engine=engine, model=model)
        return codec.load(AskResult, reply)

    def facts(
        self, person: str | None = None, attribute: str | None = None, include_closed: bool = False
    ) -> list[Fact]:
        from assistant.derived.persona import Fact

        found = self.call(
            "facts", person=person, attribute=attribute, include_closed=include_closed
        )
        return codec.load(list[Fact], found)

    def set_fact(self, person: str, attribute: str, value: str, since: date | None = None) -> Fact:
        from assistant.derived.persona import Fact

        found = self.call(
            "set_fact", person=person, attribute=attribute, value=value, since=codec.dump(since)
        )
        return codec.load(Fact, found)

    def flag(self, kind: str, row_id: int, op: str) -> int:
        return int(self.call("flag", kind=kind, row_id=row_id, op=op))

    def history(self, memory_ref: str) -> list[ChangeRecord]:
        from assistant.derived.changes import ChangeRecord

        found = self.call("history", memory_ref=memory_ref)
        return codec.load(list[ChangeRecord], found)

    def review(self) -> ReviewItems:
        from assistant.service.review import ReviewItems

        return codec.load(ReviewItems, self.call("review"))

    def mark_reviewed(self, until: str) -> None:
        self.call("mark_reviewed", until=until)

    def recent_changes(self, limit: int = 50) -> list[ChangeRecord]:
        from assistant.derived.changes import ChangeRecord

        return codec.load(list[ChangeRecord], self.call("recent_changes", limit=limit))

    def undo(self, change_id: int) -> int:
        return int(self.call("undo", change_id=change_id))

    def release(self, memory_ref: str) -> int:
        return int(self.call("release", memory_ref=memory_ref))

    def timeline(self, request: TimelineRequest) -> list[TimelineEntry]:
        from assistant.timeline import TimelineEntry

        found = self.call("timeline", request=codec.dump(request))
        return codec.load(list[TimelineEntry], found)

    def grant(
        self, requester: str, categories: tuple[str, ...], expires_days: int | None = None
    ) -> Grant:
        from policies.grants import Grant

        made = self.call("grant", requester=requester, categories=list(categories),
                         expires_days=expires_days)  # fmt: skip
        return codec.load(Grant, made)

    def revoke_grant(self, requester: str) -> None:
        self.call("revoke_grant", requester=requester)

    def autofill(self, request: AutofillRequest) -> AutofillResult:
        from assistant.autofill.fill import AutofillResult

        return codec.load(AutofillResult, self.call("autofill", request=codec.dump(request)))

    def grants(self) -> list[Grant]:
        from policies.grants import Grant

        return codec.load(list[Grant], self.call("grants"))

    def audit_log(self, since: date | None = None) -> list[Entry]:
        from policies.audit import Entry

        return codec.load(list[Entry], self.call("audit_log", since=codec.dump(since)))

    def verify_audit(self) -> Verdict:
        from policies.audit import Verdict

        return codec.load(Verdict, self.call("verify_audit"))

    def backup(self, path: Path) -> BackupReport:
        from assistant.backup import BackupReport

        dest = str(path.expanduser().resolve())  # the daemon's folder is not ours
        return codec.load(BackupReport, self.call("backup", path=dest))

    def export(self, path: Path) -> ExportReport:
        from assistant.export import ExportReport

        dest = str(path.expanduser().resolve())
        return codec.load(ExportReport, self.call("export", path=dest))

    def exclude_plan(self, source_id: int, kind: str, pattern: str) -> forgetting.ForgetPreview:
        from assistant.forget import ForgetPreview

        found = self.call("exclude_plan", source_id=source_id, kind=kind, pattern=pattern)
        return codec.load(ForgetPreview, found)

    def exclude(
        self, source_id: int, kind: str, pattern: str, expect: str | None = None,
        progress: Progress | None = None,
    ) -> RuleReport:  # fmt: skip
        from assistant.consent import RuleReport

        found = self.job("exclude", progress, None, source_id=source_id, kind=kind,
                         pattern=pattern, expect=expect)  # fmt: skip
        return codec.load(RuleReport, found)

    def exclusions(self, source_id: int | None = None) -> list[Exclusion]:
        from policies.consent import Exclusion

        return codec.load(list[Exclusion], self.call("exclusions", source_id=source_id))

    def remove_exclusion(self, rule_id: int) -> Exclusion:
        from policies.consent import Exclusion

        return codec.load(Exclusion, self.call("remove_exclusion", rule_id=rule_id))

    def retention_plan(self, kind: str | None, days: int) -> forgetting.ForgetPreview:
        from assistant.forget import ForgetPreview

        found = self.call("retention_plan", kind=kind, days=days)
        return codec.load(ForgetPreview, found)

    def add_retention(
        self, kind: str | None, days: int, expect: str | None = None,
        progress: Progress | None = None,
    ) -> RuleReport:  # fmt: skip
        from assistant.consent import RuleReport

        found = self.job("add_retention", progress, None, kind=kind, days=days, expect=expect)
        return codec.load(RuleReport, found)

    def retention_rules(self) -> list[RetentionRule]:
        from policies.consent import RetentionRule

        return codec.load(list[RetentionRule], self.call("retention_rules"))

    def remove_retention(self, rule_id: int) -> RetentionRule:
        from policies.consent import RetentionRule

        return codec.load(RetentionRule, self.call("remove_retention", rule_id=rule_id))

    def people(self) -> list[Person]:
        from assistant.derived.people import Person

        return codec.load(list[Person], self.call("people"))

    def merge_people(self, keep: str, other: str) -> int:
        return int(self.call("merge_people", keep=keep, other=other))

    def split_person(self, name: str) -> str:
        return str(self.call("split_person", name=name))

    def surroundings(self, memory_ref: str, n: int = 3) -> Surroundings:
        from assistant.service.explain import Surroundings

        found = self.call("surroundings", memory_ref=memory_ref, n=n)
        return codec.load(Surroundings, found)

    def why(self, memory_ref: str) -> Explanation:
        from assistant.service.explain import Explanation

        return codec.load(Explanation, self.call("why", memory_ref=memory_ref))

    def thoughts(self, include_all: bool = False) -> list[Thought]:
        from assistant.derived.thoughts import Thought

        found = self.call("thoughts", include_all=include_all)
        return codec.load(list[Thought], found)

    # Long jobs run in the daemon; their progress comes back over the socket, and a
    # cancel (or Ctrl-C) reaches them there.

    def ingest(
        self,
        roots: Sequence[Path],
        progress: Progress | None = None,
        cancel: Cancel | None = None,
    ) -> IngestSummary:
        from assistant.ingest import IngestSummary

        found = self.job("ingest", progress, cancel, roots=[str(r.absolute()) for r in roots])
        return codec.load(IngestSummary, found)

    def sync(
        self,
        only: Sequence[int] | None = None,
        progress: Progress | None = None,
        cancel: Cancel | None = None,
    ) -> SyncReport:
        from assistant.service.sync import SyncReport

        found = self.job("sync", progress, cancel, only=None if only is None else list(only))
        return codec.load(SyncReport, found)

    def sources(self) -> list[registry.Source]:
        from assistant.sources import Source

        return codec.load(list[Source], self.call("sources"))

    def source_for(self, path: Path) -> int | None:
        found = self.call("source_for", path=str(path.absolute()))
        return None if found is None else int(found)

    def add_source(self, path: Path, kind: str | None = None) -> registry.Source:
        from assistant.sources import Source

        found = self.call("add_source", path=str(path.absolute()), kind=kind)
        return codec.load(Source, found)

    def remove_source(self, source_id: int) -> None:
        self.call("remove_source", source_id=source_id)

    def identity(self) -> list[identities.IdentityValue]:
        from assistant.identity import IdentityValue

        return codec.load(list[IdentityValue], self.call("identity"))

    def add_identity(self, values: Sequence[tuple[str, str]]) -> int:
        return int(self.call("add_identity", values=[list(v) for v in values]))

    def reflect(
        self,
        engine: str | None = None,
        limit: int | None = None,
        progress: Progress | None = None,
        cancel: Cancel | None = None,
        model: str | None = None,
    ) -> ReflectReport:
        from assistant.reflection.run import ReflectReport

        found = self.job("reflect", progress, cancel, engine=engine, limit=limit, model=model)
        return codec.load(ReflectReport, found)

    def pending_reflection(self) -> int:
        return int(self.call("pending_reflection"))

    def forget_plan(self, target: forgetting.Target) -> forgetting.ForgetPreview:
        from assistant.forget import ForgetPreview

        found = self.call("forget_plan", target=codec.dump(target))
        return codec.load(ForgetPreview, found)

    def forget(
        self,
        target: forgetting.Target,
        expect: str | None = None,
        progress: Progress | None = None,
    ) -> forgetting.ForgetReport:
        from assistant.forget import ForgetReport

        found = self.job("forget", progress, None, target=codec.dump(target), expect=expect)
        return codec.load(ForgetReport, found)

    def check(self, progress: Progress | None = None, cancel: Cancel | None = None) -> VaultCheck:
        from assistant.integrity import VaultCheck

        return codec.load(VaultCheck, self.job("check", progress, cancel))


def _await_reply(
    sock: socket.socket, progress: Progress | None, cancel: Cancel | None
) -> dict[str, Any] | None:
    """Read frames until the reply, passing progress frames to `progress`. A cancel is
    passed on by shutting down our sending side: the daemon stops the job at its next
    safe point and still replies."""
    stop_sent = False
    while True:
        if cancel is not None and not stop_sent:
            readable, _, _ = select.select([sock], [], [], 0.1)
            if cancel.cancelled:
                sock.shutdown(socket.SHUT_WR)
                stop_sent = True
            if not readable:
                continue
        frame = protocol.read_frame(sock, protocol.MAX_REPLY)
        if frame is None or "progress" not in frame:
            return frame
        shown = frame["progress"]
        if progress is not None and isinstance(shown, dict):
            total = shown.get("total")
            progress(
                str(shown.get("stage", "")),
                int(shown.get("done") or 0),
                total if isinstance(total, int) else None,
            )
