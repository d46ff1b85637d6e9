"""Which OS keyring backends may hold the key that wraps the vault.

Only backends that keep secrets in an OS-protected store qualify. keyring's
`fail` and `null` backends store nothing, and the `keyrings.alt` file backends
write secrets next to the data (plaintext or weakly obscured), which would undo
the encryption at rest. Those are refused, and the vault uses a passphrase.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

# module.ClassName of backends that store secrets in an OS-protected vault.
TRUSTED_BACKENDS = frozenset(
    {
        "keyring.backends.macOS.Keyring",  # macOS Keychain
        "keyring.backends.Windows.WinVaultKeyring",  # Windows Credential Locker
        "keyring.backends.SecretService.Keyring",  # GNOME Keyring, KeePassXC, ...
        "keyring.backends.libsecret.Keyring",  # Secret Service through libsecret
        "keyring.backends.kwallet.DBusKeyring",  # KDE Wallet 5
        "keyring.backends.kwallet.DBusKeyringKWallet4",
    }
)


@dataclass(frozen=True)
class KeyringChoice:
    backend: Any | None  # the backend object to use, or None when none is trusted
    reason: str  # why it was chosen or refused, in words for the user


def backend_name(backend: Any) -> str:
    cls = type(backend)
    return f"{cls.__module__}.{cls.__qualname__}"


def _describe(backend: Any) -> str:
    name = backend_name(backend)
    if name.startswith("keyrings.alt."):
        return f"{name} stores secrets in a file next to your data"
    if name == "keyring.backends.fail.Keyring":
        return "no OS keyring is available (keyring's fail backend)"
    if name == "keyring.backends.null.Keyring":
        return "the keyring is disabled (keyring's null backend)"
    return f"{name} is not a known OS-protected keyring"


def choose(backend: Any) -> KeyringChoice:
    """Pick a trusted backend from keyring's active one (looking inside a chainer)."""
    candidates = list(getattr(backend, "backends", None) or [backend])
    refused = []
    for candidate in candidates:
        if backend_name(candidate) in TRUSTED_BACKENDS:
            return KeyringChoice(candidate, f"using {backend_name(candidate)}")
        refused.append(_describe(candidate))
    return KeyringChoice(None, "; ".join(refused) or "no keyring backend is configured")


def choose_active() -> KeyringChoice:
    """The trusted backend of this session's keyring configuration, if any."""
    import keyring
    from keyring.errors import KeyringError

    try:
        active = keyring.get_keyring()
    except (KeyringError, RuntimeError) as exc:
        return KeyringChoice(None, f"the keyring could not be loaded: {exc}")
    return choose(active)
