"""Thoughts: what reflection concluded, with how strongly each is held and how well it
is remembered now; pin, unpin, forget, and open one with its evidence and history."""

from __future__ import annotations

import time
from collections.abc import Sequence
from datetime import datetime
from typing import TYPE_CHECKING

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.screen import Screen
from textual.widgets import DataTable, Footer, Header

from assistant.config import RecallSettings
from assistant.display import clean
from assistant.retention import retention_at
from tui.calls import call, config_of
from tui.screens.confirm import forget_after_preview
from tui.screens.memory import MemoryScreen
from tui.widgets.tables import PlainTable, chosen_key

if TYPE_CHECKING:
    from assistant.derived.thoughts import Thought


def retention_now(thought: Thought, settings: RecallSettings) -> float:
    stored = datetime.fromisoformat(thought.created_at).timestamp()
    return retention_at(time.time(), stored, thought.last_access, thought.strength,
                        settings.retention_days, thought.pinned)  # fmt: skip


def rows(thoughts: Sequence[Thought], settings: RecallSettings) -> list[tuple[str, ...]]:
    """One row per thought, the strongest first: id, S, R, state, text."""
    ordered = sorted(thoughts, key=lambda t: (-t.strength, t.id))
    return [
        (f"t{t.id}", f"{t.strength:g}", f"{retention_now(t, settings):.2f}",
         "pinned" if t.pinned else ("" if t.status == "active" else t.status),
         clean(t.text, one_line=True)[:200])
        for t in ordered
    ]  # fmt: skip


class ThoughtsScreen(Screen[None]):
    BINDINGS = [
        Binding("p", "flag('pin')", "Pin"),
        Binding("u", "flag('unpin')", "Unpin"),
        Binding("f", "forget", "Forget"),
        Binding("a", "toggle_all", "Archived too"),
        Binding("r", "refresh", "Refresh"),
        Binding("escape", "app.switch_mode('recall')", "Back", show=False),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.include_all = False

    def compose(self) -> ComposeResult:
        yield Header()
        yield PlainTable(id="thoughts", cursor_type="row")
        yield Footer()

    def on_mount(self) -> None:
        self.query_one(DataTable).add_columns("id", "S", "R", "state", "thought")
        self.action_refresh()

    def on_screen_resume(self) -> None:
        self.action_refresh()

    @work(exclusive=True, group="load")
    async def action_refresh(self) -> None:
        found = await call(self, lambda s: s.backend.thoughts(self.include_all))
        if found is None:
            return
        table = self.query_one(DataTable)
        table.clear()
        settings = config_of(self).recall
        for row in rows(found, settings):
            table.add_row(*row, key=row[0])

    def action_toggle_all(self) -> None:
        self.include_all = not self.include_all
        self.notify("Showing archived and hidden thoughts too." if self.include_all
                    else "Showing active thoughts.")  # fmt: skip
        self.action_refresh()

    @on(DataTable.RowSelected, "#thoughts")
    def open_thought(self, event: DataTable.RowSelected) -> None:
        if event.row_key.value:
            self.app.push_screen(MemoryScreen(event.row_key.value))

    @work(exclusive=True, group="change")
    async def action_flag(self, op: str) -> None:
        ref = chosen_key(self.query_one(DataTable))
        if ref is None:
            return
        change = await call(self, lambda s: s.backend.flag("thought", int(ref[1:]), op))
        if change is not None:
            self.notify(f"{ref}: {op} done (change #{change}; undo it in Activity)")
            self.action_refresh()

    @work(exclusive=True, group="change")
    async def action_forget(self) -> None:
        ref = chosen_key(self.query_one(DataTable))
        if ref is None:
            return
        if await forget_after_preview(self, ref):
            self.notify(f"Forgotten, with every copy: {ref}")
            self.action_refresh()
