"""Memory references as users type and read them: e12 an episode (a bare 12 too),
t3 a thought, f7 a persona fact, l5 a link."""

from __future__ import annotations

import re

from assistant.errors import MemoryRefError

KINDS = {"e": "episode", "t": "thought", "f": "fact", "l": "link"}
PREFIX = {kind: letter for letter, kind in KINDS.items()}
REF = re.compile(r"^\s*([etfl]?)(\d+)\s*$", re.IGNORECASE)


def parse(text: str) -> tuple[str, int]:
    """'t3' -> ('thought', 3); a bare number is an episode."""
    m = REF.match(text)
    if m is None:
        raise MemoryRefError(
            f"{text!r} is not a memory id: use e12 (episode), t3 (thought), f7 (persona fact) "
            "or l5 (link)"
        )
    return KINDS[(m.group(1) or "e").lower()], int(m.group(2))


def ref(kind: str, row_id: int) -> str:
    """'t3'; a row that is not a memory (a release) is named in words: 'release 2'."""
    return f"{PREFIX[kind]}{row_id}" if kind in PREFIX else f"{kind} {row_id}"
