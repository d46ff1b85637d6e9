"""The ONNX export gives sentence-transformers' vectors, is redone when it is stale or
damaged, and spares a process that only encodes from importing torch."""

from __future__ import annotations

import json
import random
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from assistant.config import EmbeddingSettings
from assistant.embedder import PACKAGED_SHA256, Embedder, _load_model, packaged_model_dir
from assistant.onnx_model import GRAPH, STAMP, OnnxEncoder, ready_graph
from tests.conftest import ROOT

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("onnx")
    ready_graph(packaged_model_dir(), folder, PACKAGED_SHA256)
    return folder


def varied_texts(n: int) -> list[str]:
    rng = random.Random(3)
    words = [
        "Lisbon",
        "flight",
        "Ana",
        "dentist",
        "salary",
        "Porto",
        "kale",
        "soup",
        "deadline",
        "garden",
    ]
    fixed = [
        "When is Ana's flight?",
        "x",
        "?",
        "Olá, tudo bem? A reunião é às 10h em São João da Madeira.",
        "Grüße aus München — Straße, Fuß, Maß.",
        "東京で寿司を食べた。",
        "🙂🎉 party at 8pm 🍕",
        "def main():\n    return [x ** 2 for x in range(10)]",
        "word " * 600,  # over 256 word pieces: truncated alike
        "A" * 3000,
        "   spaced    out\ttext\n\nwith breaks   ",
        "SELECT * FROM episodes WHERE id = 7; -- sql",
    ]
    out = list(fixed)
    while len(out) < n:
        length = rng.randint(1, 120)
        out.append(" ".join(rng.choice(words) for _ in range(length)))
    return out


def test_onnx_vectors_match_sentence_transformers(cache: Path) -> None:
    texts = varied_texts(200)
    model_dir = packaged_model_dir()
    onnx = Embedder(EmbeddingSettings(), cache=cache).encode(texts)
    reference = np.asarray(
        _load_model(EmbeddingSettings().model, 2).encode(
            texts, batch_size=16, normalize_embeddings=True, convert_to_numpy=True
        )
    )
    cosine = (onnx * reference).sum(axis=1)
    worst = int(np.argmin(cosine))
    assert cosine.min() >= 0.999, (texts[worst][:60], float(cosine[worst]))
    assert onnx.shape == (200, 384)
    single = OnnxEncoder(cache / GRAPH, model_dir, 1).encode_batch([texts[3]])[0]
    assert float(single @ reference[3]) >= 0.999  # alone or in a padded batch, the same


def test_a_stale_or_damaged_export_is_made_again(cache: Path, tmp_path: Path) -> None:
    folder = tmp_path / "onnx"
    folder.mkdir()
    for name in (GRAPH, STAMP):
        (folder / name).write_bytes((cache / name).read_bytes())
    model_dir = packaged_model_dir()
    stamp = json.loads((folder / STAMP).read_text())
    stamp["weights_sha256"] = "0" * 64  # made from other weights
    (folder / STAMP).write_text(json.dumps(stamp))
    before = (folder / GRAPH).stat().st_mtime_ns
    ready_graph(model_dir, folder, PACKAGED_SHA256)
    assert (folder / GRAPH).stat().st_mtime_ns != before
    assert json.loads((folder / STAMP).read_text())["weights_sha256"] == PACKAGED_SHA256

    with (folder / GRAPH).open("r+b") as fh:  # a flipped byte in the middle
        fh.seek(40_000_000)
        byte = fh.read(1)
        fh.seek(40_000_000)
        fh.write(bytes([byte[0] ^ 0xFF]))
    graph = ready_graph(model_dir, folder, PACKAGED_SHA256)
    assert graph.read_bytes() == (cache / GRAPH).read_bytes()


def test_encoding_a_query_imports_no_torch(cache: Path) -> None:
    probe = (
        "import sys\n"
        "from pathlib import Path\n"
        "from assistant.config import EmbeddingSettings\n"
        "from assistant.embedder import Embedder\n"
        f"v = Embedder(EmbeddingSettings(), cache=Path({str(cache)!r})).encode(['Lisbon'])\n"
        "assert v.shape == (1, 384)\n"
        "heavy = ('torch', 'transformers', 'sentence_transformers')\n"
        "print([m for m in heavy if m in sys.modules])\n"
    )  # fmt: skip
    out = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, cwd=ROOT, timeout=120
    )
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "[]"
