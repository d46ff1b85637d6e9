"""One memory in full: its text, where it came from, how strongly it is remembered,
what it links to and what changed it; pin, unpin, hide, forget."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import Screen
from textual.widgets import Footer, Header, OptionList, Static
from textual.widgets.option_list import Option

from assistant.display import clean
from tui.calls import call
from tui.screens.confirm import forget_after_preview

if TYPE_CHECKING:
    from assistant.hits import Hit

# Shown first, in this order; the rest follow as the service lists them.
LEAD = ("date", "source", "title", "author", "sender", "conversation", "kind", "status")
HIDDEN = {"text", "evidence_memories", "retention_days"}


def describe(fields: dict[str, Any]) -> Text:
    """One `name: value` line per field that has a value (the text is shown apart)."""
    out = Text()
    names = [n for n in LEAD if n in fields] + [n for n in fields if n not in LEAD]
    for name in names:
        value = fields[name]
        if name in HIDDEN or value in (None, "", [], {}):
            continue
        out.append(f"{name.replace('_', ' ')}: ", style="bold")
        out.append(clean(str(value), one_line=True) + "\n")
    for memory in fields.get("evidence_memories") or []:
        out.append(f"\nrests on {memory['id']} ({str(memory['date'])[:10]}): ", style="bold")
        out.append(clean(str(memory["text"]), one_line=True)[:200])
    return out


def turns(heading: str, hits: Sequence[Hit]) -> Text:
    """The memories around this one, a line each: date, who, what (dimmed)."""
    if not hits:
        return Text()
    out = Text(f"{heading}:\n", style="bold dim")
    for hit in hits:
        who = f"{hit.sender}: " if hit.sender else ""
        line = clean(f"{hit.time[:16].replace('T', ' ')}  {who}{hit.text}", one_line=True)
        out.append(line[:200] + "\n", style="dim")
    return out


class MemoryScreen(Screen[None]):
    BINDINGS = [
        Binding("escape", "app.pop_screen", "Back"),
        Binding("p", "flag('pin')", "Pin"),
        Binding("u", "flag('unpin')", "Unpin"),
        Binding("h", "flag('hide')", "Hide"),
        Binding("f", "forget", "Forget"),
    ]

    def __init__(self, ref: str) -> None:
        super().__init__()
        self.ref = ref
        self.kind = ""  # known once loaded: 'episode', 'thought' or 'fact'

    def compose(self) -> ComposeResult:
        yield Header()
        with VerticalScroll(id="memory-body"):
            yield Static("", id="memory-before")
            yield Static(f"Loading {self.ref}…", id="memory-text")
            yield Static("", id="memory-after")
            yield Static("", id="memory-fields")
            yield Static("", id="memory-history")
        yield OptionList(id="memory-links")
        yield Footer()

    def on_mount(self) -> None:
        self.sub_title = self.ref
        self.load()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "flag":  # the core pins, unpins and hides thoughts and facts
            return self.kind in ("thought", "fact")
        return True

    @work(exclusive=True)
    async def load(self) -> None:
        found = await call(self, lambda s: s.backend.why(self.ref))
        if found is None:
            return
        self.kind = found.kind
        self.refresh_bindings()
        self.query_one("#memory-text", Static).update(
            Text(clean(str(found.fields.get("text", ""))), style="bold")
        )
        self.query_one("#memory-fields", Static).update(describe(found.fields))
        links = self.query_one("#memory-links", OptionList)
        links.clear_options()
        links.add_options(
            [
                Option(clean(f"{ln['direction']} {ln['label']}: {ln['other']}"), id=ln["other"])
                for ln in found.links
            ]
        )
        links.display = bool(found.links)
        if found.kind == "episode":
            around = await call(self, lambda s: s.backend.surroundings(self.ref), quiet=True)
            if around is not None:
                self.query_one("#memory-before", Static).update(turns("Before", around.before))
                self.query_one("#memory-after", Static).update(turns("After", around.after))
            return
        changes = await call(self, lambda s: s.backend.history(self.ref), quiet=True) or []
        shown = Text()
        for change in changes:
            undone = f" (undone by {change.undone_by})" if change.undone_by else ""
            shown.append(f"\n#{change.id} {change.at[:16]} {change.op}{undone}: ", style="bold")
            shown.append(clean(change.reason, one_line=True))
        self.query_one("#memory-history", Static).update(shown)

    @on(OptionList.OptionSelected, "#memory-links")
    def open_link(self, event: OptionList.OptionSelected) -> None:
        if event.option.id:
            self.app.push_screen(MemoryScreen(event.option.id))

    @work(exclusive=True, group="change")
    async def action_flag(self, op: str) -> None:
        kind, row_id = self.kind, int(self.ref[1:])
        change = await call(self, lambda s: s.backend.flag(kind, row_id, op))
        if change is not None:
            self.notify(f"{self.ref}: {op} done (change #{change}; undo it in Activity)")
            self.load()

    @work(exclusive=True, group="change")
    async def action_forget(self) -> None:
        if await forget_after_preview(self, self.ref):
            self.notify(f"Forgotten, with every copy: {self.ref}")
            self.app.pop_screen()
