"""Where Second Self keeps things: every directory comes from here.

`SECONDSELF_HOME` puts everything under one folder (tests, portable installs);
otherwise platformdirs gives the OS conventions. Nothing is created on import:
callers ask for a directory to exist with `ensure_private`.
"""

from __future__ import annotations

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
    def lock_file(self) -> Path:
        return self.data / "vault.lock"

    @property
    def config_file(self) -> Path:
        return self.config / "config.toml"

    @property
    def vector_dir(self) -> Path:
        return self.runtime / "vectors"


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
    runtime_root = Path(dirs.user_runtime_dir)
    if not os.environ.get("XDG_RUNTIME_DIR") and os.name == "posix":
        runtime_root = _runtime_base() / f"{APP}-{os.getuid()}"
    return Paths(
        Path(dirs.user_data_dir),
        Path(dirs.user_config_dir),
        Path(dirs.user_cache_dir),
        runtime_root,
    )


def ensure_private(path: Path) -> Path:
    """Create `path` (and parents) if needed and make it readable by this user only."""
    path.mkdir(parents=True, exist_ok=True, mode=0o700)
    info = path.stat()
    if info.st_uid != os.getuid():
        raise PermissionError(f"{path} belongs to another user; refusing to use it")
    if stat.S_IMODE(info.st_mode) != 0o700:
        path.chmod(0o700)
    return path
