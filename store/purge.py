"""The last step of a forget: purge the copies SQLite and chroma keep of deleted rows.

Deleting a row is not enough. FTS5 keeps a deleted row's terms in its b-tree until the
index is rebuilt; chroma keeps deleted embeddings in its write-ahead queue and its HNSW
files, and they would be sealed into every later snapshot; SQLite leaves freed pages in
the file and the WAL. So after the forget's transaction commits (with a
`forget_pending` mark), this rebuilds both keyword indexes, rebuilds the runtime vector
index from the database and seals it anew, then checkpoints the WAL and VACUUMs
(`secure_delete` is always on). The mark is cleared last: a crash anywhere in between
leaves it set, and the next open of the vault finishes the job.
"""

from __future__ import annotations

import logging

from store.database import Database
from store.progress import Progress, relabel
from store.vectors import VectorIndex

log = logging.getLogger(__name__)

PENDING = "forget_pending"
KEYWORD_INDEXES = ("episodes_fts", "thoughts_fts")
PURGE_STAGE = "Purging every copy"


def purge_copies(db: Database, index: VectorIndex, progress: Progress | None = None) -> None:
    """Purge what a committed forget left behind; safe to run again."""
    with db.write() as conn:
        for table in KEYWORD_INDEXES:
            conn.execute(f"INSERT INTO {table}({table}) VALUES ('rebuild')")
    index.rebuild(relabel(progress, PURGE_STAGE))
    db.vacuum()
    with db.write() as conn:
        conn.execute("DELETE FROM meta WHERE key = ?", (PENDING,))
    db.checkpoint()
    log.info("forget: keyword indexes rebuilt, vector index resealed, database vacuumed")


def purge_pending(db: Database) -> bool:
    """Whether a forget was interrupted before its copies were purged."""
    return db.get_meta(PENDING) is not None


def resume_pending(db: Database, index: VectorIndex, progress: Progress | None = None) -> bool:
    """Finish a forget that was interrupted before its copies were purged."""
    if not purge_pending(db):
        return False
    log.warning("finishing an interrupted forget: purging the copies it left")
    purge_copies(db, index, progress)
    return True
