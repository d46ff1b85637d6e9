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


def discover(
    root: Path, connectors: list[Connector], forced: Connector | None = None
) -> Iterator[tuple[Path, Connector | None]]:
    """(file, connector) for every file under `root`; None when nothing reads a file the
    user named directly. With `forced`, a named file is read by it whatever it looks
    like, and a folder's files only by it."""
    if root.is_file():
        yield root, forced or connector_for(root, connectors)
        return
    candidates = [forced] if forced else connectors
    ignored = set().union(*(c.ignored_dirs for c in candidates))
    for folder, dirs, files in os.walk(root):
        dirs[:] = sorted(d for d in dirs if not d.startswith(".") and d not in ignored)
        for name in sorted(files):
            if name.startswith("."):
                continue
            path = Path(folder) / name
            connector = connector_for(path, candidates)
            if connector is not None:
                yield path, connector
