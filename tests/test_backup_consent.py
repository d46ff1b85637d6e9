"""Backup, restore, export, exclusions and retention rules, through the real `me`.

The promises attacked here, by canary: a restore never brings back what was forgotten
after the backup (not into any file, not into recall, not by a later sync), even when
the database it replaces no longer opens; an exclusion purges what it names and keeps
it out of every later sync; a retention rule forgets what is too old, at once and at
every sync. And the files: a backup holds nothing readable, an export holds
everything, and neither writes over a file."""

from __future__ import annotations

import io
import json
import tarfile
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from assistant.memory import Memory
from assistant.paths import Paths
from assistant.vault import Secrets, unlock
from policies import audit
from policies.consent import ConsentError, Exclusion, parse_age
from tests.conftest import PASSPHRASE, chat_folder, run_me, tree_digest
from tests.sqlcipher_pages import plaintext
from tests.test_forget_canaries import at_rest, canaries, found_in, sealed_contents

ENV = {"SECONDSELF_PASSPHRASE": PASSPHRASE}


def me(*args: str, check: bool = True) -> tuple[int, str]:
    done = run_me(*args, env=ENV, check=check)
    return done.returncode, done.stdout + done.stderr


def everything_at_rest(paths: Paths) -> bytes:
    """The vault's files decrypted where the test holds the key, and every file raw."""
    keys = unlock(paths, Secrets(ask_passphrase=lambda _c: PASSPHRASE))
    data = plaintext(paths.database, keys.database)
    if paths.snapshot.exists():
        data += sealed_contents(paths.snapshot, keys.snapshot)
    return data + at_rest([paths.data, paths.runtime])


def recalled(word: str) -> str:
    return me("recall", "--json", "-k", "20", word)[1]


def audit_actions(paths: Paths) -> list[tuple[str, dict[str, object]]]:
    _code, out = me("audit", "--json")
    return [(e["action"], e["detail"]) for e in map(json.loads, out.splitlines()) if e]


@pytest.fixture
def chat(tmp_path: Path) -> tuple[Path, list[str], list[str]]:
    """A chat folder: a conversation whose canaries will be forgotten, one whose stay."""
    gone, kept = canaries(3, seed=11), canaries(2, seed=12)
    folder = tmp_path / "chats"
    chat_folder(folder, "Secret plans", [(f"2024-05-0{i + 1}T10:00:00+00:00", "Ana",
                                          f"The locker code word is {w}.")
                                         for i, w in enumerate(gone)])  # fmt: skip
    chat_folder(folder, "Garden", [(f"2024-05-0{i + 1}T11:00:00+00:00", "Bia",
                                    f"Plant the {w} tulips by the fence.")
                                   for i, w in enumerate(kept)])  # fmt: skip
    return folder, gone, kept


# -- backup and restore ---------------------------------------------------------------------
def test_restore_forgets_again_what_was_forgotten_after_the_backup(
    vault: Paths, chat: tuple[Path, list[str], list[str]], tmp_path: Path
) -> None:
    folder, gone, kept = chat
    backup = tmp_path / "memory.sselfbak"
    me("sources", "add", str(folder))
    me("sync")
    me("backup", str(backup))
    assert not found_in(backup.read_bytes(), gone + kept)  # nothing readable in the file
    me("forget", "--matching", "locker code word", "--yes")
    assert not found_in(everything_at_rest(vault), gone)

    code, out = me("restore", str(backup), "--yes")
    assert code == 0 and "Forgotten again" in out, out
    assert not found_in(everything_at_rest(vault), gone)  # not one copy came back
    assert found_in(everything_at_rest(vault), kept) == set(kept)  # the rest did
    assert gone[0] not in recalled(gone[0]) and kept[0] in recalled(kept[0])
    me("sync")  # the tombstones came over: a sync does not read them again
    assert not found_in(everything_at_rest(vault), gone)
    actions = [a for a, _d in audit_actions(vault)]
    assert actions == ["backup", "forget", "forget", "restore"]  # the log was carried too
    assert me("audit", "verify")[0] == 0
    assert not list(vault.data.glob("restore.*"))  # no staging copy left behind


def test_restore_over_a_database_that_no_longer_opens_uses_the_ledger(
    vault: Paths, chat: tuple[Path, list[str], list[str]], tmp_path: Path
) -> None:
    folder, gone, kept = chat
    backup = tmp_path / "memory.sselfbak"
    me("ingest", str(folder))
    me("backup", str(backup))
    me("forget", "--matching", "locker code word", "--yes")
    with vault.database.open("r+b") as fh:  # the whole file but its first page, gone
        fh.seek(4096)
        fh.write(b"\x00" * (vault.database.stat().st_size - 4096))
    assert me("recall", "tulips", check=False)[0] != 0  # damaged: it says so

    code, out = me("restore", str(backup), "--yes")
    assert code == 0, out
    assert "could not be read" in out  # says the ledger alone was used
    assert not found_in(everything_at_rest(vault), gone)
    assert kept[0] in recalled(kept[0])


