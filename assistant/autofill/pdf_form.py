"""A PDF's AcroForm fields, and a filled copy whose values show in every viewer.

Errors are `forms.py`'s to raise: what pypdf raises on a damaged file passes through
here unchanged and is turned into one clear message there.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass
from io import BytesIO
from typing import Any

from pypdf import PdfReader, PdfWriter
from pypdf.generic import ArrayObject, DictionaryObject, NameObject, TextStringObject

from assistant.autofill.fields import FormField

log = logging.getLogger(__name__)

# Annotation flags (/F) and field flags (/Ff), PDF 32000-1 tables 165, 226 and 228.
_F_HIDDEN, _F_NOVIEW = 1 << 1, 1 << 5
_FF_MULTILINE, _FF_PASSWORD = 1 << 12, 1 << 13
_FF_RADIO, _FF_PUSHBUTTON = 1 << 15, 1 << 16
_MAX_DEPTH = 64  # deeper than any real form's field tree; a /Parent loop stops here


@dataclass(frozen=True)
class PdfField:
    """A fillable field, with the export values of its options (what /V holds)."""

    field: FormField
    exports: tuple[str, ...] = ()


def pdf_fields(reader: PdfReader) -> list[PdfField] | None:
    """The fillable fields in order; None when the PDF has no AcroForm fields at all.

    Push buttons and signatures are fields, but not ones to fill: they are left out.
    """
    terminals = _terminals(reader.root_object)
    if not terminals:
        return None
    found = (_field(name, node) for name, node in terminals)
    return [item for item in found if item is not None]


def fill_pdf(reader: PdfReader, fields: list[PdfField], values: Mapping[str, str]) -> bytes:
    """The PDF with its text and choice fields set to `values` (by full name).

    pypdf draws an appearance stream for each value, so the value shows in every
    viewer, also in those that never redraw a field themselves, and in print. Only
    when the standard font cannot draw a value is NeedAppearances set instead, asking
    viewers to redraw.
    """
    shown: dict[str, str] = {}  # what the appearance shows: an option's text, not its code
    exports: dict[str, str] = {}  # what /V holds instead, where the two differ
    for item in fields:
        name = item.field.name
        settled = _settled(item, values[name]) if name in values else None
        if settled is not None:
            text, export = settled
            shown[name] = text
            if export != text:
                exports[name] = export
    writer = PdfWriter(clone_from=reader)
    if shown:
        drawable = all(_drawable(text) for text in shown.values())
        writer.update_page_form_field_values(None, shown, auto_regenerate=not drawable)
    for name, node in _terminals(writer.root_object):
        if name in exports:
            node[NameObject("/V")] = TextStringObject(exports[name])
    out = BytesIO()
    writer.write(out)
    return out.getvalue()


def _terminals(root: DictionaryObject) -> list[tuple[str, DictionaryObject]]:
    """Every terminal field with its fully qualified name ("address.city"), in order.

    Kids without /T are a field's widgets, not fields. A field tree that loops back on
    itself is cut where it does.
    """
    form = _resolve(root.get("/AcroForm"))
    if not isinstance(form, DictionaryObject):
        return []
    found: list[tuple[str, DictionaryObject]] = []
    seen: set[int] = set()
    stack: list[tuple[str, Any]] = [("", ref) for ref in reversed(_array(form.get("/Fields")))]
    while stack:
        prefix, ref = stack.pop()
        node = _resolve(ref)
        if not isinstance(node, DictionaryObject) or id(node) in seen:
            continue
        seen.add(id(node))
        partial = node.get("/T")
        name = ".".join(part for part in (prefix, str(partial or "")) if part)
        kids = [_resolve(kid) for kid in _array(node.get("/Kids"))]
        children = [kid for kid in kids if isinstance(kid, DictionaryObject) and "/T" in kid]
        if children:
            stack.extend((name, kid) for kid in reversed(children))
        elif name:
            found.append((name, node))
    return found


def _field(name: str, node: DictionaryObject) -> PdfField | None:
    flags = int(_inherited(node, "/Ff") or 0)
    kind = _kind(str(_inherited(node, "/FT") or ""), flags)
    if kind is None:
        return None
    exports, shown = _options(node) if kind == "select" else ((), ())
    field = FormField(
        name,
        label=" ".join(str(node.get("/TU", "")).split()),
        type=kind,
        options=shown,
        hidden=all(_widget_hidden(w) for w in _widgets(node)),  # no widget: nothing shown
    )
    return PdfField(field, exports)


def _kind(ftype: str, flags: int) -> str | None:
    if ftype == "/Tx":
        if flags & _FF_PASSWORD:
            return "password"
        return "textarea" if flags & _FF_MULTILINE else "text"
    if ftype == "/Btn" and not flags & _FF_PUSHBUTTON:
        return "radio" if flags & _FF_RADIO else "checkbox"
    if ftype == "/Ch":
        return "select"
    return None


def _inherited(node: DictionaryObject, key: str) -> Any:
    """/FT and /Ff may sit on an ancestor field (PDF 32000-1, 12.7.3.1)."""
    current: Any = node
    for _ in range(_MAX_DEPTH):
        if not isinstance(current, DictionaryObject):
            return None
        if key in current:
            return _resolve(current[key])
        current = _resolve(current.get("/Parent"))
    return None


def _options(node: DictionaryObject) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """(export values, texts shown) of a choice field's /Opt."""
    exports: list[str] = []
    shown: list[str] = []
    for entry in _array(node.get("/Opt")):
        entry = _resolve(entry)
        if isinstance(entry, list) and len(entry) >= 2:  # [export value, text shown]
            exports.append(str(_resolve(entry[0])))
            shown.append(" ".join(str(_resolve(entry[1])).split()))
        else:
            exports.append(str(entry))
            shown.append(" ".join(str(entry).split()))
    return tuple(exports), tuple(shown)


