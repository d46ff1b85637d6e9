"""Saved web pages (.html): the article text, without menus, banners and scripts.

A saved page is mostly chrome: navigation, cookie banners, footers, share buttons.
Indexing that would make every page from one site look alike, so the reader keeps the
main content (`<main>`, else a single `<article>`, else `<body>`) minus elements that
say they are chrome by tag, ARIA role, class or id. Headings form sections exactly as
in the Markdown connector, so locators are heading-path slugs.

Hidden elements (`display:none`, `visibility:hidden`, `font-size:0`, the `hidden`
attribute, `aria-hidden`) are dropped too. A page hiding text is common (menus,
tooltips); a page hiding instructions for a model is an attack that would be invisible
in the stored text, so when the hidden text reads as instructions every item of the
page says so in `meta["hidden_text"]` (the reason) and ingest quarantines it.
"""

from __future__ import annotations

import codecs
import logging
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any, ClassVar

from bs4 import BeautifulSoup, Comment, Declaration, Doctype, ProcessingInstruction, Tag
from bs4.element import NavigableString, PreformattedString

from connectors.base import Connector, Item, ParseError
from connectors.chunking import chunk_paragraphs, heading_keys
from connectors.textfile import aware, decode_text, file_time, local_midnight
from policies.injection import instruction_reason

log = logging.getLogger(__name__)

_DROP_TAGS = (
    "script", "style", "noscript", "template", "svg", "math", "nav", "header", "footer",
    "aside", "form", "button", "iframe", "object", "embed", "canvas", "select", "dialog",
)  # fmt: skip
_CHROME_ROLES = frozenset(
    {"navigation", "menu", "menubar", "banner", "contentinfo", "complementary", "search"}
)
# A class or id that names chrome: the word alone or as a prefix/suffix part
# ("site-footer", "cookie-banner", "nav-links"), not merely inside ("has-sidebar").
_CHROME_WORDS = (
    "nav|navbar|navigation|menu|menubar|cookie|cookies|cookie-consent|consent|banner|"
    "sidebar|footer|breadcrumb|breadcrumbs|skip-link|share|social|gdpr|onetrust"
)
_CHROME_NAME = re.compile(
    rf"^(?:(?:site|page|main|global|top|primary|secondary|mobile|header|cookie|gdpr)[-_])?"
    rf"(?:{_CHROME_WORDS})(?:[-_][a-z0-9]+)*$",
    re.IGNORECASE,
)
# Elements that never count as chrome, whatever their class: losing them loses the page.
_PROTECTED = frozenset({"html", "body", "main", "article"})
_HEADINGS = frozenset({"h1", "h2", "h3", "h4", "h5", "h6"})
_BLOCKS = frozenset(
    {
        "address", "blockquote", "center", "dd", "details", "div", "dl", "dt", "fieldset",
        "figcaption", "figure", "hr", "li", "main", "ol", "p", "pre", "section", "summary",
        "table", "tbody", "td", "tfoot", "th", "thead", "tr", "ul", "article", "body",
        "caption", "hgroup", "html",
    }
)  # fmt: skip
_CHARSET = re.compile(rb"""<meta[^>]+charset\s*=\s*["']?\s*([A-Za-z0-9_:.+-]+)""", re.IGNORECASE)
_BOMS = ((b"\xef\xbb\xbf", "utf-8"), (b"\xff\xfe", "utf-16-le"), (b"\xfe\xff", "utf-16-be"))
# What browsers do (WHATWG Encoding): these labels all mean windows-1252.
# (codecs' canonical names for latin-1, its aliases and ASCII)
_AS_CP1252 = frozenset({"iso8859-1", "latin-1", "ascii", "cp1252"})
_DATE_METAS = (
    "article:published_time", "date", "dc.date", "dcterms.created", "datepublished",
    "pubdate", "publish_date", "article:modified_time",
)  # fmt: skip
_WS = re.compile(r"\s+")
# Inline styles that hide an element (whitespace removed, lower-cased). Not opacity:0:
# saved pages keep scroll-in animations at their first frame, over visible content.
_HIDING_STYLE = re.compile(r"(?:^|;)(?:display:none|visibility:hidden)(?:!important)?(?:;|$)")
_ZERO_FONT = re.compile(r"(?:^|;)font-size:0(?:\.0+)?(?:px|pt|em|rem|%)?(?:!important)?(?:;|$)")


