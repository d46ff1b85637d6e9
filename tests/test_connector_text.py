"""Plain-text connector, plus the decoding, naming and chunking helpers it is built on."""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from connectors.base import Item, ParseError
from connectors.chunking import chunk_paragraphs, chunk_text, split_long, split_paragraphs
from connectors.dated_entries import dated_entries
from connectors.text import TextConnector
from connectors.textfile import aware, date_from_filename, decode_text, file_time
from tests.connector_contract import FIXTURES, MTIME, ConnectorContract

NOTES = FIXTURES / "notes"
BAD = FIXTURES / "bad"
ENCODINGS = FIXTURES / "encodings"
CONNECTOR = TextConnector()


def parse(path: Path) -> list[Item]:
    return CONNECTOR.parse(path, path.read_bytes(), MTIME)


class TestTextContract(ConnectorContract):
    connector = CONNECTOR

    def sample_files(self) -> list[Path]:
        return sorted(NOTES.rglob("*.txt")) + sorted(ENCODINGS.glob("*.txt"))


# --- the connector ------------------------------------------------------------------


def test_a_journal_is_one_memory_per_dated_entry() -> None:
    # Each paragraph opens with its day: each is its own memory, dated by that day (the
    # year is the file's), never by the file's modification time.
    items = parse(NOTES / "journal.txt")
    assert [i.locator for i in items] == [f"chunk:{n}" for n in range(6)]
    assert [i.time.date() for i in items] == [date(MTIME.year, 3, d) for d in range(4, 10)]
    assert items[0].text.startswith("Monday 4 March. Rain all day in Munich.")
    assert items[2].text.endswith("then build up slowly for the half marathon in October.")
    assert items[5].text.endswith("Booked train tickets to Berlin for Tomás's birthday in May.")
    assert [dict(i.meta) for i in items] == [{"chunk": n, "date_source": "entry"} for n in range(6)]
    assert {(i.title, i.author, i.kind) for i in items} == {(None, "self", "note")}
    assert items[1].source_ref == f"{(NOTES / 'journal.txt').resolve()}#chunk:1"


@pytest.mark.parametrize(
    ("text", "days"),
    [
        # ISO, with a weekday, American order, Portuguese; paragraphs after an entry's
        # first belong to it; text before the first entry keeps the file's time.
        ("Notes.\n\n2024-03-14 — Rain.\n\nStill rain.\n\nFriday 15 March 2024. Sun.",
         [None, "2024-03-14", "2024-03-15"]),
        ("March 3, 2024: moved.\n\n5 de março de 2024. Caixas.", ["2024-03-03", "2024-03-05"]),
        # A year-less entry takes the year of the one before.
        ("30 December 2023. Snow.\n\n2 January. Back at work.", ["2023-12-30", "2024-01-02"]),
        # Not dates: a number of things, a modal "may", a date later in the line.
        ("3 apples left.\n\nMay 2 of us come?\n\nOn 3 March we moved.", [None]),
    ],
)  # fmt: skip
def test_paragraphs_that_open_with_a_date_start_entries(text: str, days: list[str | None]) -> None:
    entries = dated_entries(split_paragraphs(text), 2024)
    assert [e.day.isoformat() if e.day else None for e in entries] == days
    assert sum(len(e.paragraphs) for e in entries) == len(split_paragraphs(text))  # none lost


def test_a_date_after_the_day_a_note_was_written_is_a_plan_not_an_entry() -> None:
    paragraphs = ["Ana's flights.", "Thursday 18 April 2024, TP 535 at 09:40."]
    [entry] = dated_entries(paragraphs, 2024, written=date(2024, 2, 12))
    assert entry.day is None and entry.paragraphs == paragraphs


def test_date_in_file_name_beats_mtime() -> None:
    items = parse(NOTES / "2023-12-31 year in review.txt")
    assert len(items) == 1
    assert items[0].time == datetime(2023, 12, 31).astimezone()
    assert items[0].meta == {"chunk": 0, "date_source": "file_name"}
    assert items[0].text.startswith("Year in review 2023\n\nBest trip: Porto in October")


