"""What the main screens look like, at 80×24 and 120×40, compared with the accepted
pictures in `__snapshots__/` (pytest-textual-snapshot). After a deliberate change of
the look, look at the new pictures and accept them with `pytest --snapshot-update`."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import pytest
from textual.pilot import Pilot
from textual.widgets import Input

from tests.tui_canned import CannedSession
from tui.app import SecondSelfApp
from tui.screens.home import HomeScreen

SIZES = [(80, 24), (120, 40)]
Compare = Callable[..., bool]


def app(locked: bool = False) -> SecondSelfApp:
    session = CannedSession(locked)
    return SecondSelfApp(lambda: session)  # type: ignore[arg-type,return-value]


async def settle(pilot: Pilot[Any]) -> None:
    """Until the app is still: the search debounce has fired and every call is done
    (the start-up worker waits on the unlock screen as long as it is shown)."""
    await pilot.pause(0.4)  # longer than the debounce
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and any(
        w.is_running and w.group != "connect" for w in pilot.app.workers
    ):
        await pilot.pause(0.05)
    await pilot.wait_for_scheduled_animations()
    for field in pilot.app.screen.query(Input):  # a blinking cursor is a matter of timing
        field.cursor_blink = False
    await pilot.pause(0.05)


async def search_for(pilot: Pilot[Any], words: str) -> None:
    """Type `words` and wait until their results are shown: on a loaded machine the
    debounce may fire after `settle`'s first pause, when no worker runs yet."""
    home = pilot.app.screen
    assert isinstance(home, HomeScreen)
    before = home.searches
    await pilot.press(*words)
    deadline = time.monotonic() + 10
    while home.searches == before and time.monotonic() < deadline:
        await pilot.pause(0.05)
    await settle(pilot)


SIZE_IDS = ["80x24", "120x40"]
# Each screen reached from home by its function key.
KEYS = {"persona": "f3", "thoughts": "f4", "review": "f5", "sources": "f6", "activity": "f7"}


@pytest.mark.parametrize("size", SIZES, ids=SIZE_IDS)
def test_home_with_results(snap_compare: Compare, size: tuple[int, int]) -> None:
    async def search(pilot: Pilot[Any]) -> None:
        await settle(pilot)
        await search_for(pilot, "Lisbon")

    assert snap_compare(app(), terminal_size=size, run_before=search)


@pytest.mark.parametrize("size", SIZES, ids=SIZE_IDS)
@pytest.mark.parametrize("screen", list(KEYS))
def test_screen(snap_compare: Compare, screen: str, size: tuple[int, int]) -> None:
    async def go(pilot: Pilot[Any]) -> None:
        await settle(pilot)
        await pilot.press(KEYS[screen])
        await settle(pilot)

    assert snap_compare(app(), terminal_size=size, run_before=go)


@pytest.mark.parametrize("size", SIZES, ids=SIZE_IDS)
def test_memory_detail(snap_compare: Compare, size: tuple[int, int]) -> None:
    async def open_first(pilot: Pilot[Any]) -> None:
        await settle(pilot)
        await search_for(pilot, "Lisbon")
        await pilot.press("tab", "enter")
        await settle(pilot)

    assert snap_compare(app(), terminal_size=size, run_before=open_first)


@pytest.mark.parametrize("size", SIZES, ids=SIZE_IDS)
def test_unlock(snap_compare: Compare, size: tuple[int, int]) -> None:
    assert snap_compare(app(locked=True), terminal_size=size, run_before=settle)
