"""The vault's key file: one random master key, wrapped several ways, never stored plain.

    master key (256 bits, random)
      ├─ wrapped by Argon2id(passphrase)          "passphrase"
      ├─ wrapped by a secret in the OS keyring    "keyring"
      └─ wrapped by HKDF(recovery entropy)        "recovery"   (24 BIP-39 words)

Each wrap is AES-256-GCM with the vault id and wrapper name as associated data, so
a wrapper cannot be moved to another vault. The database key and the snapshot key
are derived from the master key with HKDF, one label each.
"""

from __future__ import annotations

import base64
import hashlib
import json
import logging
import os
import secrets
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.argon2 import Argon2id
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from mnemonic import Mnemonic

from assistant.errors import KeyFileError, VaultExistsError, WrongSecretError

log = logging.getLogger(__name__)

FORMAT = "secondself-keys"
VERSION = 1
KEYRING_SERVICE = "secondself"

# RFC 9106 second recommended option; stored per wrap so it can be raised later.
ARGON2_DEFAULTS = {"memory_kib": 64 * 1024, "iterations": 3, "lanes": 4}
ARGON2_MINIMUM = {"memory_kib": 64 * 1024, "iterations": 3, "lanes": 4}


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def _unb64(text: str) -> bytes:
    return base64.b64decode(text.encode("ascii"), validate=True)


def _hkdf(secret: bytes, label: str) -> bytes:
    return HKDF(hashes.SHA256(), 32, salt=None, info=f"secondself/{label}".encode()).derive(secret)


@dataclass(frozen=True)
class VaultKeys:
    """The unlocked master key and the keys derived from it for each use."""

    vault_id: str
    master: bytes = field(repr=False)

    @property
    def database(self) -> bytes:
        return _hkdf(self.master, "sqlcipher")

    @property
    def snapshot(self) -> bytes:
        return _hkdf(self.master, "vector-snapshot")

    @property
    def audit(self) -> bytes:
        return _hkdf(self.master, "audit-mac")

    @property
    def ledger(self) -> bytes:
        return _hkdf(self.master, "forget-ledger")


def argon2_key(passphrase: str, salt: bytes, params: dict[str, int]) -> bytes:
    kdf = Argon2id(
        salt=salt,
        length=32,
        iterations=params["iterations"],
        lanes=params["lanes"],
        memory_cost=params["memory_kib"],
    )
    return kdf.derive(passphrase.encode("utf-8"))


def recovery_phrase_for(entropy: bytes) -> str:
    return Mnemonic("english").to_mnemonic(entropy)


def recovery_entropy(phrase: str) -> bytes:
    """The 256-bit entropy of a recovery phrase; raises WrongSecretError if malformed."""
    words = " ".join(phrase.lower().split())
    m = Mnemonic("english")
    if len(words.split()) != 24 or not m.check(words):
        raise WrongSecretError(
            "that is not a valid recovery phrase (24 words with a checksum); check the words"
        )
    return bytes(m.to_entropy(words))


# Bounds on what a key file may ask of this machine: a hostile keys.json must not be
# able to demand terabytes of Argon2 memory.
ARGON2_MAXIMUM = {"memory_kib": 4 * 1024 * 1024, "iterations": 64, "lanes": 64}
WRAPPER_FIELDS = {
    "passphrase": {"kdf", "salt", "memory_kib", "iterations", "lanes"},
    "recovery": {"kdf"},
    "keyring": {"service", "username"},
}


def _b64_len(value: Any) -> int | None:
    try:
        return len(_unb64(value)) if isinstance(value, str) else None
    except ValueError:
        return None


