"""The vault: creating it, unlocking it, recovering it, and failing closed when damaged.

Every failure case also proves that nothing on disk changed (same files, same bytes)
and that the CLI reports it as one line on stderr with a non-zero exit, not a
traceback. None of these tests loads the embedding model.
"""

from __future__ import annotations

import base64
import copy
import dataclasses
import json
import os
import re
import shutil
import sqlite3
import stat
import subprocess
import time
import types
from collections.abc import Callable
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from mnemonic import Mnemonic

from assistant import config as config_mod
from assistant import paths as paths_mod
from assistant.config import Config
from assistant.errors import (
    DatabaseBusyError,
    DatabaseDamagedError,
    DatabaseKeyError,
    KeyFileError,
    KeyringError,
    StoreError,
    VaultError,
    VaultExistsError,
    VaultLockedError,
    WrongSecretError,
)
from assistant.keys import ARGON2_MINIMUM, argon2_key
from assistant.memory import Memory
from assistant.paths import Paths
from assistant.vault import Secrets, create_vault, recover, unlock
from policies.keyring_trust import TRUSTED_BACKENDS, choose
from store.database import open_database
from tests.conftest import PASSPHRASE, run_me, tree_digest

NEW_PASSPHRASE = "a-new-passphrase-123"
NOW = "2024-05-01T10:00:00+00:00"
TEXTS = ["The Lisbon trip was in May.", "Call the dentist on Tuesday.", "Sofia likes figs."]


# -- helpers -----------------------------------------------------------------------
def config(lock_timeout: float | None = None) -> Config:
    cfg = config_mod.load(paths_mod.resolve().config_file)
    if lock_timeout is not None:
        cfg = dataclasses.replace(
            cfg, vault=dataclasses.replace(cfg.vault, lock_timeout=lock_timeout)
        )
    return cfg


def secrets_with(passphrase: str | None = None, recovery: str | None = None) -> Secrets:
    return Secrets(
        ask_passphrase=None if passphrase is None else (lambda _confirm: passphrase),
        ask_recovery=None if recovery is None else (lambda: recovery),
    )


def state(home: Path) -> dict[str, bytes]:
    """Every file of the vault home and of the per-test runtime folder, with its bytes."""
    return tree_digest(home, Path(os.environ["XDG_RUNTIME_DIR"]))


def add_episodes(memory: Memory, texts: list[str]) -> None:
    """Memories written straight into the tables (no embedding model needed)."""
    with memory.db.write() as conn:
        source = conn.execute(
            "INSERT INTO sources(root, added_at) VALUES ('/notes', ?)", (NOW,)
        ).lastrowid
        doc = conn.execute(
            "INSERT INTO documents(source_id, ref, connector, content_hash, ingested_at, "
            "updated_at) VALUES (?, '/notes/a.md', 'markdown', 'h', ?, ?)",
            (source, NOW, NOW),
        ).lastrowid
        for i, text in enumerate(texts):
            conn.execute(
                "INSERT INTO episodes(document_id, source_ref, kind, text, time, time_unix, "
                "author, content_hash, connector, ingested_at) "
                "VALUES (?, '/notes/a.md', 'note', ?, ?, 0, 'self', ?, 'markdown', ?)",
                (doc, text, NOW, f"h{i}", NOW),
            )


def episode_texts(memory: Memory) -> list[str]:
    rows = memory.db.conn.execute("SELECT text FROM episodes ORDER BY id").fetchall()
    return [r[0] for r in rows]


def assert_cli_error(proc: subprocess.CompletedProcess[str], *needles: str) -> None:
    """A user error: non-zero exit, one clear message on stderr, no traceback."""
    assert proc.returncode != 0, proc.stdout
    assert "Traceback" not in proc.stderr, proc.stderr
    assert "Error:" in proc.stderr, proc.stderr
    for needle in needles:
        assert needle.lower() in proc.stderr.lower(), proc.stderr


