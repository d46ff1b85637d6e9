"""Markdown and Obsidian notes: front matter, heading sections, tags and wikilinks.

A note is cut by its ATX headings first and by paragraphs second, so a chunk never mixes
two sections and its `title` says where it sits ("Lisbon trip > Flights"). Locators are
built from the heading path, not from positions, so editing one section leaves the refs
and hashes of every other section unchanged and re-ingest only touches what changed.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any, ClassVar

import yaml
from frontmatter.default_handlers import YAMLHandler

from connectors.base import Connector, Item, ParseError
from connectors.chunking import chunk_paragraphs, heading_keys, split_paragraphs
from connectors.dated_entries import dated_entries, opening_date
from connectors.textfile import aware, decode_text, file_time, local_midnight

log = logging.getLogger(__name__)

# Real front matter is a few hundred bytes; the cap bounds the pure-Python YAML parse.
_MAX_FRONT_MATTER = 64 * 1024
_FM_START = re.compile(r"-{3,}[ \t]*(?:\n|$)")
_FENCE_OPEN = re.compile(r"^ {0,3}(`{3,}|~{3,})(.*)$")
_ATX = re.compile(r"^ {0,3}(#{1,6})(?:[ \t]+(.*))?$")
_ATX_CLOSING = re.compile(r"(?:^|[ \t]+)#+[ \t]*$")
_INLINE_CODE = re.compile(r"(`+)(?:(?!\1).)+?\1")
# Obsidian tags: `#` at the start or after whitespace, at least one letter (#1984 is not
# a tag), nested with `/`.
_TAG = re.compile(r"(?<!\S)#([\w/-]+)")
_WIKILINK = re.compile(r"\[\[([^\[\]\n]+?)\]\]")


@dataclass(frozen=True)
class _Section:
    """The body lines under one heading (or before the first), heading lines excluded."""

    path: tuple[str, ...]
    body: str


class MarkdownConnector(Connector):
    """Reads `.md` notes as written by Obsidian, Logseq-style vaults or any editor."""

    name: ClassVar[str] = "markdown"
    kind: ClassVar[str] = "note"
    extensions: ClassVar[tuple[str, ...]] = (".md", ".markdown")
    ignored_dirs: ClassVar[frozenset[str]] = frozenset({".obsidian", ".trash", ".git"})

    def parse(self, path: Path, data: bytes, mtime: datetime) -> list[Item]:
        """One item per chunk of each heading section; a body-less note gives none."""
        text = decode_text(data)
        front, body = split_front_matter(text)
        time, date_source = _note_time(front, path, mtime)
        note_meta: dict[str, Any] = {
            "note_title": _note_title(front, path),
            "tags": _tags(front, body),
        }
        aliases = _str_list(front.get("aliases", front.get("alias")), split_spaces=False)
        if aliases:
            note_meta["aliases"] = aliases
        document = str(path.resolve())
        items: list[Item] = []
        sections = split_sections(body)
        for key, section in zip(heading_keys(s.path for s in sections), sections, strict=True):
            for ordinal, (chunk, when, source) in enumerate(
                _dated_chunks(section, time, date_source)
            ):
                meta = {
                    **note_meta,
                    "wikilinks": wikilinks(chunk),
                    "heading_path": list(section.path),
                    "chunk": len(items),
                    "date_source": source,
                }
                items.append(
                    Item(
                        text=chunk,
                        time=when,
                        kind=self.kind,
                        document=document,
                        locator=f"{key}:{ordinal}",
                        author="self",
                        title=" > ".join(section.path) or None,
                        meta=meta,
                    )
                )
        return items


def _dated_chunks(
    section: _Section, time: datetime, date_source: str
) -> list[tuple[str, datetime, str]]:
    """The section's chunks with their times: a heading that is a date ("## 3 March
    2024") dates its section, and a paragraph that opens with one its entry (see
    `connectors.dated_entries`), unless the note says it was written before that day;
    the rest keep the note's time."""
    written = time.date() if date_source in ("front_matter", "file_name") else None
    heading = opening_date(section.path[-1], time.year) if section.path else None
    if heading is not None and (written is None or heading <= written):
        time, date_source = local_midnight(heading), "heading"
    out: list[tuple[str, datetime, str]] = []
    for entry in dated_entries(split_paragraphs(section.body), time.year, written):
        when, source = (time, date_source) if entry.day is None else (
            local_midnight(entry.day), "entry")  # fmt: skip
        out += [(chunk, when, source) for chunk in chunk_paragraphs(entry.paragraphs)]
    return out


def split_front_matter(text: str) -> tuple[dict[str, Any], str]:
    """The YAML front matter as a dict and the body after it.

    Only a `---` on the very first line opens front matter (as in Obsidian); without a
    closing `---` the file has none. YAML that does not parse, or that is not a mapping,
    raises `ParseError` naming the problem and its line.
    """
    if not _FM_START.match(text):
        return {}, text
    handler = YAMLHandler()
    try:
        raw, body = handler.split(text)
    except ValueError:  # no closing delimiter: a horizontal rule, not front matter
        return {}, text
    if len(raw) > _MAX_FRONT_MATTER:
        raise ParseError(
            f"front matter is {len(raw)} characters long; over {_MAX_FRONT_MATTER} it is not "
            "note metadata"
        )
    try:
        # The pure-Python loader on purpose: libyaml's C loader overflows the C stack (a
        # segfault of the whole ingest) on deeply nested input, this one raises.
        loaded = handler.load(raw, Loader=yaml.SafeLoader)
    except RecursionError as exc:
        raise ParseError("malformed YAML front matter: nested too deeply") from exc
    except yaml.MarkedYAMLError as exc:
        where = ""
        if exc.problem_mark is not None:
            # `raw` starts right after the opening `---`, so its line 0 is file line 1.
            where = f" (line {exc.problem_mark.line + 1}, column {exc.problem_mark.column + 1})"
        problem = " ".join(p for p in (exc.problem, exc.context) if p)
        raise ParseError(f"malformed YAML front matter: {problem}{where}") from exc
    except (yaml.YAMLError, ValueError, TypeError) as exc:  # e.g. date: 2024-13-40
        raise ParseError(f"malformed YAML front matter: {exc}") from exc
    if loaded is None:
        loaded = {}
    if not isinstance(loaded, dict):
        raise ParseError(
            f"malformed YAML front matter: expected key: value pairs, got a {type(loaded).__name__}"
        )
    return {str(k): v for k, v in loaded.items()}, body.lstrip("\n")


