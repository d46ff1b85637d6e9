"""DOCX connector: the shared contract plus headings, tables, Word markup and zip bombs.

Documents are built at test time: with python-docx (as an application would write them)
and, for markup python-docx cannot produce (tracked changes, text boxes, content
controls), part by part with `tests.document_builders.docx_package`.
"""

from __future__ import annotations

import io
import struct
import zipfile
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest

from assistant.identity import Identity, normalize
from connectors import word as word_module
from connectors.base import Item, ParseError
from connectors.word import DocxConnector
from tests.connector_contract import FIXTURES, MTIME, ConnectorContract
from tests.document_builders import DocxBlock, docx_package, make_docx, make_pdf, w_paragraph

CONNECTOR = DocxConnector()
BAD = FIXTURES / "bad" / "docx"
CREATED = datetime(2024, 3, 15, 9, 30, tzinfo=UTC)

REPORT = [
    DocxBlock("Documento interno — não distribuir."),
    DocxBlock("Relatório anual", heading=0),
    DocxBlock("Resumo", heading=1),
    DocxBlock("A associação cresceu 17 % em 2023. Reunião em 東京 no outono 🎉."),
    DocxBlock("Detalhes", heading=2),
    DocxBlock(table=(("Nome", "Cargo", "Desde"), ("Inês Duarte", "Presidente", "2019"))),
    DocxBlock("Quotas pagas até março.", style="List Bullet"),
    DocxBlock("Notas", heading=1),
    DocxBlock("Primeira nota."),
    DocxBlock("Notas", heading=1),
    DocxBlock("Segunda nota."),
]


def parse(path: Path, data: bytes | None = None, mtime: datetime = MTIME) -> list[Item]:
    return CONNECTOR.parse(path, path.read_bytes() if data is None else data, mtime)


def write(directory: Path, name: str, data: bytes) -> Path:
    path = directory / name
    path.write_bytes(data)
    return path


MARKUP_STYLES = (
    '<w:style w:type="paragraph" w:styleId="Ttulo1"><w:name w:val="heading 1"/></w:style>'
    '<w:style w:type="paragraph" w:styleId="Chapter"><w:name w:val="Chapter"/>'
    '<w:basedOn w:val="Ttulo1"/></w:style>'
    '<w:style w:type="paragraph" w:styleId="Outlined"><w:name w:val="Outlined"/>'
    '<w:pPr><w:outlineLvl w:val="1"/></w:pPr></w:style>'
)
MARKUP_BODY = (
    w_paragraph("Capítulo um", style="Chapter") + "<w:p><w:r><w:t>Revisto por </w:t></w:r>"
    '<w:ins w:id="1" w:author="Rui"><w:r><w:t>Rui e </w:t></w:r></w:ins>'
    '<w:del w:id="2" w:author="Rui"><w:r><w:delText>texto apagado </w:delText></w:r></w:del>'
    '<w:hyperlink r:id="rId9"><w:r><w:t>Ana</w:t></w:r></w:hyperlink>'
    "<w:r><w:t>.</w:t><w:tab/><w:t>Fim</w:t><w:br/><w:t>linha dois</w:t></w:r></w:p>"
    "<w:p><w:r><w:t>Âncora.</w:t></w:r><w:r><mc:AlternateContent>"
    '<mc:Choice Requires="wps"><w:drawing><wps:txbx><w:txbxContent>'
    "<w:p><w:r><w:t>Caixa de texto</w:t></w:r></w:p>"
    "</w:txbxContent></wps:txbx></w:drawing></mc:Choice>"
    "<mc:Fallback><w:pict><v:textbox><w:txbxContent>"
    "<w:p><w:r><w:t>Caixa de texto</w:t></w:r></w:p>"
    "</w:txbxContent></v:textbox></w:pict></mc:Fallback>"
    "</mc:AlternateContent></w:r></w:p>"
    + w_paragraph("Secção com nível", style="Outlined")
    + "<w:sdt><w:sdtContent>"
    + w_paragraph("Dentro de um controlo de conteúdo.")
    + "</w:sdtContent></w:sdt>"
    + '<w:p><w:pPr><w:outlineLvl w:val="0"/></w:pPr><w:r><w:t>Formatação direta</w:t></w:r></w:p>'
    + w_paragraph("Último parágrafo.")
    + '<w:tbl><w:tr><w:tc><w:tcPr><w:gridSpan w:val="2"/></w:tcPr>'
    + w_paragraph("Junta")
    + "</w:tc></w:tr><w:tr><w:tc>"
    + w_paragraph("a")
    + w_paragraph("b")
    + "</w:tc><w:tc>"
    + w_paragraph("c")
    + "</w:tc></w:tr></w:tbl>"
)
MARKUP_CORE = (
    "<dc:creator>Rui Costa</dc:creator><dc:title>Notas da obra</dc:title>"
    '<dcterms:created xsi:type="dcterms:W3CDTF">2023-11-02T19:45:00-03:00</dcterms:created>'
)


