"""What a front end asks for: plain values, light to import and to send over a socket."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path


@dataclass(frozen=True)
class RecallRequest:
    question: str
    k: int | None = None  # None: the [recall] k setting
    since: date | None = None
    until: date | None = None
    conversation: str | None = None
    reinforce: bool = True  # a recall strengthens what it returns, as remembering does
    now: datetime | None = None  # the moment asked from ("last week" of when); None: now


@dataclass(frozen=True)
class AskRequest:
    question: str
    k: int | None = None
    remember: bool = True  # store the answer as a thought (post-thinking)
    reinforce: bool = True
    now: datetime | None = None  # the moment asked from; None: now


@dataclass(frozen=True)
class TimelineRequest:
    topic: str | None = None  # what the story is about; recall finds its first memories
    person: str | None = None  # life with someone: their facts, what they rest on
    since: date | None = None  # only memories on or after this day
    until: date | None = None
    now: datetime | None = None  # the moment the topic is asked from ("last March")

    @property
    def empty(self) -> bool:
        return not (self.topic or self.person or self.since or self.until)


@dataclass(frozen=True)
class Target:
    """What the user asked to forget; several parts add up."""

    refs: tuple[str, ...] = ()
    source: int | None = None
    person: str | None = None
    matching: str | None = None
    before: date | None = None

    @property
    def empty(self) -> bool:
        given = (self.refs, self.source is not None, self.person, self.matching, self.before)
        return not any(given)

    def summary(self) -> str:
        """How the target was given, naming no forgotten value (kept in the history)."""
        parts = []
        if self.refs:
            parts.append(f"{len(self.refs)} id(s)")
        if self.source is not None:
            parts.append(f"source {self.source}")
        if self.person:
            parts.append("a person")
        if self.matching:
            parts.append("matching text")
        if self.before is not None:
            parts.append(f"before {self.before.isoformat()}")
        return ", ".join(parts)


@dataclass(frozen=True)
class AutofillRequest:
    form: Path
    requester: str
    output: Path | None = None
    confirmed: tuple[str, ...] = ()  # fields the person at the terminal allowed this once
    interactive: bool = False  # a person at a terminal is asked (and may confirm)
    plan_only: bool = False  # decide and show, but release, record and write nothing
    # The fields the person reviewing the fill let go (the app's review screen); None:
    # no review, the rules alone decide. Any other field is withheld, and audited so.
    approved: tuple[str, ...] | None = None
