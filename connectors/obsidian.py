"""An Obsidian vault's own settings about which files are not notes: templates, exclusions.

A template is a skeleton with placeholders (`{{date}}`, `<% tp.file.title %>`), not
something the user wrote about their life, and "Excluded files" are what the user told
Obsidian to leave out of search. A walk over a vault honours both, as Obsidian does. The
vault keeps them in its `.obsidian/` folder:

- the core Templates plugin's folder: `templates.json`, key `folder`;
- the Templater plugin's folder: `plugins/templater-obsidian/data.json`, key
  `templates_folder`;
- "Excluded files" (Settings > Files and links): `app.json`, key `userIgnoreFilters`, a
  list whose entries are path prefixes inside the vault (`Archive/`) or, written between
  slashes, regular expressions searched in that path (`/\\.excalidraw\\.md$/`).

Settings files are read like any hostile file (regular files only, never blocking, at
most `MAX_SETTINGS_BYTES`); one that is missing or broken counts as empty.
"""

from __future__ import annotations

import json
import logging
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from connectors.base import ConnectorError
from connectors.reading import open_regular

__all__ = ["SETTINGS_DIR", "VaultRules", "vault_rules"]

log = logging.getLogger(__name__)

SETTINGS_DIR = ".obsidian"
MAX_SETTINGS_BYTES = 1024 * 1024
_TEMPLATE_SETTINGS = (
    (("templates.json",), "folder"),
    (("plugins", "templater-obsidian", "data.json"), "templates_folder"),
)


@dataclass(frozen=True)
class VaultRules:
    """What one vault's settings keep out of its notes; paths are relative to `root`."""

    root: Path
    templates: tuple[str, ...] = ()  # folders, without slashes at either end
    prefixes: tuple[str, ...] = ()
    patterns: tuple[re.Pattern[str], ...] = ()

    def excluded(self, path: Path, folder: bool = False) -> str | None:
        """Which of the vault's settings leaves `path` out ("templates folder
        Templates/"), or None if none does."""
        try:
            inside = path.relative_to(self.root).as_posix()
        except ValueError:
            return None
        if folder:  # "Archive/" names the folder and everything in it
            inside += "/"
        for templates in self.templates:
            if inside.startswith(templates + "/") or inside == templates:
                return f"templates folder {templates}/"
        for prefix in self.prefixes:
            if inside.startswith(prefix):
                return f'"Excluded files": {prefix}'
        for pattern in self.patterns:
            if pattern.search(inside):
                return f'"Excluded files": /{pattern.pattern}/'
        return None


def vault_rules(folder: Path) -> VaultRules | None:
    """The rules of the vault rooted at `folder`, or None if `folder` is not a vault."""
    settings = folder / SETTINGS_DIR
    if not settings.is_dir():
        return None
    templates = []
    for parts, key in _TEMPLATE_SETTINGS:
        value = _read_settings(settings.joinpath(*parts)).get(key)
        if isinstance(value, str) and value.strip().strip("/"):
            templates.append(value.strip().strip("/"))
    prefixes: list[str] = []
    patterns: list[re.Pattern[str]] = []
    filters = _read_settings(settings / "app.json").get("userIgnoreFilters")
    for entry in filters if isinstance(filters, list) else []:
        if not isinstance(entry, str) or not entry.strip():
            continue
        if len(entry) > 2 and entry.startswith("/") and entry.endswith("/"):
            try:
                patterns.append(re.compile(entry[1:-1]))
            except re.error as exc:
                log.warning("%s: ignoring the excluded-files pattern %r: %s", folder, entry, exc)
        elif entry.strip("/"):  # "/" alone would exclude the whole vault: not a prefix
            prefixes.append(entry.lstrip("/"))
    return VaultRules(folder, tuple(templates), tuple(prefixes), tuple(patterns))


def _read_settings(path: Path) -> dict[str, Any]:
    """One settings file as a JSON object; {} when it is missing, unreadable or broken."""
    try:
        with open_regular(path) as stream:
            data = json.loads(stream.read(MAX_SETTINGS_BYTES + 1)[:MAX_SETTINGS_BYTES])
    except FileNotFoundError:
        return {}
    except (OSError, ConnectorError, ValueError, RecursionError) as exc:
        log.warning("ignoring the Obsidian settings file %s: %s", path, exc)
        return {}
    return data if isinstance(data, dict) else {}
