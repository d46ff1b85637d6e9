"""Persona: what the memory holds about you and each person, conflicts first; a fact
opens with its history (the supersession chain); set, pin, unpin and hide."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.screen import Screen
from textual.widgets import DataTable, Footer, Header, Input

from assistant.display import clean
from tui.calls import call
from tui.screens.memory import MemoryScreen
from tui.widgets.tables import PlainTable, chosen_key

if TYPE_CHECKING:
    from assistant.derived.persona import Fact

SELF = "self"


def ordered(facts: Sequence[Fact]) -> list[Fact]:
    """Conflicts first (for the user to settle), then you, then each person by name."""
    return sorted(
        facts, key=lambda f: (f.status != "conflict", f.person != SELF, f.person, f.attribute)
    )


def parse_setting(text: str) -> tuple[str, str, str]:
    """`[person.]attribute = value`; the person is you when not named."""
    left, sep, value = text.partition("=")
    if not sep or not value.strip() or not left.strip():
        raise ValueError("write it as attribute = value, or person.attribute = value")
    person, dot, attribute = left.strip().rpartition(".")
    return (person.strip() if dot else SELF), attribute.strip(), value.strip()


class PersonaScreen(Screen[None]):
    BINDINGS = [
        Binding("s", "set", "Set"),
        Binding("p", "flag('pin')", "Pin"),
        Binding("u", "flag('unpin')", "Unpin"),
        Binding("h", "flag('hide')", "Hide"),
        Binding("r", "refresh", "Refresh"),
        Binding("escape", "back", "Back", show=False),
    ]

    def compose(self) -> ComposeResult:
        yield Header()
        yield PlainTable(id="facts", cursor_type="row")
        yield Input(placeholder="attribute = value, or person.attribute = value", id="set-fact")
        yield Footer()

    def on_mount(self) -> None:
        self.query_one(DataTable).add_columns(
            "who", "attribute", "value", "since", "confidence", "evidence", "state"
        )
        self.query_one("#set-fact").display = False

    def on_screen_resume(self) -> None:
        # Shown first, or again (another screen may have changed a fact: an undo). Only
        # here: a second load started from on_mount raced this one for the table.
        self.action_refresh()

    @work(exclusive=True, group="load")
    async def action_refresh(self) -> None:
        facts = await call(self, lambda s: s.backend.facts())
        if facts is None:
            return
        table = self.query_one(DataTable)
        table.clear()
        for fact in ordered(facts):
            state = "conflict" if fact.status == "conflict" else ("pinned" if fact.pinned else "")
            table.add_row(
                "you" if fact.person == SELF else clean(fact.person, one_line=True),
                fact.attribute, clean(fact.value, one_line=True),
                (fact.valid_from or "")[:10], f"{fact.confidence:.2f}",
                str(len(fact.evidence)), state, key=f"f{fact.id}",
            )  # fmt: skip

    @on(DataTable.RowSelected, "#facts")
    def open_fact(self, event: DataTable.RowSelected) -> None:
        if event.row_key.value:
            self.app.push_screen(MemoryScreen(event.row_key.value))

    @work(exclusive=True, group="change")
    async def action_flag(self, op: str) -> None:
        ref = chosen_key(self.query_one(DataTable))
        if ref is None:
            return
        change = await call(self, lambda s: s.backend.flag("fact", int(ref[1:]), op))
        if change is not None:
            self.notify(f"{ref}: {op} done (change #{change}; undo it in Activity)")
            self.action_refresh()

    def action_set(self) -> None:
        field = self.query_one("#set-fact", Input)
        field.display = True
        field.focus()

    @on(Input.Submitted, "#set-fact")
    def set_now(self, event: Input.Submitted) -> None:
        try:
            person, attribute, value = parse_setting(event.value)
        except ValueError as exc:
            self.notify(str(exc), title="Set a fact", severity="warning")
            return
        self.set_fact(person, attribute, value)

    @work(exclusive=True, group="change")
    async def set_fact(self, person: str, attribute: str, value: str) -> None:
        fact = await call(self, lambda s: s.backend.set_fact(person, attribute, value))
        if fact is None:
            return
        field = self.query_one("#set-fact", Input)
        field.value = ""
        field.display = False
        self.notify(f"Set: {fact.attribute} = {clean(fact.value, one_line=True)}")
        self.action_refresh()

    def action_back(self) -> None:
        field = self.query_one("#set-fact", Input)
        if field.display:
            field.display = False
        else:
            self.app.switch_mode("recall")
