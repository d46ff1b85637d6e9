"""Create a vault and unlock it: where passphrases, the keyring and recovery phrases meet.

The store never sees any of this; it receives the derived keys from `unlock`.
A failed unlock changes no file: secrets are checked against keys.json before the
database is touched.
"""

from __future__ import annotations

import base64
import logging
import os
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from assistant.errors import (
    KeyFileError,
    KeyringError,
    VaultError,
    VaultExistsError,
    VaultLockedError,
    VaultNotFoundError,
)
from assistant.keys import KEYRING_SERVICE, KeyFile, VaultKeys, recovery_phrase_for
from assistant.paths import Paths, ensure_private
from policies.keyring_trust import choose_active

log = logging.getLogger(__name__)

PASSPHRASE_ENV = "SECONDSELF_PASSPHRASE"
MIN_PASSPHRASE = 8


@dataclass
class Secrets:
    """Where secrets come from: the environment first, then an interactive prompt."""

    ask_passphrase: Callable[[bool], str] | None = None  # arg: confirm twice
    ask_recovery: Callable[[], str] | None = None
    # Asked once per command: `me init --name` creates, then opens, the vault.
    _remembered: str | None = field(default=None, repr=False)

    def passphrase(self, confirm: bool = False) -> str:
        from_env = os.environ.get(PASSPHRASE_ENV)
        if from_env:
            return from_env
        if self._remembered is not None:
            return self._remembered
        if self.ask_passphrase is None:
            raise VaultLockedError(
                f"the vault needs its passphrase: set {PASSPHRASE_ENV} or run in a terminal"
            )
        self._remembered = self.ask_passphrase(confirm)
        return self._remembered

    def recovery_phrase(self) -> str:
        if self.ask_recovery is None:
            raise VaultLockedError("a recovery phrase is needed: run in a terminal")
        return self.ask_recovery()


@dataclass(frozen=True)
class InitResult:
    vault_id: str
    mode: str  # "keyring" or "passphrase"
    reason: str  # why this mode (e.g. why the keyring was refused)
    recovery_phrase: str


def _keyring_user(vault_id: str) -> str:
    return f"vault:{vault_id}"


def _wrap_for_this_machine(
    kf: KeyFile, master: bytes, secrets: Secrets, mode: str
) -> tuple[str, str]:
    """Add a keyring or passphrase wrapper; returns (mode used, reason)."""
    if mode not in ("auto", "keyring", "passphrase"):
        raise VaultError(f"unknown unlock mode {mode!r}: use auto, keyring or passphrase")
    reason = "passphrase mode was asked for"
    if mode in ("auto", "keyring"):
        choice = choose_active()
        if choice.backend is not None:
            secret = os.urandom(32)
            user = _keyring_user(kf.vault_id)
            try:
                choice.backend.set_password(
                    KEYRING_SERVICE, user, base64.b64encode(secret).decode()
                )
            except Exception as exc:  # any backend failure means: not usable here
                reason = f"the keyring refused to store the key: {exc}"
            else:
                kf.wrap_with_keyring_secret(master, secret, user)
                kf.wrappers.pop("passphrase", None)
                return "keyring", choice.reason
        else:
            reason = choice.reason
        if mode == "keyring":
            raise KeyringError(f"keyring mode is not possible: {reason}")
    passphrase = secrets.passphrase(confirm=True)
    if len(passphrase) < MIN_PASSPHRASE:
        raise VaultError(f"the passphrase must have at least {MIN_PASSPHRASE} characters")
    kf.wrap_with_passphrase(master, passphrase)
    _forget_keyring_entry(kf.wrappers.pop("keyring", None))
    return "passphrase", reason


def _forget_keyring_entry(entry: dict[str, Any] | None) -> None:
    """Best effort: a secret that no longer wraps anything should not linger."""
    if entry is None:
        return
    choice = choose_active()
    if choice.backend is None:
        return
    try:
        choice.backend.delete_password(entry.get("service", KEYRING_SERVICE), entry["username"])
    except Exception as exc:  # already gone, or the keyring is unreachable here
        log.info("old keyring entry not removed: %s", exc)


