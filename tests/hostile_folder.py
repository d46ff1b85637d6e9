"""A folder of hostile entries for any test that walks folders (`me ingest`, `me sync`...).

`make_hostile_folder(root)` builds it and returns a `HostileFolder` saying what each entry
must give; the `hostile_folder` fixture builds one under `tmp_path`. Every entry is the
real thing: a FIFO with no writer, a bound Unix socket, symbolic links to the real
`/dev/zero` and `/dev/urandom`, a link that points at itself, a file name that is not
UTF-8, and names, titles and text holding terminal escape sequences (CSI `ESC [ ... m`,
OSC `ESC ] ... BEL`, and the one-character C1 CSI U+009B).

Tests usually run as root (CI containers): a mode-000 file does not stop root from
reading it, so `locked.md` is expected to be stored when the test runs as root, and to
fail with "Permission denied" otherwise (`HostileFolder.failed` says which).
"""

from __future__ import annotations

import os
import socket
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from connectors.surrogates import path_text

ESC_NAME = "\x1b[31mred\x1b[0m title.md"
NOT_UTF8_NAME = b"caf\xe9 \xff notes.md"  # Latin-1 bytes: not valid UTF-8
# One line, no newline: cut only at sentence ends, about 2,600 chunks of ~1,000 characters,
# over the default bound of 2,000 chunks per document.
OVERSIZED_BYTES = 2_600_000


@dataclass(frozen=True)
class HostileFolder:
    """A built folder and what each entry in it must give."""

    root: Path
    # File name (as stored: see connectors.surrogates) -> a word only that note holds.
    stored: dict[str, str] = field(default_factory=dict)
    # Entry name -> the reason it is skipped ("not a regular file", ...).
    skipped: dict[str, str] = field(default_factory=dict)
    # Entry name -> words its failure reason holds.
    failed: dict[str, str] = field(default_factory=dict)


def _oversized_line() -> str:
    sentence = "The tide came in over the long sandbar while we waited for the ferry. "
    return (sentence * (OVERSIZED_BYTES // len(sentence) + 1))[:OVERSIZED_BYTES]


def _write(path: Path | bytes, text: str) -> None:
    with open(path, "w", encoding="utf-8") as stream:
        stream.write(text)


def make_hostile_folder(root: Path) -> HostileFolder:
    """Build the hostile folder at `root` (created) and say what each entry must give."""
    root.mkdir(parents=True)
    stored = {
        "lisbon.md": "azulejo",
        "garden.txt": "courgettes",
        "sub/recipes.md": "cataplana",
    }
    _write(root / "lisbon.md", "# Lisbon\n\nWe admired the azulejo on every facade.\n")
    _write(root / "garden.txt", "The courgettes finally flowered this week.\n")
    (root / "sub").mkdir()
    _write(root / "sub" / "recipes.md", "# Recipes\n\nA cataplana needs clams and chouriço.\n")
    # A name that is not UTF-8: stored under its escaped name, found by its text.
    _write(os.path.join(os.fsencode(root), NOT_UTF8_NAME), "Notes about the marmelada jar.\n")
    stored[path_text(os.fsdecode(NOT_UTF8_NAME))] = "marmelada"
    # Escapes in the name, the title and the text: a note like any other once stored.
    _write(
        root / ESC_NAME,
        "# Title \x1b]0;pwned\x07 here\n\n"
        "The \x1b[2J pergola \u009b31mneeds paint\x1b[0m before spring.\n",
    )
    stored[ESC_NAME] = "pergola"
    locked = root / "locked.md"
    _write(locked, "The padlock combination note about the shed.\n")
    locked.chmod(0)
    failed = {"loop.md": "symbolic link loop", "oversized.md": "chunks"}
    if os.geteuid() == 0:  # root reads a mode-000 file: it is stored like the others
        stored["locked.md"] = "padlock"
    else:
        failed["locked.md"] = "Permission denied"
    _write(root / "oversized.md", _oversized_line())
    os.mkfifo(root / "pipe.md")
    with socket.socket(socket.AF_UNIX) as bound:
        bound.bind(str(root / "socket.md"))  # the socket file outlives the socket
    (root / "zero.md").symlink_to("/dev/zero")
    (root / "random.txt").symlink_to("/dev/urandom")
    (root / "loop.md").symlink_to("loop.md")
    (root / "empty.md").touch()
    _write(root / ".hidden.md", "Hidden notes are not read.\n")
    (root / "photo.png").write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(64))
    skipped = {
        "pipe.md": "not a regular file",
        "socket.md": "not a regular file",
        "zero.md": "not a regular file",
        "random.txt": "not a regular file",
        "empty.md": "empty",
        ".hidden.md": "hidden",
        "photo.png": "not a format Second Self reads",
    }
    return HostileFolder(root, stored, skipped, failed)


@pytest.fixture
def hostile_folder(tmp_path: Path) -> HostileFolder:
    """A fresh hostile folder under this test's `tmp_path`."""
    return make_hostile_folder(tmp_path / "hostile")