@pytest.mark.parametrize("kind", ["not a tar", "escaping member", "no keys", "extra member"])
def test_a_file_that_is_not_a_backup_is_refused_and_nothing_changes(
    vault: Paths, tmp_path: Path, kind: str
) -> None:
    me("ingest", str(chat_folder(tmp_path / "c", "x", [("2024-01-01T10:00:00+00:00", "A", "hi")])))
    good = tmp_path / "good.bak"
    me("backup", str(good))
    bad = tmp_path / "bad.bak"
    if kind == "not a tar":
        bad.write_bytes(b"PK\x03\x04 certainly not a backup")
    else:
        with tarfile.open(good) as src, tarfile.open(bad, "w") as out:
            for member in src.getmembers():
                if kind == "no keys" and member.name == "keys.json":
                    continue
                out.addfile(member, src.extractfile(member))
            extra = tarfile.TarInfo("../../escaped" if kind == "escaping member" else "run.sh")
            payload = b"echo owned\n"
            extra.size = len(payload)
            if kind != "no keys":
                out.addfile(extra, io.BytesIO(payload))
    before = tree_digest(vault.data)
    code, said = me("restore", str(bad), "--yes", check=False)
    assert code == 1 and "Traceback" not in said
    assert "backup" in said
    assert tree_digest(vault.data) == before
    assert not (tmp_path / "escaped").exists()


def test_a_backup_of_another_vault_is_refused(vault: Paths, tmp_path: Path) -> None:
    theirs = tmp_path / "theirs.bak"
    other_home = {"SECONDSELF_HOME": str(tmp_path / "other"), **ENV}
    run_me("init", "--mode", "passphrase", env=other_home)
    run_me("backup", str(theirs), env=other_home)
    before = tree_digest(vault.data)
    code, out = me("restore", str(theirs), "--yes", check=False)
    assert code == 1 and "move" in out and "Traceback" not in out
    assert tree_digest(vault.data) == before


def test_restore_waits_for_no_one_while_the_vault_is_held(
    vault: Paths, tmp_path: Path, memory: Memory
) -> None:
    backup = tmp_path / "held.bak"
    from assistant.backup import backup as make_backup

    make_backup(memory, backup)  # the vault stays open here, as the daemon holds it
    code, out = me("restore", str(backup), "--yes", check=False)
    assert code == 1 and "me daemon stop" in out
    assert memory.db.conn.execute("SELECT count(*) FROM audit").fetchone()[0] == 1


def test_backup_never_writes_over_a_file(vault: Paths, tmp_path: Path) -> None:
    taken = tmp_path / "taken"
    taken.write_text("mine")
    code, out = me("backup", str(taken), check=False)
    assert code == 1 and "exists" in out and taken.read_text() == "mine"


# -- export ---------------------------------------------------------------------------------
def test_export_writes_everything_in_the_open_once(
    vault: Paths, chat: tuple[Path, list[str], list[str]], tmp_path: Path
) -> None:
    folder, gone, kept = chat
    me("ingest", str(folder))
    me("persona", "set", "employer", "Farol Analytics")
    dest = tmp_path / "out" / "memory.jsonl"
    dest.parent.mkdir()
    code, out = me("export", "--jsonl", str(dest), "--yes")
    assert code == 0 and "not encrypted" in out
    lines = [json.loads(line) for line in dest.read_text().splitlines()]
    assert {x["type"] for x in lines} >= {"episode", "fact"}
    assert found_in(dest.read_bytes(), gone + kept) == set(gone + kept)  # everything
    assert any(x["type"] == "fact" and x["value"] == "Farol Analytics" for x in lines)
    assert dest.stat().st_mode & 0o777 == 0o600
    assert me("export", "--jsonl", str(dest), "--yes", check=False)[0] == 1  # never over it
    exported = [d for a, d in audit_actions(vault) if a == "export"]
    assert exported and exported[0]["counts"] == {"episodes": len(gone + kept), "facts": 1,
                                                  "thoughts": 0, "links": 0}  # fmt: skip
    assert not found_in(json.dumps(exported).encode(), gone + kept)
    code, out = me("export", "--jsonl", str(tmp_path / "x.jsonl"), check=False)
    assert code == 2 and "NOT be encrypted" in out  # no terminal: --yes is required


# -- exclusions -----------------------------------------------------------------------------
def test_excluding_a_conversation_purges_it_and_keeps_it_out(
    vault: Paths, chat: tuple[Path, list[str], list[str]]
) -> None:
    folder, gone, kept = chat
    me("sources", "add", str(folder))
    me("sync")
    code, out = me("sources", "exclude", "1", "--conversation", "secret PLANS", "--yes")
    assert code == 0 and "Forgotten now: 3 memories" in out, out
    assert not found_in(everything_at_rest(vault), gone)
    assert found_in(everything_at_rest(vault), kept) == set(kept)
    # A new message in that conversation, and the old ones re-exported: none is read.
    fresh = canaries(1, seed=13)
    chat_folder(folder, "Secret plans", [("2024-06-01T10:00:00+00:00", "Ana", f"New {fresh[0]}"),
                                         ("2024-05-01T10:00:00+00:00", "Ana",
                                          f"The locker code word is {gone[0]}.")])  # fmt: skip
    me("sync")
    assert not found_in(everything_at_rest(vault), gone + fresh)
    [rule] = [json.loads(x) for x in me("sources", "exclusions", "--json")[1].splitlines()]
    assert rule["kind"] == "conversation" and rule["source_id"] == 1
    excluded = [d for a, d in audit_actions(vault) if a == "exclude"]
    assert excluded and "secret" not in json.dumps(excluded).casefold()  # no name in the log
    me("sources", "unexclude", str(rule["id"]))
    me("sync")  # new content is read again; what was forgotten stays forgotten
    assert found_in(everything_at_rest(vault), gone + fresh) == set(fresh)