@dataclass
class _Section:
    path: tuple[str, ...]
    paragraphs: list[str] = field(default_factory=list)


class HtmlConnector(Connector):
    """Reads `.html`/`.htm` pages saved from a browser or exported by a blog or wiki."""

    name: ClassVar[str] = "html"
    kind: ClassVar[str] = "document"
    history: ClassVar[str] = "replace"
    extensions: ClassVar[tuple[str, ...]] = (".html", ".htm")

    def detect(self, path: Path, head: bytes) -> bool:
        """A head that opens with markup and names `<html`/`<!doctype html`, or the name.

        Requiring markup at the start keeps mail with an HTML part, or notes quoting
        HTML, with their own connectors.
        """
        if path.suffix.lower() in self.extensions:
            return True
        text = _head_text(head).lstrip().lower()
        if not text.startswith("<"):
            return False
        return "<html" in text or "<!doctype html" in text

    def parse(self, path: Path, data: bytes, mtime: datetime) -> list[Item]:
        """One item per chunk of each heading section of the page's main content."""
        text = decode_html(data)
        soup = BeautifulSoup(text, "html.parser")
        page_title = _page_title(soup)
        sender = _meta_content(soup, "author")
        url = _canonical_url(soup)
        root = _content_root(soup)
        time, date_source = _page_time(soup, root, path, mtime)
        hidden = _drop_chrome(root)
        hidden_reason = instruction_reason(hidden) if hidden else None
        document = str(path.resolve())
        items: list[Item] = []
        sections = _sections(root)
        for key, section in zip(heading_keys(s.path for s in sections), sections, strict=True):
            path_titles = list(section.path)
            if page_title and path_titles[:1] == [page_title]:
                path_titles = path_titles[1:]  # the page title repeated as its <h1>
            title = " > ".join(t for t in [page_title, *path_titles] if t) or None
            for ordinal, chunk in enumerate(chunk_paragraphs(section.paragraphs)):
                meta: dict[str, Any] = {
                    "page_title": page_title,
                    "heading_path": list(section.path),
                    "chunk": len(items),
                    "date_source": date_source,
                }
                if url:
                    meta["url"] = url
                if hidden_reason:
                    meta["hidden_text"] = hidden_reason
                items.append(
                    Item(
                        text=chunk,
                        time=time,
                        kind=self.kind,
                        document=document,
                        locator=f"{key}:{ordinal}",
                        author="unknown",
                        title=title,
                        sender=sender,
                        meta=meta,
                    )
                )
        log.debug("%s: %d chunks", path.name, len(items))
        return items


def _head_text(head: bytes) -> str:
    for bom, encoding in _BOMS:
        if head.startswith(bom):
            return head[len(bom) :].decode(encoding, errors="ignore")
    return head.decode("latin-1")


def decode_html(data: bytes) -> str:
    """The page's text: BOM first, then `<meta charset>`, then UTF-8 or legacy cp1252.

    A declared charset that does not decode falls back to the general text rules, so a
    page saved as UTF-8 with a stale latin-1 declaration still reads correctly.
    """
    if any(data.startswith(bom) for bom, _ in _BOMS):
        return decode_text(data)
    declared = _declared_charset(data[:4096])
    if declared is None or declared in ("utf-8", "cp1252"):
        return decode_text(data)  # UTF-8 first even when cp1252 is declared: often stale
    try:
        text = data.decode(declared)
    except UnicodeDecodeError as exc:
        log.debug("page does not decode as its declared %s; trying UTF-8", declared)
        try:
            return decode_text(data)
        except ParseError as fallback:
            raise ParseError(
                f"page declares charset {declared} but is not valid {declared} "
                f"(bad byte at offset {exc.start}); {fallback}"
            ) from exc
    if "\x00" in text:
        raise ParseError("binary file, not text: it contains NUL characters")
    return text.replace("\r\n", "\n").replace("\r", "\n")


