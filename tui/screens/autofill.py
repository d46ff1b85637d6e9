"""Autofill review: what a form would be given, field by field, before anything is.

A plan shows each field with the value it would take, the fact that value comes from,
the fact's confidence, the rule that took the field to ask for it and the release
rules' decision. You approve field by field (space or Enter): what the grant allows
starts approved, the sensitive categories start withheld, and approving one of those
is your confirmation for this use. The fill (ctrl+s) gives the approved fields only;
every field not given is audited as a refusal, as `me autofill` does.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal
from textual.screen import Screen
from textual.widgets import DataTable, Footer, Header, Input, Static

from assistant.display import clean
from tui.calls import call
from tui.widgets.tables import PlainTable, chosen_key

if TYPE_CHECKING:
    from assistant.autofill.fill import AutofillResult, FilledField

# The decision before the rule: on a narrow terminal it is the one to see unscrolled.
COLUMNS = ("approve", "field", "asks for", "value", "fact", "confidence", "decision", "rule")
START = "Give a form and who it is for; Enter shows what each field would be given."


def approvable(field: FilledField) -> bool:
    """Whether approving the field can give it: a value is known, and the rules release
    it on the grant or once you confirm it."""
    return field.proposed is not None and (field.released or field.needs_confirmation)


def mark(field: FilledField, approved: bool) -> Text:
    if not approvable(field):
        return Text("")
    return Text("[x]" if approved else "[ ]", style="bold" if approved else "")


def field_row(field: FilledField, approved: bool) -> list[Text]:
    """One field's cells, as Text: a form's labels and a memory's values may hold
    brackets, which the table would otherwise read as markup."""
    shown = (
        clean(field.label or field.field, one_line=True)[:30],
        clean(field.attribute or "?", one_line=True),
        clean(field.proposed, one_line=True)[:40] if field.proposed is not None else "—",
        field.evidence[0] if field.evidence else "",
        f"{field.confidence:.2f}" if field.confidence is not None else "",
        clean(field.reason, one_line=True)[:60],
        clean(field.rule, one_line=True)[:40],
    )
    return [mark(field, approved), *(Text(part) for part in shown)]


def typed_path(text: str) -> Path | None:
    """A path typed in the app, made absolute here: the daemon that reads it runs in
    another folder."""
    text = text.strip()
    return Path(os.path.expanduser(text)).resolve() if text else None


class AutofillScreen(Screen[None]):
    DEFAULT_CSS = """
    #autofill-bar { height: auto; }
    #autofill-form { width: 2fr; }
    #autofill-for, #autofill-output { width: 1fr; }
    #autofill-summary { height: auto; margin: 0 1; }
    #autofill-fields { height: 1fr; }
    """
    BINDINGS = [
        Binding("space", "approve", "Approve"),
        Binding("ctrl+s", "fill", "Fill"),
        Binding("escape", "app.switch_mode('recall')", "Back", show=False),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.plan: AutofillResult | None = None
        self.planned: tuple[Path, str] | None = None  # the form and requester planned for
        self.approved: set[str] = set()  # field names: the service approves by name

    def compose(self) -> ComposeResult:
        yield Header()
        with Horizontal(id="autofill-bar"):
            yield Input(placeholder="Form: an .html, .pdf or .json file", id="autofill-form")
            yield Input(placeholder="For whom: shop.example", id="autofill-for")
            yield Input(placeholder="Write the filled copy to (optional)", id="autofill-output")
        yield Static(START, id="autofill-summary")
        yield PlainTable(id="autofill-fields", cursor_type="row")
        yield Footer()

    def on_mount(self) -> None:
        table = self.query_one(DataTable)
        for column in COLUMNS:
            table.add_column(column, key=column)
        self.query_one("#autofill-form", Input).focus()

    def asked(self) -> tuple[Path, str] | None:
        form = typed_path(self.query_one("#autofill-form", Input).value)
        requester = self.query_one("#autofill-for", Input).value.strip()
        return (form, requester) if form is not None and requester else None

    @on(Input.Submitted, "#autofill-form, #autofill-for")
    def submitted(self) -> None:
        self.make_plan()

    @on(Input.Submitted, "#autofill-output")
    def output_given(self) -> None:
        # Not a new plan: that would undo the approvals made so far.
        self.query_one(DataTable).focus()

    @work(exclusive=True, group="plan")
    async def make_plan(self) -> None:
        from assistant.service.requests import AutofillRequest

        asked = self.asked()
        if asked is None:
            self.notify("Give the form's path and who it is for.")
            return
        form, requester = asked
        summary = self.query_one("#autofill-summary", Static)
        summary.update("Planning…")
        request = AutofillRequest(form, requester, interactive=True, plan_only=True)
        plan = await call(self, lambda s: s.backend.autofill(request))
        table = self.query_one(DataTable)
        table.clear()
        self.plan, self.planned = plan, (asked if plan is not None else None)
        if plan is None:  # `call` said why
            summary.update(Text(f"No plan for {clean(form.name, one_line=True)}.", style="bold"))
            return
        # What the grant allows starts approved; sensitive fields wait for your word.
        self.approved = {f.field for f in plan.fields if approvable(f) and f.released}
        for index, field in enumerate(plan.fields):
            table.add_row(*field_row(field, field.field in self.approved), key=str(index))
        summary.update(self.plan_summary(plan))
        table.focus()

    def plan_summary(self, plan: AutofillResult) -> Text:
        who = clean(plan.requester, one_line=True)
        if not plan.granted:
            return Text(f"No grant for {who}: this is a preview. `me grants add {who} "
                        "--allow …` allows categories.", style="bold")  # fmt: skip
        open_ = [f for f in plan.fields if approvable(f)]
        chosen = sum(f.field in self.approved for f in open_)
        return Text(f"{chosen} of {len(open_)} fields approved for {who}. Space or Enter "
                    "approves or withholds the highlighted field; ctrl+s fills.")  # fmt: skip

    def action_approve(self) -> None:
        table = self.query_one(DataTable)
        key = chosen_key(table)
        if table.has_focus and key is not None:
            self.toggle(int(key))

    @on(DataTable.RowSelected, "#autofill-fields")
    def selected(self, event: DataTable.RowSelected) -> None:
        if event.row_key.value is not None:
            self.toggle(int(event.row_key.value))

    def toggle(self, index: int) -> None:
        if self.plan is None:
            return
        field = self.plan.fields[index]
        name = clean(field.label or field.field, one_line=True)
        if not approvable(field):
            why = "nothing is known for it" if field.proposed is None else field.reason
            self.notify(f"{name} cannot be given: {clean(why, one_line=True)}.")
            return
        self.approved ^= {field.field}
        table = self.query_one(DataTable)
        for i, other in enumerate(self.plan.fields):  # a name the form repeats: all of it
            if other.field == field.field:
                table.update_cell(str(i), "approve", mark(other, other.field in self.approved))
        self.query_one("#autofill-summary", Static).update(self.plan_summary(self.plan))

    @work(exclusive=True, group="fill")
    async def action_fill(self) -> None:
        from assistant.service.requests import AutofillRequest

        plan, planned = self.plan, self.planned
        if plan is None or planned is None:
            self.notify("Nothing planned yet: give a form and who it is for, then Enter.")
            return
        if self.asked() != planned:  # what you approved was planned for another form
            self.notify("The form or the requester changed: Enter plans it again.",
                        severity="warning")  # fmt: skip
            return
        form, requester = planned
        approved = tuple(f.field for f in plan.fields if f.field in self.approved)
        # Approving a sensitive field here, at the terminal, is confirming this use.
        confirmed = tuple(f.field for f in plan.fields
                          if f.field in self.approved and f.needs_confirmation)  # fmt: skip
        output = typed_path(self.query_one("#autofill-output", Input).value)
        request = AutofillRequest(form, requester, output, confirmed, interactive=True,
                                  approved=approved)  # fmt: skip
        result = await call(self, lambda s: s.backend.autofill(request))
        if result is None:
            return
        table = self.query_one(DataTable)
        reasons = {f.field: f.reason for f in result.fields}
        for i, field in enumerate(plan.fields):
            said = reasons.get(field.field, "not in the form any more")
            table.update_cell(str(i), "decision", Text(clean(said, one_line=True)[:60]))
        given = sum(f.released for f in result.fields)
        said = f"{given} of {len(result.fields)} fields given to {clean(requester, one_line=True)}"
        said += (f"; the filled form is in {clean(result.output, one_line=True)}."
                 if result.output else "; no filled copy written (no path given).")  # fmt: skip
        self.query_one("#autofill-summary", Static).update(
            Text(said + " Every decision is in the audit log (f9).")
        )
        self.notify(said)
