"""PDF documents: the text layer page by page, cut into paragraph chunks per page.

PDFs carry no paragraphs, only positioned runs of glyphs, so paragraph breaks are
inferred from the vertical gaps between lines. A chunk never spans two pages: the page
number is how a person finds the passage again. Scanned PDFs (images, no text layer)
fail explicitly rather than ingest as nothing, since OCR is out of scope.
"""

from __future__ import annotations

import logging
import re
from collections import Counter
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from io import BytesIO
from math import hypot
from pathlib import Path
from statistics import median
from typing import Any, ClassVar

from pypdf import PdfReader
from pypdf.errors import FileNotDecryptedError, PyPdfError

from connectors.base import Connector, Item, ParseError
from connectors.chunking import chunk_paragraphs
from connectors.textfile import aware, file_time

log = logging.getLogger(__name__)

# Guards against pathological files; a real book has a few hundred pages and well under
# 5 M characters, and the worker's time limit is the last line of defence.
MAX_PAGES = 5_000
MAX_CHARS = 20_000_000
_MAX_TITLE = 300
# The spec lets the header sit anywhere in the first 1,024 bytes (Acrobat accepts that).
_HEADER_WINDOW = 1024
_DO = re.compile(rb"/([^\s/\[\]()<>{}%]+)\s+Do\b")
_INLINE_IMAGE = re.compile(rb"(?:^|\s)BI\s")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]+")
# Broken font encodings yield NULs and other C0 codes; they only get in the way.
_CONTROL_CHARS = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")
# Office's PDF export names the document after the application ("Microsoft Word - x.docx").
_APP_PREFIX = re.compile(r"^Microsoft (?:Word|PowerPoint|Excel) - ", re.IGNORECASE)
_EMPTY_TITLES = frozenset({"untitled", "untitled document", "document"})
# D:YYYYMMDDHHmmSSOHH'mm' with every part after the year optional (PDF 32000 7.9.4).
_PDF_DATE = re.compile(
    r"(?:D:)?(\d{4})(\d{2})?(\d{2})?(\d{2})?(\d{2})?(\d{2})?"
    r"(?:\.\d+)?\s*(?:([Zz+-])\s*(?:(\d{2})'?\s*(?:(\d{2})'?)?)?)?"
)


class PdfConnector(Connector):
    """Reads `.pdf` files with pypdf; one item per paragraph chunk of each page."""

    name: ClassVar[str] = "pdf"
    kind: ClassVar[str] = "document"
    history: ClassVar[str] = "replace"
    extensions: ClassVar[tuple[str, ...]] = (".pdf",)
    # Text PDFs over 20 MB are common (embedded fonts and figures); pypdf reads lazily.
    max_file_bytes: ClassVar[int] = 100 * 1024 * 1024

    def detect(self, path: Path, head: bytes) -> bool:
        """A file starting with `%PDF-`, or a `.pdf` name (so damage is reported).

        Parsing also accepts the header anywhere in the first 1,024 bytes, as Acrobat
        does, but only a `.pdf` name vouches for such a file: a text note may well quote
        "%PDF-" near its top.
        """
        return head.startswith(b"%PDF-") or path.suffix.lower() in self.extensions

    def parse(self, path: Path, data: bytes, mtime: datetime) -> list[Item]:
        """Items per page chunk; a PDF without pages or text on blank pages gives none."""
        if b"%PDF-" not in data[:_HEADER_WINDOW]:
            raise ParseError("not a PDF: no %PDF- header in the first 1,024 bytes")
        with pypdf_reports(path.name):
            try:
                return self._parse(path, data, mtime)
            except (ParseError, MemoryError):
                raise
            except Exception as exc:  # pypdf raises many types on crafted input
                raise ParseError(_damage_message(data, exc)) from exc

    def _parse(self, path: Path, data: bytes, mtime: datetime) -> list[Item]:
        reader = open_pdf(data)
        info = _info(reader)
        title = _title(info.get("title")) or path.stem
        time, date_source = _document_time(info, path, mtime)
        pages = _read_pages(reader)
        document = str(path.resolve())
        items: list[Item] = []
        for number, paragraphs in pages.texts:
            for ordinal, chunk in enumerate(chunk_paragraphs(paragraphs)):
                meta: dict[str, Any] = {
                    "page": number,
                    "pages": pages.count,
                    "chunk": len(items),
                    "date_source": date_source,
                }
                if pages.unreadable:
                    meta["unreadable_pages"] = list(pages.unreadable)
                items.append(
                    Item(
                        text=chunk,
                        time=time,
                        kind=self.kind,
                        document=document,
                        locator=f"p{number}:{ordinal}",
                        author="unknown",
                        title=title,
                        sender=info.get("author"),
                        meta=meta,
                    )
                )
        log.debug("%s: %d pages, %d chunks", path.name, pages.count, len(items))
        return items


