"""The ONNX export gives sentence-transformers' vectors, is made again when stale or
damaged (or says clearly why it cannot be), and spares a process that only encodes
from importing torch."""

from __future__ import annotations

import json
import random
import shutil
import stat
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from assistant.config import PACKAGED_MODEL, EmbeddingSettings
from assistant.embedder import PACKAGED_SHA256, Embedder, _load_model, packaged_model_dir
from assistant.errors import ModelError
from assistant.onnx_model import GRAPH, STAMP, OnnxEncoder, _stale, ready_graph
from tests.conftest import ROOT

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def exported(onnx_cache: Path) -> Path:
    """The run's shared export (conftest), made here if no test has made it yet."""
    ready_graph(packaged_model_dir(), onnx_cache)
    return onnx_cache


def copy_export(source: Path, target: Path) -> Path:
    target.mkdir(mode=0o700)
    for name in (GRAPH, STAMP):
        shutil.copyfile(source / name, target / name)
    return target


def varied_texts(n: int) -> list[str]:
    """Short and long (past 256 word pieces), several scripts, emoji, code, blanks."""
    rng = random.Random(7)
    pieces = [
        "When is Ana's flight to Lisbon?",
        "Dentist on Tuesday at 10:30, bring the insurance card.",
        "Olá, tudo bem? A reunião é às 10h em São João da Madeira.",
        "Grüße aus München — Straße, Fuß, Maß, Ärger.",
        "東京で寿司を食べた。とても美味しかった。",
        "我们明天去北京看长城。",
        "مرحبا، كيف حالك اليوم؟",
        "Привет, как дела? Встреча в пятницу.",
        "🙂🎉 party at 8pm 🍕🍺 bring 🎁",
        "def main():\n    return [x ** 2 for x in range(10)]",
        "SELECT * FROM episodes WHERE id = 7; -- sql",
        "https://example.org/path?q=1&r=2 #tag @someone",
        "3.14159 2,718 1e-9 0x1F 42%",
        "   spaced    out\ttext\n\nwith breaks   ",
    ]
    out = ["", " ", "x", "?", "🙂", "word " * 600, "A" * 3000, "数" * 400]
    while len(out) < n:
        count = rng.choice([1, 1, 1, 2, 2, 3, 3, 5, 8, 40])  # 40: past 256 word pieces
        out.append(" ".join(rng.choice(pieces) for _ in range(count)))
    rng.shuffle(out)
    return out


def test_onnx_vectors_match_sentence_transformers(exported: Path) -> None:
    texts = varied_texts(200)
    onnx = Embedder(EmbeddingSettings(), cache=exported).encode(texts)
    reference = np.asarray(
        _load_model(PACKAGED_MODEL, 2).encode(
            texts, batch_size=16, normalize_embeddings=True, convert_to_numpy=True
        )
    )
    assert onnx.shape == (200, 384) and onnx.dtype == np.float32
    cosine = (onnx * reference).sum(axis=1)
    worst = int(np.argmin(cosine))
    assert cosine.min() >= 0.999, (texts[worst][:60], float(cosine[worst]))
    # Alone, in other batches or through the encoder's own batching: the same vectors.
    encoder = OnnxEncoder(exported / GRAPH, packaged_model_dir(), threads=1, batch_size=7)
    np.testing.assert_allclose(encoder.encode(texts), onnx, atol=1e-5)
    single = encoder.encode_batch([texts[worst]])[0]
    assert float(single @ reference[worst]) >= 0.999


def test_a_stamp_from_other_weights_makes_a_new_export(exported: Path, tmp_path: Path) -> None:
    folder = copy_export(exported, tmp_path / "onnx")
    stamp = json.loads((folder / STAMP).read_text())
    (folder / STAMP).write_text(json.dumps({**stamp, "format": 1}))  # an older graph
    assert _stale(packaged_model_dir(), folder) == "it was made by another version of Second Self"
    (folder / STAMP).write_text(json.dumps({**stamp, "weights_sha256": "0" * 64}))
    assert _stale(packaged_model_dir(), folder) == "it was made from other weights"

    graph = ready_graph(packaged_model_dir(), folder)
    assert json.loads((folder / STAMP).read_text())["weights_sha256"] == PACKAGED_SHA256
    assert _stale(packaged_model_dir(), folder) is None
    for made in (graph, folder / STAMP):
        assert stat.S_IMODE(made.stat().st_mode) == 0o600
    assert sorted(p.name for p in folder.iterdir()) == sorted([GRAPH, STAMP, "export.lock"])