@pytest.fixture(scope="module")
def docs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Every generated sample DOCX, written once for the module."""
    folder = tmp_path_factory.mktemp("docx")
    return {
        "report": make_docx(folder / "report.docx", REPORT, author="Inês Duarte", created=CREATED),
        "plain": make_docx(
            folder / "plain.docx",
            [DocxBlock("Lista: pão, queijo da serra."), DocxBlock("Ligar à Ana às 18h.")],
        ),
        "markup": write(
            folder,
            "markup.docx",
            docx_package(MARKUP_BODY, styles_xml=MARKUP_STYLES, core_xml=MARKUP_CORE),
        ),
    }


class TestDocxContract(ConnectorContract):
    connector = CONNECTOR

    @pytest.fixture(autouse=True)
    def _generated(self, docs: dict[str, Path]) -> None:
        self.generated = docs

    def sample_files(self) -> list[Path]:
        return sorted(self.generated.values())

    def make_file(self, directory: Path, body: str) -> Path:
        blocks = [DocxBlock(p) for p in body.strip().split("\n\n")]
        return make_docx(directory / "sample.docx", blocks)


# --- structure -----------------------------------------------------------------------


def test_headings_make_sections_with_title_paths(docs: dict[str, Path]) -> None:
    items = parse(docs["report"])
    assert [(i.locator, i.title, i.text) for i in items] == [
        ("_top:0", None, "Documento interno — não distribuir."),
        (
            "relatório-anual/resumo:0",
            "Relatório anual > Resumo",
            "A associação cresceu 17 % em 2023. Reunião em 東京 no outono 🎉.",
        ),
        (
            "relatório-anual/resumo/detalhes:0",
            "Relatório anual > Resumo > Detalhes",
            "Nome | Cargo | Desde\nInês Duarte | Presidente | 2019\n\nQuotas pagas até março.",
        ),
        ("relatório-anual/notas:0", "Relatório anual > Notas", "Primeira nota."),
        ("relatório-anual/notas~2:0", "Relatório anual > Notas", "Segunda nota."),
    ]
    assert [i.meta["heading_path"] for i in items][2] == ["Relatório anual", "Resumo", "Detalhes"]
    assert dict(items[0].meta) == {
        "doc_title": "report",
        "heading_path": [],
        "chunk": 0,
        "date_source": "docx_created",
    }
    assert {i.kind for i in items} == {"document"}
    assert {i.author for i in items} == {"unknown"}
    assert items[1].source_ref == f"{docs['report'].resolve()}#relatório-anual/resumo:0"


def test_word_markup_runs_boxes_controls_and_styles(docs: dict[str, Path]) -> None:
    items = parse(docs["markup"])
    assert [(i.locator, i.title, i.text) for i in items] == [
        (
            "capítulo-um:0",
            "Capítulo um",
            "Revisto por Rui e Ana. Fim\nlinha dois\n\nÂncora.\n\nCaixa de texto",
        ),
        (
            "capítulo-um/secção-com-nível:0",
            "Capítulo um > Secção com nível",
            "Dentro de um controlo de conteúdo.",
        ),
        (
            "formatação-direta:0",
            "Formatação direta",
            "Último parágrafo.\n\nJunta\na b | c",
        ),
    ]
    assert "apagado" not in " ".join(i.text for i in items)
    assert {i.meta["doc_title"] for i in items} == {"Notas da obra"}


def test_long_section_is_chunked_and_tables_keep_whole_rows(tmp_path: Path) -> None:
    sentence = "The committee reviewed the budget line for the community garden."
    rows = tuple((f"Row {n}", f"Value {n} " * 8) for n in range(20))
    blocks = [
        DocxBlock("Budget", heading=1),
        DocxBlock(" ".join([sentence] * 30)),
        DocxBlock(table=(("Item", "Notes"), *rows)),
    ]
    items = parse(make_docx(tmp_path / "budget.docx", blocks))
    assert [i.locator for i in items] == [f"budget:{n}" for n in range(len(items))]
    assert all(len(i.text) <= 1000 for i in items)
    table_chunks = [i.text for i in items if "Row " in i.text]
    lines = [line for text in table_chunks for line in text.split("\n") if line]
    assert lines[0] == "Item | Notes"
    assert lines[1:] == [f"Row {n} | " + " ".join([f"Value {n}"] * 8) for n in range(20)]


def test_editing_one_section_leaves_other_sections_untouched(tmp_path: Path) -> None:
    path = tmp_path / "report.docx"
    before = {i.locator: i.content_hash for i in parse(make_docx(path, REPORT))}
    edited = [
        b if b.text != "Primeira nota." else DocxBlock("Primeira nota, revista.") for b in REPORT
    ]
    after = {i.locator: i.content_hash for i in parse(make_docx(path, edited))}
    assert set(after) == set(before)
    assert {loc for loc in before if before[loc] != after[loc]} == {"relatório-anual/notas:0"}


def test_document_without_text_gives_no_items(tmp_path: Path) -> None:
    assert parse(make_docx(tmp_path / "empty.docx", [])) == []
    only_headings = [DocxBlock("Título", heading=0), DocxBlock("Vazio", heading=1)]
    assert parse(make_docx(tmp_path / "headings.docx", only_headings)) == []


# --- time and author -----------------------------------------------------------------


def test_time_and_sender_come_from_core_properties(docs: dict[str, Path]) -> None:
    items = parse(docs["report"])
    assert {(i.time, i.sender) for i in items} == {(CREATED, "Inês Duarte")}
    markup = parse(docs["markup"])
    offset = timezone(timedelta(hours=-3))
    assert {(i.time, i.sender) for i in markup} == {
        (datetime(2023, 11, 2, 19, 45, tzinfo=offset), "Rui Costa")
    }


def test_modified_is_used_without_created(tmp_path: Path) -> None:
    modified = datetime(2024, 5, 1, 8, tzinfo=UTC)
    path = make_docx(tmp_path / "m.docx", [DocxBlock("Texto.")], modified=modified)
    assert [(i.time, i.meta["date_source"]) for i in parse(path)] == [(modified, "docx_modified")]


def test_without_core_properties_mtime_and_no_sender(docs: dict[str, Path], tmp_path: Path) -> None:
    items = parse(docs["plain"])
    assert [(i.time, i.sender, i.meta["date_source"]) for i in items] == [(MTIME, None, "mtime")]
    # No core.xml part at all: python-docx would invent one dated "now"; it must not leak.
    bare = write(tmp_path, "2024-03-14 bare.docx", docx_package(w_paragraph("Olá.")))
    assert [
        (i.time, i.sender, i.meta["date_source"], i.meta["doc_title"]) for i in parse(bare)
    ] == [(datetime(2024, 3, 14).astimezone(), None, "file_name", "2024-03-14 bare")]


def test_unparseable_core_date_falls_back(tmp_path: Path) -> None:
    core = '<dcterms:created xsi:type="dcterms:W3CDTF">last tuesday</dcterms:created>'
    path = write(tmp_path, "d.docx", docx_package(w_paragraph("Texto."), core_xml=core))
    assert [(i.time, i.meta["date_source"]) for i in parse(path)] == [(MTIME, "mtime")]


def test_author_resolves_against_the_identity(docs: dict[str, Path]) -> None:
    report, plain = parse(docs["report"])[0], parse(docs["plain"])[0]
    me = Identity(frozenset({normalize("name", "inês  duarte")}))
    assert me.author_of(report) == "self"
    assert Identity(frozenset({normalize("name", "Rui Costa")})).author_of(report) == "other"
    assert me.author_of(plain) == "unknown"


# --- malformed archives --------------------------------------------------------------


def _patch_declared_size(data: bytes, member: str, size: int) -> bytes:
    """`data` with `member`'s uncompressed size rewritten in both zip headers."""
    raw = bytearray(data)
    name = member.encode()
    start = 0
    while (found := raw.find(name, start)) >= 0:
        if raw[found - 30 : found - 26] == b"PK\x03\x04":
            struct.pack_into("<I", raw, found - 30 + 22, size)
        if raw[found - 46 : found - 42] == b"PK\x01\x02":
            struct.pack_into("<I", raw, found - 46 + 24, size)
        start = found + 1
    return bytes(raw)


