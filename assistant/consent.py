"""Consent and retention, applied: exclusions and retention rules (policies/consent.py)
turned into forgets, and the filter ingest uses so nothing excluded is read again.

What a rule reaches is forgotten the way `me forget` forgets (every copy, tombstones,
the history keeps only that something went), and audited under the rule's action
("exclude", "retention") with counts and the rule's id, never a conversation's name
or a pattern: those can say as much as the text.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import sqlcipher3

from assistant import forget as forgetting
from assistant.errors import MemoryRefError
from assistant.governance import audited
from assistant.memory import Memory
from connectors.base import Item
from policies.consent import Exclusion, RetentionRule, exclusions, retention_rules
from store.progress import Progress


@dataclass(frozen=True)
class RuleReport:
    """A rule made (or applied), with what it forgot."""

    rule: dict[str, Any]
    forgotten: dict[str, int] = field(default_factory=dict)

    def as_json(self) -> dict[str, Any]:
        return {"rule": self.rule, "forgotten": self.forgotten}


# -- exclusions ------------------------------------------------------------------------
def _relative(ref: str, root: str) -> str | None:
    """`ref`'s path inside the source `root`, or None if it is not under it."""
    try:
        inside = Path(ref).relative_to(Path(root)).as_posix()
    except ValueError:
        return None
    return Path(ref).name if inside == "." else inside  # the source is the file itself


def excluded_episodes(conn: sqlcipher3.Connection, rule: Exclusion) -> set[int]:
    """The stored episodes read from the rule's source that it excludes."""
    rows = conn.execute(
        "SELECT e.id, e.conversation, d.ref, s.root FROM episodes e "
        "JOIN documents d ON d.id = e.document_id JOIN sources s ON s.id = d.source_id "
        "WHERE d.source_id = ?",
        (rule.source_id,),
    )
    found = set()
    for episode_id, conversation, ref, root in rows:
        inside = _relative(ref, root)
        if rule.matches_conversation(conversation) or (
            inside is not None and rule.matches_file(inside)
        ):
            found.add(episode_id)
    return found


def exclusion_label(rule: Exclusion) -> str:
    return f"exclusion {rule.id} ({rule.kind}) of source {rule.source_id}"


@dataclass(frozen=True)
class IngestFilter:
    """The exclusions of one source, as ingest asks them: skip this file? keep this item?"""

    root: Path | None
    rules: tuple[Exclusion, ...]

    @classmethod
    def load(cls, conn: sqlcipher3.Connection, source_id: int) -> IngestFilter:
        row = conn.execute("SELECT root FROM sources WHERE id = ?", (source_id,)).fetchone()
        return cls(Path(row[0]) if row else None, tuple(exclusions(conn, source_id)))

    def skips(self, path: Path) -> bool:
        if not self.rules or self.root is None:
            return False
        inside = _relative(str(path), str(self.root))
        return inside is not None and any(r.matches_file(inside) for r in self.rules)

    def keeps(self, item: Item) -> bool:
        return not any(r.matches_conversation(item.conversation) for r in self.rules)


# -- retention -------------------------------------------------------------------------
def expired_episodes(
    conn: sqlcipher3.Connection, rule: RetentionRule, now: datetime | None = None
) -> set[int]:
    """Episodes of the rule's kind dated before its cut-off."""
    cutoff = ((now or datetime.now().astimezone()) - timedelta(days=rule.older_than)).timestamp()
    if rule.kind is None:
        rows = conn.execute("SELECT id FROM episodes WHERE time_unix < ?", (cutoff,))
    else:
        rows = conn.execute(
            "SELECT id FROM episodes WHERE time_unix < ? AND kind = ?", (cutoff, rule.kind)
        )
    return {r[0] for r in rows}


def retention_label(rule: RetentionRule) -> str:
    return f"retention rule {rule.id}: {rule.describe()}"


def apply_retention(
    memory: Memory, now: datetime | None = None, progress: Progress | None = None
) -> dict[str, int]:
    """Forget what every retention rule says is too old; the forget's counts, summed."""
    total: dict[str, int] = {}
    for rule in retention_rules(memory.db.conn):
        expired = expired_episodes(memory.db.conn, rule, now)
        if not expired:
            continue
        plan = forgetting.plan_episodes(memory, expired, retention_label(rule))
        report = forgetting.apply(memory, plan, progress, action="retention")
        for key, n in report.counts.items():
            total[key] = total.get(key, 0) + n
    return total


def make_rule(
    memory: Memory, reached: set[int], expect: str | None, add: Callable[[Any], Any],
    label: Callable[[Any], str], action: str, progress: Progress | None, **detail: Any,
) -> RuleReport:  # fmt: skip
    """Store a rule (`add`, in a write transaction) and forget the episodes it reaches
    now, audited as `action`; with `expect` (the fingerprint of the preview the user
    agreed to), refuse first if what it reaches has changed since."""
    plan = forgetting.plan_episodes(memory, reached, "")
    if expect is not None and plan.fingerprint() != expect:
        raise MemoryRefError(
            "what the rule matches changed since it was shown (the memory was written to "
            "meanwhile); nothing was changed. Run it again to see it anew."
        )
    with memory.db.write() as conn:
        rule = add(conn)
    if plan.empty:
        record_rule(memory, action, rule, **detail)
        return RuleReport(rule.as_json())
    plan.label = label(rule)
    report = forgetting.apply(memory, plan, progress, action=action)
    return RuleReport(rule.as_json(), report.counts)


def record_rule(memory: Memory, action: str, rule: Any, **detail: Any) -> None:
    """An audit entry for a rule made or removed that forgot nothing."""
    with audited(memory) as record:
        record(action, detail={"rule": rule.id, **detail})
