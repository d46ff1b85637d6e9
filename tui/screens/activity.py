"""Activity: where the memory is served and its state, and what changed lately, with undo."""

from __future__ import annotations

from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.screen import Screen
from textual.widgets import DataTable, Footer, Header, Static

from assistant.display import clean
from tui.calls import call
from tui.session import Session
from tui.widgets.tables import PlainTable, chosen_key

CHANGES_SHOWN = 100


def state_text(session: Session) -> Text:
    """Served by whom, locked or not, and the daemon's counters when there is one."""
    out = Text.assemble(("Served by ", "bold"), session.describe(), "\n")
    daemon = session.daemon_status()
    if daemon is None:
        out.append("No daemon: sources sync and reflection run only when asked.\n")
        return out
    rows = (
        ("locked", "yes" if daemon["locked"] else "no"),
        ("pending reflection", daemon.get("pending_reflection")),
        ("last sync", daemon.get("last_sync") or "not yet"),
        ("working on", daemon.get("job") or "nothing"),
        ("uptime", f"{daemon['uptime_s']:.0f} s"),
        ("memory in use", f"{daemon['rss_mb']:.0f} MB"),
    )
    for name, value in rows:
        out.append(f"{name}: ", style="bold")
        out.append(f"{value}\n")
    return out


class ActivityScreen(Screen[None]):
    BINDINGS = [
        Binding("u", "undo", "Undo change"),
        Binding("r", "refresh", "Refresh"),
        Binding("escape", "app.switch_mode('recall')", "Back", show=False),
    ]

    def compose(self) -> ComposeResult:
        yield Header()
        yield Static("", id="state")
        yield PlainTable(id="changes", cursor_type="row")
        yield Footer()

    def on_mount(self) -> None:
        self.query_one(DataTable).add_columns("#", "when", "what", "why", "undone by")
        self.action_refresh()

    def on_screen_resume(self) -> None:
        self.action_refresh()

    @work(exclusive=True, group="load")
    async def action_refresh(self) -> None:
        state = await call(self, state_text)
        if state is not None:
            self.query_one("#state", Static).update(state)
        changes = await call(self, lambda s: s.backend.recent_changes(CHANGES_SHOWN))
        if changes is None:
            return
        table = self.query_one(DataTable)
        table.clear()
        for change in changes:
            table.add_row(
                str(change.id), change.at[:16], change.op,
                clean(change.reason, one_line=True)[:80],
                str(change.undone_by or ""), key=str(change.id),
            )  # fmt: skip

    @work(exclusive=True, group="change")
    async def action_undo(self) -> None:
        row = chosen_key(self.query_one(DataTable))
        if row is None:
            return
        undone = await call(self, lambda s: s.backend.undo(int(row)))
        if undone is not None:
            self.notify(f"Change #{row} undone (as change #{undone}).")
            self.action_refresh()
