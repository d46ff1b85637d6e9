"""Calling the core from the app: always off the UI thread, never a traceback on screen.

`call` runs one backend call on a worker thread and awaits it, so a screen's async
worker (`@work`) stays cancellable: an exclusive worker that is replaced (a newer
search) simply never sees the stale result. What goes wrong becomes a notification
that says what to do; a locked vault sends the user to the unlock screen instead.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from typing import TYPE_CHECKING, TypeVar

from assistant.config import Config
from assistant.errors import USER_ERRORS, DaemonLockedError, VaultLockedError
from store.errors import Cancelled

if TYPE_CHECKING:
    from textual.dom import DOMNode

    from tui.session import Session

log = logging.getLogger(__name__)
T = TypeVar("T")


def session_of(node: DOMNode) -> Session:
    """The app's session (set once the app has connected)."""
    found: Session | None = getattr(node.app, "session", None)
    if found is None:
        raise DaemonLockedError("not connected to the memory yet")
    return found


def config_of(node: DOMNode) -> Config:
    """The settings the app was started with (defaults when none were given)."""
    found = getattr(node.app, "config", None)
    return found if isinstance(found, Config) else Config()


async def call(node: DOMNode, action: Callable[[Session], T], quiet: bool = False) -> T | None:
    """`action(session)` on a thread (`lambda s: s.backend.recall(request)`); its result,
    or None after telling the user what went wrong (`quiet`: a refusal is not worth
    telling, as "no history" for a memory that has none)."""
    try:
        session = session_of(node)
        return await asyncio.to_thread(action, session)
    except (DaemonLockedError, VaultLockedError):
        locked = getattr(node.app, "show_unlock", None)
        if locked is not None:
            locked()
    except Cancelled as exc:
        node.app.notify(str(exc), title="Stopped", severity="warning")
    except USER_ERRORS as exc:
        if quiet:
            return None
        node.app.notify(str(exc), title="Could not do that", severity="error", timeout=8)
    except Exception as exc:  # a bug: told plainly, logged in full, the app goes on
        log.exception("a call from the app failed")
        node.app.notify(
            f"{type(exc).__name__}: {exc}. Nothing was lost; try again, or run the same "
            "action with `me` to see more.",
            title="Something went wrong",
            severity="error",
            timeout=10,
        )
    return None
