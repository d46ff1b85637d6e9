"""The autofill review screen driven by Textual's pilot, on a real vault opened in the
test process: the plan's fields, approval per field, the fill and its audit; and the
`approved` part of an autofill request through the service, without the app."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from bs4 import BeautifulSoup, Tag
from textual.pilot import Pilot
from textual.widgets import DataTable, Input, Static

from assistant import config as config_mod
from assistant.autofill.fill import WITHHELD
from assistant.daemon import codec
from assistant.memory import Memory
from assistant.paths import Paths
from assistant.service.backend import Resident
from assistant.service.requests import AutofillRequest
from policies import audit
from tests.conftest import PASSPHRASE
from tests.test_autofill import CHECKOUT, FACTS
from tests.test_tui import home, run, until
from tui.app import SecondSelfApp
from tui.screens.autofill import COLUMNS, AutofillScreen
from tui.session import LocalSession

pytestmark = pytest.mark.slow

SHOP = "shop.example"
GRANTED = ("identity", "contact", "address", "health")
# What the grant releases without asking (the sensitive allergy waits for approval).
ALLOWED = {
    "first_name": "Marta", "last_name": "Sousa", "email": "marta.sousa@example.pt",
    "phone": "+351 936 710 225", "street": "Rua de Cedofeita 218, 4050-174 Porto",
    "zip": "4050-174", "city": "Porto",
}  # fmt: skip


@pytest.fixture
def session(vault: Paths) -> Iterator[LocalSession]:
    """A fresh vault, unlocked, that knows FACTS about you."""
    opened = LocalSession(vault, config_mod.load(vault.config_file))
    opened.unlock(PASSPHRASE)
    for attribute, value in FACTS:
        opened.backend.set_fact("self", attribute, value)
    yield opened
    opened.close()


@pytest.fixture
def checkout(tmp_path: Path) -> Path:
    form = tmp_path / "checkout.html"
    form.write_text(CHECKOUT, encoding="utf-8")
    return form


async def review(pilot: Pilot[None], form: Path, requester: str) -> AutofillScreen:
    """The autofill screen (f10), planning `form` for `requester`."""
    await home(pilot)
    await pilot.press("f10")
    await until(pilot, lambda: isinstance(pilot.app.screen, AutofillScreen))
    screen = pilot.app.screen
    assert isinstance(screen, AutofillScreen)
    screen.query_one("#autofill-form", Input).value = str(form)
    requester_input = screen.query_one("#autofill-for", Input)
    requester_input.value = requester
    requester_input.focus()
    await pilot.press("enter")
    return screen


async def planned(pilot: Pilot[None], screen: AutofillScreen) -> dict[str, dict[str, str]]:
    """The plan's rows by field name, once shown."""
    table = screen.query_one("#autofill-fields", DataTable)
    await until(pilot, lambda: screen.plan is not None and table.row_count > 0)
    return shown_rows(screen)


def shown_rows(screen: AutofillScreen) -> dict[str, dict[str, str]]:
    """Field name -> column -> what the cell shows."""
    assert screen.plan is not None
    table = screen.query_one("#autofill-fields", DataTable)
    return {field.field: {c: str(table.get_cell(str(i), c)) for c in COLUMNS}
            for i, field in enumerate(screen.plan.fields)}  # fmt: skip


def summary(screen: AutofillScreen) -> str:
    return str(screen.query_one("#autofill-summary", Static).render())


async def choose(pilot: Pilot[None], screen: AutofillScreen, name: str, key: str) -> None:
    """The cursor to field `name`, then `key` (space or enter) on it."""
    assert screen.plan is not None
    table = screen.query_one("#autofill-fields", DataTable)
    table.focus()
    table.move_cursor(row=[f.field for f in screen.plan.fields].index(name))
    before = shown_rows(screen)[name]["approve"]
    await pilot.press(key)
    await until(pilot, lambda: shown_rows(screen)[name]["approve"] != before)


async def fill(pilot: Pilot[None], screen: AutofillScreen, output: Path | None) -> None:
    screen.query_one("#autofill-output", Input).value = str(output) if output else ""
    screen.query_one("#autofill-fields", DataTable).focus()
    await pilot.press("ctrl+s")
    await until(pilot, lambda: "fields given" in summary(screen))


def filled_values(output: Path) -> dict[str, str]:
    """Each input of the filled HTML copy that holds a value."""
    soup = BeautifulSoup(output.read_text(encoding="utf-8"), "html.parser")
    found = {}
    for node in soup.find_all("input"):
        assert isinstance(node, Tag)
        if node.get("value") and node.get("type") != "hidden":
            found[str(node.get("name"))] = str(node.get("value"))
    return found


