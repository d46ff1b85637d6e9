"""Word (.docx) documents: heading sections, body paragraphs and flattened tables.

A DOCX is a zip of XML parts, so a hostile one can be a zip bomb; the archive's declared
sizes are checked before python-docx inflates anything (Python's zipfile never inflates
a member past its declared size, and fails on a CRC mismatch instead). Sections follow
the Heading/Title styles exactly like Markdown headings, so locators are heading-path
slugs and editing one section leaves the other sections' refs and hashes unchanged.
"""

from __future__ import annotations

import logging
import re
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from io import BytesIO
from pathlib import Path
from typing import Any, ClassVar

import docx
from docx.opc.constants import RELATIONSHIP_TYPE
from lxml import etree

from connectors.base import Connector, Item, ParseError
from connectors.chunking import MERGE_CHARS, chunk_paragraphs, heading_keys
from connectors.textfile import aware, file_time

log = logging.getLogger(__name__)

_ZIP_MAGIC = b"PK\x03\x04"
_MAIN_PART = "word/document.xml"
# A text-heavy 500-page report inflates to well under 50 MB; images count in the total.
MAX_UNCOMPRESSED = 256 * 1024 * 1024
MAX_MAIN_PART = 64 * 1024 * 1024
MAX_MEMBERS = 10_000
_HEADING_STYLE = re.compile(r"heading\s*([1-9])", re.IGNORECASE)
_TITLE_STYLE = "title"
_SPACES = re.compile(r"[ \t\u00a0]+")
_W = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"
_NS = {"w": _W, "mc": "http://schemas.openxmlformats.org/markup-compatibility/2006"}
_W_P, _W_TBL, _W_SDT = f"{{{_W}}}p", f"{{{_W}}}tbl", f"{{{_W}}}sdt"
_W_SDT_CONTENT = f"{{{_W}}}sdtContent"
_W_T, _W_TAB, _W_NO_BREAK_HYPHEN = f"{{{_W}}}t", f"{{{_W}}}tab", f"{{{_W}}}noBreakHyphen"
_W_STYLE_ID = f"{{{_W}}}styleId"
# Compiled once: lxml XPath objects are immutable and safe to share.
_OUTSIDE_BOXES = "[not(ancestor::w:txbxContent) and not(ancestor::mc:Fallback)]"
_RUN_TEXT = etree.XPath(
    " | ".join(
        f"descendant::w:{tag}{_OUTSIDE_BOXES}" for tag in ("t", "tab", "br", "cr", "noBreakHyphen")
    ),
    namespaces=_NS,
)
_TEXT_BOXES = etree.XPath("descendant::w:txbxContent[not(ancestor::mc:Fallback)]", namespaces=_NS)
_PARAS = etree.XPath("descendant::w:p", namespaces=_NS)
_ALL_TEXT = etree.XPath("descendant::w:t", namespaces=_NS)
_TABLE_ROWS = etree.XPath("w:tr | w:sdt/w:sdtContent/w:tr", namespaces=_NS)
_ROW_CELLS = etree.XPath("w:tc | w:sdt/w:sdtContent/w:tc", namespaces=_NS)
_OUTLINE = etree.XPath("w:pPr/w:outlineLvl/@w:val", namespaces=_NS)
_PARAGRAPH_STYLE = etree.XPath("w:pPr/w:pStyle/@w:val", namespaces=_NS)
_STYLES = etree.XPath("w:style[@w:type='paragraph']", namespaces=_NS)
_STYLE_NAME = etree.XPath("w:name/@w:val", namespaces=_NS)
_STYLE_BASED_ON = etree.XPath("w:basedOn/@w:val", namespaces=_NS)


@dataclass
class _Section:
    """Paragraphs under one heading path (or before the first heading)."""

    path: tuple[str, ...]
    paragraphs: list[str] = field(default_factory=list)


