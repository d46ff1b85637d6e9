"""The terminal app's numbers: launch to an interactive search box, keystroke to
results, and the app's memory, through the daemon.

Run by hand from the repository root (not a test; compare runs on one machine only):

    .venv/bin/python bench/terminal_app.py --chunks 10000
    .venv/bin/python bench/terminal_app.py --chunks 1000 --queries 20   # quicker

It makes a passphrase vault of N synthetic note paragraphs in a throwaway home (as
bench/daemon.py does), starts its daemon, then drives the real app headless with
Textual's pilot in this process:

- launch: from creating the app to the search box having the focus, connected;
- keystroke to results: a query typed key by key; the time from the search debounce
  firing after the last key to the results on screen (the goal is <= 150 ms), and
  the whole wait from the last key (the debounce included);
- app RSS: this process's resident memory with the app running (it imports no model,
  database or index code: the daemon holds those).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from daemon import Bench, log, pct, wait_until_idle  # noqa: E402
from ingest_recall import make_queries, write_notes  # noqa: E402


def rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


async def drive(queries: list[str]) -> dict[str, Any]:
    from textual.widgets import Input

    from assistant import config, paths
    from tui.app import SecondSelfApp
    from tui.screens.home import HomeScreen
    from tui.session import connect

    where = paths.resolve()
    settings = config.load(where.config_file)
    started = time.perf_counter()
    app = SecondSelfApp(lambda: connect(where, settings))
    out: dict[str, Any] = {}
    async with app.run_test(size=(120, 40)) as pilot:
        while not (isinstance(app.screen, HomeScreen) and isinstance(app.focused, Input)):
            await pilot.pause(0.01)
        out["launch_to_search_box_s"] = time.perf_counter() - started
        screen = app.screen
        after_debounce, whole = [], []
        for query in queries:
            await pilot.press("escape")  # clears the box
            before = screen.searches
            await pilot.press(*query)
            typed = time.perf_counter()
            while screen.searches == before:
                await pilot.pause(0.005)
            whole.append(time.perf_counter() - typed)
            after_debounce.append(screen.last_search_s)
        out["after_debounce_p50_ms"] = pct(after_debounce, 0.5) * 1000
        out["after_debounce_p95_ms"] = pct(after_debounce, 0.95) * 1000
        out["last_key_to_results_p50_ms"] = pct(whole, 0.5) * 1000
        out["app_rss_mb"] = rss_mb()
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--chunks", type=int, default=10000)
    parser.add_argument("--queries", type=int, default=40)
    args = parser.parse_args()
    base = Path(tempfile.mkdtemp(prefix=f"secondself-tui-{args.chunks}-"))
    bench = Bench(base)
    try:
        write_notes(bench.notes, args.chunks, seed=args.chunks)
        bench.me("init", "--mode", "passphrase")
        bench.me("sources", "add", str(bench.notes))
        bench.me("sync")
        log(f"[{args.chunks}] vault ready")
        bench.me("daemon", "start")
        os.environ.update(bench.env)  # the app finds the vault and its daemon from these
        wait_until_idle(bench.client())
        queries = [q.text for q in make_queries(args.queries, seed=11)]
        result = asyncio.run(drive(queries))
    finally:
        with contextlib.suppress(RuntimeError):  # it may never have started
            bench.me("daemon", "stop")
        shutil.rmtree(bench.runtime, ignore_errors=True)
        shutil.rmtree(base, ignore_errors=True)
    print(f"\n== {args.chunks} chunks, through the daemon ==")
    for key, value in result.items():
        print(f"  {key:<26} {value:.3f}")
    goal = result["after_debounce_p95_ms"] <= 150
    print(f"  target: results <= 150 ms after the debounce (p95): {'PASS' if goal else 'MISS'}")


if __name__ == "__main__":
    main()
