"""The real keyrings.alt file backends are refused: they keep secrets next to the data."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from assistant.errors import KeyringError
from assistant.paths import Paths
from assistant.vault import Secrets, create_vault
from tests.conftest import PASSPHRASE

pytest.importorskip("keyrings.alt")


def test_plaintext_file_keyring_is_refused(
    paths: Paths, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PYTHON_KEYRING_BACKEND", "keyrings.alt.file.PlaintextKeyring")
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg-data"))  # where it would write
    secrets = Secrets(ask_passphrase=lambda _c: PASSPHRASE)
    with pytest.raises(KeyringError, match="stores secrets in a file"):
        create_vault(paths, secrets, mode="keyring")
    assert not paths.key_file.exists()

    result = create_vault(paths, secrets, mode="auto")
    assert result.mode == "passphrase"
    assert "keyrings.alt.file" in result.reason
    assert set(json.loads(paths.key_file.read_text())["wrappers"]) == {"passphrase", "recovery"}
    assert not any((tmp_path / "xdg-data").rglob("*.cfg"))  # nothing written to its file