def _declared_charset(head: bytes) -> str | None:
    match = _CHARSET.search(head)
    if match is None:
        return None
    label = match.group(1).decode("ascii", "ignore").lower()
    try:
        name = codecs.lookup(label).name
    except LookupError:
        log.debug("unknown charset %r declared; ignoring it", label)
        return None
    if name in _AS_CP1252:
        return "cp1252"
    # UTF-16 without a BOM is not how pages are saved; a declaration saying so is wrong.
    return None if name.startswith("utf-16") or name.startswith("utf-32") else name


def _page_title(soup: BeautifulSoup) -> str | None:
    tag = soup.find("title")
    text = " ".join(tag.get_text(" ").split()) if isinstance(tag, Tag) else ""
    return text[:300] or None


def _meta_content(soup: BeautifulSoup, *names: str) -> str | None:
    """The first non-empty `<meta name|property|itemprop=...>` content among `names`."""
    wanted = {n.lower() for n in names}
    for meta in soup.find_all("meta"):
        if not isinstance(meta, Tag):
            continue
        key = meta.get("name") or meta.get("property") or meta.get("itemprop")
        if isinstance(key, str) and key.strip().lower() in wanted:
            content = meta.get("content")
            if isinstance(content, str) and content.strip():
                return " ".join(content.split())[:300]
    return None


def _canonical_url(soup: BeautifulSoup) -> str | None:
    for link in soup.find_all("link"):
        rel = link.get("rel") if isinstance(link, Tag) else None
        rels = rel if isinstance(rel, list) else [rel]
        href = link.get("href") if isinstance(link, Tag) else None
        if "canonical" in rels and isinstance(href, str) and href.strip():
            return href.strip()
    return _meta_content(soup, "og:url")


def _page_time(soup: BeautifulSoup, root: Tag, path: Path, mtime: datetime) -> tuple[datetime, str]:
    """A date the page states (meta, then a `<time datetime>` in the content), else the file's.

    Only the content's `<time>` counts: a sidebar's "recent posts" dates are not the page's.
    """
    for name in _DATE_METAS:
        value = _meta_content(soup, name)
        moment = _as_datetime(value) if value else None
        if moment is not None:
            return moment, "html_meta"
    for tag in root.find_all("time"):
        stamp = tag.get("datetime") if isinstance(tag, Tag) else None
        moment = _as_datetime(stamp) if isinstance(stamp, str) else None
        if moment is not None:
            return moment, "html_time"
    return file_time(path.name, mtime)


def _as_datetime(value: str) -> datetime | None:
    value = value.strip()
    try:
        if len(value) == 10:
            return local_midnight(date.fromisoformat(value))
        return aware(datetime.fromisoformat(value))
    except ValueError:
        return None


def _content_root(soup: BeautifulSoup) -> Tag:
    """`<main>` (or role=main), else the only `<article>`, else `<body>`, else the page."""
    main = soup.find("main") or soup.find(True, attrs={"role": "main"})
    if isinstance(main, Tag):
        return main
    articles = soup.find_all("article")
    if len(articles) == 1 and isinstance(articles[0], Tag):
        return articles[0]
    body = soup.find("body")
    return body if isinstance(body, Tag) else soup


def _drop_chrome(root: Tag) -> str:
    """Remove scripts, menus, banners and hidden elements under `root` (not `root`);
    return the text the hidden elements held."""
    doomed = [tag for tag in root.find_all(True) if _is_chrome(tag)]
    hidden = "\n".join(tag.get_text(" ") for tag in doomed if hidden_from_sight(tag))
    for tag in doomed:
        if not tag.decomposed:
            tag.decompose()
    return hidden.strip()


