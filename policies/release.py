"""What autofill may release: a value's category, the requester's grant, and whether a
person at a terminal confirmed this one use.

The rules, in order (the first that applies decides):
1. a field the form hides (type=hidden, CSS, no size) is never filled: a trap for
   autofill, or nothing a person sees;
2. nothing known: nothing to release;
3. no grant at all: a preview only;
4. a category the grant does not name is refused;
5. text from quarantined content never fills a field;
6. a value resting on text labelled secret, and the sensitive categories (financial,
   government ids, health, credentials), need a per-use confirmation at an interactive
   terminal, even when granted;
7. otherwise it is released.
"""

from __future__ import annotations

from dataclasses import dataclass

CATEGORIES = (
    "identity",
    "contact",
    "address",
    "work",
    "financial",
    "government_id",
    "health",
    "credentials",
)
# Never released on a grant alone: each use is confirmed by the person at the terminal.
SENSITIVE = frozenset({"financial", "government_id", "health", "credentials"})


@dataclass(frozen=True)
class Decision:
    released: bool
    reason: str  # the rule that decided, in words
    needs_confirmation: bool = False  # a person at a terminal could allow this one use


def decide(
    category: str | None,
    granted: frozenset[str],
    *,
    has_value: bool,
    hidden: bool = False,
    quarantined: bool = False,
    secret: bool = False,
    interactive: bool = False,
    confirmed: bool = False,
) -> Decision:
    """Whether one field's value may be released, and why (see the module's rules)."""
    if hidden:
        return Decision(False, "hidden field: never filled")
    if category is None:
        return Decision(False, "not a field autofill knows")
    if not has_value:
        return Decision(False, "nothing known for it")
    if not granted:
        return Decision(False, "no grant for this requester: preview only")
    if category not in granted:
        return Decision(False, f"the grant does not allow {category}")
    if quarantined:
        return Decision(False, "rests on quarantined text")
    if category in SENSITIVE or secret:
        why = f"{category} is sensitive" if category in SENSITIVE else "rests on a secret"
        if confirmed and interactive:
            return Decision(True, f"{why}; confirmed for this use")
        return Decision(False, f"{why}: needs your confirmation at a terminal",
                        needs_confirmation=interactive)  # fmt: skip
    return Decision(True, f"granted: {category}")