def test_utf16_be_with_bom_decodes() -> None:
    items = parse(ENCODINGS / "utf16be_bom.txt")
    assert [i.text for i in items] == ["Wochenmarkt: Äpfel, Birnen, Käse. 🧀"]


def test_utf8_bom_is_dropped_and_old_mac_newlines_normalized() -> None:
    items = parse(ENCODINGS / "utf8_bom_cr.txt")
    assert [i.text for i in items] == ["First line\nsecond line\n\nNew paragraph über alles."]


def test_cp1252_text_decodes(tmp_path: Path) -> None:
    path = tmp_path / "old.txt"
    path.write_bytes("Olá, São Paulo – 10 €".encode("cp1252"))
    assert [i.text for i in parse(path)] == ["Olá, São Paulo – 10 €"]


def test_empty_and_blank_files_give_no_items(tmp_path: Path) -> None:
    assert CONNECTOR.parse(tmp_path / "a.txt", b"", MTIME) == []
    assert CONNECTOR.parse(tmp_path / "b.txt", b" \n\r\n\t\n", MTIME) == []


def test_detects_txt_only() -> None:
    assert CONNECTOR.detect(Path("journal.TXT"), b"")
    assert not CONNECTOR.detect(Path("note.md"), b"")
    assert (TextConnector.name, TextConnector.kind) == ("text", "note")


BAD_TEXT = {
    "binary_control_chars.txt": "binary file, not text: 208 of 210 characters are not printable",
    "undecodable_not_utf8_or_cp1252.txt": "not valid UTF-8 (bad byte at offset 3)",
}


@pytest.mark.parametrize("name", sorted(BAD_TEXT))
def test_each_bad_file_raises_its_parse_error(name: str) -> None:
    with pytest.raises(ParseError) as caught:
        parse(BAD / name)
    assert str(caught.value).startswith(BAD_TEXT[name])


def test_every_bad_text_fixture_has_an_expected_error() -> None:
    assert {p.name for p in BAD.glob("*.txt")} == set(BAD_TEXT)


def test_binary_markdown_fixture_is_rejected_by_the_text_connector_too(tmp_path: Path) -> None:
    path = tmp_path / "image.txt"
    path.write_bytes((BAD / "binary_nul_bytes.md").read_bytes())
    with pytest.raises(ParseError, match="binary file, not text: it contains NUL bytes"):
        parse(path)


# --- decode_text --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("data", "text"),
    [
        (b"", ""),
        (b"plain\r\nwindows\rmac\nunix", "plain\nwindows\nmac\nunix"),
        ("\ufeffBOM café".encode(), "BOM café"),
        (b"\xff\xfe" + "le ✓ 😀".encode("utf-16-le"), "le ✓ 😀"),
        (b"\xfe\xff" + "be ✓ 😀".encode("utf-16-be"), "be ✓ 😀"),
        ("caf\u00e9 \u201cq\u201d \u20ac".encode("cp1252"), "café “q” €"),
        (b"tab\tand form feed\x0c ok", "tab\tand form feed\x0c ok"),
    ],
)
def test_decode_text(data: bytes, text: str) -> None:
    assert decode_text(data) == text


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"text\x00more", "binary file, not text: it contains NUL bytes"),
        (
            b"\xff\xfe" + "a".encode("utf-16-le") + b"\x00\x00",
            "binary file, not text: it contains NUL",
        ),
        (b"\x01\x02\x03\x04ab", "binary file, not text: 4 of 6 characters are not printable"),
        (b"caf\xe9\x01 control", "not valid UTF-8 (bad byte at offset 3)"),
        (b"x\x81", "not valid UTF-8 (bad byte at offset 1)"),
        (b"\xef\xbb\xbfok\xe9", "file starts with a utf-8 byte-order mark but is not valid utf-8"),
        (b"\xfe\xff\x00", "file starts with a utf-16-be byte-order mark"),
    ],
)
def test_decode_text_rejects(data: bytes, message: str) -> None:
    with pytest.raises(ParseError) as caught:
        decode_text(data)
    assert str(caught.value).startswith(message)


