"""`status`: what is stored, where, and how the index was made ready."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from assistant.memory import Memory
from assistant.paths import Paths
from assistant.runtime import RuntimeStorage, runtime_storage
from assistant.vault import key_file_mode


@dataclass(frozen=True)
class VaultCounts:
    """Counted in the open vault; `sources` as `me sources list` shows them (a folder
    read once by `me ingest` is kept as an unlisted source, and not counted)."""

    sources: int
    documents: int
    episodes: int
    vectors: int
    index_state: str  # restored, rebuilt, empty...
    index_vectors: int
    index_replayed: int
    index_note: str | None
    model: str


@dataclass(frozen=True)
class Status:
    data: Path
    runtime: Path
    storage: RuntimeStorage
    unlock_mode: str | None = None  # None: no vault here yet
    sizes: dict[str, int] = field(default_factory=dict)
    counts: VaultCounts | None = None

    @property
    def vault(self) -> str:
        return "none (run `me init`)" if self.unlock_mode is None else "present"

    def as_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "data": str(self.data),
            "runtime": {
                "path": str(self.runtime),
                "filesystem": self.storage.filesystem,
                "in_ram": self.storage.in_ram,
            },
        }
        out["vault"] = self.vault
        if self.unlock_mode is None:
            return out
        out["unlock_mode"] = self.unlock_mode
        out["sizes"] = dict(self.sizes)
        if self.counts is not None:
            c = self.counts
            out["counts"] = {
                "sources": c.sources,
                "documents": c.documents,
                "episodes": c.episodes,
                "vectors": c.vectors,
            }
            out["index"] = {
                "state": c.index_state,
                "vectors": c.index_vectors,
                "replayed": c.index_replayed,
                "note": c.index_note,
            }
            out["model"] = c.model
        return out


def has_vault(paths: Paths) -> bool:
    return paths.key_file.exists() or paths.database.exists()


def outside(paths: Paths) -> Status:
    """What can be told without unlocking: where things are, the unlock mode, sizes."""
    storage = runtime_storage(paths.runtime)
    if not has_vault(paths):
        return Status(paths.data, paths.runtime, storage)
    sizes = {
        "database": _size(paths.database),
        "wal": _size(paths.database.with_name(paths.database.name + "-wal")),
        "snapshot": _size(paths.snapshot),
    }
    return Status(paths.data, paths.runtime, storage, key_file_mode(paths.key_file), sizes)


def counts(memory: Memory) -> VaultCounts:
    conn = memory.db.conn

    def count(sql: str) -> int:
        return int(conn.execute(sql).fetchone()[0])

    report = memory.open_index()  # the status tells how the index came to be ready
    return VaultCounts(
        sources=count("SELECT count(*) FROM sources WHERE listed = 1"),
        documents=count("SELECT count(*) FROM documents"),
        episodes=count("SELECT count(*) FROM episodes"),
        vectors=count("SELECT count(*) FROM vectors"),
        index_state=report.how,
        index_vectors=memory.index.count(),
        index_replayed=report.replayed,
        index_note=report.reason,
        model=memory.config.embedding.model,
    )


def _size(path: Path) -> int:
    return path.stat().st_size if path.exists() else 0
