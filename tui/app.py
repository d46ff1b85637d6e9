"""The app: connects to the memory, unlocks it, and switches between the screens.

Screens are modes (recall, persona, thoughts, review, sources, activity, timeline,
grants and audit, autofill review), reachable from the command palette (ctrl+p) and
from function keys; a memory opens on top of the screen it was chosen in.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterable

from textual import work
from textual.app import App, SystemCommand
from textual.binding import Binding
from textual.notifications import SeverityLevel
from textual.screen import Screen

from assistant.config import Config
from assistant.errors import USER_ERRORS
from tui.calls import call
from tui.screens.activity import ActivityScreen
from tui.screens.autofill import AutofillScreen
from tui.screens.governance import GovernanceScreen
from tui.screens.home import HomeScreen
from tui.screens.persona import PersonaScreen
from tui.screens.review import ReviewScreen
from tui.screens.sources import SourcesScreen
from tui.screens.thoughts import ThoughtsScreen
from tui.screens.timeline import TimelineScreen
from tui.screens.unlock import UnlockScreen
from tui.session import Session

SCREENS = {
    "recall": ("Recall and ask", "Search your memory as you type; Enter asks"),
    "persona": ("Persona", "What the memory holds about you and each person"),
    "thoughts": ("Thoughts", "What reflection concluded, with strength and retention"),
    "review": ("Review", "What reflection learned since you last looked: accept, edit, reject"),
    "sources": ("Sources and sync", "What is kept in step; add, remove, sync now"),
    "activity": ("Activity", "The daemon's state, and recent changes with undo"),
    "governance": ("Grants and audit", "Who autofill may give what; the audit log, verified"),
    "autofill": ("Autofill review", "What a form would be given, field by field; approve, fill"),
}


def unlock_without_asking(session: Session) -> bool:
    session.unlock(None)
    return True


def lock(session: Session) -> bool:
    session.lock()
    return True


class SecondSelfApp(App[None]):
    TITLE = "Second Self"
    CSS_PATH = "app.tcss"
    MODES = {
        "recall": HomeScreen,
        "persona": PersonaScreen,
        "thoughts": ThoughtsScreen,
        "review": ReviewScreen,
        "sources": SourcesScreen,
        "activity": ActivityScreen,
        "timeline": TimelineScreen,
        "governance": GovernanceScreen,
        "autofill": AutofillScreen,
    }
    BINDINGS = [
        Binding("f1,question_mark", "show_help_panel", "Keys"),
        Binding("f2", "switch_mode('recall')", "Recall"),
        Binding("f3", "switch_mode('persona')", "Persona"),
        Binding("f4", "switch_mode('thoughts')", "Thoughts"),
        Binding("f5", "switch_mode('review')", "Review"),
        Binding("f6", "switch_mode('sources')", "Sources"),
        Binding("f7", "switch_mode('activity')", "Activity"),
        Binding("f8", "switch_mode('timeline')", "Timeline"),
        Binding("f9", "switch_mode('governance')", "Grants"),
        Binding("f10", "switch_mode('autofill')", "Autofill"),
        Binding("ctrl+l", "lock", "Lock"),
    ]

    def __init__(self, connect: Callable[[], Session], config: Config | None = None) -> None:
        super().__init__()
        self._connect = connect
        self.config = config or Config()  # the settings screens show by (retention days)
        self.session: Session | None = None
        self.ready = False  # connected and unlocked: the screens' keys work from then on

    def notify(
        self, message: str, *, title: str = "", severity: SeverityLevel = "information",
        timeout: float | None = None, markup: bool = True,
    ) -> None:  # fmt: skip
        """Every notification as plain text: they quote file names, errors and values,
        and a "[/x]" in one must not be read as markup (it would fail to show)."""
        super().notify(message, title=title, severity=severity, timeout=timeout, markup=False)

    def on_mount(self) -> None:
        self.sub_title = "connecting…"
        self.start()

    @work(exclusive=True, group="connect")
    async def start(self) -> None:
        try:
            session = await asyncio.to_thread(self._connect)
            locked = await asyncio.to_thread(session.is_locked)
        except USER_ERRORS as exc:
            self.exit(return_code=1, message=f"Error: {exc}")
            return
        self.session = session
        self.sub_title = ""
        if locked and not await self._unlock(session):
            return
        self.ready = True
        await self.switch_mode("recall")

    async def _unlock(self, session: Session) -> bool:
        """Unlock without asking when the keyring or the environment can, else on the
        unlock screen; False when the user quit instead."""
        if not session.needs_passphrase():
            return await call(self, unlock_without_asking) is True
        unlocked = await self.push_screen_wait(UnlockScreen())
        return bool(unlocked)

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """Until connected and unlocked, only the keys that quit and help work."""
        if action in ("switch_mode", "lock"):
            return self.ready
        return True

    def show_unlock(self) -> None:
        """A call found the vault locked (ctrl+l, the daemon's idle lock): unlock again,
        unless an unlock is under way already."""
        unlocking = any(w.is_running and w.group in ("connect", "unlock") for w in self.workers)
        if self.ready and not unlocking and not isinstance(self.screen, UnlockScreen):
            self.relock()

    @work(exclusive=True, group="unlock")
    async def relock(self) -> None:
        if self.session is not None and await self._unlock(self.session):
            self.notify("Unlocked.")

    @work(exclusive=True, group="unlock")
    async def action_lock(self) -> None:
        if self.session is None:
            return
        if await call(self, lock) is True:
            self.notify("Locked: the keys are dropped and the index sealed.")
            if await self._unlock(self.session):
                self.notify("Unlocked.")

    def get_system_commands(self, screen: Screen[object]) -> Iterable[SystemCommand]:
        yield from super().get_system_commands(screen)
        if not self.ready:
            return
        for mode, (title, help_text) in SCREENS.items():
            yield SystemCommand(title, help_text, lambda mode=mode: self.switch_mode(mode))
        yield SystemCommand("Lock now", "Drop the keys; unlock to go on", self.action_lock)

    async def action_quit(self) -> None:
        self.exit(return_code=0)  # whoever ran the app closes its session
