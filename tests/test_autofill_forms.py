"""Reading and writing real form files: HTML fixtures (labels, selects, honeypots), a PDF
AcroForm built here with pypdf and rendered with pdftoppm to see the filled values, a
JSON field list, and one bad file per failure class, each refused with a clear message.

The render test is skipped without pdftoppm (poppler-utils), unless
SECONDSELF_REQUIRE_PDFTOPPM=1 (CI) makes that a failure.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import subprocess
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from io import BytesIO
from pathlib import Path
from types import FrameType
from typing import Any

import pytest
from bs4 import BeautifulSoup, Tag
from pypdf import PdfReader, PdfWriter
from pypdf.generic import (
    ArrayObject,
    DictionaryObject,
    FloatObject,
    IndirectObject,
    NameObject,
    NumberObject,
    TextStringObject,
)

from assistant.autofill.fields import FormField
from assistant.autofill.forms import FormError, read_form, write_form
from assistant.errors import SecondSelfError
from tests.conftest import FIXTURES
from tests.document_builders import encrypt_pdf, make_pdf

FORMS = FIXTURES / "forms" / "io"
BAD = FORMS / "bad"


# ---------------------------------------------------------------- HTML


def test_html_fields_their_labels_types_and_options() -> None:
    assert read_form(FORMS / "labels.html") == [
        # Outside any <form>, with only a placeholder to go by.
        FormField("newsletter_email", type="email", placeholder="you@example.com"),
        FormField("given_name", "First name", "given-name", id="given"),  # <label for>
        FormField("family_name", "Surname"),  # a wrapping label; type=TEXT lower-cased
        FormField("phone", "Mobile phone", type="tel"),  # aria-label, whitespace collapsed
        FormField("birthday", "Date of birth", type="date"),  # aria-labelledby, two ids
        FormField(
            "country",
            "Country",  # the wrapping label's text without its options
            "country-name",
            type="select",
            options=("Choose one", "Portugal", "Spain", "Other"),
        ),
        FormField("notes", "Anything we should know?", type="textarea", id="notes"),
        FormField("city", id="city", placeholder="City"),  # no name: its id names it
        FormField("terms", "I agree to the rules", type="checkbox"),
        # Outside the form, its label after it; the comment in the label is not read.
        FormField("coupon", "Coupon code", id="coupon-code"),
    ]  # buttons of every kind, and the control with neither name nor id, are not fields


def test_html_fields_a_person_cannot_see_are_hidden() -> None:
    hidden = {f.name: f.hidden for f in read_form(FORMS / "hidden.html")}
    assert hidden == {
        "name": False,
        "csrf": True,  # type=hidden
        "by_attribute": True,  # the `hidden` attribute on an ancestor
        "inline_none": True,  # display: none
        "inline_visibility": True,  # visibility: hidden, any case and spacing
        "zero_width": True,  # width:0
        "zero_height": True,  # height: 0px on an ancestor
        "see_through": True,  # opacity:0.0
        "far_away": True,  # left:-9999px
        "aria": True,  # aria-hidden="true"
        "class_rule": True,  # <style> .hp { display: none }
        "id_rule": True,  # <style> #trap{visibility:hidden}
        "tag_class_rule": True,  # <style> div.offstage , .unused { display:none !important; }
        "print_only": False,  # hidden only inside @media print
        "sized": False,  # a width that is not zero
        "email": False,
    }


def test_html_written_copy_holds_the_values_and_the_form_is_unchanged(tmp_path: Path) -> None:
    source = FORMS / "labels.html"
    before = source.read_bytes()
    output = tmp_path / "filled.html"
    values = {
        "given_name": "Marta",
        "family_name": "Sousa",
        "notes": "No peanuts, please",
        "country": "PT",  # an option's value
        "terms": "YES",  # the checkbox's own value, in any case
        "city": "Porto",  # a field named by its id
        "not_in_the_form": "ignored",
    }
    write_form(source, values, output)

    soup = BeautifulSoup(output.read_text(encoding="utf-8"), "html.parser")
    assert _tag(soup, "input", name="given_name")["value"] == "Marta"
    assert _tag(soup, "input", name="family_name")["value"] == "Sousa"
    assert _tag(soup, "textarea", name="notes").get_text() == "No peanuts, please"
    assert _selected(soup, "country") == ["PT"]
    assert _tag(soup, "input", name="terms").has_attr("checked")
    assert _tag(soup, "input", id="city")["value"] == "Porto"
    assert not _tag(soup, "input", name="coupon").has_attr("value")
    assert "not_in_the_form" not in output.read_text(encoding="utf-8")
    # The copy reads as the same form; the source is byte for byte what it was.
    assert read_form(output) == read_form(source)
    assert source.read_bytes() == before


def test_html_select_matches_an_option_by_text_or_leaves_it_alone(tmp_path: Path) -> None:
    output = tmp_path / "filled.html"
    write_form(FORMS / "labels.html", {"country": " other "}, output)  # text, no value attr
    assert _selected(BeautifulSoup(output.read_bytes(), "html.parser"), "country") == ["Other"]
    write_form(FORMS / "labels.html", {"country": "Narnia"}, output)  # no such option
    assert _selected(BeautifulSoup(output.read_bytes(), "html.parser"), "country") == ["ES"]


def _tag(soup: BeautifulSoup, element: str, **attrs: str) -> Tag:
    wanted: dict[str, Any] = dict(attrs)
    found = soup.find(element, attrs=wanted)
    assert isinstance(found, Tag), f"no <{element} {attrs}>"
    return found


def _selected(soup: BeautifulSoup, select: str) -> list[str]:
    """The selected options of a select, by value (or text when it has none)."""
    return [
        str(o.get("value", o.get_text()))
        for o in _tag(soup, "select", name=select).find_all("option")
        if isinstance(o, Tag) and o.has_attr("selected")
    ]


# ---------------------------------------------------------------- JSON


def test_json_list_read_and_written_back_with_values(tmp_path: Path) -> None:
    items: list[dict[str, Any]] = [
        {"name": "email", "label": "E-mail", "autocomplete": "email", "type": "Email"},
        {"name": "size", "type": "select", "options": ["S", "M"], "note": "kept as it is"},
        {"name": "trap", "hidden": True},
    ]
    source = tmp_path / "form.json"
    source.write_text(json.dumps(items), encoding="utf-8")
    assert read_form(source) == [
        FormField("email", "E-mail", "email", type="email"),
        FormField("size", type="select", options=("S", "M")),
        FormField("trap", hidden=True),
    ]
    output = tmp_path / "filled.json"
    write_form(source, {"email": "marta@example.pt", "size": "M"}, output)
    written = json.loads(output.read_text(encoding="utf-8"))
    assert written == [
        {**items[0], "value": "marta@example.pt"},
        {**items[1], "value": "M"},
        items[2],  # not filled: no "value" key
    ]
    assert read_form(output) == read_form(source)


# ---------------------------------------------------------------- PDF

PAGE_SIZE = 300  # points, square
# Widget rectangles in points (left, bottom, right, top), for the render check.
FULL_NAME = (20.0, 240.0, 280.0, 270.0)
COUNTRY = (20.0, 160.0, 280.0, 190.0)
CITY = (20.0, 120.0, 280.0, 150.0)


def build_pdf_form() -> bytes:
    """A one-page PDF with an AcroForm: text fields with tooltips, hidden ones, a choice,
    a field under a parent, a checkbox, a multiline field and a push button."""
    writer = PdfWriter()
    page = writer.add_blank_page(PAGE_SIZE, PAGE_SIZE)
    fields = ArrayObject()

    def field(name: str, kind: str, rect: tuple[float, ...], tooltip: str, **extra: Any) -> Any:
        widget = {
            "/Type": NameObject("/Annot"),
            "/Subtype": NameObject("/Widget"),
            "/FT": NameObject(kind),
            "/T": TextStringObject(name),
            "/TU": TextStringObject(tooltip),
            "/Rect": ArrayObject(FloatObject(v) for v in rect),
            "/F": NumberObject(extra.pop("flags", 4)),  # 4 Print, 2 Hidden, 32 NoView
            "/DA": TextStringObject("/Helv 0 Tf 0 g"),
            **extra,
        }
        added = writer.add_annotation(page, widget)
        return added.indirect_reference

    fields.append(field("full_name", "/Tx", FULL_NAME, "Full name"))
    fields.append(field("trap", "/Tx", (20, 200, 280, 230), "Email", flags=4 | 2))
    fields.append(field("reference", "/Tx", (20, 195, 280, 195), "Reference"))  # no height
    fields.append(field("no_view", "/Tx", (20, 190, 140, 194), "Nickname", flags=4 | 32))
    options = ArrayObject([TextStringObject("Portugal"), _pair("ES", "Spain")])
    fields.append(field("country", "/Ch", COUNTRY, "Country", **{"/Opt": options, "/Ff": 1 << 17}))
    # "address" is a field without a widget; its kid "city" is the terminal field.
    address = DictionaryObject({NameObject("/T"): TextStringObject("address")})
    parent: IndirectObject = writer._add_object(address)  # no public pypdf call for this
    city = field("city", "/Tx", CITY, "City", **{"/Parent": parent})
    address[NameObject("/Kids")] = ArrayObject([city])
    fields.append(parent)
    fields.append(field("newsletter", "/Btn", (20, 90, 40, 110), "Send me news"))
    fields.append(field("notes", "/Tx", (60, 20, 280, 100), "Notes", **{"/Ff": 1 << 12}))
    fields.append(field("print", "/Btn", (240, 280, 290, 295), "Print", **{"/Ff": 1 << 16}))

    helvetica = DictionaryObject({
        NameObject("/Type"): NameObject("/Font"), NameObject("/Subtype"): NameObject("/Type1"),
        NameObject("/BaseFont"): NameObject("/Helvetica"),
        NameObject("/Encoding"): NameObject("/WinAnsiEncoding"),
    })  # fmt: skip
    writer.root_object[NameObject("/AcroForm")] = DictionaryObject({
        NameObject("/Fields"): fields,
        NameObject("/DA"): TextStringObject("/Helv 0 Tf 0 g"),
        NameObject("/DR"): DictionaryObject(
            {NameObject("/Font"): DictionaryObject({NameObject("/Helv"): helvetica})}),
    })  # fmt: skip
    out = BytesIO()
    writer.write(out)
    return out.getvalue()


def _pair(export: str, shown: str) -> ArrayObject:
    return ArrayObject([TextStringObject(export), TextStringObject(shown)])


PDF_FIELDS = [
    FormField("full_name", "Full name"),
    FormField("trap", "Email", hidden=True),  # the Hidden flag
    FormField("reference", "Reference", hidden=True),  # a rectangle without height
    FormField("no_view", "Nickname", hidden=True),  # the NoView flag
    FormField("country", "Country", type="select", options=("Portugal", "Spain")),
    FormField("address.city", "City"),  # its fully qualified name
    FormField("newsletter", "Send me news", type="checkbox"),
    FormField("notes", "Notes", type="textarea"),
]  # the push button is not a field to fill

PDF_VALUES = {
    "full_name": "Marta Sousa",
    "country": "spain",  # the text shown, in any case; /V gets the export value "ES"
    "address.city": "Porto",
    "notes": "Vegetarian",
    "newsletter": "Yes",  # checkboxes are not filled
}


@pytest.fixture
def pdf_form(tmp_path: Path) -> Path:
    path = tmp_path / "form.pdf"
    path.write_bytes(build_pdf_form())
    return path


def test_pdf_fields_from_the_acroform(pdf_form: Path, tmp_path: Path) -> None:
    assert read_form(pdf_form) == PDF_FIELDS
    # A PDF that opens without a password is read the same.
    unlocked = tmp_path / "unlocked.pdf"
    unlocked.write_bytes(encrypt_pdf(pdf_form.read_bytes(), ""))
    assert read_form(unlocked) == PDF_FIELDS


def test_pdf_filled_copy_holds_values_with_appearances(pdf_form: Path, tmp_path: Path) -> None:
    before = pdf_form.read_bytes()
    output = tmp_path / "filled.pdf"
    write_form(pdf_form, PDF_VALUES, output)

    reader = PdfReader(output)
    values = {name: f.get("/V") for name, f in (reader.get_fields() or {}).items()}
    assert values["full_name"] == "Marta Sousa"
    assert values["country"] == "ES"
    assert values["address.city"] == "Porto"
    assert values["notes"] == "Vegetarian"
    assert values["trap"] is None and values["newsletter"] is None
    # Each value is drawn in its widget's appearance, the text a viewer shows as it is
    # (NeedAppearances stays off: the file's own drawing is right).
    drawn = _appearances(reader)
    assert b"(Marta Sousa) Tj" in drawn["full_name"]
    assert b"(Spain) Tj" in drawn["country"]
    assert b"(Porto) Tj" in drawn["city"]
    assert not _need_appearances(reader)
    assert read_form(output) == PDF_FIELDS
    assert pdf_form.read_bytes() == before


def test_pdf_text_the_standard_font_cannot_draw_asks_viewers_to(
    pdf_form: Path, tmp_path: Path
) -> None:
    output = tmp_path / "filled.pdf"
    write_form(pdf_form, {"full_name": "Μαρία Σούζα"}, output)
    reader = PdfReader(output)
    assert (reader.get_fields() or {})["full_name"].get("/V") == "Μαρία Σούζα"
    assert _need_appearances(reader)


def test_pdf_filled_values_show_when_rendered(pdf_form: Path, tmp_path: Path) -> None:
    pdftoppm = _require_pdftoppm()
    filled = tmp_path / "filled.pdf"
    write_form(pdf_form, PDF_VALUES, filled)
    blank = _render(pdftoppm, pdf_form, tmp_path / "blank")
    shown = _render(pdftoppm, filled, tmp_path / "shown")
    for rect in (FULL_NAME, COUNTRY, CITY):
        assert _ink(blank, rect) == 0
        assert _ink(shown, rect) > 20, f"no text drawn in {rect}"


def _appearances(reader: PdfReader) -> dict[str, bytes]:
    """Each widget's normal appearance stream, by the widget's /T."""
    drawn: dict[str, bytes] = {}
    for ref in reader.pages[0].annotations or []:
        widget = ref.get_object()
        if "/AP" in widget:
            drawn[str(widget["/T"])] = widget["/AP"]["/N"].get_object().get_data()
    return drawn


def _need_appearances(reader: PdfReader) -> bool:
    form = reader.root_object["/AcroForm"].get_object()
    assert isinstance(form, DictionaryObject)
    flag = form.get("/NeedAppearances")
    return bool(getattr(flag, "value", False))


def _require_pdftoppm() -> str:
    found = shutil.which("pdftoppm")
    if found is None:
        if os.environ.get("SECONDSELF_REQUIRE_PDFTOPPM") == "1":
            pytest.fail(
                "SECONDSELF_REQUIRE_PDFTOPPM=1 but pdftoppm is not installed", pytrace=False
            )
        pytest.skip("pdftoppm (poppler-utils) is not installed")
    return found


Image = tuple[int, int, bytes]  # width, height, one grey byte per pixel, rows top down
RESOLUTION = 50  # dots per inch


def _render(pdftoppm: str, pdf: Path, prefix: Path) -> Image:
    """Page 1 as a greyscale PGM (P5), read without an imaging library."""
    command = [pdftoppm, "-r", str(RESOLUTION), "-gray", "-f", "1", "-l", "1", "-singlefile"]
    subprocess.run([*command, str(pdf), str(prefix)], check=True, timeout=60)
    data = prefix.with_suffix(".pgm").read_bytes()
    header = re.match(rb"P5\s+(\d+)\s+(\d+)\s+255\s", data)
    assert header is not None, "not an 8-bit PGM"
    return int(header[1]), int(header[2]), data[header.end() :]


def _ink(image: Image, rect: tuple[float, ...]) -> int:
    """Dark pixels inside a rectangle given in PDF points (origin bottom left)."""
    width, height, pixels = image
    scale = RESOLUTION / 72
    left, bottom, right, top = (round(v * scale) for v in rect)
    rows = range(max(height - top, 0), min(height - bottom, height))
    return sum(
        1 for y in rows for x in range(left, min(right, width)) if pixels[y * width + x] < 128
    )


# ---------------------------------------------------------------- what is refused


@contextmanager
def deadline(seconds: int) -> Iterator[None]:
    """Fail instead of hanging: opening a FIFO for reading waits for a writer."""

    def expire(signum: int, frame: FrameType | None) -> None:
        raise TimeoutError(f"still blocked after {seconds} s")

    previous = signal.signal(signal.SIGALRM, expire)
    signal.alarm(seconds)
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)


def _fifo(tmp: Path) -> Path:
    os.mkfifo(tmp / "pipe.html")
    return tmp / "pipe.html"


def _folder(tmp: Path) -> Path:
    (tmp / "form.html").mkdir()
    return tmp / "form.html"


def _no_form(tmp: Path) -> Path:
    (tmp / "letter.pdf").write_bytes(make_pdf([["Dear Marta, no fields here."]]))
    return tmp / "letter.pdf"


def _locked(tmp: Path) -> Path:
    (tmp / "locked.pdf").write_bytes(encrypt_pdf(build_pdf_form(), "s3cret"))
    return tmp / "locked.pdf"


def _fixture(name: str) -> Callable[[Path], Path]:
    return lambda tmp: BAD / name


BAD_FORMS: list[tuple[str, Callable[[Path], Path], str]] = [
    ("corrupt PDF", _fixture("corrupt.pdf"), "is not a readable PDF"),
    ("PDF without a form", _no_form, "has no fillable form"),
    ("PDF with a password", _locked, "password-protected"),
    ("invalid JSON", _fixture("invalid.json"), "is not valid JSON"),
    ("JSON item without name", _fixture("nameless.json"), 'field at index 1 has no "name"'),
    ("JSON not a list", _fixture("not_a_list.json"), "must hold a list of fields"),
    ("unknown kind of file", _fixture("form.txt"), "a .txt file is not a form"),
    ("FIFO", _fifo, "not a regular file"),
    ("directory", _folder, "is a folder"),
    ("missing file", lambda tmp: tmp / "nowhere.html", "no form at"),
]


@pytest.mark.parametrize(
    ("make", "message"), [c[1:] for c in BAD_FORMS], ids=[c[0] for c in BAD_FORMS]
)
def test_bad_forms_are_refused_quickly_and_clearly(
    tmp_path: Path, make: Callable[[Path], Path], message: str
) -> None:
    path = make(tmp_path)
    with deadline(10), pytest.raises(FormError, match=re.escape(message)):
        read_form(path)
    with deadline(10), pytest.raises(FormError, match=re.escape(message)):
        write_form(path, {"email": "marta@example.pt"}, tmp_path / "out.html")
    assert not (tmp_path / "out.html").exists()
    assert issubclass(FormError, SecondSelfError)  # the CLI shows it without a traceback


def test_write_refuses_the_form_itself_and_leaves_nothing_behind(tmp_path: Path) -> None:
    folder = tmp_path / "forms"  # its own folder, to list what is left in it
    folder.mkdir()
    source = folder / "form.html"
    shutil.copy(FORMS / "labels.html", source)
    before = source.read_bytes()
    for target in (source, folder / "sub" / ".." / "form.html"):
        (folder / "sub").mkdir(exist_ok=True)
        with pytest.raises(FormError, match="is the form itself"):
            write_form(source, {"given_name": "Marta"}, target)
    os.link(source, folder / "also.html")  # a hard link is the same file too
    with pytest.raises(FormError, match="is the form itself"):
        write_form(source, {"given_name": "Marta"}, folder / "also.html")
    assert source.read_bytes() == before
    with pytest.raises(FormError, match="cannot write in"):
        write_form(source, {"given_name": "Marta"}, folder / "missing" / "out.html")
    # An existing copy is replaced whole; no temporary file is left beside it.
    (folder / "out.html").write_text("old", encoding="utf-8")
    write_form(source, {"given_name": "Marta"}, folder / "out.html")
    assert 'value="Marta"' in (folder / "out.html").read_text(encoding="utf-8")
    assert sorted(p.name for p in folder.iterdir()) == [
        "also.html",
        "form.html",
        "out.html",
        "sub",
    ]