def _header_problem(data: dict[str, Any]) -> str | None:
    """What is wrong with the file around its wrappers, or None. Checks shape only."""
    try:
        uuid.UUID(str(data.get("vault_id")))
    except ValueError:
        return "no valid vault_id"
    wrappers = data.get("wrappers")
    if not isinstance(wrappers, dict) or not wrappers:
        return "it holds no wrapped key"
    unknown = sorted(set(wrappers) - set(WRAPPER_FIELDS))
    if unknown:
        return f"unknown wrapper {unknown[0]!r}"
    return None


def _wrapper_problem(name: str, entry: Any) -> str | None:
    """What is wrong with one wrapper, or None. Checks shape, not secrets."""
    needed = WRAPPER_FIELDS[name] | {"nonce", "ciphertext"}
    if not isinstance(entry, dict) or not needed <= set(entry):
        return f"the {name} wrapper is incomplete"
    if _b64_len(entry["nonce"]) != 12 or _b64_len(entry["ciphertext"]) != 48:
        return f"the {name} wrapper has a malformed nonce or ciphertext"
    if name == "passphrase":
        if entry["kdf"] != "argon2id" or (_b64_len(entry["salt"]) or 0) < 16:
            return "the passphrase wrapper has an unknown KDF or a short salt"
        for param, low in ARGON2_MINIMUM.items():
            value = entry[param]
            if not isinstance(value, int) or not low <= value <= ARGON2_MAXIMUM[param]:
                return f"passphrase KDF parameter {param}={value!r} is out of range"
    if name == "keyring" and not all(isinstance(entry[f], str) for f in ("service", "username")):
        return "the keyring wrapper names no keyring entry"
    return None


def _header(data: dict[str, Any]) -> dict[str, Any]:
    """Everything around the wrappers: format, version, vault id, creation time."""
    return {k: v for k, v in data.items() if k not in ("wrappers", "checksums")}


def _digest(part: Any) -> str:
    return hashlib.sha256(
        json.dumps(part, sort_keys=True, separators=(",", ":")).encode()
    ).hexdigest()


def remedy(part: str) -> str:
    """What to do about a damaged part of the key file."""
    if part in ("passphrase", "keyring"):
        return (
            f"Unlock with your recovery phrase (`me unlock --recovery`), which writes a new "
            f"{part} wrapper, or restore keys.json from a backup."
        )
    if part == "recovery":
        return (
            "Your recovery phrase no longer opens this vault (your passphrase or keyring "
            "still does): restore keys.json from a backup made before the damage."
        )
    return (
        "Restore keys.json from a backup: the recovery phrase cannot help here, as it "
        "needs this part of the file too."
    )