def recover_cli(phrase: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    """`me unlock --recovery` with the phrase on stdin, choosing NEW_PASSPHRASE."""
    return run_me(
        "unlock",
        "--recovery",
        "--mode",
        "passphrase",
        input=phrase + "\n",
        env={"SECONDSELF_PASSPHRASE": NEW_PASSPHRASE},
        check=check,
    )


def other_vault(tmp_path: Path) -> Paths:
    other = paths_mod.resolve(tmp_path / "other-home")
    create_vault(other, secrets_with(PASSPHRASE), mode="passphrase")
    return other


def bad_checksum_phrase() -> str:
    """24 dictionary words whose checksum is wrong."""
    m = Mnemonic("english")
    words = m.to_mnemonic(bytes(32)).split()
    for candidate in m.wordlist:
        words[-1] = candidate
        if not m.check(" ".join(words)):
            return " ".join(words)
    raise AssertionError("unreachable")


@pytest.fixture
def use_keyring_backend(monkeypatch: pytest.MonkeyPatch) -> Callable[[str], None]:
    """Select a keyring backend by name, as a user would with PYTHON_KEYRING_BACKEND."""
    import keyring.core

    def use(name: str) -> None:
        monkeypatch.setenv("PYTHON_KEYRING_BACKEND", name)
        # keyring caches its backend per process; make it read the variable again.
        monkeypatch.setattr(keyring.core, "_keyring_backend", None)

    return use


# -- creating ----------------------------------------------------------------------
def test_passphrase_vault_layout_and_key_file(vault: Paths, isolated_home: Path) -> None:
    data = json.loads(vault.key_file.read_text())
    assert data["format"] == "secondself-keys"
    assert set(data["wrappers"]) == {"passphrase", "recovery"}  # no keyring wrapper

    wrap = data["wrappers"]["passphrase"]
    assert wrap["kdf"] == "argon2id"
    assert wrap["memory_kib"] >= 65536
    assert wrap["iterations"] >= 3
    assert wrap["lanes"] >= 4
    for name, minimum in ARGON2_MINIMUM.items():
        assert wrap[name] >= minimum
    salt = base64.b64decode(wrap["salt"])
    assert len(salt) == 16

    # The stored parameters are the ones really used: they re-derive the wrapping key.
    keys = unlock(vault, secrets_with(PASSPHRASE))
    params = {k: wrap[k] for k in ("memory_kib", "iterations", "lanes")}
    aad = f"secondself-keys/v1/{data['vault_id']}/passphrase".encode()
    master = AESGCM(argon2_key(PASSPHRASE, salt, params)).decrypt(
        base64.b64decode(wrap["nonce"]), base64.b64decode(wrap["ciphertext"]), aad
    )
    assert master == keys.master
    assert len(keys.master) == 32
    assert keys.vault_id == data["vault_id"]

    # Private files in a private folder; nothing else lies around.
    assert stat.S_IMODE(vault.data.stat().st_mode) == 0o700
    assert sorted(p.name for p in vault.data.iterdir()) == ["keys.json", "memory.db", "vault.lock"]
    for path in vault.data.iterdir():
        assert stat.S_IMODE(path.stat().st_mode) == 0o600, path

    # The database is encrypted, and no key is written anywhere, in any encoding.
    assert not vault.database.read_bytes().startswith(b"SQLite format 3")
    forbidden = {}
    for label, key in [
        ("master", keys.master),
        ("database", keys.database),
        ("snapshot", keys.snapshot),
    ]:
        forbidden[f"{label} raw"] = key
        forbidden[f"{label} base64"] = base64.b64encode(key)
        forbidden[f"{label} base64url"] = base64.urlsafe_b64encode(key).rstrip(b"=")
        forbidden[f"{label} hex"] = key.hex().encode()
        forbidden[f"{label} HEX"] = key.hex().upper().encode()
    files = state(isolated_home)
    assert files
    for where, content in files.items():
        for label, needle in forbidden.items():
            assert needle not in content, f"{label} key found in {where}"


def test_weakened_kdf_parameters_are_refused(vault: Paths, isolated_home: Path) -> None:
    """Lowering Argon2id's cost in keys.json must not make the passphrase cheaper to guess."""
    data = json.loads(vault.key_file.read_text())
    data["wrappers"]["passphrase"]["memory_kib"] = 1024
    vault.key_file.write_text(json.dumps(data))
    before = state(isolated_home)
    with pytest.raises(KeyFileError, match="memory_kib=1024 is out of range"):
        unlock(vault, secrets_with(PASSPHRASE))
    assert state(isolated_home) == before


def test_short_passphrase_is_refused_and_nothing_is_written(
    paths: Paths, isolated_home: Path
) -> None:
    with pytest.raises(VaultError, match="at least 8"):
        create_vault(paths, secrets_with("short"), mode="passphrase")
    assert state(isolated_home) == {}


def test_create_twice_refuses_and_changes_nothing(vault: Paths, isolated_home: Path) -> None:
    before = state(isolated_home)
    for mode in ("passphrase", "auto"):
        with pytest.raises(VaultExistsError, match="already exists"):
            create_vault(vault, secrets_with("another passphrase"), mode=mode)
        assert state(isolated_home) == before
    proc = run_me(
        "init",
        "--mode",
        "passphrase",
        check=False,
        input="",
        env={"SECONDSELF_PASSPHRASE": "another passphrase"},
    )
    assert_cli_error(proc, "already exists")
    assert state(isolated_home) == before
    unlock(vault, secrets_with(PASSPHRASE))  # still the same vault


@pytest.mark.parametrize("removed", ["keys.json", "memory.db"])
def test_init_refuses_over_part_of_a_vault(vault: Paths, isolated_home: Path, removed: str) -> None:
    (vault.data / removed).unlink()
    before = state(isolated_home)
    with pytest.raises(VaultExistsError):
        create_vault(vault, secrets_with(PASSPHRASE), mode="passphrase")
    assert state(isolated_home) == before
    proc = run_me(
        "init",
        "--mode",
        "passphrase",
        check=False,
        input="",
        env={"SECONDSELF_PASSPHRASE": PASSPHRASE},
    )
    assert_cli_error(proc, "already exists")
    assert state(isolated_home) == before
    assert not (vault.data / removed).exists()


# -- unlocking ---------------------------------------------------------------------
def test_right_passphrase_gives_the_database_key(vault: Paths) -> None:
    keys = unlock(vault, secrets_with(PASSPHRASE))
    db = open_database(vault.database, keys.database)
    try:
        assert db.get_meta("vault_id") == keys.vault_id
    finally:
        db.close()


def test_wrong_passphrase_is_refused_and_changes_nothing(vault: Paths, isolated_home: Path) -> None:
    before = state(isolated_home)
    with pytest.raises(WrongSecretError, match="wrong passphrase"):
        unlock(vault, secrets_with("not the passphrase"))
    with pytest.raises(WrongSecretError):
        Memory.open(vault, config(), secrets_with("not the passphrase"))
    assert state(isolated_home) == before


@pytest.mark.parametrize("command", ["status", "unlock"])
def test_cli_wrong_passphrase(vault: Paths, isolated_home: Path, command: str) -> None:
    before = state(isolated_home)
    proc = run_me(
        command, env={"SECONDSELF_PASSPHRASE": "wrong passphrase!"}, check=False, input=""
    )
    assert_cli_error(proc, "wrong passphrase")
    assert state(isolated_home) == before


def test_cli_right_passphrase_opens(vault: Paths) -> None:
    proc = run_me("unlock", env={"SECONDSELF_PASSPHRASE": PASSPHRASE}, input="")
    assert "Vault opens: 0 memories" in proc.stdout


def test_no_way_to_get_a_passphrase_is_vault_locked(
    vault: Paths, paths: Paths, isolated_home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    before = state(isolated_home)
    with pytest.raises(VaultLockedError, match="SECONDSELF_PASSPHRASE"):
        unlock(vault, Secrets())
    with pytest.raises(VaultLockedError):
        Memory.open(vault, config(), Secrets())
    with pytest.raises(VaultLockedError):
        recover(vault, Secrets(), mode="passphrase")
    assert state(isolated_home) == before
    # The environment is a passphrase source of its own.
    monkeypatch.setenv("SECONDSELF_PASSPHRASE", PASSPHRASE)
    assert unlock(vault, Secrets()).vault_id


def test_creating_without_a_passphrase_source_writes_nothing(
    paths: Paths, isolated_home: Path
) -> None:
    with pytest.raises(VaultLockedError):
        create_vault(paths, Secrets(), mode="passphrase")
    assert state(isolated_home) == {}
    # Through the CLI with no terminal and no SECONDSELF_PASSPHRASE.
    proc = run_me("init", "--mode", "passphrase", check=False, input="")
    assert_cli_error(proc, "SECONDSELF_PASSPHRASE")
    assert state(isolated_home) == {}


def test_second_opener_gets_busy_error(vault: Paths, isolated_home: Path) -> None:
    first = Memory.open(vault, config(), secrets_with(PASSPHRASE))
    try:
        started = time.monotonic()
        with pytest.raises(DatabaseBusyError, match="another Second Self process"):
            Memory.open(vault, config(lock_timeout=0.3), secrets_with(PASSPHRASE))
        assert time.monotonic() - started < 10
        proc = run_me(
            "status",
            check=False,
            input="",
            env={"SECONDSELF_PASSPHRASE": PASSPHRASE, "SECONDSELF_VAULT_LOCK_TIMEOUT": "0.3"},
        )
        assert_cli_error(proc, "another Second Self process")
    finally:
        first.close()
    with Memory.open(vault, config(lock_timeout=0.3), secrets_with(PASSPHRASE)) as again:
        assert again.keys.vault_id == first.keys.vault_id


# -- recovery ----------------------------------------------------------------------
def test_recovery_on_a_new_machine(paths: Paths, isolated_home: Path, tmp_path: Path) -> None:
    result = create_vault(paths, secrets_with(PASSPHRASE), mode="passphrase")
    phrase = result.recovery_phrase
    assert len(phrase.split()) == 24
    with Memory.open(paths, config(), secrets_with(PASSPHRASE)) as memory:
        add_episodes(memory, TEXTS)
    old_machine = state(isolated_home)
    old_recovery_wrap = json.loads(paths.key_file.read_text())["wrappers"]["recovery"]

    new_home = tmp_path / "new-machine"
    shutil.copytree(paths.data, new_home / "data")
    proc = run_me(
        "unlock",
        "--recovery",
        "--mode",
        "passphrase",
        input=phrase + "\n",
        env={"SECONDSELF_HOME": str(new_home), "SECONDSELF_PASSPHRASE": NEW_PASSPHRASE},
    )
    assert "Recovered" in proc.stdout
    assert f"Vault opens: {len(TEXTS)} memories" in proc.stdout

    new = paths_mod.resolve(new_home)
    data = json.loads(new.key_file.read_text())
    assert set(data["wrappers"]) == {"passphrase", "recovery"}
    assert data["wrappers"]["recovery"] == old_recovery_wrap  # the phrase stays valid
    assert stat.S_IMODE(new.key_file.stat().st_mode) == 0o600

    keys = unlock(new, secrets_with(NEW_PASSPHRASE))
    assert keys.vault_id == result.vault_id
    with pytest.raises(WrongSecretError):
        unlock(new, secrets_with(PASSPHRASE))
    by_phrase = unlock(new, secrets_with(recovery=phrase), use_recovery=True)
    assert by_phrase.master == keys.master
    # Case and spacing of the phrase do not matter.
    messy = "  " + "   ".join(w.upper() for w in phrase.split()) + "\n"
    assert unlock(new, secrets_with(recovery=messy), use_recovery=True).master == keys.master

    with Memory.open(new, config(), secrets_with(NEW_PASSPHRASE)) as memory:
        assert episode_texts(memory) == TEXTS
    proc = run_me(
        "status",
        env={"SECONDSELF_HOME": str(new_home), "SECONDSELF_PASSPHRASE": NEW_PASSPHRASE},
        input="",
    )
    assert f"{len(TEXTS)} episodes" in proc.stdout
    # The old machine's vault was not touched and still opens with the old passphrase.
    assert state(isolated_home) == old_machine
    unlock(paths, secrets_with(PASSPHRASE))


WRONG_PHRASES = {
    "other vault": (Mnemonic("english").to_mnemonic(os.urandom(32)), "does not belong"),
    "23 words": (
        " ".join(Mnemonic("english").to_mnemonic(os.urandom(32)).split()[:23]),
        "not a valid recovery phrase",
    ),
    "bad checksum": (bad_checksum_phrase(), "not a valid recovery phrase"),
    "unknown word": (" ".join(["zzzz"] * 24), "not a valid recovery phrase"),
    "empty": ("", "not a valid recovery phrase"),
}


@pytest.mark.parametrize("case", list(WRONG_PHRASES))
def test_wrong_recovery_phrase_changes_nothing(
    vault: Paths, isolated_home: Path, case: str
) -> None:
    phrase, message = WRONG_PHRASES[case]
    with Memory.open(vault, config(), secrets_with(PASSPHRASE)) as memory:
        add_episodes(memory, TEXTS)
    before = state(isolated_home)
    with pytest.raises(WrongSecretError, match=message):
        unlock(vault, secrets_with(recovery=phrase), use_recovery=True)
    with pytest.raises(WrongSecretError, match=message):
        recover(vault, secrets_with(NEW_PASSPHRASE, phrase), mode="passphrase")
    assert state(isolated_home) == before
    unlock(vault, secrets_with(PASSPHRASE))  # the old passphrase still works


@pytest.mark.parametrize("case", ["other vault", "bad checksum"])
def test_cli_wrong_recovery_phrase(vault: Paths, isolated_home: Path, case: str) -> None:
    phrase, message = WRONG_PHRASES[case]
    before = state(isolated_home)
    proc = recover_cli(phrase, check=False)
    assert_cli_error(proc, message)
    assert state(isolated_home) == before


# -- damaged files -----------------------------------------------------------------
def _truncate_half(paths: Paths, tmp_path: Path) -> None:
    data = paths.database.read_bytes()
    half = len(data) // 2 // 4096 * 4096  # whole pages: the page-size check cannot see it
    paths.database.write_bytes(data[:half])


def _truncate_one_page(paths: Paths, tmp_path: Path) -> None:
    paths.database.write_bytes(paths.database.read_bytes()[:4096])


def _truncate_odd(paths: Paths, tmp_path: Path) -> None:
    data = paths.database.read_bytes()
    paths.database.write_bytes(data[: len(data) - 1000])


def _truncate_zero(paths: Paths, tmp_path: Path) -> None:
    paths.database.write_bytes(b"")


def _random_bytes(paths: Paths, tmp_path: Path) -> None:
    paths.database.write_bytes(os.urandom(paths.database.stat().st_size))


def _plain_sqlite(paths: Paths, tmp_path: Path) -> None:
    paths.database.unlink()
    conn = sqlite3.connect(paths.database)
    conn.execute("CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT)")
    conn.execute("INSERT INTO meta VALUES ('vault_id', 'x')")
    conn.commit()
    conn.close()


def _other_vault(paths: Paths, tmp_path: Path) -> None:
    shutil.copyfile(other_vault(tmp_path).database, paths.database)


DAMAGE: dict[str, tuple[Callable[[Paths, Path], None], type[StoreError]]] = {
    "truncated to half": (_truncate_half, DatabaseDamagedError),
    "truncated to page 1": (_truncate_one_page, DatabaseDamagedError),
    "truncated mid-page": (_truncate_odd, DatabaseDamagedError),
    "truncated to 0 bytes": (_truncate_zero, DatabaseDamagedError),
    "random bytes": (_random_bytes, DatabaseKeyError),
    "plain sqlite": (_plain_sqlite, DatabaseKeyError),
    "another vault's database": (_other_vault, DatabaseKeyError),
}


@pytest.mark.parametrize("case", list(DAMAGE))
def test_damaged_database_fails_closed(
    vault: Paths, isolated_home: Path, tmp_path: Path, case: str
) -> None:
    damage, expected = DAMAGE[case]
    with Memory.open(vault, config(), secrets_with(PASSPHRASE)) as memory:
        add_episodes(memory, TEXTS)
    damage(vault, tmp_path)
    before = state(isolated_home)

    with pytest.raises(StoreError) as raised:
        Memory.open(vault, config(), secrets_with(PASSPHRASE))
    assert type(raised.value) is expected
    assert "memory.db" in str(raised.value)
    assert state(isolated_home) == before

    proc = run_me("status", env={"SECONDSELF_PASSPHRASE": PASSPHRASE}, check=False, input="")
    assert_cli_error(proc, "memory.db")
    after = state(isolated_home)
    assert sorted(after) == sorted(before)  # no new file (no -wal, -shm, journal)
    assert after == before


def test_missing_database_is_not_recreated(vault: Paths, isolated_home: Path) -> None:
    vault.database.unlink()
    before = state(isolated_home)
    with pytest.raises(DatabaseDamagedError, match="missing"):
        Memory.open(vault, config(), secrets_with(PASSPHRASE))
    assert state(isolated_home) == before
    proc = run_me("status", env={"SECONDSELF_PASSPHRASE": PASSPHRASE}, check=False, input="")
    assert_cli_error(proc, "missing")
    assert state(isolated_home) == before
    assert not vault.database.exists()


def test_missing_key_file_with_database(vault: Paths, isolated_home: Path) -> None:
    vault.key_file.unlink()
    before = state(isolated_home)
    with pytest.raises(KeyFileError, match="keys.json is missing"):
        Memory.open(vault, config(), secrets_with(PASSPHRASE))
    with pytest.raises(KeyFileError):
        unlock(vault, secrets_with(PASSPHRASE))
    proc = run_me("status", env={"SECONDSELF_PASSPHRASE": PASSPHRASE}, check=False, input="")
    assert_cli_error(proc, "keys.json")
    assert state(isolated_home) == before
    assert not vault.key_file.exists()


def _edit_json(edit: Callable[[dict], object]) -> Callable[[bytes], bytes]:
    def apply(original: bytes) -> bytes:
        data = copy.deepcopy(json.loads(original))
        edit(data)
        return json.dumps(data).encode()

    return apply


KEY_FILE_DAMAGE: dict[str, Callable[[bytes], bytes]] = {
    "invalid json": lambda b: b[: len(b) // 2],
    "empty": lambda b: b"",
    "binary garbage": lambda b: os.urandom(300),
    "json list": lambda b: b"[1, 2, 3]",
    "wrong format": _edit_json(lambda d: d.__setitem__("format", "something-else")),
    "newer version": _edit_json(lambda d: d.__setitem__("version", 2)),
    "no wrappers": _edit_json(lambda d: d.__setitem__("wrappers", {})),
    "wrappers not a dict": _edit_json(lambda d: d.__setitem__("wrappers", ["passphrase"])),
    "salt missing": _edit_json(lambda d: d["wrappers"]["passphrase"].pop("salt")),
    "nonce not base64": _edit_json(lambda d: d["wrappers"]["passphrase"].update(nonce="!!")),
    "cost not a number": _edit_json(
        lambda d: d["wrappers"]["passphrase"].update(memory_kib="lots")
    ),
    "only a recovery wrapper": _edit_json(lambda d: d["wrappers"].pop("passphrase")),
    "vault_id missing": _edit_json(lambda d: d.pop("vault_id")),
    "vault_id not a uuid": _edit_json(lambda d: d.update(vault_id="../../etc")),
    "unknown wrapper": _edit_json(lambda d: d["wrappers"].update(mystery={})),
    "wrapper not an object": _edit_json(lambda d: d["wrappers"].update(passphrase="x")),
    "nonce too short": _edit_json(lambda d: d["wrappers"]["passphrase"].update(nonce="AAAA")),
    "ciphertext cut": _edit_json(
        lambda d: d["wrappers"]["passphrase"].update(ciphertext="AAAAAAAAAAAAAAAAAAAAAAAA")
    ),
    "salt too short": _edit_json(lambda d: d["wrappers"]["passphrase"].update(salt="AAAA")),
    "other KDF": _edit_json(lambda d: d["wrappers"]["passphrase"].update(kdf="pbkdf2")),
    "absurd KDF memory": _edit_json(lambda d: d["wrappers"]["passphrase"].update(memory_kib=2**40)),
    "absurd KDF lanes": _edit_json(lambda d: d["wrappers"]["passphrase"].update(lanes=2**40)),
}


@pytest.mark.parametrize("case", list(KEY_FILE_DAMAGE))
def test_damaged_key_file(vault: Paths, isolated_home: Path, case: str) -> None:
    vault.key_file.write_bytes(KEY_FILE_DAMAGE[case](vault.key_file.read_bytes()))
    before = state(isolated_home)
    with pytest.raises(KeyFileError, match="keys.json"):
        unlock(vault, secrets_with(PASSPHRASE))
    with pytest.raises(KeyFileError):
        Memory.open(vault, config(), secrets_with(PASSPHRASE))
    assert state(isolated_home) == before
    proc = run_me("status", env={"SECONDSELF_PASSPHRASE": PASSPHRASE}, check=False, input="")
    assert_cli_error(proc, "keys.json")
    assert state(isolated_home) == before


def test_moved_wrapper_does_not_unlock_another_vault(vault: Paths, tmp_path: Path) -> None:
    """Wrappers are bound to their vault id: copying one into another keys.json fails."""
    other = other_vault(tmp_path)
    ours = json.loads(vault.key_file.read_text())
    theirs = json.loads(other.key_file.read_text())
    theirs["wrappers"]["passphrase"] = ours["wrappers"]["passphrase"]
    other.key_file.write_text(json.dumps(theirs))
    with pytest.raises(KeyFileError, match="damaged"):  # its checksum notices the change
        unlock(other, secrets_with(PASSPHRASE))
    # Without that checksum, the vault id in the wrapper's associated data still refuses it.
    del theirs["checksums"]["passphrase"]
    other.key_file.write_text(json.dumps(theirs))
    with pytest.raises(WrongSecretError):
        unlock(other, secrets_with(PASSPHRASE))


# -- keyring refusal ---------------------------------------------------------------
REFUSED_BACKENDS = {
    "keyring.backends.fail.Keyring": "no OS keyring is available",
    "keyring.backends.null.Keyring": "keyring is disabled",
}


@pytest.mark.parametrize("backend", list(REFUSED_BACKENDS))
def test_auto_mode_falls_back_to_passphrase(
    paths: Paths, isolated_home: Path, use_keyring_backend: Callable[[str], None], backend: str
) -> None:
    use_keyring_backend(backend)
    result = create_vault(paths, secrets_with(PASSPHRASE), mode="auto")
    assert result.mode == "passphrase"
    assert REFUSED_BACKENDS[backend] in result.reason
    assert set(json.loads(paths.key_file.read_text())["wrappers"]) == {"passphrase", "recovery"}
    assert unlock(paths, secrets_with(PASSPHRASE)).vault_id == result.vault_id


@pytest.mark.parametrize("backend", list(REFUSED_BACKENDS))
def test_keyring_mode_without_trusted_keyring_refuses(
    paths: Paths, isolated_home: Path, use_keyring_backend: Callable[[str], None], backend: str
) -> None:
    use_keyring_backend(backend)
    with pytest.raises(KeyringError, match=REFUSED_BACKENDS[backend]):
        create_vault(paths, secrets_with(PASSPHRASE), mode="keyring")
    assert state(isolated_home) == {}
    proc = run_me(
        "init",
        "--mode",
        "keyring",
        check=False,
        input="",
        env={"PYTHON_KEYRING_BACKEND": backend, "SECONDSELF_PASSPHRASE": PASSPHRASE},
    )
    assert_cli_error(proc, "keyring mode is not possible")
    assert state(isolated_home) == {}


def test_cli_init_auto_explains_the_fallback(paths: Paths) -> None:
    proc = run_me("init", env={"SECONDSELF_PASSPHRASE": PASSPHRASE}, input="")
    assert "opens with your passphrase" in proc.stdout
    assert "The OS keyring was not used: no OS keyring is available" in proc.stdout
    assert set(json.loads(paths.key_file.read_text())["wrappers"]) == {"passphrase", "recovery"}
    # The printed phrase (once, numbered 1..24) is the vault's recovery phrase.
    words = re.findall(r"\b\d+\.\s+([a-z]+)", proc.stdout)
    assert len(words) == 24
    keys = unlock(paths, secrets_with(recovery=" ".join(words)), use_recovery=True)
    assert keys.master == unlock(paths, secrets_with(PASSPHRASE)).master


def _backend(module: str, name: str) -> object:
    return type(name, (), {"__module__": module})()


def test_keyring_trust_refuses_plaintext_and_empty_backends() -> None:
    import keyring.backends.fail
    import keyring.backends.null

    plaintext = _backend("keyrings.alt.file", "PlaintextKeyring")
    choice = choose(plaintext)
    assert choice.backend is None
    assert "keyrings.alt.file.PlaintextKeyring" in choice.reason
    assert "file next to your data" in choice.reason
    for refused in (
        keyring.backends.fail.Keyring(),
        keyring.backends.null.Keyring(),
        _backend("keyrings.alt.file", "EncryptedKeyring"),
        _backend("my_keyring.SecretService", "Keyring"),  # look-alike name
        _backend("keyring.backends.SecretService", "Other"),
    ):
        assert choose(refused).backend is None, refused


@pytest.mark.parametrize("name", sorted(TRUSTED_BACKENDS))
def test_keyring_trust_accepts_os_keyrings(name: str) -> None:
    module, cls = name.rsplit(".", 1)
    backend = _backend(module, cls)
    choice = choose(backend)
    assert choice.backend is backend
    assert name in choice.reason


def test_keyring_trust_picks_the_trusted_backend_out_of_a_chainer() -> None:
    plaintext = _backend("keyrings.alt.file", "PlaintextKeyring")
    secret_service = _backend("keyring.backends.SecretService", "Keyring")
    chainer = types.SimpleNamespace(backends=[plaintext, secret_service])
    assert choose(chainer).backend is secret_service

    untrusted = types.SimpleNamespace(
        backends=[plaintext, _backend("keyrings.alt.file", "EncryptedKeyring")]
    )
    choice = choose(untrusted)
    assert choice.backend is None
    assert "PlaintextKeyring" in choice.reason and "EncryptedKeyring" in choice.reason


# -- a damaged key file is not a wrong passphrase -------------------------------------
B64 = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"


def _other_char(value: str, at: int, alphabet: str) -> str:
    """`value` with one character replaced by another of its alphabet (a silent flip)."""
    old = value[at]
    new = alphabet[(alphabet.index(old) + 1) % len(alphabet)]
    return value[:at] + new + value[at + 1 :]


def _field_edit(*keys: str, at: int = 3, alphabet: str = B64) -> Callable[[dict], None]:
    def edit(data: dict) -> None:
        *parents, last = keys
        holder = data
        for key in parents:
            holder = holder[key]
        holder[last] = _other_char(holder[last], at, alphabet)

    return edit


SILENT_DAMAGE: dict[str, Callable[[dict], None]] = {
    "passphrase ciphertext": _field_edit("wrappers", "passphrase", "ciphertext", at=20),
    "passphrase nonce": _field_edit("wrappers", "passphrase", "nonce"),
    "passphrase salt": _field_edit("wrappers", "passphrase", "salt"),
    "vault id": _field_edit("vault_id", at=0, alphabet="0123456789abcdef"),
    "KDF memory": lambda d: d["wrappers"]["passphrase"].update(memory_kib=65537),
}


@pytest.mark.parametrize("case", list(SILENT_DAMAGE))
def test_silently_damaged_key_file_is_not_a_wrong_passphrase(
    vault: Paths, isolated_home: Path, case: str
) -> None:
    """Changes that keep the file well-formed: only the checksums can tell."""
    data = json.loads(vault.key_file.read_text())
    SILENT_DAMAGE[case](data)
    vault.key_file.write_text(json.dumps(data, indent=2))
    before = state(isolated_home)
    with pytest.raises(KeyFileError, match="key file .* is damaged") as raised:
        unlock(vault, secrets_with(PASSPHRASE))
    assert "wrong passphrase" not in str(raised.value)
    assert state(isolated_home) == before
    proc = run_me("status", env={"SECONDSELF_PASSPHRASE": PASSPHRASE}, check=False, input="")
    assert_cli_error(proc, "key file", "is damaged")
    assert "wrong passphrase" not in proc.stderr
    assert state(isolated_home) == before


def test_a_flipped_byte_anywhere_never_says_wrong_passphrase(
    vault: Paths, isolated_home: Path
) -> None:
    original = vault.key_file.read_bytes()
    outcomes = set()
    for at in range(0, len(original), max(1, len(original) // 40)):
        flipped = bytearray(original)
        flipped[at] ^= 0x01
        vault.key_file.write_bytes(bytes(flipped))
        before = state(isolated_home)
        try:
            unlock(vault, secrets_with(PASSPHRASE))
            outcomes.add("opens")  # e.g. a checksum of an unused part: nothing lost
        except KeyFileError as exc:
            outcomes.add("damaged")
            assert "is damaged" in str(exc), (at, exc)
            assert state(isolated_home) == before, at
    assert "damaged" in outcomes
    vault.key_file.write_bytes(original)


def test_wrong_passphrase_still_says_so(vault: Paths, isolated_home: Path) -> None:
    assert "checksums" in json.loads(vault.key_file.read_text())
    before = state(isolated_home)
    with pytest.raises(WrongSecretError, match="wrong passphrase"):
        unlock(vault, secrets_with("not the passphrase"))
    assert state(isolated_home) == before


def test_key_file_without_checksums_keeps_working_and_gains_them(
    vault: Paths, isolated_home: Path
) -> None:
    data = json.loads(vault.key_file.read_text())
    sums = data.pop("checksums")
    vault.key_file.write_text(json.dumps(data, indent=2, sort_keys=True) + "\n")
    before = state(isolated_home)
    with pytest.raises(WrongSecretError):  # an older file cannot tell damage apart
        unlock(vault, secrets_with("not the passphrase"))
    assert state(isolated_home) == before  # no file changed on a failure
    unlock(vault, secrets_with(PASSPHRASE))
    assert json.loads(vault.key_file.read_text())["checksums"] == sums
    assert stat.S_IMODE(vault.key_file.stat().st_mode) == 0o600


def test_damaged_passphrase_wrapper_is_mended_with_the_recovery_phrase(
    paths: Paths, isolated_home: Path
) -> None:
    phrase = create_vault(paths, secrets_with(PASSPHRASE), mode="passphrase").recovery_phrase
    data = json.loads(paths.key_file.read_text())
    SILENT_DAMAGE["passphrase ciphertext"](data)
    paths.key_file.write_text(json.dumps(data))
    proc = run_me("unlock", env={"SECONDSELF_PASSPHRASE": PASSPHRASE}, check=False, input="")
    assert_cli_error(proc, "is damaged", "me unlock --recovery")
    proc = recover_cli(phrase)
    assert "Recovered" in proc.stdout and "Vault opens" in proc.stdout
    assert unlock(paths, secrets_with(NEW_PASSPHRASE)).vault_id == data["vault_id"]
    assert "All is well." in run_me("check", env={"SECONDSELF_PASSPHRASE": NEW_PASSPHRASE}).stdout


def test_damaged_recovery_wrapper_is_named_by_check(paths: Paths, isolated_home: Path) -> None:
    phrase = create_vault(paths, secrets_with(PASSPHRASE), mode="passphrase").recovery_phrase
    data = json.loads(paths.key_file.read_text())
    _field_edit("wrappers", "recovery", "ciphertext", at=10)(data)
    paths.key_file.write_text(json.dumps(data))
    unlock(paths, secrets_with(PASSPHRASE))  # the passphrase still opens it
    proc = run_me("check", env={"SECONDSELF_PASSPHRASE": PASSPHRASE}, check=False, input="")
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert "keys.json       DAMAGED: the recovery wrapper changed" in proc.stdout
    assert "restore keys.json from a backup" in proc.stdout
    before = state(isolated_home)
    with pytest.raises(KeyFileError, match="recovery wrapper changed"):
        unlock(paths, secrets_with(recovery=phrase), use_recovery=True)
    assert state(isolated_home) == before
