"""Walk the paths a user gives and pick the connector for each file.

Hidden folders and files are skipped (`.git`, `.obsidian`, `.trash`...), as are
folders a connector names as its own settings. Detection is by content first
(connectors see the first 4 KiB), so a WhatsApp export called `chat.txt` is read as
WhatsApp, not as plain text.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

from connectors import Connector, connector_for


def walk(
    root: Path, connectors: list[Connector], forced: Connector | None = None
) -> Iterator[Path]:
    """`root` itself if it is a file, else every file under it that is not hidden or in a
    folder some connector ignores. Nothing is opened: detection comes later, and only
    for files that changed since they were last read."""
    if root.is_file():
        yield root
        return
    candidates = [forced] if forced else connectors
    ignored = set().union(*(c.ignored_dirs for c in candidates))
    for folder, dirs, files in os.walk(root):
        dirs[:] = sorted(d for d in dirs if not d.startswith(".") and d not in ignored)
        for name in sorted(files):
            if not name.startswith("."):
                yield Path(folder) / name


def choose(
    path: Path, connectors: list[Connector], forced: Connector | None, named: bool
) -> Connector | None:
    """The connector for `path`. With `forced`, a file the user named is read by it
    whatever it looks like, and a folder's files only if it recognises them."""
    if forced is not None and named:
        return forced
    return connector_for(path, [forced] if forced else connectors)