def _zip(members: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return buffer.getvalue()


def _generated_bad_files() -> dict[str, tuple[bytes, str]]:
    valid = docx_package(w_paragraph("Conteúdo."))
    big = docx_package(w_paragraph("x" * 200_000))
    return {
        "truncated_zip.docx": (valid[: len(valid) // 2], r"^not a DOCX: damaged zip archive \("),
        "spreadsheet_zip.docx": (
            _zip({"[Content_Types].xml": b"<Types/>", "xl/workbook.xml": b"<workbook/>"}),
            r"^zip archive is not a Word document: no word/document\.xml$",
        ),
        "malformed_document_xml.docx": (
            docx_package("", document_xml="<w:document><w:body><w:p>unclosed"),
            "^damaged DOCX: ",
        ),
        "zip_bomb_declared_size.docx": (
            _patch_declared_size(valid, "word/document.xml", 4_000_000_000),
            r"^DOCX would inflate to [\d,]+ bytes \(over 268,435,456\); refusing a possible zip",
        ),
        "understated_size.docx": (
            _patch_declared_size(big, "word/document.xml", 1000),
            r"^damaged DOCX: Bad CRC-32 for file 'word/document\.xml'$",
        ),
        "pdf_renamed.docx": (make_pdf([["Not Word."]]), "^not a DOCX: not a zip archive$"),
    }


BAD_COMMITTED = {
    "empty.docx": "^not a DOCX: not a zip archive$",
    "plain_text_renamed.docx": "^not a DOCX: not a zip archive$",
}


@pytest.mark.parametrize("name", sorted(BAD_COMMITTED))
def test_each_committed_bad_file_raises_its_parse_error(name: str) -> None:
    with pytest.raises(ParseError, match=BAD_COMMITTED[name]):
        parse(BAD / name)


def test_every_committed_bad_docx_has_an_expected_error() -> None:
    assert {p.name for p in BAD.iterdir()} == set(BAD_COMMITTED)


@pytest.mark.parametrize("name", sorted(_generated_bad_files()))
def test_each_generated_bad_file_raises_its_parse_error(tmp_path: Path, name: str) -> None:
    data, message = _generated_bad_files()[name]
    with pytest.raises(ParseError, match=message):
        parse(write(tmp_path, name, data))


def test_real_zip_bomb_is_refused_before_inflating(tmp_path: Path) -> None:
    """300 MB of zeros deflate to ~300 KB; the declared size stops them unread."""
    buffer = io.BytesIO(docx_package(w_paragraph("Capa.")))
    zeros = bytes(1024 * 1024)
    with (
        zipfile.ZipFile(buffer, "a", zipfile.ZIP_DEFLATED) as archive,
        archive.open("word/media/image1.png", "w", force_zip64=True) as member,
    ):
        for _ in range(300):
            member.write(zeros)
    data = buffer.getvalue()
    assert len(data) < 1_000_000
    with pytest.raises(ParseError, match=r"^DOCX would inflate to 314,57\d,\d{3} bytes"):
        parse(tmp_path / "bomb.docx", data)


def test_text_part_over_its_cap_is_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(word_module, "MAX_MAIN_PART", 1000)
    path = write(tmp_path, "long.docx", docx_package(w_paragraph("palavra " * 500)))
    with pytest.raises(ParseError, match=r"^DOCX text part is [\d,]+ bytes \(over 1,000\)"):
        parse(path)


def test_too_many_members_is_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(word_module, "MAX_MEMBERS", 5)
    extra = {f"customXml/item{n}.xml": b"<x/>" for n in range(5)}
    path = write(tmp_path, "many.docx", docx_package(w_paragraph("x"), extra=extra))
    with pytest.raises(ParseError, match="^DOCX archive has 10 entries; at most 5$"):
        parse(path)


# --- detection -----------------------------------------------------------------------


def test_detected_by_content_under_a_misleading_name(docs: dict[str, Path]) -> None:
    for sample in docs.values():
        assert CONNECTOR.detect(Path("notes.txt"), sample.read_bytes()[:4096]), sample.name
    assert CONNECTOR.detect(Path("Letter.DOCX"), b"")


def test_detect_rejects_other_formats(tmp_path: Path) -> None:
    others = [
        *sorted((FIXTURES / "notes").rglob("*.md")),
        *sorted((FIXTURES / "documents").glob("*.htm*")),
        write(tmp_path, "report.pdf", make_pdf([["PDF text."]])),
        write(tmp_path, "book.xlsx", _zip({"[Content_Types].xml": b"<T/>", "xl/a.xml": b"<a/>"})),
        write(tmp_path, "photos.zip", _zip({"IMG_0001.jpg": b"\xff\xd8\xff"})),
    ]
    for path in others:
        assert not CONNECTOR.detect(path, path.read_bytes()[:4096]), path.name
    assert DocxConnector.name == "docx"
    assert DocxConnector.history == "replace"
