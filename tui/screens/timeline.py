"""Timeline: how a topic, or life with a person, unfolded, one row per memory in time
order. Lanes, one per person or source, are drawn like a branch graph: a dot for the
row's memory in its lane, a line while a lane goes on, and a bend from the lane of the
memory a link reached it from; the link column says what kind of link it is. Jump to a
date; Enter opens a memory with its evidence and history."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import PurePath
from typing import TYPE_CHECKING

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal
from textual.screen import Screen
from textual.widgets import DataTable, Footer, Header, Input

from assistant.display import clean
from tui.calls import call
from tui.screens.memory import MemoryScreen
from tui.widgets.tables import PlainTable

if TYPE_CHECKING:
    from assistant.timeline import TimelineEntry

SHOWN = 160  # characters of an entry's text in its row
MAX_LANES = 6  # lanes drawn; the rest share the last one


def lane(entry: TimelineEntry) -> str:
    """Whose or which source a memory is: the chat or mail thread, the note's file, or
    the persona for a fact."""
    if entry.kind == "fact":
        return "persona"
    ref = entry.source_ref or ""
    scheme, _, rest = ref.partition(":")
    if scheme in ("whatsapp", "chat", "telegram", "slack") and rest:
        return rest.split("#")[0]
    if scheme == "mail":
        return "mail"
    return PurePath(ref.split("#")[0]).name or entry.kind


def lane_graph(entries: Sequence[TimelineEntry], most: int = MAX_LANES) -> list[str]:
    """Each row's lanes, two characters a lane, in the order lanes first appear: "●" the
    row's memory; "│" a lane with memories above and below; a link from a memory in
    another lane leaves that lane ("╰─●" from the left, "●─╯" from the right; "├" and
    "┤" where that lane goes on)."""
    names = list(dict.fromkeys(lane(e) for e in entries))
    column = {name: min(i, most - 1) for i, name in enumerate(names)}
    at = [column[lane(e)] for e in entries]
    width = min(len(names), most)
    first = {c: at.index(c) for c in set(at)}
    last = {c: len(at) - 1 - at[::-1].index(c) for c in set(at)}
    row_of = {e.id: i for i, e in enumerate(entries)}
    out = []
    for i, entry in enumerate(entries):
        cells = ["│" if first[c] < i < last[c] else " " for c in range(width)] if width else []
        fill = [" "] * width
        origin = row_of.get(entry.linked_from or "")
        if origin is not None and at[origin] != at[i]:
            low, high = sorted((at[origin], at[i]))
            goes_on = last[at[origin]] > i  # the lane the link leaves has more below
            left = at[origin] < at[i]
            cells[at[origin]] = ("├" if left else "┤") if goes_on else ("╰" if left else "╯")
            for c in range(low, high):
                fill[c] = "─"
            for c in range(low + 1, high):
                cells[c] = "┼" if cells[c] == "│" else "─"
        cells[at[i]] = "●"
        out.append("".join(cell + gap for cell, gap in zip(cells, fill, strict=True)).rstrip())
    return out


def rows(entries: Sequence[TimelineEntry]) -> list[tuple[str, ...]]:
    """One row per entry: date, lane graph, lane, id, link to the row before, text."""
    out: list[tuple[str, ...]] = []
    for entry, graph in zip(entries, lane_graph(entries), strict=True):
        text = clean(entry.text, one_line=True)
        text = text if len(text) <= SHOWN else text[: SHOWN - 1].rstrip() + "…"
        out.append((entry.date[:10], graph, clean(lane(entry), one_line=True)[:24], entry.id,
                    clean(entry.label or "", one_line=True)[:40], text))  # fmt: skip
    return out


class TimelineScreen(Screen[None]):
    BINDINGS = [
        Binding("ctrl+g", "focus_jump", "Jump to date"),
        Binding("escape", "app.switch_mode('recall')", "Back", show=False),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.entries: list[TimelineEntry] = []

    def compose(self) -> ComposeResult:
        yield Header()
        with Horizontal(id="timeline-bar"):
            yield Input(placeholder="Topic: a trip, a move, a job…", id="timeline-topic")
            yield Input(placeholder="or a person", id="timeline-person")
            yield Input(placeholder="jump to YYYY-MM-DD", id="timeline-jump")
        yield PlainTable(id="timeline", cursor_type="row")
        yield Footer()

    def on_mount(self) -> None:
        self.query_one(DataTable).add_columns("date", "lanes", "lane", "id", "link", "memory")
        self.query_one("#timeline-topic", Input).focus()

    @on(Input.Submitted, "#timeline-topic, #timeline-person")
    def build(self) -> None:
        self.load()

    @work(exclusive=True, group="load")
    async def load(self) -> None:
        from assistant.service.requests import TimelineRequest

        topic = self.query_one("#timeline-topic", Input).value.strip() or None
        person = self.query_one("#timeline-person", Input).value.strip() or None
        if topic is None and person is None:
            self.notify("Type a topic or a person first.")
            return
        request = TimelineRequest(topic, person)
        found = await call(self, lambda s: s.backend.timeline(request))
        if found is None:
            return
        self.entries = found
        table = self.query_one(DataTable)
        table.clear()
        for row in rows(found):
            table.add_row(*row, key=row[3])
        if not found:
            self.notify("Nothing found for this timeline.")
        else:
            table.focus()

    def action_focus_jump(self) -> None:
        self.query_one("#timeline-jump", Input).focus()

    @on(Input.Submitted, "#timeline-jump")
    def jump(self, event: Input.Submitted) -> None:
        """The cursor to the first memory on or after the day typed."""
        day = event.value.strip()
        table = self.query_one(DataTable)
        index = next((i for i, e in enumerate(self.entries) if e.date[:10] >= day), None)
        if index is None:
            self.notify(f"Nothing on or after {day}.")
            return
        table.move_cursor(row=index)
        table.focus()

    @on(DataTable.RowSelected, "#timeline")
    def open_memory(self, event: DataTable.RowSelected) -> None:
        if event.row_key.value:
            self.app.push_screen(MemoryScreen(event.row_key.value))
