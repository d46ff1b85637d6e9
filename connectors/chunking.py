"""Cut text into embedding-sized chunks along paragraph and sentence lines.

MiniLM reads about 256 word pieces (~1,000 characters of prose) and silently ignores the
rest, so a chunk past that bound is partly invisible to recall. Paragraphs are the
natural unit of meaning in notes; tiny ones (a one-line list item, "Flights:") are merged
with their neighbours so they carry context, and long ones are cut where a sentence ends.
These functions are pure and never drop text: joining the chunks' words gives back the
input's words (a single "word" longer than the bound is the one thing that gets cut).

Sectioned documents (Markdown, DOCX, HTML) also name their chunks here: `heading_keys`
turns heading paths into the locator keys their items share, so a section keeps its
refs however the other sections change.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator

MAX_CHARS = 1000
# Merging stops well below the hard bound: a chunk should stay about one topic, and a
# small chunk that matches a question ranks above a large one that only contains it.
MERGE_CHARS = 500

_BLANK = re.compile(r"\n[ \t]*\n")
# A cut point right after sentence-ending punctuation (with closing quotes/brackets) and
# the whitespace that follows; CJK full stops need no following space.
_SENTENCE_END = re.compile(r"[.!?…]+[\"'”’»)\]]*\s+|[。！？]+[”’」』）]*\s*")
_WORD = re.compile(r"\S+\s*")
_SLUG_JUNK = re.compile(r"[\W_]+")
# Slugs hold only word characters and `-`, so these markers can never collide with one.
_TOP = "_top"
_REPEAT = "~"


def split_paragraphs(text: str) -> list[str]:
    """Blank-line separated paragraphs, with trailing spaces on each line removed."""
    paragraphs: list[str] = []
    for block in _BLANK.split(text):
        lines = [line.rstrip() for line in block.split("\n")]
        paragraph = "\n".join(lines).strip("\n")
        if paragraph.strip():
            paragraphs.append(paragraph)
    return paragraphs


def split_long(text: str, max_chars: int = MAX_CHARS) -> list[str]:
    """Cut one over-long paragraph at sentence ends, then at whitespace, then hard.

    Each piece is as long as fits under `max_chars`, cut at the latest boundary of the
    gentlest kind available, and pieces keep the original text between them.
    """
    if max_chars < 1:
        raise ValueError("max_chars must be at least 1")
    stripped = text.strip()
    if len(stripped) <= max_chars:
        return [stripped] if stripped else []
    units: list[str] = []
    for sentence in _pieces(text, _SENTENCE_END):
        if len(sentence.strip()) <= max_chars:
            units.append(sentence)
            continue
        for word in _pieces(sentence, _WORD):
            if len(word.strip()) <= max_chars:
                units.append(word)
            else:  # no whitespace to cut at (a URL, unspaced CJK): cut hard
                units.extend(word[i : i + max_chars] for i in range(0, len(word), max_chars))
    return _pack(units, max_chars)


def _pieces(text: str, boundary: re.Pattern[str]) -> list[str]:
    """`text` cut after every match of `boundary`; the pieces concatenate back to it."""
    cuts = [m.end() for m in boundary.finditer(text) if m.end() < len(text)]
    starts = [0, *cuts]
    ends = [*cuts, len(text)]
    return [text[a:b] for a, b in zip(starts, ends, strict=True) if b > a]


def _pack(units: list[str], max_chars: int) -> list[str]:
    """Greedily join consecutive units while the stripped result fits `max_chars`."""
    chunks: list[str] = []
    current = ""
    for unit in units:
        if len((current + unit).strip()) <= max_chars:
            current += unit
            continue
        if current.strip():
            chunks.append(current.strip())
        current = unit
    if current.strip():
        chunks.append(current.strip())
    return chunks


def chunk_paragraphs(
    paragraphs: Iterable[str],
    max_chars: int = MAX_CHARS,
    merge_chars: int = MERGE_CHARS,
) -> list[str]:
    """Merge short consecutive paragraphs up to `merge_chars` and split long ones.

    Callers pass one section's paragraphs at a time, so merging never crosses a heading.
    No chunk exceeds `max_chars` and none is empty.
    """
    merge_chars = min(merge_chars, max_chars)
    chunks: list[str] = []
    current = ""
    for paragraph in paragraphs:
        paragraph = paragraph.strip("\n").rstrip()
        if not paragraph.strip():
            continue
        if len(paragraph) > max_chars:
            if current:
                chunks.append(current)
                current = ""
            chunks.extend(split_long(paragraph, max_chars))
            continue
        joined = f"{current}\n\n{paragraph}" if current else paragraph
        if len(joined) <= merge_chars or not current:
            current = joined
        else:
            chunks.append(current)
            current = paragraph
    if current:
        chunks.append(current)
    return chunks


def chunk_text(text: str, max_chars: int = MAX_CHARS, merge_chars: int = MERGE_CHARS) -> list[str]:
    """Paragraph chunks of `text` under `max_chars`; see `chunk_paragraphs`."""
    return chunk_paragraphs(split_paragraphs(text), max_chars, merge_chars)


def heading_keys(paths: Iterable[tuple[str, ...]]) -> Iterator[str]:
    """A locator key unique in the document for each heading path, in order.

    The key is the path's slugs joined by `/` (`_top` before the first heading); a
    repeated path (two "## Notes" under one parent) gets `~2`, `~3`... by order of
    appearance. Callers pass every section, empty ones too, so adding text to a section
    does not shift the keys of the sections after it.
    """
    seen: dict[str, int] = {}
    for path in paths:
        key = "/".join(slug(name) for name in path) or _TOP
        seen[key] = seen.get(key, 0) + 1
        yield key if seen[key] == 1 else f"{key}{_REPEAT}{seen[key]}"


def slug(name: str) -> str:
    """A lower-case, `-`-joined form of a heading that keeps non-Latin letters."""
    return _SLUG_JUNK.sub("-", name.casefold()).strip("-") or "section"
