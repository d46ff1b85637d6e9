"""Grants and audit: who autofill may give what (revoke with `r`), and the audit log of
every release, refusal, grant change, forget and model call, newest first, with its
chain verified on demand (`v`)."""

from __future__ import annotations

from typing import TYPE_CHECKING

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

if TYPE_CHECKING:
    from policies.audit import Entry, Verdict

ENTRIES_SHOWN = 200


def verdict_text(verdict: Verdict) -> Text:
    if verdict.intact:
        said = f"Audit chain intact: {verdict.entries} entries."
        return Text(said + (f" Note: {verdict.note}." if verdict.note else ""), style="green")
    where = f"entry {verdict.first_bad}: " if verdict.first_bad else ""
    return Text(f"Audit chain NOT intact: {where}{verdict.problem}.", style="bold red")


def entry_row(entry: Entry) -> tuple[str, ...]:
    """#, when, action, requester, what (field, attribute, fact), detail: never a value."""
    what = " ".join(p for p in (entry.field, entry.attribute,
                                f"f{entry.fact_id}" if entry.fact_id else None) if p)  # fmt: skip
    detail = ", ".join(f"{k}={v}" for k, v in entry.detail.items())
    return (str(entry.seq), entry.time[:19], entry.action,
            clean(entry.requester or "", one_line=True)[:30], clean(what, one_line=True)[:40],
            clean(detail, one_line=True)[:80])  # fmt: skip


def _revoked(session: Session, requester: str) -> bool:
    session.backend.revoke_grant(requester)
    return True


class GovernanceScreen(Screen[None]):
    BINDINGS = [
        Binding("r", "revoke", "Revoke grant"),
        Binding("v", "verify", "Verify chain"),
        Binding("f5", "refresh", "Refresh", show=False),
        Binding("escape", "app.switch_mode('recall')", "Back", show=False),
    ]

    def compose(self) -> ComposeResult:
        yield Header()
        yield Static("Grants: who autofill may give what", classes="section")
        yield PlainTable(id="grants", cursor_type="row")
        yield Static("", id="verdict")
        yield PlainTable(id="audit", cursor_type="row")
        yield Footer()

    def on_mount(self) -> None:
        self.query_one("#grants", DataTable).add_columns("requester", "categories", "until")
        self.query_one("#audit", DataTable).add_columns(
            "#", "when", "action", "requester", "what", "detail"
        )
        self.action_refresh()

    def on_screen_resume(self) -> None:
        self.action_refresh()

    @work(exclusive=True, group="load")
    async def action_refresh(self) -> None:
        granted = await call(self, lambda s: s.backend.grants())
        if granted is not None:
            table = self.query_one("#grants", DataTable)
            table.clear()
            for grant in granted:
                until = (grant.expires or "")[:10] or "revoked by hand"
                state = "" if grant.active() else " (expired)"
                table.add_row(clean(grant.requester, one_line=True),
                              ", ".join(grant.categories), until + state,
                              key=grant.requester)  # fmt: skip
        entries = await call(self, lambda s: s.backend.audit_log())
        if entries is not None:
            table = self.query_one("#audit", DataTable)
            table.clear()
            for entry in reversed(entries[-ENTRIES_SHOWN:]):
                table.add_row(*entry_row(entry), key=str(entry.seq))

    @work(exclusive=True, group="change")
    async def action_revoke(self) -> None:
        requester = chosen_key(self.query_one("#grants", DataTable))
        if requester is None:
            self.notify("No grant to revoke.")
            return
        done = await call(self, lambda s: _revoked(s, requester))
        if done:
            self.notify(f"{requester} may be given nothing now.")
            self.action_refresh()

    @work(exclusive=True, group="verify")
    async def action_verify(self) -> None:
        verdict = await call(self, lambda s: s.backend.verify_audit())
        if verdict is not None:
            self.query_one("#verdict", Static).update(verdict_text(verdict))
