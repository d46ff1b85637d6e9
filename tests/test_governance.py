"""Grants and the audit log: grants that end and are revoked; an audit chain whose
changed, removed, reordered or cut-off entries are found; forgets recorded by counts,
never by what was forgotten; the release rules, table by table."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest

from assistant import config as config_mod
from assistant.errors import GovernanceError
from assistant.forget import Target, apply, plan
from assistant.ingest import ingest
from assistant.memory import Memory
from assistant.paths import Paths
from assistant.service.backend import Resident
from assistant.vault import Secrets
from policies import audit, grants
from policies.release import CATEGORIES, SENSITIVE, decide
from tests.conftest import PASSPHRASE, chat_folder, run_me
from tests.sqlcipher_pages import plaintext

CANARY = "Quokka-7731-canary"


@pytest.fixture
def service(memory: Memory) -> Resident:
    return Resident(memory)


def logged(service: Resident, n: int) -> list[audit.Entry]:
    """`n` grant changes, audited."""
    for i in range(n):
        service.grant(f"app{i}.example", ("contact",), None)
    return service.audit_log()


# -- grants ---------------------------------------------------------------------------
def test_grants_are_added_listed_replaced_expire_and_are_revoked(
    service: Resident, memory: Memory
) -> None:
    made = service.grant("shop.example", ("address", "identity"), 30)
    assert made.categories == ("identity", "address")  # canonical order
    assert made.expires is not None
    conn = memory.db.conn
    assert grants.granted(conn, "shop.example") == {"identity", "address"}
    later = datetime.now(UTC) + timedelta(days=31)
    assert grants.granted(conn, "shop.example", later) == frozenset()  # expired
    assert grants.granted(conn, "other.example") == frozenset()  # never granted
    service.grant("shop.example", ("contact",))  # replaces, with no end
    [only] = service.grants()
    assert only.categories == ("contact",) and only.expires is None
    service.revoke_grant("shop.example")
    assert service.grants() == []
    with pytest.raises(GovernanceError, match="has no grant"):
        service.revoke_grant("shop.example")
    with pytest.raises(GovernanceError, match="unknown category"):
        service.grant("shop.example", ("contact", "dna"))
    actions = [(e.action, e.requester) for e in service.audit_log()]
    assert actions == [("grant", "shop.example"), ("grant", "shop.example"),
                       ("revoke", "shop.example")]  # fmt: skip


# -- the chain ----------------------------------------------------------------------------
def test_an_intact_log_verifies(service: Resident) -> None:
    assert service.verify_audit().intact  # empty
    entries = logged(service, 4)
    assert [e.seq for e in entries] == [1, 2, 3, 4]
    verdict = service.verify_audit()
    assert verdict.intact and verdict.entries == 4 and verdict.first_bad is None


def test_a_changed_entry_is_found(service: Resident, memory: Memory) -> None:
    logged(service, 4)
    with memory.db.write() as conn:
        conn.execute("UPDATE audit SET requester = 'innocent.example' WHERE seq = 3")
    verdict = service.verify_audit()
    assert not verdict.intact and verdict.first_bad == 3


def test_a_removed_entry_is_found(service: Resident, memory: Memory) -> None:
    logged(service, 4)
    with memory.db.write() as conn:
        conn.execute("DELETE FROM audit WHERE seq = 2")
    verdict = service.verify_audit()
    assert not verdict.intact and verdict.first_bad == 2 and "missing" in verdict.problem


def test_two_reordered_entries_are_found(service: Resident, memory: Memory) -> None:
    logged(service, 4)
    columns = "time, action, requester, field, attribute, fact_id, value_mac, detail, mac"
    with memory.db.write() as conn:
        two, three = (conn.execute(f"SELECT {columns} FROM audit WHERE seq = ?", (s,)).fetchone()
                      for s in (2, 3))  # fmt: skip
        sets = ", ".join(f"{c.strip()} = ?" for c in columns.split(","))
        conn.execute(f"UPDATE audit SET {sets} WHERE seq = 2", (*three,))
        conn.execute(f"UPDATE audit SET {sets} WHERE seq = 3", (*two,))
    verdict = service.verify_audit()
    assert not verdict.intact and verdict.first_bad == 2


def test_a_log_cut_short_is_found_by_its_head(service: Resident, memory: Memory) -> None:
    logged(service, 4)
    with memory.db.write() as conn:
        conn.execute("DELETE FROM audit WHERE seq >= 3")  # the chain that is left verifies
    verdict = service.verify_audit()
    assert not verdict.intact and verdict.first_bad == 3 and "removed" in verdict.problem


def test_a_missing_or_forged_head_is_found(service: Resident, paths: Paths) -> None:
    logged(service, 2)
    head = json.loads(paths.audit_head.read_text())
    paths.audit_head.write_text(json.dumps({**head, "seq": 1}))  # no key to re-sign it
    assert not service.verify_audit().intact
    paths.audit_head.unlink()
    verdict = service.verify_audit()
    assert not verdict.intact and "missing" in verdict.problem


def test_a_head_that_lags_after_a_stop_is_intact_and_said(
    service: Resident, memory: Memory
) -> None:
    logged(service, 2)
    with memory.db.write() as conn:  # written, as if the process stopped before the head
        audit.append(conn, memory.keys.audit, "grant", requester="late.example")
    verdict = service.verify_audit()
    assert verdict.intact and verdict.entries == 3 and "lags" in verdict.note
    service.grant("next.example", ("work",))  # the next write mirrors the head again
    assert service.verify_audit().note == ""


def test_an_entry_keeps_a_keyed_hash_never_the_value(memory: Memory) -> None:
    key = memory.keys.audit
    with memory.db.write() as conn:
        entry = audit.append(conn, key, "release", requester="shop.example", field="email",
                             attribute="email", value=CANARY)  # fmt: skip
    assert entry.value_mac == audit.value_hash(key, CANARY) != audit.value_hash(key, "other")
    assert CANARY not in json.dumps(entry.as_json())
    with pytest.raises(audit.AuditError), memory.db.write() as conn:
        audit.append(conn, key, "peek")


def test_a_forget_is_audited_by_counts_never_by_content(memory: Memory, tmp_path: Path) -> None:
    chat = [("2024-05-01T09:00:00+00:00", "Ana", f"The vault code is {CANARY}."),
            ("2024-05-02T09:00:00+00:00", "Ana", "Lunch on Friday?")]  # fmt: skip
    ingest(memory, [chat_folder(tmp_path / "chat", "Ana", chat)])
    apply(memory, plan(memory, Target(matching=CANARY)))
    [entry] = [e for e in audit.entries(memory.db.conn) if e.action == "forget"]
    assert entry.detail["counts"]["episodes"] == 1
    assert entry.detail["target"] == "matching text"
    assert CANARY not in json.dumps(entry.as_json())
    # Nor anywhere in the file's pages.
    assert CANARY.encode() not in plaintext(memory.paths.database, memory.keys.database)
    verdict = audit.verify(memory.db.conn, memory.keys.audit, memory.paths.audit_head)
    assert verdict.intact


def test_me_audit_verify_names_the_first_bad_entry(vault: Paths, secrets: Secrets) -> None:
    config = config_mod.load(vault.config_file)
    with Memory.open(vault, config, secrets) as memory:
        logged(Resident(memory), 3)
    env = {"SECONDSELF_PASSPHRASE": PASSPHRASE}
    ok = run_me("--no-daemon", "audit", "verify", env=env)
    assert "intact: 3 entries" in ok.stdout
    listed = run_me("--no-daemon", "audit", "--json", env=env).stdout.splitlines()
    assert [json.loads(line)["action"] for line in listed] == ["grant"] * 3
    with Memory.open(vault, config, secrets) as memory, memory.db.write() as conn:
        conn.execute("UPDATE audit SET action = 'revoke' WHERE seq = 2")
    bad = run_me("--no-daemon", "audit", "verify", env=env, check=False)
    assert bad.returncode == 1
    assert "entry 2" in bad.stderr and "Traceback" not in bad.stderr


# -- release rules ------------------------------------------------------------------------
@pytest.mark.parametrize("category", CATEGORIES)
@pytest.mark.parametrize("granted", [frozenset(), frozenset({"contact"}), frozenset(CATEGORIES)])
@pytest.mark.parametrize("interactive", [False, True])
@pytest.mark.parametrize("confirmed", [False, True])
@pytest.mark.parametrize("source", ["clean", "quarantined", "secret"])
def test_release_rules(
    category: str, granted: frozenset[str], interactive: bool, confirmed: bool, source: str
) -> None:
    decision = decide(category, granted, has_value=True, interactive=interactive,
                      confirmed=confirmed, quarantined=source == "quarantined",
                      secret=source == "secret")  # fmt: skip
    allowed = category in granted and source != "quarantined"
    if category in SENSITIVE or source == "secret":
        allowed = allowed and interactive and confirmed  # each use, at a terminal
    assert decision.released is allowed, decision.reason
    assert decision.reason
    if not granted:
        assert "preview" in decision.reason


def test_hidden_fields_and_unknown_values_are_never_released() -> None:
    everything = frozenset(CATEGORIES)
    assert not decide("contact", everything, has_value=True, hidden=True).released
    assert not decide("contact", everything, has_value=False).released
    assert not decide(None, everything, has_value=True).released
    assert decide("contact", everything, has_value=True).released


def test_grant_categories_are_checked() -> None:
    assert grants.checked_categories(["Contact", " address "]) == ("contact", "address")
    with pytest.raises(grants.GrantError, match="unknown category"):
        grants.checked_categories(["contact", "dna"])
    with pytest.raises(grants.GrantError, match="say which"):
        grants.checked_categories([""])


def test_grant_ends_are_days_from_now(memory: Memory) -> None:
    with memory.db.write() as conn:
        made = grants.add(conn, "a.example", ("work",), 2, now=datetime(2024, 1, 1, tzinfo=UTC))
    assert made.expires is not None and made.expires.startswith("2024-01-03")
    assert date.fromisoformat(made.created[:10]) == date(2024, 1, 1)