def open_pdf(data: bytes) -> PdfReader:
    """A reader over `data`, decrypted when the PDF opens without a password."""
    reader = PdfReader(BytesIO(data), strict=False)
    if reader.is_encrypted:
        try:
            opened = reader.decrypt("")
        except (NotImplementedError, PyPdfError) as exc:  # e.g. an unknown security handler
            raise ParseError(f"PDF uses encryption that cannot be opened: {exc}") from exc
        if not opened:
            raise ParseError("PDF is password-protected")
    return reader


class _Pages:
    """Each page's paragraphs (pages without text left out) and which pages failed."""

    def __init__(self, count: int) -> None:
        self.count = count
        self.texts: list[tuple[int, list[str]]] = []
        self.unreadable: list[int] = []


def _read_pages(reader: PdfReader) -> _Pages:
    try:
        count = len(reader.pages)
    except FileNotDecryptedError as exc:
        raise ParseError("PDF is password-protected") from exc
    if count > MAX_PAGES:
        raise ParseError(f"PDF has {count} pages; at most {MAX_PAGES} are read")
    pages = _Pages(count)
    chars = 0
    first_error = ""
    for number, page in enumerate(reader.pages, start=1):
        try:
            paragraphs = page_paragraphs(page)
        except (MemoryError, ParseError):
            raise
        except Exception as exc:  # one broken page (font, stream) should not lose the rest
            log.debug("page %d unreadable: %r", number, exc)
            pages.unreadable.append(number)
            first_error = first_error or f"page {number}: {exc}"
            continue
        chars += sum(len(p) for p in paragraphs)
        if chars > MAX_CHARS:
            raise ParseError(
                f"PDF text is over {MAX_CHARS:,} characters (at page {number}); too large to index"
            )
        if paragraphs:
            pages.texts.append((number, paragraphs))
    if not pages.texts and pages.unreadable:
        raise ParseError(f"damaged PDF: no page could be read ({first_error})")
    if not pages.texts and any(_has_images(page) for page in reader.pages):
        raise ParseError("PDF has no text layer (scanned?); OCR is not supported")
    return pages


def _has_images(page: Any) -> bool:
    """Whether the page draws an image: the mark of a scan (resources alone may be shared).

    A page too damaged to tell counts as an image: with no text anywhere, "no text
    layer" is the more useful report than an empty success.
    """
    try:
        contents = page.get_contents()
        data = contents.get_data() if contents is not None else b""
        return _draws_image(data, page.get("/Resources"), depth=0)
    except Exception as exc:
        log.debug("cannot tell whether a page shows images: %r", exc)
        return True


@dataclass(frozen=True)
class _Line:
    """One extracted line with where it starts vertically and its font size, if known."""

    text: str
    y: float | None
    size: float


