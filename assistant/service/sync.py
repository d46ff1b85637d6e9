"""`sync`: bring registered sources up to date, one after another, under one progress."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from assistant.errors import SourceNotFoundError
from assistant.ingest import Ingestor, IngestSummary
from assistant.memory import Memory
from assistant.sources import list_sources, record_sync_failures
from store.progress import Cancel, Progress, check


@dataclass(frozen=True)
class SourceSync:
    """One source's part of a sync."""

    id: int
    root: str
    summary: IngestSummary

    @property
    def label(self) -> str:
        return f"[{self.id}] {self.root}"

    def as_json(self) -> dict[str, Any]:
        return {"source": self.label, **self.summary.as_json()}


@dataclass(frozen=True)
class SyncReport:
    """Every synced source's summary, in id order (none: no sources registered)."""

    sources: list[SourceSync]
    expired: dict[str, int] = field(default_factory=dict)  # forgotten by retention rules

    @property
    def failed(self) -> bool:
        return any(s.summary.failed for s in self.sources)

    def as_json(self) -> dict[str, Any]:
        return {"sources": [s.as_json() for s in self.sources], "expired": self.expired}


def sync(
    memory: Memory,
    only: Sequence[int] | None = None,
    progress: Progress | None = None,
    cancel: Cancel | None = None,
) -> SyncReport:
    """Sync every listed source, or those in `only` (refused whole if one is unknown).

    A cancel stops between files (see assistant/ingest.py): sources synced before it
    keep their new sync time, the one in hand keeps the batches it committed."""
    listed = list_sources(memory.db)
    if only is not None:
        unknown = sorted(set(only) - {s.id for s in listed})
        if unknown:
            raise SourceNotFoundError(f"no source with id {unknown}; see `me sources list`")
        listed = [s for s in listed if s.id in set(only)]
    done: list[SourceSync] = []
    files = 0  # across sources, so that one bar counts the whole sync
    for source in listed:
        check(cancel, "sync")
        with Ingestor(memory, progress=_after(progress, files), cancel=cancel) as ingestor:
            summary = ingestor.sync(source.id)
        files += ingestor.files
        # Only a sync that reached its end replaces the record (a cancel raised above).
        record_sync_failures(memory.db, source.id, [(f.name, f.reason) for f in summary.failed])
        done.append(SourceSync(source.id, source.root, summary))
    return SyncReport(done)


def _after(progress: Progress | None, offset: int) -> Progress | None:
    if progress is None or offset == 0:
        return progress
    outer = progress

    def shifted(stage: str, done: int, total: int | None) -> None:
        outer(stage, offset + done, None if total is None else offset + total)

    return shifted
