"""The packaged MiniLM as an ONNX graph: its vectors without importing torch.

Importing torch and sentence-transformers costs ~3 s and ~300 MB, far more than a
query's forward pass (a few ms). So the pinned weights are exported once with torch (at
`me init` or first use) into the cache folder, next to a stamp naming the weights and
the graph; every later process encodes with onnxruntime and tokenizers (both already
installed with chromadb), which load in ~0.3 s.

The graph is the bare transformer (token vectors out). The sentence vector is made here
in numpy, as this model's sentence-transformers pipeline does (`modules.json`:
Transformer, then mean Pooling over the real tokens, then Normalize); `_pipeline` reads
those files and refuses anything else, so a changed package cannot silently change the
vectors.

The shipped `tokenizer.json` pads every input to 128 tokens and cuts at 128: padding
counted in the mean drops the cosine to the real vectors to ~0.4. Padding is turned
off, each batch is padded to its longest text with a mask that keeps the padding out
of the mean, and texts are cut at the model's `max_seq_length` (256 word pieces), as
sentence-transformers does.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import logging
import os
import tempfile
import threading
import warnings
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from assistant.embedder import PACKAGED_SHA256, encode_sorted, file_sha256, verify_weights
from assistant.errors import ModelError
from assistant.paths import ensure_private

log = logging.getLogger(__name__)

GRAPH = "all-MiniLM-L6-v2.onnx"
STAMP = "all-MiniLM-L6-v2.json"
# What the graph computes, for the code that runs it: 2 = token vectors from the fused
# transformer (1, the first release, ended in its own pooling). A stamp of another
# format is stale even when its weights and hash match.
FORMAT = 2
_EXPORT_LOCK = "export.lock"
# torch's TorchScript exporter (`dynamo=False`) writes this opset well for BERT and needs
# only the `onnx` package; the dynamo exporter would need onnxscript, not installed.
OPSET = 17
INPUTS = ("input_ids", "attention_mask", "token_type_ids")


def ready_graph(model_dir: Path, target_dir: Path) -> Path:
    """The exported graph in `target_dir`, exported first when it is missing, stale
    (made from other weights) or damaged."""
    graph = target_dir / GRAPH
    if _stale(model_dir, target_dir) is None:
        return graph
    try:
        ensure_private(target_dir)
        # Two processes starting at once (the daemon and a CLI, two test workers) would
        # both spend seconds exporting; the second waits and finds the first's export.
        with _locked(target_dir / _EXPORT_LOCK):
            reason = _stale(model_dir, target_dir)
            if reason is not None:
                log.info("exporting the embedding model to ONNX (%s); this happens once", reason)
                export(model_dir, target_dir)
    except OSError as exc:
        raise ModelError(
            f"cannot export the embedding model to ONNX in {target_dir}: {exc}"
        ) from exc
    return graph


def _stale(model_dir: Path, target_dir: Path) -> str | None:
    """Why the export in `target_dir` cannot be used as it is; None when it can."""
    try:
        stamp = json.loads((target_dir / STAMP).read_text(encoding="utf-8"))
    except FileNotFoundError:
        return "no export yet"
    except (OSError, ValueError):
        return "its stamp is unreadable"
    if not isinstance(stamp, dict):
        return "its stamp is unreadable"
    if stamp.get("format") != FORMAT:
        return "it was made by another version of Second Self"
    if stamp.get("weights_sha256") != PACKAGED_SHA256:
        return "it was made from other weights"
    try:
        same_file = stamp.get("weights") == _file_id(model_dir / "model.safetensors")
    except OSError:
        same_file = False
    if not same_file:
        # Size and mtime stand for the weights' hash between exports: hashing 90 MB on
        # every start would add ~70 ms. `export` hashes a changed file before using it.
        return "the weights file changed"
    graph = target_dir / GRAPH
    try:
        # The graph is what runs: a changed byte in it would give wrong vectors without
        # an error. The very file that was exported and hashed (same size and mtime)
        # is trusted as the weights are; any other is hashed (~70 ms, too much for
        # every cold recall) and made again unless it matches.
        if stamp.get("graph") == _file_id(graph):
            return None
        intact = file_sha256(graph) == stamp.get("graph_sha256")
    except OSError:
        return "the graph is missing"
    return None if intact else "the graph is damaged"


def _file_id(path: Path) -> dict[str, int]:
    info = path.stat()
    return {"size": info.st_size, "mtime_ns": info.st_mtime_ns}


@contextlib.contextmanager
def _locked(path: Path) -> Iterator[None]:
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)  # closing releases the lock


def export(model_dir: Path, target_dir: Path) -> Path:
    """Export the pinned transformer into `target_dir` and stamp it; returns the graph.

    The only code that imports torch. Both files are written under temporary names and
    renamed, so a reader never sees half a graph; the stamp goes last, so a crash in
    between leaves a graph that the next start finds damaged and exports again."""
    verify_weights(model_dir)  # only the pinned release is exported
    weights = _file_id(model_dir / "model.safetensors")
    ensure_private(target_dir)
    fd, name = tempfile.mkstemp(dir=target_dir, prefix=".", suffix=".onnx.tmp")
    os.close(fd)  # mkstemp made it 0600; the exporter rewrites it in place
    tmp = Path(name)
    try:
        _trace(model_dir, tmp)
        _fuse(tmp)
        graph_sha256 = file_sha256(tmp)
        os.replace(tmp, target_dir / GRAPH)  # a rename keeps the size and mtime hashed
    finally:
        tmp.unlink(missing_ok=True)
    stamp = {
        "format": FORMAT,
        "weights_sha256": PACKAGED_SHA256,
        "weights": weights,
        "graph_sha256": graph_sha256,
        "graph": _file_id(target_dir / GRAPH),
        "opset": OPSET,
    }
    fd, name = tempfile.mkstemp(dir=target_dir, prefix=".", suffix=".json.tmp")
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        json.dump(stamp, fh)
    os.replace(name, target_dir / STAMP)
    log.info("exported the embedding model to %s", target_dir / GRAPH)
    return target_dir / GRAPH


def _trace(model_dir: Path, out: Path) -> None:
    from assistant.embedder import _prepare_torch

    _prepare_torch()
    os.environ["HF_HUB_OFFLINE"] = "1"  # loaded by path: nothing is fetched
    os.environ["TRANSFORMERS_OFFLINE"] = "1"
    try:
        import torch
        import transformers
    except ImportError as exc:
        raise ModelError(
            "cannot export the embedding model to ONNX: torch and transformers are needed "
            f"once for it ({exc}); reinstall secondself"
        ) from exc
    transformers.logging.set_verbosity_error()
    transformers.logging.disable_progress_bar()

    class TokenVectors(torch.nn.Module):
        # Named inputs: BertModel.forward's own positional order (use_cache...) differs.
        def __init__(self, bert: Any) -> None:
            super().__init__()
            self.bert = bert

        def forward(self, input_ids: Any, attention_mask: Any, token_type_ids: Any) -> Any:
            return self.bert(
                input_ids=input_ids, attention_mask=attention_mask, token_type_ids=token_type_ids
            ).last_hidden_state

    # Two rows, the second padded: the tracer records only the branches it sees, so a
    # sample with padding keeps the masking in the graph.
    mask = torch.tensor([[1] * 8, [1] * 5 + [0] * 3])
    sample = (torch.full((2, 8), 1000) * mask, mask, torch.zeros((2, 8), dtype=torch.long))
    axes = {name: {0: "batch", 1: "tokens"} for name in (*INPUTS, "last_hidden_state")}
    try:
        bert = transformers.AutoModel.from_pretrained(str(model_dir), attn_implementation="eager")
        with torch.no_grad(), warnings.catch_warnings():
            warnings.simplefilter("ignore")  # tracer notes on shape-dependent Python code
            torch.onnx.export(
                TokenVectors(bert.eval()),
                sample,
                str(out),
                input_names=list(INPUTS),
                output_names=["last_hidden_state"],
                dynamic_axes=axes,
                opset_version=OPSET,
                dynamo=False,
            )
    except Exception as exc:  # loader and exporter raise many types; all mean "no graph"
        raise ModelError(f"cannot export the embedding model to ONNX: {exc}") from exc


def _fuse(graph: Path) -> None:
    """Rewrite the graph with onnxruntime's fused BERT operators (attention, layer norms,
    GELU): 5-10% faster on full-length chunks, same vectors. Optional: a graph the fuser
    cannot handle is kept as traced."""
    try:
        from onnxruntime.transformers import optimizer

        # Level 0: only these portable rewrites, none tied to this machine's CPU.
        fused = optimizer.optimize_model(
            str(graph), model_type="bert", num_heads=12, hidden_size=384, opt_level=0
        )
        fused.save_model_to_file(str(graph))
    except Exception as exc:  # a pattern it does not know; the traced graph still works
        log.info("kept the unfused ONNX graph: %s", exc)


def _pipeline(model_dir: Path) -> tuple[int, int]:
    """(max tokens, dimension) of the model, after checking that its sentence-transformers
    pipeline is the one reproduced here: mean pooling, then L2 normalisation."""
    try:
        modules = json.loads((model_dir / "modules.json").read_text(encoding="utf-8"))
        kinds = [m["type"].rsplit(".", 1)[-1] for m in modules]
        pooling_dir = next(m["path"] for m in modules if m["type"].endswith(".Pooling"))
        pooling = json.loads((model_dir / pooling_dir / "config.json").read_text("utf-8"))
        config = json.loads((model_dir / "sentence_bert_config.json").read_text("utf-8"))
        modes = {k for k, on in pooling.items() if k.startswith("pooling_mode_") and on}
        max_tokens, dim = int(config["max_seq_length"]), int(pooling["word_embedding_dimension"])
    except (OSError, ValueError, KeyError, TypeError, StopIteration) as exc:
        raise ModelError(f"cannot read the model's pipeline in {model_dir}: {exc!r}") from exc
    if kinds != ["Transformer", "Pooling", "Normalize"] or modes != {"pooling_mode_mean_tokens"}:
        raise ModelError(
            f"the model in {model_dir} is not Transformer + mean Pooling + Normalize "
            f"({kinds}, {sorted(modes)}); the ONNX path only reproduces that pipeline"
        )
    return max_tokens, dim


class OnnxEncoder:
    """Sentence vectors from the exported graph, one locked batch at a time."""

    def __init__(self, graph: Path, model_dir: Path, threads: int, batch_size: int = 64) -> None:
        max_tokens, self.dim = _pipeline(model_dir)
        self.batch_size = batch_size
        import onnxruntime
        from tokenizers import Tokenizer

        options = onnxruntime.SessionOptions()
        options.intra_op_num_threads = max(1, threads)
        options.inter_op_num_threads = 1
        # Idle worker threads sleep instead of spinning: on this busy 2-core machine
        # spinning cost 18-37% more CPU for 1,000 full-length chunks (98-106 s, not 78-83).
        options.add_session_config_entry("session.intra_op.allow_spinning", "0")
        options.log_severity_level = 3  # no notes about the graph on stderr
        try:
            self._session = onnxruntime.InferenceSession(
                str(graph), options, providers=["CPUExecutionProvider"]
            )
            tokenizer = Tokenizer.from_file(str(model_dir / "tokenizer.json"))
        except Exception as exc:  # onnxruntime's errors are not exported types
            raise ModelError(f"cannot load the ONNX embedding model {graph}: {exc}") from exc
        self._pad = int((tokenizer.padding or {}).get("pad_id", 0))
        tokenizer.no_padding()
        tokenizer.enable_truncation(max_tokens)
        self._tokenizer = tokenizer
        # A tokenizer shared between threads fails ("Already borrowed").
        self._lock = threading.Lock()

    def encode_batch(self, texts: Sequence[str]) -> np.ndarray:
        """L2-normalised float32 vectors of `texts`, as one forward pass."""
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        with self._lock:
            encoded = self._tokenizer.encode_batch(list(texts))
            width = max(len(e.ids) for e in encoded)
            ids = np.full((len(encoded), width), self._pad, dtype=np.int64)
            mask = np.zeros((len(encoded), width), dtype=np.int64)
            for row, item in enumerate(encoded):
                ids[row, : len(item.ids)] = item.ids
                mask[row, : len(item.ids)] = 1
            feed = {"input_ids": ids, "attention_mask": mask, "token_type_ids": np.zeros_like(ids)}
            hidden = self._session.run(["last_hidden_state"], feed)[0]
        weights = mask[:, :, None].astype(np.float32)
        mean = (hidden * weights).sum(axis=1) / np.maximum(weights.sum(axis=1), 1e-9)
        norms = np.linalg.norm(mean, axis=1, keepdims=True)
        return np.asarray(mean / np.maximum(norms, 1e-12), dtype=np.float32)

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        """Vectors for `texts`, in order, batched as `Embedder.encode` batches them."""
        return encode_sorted(texts, self.batch_size, self.encode_batch, self.dim)
