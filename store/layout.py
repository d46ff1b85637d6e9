"""Names of the transient files the vector index makes, in one light module.

The start-up sweep (assistant/runtime.py) removes what a killed process left behind,
and must not pay for importing chromadb, numpy or SQLCipher to learn these names.
"""

from __future__ import annotations

from pathlib import Path


def restore_dir(vector_dir: Path) -> Path:
    """Where a snapshot is unpacked before it replaces the runtime copy."""
    return vector_dir.parent / f".{vector_dir.name}-restore"


def snapshot_tmp(snapshot: Path) -> Path:
    """Where a snapshot is sealed before it atomically replaces the old one."""
    return snapshot.with_name(snapshot.name + ".tmp")
