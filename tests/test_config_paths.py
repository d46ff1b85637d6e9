"""Settings and folders: one override for everything, typed settings, nothing at import."""

from __future__ import annotations

import stat
import tempfile
from pathlib import Path

import pytest

from assistant import config as config_mod
from assistant import paths as paths_mod
from assistant.errors import ConfigError


def test_home_override_puts_everything_under_one_folder(isolated_home: Path) -> None:
    p = paths_mod.resolve()
    root = isolated_home.resolve()
    assert (p.data, p.config, p.cache) == (root / "data", root / "config", root / "cache")
    assert p.database == root / "data" / "memory.db"
    assert p.runtime.parent == Path(paths_mod.os.environ["XDG_RUNTIME_DIR"])
    assert not root.exists()  # resolving creates nothing


def test_two_homes_never_share_a_runtime_folder(tmp_path: Path) -> None:
    assert paths_mod.resolve(tmp_path / "a").runtime != paths_mod.resolve(tmp_path / "b").runtime


def test_default_paths_follow_the_platform(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("SECONDSELF_HOME")
    p = paths_mod.resolve()
    assert p.data.name == "secondself" and p.config.name == "secondself"


def test_default_paths_without_a_runtime_dir_warn_nothing(
    monkeypatch: pytest.MonkeyPatch, recwarn: pytest.WarningsRecorder
) -> None:
    """Without XDG_RUNTIME_DIR (a container, ssh without a login session) the runtime
    copy goes to a private folder in the temp dir, and no library warning with a
    source-file path reaches the user's terminal (`me status` says it plainly)."""
    monkeypatch.delenv("SECONDSELF_HOME")
    monkeypatch.delenv("XDG_RUNTIME_DIR")
    p = paths_mod.resolve()
    assert p.runtime.parent == Path(tempfile.gettempdir())
    assert [str(w.message) for w in recwarn.list] == []


def test_ensure_private_creates_mode_0700(tmp_path: Path) -> None:
    target = paths_mod.ensure_private(tmp_path / "x" / "y")
    assert stat.S_IMODE(target.stat().st_mode) == 0o700
    target.chmod(0o755)
    paths_mod.ensure_private(target)
    assert stat.S_IMODE(target.stat().st_mode) == 0o700


def test_defaults_without_a_file(tmp_path: Path) -> None:
    cfg = config_mod.load(tmp_path / "none.toml")
    assert cfg.embedding.model == config_mod.PACKAGED_MODEL
    assert cfg.recall.k == 5


def test_file_values_and_environment_overrides(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "config.toml"
    path.write_text("[recall]\nk = 9\ncandidates = 80\n[embedding]\nthreads = 1\n")
    monkeypatch.setenv("SECONDSELF_RECALL_K", "12")
    cfg = config_mod.load(path)
    assert (cfg.recall.k, cfg.recall.candidates, cfg.embedding.threads) == (12, 80, 1)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("[recall\nk = 1", "not valid TOML"),
        ("[nope]\nx = 1", "unknown section"),
        ("[recall]\nkk = 1", "unknown setting"),
        ("[recall]\nk = 'many'", "expected int"),
        ("recall = 3", "must be a table"),
    ],
)
def test_bad_config_is_a_clear_error(tmp_path: Path, text: str, message: str) -> None:
    path = tmp_path / "config.toml"
    path.write_text(text)
    with pytest.raises(ConfigError, match=message):
        config_mod.load(path)
