"""A move told in two messages: the plan first, the arrival later.

"Vamos viver para a Figueira da Foz" (we are going to live in Figueira da Foz) is a plan,
not a fact: plans fall through. Weeks later the same person writes "Já estamos na
Figueira 🏡" (we're in Figueira now). Alone, that could be a visit; after the plan, it is
the move done. So an arrival in a chat message is looked up against the same sender's
earlier messages in the same conversation, and when one of them planned a move to that
place, the speaker's city is that place from the arrival's day, in the plan's fuller
words ("Figueira da Foz"). Reflection runs this on each batch (`run.py`), for any engine:
it needs the store, which an engine does not see.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from datetime import timedelta

import sqlcipher3

from assistant.derived.proposals import FactCandidate
from assistant.reflection.engine import EpisodeView
from assistant.reflection.patterns import PROPER
from assistant.reflection.values import proper_value

PLAN_DAYS = 365  # how long before the arrival a plan still counts

_ARRIVED = re.compile(
    rf"\b(?:(?:já|finalmente|agora)\s+)?(?:estamos|estou|chegámos|chegamos|cheguei)\s+"
    rf"(?:na|no|em|à|ao|a)\s+(?P<v>{PROPER})"
    rf"|\b(?:we(?:'re|\s+are)|I(?:'m|\s+am))\s+(?:(?:now|finally|officially|all)\s+)*"
    rf"(?:in|settled\s+in|moved\s+in\s+in)\s+(?P<v2>{PROPER})"
    rf"|\b(?:we|I)\s+(?:(?:have|'ve)\s+)?(?:finally\s+)?(?:arrived|made\s+it)\s+(?:in|to)\s+"
    rf"(?P<v3>{PROPER})",
    re.IGNORECASE,
)
_PLANNED = re.compile(
    rf"\b(?:vamos|vou)\s+(?:viver|morar|mudar(?:-nos|-me)?)\s+(?:para|pra)\s+(?:a\s+|o\s+)?"
    rf"(?P<v>{PROPER})"
    rf"|\b(?:we(?:'re|\s+are)|I(?:'m|\s+am))\s+(?:moving|relocating)\s+to\s+(?P<v2>{PROPER})"
    rf"|\b(?:we|I)(?:\s+will|'ll|(?:\s+are|'re|\s+am|'m)\s+going\s+to)\s+"
    rf"(?:move|live)\s+(?:to|in)\s+(?P<v3>{PROPER})",
    re.IGNORECASE,
)

# "We're in Porto for the weekend": a stay, whatever was planned.
_VISIT = re.compile(
    r"\s*(?:for\s+(?:the|a|an|two|three|few)\b|on\s+holiday|visiting|till|until|para\s+o\s+fim)",
    re.IGNORECASE,
)


def fulfilled_moves(
    conn: sqlcipher3.Connection, views: Sequence[EpisodeView]
) -> Iterator[FactCandidate]:
    """The city facts of arrivals in `views` that an earlier planned move explains."""
    for view in views:
        if view.kind != "message" or not view.conversation or not view.speaker:
            continue
        for m in _ARRIVED.finditer(view.text):
            arrived = proper_value(_value(m), lowercase_words=0)
            if arrived is None or _VISIT.match(view.text, m.end()):
                continue
            planned = _planned(conn, view, arrived)
            if planned is not None:
                yield FactCandidate(
                    person=view.speaker, attribute="city", value=planned,
                    valid_from=view.time.date().isoformat(), evidence=view.id,
                    confidence=0.8, statement=view.text,
                )  # fmt: skip
                break


def _planned(conn: sqlcipher3.Connection, view: EpisodeView, arrived: str) -> str | None:
    """The place of the sender's latest earlier plan to move that `arrived` names."""
    since = view.time - timedelta(days=PLAN_DAYS)
    pattern = "%" + arrived.replace("%", "").replace("_", "") + "%"
    rows = conn.execute(
        "SELECT text FROM episodes WHERE conversation = ? AND sender IS ? AND id != ? "
        "AND time_unix >= ? AND time_unix <= ? AND quarantine IS NULL AND text LIKE ? "
        "ORDER BY time_unix DESC LIMIT 20",
        (view.conversation, view.sender, view.id, since.timestamp(), view.time.timestamp(),
         pattern),
    ).fetchall()  # fmt: skip
    wanted = arrived.casefold()
    for (text,) in rows:
        for m in _PLANNED.finditer(text):
            place = proper_value(_value(m), lowercase_words=0)
            if place is not None and place.casefold().startswith(wanted):
                return place
    return None


def _value(m: re.Match[str]) -> str:
    return next(g for g in (m.group("v"), m.group("v2"), m.group("v3")) if g)
