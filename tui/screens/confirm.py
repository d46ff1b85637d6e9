"""Asking before what cannot be undone: a forget, shown in full first."""

from __future__ import annotations

from typing import TYPE_CHECKING

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Static

from assistant.display import clean

if TYPE_CHECKING:
    from assistant.forget import ForgetPreview


def preview_text(preview: ForgetPreview) -> Text:
    counts = ", ".join(f"{n} {what}" for what, n in preview.counts.items() if n)
    out = Text.assemble(("Forget ", "bold"), clean(preview.target), ("?\n", "bold"))
    out.append(f"This reaches {counts or 'nothing'}, and every copy of it; it cannot be undone.\n")
    for row in preview.sample:
        out.append(f"\n{row.ref} {row.date[:10]}  ", style="bold")
        out.append(clean(row.text, one_line=True)[:120])
    return out


class ConfirmForget(ModalScreen[bool]):
    """Dismissed with True only when the user chooses to forget."""

    BINDINGS = [Binding("escape", "dismiss(False)", "Keep it")]

    def __init__(self, preview: ForgetPreview) -> None:
        super().__init__()
        self.preview = preview

    def compose(self) -> ComposeResult:
        with Vertical(id="confirm-box"):
            yield Static(preview_text(self.preview))
            with Horizontal(id="confirm-buttons"):
                yield Button("Keep it", id="keep", variant="primary")
                yield Button("Forget", id="forget", variant="error")

    def on_mount(self) -> None:
        self.query_one("#keep", Button).focus()  # the safe choice is the default

    def on_button_pressed(self, event: Button.Pressed) -> None:
        self.dismiss(event.button.id == "forget")
