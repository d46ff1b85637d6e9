"""Words reflection adds to an episode's keyword index (the FTS `keys` column).

A memory is found by its own words. Reflection knows more about it than its words say:
the days its dates mean ("tomorrow" in a message of 14 March is 15 March 2024, kept as
one token, `day_key`), whom it is about under their resolved name ("Mãe" is Helena
Sousa), and which attribute of theirs it states ("birthday", "phone"). Indexing those
with the episode lets a question in other words find it (LongMemEval's key expansion).

The keys live in the episode's own row, so a forget that removes the episode removes
them with it, and they hold nothing its text and the persona do not already hold.
Recomputed whole each time the episode is reflected on: the ingest part (the note's
name, `documents.index_keys`) first, then what reflection found.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import date

import sqlcipher3

from assistant.derived import people
from assistant.derived.proposals import FactCandidate
from assistant.reflection.dates import anchor_date, find_dates
from assistant.reflection.engine import EpisodeView
from store.database import marks

MAX_KEYS = 400  # characters: keys are a hint, not a second copy of the text


def episode_keys(
    conn: sqlcipher3.Connection, view: EpisodeView, facts: Iterable[FactCandidate]
) -> str | None:
    """The keys of one episode: its note's name, the days its dates mean, and the
    resolved people and attributes of the facts drawn from it."""
    words: list[str] = []
    name = view.meta.get("note_title") if view.kind == "note" else None
    if isinstance(name, str) and name and name != view.title:
        words.append(name)
    own_day = anchor_date(view.time)
    for mention in find_dates(view.text, view.time):
        if mention.value != own_day:
            words.append(day_key(mention.value))
    said = view.text.casefold()
    for fact in facts:
        person = people.resolve(conn, fact.person)
        # A name the text already holds would only weigh the memory up for every
        # question naming that person; one it says otherwise ("Mãe") is what it lacks.
        named = person == "self" or any(part.casefold() in said for part in person.split())
        who = "" if named else person
        words.append(f"{who} {fact.attribute.replace('_', ' ')}".strip())
    text = " ".join(dict.fromkeys(w for w in words if w))
    return text[:MAX_KEYS] or None


def day_key(day: date) -> str:
    """One token for a day ("d20240315"): no question word matches it by chance (a
    year, a month or a weekday in the keys would match every question naming one), and
    recall adds the same token for a question about that one day."""
    return f"d{day:%Y%m%d}"


def changed_keys(
    conn: sqlcipher3.Connection, views: Sequence[EpisodeView], facts: Sequence[FactCandidate]
) -> list[tuple[str | None, int]]:
    """(keys, episode id) for each view whose keys change, ready for an UPDATE. Only
    those: rewriting a row's keys re-indexes its whole text in FTS."""
    by_episode: dict[int, list[FactCandidate]] = {}
    for fact in facts:
        by_episode.setdefault(fact.evidence, []).append(fact)
    ids = [v.id for v in views]
    rows = conn.execute(f"SELECT id, keys FROM episodes WHERE id IN ({marks(ids)})", ids)
    stored = dict(rows.fetchall())
    out = []
    for view in views:
        keys = episode_keys(conn, view, by_episode.get(view.id, []))
        if keys != stored.get(view.id):
            out.append((keys, view.id))
    return out
