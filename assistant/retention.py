"""The forgetting curve (MemoryBank's, with its sign corrected) as a ranking signal.

    R = exp(-dt_days / (k * S))

`S` (strength) starts at 1 and grows by 1 each time the memory is recalled; `dt` is
the time since the last recall, or since the memory entered the store if it was never
recalled (not since the event it records: how recent an event is, is the time filter's
business); `k` is days per unit of strength. Stronger memories fade slower. (The
published MemoryBank code computes exp(-t/5*S), which makes them fade faster.)

Decay never deletes anything: in ranking, R only scales a match's score between a
floor and 1, so an old memory that matches well still surfaces. Pinned memories do
not fade.
"""

from __future__ import annotations

import math

SECONDS_PER_DAY = 86_400.0


def retention(dt_days: float, strength: float, k_days: float) -> float:
    """R in (0, 1]: 1 right after a recall, falling with time, slower when stronger."""
    if dt_days <= 0:
        return 1.0
    return math.exp(-dt_days / (k_days * max(strength, 1e-9)))


def rank_factor(r: float, floor: float) -> float:
    """The bounded multiplier recall applies: `floor` for a faded memory, 1 for a fresh one."""
    return floor + (1.0 - floor) * r


def retention_at(
    now: float,
    moment: float,
    last_access: float | None,
    strength: float,
    k_days: float,
    pinned: bool = False,
) -> float:
    """R for a stored memory at Unix time `now` (`moment`: when it was stored)."""
    if pinned:
        return 1.0
    since = last_access if last_access is not None else moment
    return retention((now - since) / SECONDS_PER_DAY, strength, k_days)
