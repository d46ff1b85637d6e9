"""Typo-tolerant keyword search: a question word that no memory holds and no dictionary
knows ("fesetival", "Deboran") is also searched as the nearest word the memories do
hold ("festival", "Deborah"). Dense search shrugs off a typo; BM25 scores it zero.

- The dictionary is the word list of the packaged embedding model's tokenizer (30,522
  entries, whole English words among them): a real word the memories lack ("breed",
  "February", "prominent") is no typo, and its nearest neighbour ("bread", "ferrari",
  "promise") would only add noise.
- Both sides are compared as the keyword index stores them, stemmed by FTS5's own
  porter tokenizer (run on an in-memory table, so the stems always agree with the
  index), and the memories' words are read from an `fts5vocab` view of the index:
  nothing is stored.
"""

from __future__ import annotations

import functools
import threading
from collections.abc import Sequence

import sqlcipher3

from assistant.embedder import packaged_model_dir
from assistant.errors import ModelError

MIN_LENGTH = 5  # shorter stems have too many neighbours one edit away ("tonic", "tunic")
LONG = 8  # stems this long may be two edits from the word meant ("reccomend")
TOKENIZER = "porter unicode61 remove_diacritics 2"  # as store/schema.py's episodes_fts

_probe = threading.local()


def corrections(conn: sqlcipher3.Connection, words: Sequence[str]) -> list[str]:
    """For each of `words` that is no dictionary word and whose stem no memory holds,
    the stem of the memories' word nearest to it (within one edit, two for long stems;
    the same first letter; ties to the word more memories hold). Known words, words the
    memories hold and short ones give none; so does everything without the dictionary."""
    known = dictionary()
    unknown = [w for w in words if w.isalpha() and w.casefold() not in known]
    if not known or not unknown:
        return []
    out: list[str] = []
    for stem in unheard(conn, stems(unknown)):
        if len(stem) < MIN_LENGTH or not stem.isalpha():
            continue
        bound = 2 if len(stem) >= LONG else 1
        rows = conn.execute(
            "SELECT term, doc FROM temp.episodes_terms WHERE term >= ? AND term < ? "
            "AND length(term) BETWEEN ? AND ?",
            (stem[0], chr(ord(stem[0]) + 1), len(stem) - bound, len(stem) + bound),
        )
        near = [(edits(stem, term, bound), -doc, term) for term, doc in rows]
        best = min((n for n in near if n[0] <= bound), default=None)
        if best is not None:
            out.append(best[2])
    return out


@functools.cache
def dictionary() -> frozenset[str]:
    """The whole words of the packaged tokenizer's vocabulary; empty without it."""
    try:
        lines = (packaged_model_dir() / "vocab.txt").read_text(encoding="utf-8").split()
    except (ModelError, OSError, UnicodeDecodeError):
        return frozenset()
    return frozenset(w for w in lines if w.isalpha())


def unheard(conn: sqlcipher3.Connection, stemmed: Sequence[str]) -> list[str]:
    """The stems (as `stems` makes them) that no memory holds, once each, in order: one
    look-up in the index's `fts5vocab` view for all of them."""
    wanted = list(dict.fromkeys(stemmed))
    if not wanted:
        return []
    conn.execute(
        "CREATE VIRTUAL TABLE IF NOT EXISTS temp.episodes_terms "
        "USING fts5vocab(main, episodes_fts, row)"
    )
    held = {r[0] for r in conn.execute(
        f"SELECT term FROM temp.episodes_terms WHERE term IN ({','.join('?' * len(wanted))})",
        wanted,
    )}  # fmt: skip
    return [stem for stem in wanted if stem not in held]


def stems(words: Sequence[str]) -> list[str]:
    """The first token FTS5's tokenizer makes of each word ("Festivals" -> "festiv");
    words it makes no token of are left out."""
    conn = getattr(_probe, "conn", None)
    if conn is None:  # one small in-memory table per thread, never on disk
        conn = sqlcipher3.connect(":memory:")
        conn.execute(f"CREATE VIRTUAL TABLE probe USING fts5(w, tokenize='{TOKENIZER}')")
        conn.execute("CREATE VIRTUAL TABLE probe_terms USING fts5vocab(probe, instance)")
        _probe.conn = conn
    conn.executemany("INSERT INTO probe(rowid, w) VALUES (?, ?)", enumerate(words, start=1))
    rows = conn.execute("SELECT doc, term FROM probe_terms WHERE offset = 0").fetchall()
    conn.execute("DELETE FROM probe")
    first = {int(doc): str(term) for doc, term in rows}
    return [first[i] for i in range(1, len(words) + 1) if i in first]


def edits(a: str, b: str, bound: int) -> int:
    """Optimal string alignment distance between `a` and `b` (insertions, deletions,
    substitutions and swaps of neighbours), or `bound + 1` once it must exceed `bound`."""
    if abs(len(a) - len(b)) > bound:
        return bound + 1
    before: list[int] = []
    previous = list(range(len(b) + 1))
    for i, ca in enumerate(a, start=1):
        current = [i] + [0] * len(b)
        for j, cb in enumerate(b, start=1):
            cost = 0 if ca == cb else 1
            current[j] = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + cost)
            if i > 1 and j > 1 and ca == b[j - 2] and a[i - 2] == cb:
                current[j] = min(current[j], before[j - 2] + 1)
        if min(current) > bound:
            return bound + 1
        before, previous = previous, current
    return min(previous[-1], bound + 1)
