"""What an engine proposes: candidate facts and thoughts, before the derived-memory
modules decide whether each is new, a duplicate, a supersession or a merge."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class FactCandidate:
    """One attribute value of a person, as read from one episode."""

    person: str  # 'self' or the person's name
    attribute: str  # a name from attributes.ATTRIBUTES
    value: str  # display form ("3 May", "Porto", "data engineer")
    valid_from: str | None  # ISO date it became true, resolved against the episode
    evidence: int  # the episode id
    confidence: float  # 0..1
    statement: str = ""  # the sentence it came from


@dataclass(frozen=True)
class ThoughtCandidate:
    """A short statement concluded from one or more episodes."""

    text: str
    derived_from: tuple[int, ...]
    subject: str | None = None  # 'self', a name, or None
    time: str | None = None  # ISO date the statement is about, when known
    many: bool = False  # about a many-valued attribute: a second value adds, never replaces
