"""An HTML form's fields as a person sees them (label, hidden or not), and filling them.

Which fields are hidden is decided from attributes, inline styles and simple `<style>`
rules, without a CSS engine: a field a person cannot see is the classic trap for
autofill (a honeypot), and the release rules refuse it. Errors are `forms.py`'s to
raise; this module only walks a parsed document.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass

from bs4 import BeautifulSoup, Tag
from bs4.element import NavigableString, PreformattedString

from assistant.autofill.fields import FormField

log = logging.getLogger(__name__)

_CONTROLS = ["input", "select", "textarea"]
_BUTTONS = frozenset({"submit", "button", "reset", "image"})
# Text inside these is not part of a label: a select's options, a textarea's content.
_NOT_LABEL_TEXT = frozenset({"select", "textarea", "datalist", "script", "style", "template"})


def html_fields(soup: BeautifulSoup) -> Iterator[tuple[FormField, Tag]]:
    """Each control worth filling, in document order, with its element.

    Buttons, and controls with neither name nor id, are not fields. Reading and
    filling both walk this, so the names read are the keys filled.
    """
    labels: dict[str, list[Tag]] = {}
    for label in soup.find_all("label"):
        if isinstance(label, Tag) and (target := _attr(label, "for")):
            labels.setdefault(target, []).append(label)
    ids: dict[str, Tag] = {}
    for element in soup.find_all(id=True):
        if isinstance(element, Tag):
            ids.setdefault(_attr(element, "id"), element)  # the first one, as browsers do
    hiding = _hiding_rules(soup)
    for tag in soup.find_all(_CONTROLS):
        if not isinstance(tag, Tag):
            continue
        kind = _control_type(tag)
        name = _attr(tag, "name").strip() or _attr(tag, "id").strip()
        if kind in _BUTTONS or not name:
            continue
        options = tag.find_all("option") if tag.name == "select" else []
        field = FormField(
            name,
            label=_label(tag, labels, ids),
            autocomplete=_attr(tag, "autocomplete"),
            type=kind,
            id=_attr(tag, "id"),
            placeholder=_collapse(_attr(tag, "placeholder")),
            options=tuple(_collapse(o.get_text()) for o in options),
            hidden=_hidden(tag, hiding),
        )
        yield field, tag


def fill_html(soup: BeautifulSoup, values: Mapping[str, str]) -> None:
    """Set `values` (by field name) in the document, in place."""
    for field, tag in list(html_fields(soup)):
        if field.name in values:
            _fill_control(tag, field.type, values[field.name])


def _attr(tag: Tag, name: str) -> str:
    value = tag.get(name)
    if value is None:
        return ""
    return value if isinstance(value, str) else " ".join(value)  # class and the like


def _collapse(text: str) -> str:
    return " ".join(text.split())


def _control_type(tag: Tag) -> str:
    if tag.name in ("select", "textarea"):
        return tag.name
    return _attr(tag, "type").strip().lower() or "text"


# ---------------------------------------------------------------- labels


def _label(tag: Tag, labels: dict[str, list[Tag]], ids: dict[str, Tag]) -> str:
    """What a person reads for the control, taken in the order browsers name it."""
    ident = _attr(tag, "id")
    if text := _collapse(" ".join(_label_text(label) for label in labels.get(ident, []))):
        return text
    wrapping = tag.find_parent("label")
    # A wrapping label whose `for` points elsewhere names that other control.
    owns = wrapping is not None and _attr(wrapping, "for") in ("", ident)
    if owns and wrapping is not None and (text := _collapse(_label_text(wrapping))):
        return text
    if text := _collapse(_attr(tag, "aria-label")):
        return text
    named = [ids[ref] for ref in _attr(tag, "aria-labelledby").split() if ref in ids]
    return _collapse(" ".join(_label_text(n) for n in named))


def _label_text(node: Tag) -> str:
    """The text in `node`, leaving out comments and what controls inside it hold."""
    parts: list[str] = []
    for piece in node.find_all(string=True):
        if isinstance(piece, PreformattedString) or not isinstance(piece, NavigableString):
            continue
        if not _inside(piece, node, _NOT_LABEL_TEXT):
            parts.append(str(piece))
    return " ".join(parts)


def _inside(piece: NavigableString, top: Tag, names: frozenset[str]) -> bool:
    for parent in piece.parents:
        if parent is top:
            return False
        if parent.name in names:
            return True
    return False


# ---------------------------------------------------------------- what is hidden

_ZERO = re.compile(r"[+-]?(?:0+(?:\.0*)?|\.0+)[a-z%]*")  # 0, 0px, 0.0em, .0, 0%
_FAR_OFF = re.compile(r"-\d{4,}(?:\.\d*)?(?:px)?")  # left:-9999px, the other honeypot trick
_IMPORTANT = re.compile(r"!\s*important")
_COMMENT = re.compile(r"/\*.*?\*/", re.DOTALL)
_SIMPLE_SELECTOR = re.compile(r"([a-zA-Z][\w-]*)?([.#])([\w-]+)")


def _declarations(css: str) -> dict[str, str]:
    """`prop: value; ...` as a dict, lower-cased; a later declaration wins, as in CSS."""
    found: dict[str, str] = {}
    for part in css.split(";"):
        prop, colon, value = part.partition(":")
        if colon:
            found[prop.strip().lower()] = _IMPORTANT.sub("", value).strip().lower()
    return found


def _hides(css: dict[str, str]) -> bool:
    return (
        css.get("display") == "none"
        or css.get("visibility") in ("hidden", "collapse")
        or any(_ZERO.fullmatch(css.get(prop, "")) for prop in ("width", "height", "opacity"))
        or any(_FAR_OFF.fullmatch(css.get(side, "")) for side in ("left", "top"))
    )


@dataclass(frozen=True)
class _HidingRules:
    """The simple selectors (`.class`, `#id`, `tag.class`, `tag#id`) whose `<style>`
    rule hides what they match."""

    selectors: frozenset[tuple[str, str, str]]  # (tag or "", "." or "#", class or id)

    def match(self, node: Tag) -> bool:
        tag = node.name.lower()
        keys = [(".", c) for c in _attr(node, "class").split()]
        if ident := _attr(node, "id"):
            keys.append(("#", ident))
        return any((t, k, n) in self.selectors for k, n in keys for t in ("", tag))


def _hiding_rules(soup: BeautifulSoup) -> _HidingRules:
    selectors: set[tuple[str, str, str]] = set()
    for style in soup.find_all("style"):
        for selector_list, body in _top_level_rules(_COMMENT.sub("", style.get_text())):
            if not _hides(_declarations(body)):
                continue
            for selector in selector_list.split(","):
                if m := _SIMPLE_SELECTOR.fullmatch(selector.strip()):
                    selectors.add(((m.group(1) or "").lower(), m.group(2), m.group(3)))
    return _HidingRules(frozenset(selectors))


def _top_level_rules(css: str) -> Iterator[tuple[str, str]]:
    """(selectors, declarations) of each rule outside at-rules: a rule inside
    `@media print` hides nothing on screen, so nested rules are left out."""
    depth, start, body = 0, 0, 0
    for i, char in enumerate(css):
        if char == "{":
            if depth == 0:
                body = i + 1
            depth += 1
        elif char == "}" and depth > 0:
            depth -= 1
            if depth == 0:
                selector = css[start : body - 1].strip()
                if not selector.startswith("@"):
                    yield selector, css[body:i]
                start = i + 1
        elif char == ";" and depth == 0:  # the end of an `@import ...;`
            start = i + 1


def _hidden(tag: Tag, rules: _HidingRules) -> bool:
    """Whether a person cannot see the control: type=hidden, aria-hidden on it, or the
    `hidden` attribute, a hiding inline style or `<style>` rule on it or an ancestor."""
    if _control_type(tag) == "hidden" or _attr(tag, "aria-hidden").strip().lower() == "true":
        return True
    node: Tag | None = tag
    while node is not None and not isinstance(node, BeautifulSoup):
        if node.has_attr("hidden") or _hides(_declarations(_attr(node, "style"))):
            return True
        if rules.match(node):
            return True
        node = node.parent
    return False


# ---------------------------------------------------------------- filling


def _fill_control(tag: Tag, kind: str, value: str) -> None:
    if kind == "textarea":
        tag.string = value
    elif kind == "select":
        _select(tag, value)
    elif kind in ("checkbox", "radio"):
        # Checked when the value is this box's own; the group's other radios unchecked.
        if _same(_attr(tag, "value") or "on", value):
            tag["checked"] = ""
        elif tag.has_attr("checked"):
            del tag["checked"]
    elif kind == "file":
        log.debug("a file input cannot be given a value: %s", _attr(tag, "name"))
    else:
        tag["value"] = value


def _select(select: Tag, value: str) -> None:
    """Select the option whose value, else whose text, is `value` (in any case); with
    no such option the select is left as it was."""
    options = [o for o in select.find_all("option") if isinstance(o, Tag)]
    by_value = (o for o in options if o.has_attr("value") and _same(_attr(o, "value"), value))
    by_text = (o for o in options if _same(_collapse(o.get_text()), value))
    chosen = next(by_value, None) or next(by_text, None)
    if chosen is None:
        log.debug("no option %r in select %s", value, _attr(select, "name"))
        return
    for option in options:
        if option.has_attr("selected"):
            del option["selected"]
    chosen["selected"] = ""


def _same(a: str, b: str) -> bool:
    return a.strip().casefold() == b.strip().casefold()
