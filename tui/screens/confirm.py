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
from assistant.service.requests import Target
from tui.calls import call

if TYPE_CHECKING:
    from textual.widget import Widget

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


async def forget_after_preview(node: Widget, ref: str) -> bool:
    """Show what forgetting `ref` reaches, and forget it if the user says so (refused if
    what matches changed meanwhile); whether it was forgotten. Call from a worker."""
    target = Target(refs=(ref,))
    preview = await call(node, lambda s: s.backend.forget_plan(target))
    if preview is None or not await node.app.push_screen_wait(ConfirmForget(preview)):
        return False
    return await call(node, lambda s: s.backend.forget(target, preview.fingerprint)) is not None
