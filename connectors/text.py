"""Plain `.txt` notes and journals, read as paragraphs written by the user."""

from __future__ import annotations

import logging
from datetime import datetime
from pathlib import Path
from typing import ClassVar

from connectors.base import Connector, Item
from connectors.chunking import chunk_paragraphs, split_paragraphs
from connectors.dated_entries import dated_entries
from connectors.textfile import decode_text, file_time, local_midnight

log = logging.getLogger(__name__)


class TextConnector(Connector):
    """Reads `.txt` files: no structure to trust but blank lines, so chunks are paragraphs.

    Locators are `chunk:<n>` (the chunk's ordinal in the file): plain text has no headings
    to anchor a steadier reference to.
    """

    name: ClassVar[str] = "text"
    priority: ClassVar[int] = -10  # any .txt: the fallback after specific formats
    kind: ClassVar[str] = "note"
    extensions: ClassVar[tuple[str, ...]] = (".txt",)

    def parse(self, path: Path, data: bytes, mtime: datetime) -> list[Item]:
        """One item per paragraph chunk; an empty or blank file gives none. A journal
        whose paragraphs open with their dates is chunked per entry, each dated by it
        (`connectors.dated_entries`)."""
        text = decode_text(data)
        time, date_source = file_time(path.name, mtime)
        document = str(path.resolve())
        dated: list[tuple[str, datetime, str]] = []
        written = time.date() if date_source == "file_name" else None
        for entry in dated_entries(split_paragraphs(text), time.year, written):
            when, source = (time, date_source) if entry.day is None else (
                local_midnight(entry.day), "entry")  # fmt: skip
            dated += [(chunk, when, source) for chunk in chunk_paragraphs(entry.paragraphs)]
        log.debug("%s: %d chunks", path.name, len(dated))
        return [
            Item(
                text=chunk,
                time=when,
                kind=self.kind,
                document=document,
                locator=f"chunk:{ordinal}",
                author="self",
                title=None,
                meta={"chunk": ordinal, "date_source": source},
            )
            for ordinal, (chunk, when, source) in enumerate(dated)
        ]
