"""The door to the open memory: requests pass while it is open, lock waits for them.

Many threads use the one open memory at once (client requests, sync, reflection).
Locking must not pull the memory from under a request, so `close` shuts the door to
new users, asks running background work to stop at its next safe point, and waits
until the last user has left before the memory is sealed.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Generic, TypeVar

from assistant.errors import DaemonLockedError

T = TypeVar("T")

LOCKED_MESSAGE = "locked: run `me unlock` (the daemon holds no keys until then)"


class Gate(Generic[T]):
    def __init__(self) -> None:
        self._cond = threading.Condition()
        self._held: T | None = None
        self._users = 0
        self.stop_work = threading.Event()  # set while closing: background work yields

    @property
    def is_open(self) -> bool:
        with self._cond:
            return self._held is not None

    def open(self, held: T) -> None:
        with self._cond:
            self._held = held
            self.stop_work.clear()

    @contextmanager
    def use(self) -> Iterator[T]:
        with self._cond:
            if self._held is None:
                raise DaemonLockedError(LOCKED_MESSAGE)
            held = self._held
            self._users += 1
        try:
            yield held
        finally:
            with self._cond:
                self._users -= 1
                self._cond.notify_all()

    def close(self) -> T | None:
        """Shut the door, wait for the users inside, and hand back what was held."""
        with self._cond:
            held, self._held = self._held, None
            self.stop_work.set()
            while self._users:
                self._cond.wait()
            return held
