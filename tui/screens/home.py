"""Recall and ask, the home screen: results as you type, and an answer on Enter.

Typing restarts a short timer; when it fires, one search runs in an exclusive worker,
so a newer search replaces a stale one and a slow answer never blocks a key. Live
results do not strengthen the memories they show (every keystroke would); asking does,
as `me ask` does.
"""

from __future__ import annotations

import time
from datetime import date

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal
from textual.screen import Screen
from textual.timer import Timer
from textual.widgets import Footer, Header, Input, OptionList, Static
from textual.widgets.option_list import Option

from assistant.display import clean
from assistant.hits import query_terms
from assistant.service.requests import AskRequest, RecallRequest
from tui.calls import call
from tui.screens.memory import MemoryScreen
from tui.widgets.results import ResultList

DEBOUNCE_S = 0.25
SHOWN = 20  # results listed; the [recall] k setting is for the command line


def day(text: str) -> date | None:
    """A filter's day, None when empty; ValueError when it is not YYYY-MM-DD."""
    return date.fromisoformat(text.strip()) if text.strip() else None


class HomeScreen(Screen[None]):
    BINDINGS = [
        Binding("ctrl+f", "toggle_filters", "Filters"),
        Binding("escape", "clear", "Clear", show=False),
    ]

    def __init__(self) -> None:
        super().__init__()
        self._timer: Timer | None = None
        self.searches = 0  # searches that returned, for tests and the benchmark
        self.last_search_s = 0.0  # from the debounce firing to the results shown

    def compose(self) -> ComposeResult:
        yield Header()
        yield Input(placeholder="Search your memory; Enter asks it", id="query")
        with Horizontal(id="filters"):
            yield Input(placeholder="since YYYY-MM-DD", id="since")
            yield Input(placeholder="until YYYY-MM-DD", id="until")
            yield Input(placeholder="conversation", id="conversation")
        yield Static("", id="answer")
        yield ResultList(id="results")
        yield Footer()

    def on_mount(self) -> None:
        self.query_one("#filters").display = False
        self.query_one("#answer").display = False
        self.query_one("#query", Input).focus()

    # -- searching as you type ---------------------------------------------------------

    @on(Input.Changed)
    def restart_timer(self) -> None:
        if self._timer is not None:
            self._timer.stop()
        self._timer = self.set_timer(DEBOUNCE_S, self.search_now)

    def search_now(self) -> None:
        text = self.query_one("#query", Input).value
        if not query_terms(text):
            self.workers.cancel_group(self, "search")
            self.query_one(ResultList).clear_options()
            return
        try:
            request = RecallRequest(
                text,
                k=SHOWN,
                since=day(self.query_one("#since", Input).value),
                until=day(self.query_one("#until", Input).value),
                conversation=self.query_one("#conversation", Input).value.strip() or None,
                reinforce=False,
            )
        except ValueError:
            self.notify("Dates are written like 2024-03-31.", title="Filter", severity="warning")
            return
        self.search(request, time.perf_counter())

    @work(exclusive=True, group="search")
    async def search(self, request: RecallRequest, fired: float) -> None:
        hits = await call(self, lambda s: s.backend.recall(request))
        if hits is None:
            return
        self.query_one(ResultList).show(hits, query_terms(request.question), request.question)
        self.last_search_s = time.perf_counter() - fired
        self.searches += 1

    # -- asking --------------------------------------------------------------------------

    @on(Input.Submitted, "#query")
    def ask_now(self, event: Input.Submitted) -> None:
        if query_terms(event.value):
            self.ask(event.value)

    @work(exclusive=True, group="ask")
    async def ask(self, question: str) -> None:
        answer = self.query_one("#answer", Static)
        answer.display = True
        answer.update(Text("Thinking…", style="italic"))
        result = await call(self, lambda s: s.backend.ask(AskRequest(question)))
        if result is None:
            answer.display = False
            return
        answer.update(Text(clean(result.answer.text)))
        cited = [e for e in result.evidence if e.ref in result.answer.citations]
        results = self.query_one(ResultList)
        results.clear_options()
        results.add_options(
            [
                Option(
                    Text.assemble(
                        (f"[{e.ref}] ", "bold"),
                        (clean(f"{e.date[:10]}  {e.source}", one_line=True), "dim"),
                        "\n",
                        clean(e.text, one_line=True)[:300],
                    ),
                    id=e.ref,
                )
                for e in cited
            ]
        )
        if cited:
            results.highlighted = 0

    # -- opening, filters ------------------------------------------------------------------

    @on(OptionList.OptionSelected, "#results")
    def open_memory(self, event: OptionList.OptionSelected) -> None:
        if event.option.id:
            self.app.push_screen(MemoryScreen(event.option.id))

    def action_toggle_filters(self) -> None:
        filters = self.query_one("#filters")
        filters.display = not filters.display
        if filters.display:
            self.query_one("#since", Input).focus()

    def action_clear(self) -> None:
        self.query_one("#query", Input).value = ""
        self.query_one("#answer").display = False
        self.query_one("#query", Input).focus()