def hidden_from_sight(tag: Tag) -> bool:
    """Whether the element's text is not shown (or not read out) to the person.

    Inline styles and attributes only: a stylesheet class that hides is not resolved.
    """
    attrs = tag.attrs or {}
    if "hidden" in attrs or str(attrs.get("aria-hidden", "")).strip().lower() == "true":
        return True
    style = _style(tag)
    if not style:
        return False
    if _HIDING_STYLE.search(style):
        return True
    # font-size:0 on a row of inline blocks only removes the gaps between them (the
    # blocks set their own size): it hides text the element holds itself. Text it
    # leaves in place stays in the item, where ingest checks it anyway.
    return _ZERO_FONT.search(style) is not None and any(
        isinstance(child, NavigableString)
        and not isinstance(child, PreformattedString)  # comments
        and child.strip()
        for child in tag.children
    )


def _style(tag: Tag) -> str:
    return _WS.sub("", str((tag.attrs or {}).get("style", ""))).lower()


def _is_chrome(tag: Tag) -> bool:
    name = tag.name.lower()
    if name in _PROTECTED:
        return False
    if name == "header" and tag.find_parent("article") is not None:
        return False  # an article's own header holds its title and byline, not chrome
    if name in _DROP_TAGS:
        return True
    if hidden_from_sight(tag):
        return True
    attrs = tag.attrs or {}
    if str(attrs.get("role", "")).strip().lower() in _CHROME_ROLES:
        return True
    classes: object = attrs.get("class") or []
    names: list[str] = [str(c) for c in classes] if isinstance(classes, list) else []
    names += str(classes).split() if isinstance(classes, str) else []
    names.append(str(attrs.get("id", "")))
    return any(_CHROME_NAME.match(n.strip()) for n in names if n and n.strip())


class _Collector:
    """Turns the element stream into sections of paragraphs."""

    def __init__(self) -> None:
        self.sections = [_Section(())]
        self.stack: list[tuple[int, str]] = []
        self.buffer: list[str] = []

    def text(self, value: str, preformatted: bool) -> None:
        self.buffer.append(value if preformatted else _WS.sub(" ", value))

    def line_break(self) -> None:
        self.buffer.append("\n")

    def flush(self) -> None:
        joined = "".join(self.buffer)
        self.buffer = []
        lines = (line.strip() for line in joined.split("\n"))
        text = "\n".join(line for line in lines if line)
        if text:
            self.sections[-1].paragraphs.append(text)

    def heading(self, level: int, name: str) -> None:
        self.flush()
        while self.stack and self.stack[-1][0] >= level:
            self.stack.pop()
        self.stack.append((level, name))
        self.sections.append(_Section(tuple(n for _, n in self.stack)))

    def block(self, text: str) -> None:
        self.flush()
        if text:
            self.sections[-1].paragraphs.append(text)


def _sections(root: Tag) -> list[_Section]:
    """Walk `root` without recursion (pages nest thousands deep) into sections."""
    out = _Collector()
    stack: list[tuple[Iterator[Any], Tag | None, bool]] = [(iter(root.children), None, False)]
    while stack:
        children, element, pre = stack[-1]
        child = next(children, None)
        if child is None:
            stack.pop()
            if element is not None and element.name in _BLOCKS:
                out.flush()
            continue
        if isinstance(child, Comment | Declaration | Doctype | ProcessingInstruction):
            continue
        if isinstance(child, NavigableString):
            out.text(str(child), pre)
            continue
        if not isinstance(child, Tag):
            continue
        name = child.name.lower()
        if name in _HEADINGS:
            heading = " ".join(child.get_text(" ").split())
            if heading:
                out.heading(int(name[1]), heading)
            continue
        if name == "br":
            out.line_break()
            continue
        if name == "table" and _is_data_table(child):
            out.block(_table_text(child))
            continue
        if name in _BLOCKS:
            out.flush()
        stack.append((iter(child.children), child, pre or name in ("pre", "textarea")))
    out.flush()
    return out.sections


def _is_data_table(table: Tag) -> bool:
    """A table of data (flattened to rows), not a page laid out with a table."""
    return table.find(["p", "div", "table", "ul", "ol", *_HEADINGS]) is None


def _table_text(table: Tag) -> str:
    rows = []
    for row in table.find_all("tr"):
        cells = [" ".join(c.get_text(" ").split()) for c in row.find_all(["td", "th"])]
        if any(cells):
            rows.append(" | ".join(cells))
    return "\n".join(rows)
