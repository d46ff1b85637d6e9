"""`me forget --source` leaves no copy, verified by canaries as an attacker would look.

Two sources go through the real CLI (sync, reflect, ask, recall): one full of random
canaries (in prose, in facts reflection learns, in a chat sender's name), one with
control canaries. After `me forget --source` of the first, every output command is run
and searched, then every file at rest: raw, the database's pages and WAL decrypted
with the vault key (free pages included), and the sealed vector index decrypted and
unpacked; the stored embeddings of the forgotten memories are searched too. The
controls prove each search would have found them.
"""

from __future__ import annotations

import base64
import io
import json
import random
import string
import tarfile
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from assistant import paths as paths_mod
from assistant.cli import cli
from assistant.vault import Secrets, unlock
from store.sealing import SealedReader
from tests.conftest import PASSPHRASE, run_me
from tests.sqlcipher_pages import plaintext

pytestmark = pytest.mark.slow


def canaries(n: int, seed: int) -> list[str]:
    """Random words no text shares. They end in a digit so that no stemmer trims them,
    and the FTS index's prefix compression never hides their last eight characters."""
    rng = random.Random(seed)
    alphabet = string.ascii_lowercase + string.digits
    return [
        "Cnry" + "".join(rng.choices(alphabet, k=11)) + rng.choice("0123456789") for _ in range(n)
    ]


def needles(words: list[str]) -> tuple[list[bytes], list[bytes]]:
    """(exact forms: UTF-8, UTF-16, base64 at each alignment; lower-case tails to find
    index terms in lower-cased data)."""
    exact: list[bytes] = []
    for word in words:
        raw = word.encode()
        exact += [raw, word.encode("utf-16-le")]
        for pad in range(3):
            encoded = base64.b64encode(b"\x00" * pad + raw)
            exact.append(encoded[4 : len(encoded) - 4])
    return exact, [w[-8:].lower().encode() for w in words]


def found_in(data: bytes, words: list[str]) -> set[str]:
    exact, tails = needles(words)
    lowered = data.lower()
    hit = set()
    for i, word in enumerate(words):
        forms = exact[i * 5 : i * 5 + 5]
        if any(f in data for f in forms) or tails[i] in lowered:
            hit.add(word)
    return hit


def write_sources(root: Path, gone: list[str], kept: list[str]) -> tuple[Path, Path]:
    a, b = root / "private", root / "kept"
    a.mkdir(parents=True)
    b.mkdir(parents=True)
    prose = gone[:12]
    for i in range(0, len(prose), 3):
        words = prose[i : i + 3]
        (a / f"meeting-{i}.md").write_text(
            f"---\ndate: 2024-0{1 + i // 3}-10\n---\n# Meeting\n\n"
            + "\n\n".join(f"The code word for the meeting was {w}." for w in words)
            + "\n",
            encoding="utf-8",
        )
    employer, city, allergen, sender = gone[12:16]
    (a / "me.md").write_text(
        "---\ndate: 2024-03-01\n---\n"
        f"I work at {employer} Labs as a data engineer.\n\n"
        f"I moved to {city} last week.\n\n"
        f"I'm allergic to {allergen.lower()}.\n",
        encoding="utf-8",
    )
    chat = [
        {"time": f"2024-04-0{i + 1}T10:00:00+00:00", "sender": sender, "conversation": sender,
         "text": f"Remember the password hint {w}, see you at the {w} bakery.", "id": i}
        for i, w in enumerate(gone[16:20])
    ]  # fmt: skip
    (a / "chat.jsonl").write_text("\n".join(json.dumps(m) for m in chat) + "\n", encoding="utf-8")
    (b / "kept.md").write_text(
        "---\ndate: 2024-05-01\n---\n# Kept\n\n"
        + "\n\n".join(f"The safe word for the garden is {w}." for w in kept)
        + "\n",
        encoding="utf-8",
    )
    return a, b


def outputs(runner: CliRunner, refs: list[str], words: list[str]) -> dict[str, str]:
    """What every output command prints after the forget, by command line."""
    commands: list[list[str]] = [
        ["persona"], ["persona", "--all", "--json"], ["thoughts"], ["thoughts", "--all", "--json"],
        ["sources", "list", "--json"], ["status", "--json"],
        ["ask", "--no-remember", "--json", "what", "was", "the", "code", "word?"],
        ["ask", "--no-remember", "where", "do", "I", "work?"],
        *(["recall", "--json", "-k", "20", w] for w in words[::4]),
        *(["history", r] for r in refs), *(["why", r, "--json"] for r in refs),
    ]  # fmt: skip
    out = {}
    for args in commands:
        result = runner.invoke(cli, args)
        out[" ".join(args)] = result.output + (str(result.exception) if result.exception else "")
    return out