# --- dates from names and times -------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("2024-03-14.md", date(2024, 3, 14)),
        ("2024_03_14 standup.txt", date(2024, 3, 14)),
        ("Trip 2024.03.14.md", date(2024, 3, 14)),
        ("2024.03.14", date(2024, 3, 14)),
        ("scan20240314.txt", date(2024, 3, 14)),
        ("2024-02-29.md", date(2024, 2, 29)),
        ("v1 2024-13-40 then 2024-04-01.md", date(2024, 4, 1)),
        ("2024-13-40.md", None),
        ("2023-02-29.md", None),
        ("2024-03_14.md", None),
        ("invoice 123456789.txt", None),
        ("10000101.txt", None),
        ("notes.md", None),
        ("2024-03-14-extra-5.md", date(2024, 3, 14)),
    ],
)
def test_date_from_filename(name: str, expected: date | None) -> None:
    assert date_from_filename(name) == expected


def test_file_time_and_aware() -> None:
    assert file_time("2024-03-14.md", MTIME) == (datetime(2024, 3, 14).astimezone(), "file_name")
    assert file_time("notes.md", MTIME) == (MTIME, "mtime")
    assert aware(datetime(2024, 1, 1, 9)) == datetime(2024, 1, 1, 9).astimezone()
    assert aware(MTIME) is MTIME
    assert aware(datetime(2024, 1, 1, 9)).tzinfo is not None


# --- chunking -------------------------------------------------------------------------


def test_split_paragraphs_on_blank_lines() -> None:
    text = "\n\n  first line  \nsecond\n \t\nthird\n\n\n\nfourth   \n"
    assert split_paragraphs(text) == ["  first line\nsecond", "third", "fourth"]


def test_split_long_prefers_sentences_then_spaces_then_hard_cuts() -> None:
    assert split_long("One two. Three four! Five six? Seven.", max_chars=20) == [
        "One two. Three four!",
        "Five six? Seven.",
    ]
    assert split_long("Short.", max_chars=20) == ["Short."]
    assert split_long("alpha beta gamma delta epsilon", max_chars=11) == [
        "alpha beta",
        "gamma delta",
        "epsilon",
    ]
    assert split_long("x" * 25, max_chars=10) == ["x" * 10, "x" * 10, "x" * 5]
    assert split_long("東京に行った。寿司を食べた。楽しかった。", max_chars=8) == [
        "東京に行った。",
        "寿司を食べた。",
        "楽しかった。",
    ]


def test_chunk_paragraphs_merges_up_to_the_merge_bound() -> None:
    paragraphs = ["a" * 200, "b" * 200, "c" * 200, "d" * 50]
    assert chunk_paragraphs(paragraphs, max_chars=1000, merge_chars=500) == [
        "a" * 200 + "\n\n" + "b" * 200,
        "c" * 200 + "\n\n" + "d" * 50,
    ]
    assert chunk_paragraphs(["short", "x" * 30, "tail"], max_chars=20, merge_chars=20) == [
        "short",
        "x" * 20,
        "x" * 10,
        "tail",
    ]
    assert chunk_paragraphs([" ", "", "\n"]) == []


def test_default_bound_is_1000_characters() -> None:
    text = " ".join(f"word{n}" for n in range(400))  # 3,089 characters, no sentence ends
    chunks = chunk_text(text)
    # Greedy: each piece takes as many whole words as fit in 1,000 characters.
    assert [len(c) for c in chunks] == [993, 999, 999, 95]
    assert " ".join(chunks) == text


WORD = st.text(alphabet="abcxyzéü東😀.!?,;-'", min_size=1, max_size=30)
SPACE = st.sampled_from([" ", "  ", "\n", "\n\n", " \n \n", "\t", "\n\n\n"])


@given(
    parts=st.lists(st.tuples(WORD, SPACE), min_size=0, max_size=200),
    max_chars=st.integers(min_value=30, max_value=400),
)
def test_chunking_never_drops_words_or_exceeds_the_bound(
    parts: list[tuple[str, str]], max_chars: int
) -> None:
    text = "".join(word + space for word, space in parts)
    chunks = chunk_text(text, max_chars=max_chars, merge_chars=max_chars // 2)
    assert " ".join(chunks).split() == text.split()
    assert all(chunk.strip() for chunk in chunks)
    assert all(len(chunk) <= max_chars for chunk in chunks)
