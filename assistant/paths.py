"""Where Second Self keeps things: every directory comes from here.

`SECONDSELF_HOME` puts everything under one folder (tests, portable installs);
otherwise platformdirs gives the OS conventions. Nothing is created on import:
callers ask for a directory to exist with `ensure_private`.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import stat
import tempfile
from dataclasses import dataclass
from pathlib import Path

import platformdirs

APP = "secondself"
HOME_ENV = "SECONDSELF_HOME"


@dataclass(frozen=True)
class Paths:
    data: Path  # the vault: encrypted database, wrapped keys, sealed index
    config: Path  # config.toml (no secrets)
    cache: Path  # disposable, never holds memory content
    runtime: Path  # private, unlocked-only working copy of the vector index

    @property
    def database(self) -> Path:
        return self.data / "memory.db"

    @property
    def key_file(self) -> Path:
        return self.data / "keys.json"

    @property
    def snapshot(self) -> Path:
        return self.data / "vectors.sealed"

    @property
    def audit_head(self) -> Path:
        """The audit log's last entry, mirrored outside the database: a log cut short
        no longer reaches it."""
        return self.data / "audit.head"

    @property
    def forget_ledger(self) -> Path:
        """Every forget's fingerprints, kept outside the database too, so that restoring
        a backup (even over a damaged memory.db) forgets again what was forgotten."""
        return self.data / "forgotten.ledger"

    @property
    def lock_file(self) -> Path:
        return self.data / "vault.lock"

    @property
    def config_file(self) -> Path:
        return self.config / "config.toml"

    @property
    def vector_dir(self) -> Path:
        return self.runtime / "vectors"

    @property
    def integrity_stamp(self) -> Path:
        """When memory.db last passed a full check (disposable: losing it costs a check)."""
        return self.cache / "integrity.json"


def _runtime_base() -> Path:
    """A per-user private base: $XDG_RUNTIME_DIR (tmpfs) where it exists."""
    xdg = os.environ.get("XDG_RUNTIME_DIR")
    if xdg and Path(xdg).is_dir():
        return Path(xdg)
    return Path(tempfile.gettempdir())


def resolve(home: str | os.PathLike[str] | None = None) -> Paths:
    """The directories for this user, honouring `SECONDSELF_HOME` unless `home` is given."""
    chosen = home if home is not None else os.environ.get(HOME_ENV)
    if chosen:
        root = Path(chosen).expanduser().resolve()
        # Runtime stays off the data disk: a tmpfs copy of the index per home.
        tag = hashlib.sha256(str(root).encode()).hexdigest()[:12]
        runtime = _runtime_base() / f"{APP}-{os.getuid()}-{tag}"
        return Paths(root / "data", root / "config", root / "cache", runtime)
    dirs = platformdirs.PlatformDirs(APP, appauthor=False)
    if not os.environ.get("XDG_RUNTIME_DIR") and os.name == "posix":
        # Decided here, before platformdirs would guess (and warn on stderr); `me init`
        # and `me status` tell the user that this folder may not be a tmpfs.
        runtime_root = _runtime_base() / f"{APP}-{os.getuid()}"
    else:
        runtime_root = Path(dirs.user_runtime_dir)
    return Paths(
        Path(dirs.user_data_dir),
        Path(dirs.user_config_dir),
        Path(dirs.user_cache_dir),
        runtime_root,
    )


def ensure_private(path: Path) -> Path:
    """Create `path` (and parents) if needed and make it readable by this user only.

    Every folder created here is 0700 whatever the umask (pathlib would create the
    parents 0777 minus the umask, e.g. a world-writable SECONDSELF_HOME under umask 000);
    existing parents are left as they are.
    """
    missing = [p for p in (path, *path.parents) if not p.exists()]
    for folder in reversed(missing):
        with contextlib.suppress(FileExistsError):  # made meanwhile by another process
            folder.mkdir(mode=0o700)
            folder.chmod(0o700)  # mkdir's mode is masked by the umask
    info = path.stat()
    if info.st_uid != os.getuid():
        raise PermissionError(f"{path} belongs to another user; refusing to use it")
    if stat.S_IMODE(info.st_mode) != 0o700:
        path.chmod(0o700)
    return path
