"""One shape of progress and one way to stop, for every long job.

Ingest and sync, reflection, the vector-index rebuild and the integrity check all
report progress as `progress(stage, done, total)` and take a `Cancel` token. The CLI
draws bars from it, the daemon stops background work with it before it locks, and a
terminal app does both through the same two arguments.

`stage` says what is being done, for people ("Checking memory.db structure"); it may
name the item in hand (ingest names the file it has just read), so it can hold text
from the user's files: a display cleans it. `done` counts units of work; `total` is
None while it is unknown (a folder being walked).

A job checks its token only between units of work whose own transaction has committed
or rolled back, so `Cancelled` always leaves the store consistent: what was finished
is kept, nothing half-written is, and running the job again carries on.
"""

from __future__ import annotations

import threading
from collections.abc import Callable

from store.errors import Cancelled

__all__ = ["Cancel", "Cancelled", "Progress", "check", "relabel", "report"]

# progress(stage, done, total): any callable of that shape (rich bars, a Textual
# worker posting a message, a daemon's status) can listen.
Progress = Callable[[str, int, int | None], None]


class Cancel:
    """A request to stop, safe to set from any thread; the job stops at its next check."""

    def __init__(self, event: threading.Event | None = None) -> None:
        """Wrap `event` when the caller already has one to set (the daemon's gate)."""
        self._event = event if event is not None else threading.Event()

    def cancel(self) -> None:
        self._event.set()

    @property
    def cancelled(self) -> bool:
        return self._event.is_set()

    def check(self, job: str = "the job") -> None:
        """Raise `Cancelled` if a stop was asked for."""
        if self._event.is_set():
            raise Cancelled(job)


def check(cancel: Cancel | None, job: str = "the job") -> None:
    """`cancel.check(job)`, for jobs that may have no token."""
    if cancel is not None:
        cancel.check(job)


def report(progress: Progress | None, stage: str, done: int, total: int | None) -> None:
    if progress is not None:
        progress(stage, done, total)


def relabel(progress: Progress | None, stage: str) -> Progress | None:
    """`progress` with every report shown as `stage`: one step of a larger job under
    the larger job's name (the index rebuild of a forget is "Purging every copy")."""
    if progress is None:
        return None
    outer = progress

    def relabelled(_stage: str, done: int, total: int | None) -> None:
        outer(stage, done, total)

    return relabelled
