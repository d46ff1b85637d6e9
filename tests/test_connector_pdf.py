"""PDF connector: the shared contract plus pages, paragraphs, metadata and failure classes.

The PDFs are written at test time by `tests.document_builders.make_pdf` (a small,
hand-made PDF writer), so the fixtures folder holds no opaque binaries; the bad files
that are plain bytes (a renamed page, a truncated file) are committed under
tests/fixtures/bad/pdf/.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest

from assistant.identity import Identity, normalize
from connectors import pdf as pdf_module
from connectors.base import Item, ParseError
from connectors.pdf import PdfConnector, parse_pdf_date
from tests.connector_contract import FIXTURES, MTIME, ConnectorContract
from tests.document_builders import encrypt_pdf, make_docx, make_pdf

CONNECTOR = PdfConnector()
BAD = FIXTURES / "bad" / "pdf"
DOCUMENTS = FIXTURES / "documents"

REPORT_INFO = {
    "Title": "Relatório anual 2023",
    "Author": "Inês Duarte",
    "CreationDate": "D:20240315103000+01'00'",
    "ModDate": "D:20240401090000Z",
}
REPORT_PAGES = [
    [
        "A associação terminou 2023 com 214 sócios, mais 31 do que no ano anterior.\n"
        "A quota anual manteve-se nos 24 euros.",
        "O encontro de primavera em Coimbra juntou 80 pessoas.",
    ],
    [
        "Viagem de estudo a Tóquio: 東京で寿司を食べた。",
        "Orçamento aprovado por unanimidade 🎉",
    ],
    ["Contas: receitas de 5 136 euros e despesas de 4 870 euros."],
]


def parse(path: Path, data: bytes | None = None, mtime: datetime = MTIME) -> list[Item]:
    return CONNECTOR.parse(path, path.read_bytes() if data is None else data, mtime)


@pytest.fixture(scope="module")
def pdfs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Every generated sample PDF, written once for the module."""
    folder = tmp_path_factory.mktemp("pdfs")
    report = make_pdf(REPORT_PAGES, REPORT_INFO)
    files = {
        "report": report,
        "untitled": make_pdf([["Lista de compras: pão, queijo da serra, azeitonas."]]),
        "empty_password": encrypt_pdf(report, user_password=""),
        "compressed": make_pdf(REPORT_PAGES, REPORT_INFO, compress=True),
    }
    paths = {}
    for name, data in files.items():
        paths[name] = folder / f"{name}.pdf"
        paths[name].write_bytes(data)
    return paths


class TestPdfContract(ConnectorContract):
    connector = CONNECTOR

    @pytest.fixture(autouse=True)
    def _generated(self, pdfs: dict[str, Path]) -> None:
        self.generated = pdfs

    def sample_files(self) -> list[Path]:
        return sorted(self.generated.values())

    def make_file(self, directory: Path, body: str) -> Path:
        path = directory / "sample.pdf"
        path.write_bytes(make_pdf([body.strip().split("\n\n")]))
        return path


# --- pages, paragraphs, locators -----------------------------------------------------


def test_report_items_per_page_with_paragraphs(pdfs: dict[str, Path]) -> None:
    items = parse(pdfs["report"])
    assert [(i.locator, i.text) for i in items] == [
        (
            "p1:0",
            "A associação terminou 2023 com 214 sócios, mais 31 do que no ano anterior.\n"
            "A quota anual manteve-se nos 24 euros.\n\n"
            "O encontro de primavera em Coimbra juntou 80 pessoas.",
        ),
        (
            "p2:0",
            "Viagem de estudo a Tóquio: 東京で寿司を食べた。\n\n"
            "Orçamento aprovado por unanimidade 🎉",
        ),
        ("p3:0", "Contas: receitas de 5 136 euros e despesas de 4 870 euros."),
    ]
    assert [i.meta["page"] for i in items] == [1, 2, 3]
    assert [dict(i.meta) for i in items][0] == {
        "page": 1,
        "pages": 3,
        "chunk": 0,
        "date_source": "pdf_created",
    }
    assert {i.kind for i in items} == {"document"}
    assert {i.author for i in items} == {"unknown"}
    document = str(pdfs["report"].resolve())
    assert {i.document for i in items} == {document}
    assert items[1].source_ref == f"{document}#p2:0"


def test_paragraph_breaks_come_from_line_gaps(tmp_path: Path) -> None:
    paragraphs = [f"Paragraph {n} line one\nparagraph {n} line two" for n in range(3)]
    path = tmp_path / "gaps.pdf"
    path.write_bytes(make_pdf([paragraphs]))
    page = pdf_module.PdfReader(str(path)).pages[0]
    assert pdf_module.page_paragraphs(page) == paragraphs