def _widgets(node: DictionaryObject) -> list[DictionaryObject]:
    if node.get("/Subtype") == "/Widget":
        return [node]  # the field and its one widget merged in one dictionary
    kids = [_resolve(kid) for kid in _array(node.get("/Kids"))]
    return [k for k in kids if isinstance(k, DictionaryObject) and k.get("/Subtype") == "/Widget"]


def _widget_hidden(widget: DictionaryObject) -> bool:
    if int(_resolve(widget.get("/F")) or 0) & (_F_HIDDEN | _F_NOVIEW):
        return True
    try:
        left, bottom, right, top = (float(_resolve(v)) for v in _array(widget.get("/Rect")))
    except (TypeError, ValueError):
        return True  # a widget without a usable rectangle has no place on the page
    return left == right or bottom == top


def _settled(item: PdfField, value: str) -> tuple[str, str] | None:
    """(text shown, value for /V) for `value`: text as given, or the choice it names by
    its text or its export value; None for what the field cannot take."""
    field = item.field
    if field.type in ("text", "textarea", "password"):
        return value, value
    if field.type == "select":
        wanted = value.strip().casefold()
        for export, shown in zip(item.exports, field.options, strict=True):
            if wanted in (export.strip().casefold(), shown.casefold()):
                return shown, export
    log.debug("%s (%s) left as it was: %r is not a value it takes", field.name, field.type, value)
    return None


def _drawable(value: str) -> bool:
    """Whether pypdf's standard-font appearance can draw `value` (it falls back to
    Windows-1252 encodings for Helvetica)."""
    try:
        value.encode("cp1252")
    except UnicodeEncodeError:
        return False
    return True


def _resolve(obj: Any) -> Any:
    return obj.get_object() if obj is not None else None


def _array(obj: Any) -> list[Any]:
    resolved = _resolve(obj)
    return list(resolved) if isinstance(resolved, ArrayObject) else []