class KeyFile:
    """keys.json: the wrapped master key in several envelopes, plus KDF parameters.

    Each part (the header around the wrappers, and each wrapper) has a SHA-256
    checksum written with it. It tells accidental damage from a wrong passphrase:
    AES-GCM alone cannot, since both make the unwrap fail. Files written before the
    checksums gain them on their next successful unlock.
    """

    def __init__(self, data: dict[str, Any], path: Path, damaged: dict[str, str] | None = None):
        self.data = data
        self.path = path
        self.damaged = damaged or {}  # wrapper name -> what is wrong with its shape

    @property
    def vault_id(self) -> str:
        return str(self.data["vault_id"])

    @property
    def wrappers(self) -> dict[str, dict[str, Any]]:
        wrappers: dict[str, dict[str, Any]] = self.data["wrappers"]
        return wrappers

    # -- reading and writing ---------------------------------------------------
    @classmethod
    def new(cls, path: Path) -> KeyFile:
        data = {
            "format": FORMAT,
            "version": VERSION,
            "vault_id": str(uuid.uuid4()),
            "created": datetime.now(UTC).isoformat(timespec="seconds"),
            "wrappers": {},
        }
        return cls(data, path)

    @classmethod
    def load(cls, path: Path) -> KeyFile:
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise
        except OSError as exc:
            raise KeyFileError(f"the key file {path} cannot be read: {exc}") from exc
        except ValueError as exc:
            raise KeyFileError(
                f"the key file {path} is damaged (not valid JSON: {exc}). "
                f"{remedy('header')} Nothing was changed."
            ) from exc
        if not isinstance(data, dict):
            raise KeyFileError(f"{path} is not a Second Self key file")
        problem = _header_problem(data)
        if data.get("format") != FORMAT or data.get("version") != VERSION:
            sums = data.get("checksums")
            # With checksums, a header that matches its own is genuine: another format.
            if not isinstance(sums, dict) or sums.get("header") == _digest(_header(data)):
                if data.get("format") != FORMAT:
                    raise KeyFileError(f"{path} is not a Second Self key file")
                raise KeyFileError(f"{path} has key file version {data.get('version')!r}")
            problem = "its format or version field changed"
        if problem:
            raise KeyFileError(
                f"the key file {path} is damaged: {problem}. {remedy('header')} "
                "Nothing was changed."
            )
        damaged = {
            name: found
            for name, entry in data["wrappers"].items()
            if (found := _wrapper_problem(name, entry))
        }
        return cls(data, path, damaged)

    def save(self, *, create: bool = False) -> None:
        """Write atomically (temp file, fsync, rename); `create` refuses to overwrite.

        Parts without a checksum gain one; a checksum that does not match is kept, so
        damage stays visible until the part is written anew.
        """
        if create and self.path.exists():
            raise VaultExistsError(f"{self.path} already exists; refusing to replace it")
        sums = self._sums()
        for part in [p for p in sums if p != "header" and p not in self.wrappers]:
            del sums[part]
        for part in ["header", *self.wrappers]:
            sums.setdefault(part, _digest(self._part(part)))
        tmp = self.path.with_name(f".{self.path.name}.{secrets.token_hex(4)}.tmp")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            json.dump(self.data, fh, indent=2, sort_keys=True)
            fh.write("\n")
            fh.flush()
            os.fsync(fh.fileno())
        if create:
            try:
                os.link(tmp, self.path)  # atomic create-if-absent
            finally:
                tmp.unlink()
        else:
            os.replace(tmp, self.path)

    # -- checksums -------------------------------------------------------------
    def _sums(self) -> dict[str, str]:
        if not isinstance(self.data.get("checksums"), dict):
            self.data["checksums"] = {}
        sums: dict[str, str] = self.data["checksums"]
        return sums

    def _part(self, name: str) -> Any:
        if name == "header":
            return _header(self.data)
        return self.wrappers.get(name)

    def mismatched(self) -> list[str]:
        """Parts whose checksum is there and no longer matches them."""
        sums = self.data.get("checksums")
        if not isinstance(sums, dict):
            return []  # an older file: nothing to compare with
        return [
            p for p in ["header", *self.wrappers] if p in sums and sums[p] != _digest(self._part(p))
        ]

    def problems(self) -> dict[str, str]:
        """Every damaged part and what is wrong with it (for `me check`)."""
        found = {p: f"the {p} wrapper changed since it was written" for p in self.mismatched()}
        if "header" in found:
            found["header"] = "its vault id or header changed since it was written"
        return {**found, **self.damaged}

    def settle(self, proven: str) -> None:
        """After `proven` unwrapped: add missing checksums, renew those the unwrap proved.

        A successful AES-GCM unwrap proves the wrapper and the vault id (its associated
        data). Checksums of other parts are never renewed here: that would hide damage.
        """
        before = json.dumps(self.data.get("checksums"), sort_keys=True)
        for part in ("header", proven):
            self._sums()[part] = _digest(self._part(part))
        if json.dumps(self.data.get("checksums"), sort_keys=True) == before and all(
            p in self._sums() for p in self.wrappers
        ):
            return
        try:
            self.save()
        except OSError as exc:  # a read-only copy still opens; it gains them next time
            log.warning("could not add checksums to %s: %s", self.path, exc)

    def require_usable(self, name: str) -> None:
        """Refuse a wrapper whose shape is damaged, saying what to do instead."""
        if name in self.damaged:
            raise KeyFileError(
                f"the key file {self.path} is damaged: {self.damaged[name]}. {remedy(name)} "
                "Nothing was changed."
            )

    def _damage_error(self, name: str) -> KeyFileError | None:
        """After a failed unwrap: damage if a checksum says so, else None (wrong secret)."""
        bad = [p for p in self.mismatched() if p in ("header", name)]
        if not bad:
            return None
        what = "its vault id or header" if "header" in bad else f"the {name} wrapper"
        return KeyFileError(
            f"the key file {self.path} is damaged: {what} changed since it was written. "
            f"{remedy('header' if 'header' in bad else name)} Nothing was changed."
        )

    # -- wrapping --------------------------------------------------------------
    def _aad(self, name: str) -> bytes:
        return f"{FORMAT}/v{VERSION}/{self.vault_id}/{name}".encode()

    def _wrap(self, name: str, wrapping_key: bytes, master: bytes, extra: dict[str, Any]) -> None:
        nonce = os.urandom(12)
        ct = AESGCM(wrapping_key).encrypt(nonce, master, self._aad(name))
        self.wrappers[name] = {**extra, "nonce": _b64(nonce), "ciphertext": _b64(ct)}
        self.damaged.pop(name, None)
        self._sums()[name] = _digest(self.wrappers[name])

    def _unwrap(self, name: str, wrapping_key: bytes) -> bytes:
        self.require_usable(name)
        entry = self.wrappers[name]
        try:
            nonce, ct = _unb64(entry["nonce"]), _unb64(entry["ciphertext"])
        except (KeyError, ValueError) as exc:
            raise KeyFileError(f"{self.path}: the {name} wrapper is damaged") from exc
        return AESGCM(wrapping_key).decrypt(nonce, ct, self._aad(name))

    def wrap_with_passphrase(self, master: bytes, passphrase: str) -> None:
        salt = os.urandom(16)
        params = dict(ARGON2_DEFAULTS)
        key = argon2_key(passphrase, salt, params)
        self._wrap("passphrase", key, master, {"kdf": "argon2id", "salt": _b64(salt), **params})

    def unwrap_with_passphrase(self, passphrase: str) -> bytes:
        self.require_usable("passphrase")
        entry = self.wrappers["passphrase"]  # shape checked by `load`
        params = {k: int(entry[k]) for k in ARGON2_DEFAULTS}
        salt = _unb64(entry["salt"])
        try:
            return self._unwrap("passphrase", argon2_key(passphrase, salt, params))
        except InvalidTag:
            raise self._damage_error("passphrase") or WrongSecretError(
                "wrong passphrase; nothing was changed"
            ) from None

    def wrap_with_recovery(self, master: bytes, entropy: bytes) -> None:
        self._wrap("recovery", _hkdf(entropy, "recovery-wrap"), master, {"kdf": "hkdf-sha256"})

    def unwrap_with_recovery(self, phrase: str) -> bytes:
        entropy = recovery_entropy(phrase)
        try:
            return self._unwrap("recovery", _hkdf(entropy, "recovery-wrap"))
        except InvalidTag:
            raise self._damage_error("recovery") or WrongSecretError(
                "that recovery phrase does not belong to this vault; nothing was changed"
            ) from None

    def wrap_with_keyring_secret(self, master: bytes, secret: bytes, username: str) -> None:
        self._wrap("keyring", secret, master, {"service": KEYRING_SERVICE, "username": username})

    def unwrap_with_keyring_secret(self, secret: bytes) -> bytes:
        try:
            return self._unwrap("keyring", secret)
        except InvalidTag:
            raise self._damage_error("keyring") or KeyFileError(
                "the keyring entry does not unwrap this vault's key (it belongs to another "
                "vault); unlock with `me unlock --recovery`"
            ) from None
