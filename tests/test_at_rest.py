"""Nothing readable at rest: canaries and their embeddings never reach disk in the clear.

Notes carrying 200 unique random canaries go through the real CLI (init, ingest,
recall, status). Afterwards every file under SECONDSELF_HOME, the runtime folder
and the temp folder is searched for each canary (UTF-8, UTF-16-LE, base64) and
for the raw float32 bytes of the canaries' embeddings. Positive controls prove the
search would find them if they were there.
"""

from __future__ import annotations

import base64
import json
import random
import string
from pathlib import Path

import pytest

from assistant import config as config_mod
from assistant import paths as paths_mod
from assistant.memory import Memory
from assistant.vault import Secrets
from tests.conftest import PASSPHRASE, run_me

pytestmark = pytest.mark.slow


def make_canaries(n: int) -> list[str]:
    rng = random.Random(20261122)
    return [
        "cnry" + "".join(rng.choices(string.ascii_lowercase + string.digits, k=16))
        for _ in range(n)
    ]


def encodings(canary: str) -> list[bytes]:
    raw = canary.encode()
    forms = [raw, canary.encode("utf-16-le")]
    for pad in range(3):  # base64 of the canary at each alignment, edge chars dropped
        encoded = base64.b64encode(b"\x00" * pad + raw)
        forms.append(encoded[4 : len(encoded) - 4])
    return forms


def files_under(*roots: Path) -> list[Path]:
    return [p for r in roots if r.exists() for p in r.rglob("*") if p.is_file()]


def hits(needles: list[bytes], roots: list[Path]) -> list[tuple[str, bytes]]:
    found = []
    for path in files_under(*roots):
        data = path.read_bytes()
        found += [(str(path), n) for n in needles if n in data]
    return found


def test_no_plaintext_or_embeddings_at_rest(tmp_path: Path, isolated_home: Path) -> None:
    canaries = make_canaries(200)
    notes = tmp_path / "notes"
    notes.mkdir()
    for i in range(20):
        paragraphs = [
            f"Meeting note {j}: the code word was {c}."
            for j, c in enumerate(canaries[i * 10 : (i + 1) * 10])
        ]
        (notes / f"note-{i:02d}.md").write_text(
            f"# Note {i}\n\n" + "\n\n".join(paragraphs) + "\n", encoding="utf-8"
        )
    temp = tmp_path / "tmp"
    temp.mkdir()
    env = {"SECONDSELF_PASSPHRASE": PASSPHRASE, "TMPDIR": str(temp)}
    paths = paths_mod.resolve()

    run_me("init", "--mode", "passphrase", env=env)
    run_me("ingest", str(notes), env=env)
    for canary in canaries[::50]:
        out = run_me("recall", canary, "-k", "1", "--json", env=env).stdout
        assert canary in json.loads(out.splitlines()[0])["text"]
    run_me("status", env=env)

    # Exact stored embeddings of the canary chunks (decrypted in-process), as needles.
    secrets = Secrets(ask_passphrase=lambda _c: PASSPHRASE)
    with Memory.open(paths, config_mod.load(paths.config_file), secrets) as memory:
        blobs = [
            r[0]
            for r in memory.db.conn.execute(
                "SELECT v.vector FROM vectors v JOIN episodes e ON e.id = v.episode_id "
                "WHERE e.text LIKE '%code word%'"
            )
        ]
        assert len(blobs) >= 20
        vector_needles = [b[:64] for b in blobs]
        # Positive control: while open, the runtime copy holds them in the clear.
        assert hits(vector_needles[:3], [paths.runtime])

    roots = [isolated_home, paths.runtime, temp]
    assert not paths.runtime.exists() or not any(files_under(paths.runtime))
    text_needles = [form for c in canaries for form in encodings(c)]
    assert hits(text_needles, roots) == []
    assert hits(vector_needles, roots) == []
    # Positive control: the same search finds the canaries in the source notes.
    assert len({n for _, n in hits([c.encode() for c in canaries], [notes])}) == 200
