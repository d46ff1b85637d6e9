"""What a front end asks for: plain values, light to import and to send over a socket."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date


@dataclass(frozen=True)
class RecallRequest:
    question: str
    k: int | None = None  # None: the [recall] k setting
    since: date | None = None
    until: date | None = None
    conversation: str | None = None
    reinforce: bool = True  # a recall strengthens what it returns, as remembering does


@dataclass(frozen=True)
class AskRequest:
    question: str
    k: int | None = None
    remember: bool = True  # store the answer as a thought (post-thinking)
    reinforce: bool = True
