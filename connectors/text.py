"""Plain `.txt` notes and journals, read as paragraphs written by the user."""

from __future__ import annotations

import logging
from datetime import datetime
from pathlib import Path
from typing import ClassVar

from connectors.base import Connector, Item
from connectors.chunking import chunk_text
from connectors.textfile import decode_text, file_time

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
        """One item per paragraph chunk; an empty or blank file gives none."""
        text = decode_text(data)
        time, date_source = file_time(path.name, mtime)
        document = str(path.resolve())
        chunks = chunk_text(text)
        log.debug("%s: %d chunks", path.name, len(chunks))
        return [
            Item(
                text=chunk,
                time=time,
                kind=self.kind,
                document=document,
                locator=f"chunk:{ordinal}",
                author="self",
                title=None,
                meta={"chunk": ordinal, "date_source": date_source},
            )
            for ordinal, chunk in enumerate(chunks)
        ]
