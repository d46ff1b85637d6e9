"""`me autofill`: a real form filled from the persona, only as far as the grant allows;
hidden fields never; sensitive categories only when confirmed at a terminal; every
decision audited by a keyed hash, never the value; the filled HTML and PDF re-read."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from bs4 import BeautifulSoup, Tag

from assistant import config as config_mod
from assistant.memory import Memory
from assistant.paths import Paths
from assistant.service.backend import Resident
from assistant.service.requests import AutofillRequest
from assistant.vault import Secrets
from policies import audit
from tests.conftest import PASSPHRASE, run_me
from tests.sqlcipher_pages import plaintext

CHECKOUT = """<!doctype html>
<html><head><style>.trap { display: none }</style></head><body>
<form action="/pay" method="post">
  <label for="fn">First name</label>
  <input id="fn" name="first_name" autocomplete="shipping given-name">
  <label for="ln">Last name</label>
  <input id="ln" name="last_name" autocomplete="shipping family-name">
  <label>E-mail <input type="email" name="email" autocomplete="email"></label>
  <label for="tel">Phone</label><input id="tel" name="phone" type="tel">
  <label for="st">Street address</label>
  <input id="st" name="street" autocomplete="shipping street-address">
  <label for="pc">Postal code</label><input id="pc" name="zip" autocomplete="shipping postal-code">
  <label for="city">City</label><input id="city" name="city">
  <label for="cc">Card number</label><input id="cc" name="card" autocomplete="cc-number">
  <label for="al">Allergies</label><input id="al" name="allergies">
  <div class="trap"><label for="e2">Email</label><input id="e2" name="email_confirm"></div>
  <input type="hidden" name="csrf" value="t0k3n">
  <button type="submit">Pay</button>
