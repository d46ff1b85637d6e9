"""Sensitivity and trust labels, and how derived memories inherit them.

A thought or persona fact is only as safe to release as the most sensitive memory it
rests on, and only as trustworthy as the least trusted one (DESIGN.md section 3): it
takes the highest sensitivity and the lowest trust of its evidence.
"""

from __future__ import annotations

from collections.abc import Iterable

# Lowest first. "unlabelled" rows predate the secret detector: treat them as normal.
SENSITIVITY = ("unlabelled", "normal", "secret")
# Highest first: what the user typed, then the user's own files, then anything else.
TRUST = ("user", "user_file", "external")


def highest_sensitivity(labels: Iterable[str], default: str = "normal") -> str:
    rank = [SENSITIVITY.index(x) for x in labels if x in SENSITIVITY]
    return SENSITIVITY[max(rank)] if rank else default


def lowest_trust(labels: Iterable[str], default: str = "user_file") -> str:
    # An unknown label is treated as the least trusted one, never as trusted.
    rank = [TRUST.index(x) if x in TRUST else len(TRUST) - 1 for x in labels]
    return TRUST[max(rank)] if rank else default
