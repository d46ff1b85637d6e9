"""Streaming AES-GCM sealing (store/sealing.py): round trips and tamper detection."""

from __future__ import annotations

import io
import os
import struct
from pathlib import Path

import numpy as np
import pytest

from store.errors import SnapshotError
from store.integrity import check_snapshot
from store.sealing import MAGIC, PREFIX, SEGMENT, TAG, SealedReader, SealedWriter, read_header

KEY = bytes(range(32))
OTHER_KEY = bytes(range(1, 33))
HEADER_ID = "abc123"
HEADER: dict[str, str | int] = {"kind": "vector-index", "seq": 42, "id": HEADER_ID}
MIB = 1 << 20


def random_bytes(size: int, seed: int = 7) -> bytes:
    return np.random.default_rng(seed).integers(0, 256, size, dtype=np.uint8).tobytes()


def seal(
    data: bytes, key: bytes = KEY, header: dict | None = None, chunk: int | None = None
) -> bytes:
    sink = io.BytesIO()
    writer = SealedWriter(sink, key, HEADER if header is None else header)
    if chunk is None:
        writer.write(data)
    else:
        for start in range(0, len(data), chunk):
            writer.write(data[start : start + chunk])
    writer.close()
    return sink.getvalue()


def unseal(blob: bytes, key: bytes = KEY, chunk: int | None = None) -> bytes:
    reader = SealedReader(io.BytesIO(blob), key)
    if chunk is None:
        return reader.read()
    out = bytearray()
    while piece := reader.read(chunk):
        out += piece
    return bytes(out)


def header_end(blob: bytes) -> int:
    start = len(MAGIC) + PREFIX
    (size,) = struct.unpack(">I", blob[start : start + 4])
    return start + 4 + size


def segments(blob: bytes) -> list[tuple[int, int]]:
    """(offset of the 4-byte length, ciphertext length) of every segment."""
    out = []
    pos = header_end(blob)
    while pos < len(blob):
        (size,) = struct.unpack(">I", blob[pos : pos + 4])
        out.append((pos, size))
        pos += 4 + size
    assert pos == len(blob)
    return out


def flip(blob: bytes, index: int, mask: int = 0x01) -> bytes:
    damaged = bytearray(blob)
    damaged[index] ^= mask
    return bytes(damaged)


def assert_rejected(blob: bytes, key: bytes = KEY) -> None:
    with pytest.raises(SnapshotError):
        unseal(blob, key)