</form></body></html>
"""
FACTS = [
    ("name", "Marta Isabel Sousa"),
    ("email", "marta.sousa@example.pt"),
    ("phone", "+351 936 710 225"),
    ("address", "Rua de Cedofeita 218, 4050-174 Porto"),
    ("city", "Porto"),
    ("allergy", "penicillin"),
]


@pytest.fixture
def known(memory: Memory) -> Resident:
    service = Resident(memory)
    for attribute, value in FACTS:
        service.set_fact("self", attribute, value)
    return service


@pytest.fixture
def checkout(tmp_path: Path) -> Path:
    form = tmp_path / "checkout.html"
    form.write_text(CHECKOUT, encoding="utf-8")
    return form


def by_field(service: Resident, request: AutofillRequest) -> dict[str, object]:
    return {f.field: f for f in service.autofill(request).fields}


def test_without_a_grant_a_fill_is_a_preview(known: Resident, checkout: Path) -> None:
    fields = by_field(known, AutofillRequest(checkout, "shop.example"))
    assert not any(f.released for f in fields.values())  # type: ignore[attr-defined]
    assert all(f.value is None for f in fields.values())  # type: ignore[attr-defined]
    assert "preview" in fields["email"].reason  # type: ignore[attr-defined]


def test_a_grant_releases_its_categories_and_nothing_else(
    known: Resident, checkout: Path, memory: Memory, tmp_path: Path
) -> None:
    known.grant("shop.example", ("identity", "contact", "address"))
    output = tmp_path / "filled.html"
    result = known.autofill(AutofillRequest(checkout, "shop.example", output))
    fields = {f.field: f for f in result.fields}
    given = {name: f.value for name, f in fields.items() if f.released}
    assert given == {
        "first_name": "Marta", "last_name": "Sousa", "email": "marta.sousa@example.pt",
        "phone": "+351 936 710 225", "street": "Rua de Cedofeita 218, 4050-174 Porto",
        "zip": "4050-174", "city": "Porto",
    }  # fmt: skip
    assert fields["email"].evidence[0].startswith("f")  # the fact it comes from
    # Not granted, or nothing known: refused with a reason each.
    assert not fields["card"].released and not fields["allergies"].released
    assert "health" in fields["allergies"].reason
    # A field hidden by a style rule, or a hidden input, is never filled.
    assert not fields["email_confirm"].released and "hidden" in fields["email_confirm"].reason
    assert not fields["csrf"].released
    # The filled copy holds the released values only; the form itself is unchanged.
    soup = BeautifulSoup(output.read_text(encoding="utf-8"), "html.parser")

    def value(name: str) -> object:
        found = soup.find("input", {"name": name})
        assert isinstance(found, Tag)
        return found.get("value")

    assert value("email") == "marta.sousa@example.pt" and value("zip") == "4050-174"
    assert not value("email_confirm") and not value("allergies")
    assert checkout.read_text(encoding="utf-8") == CHECKOUT
    # Every decision is audited, by a keyed hash, never the value.
    entries = audit.entries(memory.db.conn)
    released = [e for e in entries if e.action == "release"]
    assert {e.field for e in released} == set(given)
    key = memory.keys.audit
    assert next(e for e in released if e.field == "email").value_mac == audit.value_hash(
        key, "marta.sousa@example.pt")  # fmt: skip
    assert {e.field for e in entries if e.action == "refuse"} >= {"card", "allergies"}
    rows = json.dumps([e.as_json() for e in entries])
    assert "marta.sousa@example.pt" not in rows and "4050-174" not in rows
    assert known.verify_audit().intact


def test_sensitive_categories_need_a_confirmation_at_a_terminal(
    known: Resident, checkout: Path
) -> None:
    known.grant("clinic.example", ("health",))
    plain = by_field(known, AutofillRequest(checkout, "clinic.example"))["allergies"]
    assert not plain.released and "confirmation" in plain.reason  # type: ignore[attr-defined]
    # At a terminal the plan shows what would be given, so the person can decide…
    plan = by_field(known, AutofillRequest(checkout, "clinic.example", interactive=True,
                                           plan_only=True))["allergies"]  # fmt: skip
    assert plan.needs_confirmation and plan.proposed == "penicillin"  # type: ignore[attr-defined]
    # …and a confirmation given there releases this one use.
    asked = AutofillRequest(checkout, "clinic.example", confirmed=("allergies",),
                            interactive=True)  # fmt: skip
    confirmed = by_field(known, asked)["allergies"]
    assert confirmed.released and confirmed.value == "penicillin"  # type: ignore[attr-defined]
    # A confirmation claimed without a terminal counts for nothing.
    scripted = AutofillRequest(checkout, "clinic.example", confirmed=("allergies",))
    assert not by_field(known, scripted)["allergies"].released  # type: ignore[attr-defined]


def test_a_plan_records_and_writes_nothing(
    known: Resident, checkout: Path, memory: Memory, tmp_path: Path
) -> None:
    known.grant("shop.example", ("contact",))
    before = len(audit.entries(memory.db.conn))
    output = tmp_path / "never.html"
    known.autofill(AutofillRequest(checkout, "shop.example", output, plan_only=True))
    assert len(audit.entries(memory.db.conn)) == before and not output.exists()


def test_a_value_resting_on_quarantined_text_is_refused(
    memory: Memory, tmp_path: Path, checkout: Path
) -> None:
    from assistant.identity import add_identity
    from tests.conftest import reflected_notes

    add_identity(memory.db, "name", "Marta Sousa")
    about = {"About me.md": "# About me\n\n- Email: marta@example.org\n"}
    service = reflected_notes(memory, tmp_path / "notes", about)
    service.grant("shop.example", ("contact",))
    email = by_field(service, AutofillRequest(checkout, "shop.example"))["email"]
    assert email.released  # type: ignore[attr-defined]
    with memory.db.write() as conn:  # the only memory it rests on turns out hostile
        conn.execute("UPDATE episodes SET quarantine = 'instructions'")
    email = by_field(service, AutofillRequest(checkout, "shop.example"))["email"]
    assert not email.released and "quarantined" in email.reason  # type: ignore[attr-defined]


def test_me_autofill_through_the_entry_point(
    vault: Paths, secrets: Secrets, checkout: Path, tmp_path: Path
) -> None:
    with Memory.open(vault, config_mod.load(vault.config_file), secrets) as memory:
        service = Resident(memory)
        for attribute, value in FACTS:
            service.set_fact("self", attribute, value)
    env = {"SECONDSELF_PASSPHRASE": PASSPHRASE}
    run_me("--no-daemon", "grants", "add", "shop.example", "--allow", "identity,contact",
           env=env)  # fmt: skip
    out = tmp_path / "out.html"
    shown = run_me("--no-daemon", "autofill", str(checkout), "--for", "shop.example",
                   "--output", str(out), "--json", env=env).stdout  # fmt: skip
    rows = [json.loads(line) for line in shown.splitlines()]
    assert set(rows[0]) == {"field", "label", "attribute", "category", "value", "released",
                            "reason", "evidence"}  # fmt: skip
    email = next(r for r in rows if r["field"] == "email")
    assert email["released"] and email["value"] == "marta.sousa@example.pt"
    street = next(r for r in rows if r["field"] == "street")  # address: not granted
    assert street["value"] is None and not street["released"]
    assert "marta.sousa@example.pt" in out.read_text(encoding="utf-8")
    table = run_me("--no-daemon", "autofill", str(checkout), "--for", "shop.example",
                   env=env).stdout  # fmt: skip
    assert "fields given" in table and "audit" in table
    assert "intact" in run_me("--no-daemon", "audit", "verify", env=env).stdout
    # A form that cannot be read: a clear message, no traceback, nothing recorded.
    os.mkfifo(tmp_path / "pipe.html")
    bad = run_me("--no-daemon", "autofill", str(tmp_path / "pipe.html"), "--for", "x",
                 env=env, check=False)  # fmt: skip
    assert bad.returncode != 0 and "Traceback" not in bad.stderr and bad.stderr.strip()
    with Memory.open(vault, config_mod.load(vault.config_file), secrets) as memory:
        data = plaintext(memory.paths.database, memory.keys.database)
        assert b"marta.sousa@example.pt" in data  # the fact itself is stored…
        rows_text = json.dumps([e.as_json() for e in audit.entries(memory.db.conn)])
        assert "marta.sousa@example.pt" not in rows_text  # …but no audit entry holds it


def test_a_pdf_form_is_filled_and_its_hidden_field_left_empty(
    known: Resident, tmp_path: Path
) -> None:
    from pypdf import PdfReader

    from tests.test_autofill_forms import build_pdf_form

    form = tmp_path / "city-hall.pdf"
    form.write_bytes(build_pdf_form())
    known.grant("city-hall", ("identity", "address"))
    output = tmp_path / "filled.pdf"
    result = known.autofill(AutofillRequest(form, "city-hall", output))
    given = {f.field: f.value for f in result.fields if f.released}
    assert given == {"full_name": "Marta Isabel Sousa", "address.city": "Porto"}
    values = {name: f.get("/V") for name, f in (PdfReader(output).get_fields() or {}).items()}
    assert values["full_name"] == "Marta Isabel Sousa" and values["address.city"] == "Porto"
    assert not values.get("trap")  # hidden by its flags: never filled


def test_at_a_terminal_a_sensitive_field_is_given_only_when_confirmed(
    vault: Paths, secrets: Secrets, checkout: Path
) -> None:
    """The real command in a pseudo-terminal: it asks about the health field, and gives
    it for a "y" only."""
    import pty
    import subprocess
    import sys
    import time

    from tests.conftest import ROOT

    with Memory.open(vault, config_mod.load(vault.config_file), secrets) as memory:
        service = Resident(memory)
        service.set_fact("self", "allergy", "penicillin")
        service.grant("clinic.example", ("health", "contact"))

    def run_at_terminal(answer: str) -> str:
        leader, follower = pty.openpty()
        env = {**os.environ, "SECONDSELF_PASSPHRASE": PASSPHRASE, "COLUMNS": "200"}
        proc = subprocess.Popen(
            [sys.executable, "-c", "from assistant.cli import main; main()", "--no-daemon",
             "autofill", str(checkout), "--for", "clinic.example"],
            stdin=follower, stdout=follower, stderr=follower, env=env, cwd=ROOT,
        )  # fmt: skip
        os.close(follower)
        seen, answered, deadline = b"", False, time.monotonic() + 120
        while time.monotonic() < deadline:
            try:
                chunk = os.read(leader, 4096)
            except OSError:  # the command ended and closed the terminal
                break
            if not chunk:
                break
            seen += chunk
            if not answered and b"[y/N]" in seen:
                os.write(leader, answer.encode() + b"\n")
                answered = True
        proc.wait(timeout=30)
        os.close(leader)
        assert answered, seen.decode(errors="replace")
        return seen.decode(errors="replace")

    refused = run_at_terminal("n")
    assert "allergy" in refused and "0 of" in refused
    # At a terminal the review shows what is known but was not given.
    assert "known: penicillin" in refused
    given = run_at_terminal("y")
    assert "confirmed for this use" in given and "1 of" in given
    with Memory.open(vault, config_mod.load(vault.config_file), secrets) as memory:
        released = [e for e in audit.entries(memory.db.conn) if e.action == "release"]
    assert [e.field for e in released] == ["allergies"]  # once: the confirmed use


def test_a_json_field_list_and_a_date_input_take_the_iso_day(
    known: Resident, tmp_path: Path
) -> None:
    form = tmp_path / "fields.json"
    form.write_text(json.dumps([
        {"name": "dob", "label": "Date of birth", "type": "date"},
        {"name": "birthday_text", "label": "Birthday"},
    ]))  # fmt: skip
    known.grant("script", ("identity",))
    known.set_fact("self", "birthday", "14 July 1993")
    fields = by_field(known, AutofillRequest(form, "script"))
    assert fields["dob"].value == "1993-07-14"  # type: ignore[attr-defined]
    assert fields["birthday_text"].value == "14 July 1993"  # type: ignore[attr-defined]