def page_paragraphs(page: Any) -> list[str]:
    """The page's text as paragraphs, split where the gap between lines widens.

    pypdf's plain extraction keeps the content stream's reading order (columns stay
    whole) but puts one newline between all lines; its layout mode keeps the gaps but
    interleaves columns. So the plain text is rebuilt from pypdf's own fragments, each
    with its text matrix, and the vertical positions decide where paragraphs end. If the
    fragments do not add up to the text, the page is one block (never lose text).
    """
    fragments: list[tuple[str, Sequence[float], Sequence[float], float]] = []

    def visit(text: str, cm: Any, tm: Any, _font: Any, size: Any) -> None:
        fragments.append((text, cm, tm, float(size or 0)))

    text = page.extract_text(visitor_text=visit)
    if "".join(f[0] for f in fragments) != text:
        log.debug("pypdf fragments do not match the page text; no paragraph breaks")
        return [text.strip()] if text.strip() else []
    return _group(_lines(fragments))


def _lines(fragments: list[tuple[str, Sequence[float], Sequence[float], float]]) -> list[_Line]:
    lines: list[_Line] = []
    parts: list[str] = []
    y: float | None = None
    size = 0.0
    for text, cm, tm, font_size in fragments:
        for index, piece in enumerate(text.split("\n")):
            if index > 0:  # pypdf started a new line; where it sits is not known
                lines.append(_Line("".join(parts), y, size))
                parts, y, size = [], None, 0.0
            elif y is None and piece.strip():  # the fragment's matrix is where it starts
                y = tm[4] * cm[1] + tm[5] * cm[3] + cm[5]
                size = font_size * hypot(tm[2], tm[3]) * hypot(cm[2], cm[3])
            parts.append(_CONTROL_CHARS.sub("", piece))
    lines.append(_Line("".join(parts), y, size))
    return [line for line in lines if line.text.strip()]


def _group(lines: list[_Line]) -> list[str]:
    """Join lines into paragraphs: a wider gap, a jump upwards or a new font size breaks."""
    gaps = [
        prev.y - line.y
        for prev, line in zip(lines, lines[1:], strict=False)
        if prev.y is not None and line.y is not None and prev.y != line.y
    ]
    # Pages whose y axis points down (a flipped matrix) read with the sign reversed.
    direction = -1.0 if gaps and median(gaps) < 0 else 1.0
    spacing = median([g * direction for g in gaps if g * direction > 0] or [0.0])
    paragraphs: list[list[str]] = []
    prev: _Line | None = None
    for line in lines:
        if prev is None or _breaks(prev, line, direction, spacing):
            paragraphs.append([])
        paragraphs[-1].append(line.text.strip())
        prev = line
    return ["\n".join(p) for p in paragraphs]


def _breaks(prev: _Line, line: _Line, direction: float, spacing: float) -> bool:
    if prev.y is None or line.y is None:
        return False
    gap = (prev.y - line.y) * direction
    if gap < 0:  # back up the page: a new column or a text box
        return True
    if prev.size and line.size and abs(prev.size - line.size) > 0.2 * max(prev.size, line.size):
        return True  # a heading or a caption
    size = line.size or prev.size
    return gap > spacing * 1.3 + 0.5 or (size > 0 and gap > size * 1.8)


def _draws_image(content: bytes, resources: Any, depth: int) -> bool:
    """An inline image, or a `/Name Do` of an image XObject, or of a form that draws one."""
    if _INLINE_IMAGE.search(content):
        return True
    resources = resources.get_object() if resources is not None else None
    xobjects = resources.get("/XObject") if resources is not None else None
    if xobjects is None:
        return False
    xobjects = xobjects.get_object()
    for name in dict.fromkeys(_DO.findall(content)):
        ref = xobjects.get("/" + name.decode("latin-1"))
        xobject = ref.get_object() if ref is not None else None
        if xobject is None:
            continue
        subtype = xobject.get("/Subtype")
        if subtype == "/Image":
            return True
        if subtype == "/Form" and depth < 3:
            inner = xobject.get("/Resources", resources)
            if _draws_image(xobject.get_data(), inner, depth + 1):
                return True
    return False


