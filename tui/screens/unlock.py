"""Unlock: the passphrase, masked; a wrong one is said inline and can be typed again."""

from __future__ import annotations

import asyncio

from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.containers import Center, Vertical
from textual.screen import Screen
from textual.widgets import Footer, Input, Label, Static

from assistant.errors import USER_ERRORS
from tui.calls import session_of


class UnlockScreen(Screen[bool]):
    """Dismissed with True once the vault is unlocked."""

    BINDINGS = [("escape", "app.quit", "Quit")]

    def compose(self) -> ComposeResult:
        with Center(), Vertical(id="unlock-box"):
            yield Label("Your memory is locked", id="unlock-title")
            yield Input(placeholder="Passphrase", password=True, id="passphrase")
            yield Static("", id="unlock-error")
        yield Footer()

    def on_mount(self) -> None:
        self.query_one("#passphrase", Input).focus()

    def on_input_submitted(self, event: Input.Submitted) -> None:
        if event.value:
            self.try_unlock(event.value)

    @work(exclusive=True)
    async def try_unlock(self, passphrase: str) -> None:
        error = self.query_one("#unlock-error", Static)
        error.update("Unlocking…")
        session = session_of(self)
        try:
            await asyncio.to_thread(session.unlock, passphrase)
        except USER_ERRORS as exc:
            error.update(Text.assemble((str(exc), "bold"), "\nTry again, or Esc to quit."))
            field = self.query_one("#passphrase", Input)
            field.value = ""
            field.focus()
            return
        self.dismiss(True)