def split_sections(body: str) -> list[_Section]:
    """Cut the body at ATX headings, ignoring `#` lines inside fenced code blocks."""
    sections: list[_Section] = []
    stack: list[tuple[int, str]] = []
    lines: list[str] = []
    for line, in_code in _code_marked(body.split("\n")):
        heading = None if in_code else _heading(line)
        if heading is None:
            lines.append(line)
            continue
        sections.append(_Section(tuple(name for _, name in stack), "\n".join(lines)))
        lines = []
        level, name = heading
        while stack and stack[-1][0] >= level:
            stack.pop()
        stack.append((level, name))
    sections.append(_Section(tuple(name for _, name in stack), "\n".join(lines)))
    return sections


def _code_marked(lines: Iterable[str]) -> Iterator[tuple[str, bool]]:
    """Each line with whether it belongs to a fenced code block (fences included)."""
    fence: str | None = None
    for line in lines:
        if fence is not None:
            closing = rf" {{0,3}}{re.escape(fence[0])}{{{len(fence)},}}[ \t]*"
            if re.fullmatch(closing, line):
                fence = None
            yield line, True
        elif (opened := _FENCE_OPEN.match(line)) and not (
            opened.group(1)[0] == "`" and "`" in opened.group(2)
        ):
            fence = opened.group(1)
            yield line, True
        else:
            yield line, False


def _heading(line: str) -> tuple[int, str] | None:
    match = _ATX.match(line)
    if match is None:
        return None
    name = _ATX_CLOSING.sub("", match.group(2) or "").strip()
    return (len(match.group(1)), name) if name else None


def _note_time(front: Mapping[str, Any], path: Path, mtime: datetime) -> tuple[datetime, str]:
    for key in ("date", "created"):
        value = front.get(key)
        if value is None or value == "":
            continue
        moment = _as_datetime(value)
        if moment is not None:
            return moment, "front_matter"
        log.warning("ignoring front matter %s=%r in %s: not a date", key, value, path.name)
    return file_time(path.name, mtime)


def _as_datetime(value: object) -> datetime | None:
    if isinstance(value, datetime):
        return aware(value)
    if isinstance(value, date):
        return local_midnight(value)
    if isinstance(value, str):
        try:
            return aware(datetime.fromisoformat(value.strip()))
        except ValueError:
            return None
    return None


def _note_title(front: Mapping[str, Any], path: Path) -> str:
    title = front.get("title")
    if isinstance(title, str | int | float) and str(title).strip():
        return str(title).strip()
    return path.stem


def _str_list(value: object, *, split_spaces: bool) -> list[str]:
    """A front matter list or comma (and maybe space) separated string, as strings.

    Nested values are skipped rather than stringified: YAML aliases can make them huge.
    """
    if isinstance(value, str):
        parts: list[object] = re.split(r"[,\s]+" if split_spaces else r",", value)
    elif isinstance(value, list | tuple):
        parts = list(value)
    else:
        return []
    found = [str(p).strip() for p in parts if isinstance(p, str | int | float)]
    return _dedupe(p for p in found if p)


def _tags(front: Mapping[str, Any], body: str) -> list[str]:
    """Front matter tags, then inline `#tags` outside code, without `#`, deduplicated."""
    declared = _str_list(front.get("tags", front.get("tag")), split_spaces=True)
    inline = [m.group(1) for m in _TAG.finditer(_prose(body))]
    tags = (t.lstrip("#").strip("/") for t in [*declared, *inline])
    return _dedupe(t for t in tags if re.search(r"[^\W\d_]", t))


def wikilinks(text: str) -> list[str]:
    """Targets of `[[Target]]`, `[[Target|alias]]` and `[[Target#Heading]]`, in order."""
    inner = (m.group(1) for m in _WIKILINK.finditer(_prose(text)))
    # `\|` is how a wikilink's alias pipe is escaped inside a Markdown table.
    targets = (re.split(r"[|#^]", link, maxsplit=1)[0].rstrip("\\").strip() for link in inner)
    return _dedupe(t for t in targets if t)


def _prose(text: str) -> str:
    """`text` without fenced code blocks and inline code, where `#` and `[[` mean nothing."""
    lines = _code_marked(text.split("\n"))
    return "\n".join(_INLINE_CODE.sub(" ", line) for line, code in lines if not code)


def _dedupe(values: Iterable[str]) -> list[str]:
    """First spelling of each value, compared without case (Obsidian ignores it)."""
    seen: set[str] = set()
    out: list[str] = []
    for value in values:
        if value.casefold() not in seen:
            seen.add(value.casefold())
            out.append(value)
    return out