def refusals(session: LocalSession) -> dict[str, str]:
    """The audit log's refusals: field -> reason (the newest for each field)."""
    return {str(e.field): str(e.detail["reason"]) for e in session.backend.audit_log()
            if e.action == "refuse"}  # fmt: skip


def test_the_plan_lists_each_field_with_its_value_fact_rule_and_decision(
    session: LocalSession, checkout: Path
) -> None:
    session.backend.grant(SHOP, GRANTED)
    before = len(session.backend.audit_log())

    async def steps(pilot: Pilot[None]) -> None:
        screen = await review(pilot, checkout, SHOP)
        rows = await planned(pilot, screen)
        email = rows["email"]
        assert email["approve"] == "[x]" and email["field"] == "E-mail"
        assert email["asks for"] == "email"
        assert email["value"] == "marta.sousa@example.pt" and email["fact"].startswith("f")
        assert float(email["confidence"]) > 0 and "autocomplete" in email["rule"]
        assert email["decision"] == "granted: contact"
        assert rows["zip"]["value"] == "4050-174" and rows["zip"]["approve"] == "[x]"
        # Sensitive: proposed, but not approved until you say so.
        allergies = rows["allergies"]
        assert allergies["approve"] == "[ ]" and allergies["value"] == "penicillin"
        assert "confirmation" in allergies["decision"]
        # Nothing known, or hidden: nothing to approve.
        assert rows["card"]["approve"] == "" and rows["card"]["value"] == "—"
        trap = rows["email_confirm"]
        assert trap["approve"] == "" and "hidden" in trap["decision"]
        assert "7 of 8 fields approved" in summary(screen)

    run(SecondSelfApp(lambda: session), steps)
    assert len(session.backend.audit_log()) == before  # a plan records nothing


def test_a_field_withheld_is_not_given_and_is_audited_as_withheld(
    session: LocalSession, checkout: Path, tmp_path: Path
) -> None:
    session.backend.grant(SHOP, GRANTED)
    output = tmp_path / "filled.html"

    async def steps(pilot: Pilot[None]) -> None:
        screen = await review(pilot, checkout, SHOP)
        await planned(pilot, screen)
        await choose(pilot, screen, "phone", "space")
        assert shown_rows(screen)["phone"]["approve"] == "[ ]"
        await fill(pilot, screen, output)
        assert f"6 of 11 fields given to {SHOP}" in summary(screen)
        assert str(output) in summary(screen)
        rows = shown_rows(screen)
        assert rows["phone"]["decision"] == WITHHELD
        assert rows["email"]["decision"] == "granted: contact"

    run(SecondSelfApp(lambda: session), steps)
    # The filled copy holds the approved values only: not the phone, not the allergy.
    assert filled_values(output) == {k: v for k, v in ALLOWED.items() if k != "phone"}
    refused = refusals(session)
    assert refused["phone"] == WITHHELD and refused["allergies"] == WITHHELD
    released = [e for e in session.backend.audit_log() if e.action == "release"]
    assert {e.field for e in released} == set(ALLOWED) - {"phone"}
    rows_text = json.dumps([e.as_json() for e in session.backend.audit_log()])
    assert "+351 936 710 225" not in rows_text  # a refusal names the field, not the value
    assert session.backend.verify_audit().intact


def test_a_sensitive_field_is_given_only_once_approved(
    session: LocalSession, checkout: Path, tmp_path: Path
) -> None:
    session.backend.grant(SHOP, GRANTED)
    first, second = tmp_path / "first.html", tmp_path / "second.html"

    async def steps(pilot: Pilot[None]) -> None:
        screen = await review(pilot, checkout, SHOP)
        await planned(pilot, screen)
        await fill(pilot, screen, first)  # as planned: the allergy is not approved
        assert shown_rows(screen)["allergies"]["decision"] == WITHHELD
        await choose(pilot, screen, "allergies", "enter")
        assert shown_rows(screen)["allergies"]["approve"] == "[x]"
        screen.query_one("#autofill-summary", Static).update("")
        await fill(pilot, screen, second)
        assert "confirmed for this use" in shown_rows(screen)["allergies"]["decision"]

    run(SecondSelfApp(lambda: session), steps)
    assert "allergies" not in filled_values(first)
    assert filled_values(second) == {**ALLOWED, "allergies": "penicillin"}
    released = [e.field for e in session.backend.audit_log() if e.action == "release"]
    assert released.count("allergies") == 1  # the approved use only


def test_without_a_grant_the_plan_is_a_preview(session: LocalSession, checkout: Path) -> None:
    async def steps(pilot: Pilot[None]) -> None:
        screen = await review(pilot, checkout, "nobody.example")
        rows = await planned(pilot, screen)
        assert "No grant for nobody.example: this is a preview" in summary(screen)
        assert rows["email"]["value"] == "marta.sousa@example.pt"  # shown to you, given to none
        assert all(row["approve"] == "" for row in rows.values())  # nothing to approve

    run(SecondSelfApp(lambda: session), steps)