@pytest.fixture(scope="module")
def big() -> tuple[bytes, bytes]:
    """3.5 MiB of random bytes and their sealed form (four segments)."""
    data = random_bytes(3 * MIB + MIB // 2)
    return data, seal(data)


# -- round trips -----------------------------------------------------------------


@pytest.mark.parametrize("size", [0, 1, MIB, MIB + 1, 3 * MIB + MIB // 2])
def test_round_trip(size: int) -> None:
    data = random_bytes(size, seed=size)
    blob = seal(data)
    assert unseal(blob) == data
    # Reading in odd-sized pieces (as tarfile does) gives the same bytes.
    assert unseal(blob, chunk=10_240) == data
    assert unseal(blob, chunk=SEGMENT + 3) == data


@pytest.mark.parametrize(
    ("size", "count", "last_plain"),
    [
        (0, 1, 0),
        (1, 1, 1),
        (MIB, 1, MIB),  # exactly one segment: it is the flagged last one
        (MIB + 1, 2, 1),
        (3 * MIB + MIB // 2, 4, MIB // 2),
    ],
)
def test_segment_layout(size: int, count: int, last_plain: int) -> None:
    segs = segments(seal(random_bytes(size)))
    assert len(segs) == count
    assert all(length == SEGMENT + TAG for _, length in segs[:-1])
    assert segs[-1][1] == last_plain + TAG


def test_chunked_writes_round_trip() -> None:
    data = random_bytes(2 * MIB + 12_345, seed=3)
    for chunk in (1000, 4096, MIB - 1, MIB, MIB + 1):
        assert unseal(seal(data, chunk=chunk)) == data


def test_each_seal_uses_a_fresh_nonce_prefix() -> None:
    data = random_bytes(1000)
    first, second = seal(data), seal(data)
    assert first != second
    assert unseal(first) == unseal(second) == data


# -- header ----------------------------------------------------------------------


def test_header_readable_without_key(tmp_path: Path, big: tuple[bytes, bytes]) -> None:
    _, blob = big
    assert blob.startswith(MAGIC)
    path = tmp_path / "vectors.sealed"
    path.write_bytes(blob)
    assert read_header(path) == HEADER
    assert SealedReader(io.BytesIO(blob), KEY).header == HEADER
    # The header is readable with any key, but the content is not.
    assert SealedReader(io.BytesIO(blob), OTHER_KEY).header == HEADER


def test_plaintext_not_in_sealed_bytes(big: tuple[bytes, bytes]) -> None:
    secret = b"my bank PIN is 4921 and I dislike my neighbour. " * 50_000
    blob = seal(secret)
    assert b"bank PIN" not in blob
    assert b"neighbour" not in blob
    assert unseal(blob) == secret
    data, sealed = big
    for start in (0, MIB - 10, 2 * MIB + 5, len(data) - 32):
        assert data[start : start + 32] not in sealed


# -- wrong key and damage ----------------------------------------------------------


@pytest.mark.parametrize("size", [0, 1, MIB + 1])
def test_wrong_key(size: int) -> None:
    assert_rejected(seal(random_bytes(size)), OTHER_KEY)


def test_bad_magic() -> None:
    with pytest.raises(SnapshotError):
        SealedReader(io.BytesIO(b"NOTSEAL!" + os.urandom(100)), KEY)


def test_every_header_byte_is_authenticated() -> None:
    blob = seal(random_bytes(MIB + 1))
    for index in range(header_end(blob)):
        for mask in (0x01, 0x80):
            assert_rejected(flip(blob, index, mask))


def test_every_segment_length_byte_is_checked(big: tuple[bytes, bytes]) -> None:
    _, blob = big
    for offset, _ in segments(blob):
        for index in range(offset, offset + 4):
            for mask in (0x01, 0x10, 0x80):
                assert_rejected(flip(blob, index, mask))


def test_segment_length_of_empty_last_segment_is_checked() -> None:
    blob = seal(b"")
    ((offset, size),) = segments(blob)
    assert size == TAG
    for index in range(offset, offset + 4):
        assert_rejected(flip(blob, index))


def test_ciphertext_bytes_are_authenticated(big: tuple[bytes, bytes]) -> None:
    _, blob = big
    for offset, size in segments(blob):
        body = offset + 4
        # first byte, a middle byte, last ciphertext byte, and bytes of the tag
        for index in (
            body,
            body + size // 2,
            body + size - TAG - 1,
            body + size - TAG,
            body + size - 1,
        ):
            assert_rejected(flip(blob, index))


def test_small_ciphertext_flips() -> None:
    blob = seal(b"x")
    body = segments(blob)[0][0] + 4
    for index in range(body, len(blob)):
        assert_rejected(flip(blob, index))


# -- truncation, extension, reordering ----------------------------------------------


def test_truncation_anywhere(big: tuple[bytes, bytes]) -> None:
    _, blob = big
    segs = segments(blob)
    cuts = {
        0,
        5,
        len(MAGIC),
        len(MAGIC) + PREFIX + 2,
        header_end(blob) - 1,
        header_end(blob),
        header_end(blob) + 2,
        header_end(blob) + 4,
        header_end(blob) + 100,
        len(blob) - 1,
        len(blob) - TAG,
        len(blob) // 2,
    }
    for offset, _ in segs:
        cuts |= {offset, offset + 1, offset + 4, offset + 5}
    for cut in sorted(cuts):
        assert cut < len(blob)
        assert_rejected(blob[:cut])


@pytest.mark.parametrize("size", [MIB + 1, 2 * MIB, 3 * MIB + MIB // 2])
def test_dropping_the_last_segment_is_detected(size: int) -> None:
    """Ends on a whole non-final segment: only the last-segment flag tells."""
    data = random_bytes(size)
    blob = seal(data)
    last_offset = segments(blob)[-1][0]
    truncated = blob[:last_offset]
    reader = SealedReader(io.BytesIO(truncated), KEY)
    # Everything that is there authenticates ...
    assert reader.read(SEGMENT) == data[:SEGMENT]
    # ... but the end of the stream is missing.
    with pytest.raises(SnapshotError):
        reader.read()


def test_dropping_segments_but_keeping_the_last_is_detected(big: tuple[bytes, bytes]) -> None:
    _, blob = big
    segs = segments(blob)
    start_second, start_third = segs[1][0], segs[2][0]
    assert_rejected(blob[:start_second] + blob[start_third:])


@pytest.mark.parametrize("garbage", [b"\x00", b"x" * 100, None])
def test_appended_garbage(garbage: bytes | None, big: tuple[bytes, bytes]) -> None:
    _, blob = big
    if garbage is None:  # a whole extra valid-looking segment: a copy of the last one
        offset, _ = segments(blob)[-1]
        garbage = blob[offset:]
    assert_rejected(blob + garbage)


def test_appended_garbage_small_file() -> None:
    assert_rejected(seal(b"") + b"\x00")
    assert_rejected(seal(b"hello") + b"more")


def _swap(blob: bytes, first: int, second: int) -> bytes:
    segs = segments(blob)
    pieces = [blob[off : off + 4 + size] for off, size in segs]
    pieces[first], pieces[second] = pieces[second], pieces[first]
    return blob[: header_end(blob)] + b"".join(pieces)


@pytest.mark.parametrize(("first", "second"), [(0, 1), (1, 2), (0, 2), (2, 3), (0, 3)])
def test_swapping_segments(first: int, second: int, big: tuple[bytes, bytes]) -> None:
    _, blob = big
    swapped = _swap(blob, first, second)
    assert swapped != blob and len(swapped) == len(blob)
    assert_rejected(swapped)


def test_segments_of_another_file_are_rejected() -> None:
    """Same key, same header: the random per-file prefix still binds segments to their file."""
    data = random_bytes(MIB + 1)
    one, two = seal(data), seal(data)
    spliced = one[: segments(one)[1][0]] + two[segments(two)[1][0] :]
    assert_rejected(spliced)


def test_header_swapped_between_files_is_rejected() -> None:
    data = random_bytes(100)
    one = seal(data, header={"seq": 1})
    two = seal(data, header={"seq": 2})
    assert_rejected(two[: header_end(two)] + one[header_end(one) :])


# -- checking a sealed file on disk (`me check`) ------------------------------------


def test_check_snapshot_authenticates_to_the_last_byte(
    tmp_path: Path, big: tuple[bytes, bytes]
) -> None:
    (tmp_path / "data").mkdir()
    path = tmp_path / "data" / "vectors.sealed"
    path.write_bytes(big[1])
    seen: list[tuple[str, int, int]] = []
    found = check_snapshot(path, KEY, HEADER_ID, lambda *args: seen.append(args))
    assert found.ok and found.size == len(big[1]) and not found.missing
    assert seen[-1] == ("Authenticating vectors.sealed", len(big[1]), len(big[1]))
    assert len(seen) >= 4  # one step per segment at least
    assert list(path.parent.iterdir()) == [path]  # nothing unpacked next to it


@pytest.mark.parametrize(
    ("damage", "message"),
    [
        ("flip in the last segment", "failed authentication"),
        ("cut", "truncated"),
        ("wrong key", "failed authentication"),
        ("another snapshot", "not the snapshot this database last sealed"),
    ],
)
def test_check_snapshot_names_the_problem(
    tmp_path: Path, big: tuple[bytes, bytes], damage: str, message: str
) -> None:
    path = tmp_path / "vectors.sealed"
    blob, key, expected = big[1], KEY, HEADER_ID
    if damage == "flip in the last segment":
        blob = flip(blob, len(blob) - 10)
    elif damage == "cut":
        blob = blob[: len(blob) // 2]
    elif damage == "wrong key":
        key = OTHER_KEY
    else:
        expected = "some-other-id"
    path.write_bytes(blob)
    found = check_snapshot(path, key, expected)
    assert not found.ok and message in found.problem


def test_check_snapshot_of_a_missing_file(tmp_path: Path) -> None:
    found = check_snapshot(tmp_path / "vectors.sealed", KEY, None)
    assert found.missing and found.ok
