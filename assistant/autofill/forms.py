"""Forms on disk: the fields of an HTML, PDF (AcroForm) or JSON form, and a filled copy
written atomically to another file, the original never touched.

This module owns the files and the errors; `html_form` and `pdf_form` walk a parsed
document. `read_form` and `write_form` walk a form the same way, so the names one
returns are the keys the other fills.
"""

from __future__ import annotations

import contextlib
import json
import os
import stat
import tempfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from bs4 import BeautifulSoup
from pypdf import PdfReader

from assistant.autofill.fields import FormField
from assistant.autofill.html_form import fill_html, html_fields
from assistant.autofill.pdf_form import PdfField, fill_pdf, pdf_fields
from assistant.errors import SecondSelfError
from connectors.base import ParseError
from connectors.pdf import open_pdf, pypdf_reports
from connectors.webpage import decode_html

MAX_FORM_BYTES = 20 * 1024 * 1024  # forms are small; a bigger file is something else
SUFFIXES = (".html", ".htm", ".pdf", ".json")


class FormError(SecondSelfError):
    """A form file that cannot be read or filled: not a file, not a form, damaged."""


def read_form(path: Path) -> list[FormField]:
    """The fields of the form at `path`, in document order."""
    kind = _kind(path)
    data = _read_bytes(path)
    if kind == "html":
        return [field for field, _ in html_fields(_parse_html(path, data))]
    if kind == "pdf":
        with pypdf_reports(path.name):  # its repairs of a damaged file, logged at debug
            return [item.field for item in _pdf_fields(path, _open_pdf(path, data))]
    return [_json_field(path, index, item) for index, item in enumerate(_json_items(path, data))]


def write_form(source: Path, values: Mapping[str, str], output: Path) -> None:
    """Write a copy of `source` to `output` with `values` (by field name) filled in.

    `source` is never modified; `output` appears whole or not at all. Names the form
    does not have, and values a field cannot take, are left out.
    """
    if _same_file(source, output):
        raise FormError(f"{output} is the form itself: write the filled copy to another file")
    if output.is_dir():
        raise FormError(f"{output} is a folder: give a file name for the filled copy")
    kind = _kind(source)
    data = _read_bytes(source)
    if kind == "html":
        soup = _parse_html(source, data)
        fill_html(soup, values)
        content = soup.encode("utf-8")  # bs4 rewrites a <meta charset> to match
    elif kind == "pdf":
        content = _filled_pdf(source, data, values)
    else:
        content = _filled_json(source, data, values)
    _replace(output, content)


# ---------------------------------------------------------------- files


def _kind(path: Path) -> str:
    suffix = path.suffix.lower()
    if suffix not in SUFFIXES:
        raise FormError(
            f"{path}: a {suffix or 'suffix-less'} file is not a form this can read; "
            "give an .html, .htm, .pdf or .json file"
        )
    return "html" if suffix in (".html", ".htm") else suffix[1:]


def _read_bytes(path: Path) -> bytes:
    """The file's bytes. Anything but a regular file is refused before it is opened:
    opening a FIFO would wait for a writer that may never come."""
    try:
        mode = path.stat().st_mode
    except FileNotFoundError:
        raise FormError(f"no form at {path}: check the path") from None
    except OSError as exc:
        raise FormError(f"cannot look at {path}: {exc.strerror}") from exc
    _require_regular(path, mode)
    try:
        # O_NONBLOCK: should the path have become a FIFO since the check, open returns.
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
    except OSError as exc:
        raise FormError(f"cannot open {path}: {exc.strerror}; check its permissions") from exc
    with os.fdopen(fd, "rb") as handle:
        info = os.fstat(handle.fileno())
        _require_regular(path, info.st_mode)
        if info.st_size > MAX_FORM_BYTES:
            raise FormError(
                f"{path} is {info.st_size // 2**20} MB, too big to be a form "
                f"(at most {MAX_FORM_BYTES // 2**20} MB): is it the right file?"
            )
        return handle.read(MAX_FORM_BYTES + 1)


def _require_regular(path: Path, mode: int) -> None:
    if stat.S_ISDIR(mode):
        raise FormError(f"{path} is a folder, not a form: give the form's .html, .pdf or .json")
    if not stat.S_ISREG(mode):
        raise FormError(f"{path} is not a regular file (a pipe or a device?): save the form first")


def _same_file(source: Path, output: Path) -> bool:
    if source.resolve() == output.resolve():
        return True
    try:
        return os.path.samefile(source, output)  # a hard link: another name, same file
    except OSError:
        return False


