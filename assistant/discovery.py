"""Walk the paths a user gives: the files to read, and every entry left out, with why.

Nothing is opened here but an Obsidian vault's settings: detection by content happens in
the parse worker (`connectors.reading`), under its time limit, and only for files that
changed since they were last read. Left out, each with its reason: hidden files and
folders (`.git`, `.obsidian`...), folders a connector names as its own settings,
symbolic links to folders (not followed: a link can loop or leave the tree), and what an
Obsidian vault's settings keep out of its notes (the templates folder, "Excluded files").
A folder that cannot be listed is reported as failed.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import NamedTuple

from connectors import Connector
from connectors.obsidian import VaultRules, vault_rules

# Why an entry is skipped: the summary counts files per reason.
HIDDEN = "hidden"
SETTINGS_FOLDER = "a settings folder"
LINKED_FOLDER = "a symbolic link to a folder (not followed)"
EXCLUDED = "left out by the Obsidian vault's settings"
NOT_REGULAR = "not a regular file"
EMPTY = "empty"
NOT_A_FORMAT = "not a format Second Self reads"


class Found(NamedTuple):
    """A file to read (no `reason`), or an entry left out and why."""

    path: Path
    reason: str = ""
    detail: str = ""
    failed: bool = False  # it could not be looked at (a folder that cannot be listed)


def walk(
    root: Path, connectors: list[Connector], forced: Connector | None = None
) -> Iterator[Found]:
    """`root` itself if it is not a folder, else every entry under it, files of a folder
    first, then its subfolders, each in name order."""
    if not root.is_dir():
        yield Found(root)
        return
    ignored = set().union(*(c.ignored_dirs for c in ([forced] if forced else connectors)))
    enclosing = _enclosing_vault(root)
    stack: list[tuple[Path, tuple[VaultRules, ...]]] = [(root, enclosing)]
    while stack:
        folder, rules = stack.pop()
        try:
            with os.scandir(folder) as listing:
                entries = sorted(listing, key=lambda e: e.name)
        except OSError as exc:
            yield Found(folder, f"cannot read folder: {exc.strerror or exc}", failed=True)
            continue
        subfolders: list[tuple[Path, tuple[VaultRules, ...]]] = []
        for entry in entries:
            path = Path(entry.path)
            if entry.is_dir(follow_symlinks=False):
                skip = _folder_skip(path, ignored, rules)
                if skip is not None:
                    yield skip
                    continue
                vault = vault_rules(path)
                subfolders.append((path, (*rules, vault) if vault else rules))
            elif entry.name.startswith("."):
                yield Found(path, HIDDEN)
            elif entry.is_symlink() and _leads_to_folder(entry):
                yield Found(path, LINKED_FOLDER, _link_target(path))
            else:
                yield Found(path, EXCLUDED, why) if (why := _excluded(path, rules)) else Found(path)
        stack.extend(reversed(subfolders))


def _folder_skip(path: Path, ignored: set[str], rules: tuple[VaultRules, ...]) -> Found | None:
    if path.name.startswith("."):
        return Found(path, HIDDEN, "a folder, not entered")
    if path.name in ignored:
        return Found(path, SETTINGS_FOLDER, "not entered")
    why = _excluded(path, rules, folder=True)
    return Found(path, EXCLUDED, why) if why else None


def _excluded(path: Path, rules: tuple[VaultRules, ...], folder: bool = False) -> str | None:
    return next((why for r in rules if (why := r.excluded(path, folder)) is not None), None)


def _enclosing_vault(root: Path) -> tuple[VaultRules, ...]:
    """The rules of the vault `root` is in (or is), if any: a subfolder ingested alone
    still follows its vault's settings."""
    for folder in (root, *root.parents):
        rules = vault_rules(folder)
        if rules is not None:
            return (rules,)
    return ()


def _leads_to_folder(entry: os.DirEntry[str]) -> bool:
    try:
        return entry.is_dir()
    except OSError:  # a loop: left for the file checks, which say so
        return False


def _link_target(path: Path) -> str:
    try:
        return f"it points to {os.readlink(path)}"
    except OSError:
        return ""
