"""How the app reaches the memory, and unlocks it.

Two ways, one interface: the daemon (`DaemonSession`; started when none runs) or, with
`[tui] start_daemon = false` and no daemon running, the vault opened in this process
for each call (`LocalSession`). Either way the screens only see `session.backend`, a
`Backend`, and a locked vault shows up as `DaemonLockedError` from any call.
"""

from __future__ import annotations

import os
import threading
from typing import TYPE_CHECKING, Any, Protocol

from assistant.errors import DaemonLockedError, SecondSelfError

if TYPE_CHECKING:
    from assistant.config import Config
    from assistant.daemon.client import DaemonClient
    from assistant.memory import Memory
    from assistant.paths import Paths
    from assistant.service.backend import Backend


class Session(Protocol):
    backend: Backend

    def describe(self) -> str:
        """Where the memory is served, for the activity screen."""
        ...

    def needs_passphrase(self) -> bool:
        """Whether unlocking needs a passphrase typed (keyring mode does not)."""
        ...

    def is_locked(self) -> bool: ...

    def unlock(self, passphrase: str | None) -> None:
        """Unlock, or raise the core's error (a wrong passphrase says so)."""
        ...

    def lock(self) -> None: ...

    def daemon_status(self) -> dict[str, Any] | None:
        """The daemon's own status (running, pending reflection, ...); None in-process."""
        ...

    def close(self) -> None:
        """When the app ends."""
        ...


class DaemonSession:
    """The daemon holds the vault; the app is one of its clients."""

    def __init__(self, client: DaemonClient) -> None:
        self.client = client
        self.backend: Backend = client

    def describe(self) -> str:
        return f"the daemon (pid {self.client.daemon_status()['pid']})"

    def needs_passphrase(self) -> bool:
        return self.client.daemon_status().get("unlock_mode") != "keyring"

    def is_locked(self) -> bool:
        return bool(self.client.daemon_status()["locked"])

    def unlock(self, passphrase: str | None) -> None:
        self.client.unlock(passphrase)

    def lock(self) -> None:
        self.client.lock()

    def daemon_status(self) -> dict[str, Any] | None:
        return self.client.daemon_status()

    def close(self) -> None:
        """Nothing to do: the daemon keeps the vault for the next client."""


class LocalSession:
    """The vault opened in this process and held open while unlocked (no daemon: the
    `[tui] start_daemon` setting is off, or SECONDSELF_NO_DAEMON is set). A `memory`
    given here is lent (`me demo --tui`): its owner closes it, and it cannot be locked."""

    def __init__(self, paths: Paths, config: Config, memory: Memory | None = None) -> None:
        from assistant.vault import PASSPHRASE_ENV, key_file_mode

        self.paths = paths
        self.config = config
        self._keyring = key_file_mode(paths.key_file) == "keyring"
        self._asks = not (self._keyring or os.environ.get(PASSPHRASE_ENV))
        self._memory: Memory | None = None
        self._turning = threading.Lock()  # one unlock or lock at a time
        self.backend: Backend = _Locked()
        self._lent = memory is not None
        if memory is not None:
            self._hold(memory)

    def _hold(self, memory: Memory) -> None:
        from assistant.service.backend import Resident

        self._memory = memory
        self.backend = Resident(memory)

    def describe(self) -> str:
        return "this process (no daemon)"

    def needs_passphrase(self) -> bool:
        return self._asks

    def is_locked(self) -> bool:
        return self._memory is None

    def unlock(self, passphrase: str | None) -> None:
        from assistant.memory import Memory
        from assistant.vault import Secrets

        with self._turning:
            if self._memory is not None:
                return
            secrets = Secrets(_remembered=passphrase) if passphrase else Secrets()
            # The chroma index opens when a write needs it; searches score the vectors.
            opened = Memory.open(self.paths, self.config, secrets, index=False)
            self._hold(opened)  # a wrong passphrase raised above

    def lock(self) -> None:
        if self._lent:
            raise SecondSelfError("this vault stays open until its owner ends (ctrl+q)")
        with self._turning:
            memory, self._memory = self._memory, None
            self.backend = _Locked()
        if memory is not None:
            memory.close()

    def close(self) -> None:
        if not self._lent:
            self.lock()

    def daemon_status(self) -> dict[str, Any] | None:
        return None


class _Locked:
    """The backend of a locked local session: every call says so."""

    def __getattr__(self, name: str) -> Any:
        def refuse(*_args: Any, **_kwargs: Any) -> Any:
            raise DaemonLockedError("locked: unlock the vault to go on")

        return refuse


def connect(paths: Paths, config: Config, in_process: bool = False) -> Session:
    """The session for this vault: its daemon, started if none runs (unless the setting,
    `in_process` or SECONDSELF_NO_DAEMON says otherwise), else the vault in this process."""
    from assistant.daemon.client import disabled, find
    from assistant.daemon.launch import start_in_background
    from assistant.errors import VaultError
    from assistant.service.overview import has_vault

    if not has_vault(paths):
        raise VaultError(f"no vault at {paths.data}: run `me init` first")
    if in_process:
        return LocalSession(paths, config)
    client = find(paths)
    if client is not None:
        return DaemonSession(client)
    if config.tui.start_daemon and not disabled():
        return DaemonSession(start_in_background(paths))
    return LocalSession(paths, config)