def test_long_page_is_cut_under_the_bound_and_never_across_pages(tmp_path: Path) -> None:
    line = "Paragraph {n} of the minutes, about the new bylaws and the fees."
    short = [line.format(n=n) for n in range(3)]  # merged: one chunk
    long = "\n".join(line.format(n=f"3.{k}") for k in range(20))  # ~1,300: cut at sentences
    middle = "\n".join(line.format(n=f"4.{k}") for k in range(7))  # ~450: alone
    path = tmp_path / "long.pdf"
    path.write_bytes(make_pdf([[*short, long, middle], ["Second page, short."]]))
    items = parse(path)
    assert [(i.locator, len(i.text)) for i in items] == [
        ("p1:0", 190),
        ("p1:1", 979),
        ("p1:2", 329),
        ("p1:3", 454),
        ("p2:0", 19),
    ]
    assert items[0].text == "\n\n".join(short)
    assert items[1].text.startswith(line.format(n="3.0") + "\n")
    assert items[1].text.endswith(line.format(n="3.14"))  # 15 whole sentences fit
    assert items[2].text.endswith(line.format(n="3.19"))
    assert items[3].text == middle
    assert " ".join(i.text for i in items[1:3]).split() == long.split()


def test_empty_pages_are_skipped_and_page_numbers_kept(tmp_path: Path) -> None:
    path = tmp_path / "gappy.pdf"
    path.write_bytes(make_pdf([["One."], [], ["Three."]]))
    assert [(i.locator, i.meta["page"], i.meta["pages"]) for i in parse(path)] == [
        ("p1:0", 1, 3),
        ("p3:0", 3, 3),
    ]


def test_compressed_content_streams_read_the_same(pdfs: dict[str, Path]) -> None:
    plain = [(i.locator, i.text) for i in parse(pdfs["report"])]
    assert [(i.locator, i.text) for i in parse(pdfs["compressed"])] == plain


def test_editing_one_page_leaves_other_pages_hashes(tmp_path: Path) -> None:
    path = tmp_path / "report.pdf"
    before = {i.locator: i.content_hash for i in parse(path, make_pdf(REPORT_PAGES, REPORT_INFO))}
    edited = [REPORT_PAGES[0], ["Viagem de estudo adiada."], REPORT_PAGES[2]]
    after = {i.locator: i.content_hash for i in parse(path, make_pdf(edited, REPORT_INFO))}
    assert set(after) == set(before)
    assert {loc for loc in before if before[loc] != after[loc]} == {"p2:0"}


# --- metadata: title, author, dates ---------------------------------------------------


def test_title_and_sender_come_from_the_info_dictionary(pdfs: dict[str, Path]) -> None:
    items = parse(pdfs["report"])
    assert {i.title for i in items} == {"Relatório anual 2023"}
    assert {i.sender for i in items} == {"Inês Duarte"}


def test_without_info_title_is_the_file_stem_and_sender_none(pdfs: dict[str, Path]) -> None:
    items = parse(pdfs["untitled"])
    assert [(i.title, i.sender, i.time, i.meta["date_source"]) for i in items] == [
        ("untitled", None, MTIME, "mtime")
    ]


def test_creation_date_with_offset(pdfs: dict[str, Path]) -> None:
    items = parse(pdfs["report"])
    assert {i.time for i in items} == {
        datetime(2024, 3, 15, 10, 30, tzinfo=timezone(timedelta(hours=1)))
    }


@pytest.mark.parametrize(
    ("info", "expected", "source"),
    [
        ({"ModDate": "D:20240401090000Z"}, datetime(2024, 4, 1, 9, tzinfo=UTC), "pdf_modified"),
        (
            {"CreationDate": "not a date", "ModDate": "D:20240401090000Z"},
            datetime(2024, 4, 1, 9, tzinfo=UTC),
            "pdf_modified",
        ),
        ({"CreationDate": "D:20241340"}, MTIME, "mtime"),
        ({"Title": "   "}, MTIME, "mtime"),
    ],
)
def test_date_fallbacks(
    tmp_path: Path, info: dict[str, str], expected: datetime, source: str
) -> None:
    path = tmp_path / "minutes.pdf"
    items = parse(path, make_pdf([["Text."]], info))
    assert [(i.time, i.meta["date_source"], i.title) for i in items] == [
        (expected, source, "minutes")
    ]


def test_file_name_date_beats_mtime(tmp_path: Path) -> None:
    items = parse(tmp_path / "2024-03-14 minutes.pdf", make_pdf([["Text."]]))
    assert [(i.time, i.meta["date_source"]) for i in items] == [
        (datetime(2024, 3, 14).astimezone(), "file_name")
    ]


