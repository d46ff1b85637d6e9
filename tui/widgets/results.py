"""A list of recalled memories: when, where from, who, and the words that matched."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from rich.console import Group
from rich.text import Text
from textual.widgets import OptionList
from textual.widgets.option_list import Option

from assistant.display import clean
from assistant.hits import Hit, snippet, source_label

THREAD_LABELS = {"email": "mail", "message": "chat", "event": "calendar"}


def when(iso: str) -> str:
    try:
        return datetime.fromisoformat(iso).strftime("%Y-%m-%d %H:%M")
    except ValueError:
        return clean(iso, one_line=True)[:16]


def where(hit: Hit) -> str:
    """The conversation for chat, mail and calendar; else the file › heading."""
    if hit.conversation:
        return f"{hit.conversation} ({THREAD_LABELS.get(hit.kind, hit.kind)})"
    return source_label(hit.document, hit.title)


def hit_text(hit: Hit, terms: Sequence[str], width: int = 160, question: str = "") -> Group:
    """The date and source (and a quarantine mark) on one line, cut to fit; then the
    snippet with the query's words highlighted."""
    head = Text(when(hit.time), style="bold", no_wrap=True, overflow="ellipsis")
    head.append("  " + clean(where(hit), one_line=True), style="dim")
    if hit.quarantine:
        head.append(f"  quarantined: {clean(hit.quarantine, one_line=True)}", style="bold red")
    window, marks = snippet(clean(hit.text, one_line=True), list(terms), width, question)
    lead = f"{clean(hit.sender, one_line=True)}: " if hit.sender else ""
    body = Text(lead + window)
    if lead:
        body.stylize("italic", 0, len(lead) - 2)
    for start, end in marks:
        body.stylize("bold reverse", start + len(lead), end + len(lead))
    return Group(head, body)


class ResultList(OptionList):
    """Recall results; each option's id is the memory's ref (`e12`), and choosing one
    (Enter) posts `OptionList.OptionSelected` for the screen to open it."""

    def show(self, hits: Sequence[Hit], terms: Sequence[str], question: str = "") -> None:
        self.clear_options()
        self.add_options(
            [Option(hit_text(hit, terms, question=question), id=f"e{hit.id}") for hit in hits]
        )
        if hits:
            self.highlighted = 0
