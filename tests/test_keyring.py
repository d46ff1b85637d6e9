"""Keyring mode against a real Secret Service (gnome-keyring on a private D-Bus).

Everything runs through the real CLI in subprocesses, with the private bus in
their environment; nothing here talks to the user's own keyring. Without the
daemons these tests are skipped, unless SECONDSELF_REQUIRE_KEYRING=1 makes that
a failure (CI sets it so that keyring mode is really exercised).
"""

from __future__ import annotations

import base64
import contextlib
import json
import os
import re
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from assistant import paths as paths_mod
from assistant.keys import KEYRING_SERVICE, KeyFile
from tests.conftest import PASSPHRASE, run_me, tree_digest
from tests.secret_service import (
    INSTALL_HINT,
    SecretService,
    SecretServiceUnavailable,
    missing_binaries,
    running_secret_service,
)

pytestmark = pytest.mark.keyring

REQUIRE_ENV = "SECONDSELF_REQUIRE_KEYRING"


@contextlib.contextmanager
def _started() -> Iterator[SecretService]:
    required = os.environ.get(REQUIRE_ENV) == "1"
    missing = missing_binaries()
    if missing:
        message = (
            f"a real Secret Service is needed but {' and '.join(missing)} "
            f"{'is' if len(missing) == 1 else 'are'} not installed; "
            f"install with `{INSTALL_HINT}`"
        )
        if required:
            pytest.fail(f"{REQUIRE_ENV}=1: {message}", pytrace=False)
        pytest.skip(message)
    try:
        with running_secret_service() as service:
            yield service
    except SecretServiceUnavailable as exc:
        if required:
            pytest.fail(f"{REQUIRE_ENV}=1: the Secret Service did not start: {exc}", pytrace=False)
        pytest.skip(f"the Secret Service did not start: {exc}")


@pytest.fixture(scope="module")
def secret_service() -> Iterator[SecretService]:
    """One Secret Service for the module; each test uses its own vault id."""
    with _started() as service:
        yield service


@pytest.fixture
def own_secret_service() -> Iterator[SecretService]:
    """A Secret Service for one test that leaves it unusable (e.g. locked)."""
    with _started() as service:
        yield service


def me(
    service: SecretService,
    *args: str,
    input: str = "",
    check: bool = True,
) -> subprocess.CompletedProcess[str]:
    """The CLI with the private Secret Service and no passphrase anywhere."""
    assert "SECONDSELF_PASSPHRASE" not in os.environ
    return run_me(*args, env=service.env, input=input, check=check)


def phrase_from(stdout: str) -> str:
    words = re.findall(r"\b\d+\.\s+([a-z]+)", stdout)
    assert len(words) == 24, stdout
    return " ".join(words)


def key_file() -> dict:
    return json.loads(paths_mod.resolve().key_file.read_text())


def entry(service: SecretService, vault_id: str) -> str | None:
    return service.lookup(service=KEYRING_SERVICE, username=f"vault:{vault_id}")


def init_keyring_vault(service: SecretService, *mode: str) -> tuple[str, str]:
    """`me init` through the keyring; returns (vault id, recovery phrase)."""
    proc = me(service, "init", *mode)
    assert "its key is in the OS keyring" in proc.stdout
    assert "keyring.backends.SecretService.Keyring" in proc.stdout
    data = key_file()
    assert set(data["wrappers"]) == {"keyring", "recovery"}  # no passphrase wrapper
    assert data["wrappers"]["keyring"]["username"] == f"vault:{data['vault_id']}"
    return data["vault_id"], phrase_from(proc.stdout)


def master_key(phrase: str) -> bytes:
    return KeyFile.load(paths_mod.resolve().key_file).unwrap_with_recovery(phrase)


def test_init_auto_uses_the_keyring(secret_service: SecretService, isolated_home: Path) -> None:
    vault_id, phrase = init_keyring_vault(secret_service)

    status = me(secret_service, "status")  # no passphrase needed
    assert "unlock    keyring" in status.stdout
    assert me(secret_service, "unlock").stdout.startswith("Vault opens: 0 memories")

    # The secret is really in the Secret Service, and it is not the master key:
    # it is a separate random key that unwraps the keyring wrapper.
    stored = entry(secret_service, vault_id)
    assert stored is not None
    secret = base64.b64decode(stored)
    master = master_key(phrase)
    assert len(secret) == 32 and secret != master
    assert KeyFile.load(paths_mod.resolve().key_file).unwrap_with_keyring_secret(secret) == master
    for path, content in tree_digest(isolated_home).items():
        assert master not in content and base64.b64encode(master) not in content, path
        assert secret not in content and stored.encode() not in content, path

    # Without the Secret Service on the bus the vault does not open, and says why.
    proc = run_me("status", check=False, input="")  # PYTHON_KEYRING_BACKEND=fail
    assert proc.returncode != 0
    assert "me unlock --recovery" in proc.stderr and "Traceback" not in proc.stderr


def test_init_keyring_mode(secret_service: SecretService) -> None:
    vault_id, _ = init_keyring_vault(secret_service, "--mode", "keyring")
    assert entry(secret_service, vault_id) is not None
    me(secret_service, "status")