def test_a_form_that_is_not_there_is_said_not_crashed_on(
    session: LocalSession, tmp_path: Path
) -> None:
    said: list[str] = []
    missing = tmp_path / "nowhere.html"

    async def steps(pilot: Pilot[None]) -> None:
        original = pilot.app.notify

        def notify(message: str, *args: Any, **kwargs: Any) -> None:
            said.append(message)
            original(message, *args, **kwargs)

        pilot.app.notify = notify  # type: ignore[method-assign]
        screen = await review(pilot, missing, SHOP)
        await until(pilot, lambda: "No plan for nowhere.html" in summary(screen))
        assert any("no form at" in message and str(missing) in message for message in said)
        assert screen.query_one("#autofill-fields", DataTable).row_count == 0
        await pilot.press("ctrl+s")  # nothing planned: said, not filled
        await until(pilot, lambda: any("Nothing planned" in m for m in said))
        assert pilot.app.screen is screen and pilot.app.is_running

    run(SecondSelfApp(lambda: session), steps)
    assert not [e for e in session.backend.audit_log() if e.action in ("release", "refuse")]


def test_a_row_shows_neither_escape_codes_nor_markup_from_a_form_or_a_memory() -> None:
    from assistant.autofill.fill import FilledField
    from tui.screens.autofill import field_row

    hostile = FilledField(
        "name", "\x1b[2JFull [bold]name[/]", "name", "identity", None, True, "granted: identity",
        ("f3",), "Marta\x1b]0;pwned\x07 [red]Sousa", 0.9, "label: '\x1b[31mName'",
    )  # fmt: skip
    cells = [cell.plain for cell in field_row(hostile, approved=True)]
    assert not any("\x1b" in cell or "\x07" in cell for cell in cells)
    assert cells[:4] == ["[x]", "Full [bold]name[/]", "name", "Marta [red]Sousa"]


# -- `approved` through the service, without the app -------------------------------------------


@pytest.fixture
def known(memory: Memory) -> Resident:
    service = Resident(memory)
    for attribute, value in FACTS:
        service.set_fact("self", attribute, value)
    service.grant(SHOP, GRANTED)
    return service


def test_only_approved_fields_are_released_and_the_rest_audited_as_withheld(
    known: Resident, checkout: Path, memory: Memory
) -> None:
    result = known.autofill(AutofillRequest(checkout, SHOP, approved=("email", "city")))
    given = {f.field: f.value for f in result.fields if f.released}
    assert given == {"email": "marta.sousa@example.pt", "city": "Porto"}
    fields = {f.field: f for f in result.fields}
    assert fields["phone"].reason == WITHHELD and fields["phone"].value is None
    # A field the rules refuse anyway keeps the rules' reason.
    assert "hidden" in fields["email_confirm"].reason and fields["card"].reason != WITHHELD
    refused = {e.field: e.detail["reason"] for e in audit.entries(memory.db.conn)
               if e.action == "refuse"}  # fmt: skip
    assert refused["phone"] == WITHHELD and refused["street"] == WITHHELD
    # No review at all (`approved` None): the rules alone decide, as before.
    unreviewed = known.autofill(AutofillRequest(checkout, SHOP))
    assert {f.field for f in unreviewed.fields if f.released} == set(ALLOWED)
    # An empty review withholds everything.
    nothing = known.autofill(AutofillRequest(checkout, SHOP, approved=()))
    assert not any(f.released for f in nothing.fields)


def test_approving_a_sensitive_field_needs_its_confirmation_at_a_terminal(
    known: Resident, checkout: Path
) -> None:
    def allergies(**asked: Any) -> Any:
        fields = known.autofill(AutofillRequest(checkout, SHOP, **asked)).fields
        return next(f for f in fields if f.field == "allergies")

    # Approved alone is not confirmed: the rules still wait.
    assert not allergies(approved=("allergies",), interactive=True).released
    # Confirmed but not approved: withheld by the review.
    withheld = allergies(approved=(), confirmed=("allergies",), interactive=True)
    assert not withheld.released and withheld.reason == WITHHELD
    # Both, at a terminal: given this once.
    both = allergies(approved=("allergies",), confirmed=("allergies",), interactive=True)
    assert both.released and both.value == "penicillin"
    # Both, from a script: a confirmation without a terminal counts for nothing.
    assert not allergies(approved=("allergies",), confirmed=("allergies",)).released


def test_approved_crosses_the_daemon_socket() -> None:
    for approved in (("email", "zip"), (), None):
        request = AutofillRequest(Path("/forms/a.html"), SHOP, approved=approved)
        sent = json.loads(json.dumps(codec.dump(request)))
        assert codec.load(AutofillRequest, sent) == request
