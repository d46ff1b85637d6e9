"""An Obsidian vault's own settings decide what is a note: templates and "Excluded files"."""

from __future__ import annotations

import json
from pathlib import Path

from assistant.discovery import EXCLUDED, Found, walk
from assistant.ingest import ingest
from assistant.memory import Memory
from connectors.obsidian import vault_rules
from connectors.registry import available_connectors


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def settings(vault: Path, name: str, data: object) -> None:
    write(vault / ".obsidian" / name, json.dumps(data))


def make_vault(root: Path) -> Path:
    """A vault as Obsidian lays it out, with both template plugins and exclusions set."""
    settings(root, "app.json", {"userIgnoreFilters": ["Archive/", "/\\.excalidraw\\.md$/"]})
    settings(root, "templates.json", {"folder": "Meta/Templates"})
    settings(root, "plugins/templater-obsidian/data.json", {"templates_folder": "/Templater/"})
    settings(root, "workspace.json", {"main": {}})
    write(root / "Daily" / "2024-05-01.md", "# May Day\n\nPicnic in the park with Ana.\n")
    write(root / "Meta" / "Templates" / "Daily.md", "# {{date}}\n\n## Mood\n\n## Gratitude\n")
    write(root / "Meta" / "Glossary.md", "Mise en place: everything in its place.\n")
    write(root / "Templater" / "Meeting.md", "# <% tp.file.title %>\n\nAttendees:\n")
    write(root / "Archive" / "2019 plans.md", "Old plans nobody follows.\n")
    write(root / "Drawings" / "Kitchen.excalidraw.md", "---\nexcalidraw-plugin: parsed\n---\n")
    write(root / "Drawings" / "Kitchen notes.md", "Tiles: terracotta, 20 cm.\n")
    return root


def names(found: list[Found], root: Path) -> dict[str, str]:
    return {f.path.relative_to(root).as_posix(): f.reason for f in found}


def test_a_walk_honours_templates_and_excluded_files(tmp_path: Path) -> None:
    vault = make_vault(tmp_path / "Vault")
    found = names(list(walk(vault, available_connectors())), vault)
    assert found == {
        ".obsidian": "hidden",
        "Archive": EXCLUDED,
        "Daily/2024-05-01.md": "",
        "Drawings/Kitchen notes.md": "",
        "Drawings/Kitchen.excalidraw.md": EXCLUDED,
        "Meta/Glossary.md": "",
        "Meta/Templates": EXCLUDED,
        "Templater": EXCLUDED,
    }
    details = {f.path.name: f.detail for f in walk(vault, available_connectors()) if f.detail}
    assert details["Templates"] == "templates folder Meta/Templates/"
    assert details["Templater"] == "templates folder Templater/"
    assert details["Archive"] == '"Excluded files": Archive/'
    assert details["Kitchen.excalidraw.md"] == '"Excluded files": /\\.excalidraw\\.md$/'


def test_a_subfolder_ingested_alone_follows_its_vault(tmp_path: Path) -> None:
    vault = make_vault(tmp_path / "Vault")
    found = names(list(walk(vault / "Meta", available_connectors())), vault / "Meta")
    assert found == {"Glossary.md": "", "Templates": EXCLUDED}


def test_broken_or_hostile_settings_count_as_none(tmp_path: Path) -> None:
    vault = tmp_path / "Vault"
    write(vault / ".obsidian" / "app.json", "{not json")
    write(vault / ".obsidian" / "templates.json", json.dumps({"folder": "/"}))  # not the root
    settings(vault, "plugins/templater-obsidian/data.json", ["a list, not an object"])
    rules = vault_rules(vault)
    assert rules is not None
    assert (rules.templates, rules.prefixes, rules.patterns) == ((), (), ())
    write(vault / "note.md", "Still a note.\n")
    assert names(list(walk(vault, available_connectors())), vault)["note.md"] == ""


def test_a_bad_pattern_is_ignored_and_the_others_apply(tmp_path: Path) -> None:
    vault = tmp_path / "Vault"
    settings(vault, "app.json", {"userIgnoreFilters": ["/(unclosed/", "/^Private//", "/"]})
    rules = vault_rules(vault)
    assert rules is not None
    assert [p.pattern for p in rules.patterns] == ["^Private/"]
    assert rules.prefixes == ()  # "/" alone would exclude the whole vault: ignored
    assert rules.excluded(vault / "Private" / "diary.md") == '"Excluded files": /^Private//'
    assert rules.excluded(vault / "Public" / "diary.md") is None


def test_templates_are_not_memories_and_leave_when_excluded(memory: Memory, tmp_path: Path) -> None:
    vault = make_vault(tmp_path / "Vault")
    result = ingest(memory, [vault])
    texts = {r[0] for r in memory.db.conn.execute("SELECT text FROM episodes")}
    assert texts == {
        "Picnic in the park with Ana.",
        "Mise en place: everything in its place.",
        "Tiles: terracotta, 20 cm.",
    }
    assert result.skipped_by_reason()[EXCLUDED] == 4
    # The user excludes Drawings/ in Obsidian: its note leaves the memory at the next run.
    settings(vault, "app.json", {"userIgnoreFilters": ["Archive/", "Drawings"]})
    again = ingest(memory, [vault])
    assert again.removed == 1
    texts = {r[0] for r in memory.db.conn.execute("SELECT text FROM episodes")}
    assert "Tiles: terracotta, 20 cm." not in texts