def test_lost_keyring_entry_then_recovery(
    secret_service: SecretService, isolated_home: Path
) -> None:
    vault_id, phrase = init_keyring_vault(secret_service)
    old_secret = entry(secret_service, vault_id)
    secret_service.clear(service=KEYRING_SERVICE, username=f"vault:{vault_id}")
    assert entry(secret_service, vault_id) is None
    before = tree_digest(isolated_home)

    proc = me(secret_service, "status", check=False)
    assert proc.returncode != 0
    assert "Traceback" not in proc.stderr
    assert "me unlock --recovery" in proc.stderr
    assert "no entry for this vault" in proc.stderr
    assert tree_digest(isolated_home) == before

    # A wrong phrase changes nothing and stores nothing.
    wrong = me(
        secret_service,
        "unlock",
        "--recovery",
        "--mode",
        "keyring",
        input="abandon " * 23 + "art\n",
        check=False,
    )
    assert wrong.returncode != 0 and "does not belong" in wrong.stderr
    assert tree_digest(isolated_home) == before
    assert entry(secret_service, vault_id) is None

    proc = me(secret_service, "unlock", "--recovery", "--mode", "keyring", input=phrase + "\n")
    assert "Recovered. From now on the vault opens with the OS keyring." in proc.stdout
    new_secret = entry(secret_service, vault_id)
    assert new_secret is not None and new_secret != old_secret
    data = key_file()
    assert set(data["wrappers"]) == {"keyring", "recovery"}
    assert "unlock    keyring" in me(secret_service, "status").stdout
    assert master_key(phrase) == KeyFile.load(
        paths_mod.resolve().key_file
    ).unwrap_with_keyring_secret(base64.b64decode(new_secret))


def test_keyring_entry_of_another_vault_is_refused(
    secret_service: SecretService, isolated_home: Path
) -> None:
    vault_id, _ = init_keyring_vault(secret_service)
    secret_service.store(
        base64.b64encode(os.urandom(32)).decode(),
        service=KEYRING_SERVICE,
        username=f"vault:{vault_id}",
    )
    before = tree_digest(isolated_home)
    proc = me(secret_service, "status", check=False)
    assert proc.returncode != 0 and "Traceback" not in proc.stderr
    assert "another vault" in proc.stderr and "me unlock --recovery" in proc.stderr
    assert tree_digest(isolated_home) == before


def test_passphrase_vault_moves_to_the_keyring_by_recovery(
    secret_service: SecretService, isolated_home: Path
) -> None:
    proc = run_me(
        "init", "--mode", "passphrase", input="", env={"SECONDSELF_PASSPHRASE": PASSPHRASE}
    )
    phrase = phrase_from(proc.stdout)
    proc = me(secret_service, "unlock", "--recovery", input=phrase + "\n")  # --mode auto
    assert "opens with the OS keyring" in proc.stdout
    assert set(key_file()["wrappers"]) == {"keyring", "recovery"}
    assert "unlock    keyring" in me(secret_service, "status").stdout


def test_locked_keyring_is_a_clear_error(
    own_secret_service: SecretService, isolated_home: Path
) -> None:
    init_keyring_vault(own_secret_service)
    own_secret_service.lock()
    before = tree_digest(isolated_home)
    proc = me(own_secret_service, "status", check=False)
    assert tree_digest(isolated_home) == before
    assert proc.returncode != 0
    assert "Traceback" not in proc.stderr, proc.stderr[-600:]
    assert "Error:" in proc.stderr and "keyring" in proc.stderr.lower()


def test_damaged_keyring_wrapper_says_the_key_file_is_damaged(
    secret_service: SecretService, isolated_home: Path
) -> None:
    """A changed byte in the keyring wrapper is damage to keys.json, not a foreign entry."""
    init_keyring_vault(secret_service)
    path = paths_mod.resolve().key_file
    data = key_file()
    wrapped = data["wrappers"]["keyring"]["ciphertext"]
    data["wrappers"]["keyring"]["ciphertext"] = (
        wrapped[:8] + ("A" if wrapped[8] != "A" else "B") + (wrapped[9:])
    )
    path.write_text(json.dumps(data, indent=2))
    before = tree_digest(isolated_home)
    proc = me(secret_service, "status", check=False)
    assert proc.returncode != 0 and "Traceback" not in proc.stderr, proc.stderr
    assert "is damaged" in proc.stderr and "another vault" not in proc.stderr, proc.stderr
    assert tree_digest(isolated_home) == before


def test_a_keyring_vault_daemon_unlocks_itself(
    secret_service: SecretService, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """In keyring mode the daemon opens the vault at start, and `me unlock` after a
    lock needs no prompt: the key comes from the Secret Service, never a passphrase."""
    runtime = Path(tempfile.mkdtemp(prefix="ssk", dir="/tmp"))  # a socket path is short
    monkeypatch.setenv("XDG_RUNTIME_DIR", str(runtime))
    try:
        init_keyring_vault(secret_service, "--mode", "keyring")
        me(secret_service, "daemon", "start")
        state = json.loads(me(secret_service, "daemon", "status", "--json").stdout)
        assert state["running"] is True and state["locked"] is False
        assert state["unlock_mode"] == "keyring"
        assert "locked" in me(secret_service, "lock").stdout
        assert "unlocked" in me(secret_service, "unlock", input="").stdout
        note = tmp_path / "heron.md"
        note.write_text("# Birds\n\nA grey heron stood in the canal.\n")
        me(secret_service, "ingest", str(note))
        found = me(secret_service, "recall", "heron", "--json", "--no-reinforce")
        assert "grey heron" in found.stdout
        assert json.loads(me(secret_service, "daemon", "status", "--json").stdout)["requests"] == 2
    finally:
        run_me("daemon", "stop", env=secret_service.env, check=False)
        shutil.rmtree(runtime, ignore_errors=True)
