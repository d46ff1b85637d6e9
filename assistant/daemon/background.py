"""What the daemon does between requests: keep sources in step, think, lock when idle.

Three threads, all stopped by `stop()`:

- the **watcher** turns file events under the registered sources into sync hints;
- the **worker** runs one job at a time (a sync of some sources, a full scan, one small
  reflection batch), at a lowered priority, through the same service as any request;
- the **clock** ticks once a second: it locks after `idle_lock_minutes` without a
  request, queues a full scan every `rescan_minutes`, queues a reflection batch after
  `reflect_after_idle_s` of quiet, and pets the systemd watchdog.

File events are hints only: they are lost while the daemon is down or locked, and some
filesystems send none. The full scan, on every unlock and then periodically, is the
truth, and catches everything the events missed.
"""

from __future__ import annotations

import contextlib
import logging
import os
import queue
import threading
import time
from collections.abc import Iterable
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

from assistant.daemon import sdnotify
from assistant.errors import USER_ERRORS, DaemonLockedError
from store.progress import Cancel, Cancelled

if TYPE_CHECKING:
    from assistant.daemon.server import Daemon
    from assistant.service.backend import Resident

log = logging.getLogger(__name__)

FULL_SCAN = "scan"
REFLECT = "reflect"
BACKGROUND_NICE = 10  # below interactive work; the kernel nices a Linux thread alone


class Background:
    def __init__(self, daemon: Daemon) -> None:
        self.daemon = daemon
        self.settings = daemon.config.daemon
        self._jobs: queue.Queue[str | frozenset[int] | None] = queue.Queue()
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []
        self._watch_stop = threading.Event()
        self._watch_thread: threading.Thread | None = None
        self._roots: tuple[Path, ...] = ()
        self._last_scan = time.monotonic()
        self._queued: set[str | frozenset[int]] = set()
        self._queued_lock = threading.Lock()
        self.busy = threading.Event()  # a job is running
        self.current: str | None = None  # its name, for status

    # -- life cycle ------------------------------------------------------------------

    def start(self) -> None:
        for name, target in (("worker", self._work), ("clock", self._tick)):
            thread = threading.Thread(target=target, name=name, daemon=True)
            thread.start()
            self._threads.append(thread)

    def stop(self) -> None:
        self._stop.set()
        self._watch_stop.set()
        self._jobs.put(None)
        for thread in [*self._threads, self._watch_thread]:
            if thread is not None:
                thread.join(timeout=30)

    def unlocked(self, _warm: Resident) -> None:
        """Every unlock starts with a full scan: files changed while it was locked or down."""
        self.queue(FULL_SCAN)

    def queue(self, job: str | frozenset[int]) -> None:
        with self._queued_lock:
            if job in self._queued:
                return  # already waiting: one scan covers both requests
            self._queued.add(job)
        self._jobs.put(job)

    # -- the worker ------------------------------------------------------------------

    def _work(self) -> None:
        # Background work yields the cores to requests and to the user.
        with contextlib.suppress(AttributeError, OSError):
            os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), BACKGROUND_NICE)
        while not self._stop.is_set():
            job = self._jobs.get()
            if job is None:
                return
            with self._queued_lock:
                self._queued.discard(job)
            self.busy.set()
            self.current = "reflect" if job == REFLECT else "sync"
            try:
                self._run(job)
            except (DaemonLockedError, Cancelled):
                log.info("background %s stopped by a lock; the next unlock scans again", _name(job))
            except USER_ERRORS as exc:
                log.warning("background %s failed: %s", _name(job), exc)
            except Exception:
                log.exception("background %s failed", _name(job))
            finally:
                self.current = None
                self.busy.clear()

    def _run(self, job: str | frozenset[int]) -> None:
        gate = self.daemon.gate
        with gate.use() as warm:
            if job == REFLECT:
                self._reflect(warm)
                return
            only = None if isinstance(job, str) else sorted(job)
            report = warm.sync(only=only, cancel=Cancel(gate.stop_work))
            self.daemon.last_sync = datetime.now().astimezone().isoformat(timespec="seconds")
            if job == FULL_SCAN:
                self._last_scan = time.monotonic()
            log.info("synced %s: %s", "all sources" if only is None else only, report.as_json())
            self._watch([s.path for s in warm.sources()])

    def _reflect(self, warm: Resident) -> None:
        if warm.pending_reflection() == 0:
            return
        cancel = Cancel(self.daemon.gate.stop_work)
        report = warm.reflect(limit=self.settings.reflect_batch, cancel=cancel)
        log.info("reflected %d memories in the background", report.episodes)

    # -- the watcher -----------------------------------------------------------------

    def _watch(self, roots: Iterable[Path]) -> None:
        """(Re)start the watcher when the set of existing source roots changed."""
        wanted = tuple(sorted({r for r in roots if r.exists()}))
        if wanted == self._roots and self._watch_thread is not None:
            return
        self._watch_stop.set()
        if self._watch_thread is not None:
            self._watch_thread.join(timeout=10)
        self._roots = wanted
        self._watch_stop = threading.Event()
        if not wanted:
            self._watch_thread = None
            return
        self._watch_thread = threading.Thread(
            target=self._follow, args=(wanted, self._watch_stop), name="watcher", daemon=True
        )
        self._watch_thread.start()

    def _follow(self, roots: tuple[Path, ...], stop: threading.Event) -> None:
        import watchfiles

        try:
            for changes in watchfiles.watch(
                *roots,
                stop_event=stop,
                debounce=self.settings.debounce_ms,
                step=100,
                raise_interrupt=False,
            ):
                self._hint({Path(path) for _, path in changes})
        except Exception as exc:  # a vanished root, an inotify limit: the scans still run
            log.warning("watching sources stopped (%s); periodic scans continue", exc)

    def _hint(self, changed: set[Path]) -> None:
        """Queue a sync of the sources holding the changed paths."""
        try:
            with self.daemon.gate.use() as warm:
                ids = {warm.source_for(path) for path in changed}
        except DaemonLockedError:
            return
        found = frozenset(i for i in ids if i is not None)
        if found:
            self.queue(found)

    # -- the clock -------------------------------------------------------------------

    def _tick(self) -> None:
        interval = sdnotify.watchdog_interval()
        last_pet = 0.0
        while not self._stop.wait(1.0):
            now = time.monotonic()
            if interval and now - last_pet >= interval / 2 and self.daemon.answers():
                sdnotify.watchdog()  # only a daemon that serves requests is alive
                last_pet = now
            if not self.daemon.gate.is_open:
                continue
            idle = self.daemon.idle_s()
            lock_after = self.settings.idle_lock_minutes * 60
            if lock_after > 0 and idle >= lock_after and not self.busy.is_set():
                log.info("idle for %.0f s: locking", idle)
                self.daemon.lock()
                continue
            scan_every = self.settings.rescan_minutes * 60
            if scan_every > 0 and now - self._last_scan >= scan_every:
                self._last_scan = now
                self.queue(FULL_SCAN)
            quiet = self.settings.reflect_after_idle_s
            if quiet > 0 and idle >= quiet and self._jobs.empty() and not self.busy.is_set():
                self.queue(REFLECT)


def _name(job: str | frozenset[int]) -> str:
    return job if isinstance(job, str) else f"sync of sources {sorted(job)}"