def at(hours: int, minutes: int = 0) -> datetime:
    """10:30 on 15 March 2024 at the given UTC offset."""
    return datetime(2024, 3, 15, 10, 30, tzinfo=timezone(timedelta(hours=hours, minutes=minutes)))


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("D:20240315103000+01'00'", at(1)),
        ("D:20240315103000-05'30'", at(-5, -30)),
        ("D:20240315103000+0100", at(1)),
        ("D:20240315103000Z", at(0)),
        ("D:20240315103000Z00'00'", at(0)),
        ("20240315103000Z", at(0)),
        ("D:20240315", datetime(2024, 3, 15).astimezone()),
        ("D:2024", datetime(2024, 1, 1).astimezone()),
        ("D:20240315103000", datetime(2024, 3, 15, 10, 30).astimezone()),
        ("D:20241340", None),
        ("D:00000101", None),
        ("D:20240315103000+25'00'", None),
        ("yesterday", None),
        ("", None),
    ],
)
def test_parse_pdf_date(value: str, expected: datetime | None) -> None:
    parsed = parse_pdf_date(value)
    assert parsed == expected
    if parsed is not None:
        assert parsed.utcoffset() == expected.utcoffset()  # type: ignore[union-attr]


def test_author_resolves_against_the_identity(pdfs: dict[str, Path]) -> None:
    report = parse(pdfs["report"])[0]
    untitled = parse(pdfs["untitled"])[0]
    me = Identity(frozenset({normalize("name", "Inês Duarte"), normalize("email", "ines@x.pt")}))
    someone_else = Identity(frozenset({normalize("name", "Rui Costa")}))
    assert me.author_of(report) == "self"
    assert someone_else.author_of(report) == "other"
    assert me.author_of(untitled) == "unknown"


# --- encryption, scans, damage ---------------------------------------------------------


def test_empty_user_password_pdf_opens(pdfs: dict[str, Path]) -> None:
    items = parse(pdfs["empty_password"])
    assert [(i.locator, i.text, i.title, i.sender, i.time) for i in items] == [
        (i.locator, i.text, i.title, i.sender, i.time) for i in parse(pdfs["report"])
    ]


def test_password_protected_pdf_fails_clearly(tmp_path: Path) -> None:
    path = tmp_path / "payslip.pdf"
    path.write_bytes(encrypt_pdf(make_pdf([["Salário: 2 100 euros"]]), user_password="s3gredo"))
    with pytest.raises(ParseError, match="^PDF is password-protected$"):
        parse(path)


@pytest.mark.parametrize("inline", [False, True], ids=["xobject", "inline"])
def test_scanned_pdf_without_text_layer_fails_clearly(tmp_path: Path, inline: bool) -> None:
    path = tmp_path / "scan.pdf"
    if inline:
        path.write_bytes(make_pdf([[], []], inline_image_pages=[0, 1]))
    else:
        path.write_bytes(make_pdf([[], []], image_pages=[0, 1]))
    with pytest.raises(ParseError, match=r"^PDF has no text layer \(scanned\?\); OCR"):
        parse(path)


def test_blank_pdf_is_empty_not_an_error(tmp_path: Path) -> None:
    # The generator lists the image in every page's resources; only drawing it counts.
    assert parse(tmp_path / "blank.pdf", make_pdf([[], []])) == []
    assert parse(tmp_path / "no-pages.pdf", make_pdf([])) == []


def test_scanned_pages_next_to_text_pages_are_skipped(tmp_path: Path) -> None:
    data = make_pdf([["Cover letter text."], []], image_pages=[1])
    assert [(i.locator, i.text) for i in parse(tmp_path / "mixed.pdf", data)] == [
        ("p1:0", "Cover letter text.")
    ]


def test_one_unreadable_page_is_reported_and_the_rest_kept(tmp_path: Path) -> None:
    # Arrays nested 5,000 deep: pypdf's content parser recurses and gives up on the page.
    nested = b"BT /F1 11 Tf 72 800 Td " + b"[" * 5000 + b"(x)" + b"]" * 5000 + b" TJ ET"
    data = make_pdf([["Broken page."], ["Good page."]], raw_content={0: nested})
    items = parse(tmp_path / "partly.pdf", data)
    assert [(i.locator, i.text, i.meta["unreadable_pages"]) for i in items] == [
        ("p2:0", "Good page.", [1])
    ]


def test_no_readable_page_at_all_is_a_parse_error(tmp_path: Path) -> None:
    nested = b"BT /F1 11 Tf 72 800 Td " + b"[" * 5000 + b"(x)" + b"]" * 5000 + b" TJ ET"
    data = make_pdf([["Broken page."]], raw_content={0: nested})
    with pytest.raises(ParseError, match="^damaged PDF: no page could be read \\(page 1: "):
        parse(tmp_path / "broken.pdf", data)