def create_vault(paths: Paths, secrets: Secrets, mode: str = "auto") -> InitResult:
    """Make a new vault; refuses if any part of one already exists."""
    from store.database import create_database  # sqlcipher3: not on `me --help`'s path

    for existing in (paths.key_file, paths.database, paths.snapshot):
        if existing.exists():
            raise VaultExistsError(
                f"a vault already exists at {paths.data} ({existing.name} is there); "
                "nothing was changed"
            )
    ensure_private(paths.data)
    master, entropy = os.urandom(32), os.urandom(32)
    kf = KeyFile.new(paths.key_file)
    used, reason = _wrap_for_this_machine(kf, master, secrets, mode)
    kf.wrap_with_recovery(master, entropy)
    kf.save(create=True)
    keys = VaultKeys(kf.vault_id, master)
    try:
        db = create_database(paths.database, keys.database)
    except BaseException:
        paths.key_file.unlink(missing_ok=True)  # ours, from a moment ago
        raise
    with db.write():
        db.set_meta("vault_id", kf.vault_id)
    db.close()
    paths.lock_file.touch(mode=0o600)
    return InitResult(kf.vault_id, used, reason, recovery_phrase_for(entropy))


def load_key_file(paths: Paths) -> KeyFile:
    if not paths.key_file.exists():
        if paths.database.exists():
            raise KeyFileError(
                f"{paths.key_file} is missing but the database exists; restore keys.json "
                "from a backup. Nothing was changed."
            )
        raise VaultNotFoundError(f"no vault at {paths.data}; create one with `me init`")
    return KeyFile.load(paths.key_file)


def _keyring_secret(kf: KeyFile) -> bytes | None:
    """This vault's secret from a trusted keyring, or None when that is not possible."""
    if "keyring" in kf.damaged and "passphrase" in kf.wrappers:
        return None  # the passphrase still opens the vault; `me check` names the damage
    kf.require_usable("keyring")
    entry: dict[str, Any] = kf.wrappers["keyring"]
    choice = choose_active()
    if choice.backend is None:
        if "passphrase" in kf.wrappers:
            return None
        raise KeyringError(
            f"this vault's key is kept in the OS keyring, which is not usable here "
            f"({choice.reason}); unlock with `me unlock --recovery`"
        )
    try:
        stored = choice.backend.get_password(
            entry.get("service", KEYRING_SERVICE), entry["username"]
        )
    except Exception as exc:  # locked collection, dismissed prompt, D-Bus failure
        if "passphrase" in kf.wrappers:
            log.warning("the keyring could not be read (%s); asking for the passphrase", exc)
            return None
        raise KeyringError(
            f"the OS keyring could not be read ({exc}); unlock it and try again, "
            "or unlock with `me unlock --recovery`. Nothing was changed."
        ) from exc
    if stored is None:
        raise KeyringError(
            f"the keyring has no entry for this vault ({entry['username']}); "
            "unlock with `me unlock --recovery`. Nothing was changed."
        )
    try:
        return base64.b64decode(stored, validate=True)
    except ValueError as exc:
        raise KeyringError("the keyring entry for this vault is damaged") from exc


def unlock(paths: Paths, secrets: Secrets, use_recovery: bool = False) -> VaultKeys:
    """The vault's keys, from the keyring, the passphrase, or the recovery phrase."""
    kf = load_key_file(paths)
    if use_recovery:
        used, master = "recovery", kf.unwrap_with_recovery(secrets.recovery_phrase())
    elif "keyring" in kf.wrappers and (secret := _keyring_secret(kf)) is not None:
        used, master = "keyring", kf.unwrap_with_keyring_secret(secret)
    elif "passphrase" in kf.wrappers:
        used, master = "passphrase", kf.unwrap_with_passphrase(secrets.passphrase())
    else:
        raise KeyFileError(f"{kf.path} has no wrapper usable on this machine")
    kf.settle(used)  # an older file gains its checksums here
    return VaultKeys(kf.vault_id, master)


def recover(paths: Paths, secrets: Secrets, mode: str = "auto") -> tuple[VaultKeys, str, str]:
    """Unlock with the recovery phrase, then re-wrap the key for this machine.

    Returns (keys, mode, reason). The recovery wrapper is kept, so the same phrase keeps
    working; the old passphrase or keyring wrapper is replaced.
    """
    keys = unlock(paths, secrets, use_recovery=True)
    kf = load_key_file(paths)
    used, reason = _wrap_for_this_machine(kf, keys.master, secrets, mode)
    kf.save()
    return keys, used, reason


def key_file_mode(path: Path) -> str:
    """'keyring', 'passphrase' or 'unknown', for `me status`."""
    try:
        wrappers = KeyFile.load(path).wrappers
    except (KeyFileError, FileNotFoundError):
        return "unknown"
    return "keyring" if "keyring" in wrappers else "passphrase"
