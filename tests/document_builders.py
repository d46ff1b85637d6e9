"""Build small PDF and DOCX files at test time instead of committing binaries.

The PDF writer is deliberately hand-made: a few dozen lines of PDF syntax give exact control
over what a test needs (page text, /Info metadata, an image-only page, a broken xref),
and the bytes are what a real producer would write. Text in Latin-1 range uses standard
Helvetica with WinAnsiEncoding; anything else (CJK, emoji, Greek) goes through a Type0
font whose ToUnicode CMap maps glyph ids back to characters, as embedded-subset fonts in
real PDFs do, so text extraction sees the exact characters.
"""

from __future__ import annotations

import zlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

# A page is a list of paragraphs; a paragraph's lines are separated by "\n".
Page = Sequence[str]

_LINE = 14  # points between lines of one paragraph
_GAP = 12  # extra points between paragraphs
_TOP = 800


def _pdf_string(text: str) -> bytes:
    """A literal string in WinAnsi (cp1252) bytes, escaped."""
    raw = text.encode("cp1252")
    return b"(" + raw.replace(b"\\", b"\\\\").replace(b"(", b"\\(").replace(b")", b"\\)") + b")"


def _info_string(text: str) -> bytes:
    """A text string for /Info: UTF-16BE with BOM, so any character survives."""
    return b"<feff" + text.encode("utf-16-be").hex().encode() + b">"


@dataclass
class _Glyphs:
    """Glyph ids for characters outside cp1252, shared by one document's Type0 font."""

    cids: dict[str, int] = field(default_factory=dict)

    def encode(self, text: str) -> bytes:
        out = []
        for ch in text:
            cid = self.cids.setdefault(ch, len(self.cids) + 1)
            out.append(f"{cid:04x}")
        return b"<" + "".join(out).encode() + b">"

    def cmap(self) -> bytes:
        lines = [
            "/CIDInit /ProcSet findresource begin",
            "12 dict begin",
            "begincmap",
            "/CIDSystemInfo << /Registry (Adobe) /Ordering (UCS) /Supplement 0 >> def",
            "/CMapName /Adobe-Identity-UCS def",
            "/CMapType 2 def",
            "1 begincodespacerange",
            "<0000> <ffff>",
            "endcodespacerange",
        ]
        pairs = sorted(self.cids.items(), key=lambda kv: kv[1])
        for start in range(0, len(pairs), 100):
            block = pairs[start : start + 100]
            lines.append(f"{len(block)} beginbfchar")
            for ch, cid in block:
                lines.append(f"<{cid:04x}> <{ch.encode('utf-16-be').hex()}>")
            lines.append("endbfchar")
        lines += ["endcmap", "CMapName currentdict /CMap defineresource pop", "end", "end"]
        return "\n".join(lines).encode()


def _fits_cp1252(text: str) -> bool:
    try:
        text.encode("cp1252")
    except UnicodeEncodeError:
        return False
    return True


def _page_content(paragraphs: Page, glyphs: _Glyphs) -> bytes:
    """Content stream: each line positioned absolutely, paragraphs a little further apart."""
    ops = [b"BT"]
    y = _TOP
    for paragraph in paragraphs:
        for line in paragraph.split("\n"):
            if _fits_cp1252(line):
                shown = b"/F1 11 Tf " + _pdf_string(line) + b" Tj"
            else:
                shown = b"/F2 11 Tf " + glyphs.encode(line) + b" Tj"
            ops.append(b"1 0 0 1 72 %d Tm " % y + shown)
            y -= _LINE
        y -= _GAP
    ops.append(b"ET")
    return b"\n".join(ops)


_IMAGE_CONTENT = b"q 200 0 0 200 72 500 cm /Im1 Do Q"
_INLINE_IMAGE_CONTENT = (
    b"q 200 0 0 200 72 500 cm BI /W 2 /H 2 /CS /RGB /BPC 8 ID "
    + bytes([200, 10, 10, 10, 200, 10, 10, 10, 200, 250, 250, 250])
    + b" EI Q"
)


class _Objects:
    """Numbered PDF objects, serialized with a correct cross-reference table."""

    def __init__(self) -> None:
        self.bodies: list[bytes] = []

    def add(self, body: bytes) -> int:
        self.bodies.append(body)
        return len(self.bodies)

    def reserve(self) -> int:
        return self.add(b"null")

    def set(self, number: int, body: bytes) -> None:
        self.bodies[number - 1] = body

    def stream(self, data: bytes, extra: bytes = b"", *, compress: bool = False) -> int:
        if compress:
            data = zlib.compress(data)
            extra += b" /Filter /FlateDecode"
        head = b"<< /Length %d%s >>\nstream\n" % (len(data), extra)
        return self.add(head + data + b"\nendstream")

    def serialize(self, root: int, info: int | None) -> bytes:
        out = bytearray(b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n")
        offsets = []
        for number, body in enumerate(self.bodies, start=1):
            offsets.append(len(out))
            out += b"%d 0 obj\n" % number + body + b"\nendobj\n"
        xref = len(out)
        out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(self.bodies) + 1)
        for offset in offsets:
            out += b"%010d 00000 n \n" % offset
        trailer = b"/Size %d /Root %d 0 R" % (len(self.bodies) + 1, root)
        if info is not None:
            trailer += b" /Info %d 0 R" % info
        out += b"trailer\n<< " + trailer + b" >>\nstartxref\n%d\n%%%%EOF\n" % xref
        return bytes(out)


