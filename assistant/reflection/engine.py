"""The interface of a reflection engine and the plain values it exchanges.

An engine never touches the database: the reflection pass gives it episodes and
evidence and stores what it returns. That keeps both engines testable on their own
and lets the pass fall back from one to the other per batch.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol

from assistant.derived.proposals import FactCandidate, ThoughtCandidate


@dataclass(frozen=True)
class EpisodeView:
    """What an engine sees of one episode."""

    id: int
    time: datetime  # timezone-aware: relative dates resolve against it
    author: str  # 'self', 'other' or 'unknown'
    sender: str | None  # the raw sender name, when the source had one
    text: str
    title: str | None = None
    conversation: str | None = None
    kind: str = "note"
    meta: dict[str, Any] = field(default_factory=dict, compare=False, hash=False)

    @property
    def speaker(self) -> str:
        """Whom "I" refers to in this episode: 'self', the sender's name, or ''."""
        if self.author == "self":
            return "self"
        # A PDF or a web page has no known speaker, and an AI assistant's reply (which
        # may translate or repeat the user's words) is nobody's: its "I" gives nothing.
        if self.meta.get("ai_assistant"):
            return ""
        return self.sender or ""


@dataclass
class Reflection:
    """What an engine concluded from a batch of episodes."""

    facts: list[FactCandidate] = field(default_factory=list)
    thoughts: list[ThoughtCandidate] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)  # fallbacks and their reasons


@dataclass(frozen=True)
class Evidence:
    """A memory offered to an engine to answer from. `ref` is how it is cited:
    'e12' an episode, 't3' a thought, 'f5' a persona fact."""

    ref: str
    date: str  # ISO date (or date-time)
    source: str  # where it came from: a file name, a conversation, "persona"
    text: str
    # What the text is part of (an event's title, a note's heading): words each of its
    # sentences may lean on ("When: 17:05" answers "when does the flight to X leave?").
    context: str = ""


# "[e12]" citations and the "(2024-03-14, notes.md)" an answer may put before them.
CITATION = re.compile(r"(?:\s*\([^()\n]*\))?\s*\[(?:[etf]\d+(?:,\s*)?)+\]")


@dataclass
class Answer:
    text: str
    citations: list[str]  # refs of the evidence the answer rests on
    engine: str
    notes: list[str] = field(default_factory=list)
    # What `ask` may keep as a thought: one clean statement, without labels or
    # citations (the builtin engine's best sentence); None: nothing worth keeping.
    statement: str | None = None


@dataclass(frozen=True)
class ModelCall:
    """One request sent to a language model, as the audit log keeps it: where, which
    model, how much text, and which secrets were replaced by placeholders in it."""

    host: str
    model: str
    characters: int  # of text sent
    redactions: dict[str, int]  # placeholder kind -> how many, in what was sent


class Engine(Protocol):
    name: str  # 'builtin' or 'ollama:<model>'; recorded with every change it causes
    # True for a model that writes its answers: it gets the persona's facts as its first
    # evidence. Without one, `ask` answers an attribute question from the persona itself.
    writes_answers: bool

    def reflect(self, episodes: Sequence[EpisodeView]) -> Reflection: ...

    def answer(
        self, question: str, evidence: Sequence[Evidence], now: datetime | None = None
    ) -> Answer: ...

    def take_calls(self) -> list[ModelCall]:
        """The model calls made since the last take (for the audit log), then none."""
        ...