def test_pypdf_repairs_are_logged_quietly(
    tmp_path: Path, caplog: pytest.LogCaptureFixture, capsys: pytest.CaptureFixture[str]
) -> None:
    data = make_pdf([["Text survives a broken xref."]])
    cut = data.rindex(b"startxref\n")
    broken = data[:cut] + b"startxref\n999999\n%%EOF\n"  # pypdf must rebuild the xref
    with caplog.at_level(logging.DEBUG):
        items = parse(tmp_path / "repaired.pdf", broken)
    assert [i.text for i in items] == ["Text survives a broken xref."]
    assert not [r for r in caplog.records if r.name.startswith("pypdf")]
    summaries = [r for r in caplog.records if r.getMessage().startswith("pypdf repaired")]
    assert [(r.name, r.levelno) for r in summaries] == [("connectors.pdf", logging.DEBUG)]
    assert "incorrect startxref pointer" in summaries[0].getMessage()
    assert capsys.readouterr() == ("", "")
    assert logging.getLogger("pypdf").propagate is True
    assert logging.getLogger("pypdf").handlers == []


def test_page_cap(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(pdf_module, "MAX_PAGES", 2)
    with pytest.raises(ParseError, match="^PDF has 3 pages; at most 2 are read$"):
        parse(tmp_path / "many.pdf", make_pdf([["a"], ["b"], ["c"]]))


def test_text_cap(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(pdf_module, "MAX_CHARS", 30)
    data = make_pdf([["Twenty characters ok"], ["Twenty more characters"]])
    with pytest.raises(ParseError, match=r"^PDF text is over 30 characters \(at page 2\)"):
        parse(tmp_path / "wordy.pdf", data)


BAD_PDF = {
    "empty.pdf": "^not a PDF: no %PDF- header in the first 1,024 bytes$",
    "html_page_renamed.pdf": "^not a PDF: no %PDF- header",
    "truncated_mid_object.pdf": "^PDF is truncated: no %%EOF end marker",
    "no_xref_or_trailer.pdf": "^damaged PDF: ",
    "header_then_garbage.pdf": "^damaged PDF: ",
}


@pytest.mark.parametrize("name", sorted(BAD_PDF))
def test_each_bad_file_raises_its_parse_error(name: str) -> None:
    with pytest.raises(ParseError, match=BAD_PDF[name]):
        parse(BAD / name)


def test_every_bad_pdf_fixture_has_an_expected_error() -> None:
    assert {p.name for p in BAD.iterdir()} == set(BAD_PDF)


def test_truncated_generated_pdf_at_several_cuts(tmp_path: Path) -> None:
    data = make_pdf(REPORT_PAGES, REPORT_INFO)
    for fraction in (0.2, 0.5, 0.8, 0.95):
        with pytest.raises(ParseError, match="^PDF is truncated"):
            parse(tmp_path / "cut.pdf", data[: int(len(data) * fraction)])


# --- detection -------------------------------------------------------------------------


def test_detected_by_content_under_a_misleading_name(pdfs: dict[str, Path]) -> None:
    head = pdfs["report"].read_bytes()[:4096]
    assert CONNECTOR.detect(Path("notes.txt"), head)
    assert CONNECTOR.detect(Path("scan.PDF"), b"")
    assert not CONNECTOR.detect(Path("notes.txt"), b"A note quoting the %PDF- header.\n")


def test_detect_rejects_other_formats(tmp_path: Path) -> None:
    others = [
        *sorted((FIXTURES / "notes").rglob("*.md")),
        *sorted((FIXTURES / "notes").rglob("*.txt")),
        *sorted(DOCUMENTS.glob("*.htm*")),
        make_docx(tmp_path / "letter.docx", []),
    ]
    assert len(others) > 6
    for path in others:
        head = path.read_bytes()[:4096]
        assert not CONNECTOR.detect(path, head), path.name
    assert PdfConnector.name == "pdf"
    assert PdfConnector.history == "replace"


@pytest.mark.parametrize(
    ("title", "expected"),
    [
        ("Microsoft Word - Acta da reunião.docx", "Acta da reunião.docx"),
        ("Untitled", "scan-0042"),
        ("  Relatório\x00 final\n", "Relatório final"),
    ],
)
def test_placeholder_titles_fall_back_to_the_stem(
    tmp_path: Path, title: str, expected: str
) -> None:
    items = parse(tmp_path / "scan-0042.pdf", make_pdf([["Texto."]], {"Title": title}))
    assert [i.title for i in items] == [expected]
