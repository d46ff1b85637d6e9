"""The behaviour every connector promises, as a test class each connector's tests subclass.

Subclass `ConnectorContract` as `Test<Format>Contract`, set `connector`, and return a few
real fixture files from `sample_files`; override `make_file` when a bare UTF-8 body is not
a valid file of the format (a chat export, say). Named without `Test` so pytest collects
it only through its subclasses.
"""

from __future__ import annotations

import json
import random
from datetime import UTC, datetime
from pathlib import Path
from typing import ClassVar

import pytest

from connectors.base import Connector, Item, ParseError

FIXTURES = Path(__file__).parent / "fixtures"
# A fixed modification time in UTC: parses of the same bytes must not depend on "now".
MTIME = datetime(2022, 6, 1, 12, 0, tzinfo=UTC)
UNICODE_SAMPLES = ("Açaí à São João", "東京で寿司を食べた", "🎉🇵🇹 👩‍💻", "Ελληνικά ça ñandú")


class ConnectorContract:
    """Shared tests; subclasses provide the connector and its sample files."""

    connector: ClassVar[Connector]

    def sample_files(self) -> list[Path]:
        """Valid fixture files this connector must read into at least one item each."""
        raise NotImplementedError

    def make_file(self, directory: Path, body: str) -> Path:
        """A valid file of this format whose text content is `body`."""
        path = directory / f"sample{self.connector.extensions[0]}"
        path.write_text(body, encoding="utf-8")
        return path

    def parse(self, path: Path) -> list[Item]:
        return self.connector.parse(path, path.read_bytes(), MTIME)

    def test_has_samples(self) -> None:
        samples = self.sample_files()
        assert samples, "a connector's contract needs fixture files"
        assert all(path.is_file() for path in samples)

    def test_samples_yield_items(self) -> None:
        for path in self.sample_files():
            assert self.parse(path), f"{path.name} gave no items"

    def test_parse_is_deterministic(self) -> None:
        for path in self.sample_files():
            first, second = self.parse(path), self.parse(path)
            assert first == second
            assert [i.source_ref for i in first] == [i.source_ref for i in second]
            assert [i.content_hash for i in first] == [i.content_hash for i in second]

    def test_source_refs_unique_within_a_file(self) -> None:
        for path in self.sample_files():
            refs = [item.source_ref for item in self.parse(path)]
            assert len(refs) == len(set(refs)), f"duplicate refs in {path.name}: {refs}"

    def test_items_name_their_document_and_kind(self) -> None:
        for path in self.sample_files():
            for item in self.parse(path):
                assert item.source_ref == f"{item.document}#{item.locator}"
                assert item.locator
                assert item.kind == self.connector.kind
                if self.connector.history == "replace":  # the file is the unit
                    assert item.document == str(path.resolve())
                else:  # a conversation, whichever export file it came from
                    assert str(path.resolve()) not in item.document
                    assert (
                        item.document.startswith(f"{self.connector.name}:") or ":" in item.document
                    )

    def test_history_is_declared(self) -> None:
        assert self.connector.history in ("replace", "append")

    def test_authors_are_resolvable(self) -> None:
        """A format that does not say who wrote an item must say who sent it."""
        from assistant.identity import Identity

        nobody = Identity(frozenset())
        for path in self.sample_files():
            for item in self.parse(path):
                assert item.author in ("self", "other", "unknown")
                if self.connector.history == "append" and item.author == "unknown":
                    assert item.sender, f"{path.name}: message {item.locator} has no sender"
                    assert nobody.author_of(item) == "other"

    def test_registry_detects_samples_as_this_format(self) -> None:
        """Auto-detection over every installed connector picks this one, every time."""
        from connectors.registry import available_connectors, connector_for

        installed = available_connectors()
        if self.connector.name not in {c.name for c in installed}:
            pytest.skip(f"{self.connector.name} is not installed as a plugin")
        for path in self.sample_files():
            picks = {connector_for(path, installed).name for _ in range(2)}  # type: ignore[union-attr]
            assert picks == {self.connector.name}, f"{path.name} detected as {picks}"

    def test_times_are_timezone_aware(self) -> None:
        for path in self.sample_files():
            for item in self.parse(path):
                assert item.time.tzinfo is not None, f"naive time in {path.name}"
                assert item.time.utcoffset() is not None

    def test_no_empty_texts(self) -> None:
        for path in self.sample_files():
            for item in self.parse(path):
                assert item.text.strip(), f"empty item in {path.name}: {item.locator}"

    def test_meta_is_json_serializable(self) -> None:
        for path in self.sample_files():
            for item in self.parse(path):
                json.dumps(dict(item.meta), allow_nan=False)

    def test_detect_accepts_samples(self) -> None:
        for path in self.sample_files():
            with path.open("rb") as fh:
                head = fh.read(4096)
            assert self.connector.detect(path, head), f"{path.name} not detected"

    def test_unicode_survives(self, tmp_path: Path) -> None:
        body = "\n\n".join(UNICODE_SAMPLES) + "\n"
        items = self.parse(self.make_file(tmp_path, body))
        text = "\n".join(item.text for item in items)
        for sample in UNICODE_SAMPLES:
            assert sample in text

    @pytest.mark.parametrize("seed", [0, 1, 2, 3])
    def test_garbage_raises_parse_error(self, tmp_path: Path, seed: int) -> None:
        rng = random.Random(seed)
        junk = bytearray(rng.randbytes(2048))
        junk[rng.randrange(64)] = 0  # random bytes plus at least one NUL
        path = tmp_path / f"junk{self.connector.extensions[0]}"
        path.write_bytes(bytes(junk))
        with pytest.raises(ParseError):
            self.parse(path)

    def test_all_nul_file_raises_parse_error(self, tmp_path: Path) -> None:
        path = tmp_path / f"zeros{self.connector.extensions[0]}"
        path.write_bytes(b"\x00" * 512)
        with pytest.raises(ParseError):
            self.parse(path)