class DocxConnector(Connector):
    """Reads `.docx` files written by Word, LibreOffice, Google Docs or python-docx."""

    name: ClassVar[str] = "docx"
    kind: ClassVar[str] = "document"
    history: ClassVar[str] = "replace"
    extensions: ClassVar[tuple[str, ...]] = (".docx",)
    # Photos inside reports make 20 MB common; the text parts are capped separately.
    max_file_bytes: ClassVar[int] = 100 * 1024 * 1024

    def detect(self, path: Path, head: bytes) -> bool:
        """A zip whose first entries name Word parts, or a `.docx` name.

        The local headers in the first 4 KiB usually name `word/...` parts; when they do
        not (a big `[Content_Types].xml` first), the extension decides.
        """
        if head.startswith(_ZIP_MAGIC) and b"word/" in head:
            return True
        return path.suffix.lower() in self.extensions

    def parse(self, path: Path, data: bytes, mtime: datetime) -> list[Item]:
        """One item per chunk of each heading section; a document without text gives none."""
        document = open_docx(data)
        try:
            props = _core_properties(document)
            sections = _sections(document)
        except MemoryError:
            raise
        except Exception as exc:  # malformed XML that python-docx loaded without looking
            raise ParseError(f"damaged DOCX: {exc or type(exc).__name__}") from exc
        time, date_source = _document_time(props, path, mtime)
        author = props.get("author") or None
        doc_title = props.get("title") or path.stem
        resolved = str(path.resolve())
        items: list[Item] = []
        for key, section in zip(heading_keys(s.path for s in sections), sections, strict=True):
            for ordinal, chunk in enumerate(chunk_paragraphs(section.paragraphs)):
                items.append(
                    Item(
                        text=chunk,
                        time=time,
                        kind=self.kind,
                        document=resolved,
                        locator=f"{key}:{ordinal}",
                        author="unknown",
                        title=" > ".join(section.path) or None,
                        sender=author,
                        meta={
                            "doc_title": doc_title,
                            "heading_path": list(section.path),
                            "chunk": len(items),
                            "date_source": date_source,
                        },
                    )
                )
        log.debug("%s: %d chunks", path.name, len(items))
        return items


def open_docx(data: bytes) -> Any:
    """The python-docx Document for `data`, after the archive passed the size checks."""
    if not data.startswith(_ZIP_MAGIC):
        raise ParseError("not a DOCX: not a zip archive")
    check_archive(data)
    try:
        return docx.Document(BytesIO(data))
    except MemoryError:
        raise
    except Exception as exc:  # python-docx/lxml/zipfile raise many types on damage
        detail = str(exc) or type(exc).__name__
        raise ParseError(f"damaged DOCX: {detail}") from exc


def check_archive(data: bytes) -> None:
    """Refuse archives that are not Word documents or would inflate past the caps."""
    try:
        with zipfile.ZipFile(BytesIO(data)) as archive:
            members = archive.infolist()
    except (zipfile.BadZipFile, zipfile.LargeZipFile, ValueError, EOFError) as exc:
        raise ParseError(f"not a DOCX: damaged zip archive ({exc})") from exc
    if len(members) > MAX_MEMBERS:
        raise ParseError(f"DOCX archive has {len(members)} entries; at most {MAX_MEMBERS}")
    names = {m.filename for m in members}
    if _MAIN_PART not in names:
        raise ParseError(f"zip archive is not a Word document: no {_MAIN_PART}")
    total = sum(m.file_size for m in members)
    if total > MAX_UNCOMPRESSED:
        raise ParseError(
            f"DOCX would inflate to {total:,} bytes (over {MAX_UNCOMPRESSED:,}); "
            "refusing a possible zip bomb"
        )
    main = next(m for m in members if m.filename == _MAIN_PART)
    if main.file_size > MAX_MAIN_PART:
        raise ParseError(
            f"DOCX text part is {main.file_size:,} bytes (over {MAX_MAIN_PART:,}); "
            "refusing a possible zip bomb"
        )


def _core_properties(document: Any) -> dict[str, Any]:
    """Author, title and dates from docProps/core.xml, or {} when there is none.

    python-docx invents a default part (with "now" as its date) when a file has none,
    so the part is looked up first; a date that does not parse is skipped.
    """
    try:
        part = document.part.package.part_related_by(RELATIONSHIP_TYPE.CORE_PROPERTIES)
    except KeyError:
        return {}
    props = part.core_properties
    out: dict[str, Any] = {}
    for name in ("author", "title", "created", "modified"):
        try:
            value = getattr(props, name)
        except (ValueError, TypeError) as exc:
            log.debug("ignoring core property %s: %s", name, exc)
            continue
        if isinstance(value, str):
            value = " ".join(value.split())[:300]
        if value:
            out[name] = value
    return out


def _document_time(props: dict[str, Any], path: Path, mtime: datetime) -> tuple[datetime, str]:
    for name, source in (("created", "docx_created"), ("modified", "docx_modified")):
        value = props.get(name)
        if isinstance(value, datetime):
            return aware(value), source
    return file_time(path.name, mtime)


def _sections(document: Any) -> list[_Section]:
    """Body blocks in order, cut into sections at Title and Heading N paragraphs."""
    levels = _style_levels(document)
    sections = [_Section(())]
    stack: list[tuple[int, str]] = []
    for block in _blocks(document.element.body):
        if block.tag == _W_TBL:
            sections[-1].paragraphs.extend(_table_blocks(block))
            continue
        text = paragraph_text(block)
        level = _heading_level(block, levels)
        if level is None:
            if text:
                sections[-1].paragraphs.append(text)
            sections[-1].paragraphs.extend(_text_boxes(block))
            continue
        name = " ".join(text.split())
        if not name:
            continue
        while stack and stack[-1][0] >= level:
            stack.pop()
        stack.append((level, name))
        sections.append(_Section(tuple(n for _, n in stack)))
    return sections