def make_pdf(
    pages: Sequence[Page],
    info: Mapping[str, str] | None = None,
    *,
    image_pages: Sequence[int] = (),
    inline_image_pages: Sequence[int] = (),
    raw_content: Mapping[int, bytes] | None = None,
    compress: bool = False,
) -> bytes:
    """A PDF whose page i shows `pages[i]`, plus an image on the pages listed.

    `image_pages` draw an image XObject, `inline_image_pages` an inline (BI/ID/EI) image;
    every page lists the XObject in its resources, as producers sharing one dict do.
    `raw_content` replaces a page's content stream with the given operators.

    `info` keys are /Info entries without the slash (Title, Author, CreationDate...).
    """
    objects = _Objects()
    glyphs = _Glyphs()
    catalog = objects.reserve()
    tree = objects.reserve()
    helvetica = objects.add(
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>"
    )
    type0 = objects.reserve()
    # A 2x2 RGB image: enough for a "scanned" page without any text.
    image = objects.stream(
        bytes([255, 0, 0, 0, 255, 0, 0, 0, 255, 255, 255, 255]),
        b" /Type /XObject /Subtype /Image /Width 2 /Height 2 /ColorSpace /DeviceRGB"
        b" /BitsPerComponent 8",
    )
    kids = []
    for index, paragraphs in enumerate(pages):
        content = _page_content(paragraphs, glyphs) if paragraphs else b""
        if index in image_pages:
            content = _IMAGE_CONTENT + b"\n" + content
        if index in inline_image_pages:
            content = _INLINE_IMAGE_CONTENT + b"\n" + content
        if raw_content and index in raw_content:
            content = raw_content[index]
        stream = objects.stream(content, compress=compress)
        kids.append(
            objects.add(
                b"<< /Type /Page /Parent %d 0 R /MediaBox [0 0 595 842] /Contents %d 0 R "
                b"/Resources << /Font << /F1 %d 0 R /F2 %d 0 R >> /XObject << /Im1 %d 0 R >> >> >>"
                % (tree, stream, helvetica, type0, image)
            )
        )
    cmap = objects.stream(glyphs.cmap())
    descriptor = objects.add(
        b"<< /Type /FontDescriptor /FontName /GlyphsOnly /Flags 4 /FontBBox [0 -200 1000 900]"
        b" /ItalicAngle 0 /Ascent 900 /Descent -200 /CapHeight 700 /StemV 80 >>"
    )
    descendant = objects.add(
        b"<< /Type /Font /Subtype /CIDFontType2 /BaseFont /GlyphsOnly /CIDSystemInfo"
        b" << /Registry (Adobe) /Ordering (Identity) /Supplement 0 >> /FontDescriptor %d 0 R"
        b" /DW 1000 >>" % descriptor
    )
    objects.set(
        type0,
        b"<< /Type /Font /Subtype /Type0 /BaseFont /GlyphsOnly /Encoding /Identity-H"
        b" /DescendantFonts [%d 0 R] /ToUnicode %d 0 R >>" % (descendant, cmap),
    )
    refs = b" ".join(b"%d 0 R" % kid for kid in kids)
    objects.set(tree, b"<< /Type /Pages /Kids [%s] /Count %d >>" % (refs, len(kids)))
    objects.set(catalog, b"<< /Type /Catalog /Pages %d 0 R >>" % tree)
    info_ref = None
    if info:
        entries = b" ".join(
            b"/" + key.encode() + b" " + _info_string(value) for key, value in info.items()
        )
        info_ref = objects.add(b"<< " + entries + b" >>")
    return objects.serialize(catalog, info_ref)


def encrypt_pdf(data: bytes, user_password: str, owner_password: str = "owner-secret") -> bytes:
    """`data` re-written by pypdf with standard security (AES-128), metadata kept."""
    from io import BytesIO

    from pypdf import PdfReader, PdfWriter

    writer = PdfWriter(clone_from=PdfReader(BytesIO(data)))
    writer.encrypt(user_password=user_password, owner_password=owner_password, algorithm="AES-128")
    out = BytesIO()
    writer.write(out)
    return out.getvalue()


def write_pdf(path: Path, pages: Sequence[Page], info: Mapping[str, str] | None = None) -> Path:
    path.write_bytes(make_pdf(pages, info))
    return path


@dataclass(frozen=True)
class DocxBlock:
    """One block of a test DOCX: a heading (level 0 = Title), a paragraph or a table."""

    text: str = ""
    heading: int | None = None
    table: tuple[tuple[str, ...], ...] = ()
    style: str | None = None


