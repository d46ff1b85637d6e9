"""The service seam: typed results, and the in-process backend that opens the vault for
each call, never before a request is known to be well formed, and always closes it."""

from __future__ import annotations

from pathlib import Path

import pytest

from assistant import config as config_mod
from assistant.errors import MemoryRefError, QueryError
from assistant.memory import Memory
from assistant.paths import Paths
from assistant.runtime import VaultLock
from assistant.service.backend import Backend, InProcess
from assistant.service.core import AskRequest, RecallRequest
from assistant.vault import Secrets


class Opener:
    """Opens the test vault and counts how often it was asked to."""

    def __init__(self, paths: Paths, secrets: Secrets) -> None:
        self.paths, self.secrets, self.calls = paths, secrets, 0

    def __call__(self) -> Memory:
        self.calls += 1
        return Memory.open(self.paths, config_mod.load(self.paths.config_file), self.secrets)


@pytest.fixture
def opener(vault: Paths, secrets: Secrets) -> Opener:
    return Opener(vault, secrets)


@pytest.fixture
def backend(vault: Paths, opener: Opener) -> Backend:
    return InProcess(vault, config_mod.load(vault.config_file), opener)


def test_each_call_opens_and_closes_the_vault(
    backend: Backend, opener: Opener, vault: Paths, tmp_path: Path
) -> None:
    notes = tmp_path / "notes"
    notes.mkdir()
    (notes / "dog.md").write_text("# Dog\n\nTook Miso the dog to the beach at Nazaré.\n")
    with opener() as memory:  # ingest is not behind the seam yet: through the memory
        from assistant.ingest import ingest

        assert ingest(memory, [notes]).added == 1
    hits = backend.recall(RecallRequest("Miso beach", k=1))
    assert [h.text for h in hits] == ["Took Miso the dog to the beach at Nazaré."]
    assert hits[0].as_json()["quarantined"] is False
    # The vault is closed after the call: another holder may take it at once, and
    # no plaintext index copy is left in the runtime folder.
    lock = VaultLock(vault.lock_file, 0)
    assert lock.try_acquire()
    lock.release()
    assert not vault.vector_dir.exists()
    explained = backend.why(f"e{hits[0].id}")
    assert explained.kind == "episode" and explained.ref == f"e{hits[0].id}"
    assert explained.fields["strength"] == 2.0  # the recall above strengthened it
    assert explained.as_json()["id"] == explained.ref
    assert 0.0 < explained.fields["retention"] <= 1.0
    assert opener.calls == 3


def test_bad_requests_fail_before_the_vault_is_opened(backend: Backend, opener: Opener) -> None:
    with pytest.raises(MemoryRefError):
        backend.why("zz9")
    with pytest.raises(QueryError):
        backend.ask(AskRequest("?!"))
    assert opener.calls == 0


def test_status_without_a_vault_opens_nothing(paths: Paths, secrets: Secrets) -> None:
    opener = Opener(paths, secrets)
    found = InProcess(paths, config_mod.Config(), opener).status()
    assert found.unlock_mode is None and found.counts is None
    assert found.as_json()["vault"] == "none (run `me init`)"
    assert opener.calls == 0


def test_status_counts_what_the_vault_holds(backend: Backend) -> None:
    found = backend.status()
    assert found.unlock_mode == "passphrase" and found.counts is not None
    assert found.counts.episodes == 0 and found.counts.index_vectors == 0
    assert found.as_json()["counts"] == {"sources": 0, "documents": 0, "episodes": 0, "vectors": 0}
    assert backend.thoughts(include_all=True) == []


def test_persona_edits_history_and_undo_through_the_seam(backend: Backend, opener: Opener) -> None:
    with pytest.raises(MemoryRefError, match="episodes are not changed"):
        backend.history("e1")
    assert opener.calls == 0  # refused before the vault was opened
    fact = backend.set_fact("me", "city", "Porto")
    assert (fact.person, fact.attribute, fact.value) == ("self", "city", "Porto")
    pinned = backend.flag("fact", fact.id, "pin")
    assert [f.pinned for f in backend.facts("me", "city")] == [True]
    records = backend.history(f"f{fact.id}")
    assert [r.op for r in records] == ["set", "pin"] and records[-1].id == pinned
    backend.undo(pinned)
    assert [f.pinned for f in backend.facts("me", "city")] == [False]