def _blocks(container: Any, depth: int = 0) -> Iterator[Any]:
    """Paragraphs and tables in reading order, looking inside content controls."""
    for child in container:
        if child.tag in (_W_P, _W_TBL):
            yield child
        elif child.tag == _W_SDT and depth < 8:  # e.g. a cover page or a table of contents
            for content in child.findall(_W_SDT_CONTENT):
                yield from _blocks(content, depth + 1)


def _style_levels(document: Any) -> dict[str, int]:
    """Outline level per paragraph style id: 0 for Title, N for "heading N".

    Built-in style names are stored in English whatever the UI language; a custom style
    counts when its definition (or one it is based on) carries an outline level.
    """
    own: dict[str, int | None] = {}
    based_on: dict[str, str] = {}
    for style in _STYLES(document.styles.element):
        style_id = style.get(_W_STYLE_ID) or ""
        name = " ".join((_first(_STYLE_NAME(style)) or "").split()).lower()
        heading = _HEADING_STYLE.fullmatch(name)
        outline = _first(_OUTLINE(style))
        if name == _TITLE_STYLE:
            own[style_id] = 0
        elif heading:
            own[style_id] = int(heading.group(1))
        elif outline is not None and outline.isdigit() and int(outline) < 9:
            own[style_id] = int(outline) + 1
        else:
            own[style_id] = None
        parent = _first(_STYLE_BASED_ON(style))
        if parent:
            based_on[style_id] = parent
    levels: dict[str, int] = {}
    for style_id in own:
        current: str | None = style_id
        for _ in range(10):  # basedOn chains are short; a cycle must not hang
            if current is None or current not in own:
                break
            if own[current] is not None:
                levels[style_id] = own[current]  # type: ignore[assignment]
                break
            current = based_on.get(current)
    return levels


def _heading_level(paragraph: Any, levels: dict[str, int]) -> int | None:
    direct = _first(_OUTLINE(paragraph))
    if direct is not None and direct.isdigit():
        return int(direct) + 1 if int(direct) < 9 else None  # 9 means body text
    style = _first(_PARAGRAPH_STYLE(paragraph))
    return levels.get(style) if style else None


def paragraph_text(paragraph: Any) -> str:
    """A paragraph's visible text: runs, hyperlinks, tracked insertions, tabs and breaks.

    Text boxes are left out (see `_text_boxes`), as is the VML fallback copy Word writes
    of each drawing, which would repeat it.
    """
    parts: list[str] = []
    for node in _RUN_TEXT(paragraph):
        tag = node.tag
        if tag == _W_T:
            parts.append(node.text or "")
        elif tag == _W_TAB:
            parts.append(" ")
        elif tag == _W_NO_BREAK_HYPHEN:
            parts.append("-")
        else:
            parts.append("\n")
    lines = (_SPACES.sub(" ", line).strip() for line in "".join(parts).split("\n"))
    return "\n".join(line for line in lines if line)


def _text_boxes(paragraph: Any) -> list[str]:
    """Paragraph texts of the text boxes anchored in `paragraph`, each box one block."""
    boxes = []
    for box in _TEXT_BOXES(paragraph):
        texts = (" ".join("".join(t.text or "" for t in _ALL_TEXT(p)).split()) for p in _PARAS(box))
        joined = "\n".join(t for t in texts if t)
        if joined:
            boxes.append(joined)
    return boxes


def _table_blocks(table: Any) -> list[str]:
    """Rows as "cell | cell" lines, packed into blocks a chunk can hold whole."""
    blocks: list[str] = []
    current: list[str] = []
    for row in _rows(table):
        if current and len("\n".join([*current, row])) > MERGE_CHARS:
            blocks.append("\n".join(current))
            current = []
        current.append(row)
    if current:
        blocks.append("\n".join(current))
    return blocks


def _rows(table: Any) -> Iterator[str]:
    """One line per row; a cell's paragraphs (and nested tables) are flattened to one line."""
    for row in _TABLE_ROWS(table):
        cells = [
            " ".join(" ".join(paragraph_text(p) for p in _PARAS(cell)).split())
            for cell in _ROW_CELLS(row)
        ]
        if any(cells):
            yield " | ".join(cells)


def _first(values: list[Any]) -> str | None:
    return str(values[0]) if values else None