def sealed_contents(snapshot: Path, key: bytes) -> bytes:
    with snapshot.open("rb") as fh:
        data = io.BytesIO(SealedReader(fh, key).read())
    with tarfile.open(fileobj=data) as tar:
        return b"".join(f.read() for m in tar.getmembers() if (f := tar.extractfile(m)) is not None)


def at_rest(roots: list[Path]) -> bytes:
    return b"".join(
        p.read_bytes() for r in roots if r.exists() for p in r.rglob("*") if p.is_file()
    )


def vectors_of(sql: str, args: tuple[Any, ...] = ()) -> list[bytes]:
    """Stored embeddings, read in-process with the vault's key (the vault is closed)."""
    import sqlcipher3

    paths = paths_mod.resolve()
    keys = unlock(paths, Secrets(ask_passphrase=lambda _c: PASSPHRASE))
    conn = sqlcipher3.connect(str(paths.database))
    conn.execute(f"PRAGMA key = \"x'{keys.database.hex()}'\"")
    try:
        return [r[0][:64] for r in conn.execute(sql, args)]
    finally:
        conn.close()


def test_forget_a_source_leaves_no_copy_anywhere(
    tmp_path: Path, isolated_home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    gone, kept = canaries(20, 8), canaries(6, 9)
    private, keep = write_sources(tmp_path / "src", gone, kept)
    temp = tmp_path / "tmp"
    temp.mkdir()
    env = {"SECONDSELF_PASSPHRASE": PASSPHRASE, "TMPDIR": str(temp)}
    run_me("init", "--mode", "passphrase", env=env)
    run_me("sources", "add", str(private), env=env)
    run_me("sources", "add", str(keep), env=env)
    run_me("sync", env=env)
    run_me("reflect", env=env)
    run_me("ask", "where do I work?", env=env)
    run_me("ask", "what was the code word for the meeting?", env=env)
    run_me("recall", gone[0], env=env)

    paths = paths_mod.resolve()
    keys = unlock(paths, Secrets(ask_passphrase=lambda _c: PASSPHRASE))
    episode_vectors = vectors_of(
        "SELECT v.vector FROM vectors v JOIN episodes e ON e.id = v.episode_id "
        "JOIN documents d ON d.id = e.document_id WHERE d.source_id = 1"
    )
    thought_vectors = vectors_of(
        "SELECT vector FROM thoughts WHERE id IN (SELECT thought_id FROM thought_evidence "
        "WHERE episode_id IN (SELECT e.id FROM episodes e JOIN documents d "
        "ON d.id = e.document_id WHERE d.source_id = 1))"
    )
    assert len(episode_vectors) >= 9 and thought_vectors
    # Positive controls before the forget: the searches find what is there.
    before = plaintext(paths.database, keys.database)
    assert found_in(before, gone) == set(gone)
    sealed_before = sealed_contents(paths.snapshot, keys.snapshot)
    assert all(v in sealed_before for v in episode_vectors)
    monkeypatch.setenv("SECONDSELF_PASSPHRASE", PASSPHRASE)
    runner = CliRunner()
    derived = [
        json.loads(line)
        for args in (["persona", "--all", "--json"], ["thoughts", "--all", "--json"])
        for line in runner.invoke(cli, args).stdout.splitlines()
    ]
    refs = [d["id"] for d in derived if found_in(json.dumps(d).encode(), gone)]
    assert any(r.startswith("f") for r in refs) and any(r.startswith("t") for r in refs)
    refs += ["l1", "l2", "l3"]

    run_me("forget", "--source", "1", "--yes", env=env)

    printed = outputs(runner, refs, gone)
    leaks = {cmd: found_in(text.encode(), gone) for cmd, text in printed.items()}
    assert {cmd: hit for cmd, hit in leaks.items() if hit} == {}
    roots = [isolated_home, paths.runtime, temp]
    assert found_in(at_rest(roots), gone) == set()
    pages = plaintext(paths.database, keys.database)
    assert found_in(pages, gone) == set()
    sealed = sealed_contents(paths.snapshot, keys.snapshot)
    assert found_in(sealed, gone) == set()
    vectors = episode_vectors + thought_vectors
    assert [i for i, v in enumerate(vectors) if v in pages or v in sealed] == []
    # Controls after: what was kept is still there, and found by the same searches.
    assert found_in(pages, kept) == set(kept)
    kept_hit = json.loads(runner.invoke(cli, ["recall", "--json", kept[0]]).stdout.splitlines()[0])
    assert kept[0] in kept_hit["text"]