def test_excluding_files_by_pattern(vault: Paths, tmp_path: Path) -> None:
    notes = tmp_path / "notes"
    (notes / "Work").mkdir(parents=True)
    (notes / "Home").mkdir()
    work, home = canaries(2, seed=21)
    (notes / "Work" / "salary.md").write_text(f"# Pay\n\nThe review code is {work}.\n")
    (notes / "Home" / "plants.md").write_text(f"# Plants\n\nThe fern is called {home}.\n")
    me("sources", "add", str(notes))
    me("sync")
    code, out = me("sources", "exclude", "1", "--glob", "Work/*", "--dry-run")
    assert code == 0 and "1 memories" in out and "Work" not in me("sources", "exclusions")[1]
    me("sources", "exclude", "1", "--glob", "Work/*", "--yes")
    (notes / "Work" / "bonus.md").write_text(f"# Bonus\n\nAlso {work}.\n")
    code, out = me("sync", "-v")
    assert "excluded" in out
    assert found_in(everything_at_rest(vault), [work, home]) == {home}
    for extra in ("--yes", "--dry-run"):  # a dry run does not pretend either
        code, out = me("sources", "exclude", "9", "--glob", "*", extra, check=False)
        assert code == 1 and "no source with id 9" in out


# -- retention ------------------------------------------------------------------------------
def test_a_retention_rule_forgets_what_is_too_old_now_and_at_every_sync(
    vault: Paths, tmp_path: Path
) -> None:
    old, recent, note_word, later_old = canaries(4, seed=31)
    folder = tmp_path / "src"
    now = datetime.now(UTC)
    chat_folder(folder, "Family", [("2015-03-01T10:00:00+00:00", "Mãe", f"Old news {old}"),
                                   (now.isoformat(), "Mãe", f"Fresh news {recent}")])  # fmt: skip
    (folder / "2015-03-01.md").write_text(
        f"---\ndate: 2015-03-01\n---\nA note about {note_word}.\n"
    )
    me("sources", "add", str(folder))
    me("sync")
    code, out = me("retention", "add", "--kind", "message", "--older-than", "5y", "--yes")
    assert code == 0 and "Forgotten now: 1 memories" in out, out
    assert found_in(everything_at_rest(vault), [old, recent, note_word]) == {recent, note_word}
    chat_folder(folder / "more", "Work", [((now - timedelta(days=9 * 365)).isoformat(), "Tiago",
                                           f"Ancient {later_old}")])  # fmt: skip
    code, out = me("sync", "--json")
    [expired] = [json.loads(x)["expired"] for x in out.splitlines() if x.startswith('{"expired"')]
    assert expired["episodes"] == 1, out
    assert not found_in(everything_at_rest(vault), [later_old])
    retained = [d for a, d in audit_actions(vault) if a == "retention"]
    assert len(retained) == 2
    code, out = me("retention", "add", "--kind", "message", "--older-than", "soon", check=False)
    assert code == 2 and "90d, 12w, 6m, 5y" in out


# -- the rules themselves -------------------------------------------------------------------
@pytest.mark.parametrize(("text", "days"), [("90", 90), ("90d", 90), ("12w", 84), ("6m", 180),
                                            ("5y", 1825), (" 2Y ", 730)])  # fmt: skip
def test_ages_are_read_in_days(text: str, days: int) -> None:
    assert parse_age(text) == days


@pytest.mark.parametrize("text", ["", "0d", "-1y", "5 years", "y"])
def test_bad_ages_are_refused(text: str) -> None:
    with pytest.raises(ConsentError):
        parse_age(text)


def test_patterns_match_the_path_inside_the_source_or_the_file_name() -> None:
    rule = Exclusion(1, 1, "glob", "Work/*", "")
    assert rule.matches_file("Work/pay.md") and rule.matches_file("Work/2024/pay.md")
    assert not rule.matches_file("Home/Work.md")
    by_name = Exclusion(2, 1, "glob", "*.eml", "")
    assert by_name.matches_file("mail/2024/x.eml") and not by_name.matches_file("x.md")
    talk = Exclusion(3, 1, "conversation", "Family Group", "")
    assert talk.matches_conversation("family group") and not talk.matches_conversation(None)
    assert not talk.matches_file("Family Group.txt")


def test_audit_actions_know_the_new_entries() -> None:
    assert {"backup", "restore", "export", "exclude", "retention"} <= audit.ACTIONS
