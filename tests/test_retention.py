"""The forgetting curve: its properties, its bounded effect on ranking, and reinforcement."""

from __future__ import annotations

import json
import math
import time
from pathlib import Path

import pytest
from click.testing import CliRunner
from hypothesis import given
from hypothesis import strategies as st

from assistant.cli import cli
from assistant.ingest import ingest
from assistant.memory import Memory
from assistant.recall import recall, with_retention
from assistant.retention import rank_factor, retention, retention_at

days = st.floats(min_value=0, max_value=36_500, allow_nan=False)
strengths = st.floats(min_value=1, max_value=1_000, allow_nan=False)
ks = st.floats(min_value=0.5, max_value=365, allow_nan=False)


@given(days, strengths, ks)
def test_retention_is_in_0_1(dt: float, s: float, k: float) -> None:
    assert 0 < retention(dt, s, k) <= 1 or retention(dt, s, k) == 0.0 and dt / (k * s) > 700


@given(days, days, strengths, ks)
def test_retention_falls_with_time(a: float, b: float, s: float, k: float) -> None:
    early, late = sorted((a, b))
    assert retention(early, s, k) >= retention(late, s, k)


@given(st.floats(min_value=0.1, max_value=3650), strengths, strengths, ks)
def test_stronger_memories_fade_slower(dt: float, a: float, b: float, k: float) -> None:
    weak, strong = sorted((a, b))
    assert retention(dt, strong, k) >= retention(dt, weak, k)
    # MemoryBank's published exp(-t/5*S) has this backwards; the corrected form does not.
    # Strictly only for strengths apart by more than rounding (1 vs 1 + 2e-16 is equal).
    if strong > weak * (1 + 1e-6) and dt / (k * weak) < 50:
        assert retention(dt, strong, k) > retention(dt, weak, k)


def test_known_values() -> None:
    assert retention(0, 1, 30) == 1.0
    assert retention(30, 1, 30) == pytest.approx(math.exp(-1))
    assert retention(30, 2, 30) == pytest.approx(math.exp(-0.5))
    assert rank_factor(0.0, 0.8) == 0.8 and rank_factor(1.0, 0.8) == 1.0
    assert retention_at(1e9, 0, None, 1, 30, pinned=True) == 1.0  # pins never fade


@pytest.fixture
def two_notes(memory: Memory, tmp_path: Path) -> Memory:
    """Two similar notes; the "old" one entered the store in 2019 and was never recalled."""
    (tmp_path / "old.md").write_text(
        "---\ndate: 2019-05-01\n---\nThe blue bicycle is in the garage.\n"
    )
    (tmp_path / "new.md").write_text(
        "---\ndate: 2019-05-02\n---\nThe blue bicycle is in the shed.\n"
    )
    ingest(memory, [tmp_path])
    with memory.db.write() as conn:
        conn.execute(
            "UPDATE episodes SET ingested_at = '2019-05-01T10:00:00+00:00' "
            "WHERE text LIKE '%garage%'"
        )
    return memory


def ids_by_text(memory: Memory) -> dict[str, int]:
    return {t: i for i, t in memory.db.conn.execute("SELECT id, text FROM episodes")}


def test_recency_is_a_bounded_tie_breaker(two_notes: Memory) -> None:
    ids = ids_by_text(two_notes)
    old = ids["The blue bicycle is in the garage."]
    new = ids["The blue bicycle is in the shed."]
    scored = dict(with_retention(two_notes, [(old, 1.0), (new, 1.0)]))
    assert scored[new] == pytest.approx(1.0, abs=1e-3)  # just stored: R = 1
    assert scored[new] > scored[old] >= 0.95  # it wins a tie; the floor holds
    # A clearly better match stays first however long unrecalled (the floor bounds decay).
    assert dict(with_retention(two_notes, [(old, 1.0), (new, 0.9)]))[old] > 0.9


def test_recall_reinforces_only_when_asked(two_notes: Memory) -> None:
    def strength() -> dict[str, float]:
        return dict(two_notes.db.conn.execute("SELECT text, strength FROM episodes"))

    recall(two_notes, "blue bicycle garage", k=1)
    assert set(strength().values()) == {1.0}
    hit = recall(two_notes, "blue bicycle garage", k=1, reinforce=True)[0]
    after = strength()
    assert after[hit.text] == 2.0
    assert [s for t, s in after.items() if t != hit.text] == [1.0]
    last = two_notes.db.conn.execute(
        "SELECT last_access FROM episodes WHERE id = ?", (hit.id,)
    ).fetchone()[0]
    assert abs(last - time.time()) < 60


def test_me_why_explains_a_memory(two_notes: Memory, monkeypatch: pytest.MonkeyPatch) -> None:
    from tests.conftest import PASSPHRASE

    target = ids_by_text(two_notes)["The blue bicycle is in the garage."]
    two_notes.close()
    monkeypatch.setenv("SECONDSELF_PASSPHRASE", PASSPHRASE)
    result = CliRunner().invoke(cli, ["why", str(target), "--json"])
    info = json.loads(result.stdout)
    assert info["date"].startswith("2019-05-01")
    assert info["strength"] == 1.0 and info["last_recall"] is None and info["pinned"] is False
    assert 0 <= info["retention"] < 0.01
    assert info["rank_factor"] == pytest.approx(0.95, abs=0.01)
    assert info["stored"].startswith("2019-05-01")
    assert info["source"].endswith("old.md") and info["author"] == "self"
    missing = CliRunner().invoke(cli, ["why", "999999"])
    assert missing.exit_code != 0
    two_notes.close = lambda: None  # type: ignore[method-assign]  # closed above