def make_docx(
    path: Path,
    blocks: Sequence[DocxBlock],
    *,
    author: str | None = None,
    created: datetime | None = None,
    modified: datetime | None = None,
    title: str | None = None,
) -> Path:
    """A DOCX written by python-docx, as Word would structure it."""
    import docx
    from docx.oxml.ns import qn

    document = docx.Document()
    for block in blocks:
        if block.table:
            table = document.add_table(rows=len(block.table), cols=len(block.table[0]))
            for r, row in enumerate(block.table):
                for c, cell in enumerate(row):
                    table.cell(r, c).text = cell
        elif block.heading is not None:
            document.add_heading(block.text, level=block.heading)
        else:
            document.add_paragraph(block.text, style=block.style)
    core = document.core_properties
    # python-docx's template carries its own author and dates; clear them so a test
    # sees exactly what it asked for.
    core.author = author or ""
    core.last_modified_by = ""
    core.title = title or ""
    for name, value in (("created", created), ("modified", modified)):
        if value is not None:
            setattr(core, name, value)
        else:  # python-docx cannot set None: drop the element so the file has no date
            element = core._element.find(qn(f"dcterms:{name}"))
            if element is not None:
                core._element.remove(element)
    document.save(str(path))
    return path


W_NS = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"
_CONTENT_TYPES = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
    '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
    '<Default Extension="rels"'
    ' ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
    '<Default Extension="xml" ContentType="application/xml"/>'
    '<Override PartName="/word/document.xml" ContentType="application/vnd.openxmlformats-'
    'officedocument.wordprocessingml.document.main+xml"/>'
    '<Override PartName="/word/styles.xml" ContentType="application/vnd.openxmlformats-'
    'officedocument.wordprocessingml.styles+xml"/>'
    '<Override PartName="/docProps/core.xml" ContentType="application/vnd.openxmlformats-'
    'package.core-properties+xml"/>'
    "</Types>"
)
_ROOT_RELS = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
    '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
    '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/'
    'relationships/officeDocument" Target="word/document.xml"/>'
    "{core}</Relationships>"
)
_CORE_REL = (
    '<Relationship Id="rId2" Type="http://schemas.openxmlformats.org/package/2006/'
    'relationships/metadata/core-properties" Target="docProps/core.xml"/>'
)
_DOC_RELS = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
    '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
    '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/'
    'relationships/styles" Target="styles.xml"/>'
    '<Relationship Id="rId9" Type="http://schemas.openxmlformats.org/officeDocument/2006/'
    'relationships/hyperlink" Target="https://example.org/" TargetMode="External"/>'
    "</Relationships>"
)
_DOCUMENT = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
    f'<w:document xmlns:w="{W_NS}"'
    ' xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships"'
    ' xmlns:mc="http://schemas.openxmlformats.org/markup-compatibility/2006"'
    ' xmlns:wps="http://schemas.microsoft.com/office/word/2010/wordprocessingShape"'
    ' xmlns:v="urn:schemas-microsoft-com:vml" mc:Ignorable="wps">'
    "<w:body>{body}<w:sectPr/></w:body></w:document>"
)
_STYLES = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
    f'<w:styles xmlns:w="{W_NS}">{{styles}}</w:styles>'
)
_CORE = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
    '<cp:coreProperties xmlns:cp="http://schemas.openxmlformats.org/package/2006/metadata/'
    'core-properties" xmlns:dc="http://purl.org/dc/elements/1.1/"'
    ' xmlns:dcterms="http://purl.org/dc/terms/"'
    ' xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">{props}</cp:coreProperties>'
)


def docx_package(
    body_xml: str,
    *,
    styles_xml: str = "",
    core_xml: str | None = None,
    document_xml: str | None = None,
    extra: Mapping[str, bytes] | None = None,
) -> bytes:
    """A DOCX zip written part by part, for markup python-docx cannot produce.

    `body_xml` goes inside `<w:body>`; `core_xml` inside `<cp:coreProperties>` (None:
    no core properties part at all); `document_xml` replaces the whole main part.
    """
    import io
    import zipfile

    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("[Content_Types].xml", _CONTENT_TYPES)
        core_rel = _CORE_REL if core_xml is not None else ""
        archive.writestr("_rels/.rels", _ROOT_RELS.format(core=core_rel))
        archive.writestr("word/_rels/document.xml.rels", _DOC_RELS)
        main = document_xml if document_xml is not None else _DOCUMENT.format(body=body_xml)
        archive.writestr("word/document.xml", main)
        archive.writestr("word/styles.xml", _STYLES.format(styles=styles_xml))
        if core_xml is not None:
            archive.writestr("docProps/core.xml", _CORE.format(props=core_xml))
        for name, data in (extra or {}).items():
            archive.writestr(name, data)
    return buffer.getvalue()


def w_paragraph(text: str, style: str | None = None) -> str:
    """A `<w:p>` with one run of `text` (XML-escaped) and an optional style id."""
    from xml.sax.saxutils import escape

    props = f'<w:pPr><w:pStyle w:val="{style}"/></w:pPr>' if style else ""
    return f'<w:p>{props}<w:r><w:t xml:space="preserve">{escape(text)}</w:t></w:r></w:p>'