def test_a_damaged_graph_is_detected_and_exported_again(exported: Path, tmp_path: Path) -> None:
    folder = copy_export(exported, tmp_path / "onnx")
    with (folder / GRAPH).open("r+b") as fh:  # one flipped byte among the weights
        fh.seek(40_000_000)
        byte = fh.read(1)
        fh.seek(40_000_000)
        fh.write(bytes([byte[0] ^ 0xFF]))
    assert _stale(packaged_model_dir(), folder) == "the graph is damaged"
    ready_graph(packaged_model_dir(), folder)
    assert _stale(packaged_model_dir(), folder) is None
    vector = OnnxEncoder(folder / GRAPH, packaged_model_dir(), threads=1).encode(["Lisbon"])
    assert vector.shape == (1, 384)

    (folder / GRAPH).write_bytes(b"not a graph")  # truncated or overwritten
    assert _stale(packaged_model_dir(), folder) == "the graph is damaged"
    (folder / GRAPH).unlink()
    assert _stale(packaged_model_dir(), folder) == "the graph is missing"
    (folder / STAMP).write_text("{half a stamp")
    assert _stale(packaged_model_dir(), folder) == "its stamp is unreadable"


def test_only_a_graph_other_than_the_exported_file_is_hashed(
    exported: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A cold recall trusts the file the export hashed (same size and mtime, as for the
    weights); a copy or an edited file is hashed before it is used."""
    import assistant.onnx_model as onnx_model

    folder = copy_export(exported, tmp_path / "onnx")  # a copy: new mtime
    hashed: list[Path] = []
    real = onnx_model.file_sha256

    def counting(path: Path) -> str:
        hashed.append(path)
        return real(path)

    monkeypatch.setattr(onnx_model, "file_sha256", counting)
    assert _stale(packaged_model_dir(), exported) is None
    assert hashed == []
    assert _stale(packaged_model_dir(), folder) is None
    assert hashed == [folder / GRAPH]


def test_other_weights_are_refused_with_a_clear_message(exported: Path, tmp_path: Path) -> None:
    model_dir = tmp_path / "model"
    shutil.copytree(packaged_model_dir(), model_dir, ignore=shutil.ignore_patterns("*.safetensors"))
    weights = bytearray((packaged_model_dir() / "model.safetensors").read_bytes())
    weights[-1] ^= 0xFF
    (model_dir / "model.safetensors").write_bytes(weights)
    folder = copy_export(exported, tmp_path / "onnx")
    assert _stale(model_dir, folder) == "the weights file changed"
    with pytest.raises(ModelError, match="does not match the pinned all-MiniLM-L6-v2 release"):
        ready_graph(model_dir, folder)


def test_a_failed_export_says_why(exported: Path, tmp_path: Path) -> None:
    """A damaged graph and no torch to export it again: a ModelError naming the cause,
    not a crash in onnxruntime."""
    folder = copy_export(exported, tmp_path / "onnx")
    (folder / GRAPH).write_bytes(b"not a graph")
    probe = (
        "import sys\n"
        "sys.modules['torch'] = None\n"
        "from pathlib import Path\n"
        "from assistant.embedder import packaged_model_dir\n"
        "from assistant.errors import ModelError\n"
        "from assistant.onnx_model import ready_graph\n"
        "try:\n"
        f"    ready_graph(packaged_model_dir(), Path({str(folder)!r}))\n"
        "except ModelError as exc:\n"
        "    print(exc)\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, cwd=ROOT, timeout=120
    )
    assert out.returncode == 0, out.stderr
    assert "cannot export the embedding model to ONNX: torch and transformers are needed" in (
        out.stdout
    )


def test_encoding_a_query_imports_no_torch(exported: Path) -> None:
    probe = (
        "import sys\n"
        "from pathlib import Path\n"
        "from assistant.config import EmbeddingSettings\n"
        "from assistant.embedder import Embedder\n"
        f"embedder = Embedder(EmbeddingSettings(), cache=Path({str(exported)!r}))\n"
        "assert embedder.encode(['When is Ana flying?']).shape == (1, 384)\n"
        "heavy = ('torch', 'transformers', 'sentence_transformers')\n"
        "print([m for m in heavy if m in sys.modules])\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, cwd=ROOT, timeout=120
    )
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "[]"
