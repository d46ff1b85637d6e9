"""The service-manager units `me daemon install` writes: systemd on Linux, launchd on macOS.

The templates ship as package data in `assistant/daemon/units/` (the top-level
`packaging/` folder holds byte-identical copies for people who package by hand; it is
not a Python package and is not installed). One unit per platform: a user on Linux gets
only the systemd unit, a user on macOS only the LaunchAgent; anything else is refused
with a message, since `me daemon run` can still be run under any other supervisor.

Nothing here starts or stops anything: the caller prints `enable_command()` /
`disable_command()` for the user, who runs them in their own session.
"""

from __future__ import annotations

import contextlib
import os
import plistlib
import re
import shutil
import sys
import tempfile
from importlib import resources
from pathlib import Path
from typing import Any

from assistant.errors import DaemonError

SYSTEMD_UNIT = "secondself.service"
LAUNCHD_LABEL = "com.secondself.daemon"
LAUNCHD_PLIST = f"{LAUNCHD_LABEL}.plist"
SCRIPT_NAMES = ("me", "secondself")  # both console scripts run `assistant.cli:main`

# systemd's own rule for an executable path (string_is_safe): it refuses these even
# inside quotes, fatally ("Executable name contains special characters").
_SYSTEMD_REFUSED = frozenset("'\"\\\x7f") | frozenset(map(chr, range(32)))


def template(name: str) -> bytes:
    """The shipped template `name` (e.g. "secondself.service"), placeholders unfilled."""
    return resources.files("assistant.daemon").joinpath("units", name).read_bytes()


def current_me(argv0: str | None = None, executable: str | None = None) -> Path:
    """The `me` console script of this very install, for the unit to run.

    In order: the script this process was started as (`sys.argv[0]` when it is `me` or
    `secondself`); the script beside this interpreter (a venv's `bin/`; `sys.executable`
    is deliberately not resolved, since a venv's python is a symlink to the base
    interpreter and resolving it would leave the venv); and only then the first `me` on
    PATH, which may belong to another install. Symlinks are made absolute but not
    resolved: pipx, uv, Homebrew and Nix put a stable link on PATH pointing into a
    versioned folder that an upgrade replaces, and the unit should follow the link.
    """
    argv0 = sys.argv[0] if argv0 is None else argv0
    executable = sys.executable if executable is None else executable
    candidates: list[Path] = []
    if argv0 and Path(argv0).name in SCRIPT_NAMES:
        candidates.append(Path(os.path.abspath(argv0)))
    if executable:
        candidates += [Path(executable).parent / name for name in SCRIPT_NAMES]
    found = shutil.which(SCRIPT_NAMES[0])
    if found:
        candidates.append(Path(os.path.abspath(found)))
    for candidate in candidates:
        if _is_executable(candidate):
            return candidate
    raise DaemonError(
        "cannot find the `me` command of this install; install Second Self with pipx, "
        "uv tool or pip in a virtual environment and run `me daemon install` from there"
    )


def install(me_path: Path, home: Path | None = None, platform: str | None = None) -> list[Path]:
    """Write this platform's unit for the current user, running `me_path daemon run`.

    Linux: `$XDG_CONFIG_HOME/systemd/user/secondself.service` (`~/.config` when the
    variable is unset or relative). macOS: `~/Library/LaunchAgents/com.secondself.daemon.plist`,
    and its log folder `~/Library/Logs/secondself` (launchd does not create it). `home`
    defaults to the user's home; `platform` to `sys.platform`. An existing unit is
    replaced (reinstalling after moving the install); each file is written whole or not at
    all. Returns the unit files written. Raises DaemonError when `me_path` is not an
    absolute path to an executable, or systemd could not run it.
    """
    home = Path.home() if home is None else home
    kind = _manager(platform)
    if not me_path.is_absolute() or not _is_executable(me_path):
        raise DaemonError(f"{me_path} is not an executable file given by an absolute path")
    if kind == "systemd":
        target = _systemd_path(home)
        text = template(SYSTEMD_UNIT).decode("utf-8")
        data = text.replace("{me}", _systemd_executable(me_path)).encode("utf-8")
    else:
        target = home / "Library" / "LaunchAgents" / LAUNCHD_PLIST
        values = {"{me}": str(me_path), "{home}": str(home)}
        filled = _fill(plistlib.loads(template(LAUNCHD_PLIST)), values)
        log_file = Path(filled["StandardErrorPath"])
        log_file.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        data = plistlib.dumps(filled, sort_keys=False)
    _write(target, data)
    return [target]


