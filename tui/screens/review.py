"""Review: what reflection learned since you last looked (new facts, new thoughts) and
what was quarantined, to accept, edit or reject one by one.

Accepting a fact or thought keeps it; accepting a quarantined memory releases it (it may
then be cited and learned from; undone from Activity). Rejecting forgets the item with
every copy (after the usual preview); a rejected fact is never learned again. Editing a
fact sets your own value, which wins over anything extracted. Once every listed item is
accepted or rejected (or `m` accepts the rest), the review is recorded as done and the
list starts again from there.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.screen import Screen
from textual.widgets import DataTable, Footer, Header, Input, Static

from assistant.display import clean
from tui.calls import call
from tui.screens.confirm import forget_after_preview
from tui.screens.memory import MemoryScreen
from tui.widgets.tables import PlainTable, chosen_key

if TYPE_CHECKING:
    from assistant.service.review import ReviewItems
    from tui.session import Session


def review_rows(items: ReviewItems) -> list[tuple[str, str, str, str]]:
    """The review's rows, made safe for the screen (one line, no escape codes)."""
    return [(ref, kind, clean(what, one_line=True)[:160], clean(why, one_line=True))
            for ref, kind, what, why in items.rows()]  # fmt: skip


class ReviewScreen(Screen[None]):
    BINDINGS = [
        Binding("a", "accept", "Accept"),
        Binding("e", "edit", "Edit fact"),
        Binding("x", "reject", "Reject"),
        Binding("m", "accept_all", "Accept all"),
        Binding("r", "refresh", "Refresh"),
        Binding("escape", "back", "Back", show=False),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.items: ReviewItems | None = None
        self._editing: str | None = None  # the fact ref being edited

    def compose(self) -> ComposeResult:
        yield Header()
        yield Static("", id="review-summary")
        yield PlainTable(id="review", cursor_type="row")
        yield Input(placeholder="the new value", id="edit-value")
        yield Footer()

    def on_mount(self) -> None:
        self.query_one(DataTable).add_columns("id", "kind", "what", "why")
        self.query_one("#edit-value").display = False
        self.action_refresh()

    def on_screen_resume(self) -> None:
        self.action_refresh()

    @work(exclusive=True, group="load")
    async def action_refresh(self) -> None:
        items = await call(self, lambda s: s.backend.review())
        if items is None:
            return
        self.items = items
        table = self.query_one(DataTable)
        table.clear()
        for row in review_rows(items):
            table.add_row(*row, key=row[0])
        since = f"since {items.since[:16]}" if items.since else "since the start"
        self.query_one("#review-summary", Static).update(
            f"{table.row_count} to review, {since}" if table.row_count else f"Nothing new {since}."
        )

    def _settled(self, ref: str) -> None:
        """`ref` is accepted or rejected; when none is left, the review is done."""
        table = self.query_one(DataTable)
        table.remove_row(ref)
        if not table.row_count:
            self.action_accept_all()

    @on(DataTable.RowSelected, "#review")
    def open_item(self, event: DataTable.RowSelected) -> None:
        if event.row_key.value:
            self.app.push_screen(MemoryScreen(event.row_key.value))

    @work(exclusive=True, group="change")
    async def action_accept(self) -> None:
        ref = chosen_key(self.query_one(DataTable))
        if ref is None:
            return
        if ref.startswith("e"):  # a quarantined memory: accepting it is releasing it
            change = await call(self, lambda s: s.backend.release(ref))
            if change is None:
                return
            self.notify(f"Released {ref}: it may now be cited and learned from "
                        f"(change #{change}; undo it in Activity).")  # fmt: skip
        self._settled(ref)

    @work(exclusive=True, group="change")
    async def action_accept_all(self) -> None:
        if self.items is None:
            return
        until = self.items.until

        def mark(session: Session) -> bool:
            session.backend.mark_reviewed(until)
            return True

        if await call(self, mark):
            self.notify("Reviewed: the next review starts from here.")
            self.action_refresh()

    def action_edit(self) -> None:
        ref = chosen_key(self.query_one(DataTable))
        if ref is None or not ref.startswith("f"):
            self.notify("Only a fact can be edited; reject a thought instead.", severity="warning")
            return
        self._editing = ref
        field = self.query_one("#edit-value", Input)
        field.display = True
        field.value = ""
        field.focus()

    @on(Input.Submitted, "#edit-value")
    def edit_now(self, event: Input.Submitted) -> None:
        if self._editing and event.value.strip() and self.items is not None:
            fact = next(f for f in self.items.facts if f"f{f.id}" == self._editing)
            self.set_value(self._editing, fact.person, fact.attribute, event.value.strip())

    @work(exclusive=True, group="change")
    async def set_value(self, ref: str, person: str, attribute: str, value: str) -> None:
        if await call(self, lambda s: s.backend.set_fact(person, attribute, value)) is None:
            return
        field = self.query_one("#edit-value", Input)
        field.display = False
        self._editing = None
        self.notify(f"Set {attribute} = {clean(value, one_line=True)}; yours wins from now on.")
        self._settled(ref)

    @work(exclusive=True, group="change")
    async def action_reject(self) -> None:
        ref = chosen_key(self.query_one(DataTable))
        if ref is None:
            return
        if await forget_after_preview(self, ref):
            self.notify(f"Rejected and forgotten: {ref}; it will not be learned again.")
            self._settled(ref)

    def action_back(self) -> None:
        field = self.query_one("#edit-value", Input)
        if field.display:
            field.display = False
            self._editing = None
        else:
            self.app.switch_mode("recall")
