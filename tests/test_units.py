"""The systemd and launchd units: written into a temporary home, checked by the real tools."""

from __future__ import annotations

import fnmatch
import os
import plistlib
import shutil
import subprocess
import tomllib
from pathlib import Path

import pytest

from assistant.daemon import units
from assistant.errors import DaemonError
from tests.conftest import ROOT

SHIPPED = ROOT / "assistant" / "daemon" / "units"
PACKAGING = ROOT / "packaging"


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A user home of its own; XDG_CONFIG_HOME unset unless a test sets it."""
    folder = tmp_path / "user home"
    folder.mkdir()
    monkeypatch.setenv("HOME", str(folder))
    monkeypatch.delenv("XDG_CONFIG_HOME", raising=False)
    return folder


def _script(folder: Path, name: str = "me") -> Path:
    """A real executable standing in for the `me` console script."""
    folder.mkdir(parents=True, exist_ok=True)
    script = folder / name
    script.write_text("#!/bin/sh\nexit 0\n")
    script.chmod(0o755)
    return script


def _exec_start(unit: Path) -> str:
    lines = [line for line in unit.read_text().splitlines() if line.startswith("ExecStart=")]
    assert len(lines) == 1, lines
    return lines[0]


# -- the templates ---------------------------------------------------------------------


def test_packaging_holds_the_shipped_templates_byte_for_byte() -> None:
    shipped = sorted(p.name for p in SHIPPED.iterdir())
    assert shipped == ["com.secondself.daemon.plist", "secondself.service"]
    assert sorted(p.name for p in PACKAGING.iterdir() if p.name != "README.md") == shipped
    for name in shipped:
        assert (PACKAGING / name).read_bytes() == (SHIPPED / name).read_bytes(), name
        assert units.template(name) == (SHIPPED / name).read_bytes()


def test_packaging_is_not_a_python_package() -> None:
    """An __init__.py would shadow the `packaging` library for everything beside us."""
    assert not (PACKAGING / "__init__.py").exists()


def test_the_templates_are_package_data() -> None:
    """packaging/ is not installed: the wheel must carry assistant/daemon/units/."""
    setuptools = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]
    assert "assistant.daemon" in setuptools["packages"]
    globs = setuptools["package-data"]["assistant.daemon"]
    for name in ("secondself.service", "com.secondself.daemon.plist"):
        assert any(fnmatch.fnmatch(f"units/{name}", glob) for glob in globs), name


def test_the_systemd_template_has_one_placeholder_in_exec_start() -> None:
    text = units.template("secondself.service").decode()
    assert text.count("{me}") == 1
    assert "ExecStart={me} daemon run\n" in text
    assert "SECONDSELF_PASSPHRASE=" not in text


# -- systemd -----------------------------------------------------------------------------


def test_linux_writes_only_the_systemd_unit(home: Path) -> None:
    me = _script(home / "venv" / "bin")
    written = units.install(me, home=home, platform="linux")
    unit = home / ".config" / "systemd" / "user" / "secondself.service"
    assert written == [unit]
    assert _exec_start(unit) == f'ExecStart="{me}" daemon run'
    assert not (home / "Library").exists()
    assert oct(unit.stat().st_mode & 0o777) == "0o644"
    expected = units.template("secondself.service").decode().replace("{me}", f'"{me}"')
    assert unit.read_text() == expected


def test_xdg_config_home_is_respected(
    home: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "xdg"))
    [unit] = units.install(_script(home / "bin"), home=home, platform="linux")
    assert unit == tmp_path / "xdg" / "systemd" / "user" / "secondself.service"
    assert not (home / ".config").exists()


def test_a_relative_xdg_config_home_is_ignored(home: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("XDG_CONFIG_HOME", "relative/config")
    [unit] = units.install(_script(home / "bin"), home=home, platform="linux")
    assert unit == home / ".config" / "systemd" / "user" / "secondself.service"


def _verify(unit: Path, home: Path, runtime: Path) -> tuple[int, str]:
    """`systemd-analyze verify --user` on `unit`, in an environment of its own.

    As root without a user session (CI), the user-mode manager needs only a private
    XDG_RUNTIME_DIR to start ("Failed to initialize manager" without one). Unknown keys
    and bad values are warnings with exit status 0, so the output counts as well.
    """
    analyze = shutil.which("systemd-analyze")
    if analyze is None:
        pytest.skip("systemd-analyze is not installed")
    env = dict(os.environ, HOME=str(home), XDG_RUNTIME_DIR=str(runtime))
    env["XDG_CONFIG_HOME"] = str(unit.parent.parent.parent)
    done = subprocess.run(
        [analyze, "verify", "--user", "--man=no", str(unit)],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    output = done.stdout + done.stderr
    if "Failed to initialize manager" in output:
        pytest.skip(f"systemd-analyze cannot start a user manager here: {output.strip()}")
    return done.returncode, output


def _complaints(output: str) -> list[str]:
    return [line for line in output.splitlines() if units.SYSTEMD_UNIT in line]


@pytest.mark.parametrize(
    "folder", ["bin", "with space", "100% sure", "dollar$HOME", "café", "semi;colon & `tick`"]
)
def test_systemd_accepts_the_installed_unit(home: Path, tmp_path: Path, folder: str) -> None:
    """verify fails on a missing executable, so it also proves the quoting round-trips."""
    me = _script(tmp_path / folder / "bin")
    [unit] = units.install(me, home=home, platform="linux")
    status, output = _verify(unit, home, tmp_path / "run")
    assert status == 0, output
    assert _complaints(output) == [], output


def test_the_verify_check_catches_a_bad_unit(home: Path, tmp_path: Path) -> None:
    """The check above is not vacuous: a warning and a missing program both fail it."""
    [unit] = units.install(_script(tmp_path / "bin"), home=home, platform="linux")
    unit.write_text(unit.read_text().replace("UMask=0077", "UMask=0077\nNoSuchKey=1"))
    assert _complaints(_verify(unit, home, tmp_path / "run")[1])
    (tmp_path / "bin" / "me").unlink()
    status, output = _verify(unit, home, tmp_path / "run")
    assert status != 0 and "not executable" in output, output


@pytest.mark.parametrize("name", ["o'brien", 'say"what', "back\\slash", "new\nline"])
def test_a_path_systemd_would_refuse_is_refused_before_writing(
    home: Path, tmp_path: Path, name: str
) -> None:
    me = _script(tmp_path / name)
    with pytest.raises(DaemonError, match="systemd refuses"):
        units.install(me, home=home, platform="linux")
    assert not (home / ".config").exists()


def test_reinstalling_replaces_the_unit(home: Path, tmp_path: Path) -> None:
    units.install(_script(tmp_path / "old"), home=home, platform="linux")
    new = _script(tmp_path / "new")
    [unit] = units.install(new, home=home, platform="linux")
    assert _exec_start(unit) == f'ExecStart="{new}" daemon run'
    assert [p.name for p in unit.parent.iterdir()] == ["secondself.service"]


def test_uninstall_removes_the_unit_and_its_enable_link(home: Path) -> None:
    [unit] = units.install(_script(home / "bin"), home=home, platform="linux")
    wants = unit.parent / "default.target.wants"
    wants.mkdir()
    (wants / "secondself.service").symlink_to(unit)
    (wants / "other.service").symlink_to(unit.parent / "other.service")
    assert units.uninstall(home=home, platform="linux") == [unit]
    assert not unit.exists()
    assert [p.name for p in wants.iterdir()] == ["other.service"]
    assert units.uninstall(home=home, platform="linux") == []


# -- launchd -----------------------------------------------------------------------------


def test_macos_writes_only_the_launch_agent(home: Path) -> None:
    me = _script(home / "venv" / "bin")
    written = units.install(me, home=home, platform="darwin")
    plist = home / "Library" / "LaunchAgents" / "com.secondself.daemon.plist"
    assert written == [plist]
    assert not (home / ".config").exists()
    with plist.open("rb") as handle:
        agent = plistlib.load(handle)
    assert agent == {
        "Label": "com.secondself.daemon",
        "ProgramArguments": [str(me), "daemon", "run"],
        "RunAtLoad": True,
        "KeepAlive": {"SuccessfulExit": False},
        "ProcessType": "Background",
        "StandardErrorPath": str(home / "Library" / "Logs" / "secondself" / "daemon.log"),
        "Umask": 0o077,
    }
    assert (home / "Library" / "Logs" / "secondself").is_dir()


@pytest.mark.parametrize("folder", ["with space", "a&b <c>", 'o\'brien "q"', "{home} {me}"])
def test_any_path_survives_the_plist(home: Path, tmp_path: Path, folder: str) -> None:
    """An array needs no quoting and plistlib escapes XML; placeholders fill in one pass."""
    me = _script(tmp_path / folder)
    [plist] = units.install(me, home=home, platform="darwin")
    assert plistlib.loads(plist.read_bytes())["ProgramArguments"][0] == str(me)


def test_uninstall_removes_the_launch_agent(home: Path) -> None:
    [plist] = units.install(_script(home / "bin"), home=home, platform="darwin")
    assert units.uninstall(home=home, platform="darwin") == [plist]
    assert not plist.exists()
    assert (home / "Library" / "Logs" / "secondself").is_dir()  # logs stay
    assert units.uninstall(home=home, platform="darwin") == []


# -- commands, refusals and finding `me` -------------------------------------------------------


def test_commands_to_print() -> None:
    assert units.enable_command("linux") == (
        "systemctl --user daemon-reload && systemctl --user enable --now secondself.service"
    )
    assert units.disable_command("linux") == "systemctl --user disable --now secondself.service"
    assert units.enable_command("darwin") == (
        "launchctl bootstrap gui/$(id -u) ~/Library/LaunchAgents/com.secondself.daemon.plist"
    )
    assert units.disable_command("darwin") == "launchctl bootout gui/$(id -u)/com.secondself.daemon"


def test_other_platforms_are_refused(home: Path) -> None:
    with pytest.raises(DaemonError, match="own supervisor"):
        units.install(_script(home / "bin"), home=home, platform="win32")
    with pytest.raises(DaemonError):
        units.enable_command("freebsd14")


@pytest.mark.parametrize("platform", ["linux", "darwin"])
def test_the_program_must_be_an_absolute_executable(
    home: Path, tmp_path: Path, platform: str
) -> None:
    with pytest.raises(DaemonError, match="not an executable"):
        units.install(Path("bin/me"), home=home, platform=platform)
    plain = tmp_path / "me"
    plain.write_text("not executable")
    with pytest.raises(DaemonError, match="not an executable"):
        units.install(plain, home=home, platform=platform)


def test_current_me_is_the_script_this_process_runs_as(tmp_path: Path) -> None:
    me = _script(tmp_path / "linked bin", "secondself")
    found = units.current_me(argv0=str(me), executable=str(tmp_path / "elsewhere" / "python"))
    assert found == me


def test_current_me_keeps_symlinks(tmp_path: Path) -> None:
    """pipx/Homebrew links point into a versioned folder that an upgrade replaces."""
    real = _script(tmp_path / "cellar" / "0.1.0" / "bin")
    (tmp_path / "bin").mkdir()
    (tmp_path / "bin" / "me").symlink_to(real)
    assert units.current_me(argv0=str(tmp_path / "bin" / "me")) == tmp_path / "bin" / "me"


def test_current_me_under_python_dash_m_is_the_script_beside_the_interpreter(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The venv's python is a symlink out of the venv: it must not be resolved."""
    monkeypatch.setenv("PATH", "")
    venv_bin = tmp_path / "venv" / "bin"
    me = _script(venv_bin)
    (venv_bin / "python").symlink_to(_script(tmp_path / "base" / "bin", "python3"))
    found = units.current_me(
        argv0="/x/assistant/cli/__main__.py", executable=str(venv_bin / "python")
    )
    assert found == me


def test_current_me_falls_back_to_path_then_gives_up(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    me = _script(tmp_path / "on path")
    monkeypatch.setenv("PATH", str(me.parent))
    assert units.current_me(argv0="pytest", executable=str(tmp_path / "none" / "python")) == me
    monkeypatch.setenv("PATH", "")
    with pytest.raises(DaemonError, match="cannot find the `me` command"):
        units.current_me(argv0="pytest", executable=str(tmp_path / "none" / "python"))