def _replace(output: Path, content: bytes) -> None:
    """Write `content` to a temporary file beside `output`, then rename it into place.

    mkstemp makes the file readable by its owner only, which suits a form filled with
    personal data.
    """
    try:
        fd, temp = tempfile.mkstemp(dir=output.parent, prefix=f".{output.name}.", suffix=".tmp")
    except OSError as exc:
        raise FormError(
            f"cannot write in {output.parent}: {exc.strerror}; check that the folder "
            "exists and is writable"
        ) from exc
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(content)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temp, output)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(temp)
        raise


# ---------------------------------------------------------------- HTML and PDF


def _parse_html(path: Path, data: bytes) -> BeautifulSoup:
    try:
        text = decode_html(data)
    except ParseError as exc:
        raise FormError(f"{path} is not readable HTML: {exc}") from exc
    return BeautifulSoup(text, "html.parser")


def _open_pdf(path: Path, data: bytes) -> PdfReader:
    try:
        return open_pdf(data)
    except ParseError as exc:  # password-protected
        raise FormError(f"{path}: {exc}; save an unprotected copy and fill that") from exc
    except Exception as exc:  # pypdf raises many kinds of error on a damaged file
        raise FormError(f"{path} is not a readable PDF ({exc}): is the file complete?") from exc


def _pdf_fields(path: Path, reader: PdfReader) -> list[PdfField]:
    try:
        fields = pdf_fields(reader)
    except Exception as exc:  # a damaged field tree, in any of pypdf's ways
        raise FormError(f"{path}: its form fields cannot be read ({exc})") from exc
    if fields is None:
        raise FormError(
            f"{path} has no fillable form (no AcroForm fields): fill it by hand, or look "
            "for the fillable version of the document"
        )
    return fields


def _filled_pdf(path: Path, data: bytes, values: Mapping[str, str]) -> bytes:
    with pypdf_reports(path.name):
        reader = _open_pdf(path, data)
        fields = _pdf_fields(path, reader)
        try:
            return fill_pdf(reader, fields, values)
        except Exception as exc:  # pypdf on a form it cannot write
            raise FormError(f"{path}: the filled copy cannot be made ({exc})") from exc


# ---------------------------------------------------------------- JSON

_JSON_TEXTS = ("label", "autocomplete", "type", "id", "placeholder")


def _json_items(path: Path, data: bytes) -> list[Any]:
    try:
        items = json.loads(data.decode("utf-8-sig"))
    except UnicodeDecodeError as exc:
        raise FormError(f"{path} is not UTF-8 text: save it as UTF-8 JSON") from exc
    except (ValueError, RecursionError) as exc:
        raise FormError(f"{path} is not valid JSON ({exc}): fix it or export it again") from exc
    if not isinstance(items, list):
        raise FormError(f'{path} must hold a list of fields, like [{{"name": "email"}}]')
    return items


def _json_field(path: Path, index: int, item: Any) -> FormField:
    where = f"{path}: the field at index {index}"
    if not isinstance(item, dict):
        raise FormError(f'{where} is not an object: write it as {{"name": ..., "label": ...}}')
    name = item.get("name")
    if not isinstance(name, str) or not name.strip():
        raise FormError(f'{where} has no "name": every field needs one')
    texts: dict[str, str] = {}
    for key in _JSON_TEXTS:
        texts[key] = item.get(key, "")
        if not isinstance(texts[key], str):
            raise FormError(f'{where} ({name}): "{key}" must be a string')
    options = item.get("options", [])
    if not isinstance(options, list) or not all(isinstance(o, str) for o in options):
        raise FormError(f'{where} ({name}): "options" must be a list of strings')
    hidden = item.get("hidden", False)
    if not isinstance(hidden, bool):
        raise FormError(f'{where} ({name}): "hidden" must be true or false')
    return FormField(
        name,
        label=texts["label"],
        autocomplete=texts["autocomplete"],
        type=texts["type"].strip().lower() or "text",
        id=texts["id"],
        placeholder=texts["placeholder"],
        options=tuple(options),
        hidden=hidden,
    )


def _filled_json(path: Path, data: bytes, values: Mapping[str, str]) -> bytes:
    items = _json_items(path, data)
    for index, item in enumerate(items):
        field = _json_field(path, index, item)  # a bad list is refused, not half-filled
        if field.name in values:
            item["value"] = values[field.name]
    return (json.dumps(items, indent=2, ensure_ascii=False) + "\n").encode("utf-8")
