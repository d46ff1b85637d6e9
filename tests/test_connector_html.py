"""HTML connector: the shared contract plus main-content extraction, charsets and failures."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest

from assistant.identity import Identity, normalize
from connectors.base import Item, ParseError
from connectors.webpage import HtmlConnector, decode_html
from tests.connector_contract import FIXTURES, MTIME, ConnectorContract
from tests.document_builders import make_docx, make_pdf

CONNECTOR = HtmlConnector()
DOCUMENTS = FIXTURES / "documents"
BAD = FIXTURES / "bad" / "html"


def parse(path: Path, data: bytes | None = None) -> list[Item]:
    return CONNECTOR.parse(path, path.read_bytes() if data is None else data, MTIME)


def write(directory: Path, name: str, text: str, encoding: str = "utf-8") -> Path:
    path = directory / name
    path.write_bytes(text.encode(encoding))
    return path


def page(body: str, head: str = "<title>Página</title>") -> str:
    return f"<!DOCTYPE html><html><head>{head}</head><body>{body}</body></html>"


class TestHtmlContract(ConnectorContract):
    connector = CONNECTOR

    def sample_files(self) -> list[Path]:
        return sorted(DOCUMENTS.glob("*.htm*"))


# --- main content ----------------------------------------------------------------------


def test_blog_article_keeps_the_article_and_drops_the_chrome() -> None:
    path = DOCUMENTS / "blog-article.html"
    items = parse(path)
    trip, day1, day2 = "Três dias em Lisboa", "Dia 1: Alfama e Castelo", "Dia 2: Belém"
    assert [(i.locator, i.title) for i in items] == [
        ("três-dias-em-lisboa:0", trip),
        ("três-dias-em-lisboa/dia-1-alfama-e-castelo:0", f"{trip} > {day1}"),
        ("três-dias-em-lisboa/dia-2-belém/pastéis:0", f"{trip} > {day2} > Pastéis"),
        ("três-dias-em-lisboa/dia-2-belém/custos:0", f"{trip} > {day2} > Custos"),
    ]
    assert items[0].text == (
        "Por Marta Siqueira, 12 de abril de 2024\n\n"
        "Chegámos a Lisboa numa sexta-feira de manhã, com chuva miúda e o elétrico 28 cheio de "
        "turistas. Deixámos as malas no hotel em Alfama e fomos logo tomar uma bica."
    )
    assert items[1].text.endswith("bacalhau à Brás e vinho verde. 🎶🍷")
    assert "custou 15 € por pessoa" in items[1].text  # &nbsp; read as a plain space
    assert items[2].text == (
        "Os pastéis de Belém estavam mornos, com canela e açúcar em pó. Fila de vinte minutos.\n\n"
        "Mosteiro dos Jerónimos: entrada gratuita ao domingo de manhã.\n\n"
        "Padrão dos Descobrimentos: subir ao miradouro vale a pena."
    )
    assert items[3].text == "Item | Preço\nPastéis (6) | 7,80 €\nJerónimos | 12 €"
    everything = "\n".join(i.text for i in items)
    for chrome in (
        "Início", "cookies", "Aceitar", "Partilhar", "Etiquetas", "Posts recentes",
        "direitos reservados", "dataLayer", "font-family", "Saltar", "Diário de Viagem",
    ):  # fmt: skip
        assert chrome not in everything, chrome
    assert dict(items[0].meta) == {
        "page_title": "Três dias em Lisboa",
        "heading_path": ["Três dias em Lisboa"],
        "chunk": 0,
        "date_source": "html_meta",
        "url": "https://blog.example.org/2024/04/tres-dias-em-lisboa",
    }
    assert {i.kind for i in items} == {"document"}
    assert {i.author for i in items} == {"unknown"}
    assert {i.document for i in items} == {str(path.resolve())}


def test_main_element_with_role_navigation_hidden_and_menu_dropped() -> None:
    items = parse(DOCUMENTS / "wiki-main.html")
    assert [(i.title, i.text) for i in items] == [
        (
            "Home network – Family wiki > Home network",
            "The router is a Fritz!Box 7590 in the hallway cupboard. Admin password is in the "
            'family password manager under "Router".',
        ),
        (
            "Home network – Family wiki > Home network > Wi-Fi",
            "Main network: casa-5g. Guest network: casa-visitas, reset every month.\n\n"
            "ssid     band   channel\ncasa-5g  5 GHz  36\ncasa-2g  2.4    6",
        ),
        (
            "Home network – Family wiki > Home network > Devices",
            "NAS (Synology DS220+) at 192.168.1.20\nbackups run nightly at 02:00\n\n"
            "Printer (Brother HL-L2350DW) at 192.168.1.30",
        ),
    ]
    everything = " ".join(i.text for i in items)
    assert "Draft" not in everything and "History" not in everything and "Rui" not in everything
    assert [i.locator for i in items] == [
        "home-network:0",
        "home-network/wi-fi:0",
        "home-network/devices:0",
    ]


def test_page_without_main_or_article_reads_the_body() -> None:
    items = parse(DOCUMENTS / "no-main.html")
    assert [(i.locator, i.title, i.text) for i in items] == [
        (
            "book-club-東京奇譚集:0",
            "Minutes: book club, March > Book club — 東京奇譚集",
            "We discussed Haruki Murakami's 東京奇譚集 (Tokyo Kitan-shu). Everyone liked "
            '"The Kidney-Shaped Stone".\n\n'
            "Next meeting: 14 April at Sofia's place. Bring snacks 🍪.\n\n"
            "Layout cell with a paragraph about the reading order.\n\n"
            "Second layout cell: we vote next time.",
        )
    ]


def test_several_articles_mean_the_body_is_read(tmp_path: Path) -> None:
    body = (
        "<article><h2>One</h2><p>First post.</p></article>"
        "<article><h2>Two</h2><p>Second.</p></article>"
    )
    items = parse(write(tmp_path, "index.html", page(body)))
    assert [(i.locator, i.text) for i in items] == [("one:0", "First post."), ("two:0", "Second.")]


def test_wrapper_classes_that_merely_mention_chrome_are_kept(tmp_path: Path) -> None:
    body = (
        '<div class="content-with-sidebar no-sidebar"><p>Kept paragraph.</p></div>'
        '<div class="nav-links">Older posts</div><div id="site-footer">© me</div>'
        '<div class="cookie-notice">We use cookies</div><span aria-hidden="true">★</span>'
        '<p style="display: none">invisible</p>'
    )
    items = parse(write(tmp_path, "wrap.html", page(body)))
    assert [i.text for i in items] == ["Kept paragraph."]


def test_repeated_headings_and_text_before_the_first(tmp_path: Path) -> None:
    body = "Intro text.<h2>Notes</h2><p>one</p><h2>Notes</h2><p>two</p><h3>Deep</h3><p>3</p>"
    items = parse(write(tmp_path, "r.html", page(body, head="")))
    assert [(i.locator, i.title, i.text) for i in items] == [
        ("_top:0", None, "Intro text."),
        ("notes:0", "Notes", "one"),
        ("notes~2:0", "Notes", "two"),
        ("notes/deep:0", "Notes > Deep", "3"),
    ]


def test_editing_one_section_leaves_other_sections_untouched(tmp_path: Path) -> None:
    original = (DOCUMENTS / "blog-article.html").read_text(encoding="utf-8")
    path = tmp_path / "blog-article.html"
    before = {i.locator: i.content_hash for i in parse(path, original.encode())}
    edited = original.replace("Fila de vinte minutos.", "Fila de meia hora.")
    after = {i.locator: i.content_hash for i in parse(path, edited.encode())}
    assert set(after) == set(before)
    changed = {loc for loc in before if before[loc] != after[loc]}
    assert changed == {"três-dias-em-lisboa/dia-2-belém/pastéis:0"}


def test_long_single_line_page_is_chunked_under_the_bound(tmp_path: Path) -> None:
    sentence = "Uma frase longa sobre a viagem ao Porto e o caminho de ferro do Douro. "
    text = sentence * 40_000  # ~2.8 MB on one line
    items = parse(write(tmp_path, "long.html", page(f"<p>{text}</p>")))
    assert len(items) == 2_858  # 14 whole sentences fit in 1,000 characters
    assert all(len(i.text) <= 1000 for i in items)
    assert items[0].text == (sentence * 14).strip()
    assert " ".join(i.text for i in items).split() == text.split()


def test_deep_nesting_does_not_recurse(tmp_path: Path) -> None:
    body = "<div><span>" * 20_000 + "fundo" + "</span></div>" * 20_000 + "<p>fim</p>"
    items = parse(write(tmp_path, "deep.html", page(body)))
    assert [i.text for i in items] == ["fundo\n\nfim"]


def test_empty_page_gives_no_items(tmp_path: Path) -> None:
    assert parse(write(tmp_path, "e.html", "")) == []
    assert (
        parse(write(tmp_path, "s.html", page("<script>var x = 1;</script><nav>Menu</nav>"))) == []
    )


# --- charsets ------------------------------------------------------------------------


def test_latin1_page_with_meta_charset() -> None:
    items = parse(DOCUMENTS / "latin1-recipes.htm")
    assert [(i.title, i.text) for i in items] == [
        (
            "Receitas da avó",
            "Arroz doce: 1 litro de leite, 250 g de arroz carolino, 200 g de açúcar, casca de "
            "limão e canela.\n\nCoze-se o arroz em água e depois junta-se o leite a ferver, "
            "mexendo sempre. É preciso paciência!",
        ),
        (
            "Receitas da avó > Filhós",
            "Massa de farinha, ovos e sumo de laranja; fritam-se em óleo bem quente e passam-se "
            "por açúcar e canela.",
        ),
    ]


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        # A declared charset other than UTF-8/latin-1 is honoured.
        ('<meta charset="windows-1251"><p>Привет</p>'.encode("cp1251"), "Привет"),
        ('<meta charset="shift_jis"><p>東京</p>'.encode("shift_jis"), "東京"),
        # A stale latin-1 declaration on a page saved as UTF-8 still reads as UTF-8.
        ('<meta charset="iso-8859-1"><p>São João</p>'.encode(), "São João"),
        # latin-1 means windows-1252, as in browsers: 0x80 is the euro sign.
        (b'<meta charset="latin1"><p>\x80 5</p>', "€ 5"),
        # A BOM wins over the declaration.
        ('\ufeff<meta charset="iso-8859-1"><p>Ção</p>'.encode("utf-16-le"), "Ção"),
        # An unknown label is ignored.
        ('<meta charset="klingon"><p>Olá</p>'.encode(), "Olá"),
    ],
)
def test_charset_rules(raw: bytes, expected: str) -> None:
    assert expected in decode_html(raw)


def test_utf16_page_with_bom(tmp_path: Path) -> None:
    path = tmp_path / "utf16.html"
    path.write_bytes("\ufeff".encode("utf-16-le") + page("<p>Olá 🎉</p>").encode("utf-16-le"))
    assert [i.text for i in parse(path)] == ["Olá 🎉"]


# --- time and author ---------------------------------------------------------------------


def test_time_from_meta_then_time_element_then_file(tmp_path: Path) -> None:
    blog = parse(DOCUMENTS / "blog-article.html")
    assert {i.time for i in blog} == {
        datetime(2024, 4, 12, 8, 30, tzinfo=timezone(timedelta(hours=1)))
    }
    wiki = parse(DOCUMENTS / "wiki-main.html")
    assert {(i.time, i.meta["date_source"]) for i in wiki} == {
        (datetime(2023, 9, 2).astimezone(), "html_meta")
    }
    timed = page(
        '<aside><time datetime="2020-01-01">old</time></aside>'
        '<article><time datetime="2024-02-10T19:00:00Z">10 Feb</time><p>Post.</p></article>'
    )
    items = parse(write(tmp_path, "t.html", timed))
    assert [(i.time, i.meta["date_source"]) for i in items] == [
        (datetime(2024, 2, 10, 19, tzinfo=UTC), "html_time")
    ]
    bad_meta = page("<p>x</p>", head='<meta name="date" content="soon">')
    assert [
        (i.time, i.meta["date_source"]) for i in parse(write(tmp_path, "b.html", bad_meta))
    ] == [(MTIME, "mtime")]


def test_author_meta_resolves_against_the_identity(tmp_path: Path) -> None:
    blog = parse(DOCUMENTS / "blog-article.html")[0]
    wiki = parse(DOCUMENTS / "wiki-main.html")[0]
    assert (blog.sender, wiki.sender) == ("Marta Siqueira", None)
    me = Identity(frozenset({normalize("name", "Marta Siqueira")}))
    assert me.author_of(blog) == "self"
    assert Identity(frozenset({normalize("name", "Rui Costa")})).author_of(blog) == "other"
    assert me.author_of(wiki) == "unknown"


# --- failures ------------------------------------------------------------------------------

BAD_HTML = {
    "binary_nul_bytes.html": r"^binary file, not text: it contains NUL bytes$",
    "truncated_utf16_bom.html": r"^file starts with a utf-16-le byte-order mark but is not valid",
    "not_utf8_or_cp1252.html": r"^not valid UTF-8 \(bad byte at offset 53\) and not legacy cp1252",
    "bad_bytes_for_declared_shift_jis.html": (
        r"^page declares charset shift_jis but is not valid shift_jis \(bad byte at offset 54\); "
        r"not valid UTF-8"
    ),
    "mostly_control_characters.html": r"^binary file, not text: 1600 of 1626 characters",
}


@pytest.mark.parametrize("name", sorted(BAD_HTML))
def test_each_bad_file_raises_its_parse_error(name: str) -> None:
    with pytest.raises(ParseError, match=BAD_HTML[name]):
        parse(BAD / name)


def test_every_bad_html_fixture_has_an_expected_error() -> None:
    assert {p.name for p in BAD.iterdir()} == set(BAD_HTML)


# --- detection -----------------------------------------------------------------------------


def test_detected_by_content_under_a_misleading_name() -> None:
    for sample in DOCUMENTS.glob("*.htm*"):
        assert CONNECTOR.detect(Path("notes.txt"), sample.read_bytes()[:4096]), sample.name
    assert CONNECTOR.detect(Path("x.txt"), b"\n  <!-- saved --><HTML><BODY>hi")
    bom = "\ufeff<!doctype html><p>x".encode("utf-16-le")
    assert CONNECTOR.detect(Path("x.dat"), bom)
    assert CONNECTOR.detect(Path("Page.HTM"), b"")


def test_detect_rejects_other_formats(tmp_path: Path) -> None:
    mail = (
        b"From: Ana <ana@example.org>\nSubject: Fotos\nContent-Type: text/html\n\n"
        b"<html><body>Ola</body></html>\n"
    )
    note = b'# Snippets\n\nUse `<html lang="pt">` at the top.\n'
    pdf = tmp_path / "report.pdf"
    pdf.write_bytes(make_pdf([["<html> in a PDF"]]))
    others = [
        *sorted((FIXTURES / "notes").rglob("*.md")),
        *sorted((FIXTURES / "notes").rglob("*.txt")),
        pdf,
        make_docx(tmp_path / "letter.docx", []),
    ]
    for path in others:
        assert not CONNECTOR.detect(path, path.read_bytes()[:4096]), path.name
    assert not CONNECTOR.detect(Path("message.eml"), mail)
    assert not CONNECTOR.detect(Path("snippets.md"), note)
    assert HtmlConnector.name == "html"
    assert HtmlConnector.history == "replace"