def uninstall(home: Path | None = None, platform: str | None = None) -> list[Path]:
    """Remove the unit `install` wrote; returns the files removed (none if none was there).

    Run `disable_command()` first, while the unit still exists: systemd cannot disable a
    unit whose file is gone. As a safety net the `default.target.wants` link that
    `systemctl --user enable` made is removed too when it points at our unit, so a later
    login does not trip over a dangling link. Logs are left in place.
    """
    home = Path.home() if home is None else home
    if _manager(platform) == "systemd":
        target = _systemd_path(home)
        wants = target.parent / "default.target.wants" / SYSTEMD_UNIT
        if wants.is_symlink() and Path(os.readlink(wants)).name == SYSTEMD_UNIT:
            wants.unlink()
    else:
        target = home / "Library" / "LaunchAgents" / LAUNCHD_PLIST
    try:
        target.unlink()
    except FileNotFoundError:
        return []
    return [target]


def enable_command(platform: str | None = None) -> str:
    """The shell command the user runs after `install` to start the daemon now and at login."""
    if _manager(platform) == "systemd":
        return f"systemctl --user daemon-reload && systemctl --user enable --now {SYSTEMD_UNIT}"
    return f"launchctl bootstrap gui/$(id -u) ~/Library/LaunchAgents/{LAUNCHD_PLIST}"


def disable_command(platform: str | None = None) -> str:
    """The shell command that stops the daemon and keeps it from starting; before `uninstall`."""
    if _manager(platform) == "systemd":
        return f"systemctl --user disable --now {SYSTEMD_UNIT}"
    return f"launchctl bootout gui/$(id -u)/{LAUNCHD_LABEL}"


def _manager(platform: str | None) -> str:
    platform = sys.platform if platform is None else platform
    if platform.startswith("linux"):
        return "systemd"
    if platform == "darwin":
        return "launchd"
    raise DaemonError(
        f"no service unit for {platform}: run `me daemon run` under your own supervisor"
    )


def _systemd_path(home: Path) -> Path:
    """Where the user manager looks for units; XDG says to ignore a relative XDG_CONFIG_HOME."""
    xdg = os.environ.get("XDG_CONFIG_HOME", "")
    config = Path(xdg) if os.path.isabs(xdg) else home / ".config"
    return config / "systemd" / "user" / SYSTEMD_UNIT


def _systemd_executable(path: Path) -> str:
    """`path` as the first word of ExecStart=: double-quoted (spaces), `%` doubled.

    `$` stays single: systemd expands variables in arguments but not in the executable
    path (measured with systemd 252: `$$` stays doubled in the path it executes).
    """
    text = str(path)
    refused = sorted(set(text) & _SYSTEMD_REFUSED)
    if refused:
        raise DaemonError(
            f"systemd refuses to run a program whose path contains {refused!r}: {path!r}; "
            "move the install to a path without quotes, backslashes or control characters"
        )
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        raise DaemonError(f"systemd needs a UTF-8 path, and {path!r} is not") from None
    return '"' + text.replace("%", "%%") + '"'


def _fill(value: Any, values: dict[str, str]) -> Any:
    """`value` with each placeholder of `values` replaced in every string inside it."""
    if isinstance(value, str):  # one pass: a path holding "{home}" stays as it is
        pattern = "|".join(map(re.escape, values))
        return re.sub(pattern, lambda match: values[match.group(0)], value)
    if isinstance(value, list):
        return [_fill(item, values) for item in value]
    if isinstance(value, dict):
        return {key: _fill(item, values) for key, item in value.items()}
    return value


def _write(target: Path, data: bytes) -> None:
    """Replace `target` atomically with `data`, mode 0644 like any unit file."""
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, temp = tempfile.mkstemp(prefix=f".{target.name}.", dir=target.parent)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
        os.chmod(temp, 0o644)
        os.replace(temp, target)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(temp)
        raise


def _is_executable(path: Path) -> bool:
    return path.is_file() and os.access(path, os.X_OK)
