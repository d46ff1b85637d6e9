"""What the commands print: text made safe for a terminal, and progress that waits its turn.

Everything shown comes, in the end, from files the user did not write: a file name, a
mail subject or a chat line may hold terminal escape sequences that recolour, retitle or
rewrite the screen. Every command prints through `echo`/`echo_json`/`styled`, which
remove them; nothing user-derived goes to `click.echo` or a console directly.

Progress displays redraw their line about ten times a second: one running while a
passphrase prompt waits wipes the prompt. `Bars` starts its display at the first update
only, which in every command comes after the vault is unlocked.
"""

from __future__ import annotations

import json
import re
from typing import TYPE_CHECKING, Any

import click

from assistant.display import clean

if TYPE_CHECKING:
    from rich.progress import Progress, TaskID
    from rich.text import Text

# JSON escapes C0 itself; C1 and the bidi marks it leaves raw (ensure_ascii=False).
_JSON_RAW = re.compile("[\x7f-\x9f\u200e\u200f\u202a-\u202e\u2066-\u2069]")


def echo(text: str = "", err: bool = False) -> None:
    """Print a line for people, cleaned."""
    click.echo(clean(text), err=err)


def echo_json(value: Any) -> None:
    """Print one JSON document on one line; every control character is \\u-escaped."""
    dumped = json.dumps(value, ensure_ascii=False)
    click.echo(_JSON_RAW.sub(lambda m: f"\\u{ord(m.group()):04x}", dumped))


def styled(text: str, style: str | None = None) -> Text:
    """A rich Text of cleaned `text`, to style further and print."""
    from rich.text import Text

    return Text(clean(text), style=style or "")


class Bars:
    """Rich progress bars whose display starts with the first update, not before.

    Used as a context manager: `with Bars() as bars: bars.update("Reading", 3, 10)`.
    Nothing is drawn, and stderr gets no stray line, when nothing reports progress.
    """

    def __init__(self, *columns: Any, disable: bool = False) -> None:
        from rich.progress import Progress

        from assistant.cli.common import err_console

        self._bar: Progress = Progress(
            *columns, console=err_console(), transient=True, disable=disable, auto_refresh=True
        )
        self._tasks: dict[str, TaskID] = {}
        self._started = False

    def update(
        self, stage: str, done: int, total: int | None, description: str | None = None
    ) -> None:
        """Show `done` of `total` (None: unknown) on the bar named `stage`."""
        if not self._started:
            self._bar.start()
            self._started = True
        if stage not in self._tasks:
            self._tasks[stage] = self._bar.add_task(stage, total=total or None)
        self._bar.update(
            self._tasks[stage],
            completed=done,
            total=total or None,
            description=clean(description or stage, one_line=True),
        )

    def stop(self) -> None:
        if self._started:
            self._bar.stop()
            self._started = False

    def __enter__(self) -> Bars:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.stop()
