"""The packaged MiniLM as an ONNX graph: the same vectors without importing torch.

Importing torch and sentence-transformers costs ~3 s and ~300 MB, more than a whole
recall should. So the pinned weights are exported once (at first use, ~7 s with
torch) into the cache folder, together with a stamp naming the weights they came
from, and every later process encodes with onnxruntime and tokenizers (both already
installed with chromadb), ~0.2 s to load.

The graph includes sentence-transformers' pooling for this model (mean over the real
tokens, then L2 normalisation), so its output is the finished sentence vector.

The shipped `tokenizer.json` pads every input to 128 tokens; padded positions would
then count in the mean (cosine to the real vectors drops to ~0.4). Padding is turned
off and each batch is padded to its longest text with an attention mask that zeroes
the padding out; texts are truncated at 256 word pieces, the model's own limit.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import tempfile
import threading
import warnings
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from assistant.errors import ModelError

log = logging.getLogger(__name__)

GRAPH = "all-MiniLM-L6-v2.onnx"
STAMP = "all-MiniLM-L6-v2.json"
MAX_TOKENS = 256  # sentence_bert_config.json: max_seq_length
OPSET = 17
INPUTS = ("input_ids", "attention_mask", "token_type_ids")


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _weights_id(model_dir: Path) -> dict[str, Any]:
    """What identifies the weights cheaply: size and mtime (hashing 90 MB every start
    would cost more than the rest of a recall)."""
    info = (model_dir / "model.safetensors").stat()
    return {"size": info.st_size, "mtime_ns": info.st_mtime_ns}


def ready_graph(model_dir: Path, cache: Path, weights_sha256: str) -> Path:
    """The exported graph for these weights, exported first if it is missing, stale
    (made from other weights) or damaged."""
    graph, stamp = cache / GRAPH, cache / STAMP
    try:
        found = json.loads(stamp.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        found = None
    if (
        isinstance(found, dict)
        and found.get("weights_sha256") == weights_sha256
        and found.get("weights") == _weights_id(model_dir)
        and graph.exists()
        and graph.stat().st_size == found.get("graph_size")
        and _sha256(graph) == found.get("graph_sha256")
    ):
        return graph
    if found is not None:
        log.info("the ONNX export in %s is stale or damaged: exporting it again", cache)
    export(model_dir, cache, weights_sha256)
    return graph


def export(model_dir: Path, cache: Path, weights_sha256: str) -> None:
    """Export the transformer and its pooling to `cache` (the only code that needs torch)."""
    from assistant.embedder import _prepare_torch, verify_weights

    verify_weights(model_dir, weights_sha256)  # only the pinned release is exported
    _prepare_torch()
    os.environ["HF_HUB_OFFLINE"] = "1"
    os.environ["TRANSFORMERS_OFFLINE"] = "1"
    try:
        import torch
        import transformers
        from transformers import AutoModel
    except ImportError as exc:
        raise ModelError(f"cannot export the embedding model to ONNX: {exc}") from exc
    transformers.logging.set_verbosity_error()
    transformers.logging.disable_progress_bar()

    class Pooled(torch.nn.Module):
        def __init__(self, bert: Any) -> None:
            super().__init__()
            self.bert = bert

        def forward(self, input_ids: Any, attention_mask: Any, token_type_ids: Any) -> Any:
            hidden = self.bert(
                input_ids=input_ids, attention_mask=attention_mask, token_type_ids=token_type_ids
            ).last_hidden_state
            weights = attention_mask.unsqueeze(-1).to(hidden.dtype)
            mean = (hidden * weights).sum(1) / weights.sum(1).clamp(min=1e-9)
            return torch.nn.functional.normalize(mean, p=2, dim=1)

    cache.mkdir(mode=0o700, parents=True, exist_ok=True)
    try:
        bert = AutoModel.from_pretrained(str(model_dir), attn_implementation="eager")
        bert.eval()
        sample = tuple(torch.ones((2, 8), dtype=torch.long) for _ in INPUTS)
        axes = {name: {0: "batch", 1: "tokens"} for name in INPUTS}
        fd, tmp = tempfile.mkstemp(dir=cache, suffix=".onnx.tmp")
        os.close(fd)
        with torch.no_grad(), warnings.catch_warnings():
            warnings.simplefilter("ignore")  # tracer notes about this fixed-shape model
            torch.onnx.export(
                Pooled(bert),
                sample,
                tmp,
                input_names=list(INPUTS),
                output_names=["embedding"],
                dynamic_axes={**axes, "embedding": {0: "batch"}},
                opset_version=OPSET,
                dynamo=False,
            )
    except Exception as exc:  # any failure of the exporter means: no ONNX graph
        Path(locals().get("tmp", cache / "none")).unlink(missing_ok=True)
        raise ModelError(f"cannot export the embedding model to ONNX: {exc}") from exc
    os.chmod(tmp, 0o600)
    os.replace(tmp, cache / GRAPH)
    graph = cache / GRAPH
    stamp = {
        "weights_sha256": weights_sha256,
        "weights": _weights_id(model_dir),
        "graph_size": graph.stat().st_size,
        "graph_sha256": _sha256(graph),
        "opset": OPSET,
    }
    fd, tmp = tempfile.mkstemp(dir=cache, suffix=".json.tmp")
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        json.dump(stamp, fh)
    os.replace(tmp, cache / STAMP)
    log.info("exported the embedding model to %s", graph)


class OnnxEncoder:
    """Sentence vectors from the exported graph; one batch at a time, from any thread."""

    def __init__(self, graph: Path, model_dir: Path, threads: int) -> None:
        import onnxruntime
        from tokenizers import Tokenizer

        options = onnxruntime.SessionOptions()
        options.intra_op_num_threads = max(1, threads)
        options.inter_op_num_threads = 1
        options.log_severity_level = 3
        try:
            self._session = onnxruntime.InferenceSession(
                str(graph), options, providers=["CPUExecutionProvider"]
            )
        except Exception as exc:  # onnxruntime raises its own, unexported error types
            raise ModelError(f"cannot load the ONNX embedding model {graph}: {exc}") from exc
        self._tokenizer = Tokenizer.from_file(str(model_dir / "tokenizer.json"))
        self._tokenizer.no_padding()
        self._tokenizer.enable_truncation(MAX_TOKENS)
        self._pad = self._tokenizer.token_to_id("[PAD]") or 0
        self._lock = threading.Lock()  # a tokenizer shared between threads fails
        self.dim = int(self._session.get_outputs()[0].shape[1] or 384)

    def encode_batch(self, texts: Sequence[str]) -> np.ndarray:
        with self._lock:
            encoded = self._tokenizer.encode_batch(list(texts))
            width = max(len(e.ids) for e in encoded)
            ids = np.full((len(encoded), width), self._pad, dtype=np.int64)
            mask = np.zeros((len(encoded), width), dtype=np.int64)
            for row, item in enumerate(encoded):
                ids[row, : len(item.ids)] = item.ids
                mask[row, : len(item.ids)] = 1
            feed = {"input_ids": ids, "attention_mask": mask, "token_type_ids": np.zeros_like(ids)}
            vectors = self._session.run(None, feed)[0]
        return np.asarray(vectors, dtype=np.float32)