def _info(reader: PdfReader) -> dict[str, str]:
    """Title, author and dates from the /Info dictionary, cleaned; unreadable ones skipped."""
    try:
        metadata = reader.metadata
    except FileNotDecryptedError as exc:
        raise ParseError("PDF is password-protected") from exc
    except Exception as exc:  # a damaged /Info must not lose the text
        log.debug("unreadable /Info: %r", exc)
        return {}
    if metadata is None:
        return {}
    out: dict[str, str] = {}
    for key, name in (
        ("/Title", "title"),
        ("/Author", "author"),
        ("/CreationDate", "created"),
        ("/ModDate", "modified"),
    ):
        try:
            value = metadata.get(key)
            value = value.get_object() if value is not None else None
        except Exception as exc:
            log.debug("unreadable %s: %r", key, exc)
            continue
        if isinstance(value, str):
            cleaned = " ".join(_CONTROL.sub(" ", value).split())[:_MAX_TITLE]
            if cleaned:
                out[name] = cleaned
    return out


def _title(value: str | None) -> str | None:
    """The /Title unless it is a producer's placeholder."""
    if not value:
        return None
    title = _APP_PREFIX.sub("", value).strip()
    return None if title.lower() in _EMPTY_TITLES else title or None


def _document_time(info: dict[str, str], path: Path, mtime: datetime) -> tuple[datetime, str]:
    """The PDF's creation date, else its modification date, else the file's own time."""
    for key, source in (("created", "pdf_created"), ("modified", "pdf_modified")):
        value = info.get(key)
        if value is None:
            continue
        moment = parse_pdf_date(value)
        if moment is not None:
            return moment, source
        log.debug("ignoring %s date %r in %s: not a date", key, value, path.name)
    return file_time(path.name, mtime)


def parse_pdf_date(value: str) -> datetime | None:
    """A PDF date string (`D:20240315103000+01'00'` and its many abbreviations) or None.

    A date without an offset is local time, as the spec says for a missing one.
    """
    match = _PDF_DATE.fullmatch(value.strip())
    if match is None:
        return None
    year, month, day, hour, minute, second, sign, off_h, off_m = match.groups()
    try:
        moment = datetime(
            int(year),
            int(month or 1),
            int(day or 1),
            int(hour or 0),
            int(minute or 0),
            int(second or 0),
        )
        if sign is None:
            return aware(moment) if 1900 <= moment.year < 2200 else None
        offset = timedelta(hours=int(off_h or 0), minutes=int(off_m or 0))
        zone = timezone(-offset if sign == "-" else offset)
    except ValueError:  # month 13, offset over 24 h
        return None
    return moment.replace(tzinfo=zone) if 1900 <= moment.year < 2200 else None


def _damage_message(data: bytes, exc: Exception) -> str:
    detail = str(exc) or type(exc).__name__
    if b"%%EOF" not in data[-2048:] and b"%%EOF" not in data:
        return f"PDF is truncated: no %%EOF end marker ({detail})"
    return f"damaged PDF: {detail}"


@contextmanager
def pypdf_reports(name: str) -> Iterator[None]:
    """Collect what pypdf logs about a broken file and log it once, at debug level.

    pypdf warns through `logging` for every repair it makes; a damaged file can emit
    thousands, which would flood the CLI's stderr. The repairs are not the user's
    concern unless the parse fails, and then the ParseError says what went wrong.
    """
    pypdf_log = logging.getLogger("pypdf")
    counts: Counter[str] = Counter()

    class _Collect(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            counts[record.getMessage()[:200]] += 1

    handler = _Collect(level=logging.DEBUG)
    propagate = pypdf_log.propagate
    pypdf_log.addHandler(handler)
    pypdf_log.propagate = False
    try:
        yield
    finally:
        pypdf_log.removeHandler(handler)
        pypdf_log.propagate = propagate
        if counts:
            summary = "; ".join(f"{msg} (x{n})" for msg, n in counts.most_common(5))
            log.debug("pypdf repaired %d problem(s) in %s: %s", counts.total(), name, summary)
