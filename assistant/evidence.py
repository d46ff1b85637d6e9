"""A recalled memory as an engine reads it: its ref, date, source label and context."""

from __future__ import annotations

from pathlib import Path

from assistant.hits import Hit
from assistant.reflection.engine import Evidence


def evidence_of(hit: Hit) -> Evidence:
    return Evidence(f"e{hit.id}", hit.time, source_label(hit), hit.text, context=context_of(hit))


def source_label(hit: Hit) -> str:
    """ "Ana" for a chat, "Flights.md › Outbound" for a note's section, "offer.pdf"."""
    name = hit.conversation or Path(hit.document).name
    return f"{name} › {hit.title}" if hit.title and not hit.conversation else name


def context_of(hit: Hit) -> str:
    """What a memory is part of, for its sentences to lean on: a note's name and heading
    ("Ana's flights > Outbound"), an event's title; nothing for a chat or a mail."""
    if hit.conversation:
        return ""
    parts = [Path(hit.document).stem] if hit.kind == "note" else []
    if hit.title and hit.title not in parts:
        parts.append(hit.title)
    return " > ".join(parts)
