"""What the main screens look like, at 80×24 and 120×40, compared with the accepted
pictures in `__snapshots__/` (pytest-textual-snapshot). After a deliberate change of
the look, look at the new pictures and accept them with `pytest --snapshot-update`."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import pytest
from textual.pilot import Pilot

from tests.tui_canned import CannedSession
from tui.app import SecondSelfApp

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
    await pilot.pause(0.05)


@pytest.mark.parametrize("size", SIZES, ids=["80x24", "120x40"])
def test_home_with_results(snap_compare: Compare, size: tuple[int, int]) -> None:
    async def search(pilot: Pilot[Any]) -> None:
        await settle(pilot)
        await pilot.press(*"Lisbon")
        await settle(pilot)

    assert snap_compare(app(), terminal_size=size, run_before=search)


@pytest.mark.parametrize("size", SIZES, ids=["80x24", "120x40"])
def test_persona(snap_compare: Compare, size: tuple[int, int]) -> None:
    async def persona(pilot: Pilot[Any]) -> None:
        await settle(pilot)
        await pilot.press("f3")
        await settle(pilot)

    assert snap_compare(app(), terminal_size=size, run_before=persona)


def test_thoughts(snap_compare: Compare) -> None:
    async def thoughts(pilot: Pilot[Any]) -> None:
        await settle(pilot)
        await pilot.press("f4")
        await settle(pilot)

    assert snap_compare(app(), run_before=thoughts)


def test_review(snap_compare: Compare) -> None:
    async def review(pilot: Pilot[Any]) -> None:
        await settle(pilot)
        await pilot.press("f5")
        await settle(pilot)

    assert snap_compare(app(), run_before=review)


def test_memory_detail(snap_compare: Compare) -> None:
    async def open_first(pilot: Pilot[Any]) -> None:
        await settle(pilot)
        await pilot.press(*"Lisbon")
        await settle(pilot)
        await pilot.press("tab", "enter")
        await settle(pilot)

    assert snap_compare(app(), run_before=open_first)


def test_sources_and_activity(snap_compare: Compare) -> None:
    async def sources(pilot: Pilot[Any]) -> None:
        await settle(pilot)
        await pilot.press("f6")
        await settle(pilot)

    async def activity(pilot: Pilot[Any]) -> None:
        await settle(pilot)
        await pilot.press("f7")
        await settle(pilot)

    assert snap_compare(app(), run_before=sources)
    assert snap_compare(app(), run_before=activity)


def test_unlock(snap_compare: Compare) -> None:
    assert snap_compare(app(locked=True), run_before=settle)
