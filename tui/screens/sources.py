"""Sources and sync: what is kept in step, adding and removing a folder, syncing now
with a live progress bar (Esc stops it), and the files the last sync of each source could
not read, whoever ran it (this screen, `me sync`, or the daemon in the background)."""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.screen import Screen
from textual.suggester import Suggester
from textual.widgets import DataTable, Footer, Header, Input, ProgressBar, Static

from assistant.display import clean
from store.progress import Cancel
from tui.calls import call
from tui.session import Session
from tui.widgets.tables import PlainTable, chosen_key

if TYPE_CHECKING:
    from assistant.sources import Source


def failures_text(sources: list[Source]) -> Text:
    """Each source's unread files from its last sync, or a line saying there are none."""
    out = Text()
    for source in sources:
        for failure in source.failures:
            out.append(f"[{source.id}] ", style="dim")
            out.append(clean(failure.path, one_line=True), style="bold")
            out.append(f": {clean(failure.reason, one_line=True)}\n")
    if not out:
        synced = any(source.last_sync_at for source in sources)
        return Text("The last sync read every file." if synced else "", style="dim")
    return out


class PathSuggester(Suggester):
    """Completes the last part of a path from what is on disk (folders first)."""

    def __init__(self) -> None:
        super().__init__(use_cache=False, case_sensitive=True)

    async def get_suggestion(self, value: str) -> str | None:
        typed = Path(os.path.expanduser(value))
        folder, stem = (typed, "") if value.endswith(os.sep) else (typed.parent, typed.name)
        try:
            names = sorted(os.listdir(folder), key=lambda n: (not (folder / n).is_dir(), n))
        except OSError:
            return None
        for name in names:
            if name.startswith(stem) and not name.startswith("."):
                return value + name[len(stem) :]
        return None


class SourcesScreen(Screen[None]):
    BINDINGS = [
        Binding("a", "add", "Add"),
        Binding("delete,d", "remove", "Remove"),
        Binding("s", "sync", "Sync now"),
        Binding("escape", "stop", "Stop sync", show=False),
        Binding("r", "refresh", "Refresh"),
    ]

    def __init__(self) -> None:
        super().__init__()
        self._cancel: Cancel | None = None

    def compose(self) -> ComposeResult:
        yield Header()
        yield PlainTable(id="sources", cursor_type="row")
        yield Input(placeholder="Folder or file to add (Tab completes)", id="new-source",
                    suggester=PathSuggester())  # fmt: skip
        yield ProgressBar(id="sync-progress", show_eta=False)
        yield Static("", id="sync-stage")
        yield Static("", id="sync-errors")
        yield Footer()

    def on_mount(self) -> None:
        table = self.query_one(DataTable)
        table.add_columns("id", "source", "kind", "last sync", "files", "memories", "unread")
        self.query_one("#new-source").display = False
        self.query_one("#sync-progress").display = False
        self.action_refresh()

    @work(exclusive=True, group="load")
    async def action_refresh(self) -> None:
        found = await call(self, lambda s: s.backend.sources())
        if found is None:
            return
        table = self.query_one(DataTable)
        table.clear()
        for source in found:
            last = (source.last_sync_at or "never")[:16]
            table.add_row(
                str(source.id), clean(source.root, one_line=True), source.kind, last,
                str(source.documents), str(source.episodes), str(len(source.failures) or ""),
                key=str(source.id),
            )  # fmt: skip
        self.query_one("#sync-errors", Static).update(failures_text(found))

    # -- adding and removing -------------------------------------------------------------

    def action_add(self) -> None:
        field = self.query_one("#new-source", Input)
        field.display = True
        field.focus()

    @on(Input.Submitted, "#new-source")
    def add_now(self, event: Input.Submitted) -> None:
        if event.value.strip():
            self.add(Path(os.path.expanduser(event.value.strip())))

    @work(exclusive=True, group="change")
    async def add(self, path: Path) -> None:
        added = await call(self, lambda s: s.backend.add_source(path))
        if added is None:
            return
        field = self.query_one("#new-source", Input)
        field.value = ""
        field.display = False
        self.notify(f"Added source {added.id}: {clean(added.root)}. Sync it with s.")
        self.action_refresh()

    @work(exclusive=True, group="change")
    async def action_remove(self) -> None:
        row = chosen_key(self.query_one(DataTable))
        if row is None:
            return

        def remove(session: Session) -> bool:
            session.backend.remove_source(int(row))
            return True

        if await call(self, remove):
            self.notify(f"Source {row} is no longer synced; what it gave stays (`me forget`).")
        self.action_refresh()

    # -- syncing -------------------------------------------------------------------------

    @work(exclusive=True, group="sync")
    async def action_sync(self) -> None:
        bar = self.query_one("#sync-progress", ProgressBar)
        stage = self.query_one("#sync-stage", Static)
        bar.update(total=None, progress=0)
        bar.display = True
        self._cancel = cancel = Cancel()

        def heard(what: str, done: int, total: int | None) -> None:  # on the worker thread
            self.app.call_from_thread(self._show_progress, what, done, total)

        report = await call(self, lambda s: s.backend.sync(progress=heard, cancel=cancel))
        self._cancel = None
        bar.display = False
        stage.update("")
        if report is None:
            return
        added = sum(part.summary.added + part.summary.updated for part in report.sources)
        failed = sum(len(part.summary.failed) for part in report.sources)
        unread = f"; {failed} could not be read (listed below)" if failed else ""
        self.notify(
            f"Synced {len(report.sources)} source(s): {added} file(s) new or changed{unread}.",
            severity="warning" if failed else "information",
        )
        self.action_refresh()  # the unread files come from the stored record

    def _show_progress(self, stage: str, done: int, total: int | None) -> None:
        self.query_one("#sync-progress", ProgressBar).update(total=total, progress=done)
        self.query_one("#sync-stage", Static).update(Text(clean(stage, one_line=True)))

    def action_stop(self) -> None:
        if self._cancel is not None:
            self._cancel.cancel()
            self.query_one("#sync-stage", Static).update("Stopping at the next safe point…")
        elif self.query_one("#new-source").display:
            self.query_one("#new-source").display = False
        else:
            self.app.switch_mode("recall")
