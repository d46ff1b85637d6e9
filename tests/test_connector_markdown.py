"""Markdown/Obsidian connector: the shared contract plus what notes in a vault need."""

from __future__ import annotations

import time as time_module
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta, timezone
from pathlib import Path

import pytest

from connectors.base import Item, ParseError
from connectors.chunking import heading_keys, slug
from connectors.markdown import MarkdownConnector, split_sections, wikilinks
from tests.connector_contract import FIXTURES, MTIME, ConnectorContract

NOTES = FIXTURES / "notes"
BAD = FIXTURES / "bad"
ENCODINGS = FIXTURES / "encodings"
CONNECTOR = MarkdownConnector()


def local(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    """A naive wall-clock time read as local time, as the connector must."""
    return datetime(year, month, day, hour, minute).astimezone()


def parse(path: Path, data: bytes | None = None) -> list[Item]:
    return CONNECTOR.parse(path, path.read_bytes() if data is None else data, MTIME)


def write(directory: Path, name: str, text: str) -> Path:
    path = directory / name
    path.write_text(text, encoding="utf-8")
    return path


class TestMarkdownContract(ConnectorContract):
    connector = CONNECTOR

    def sample_files(self) -> list[Path]:
        notes = [p for p in NOTES.rglob("*.md") if ".obsidian" not in p.parts]
        return sorted(notes) + sorted(ENCODINGS.glob("*.md"))


# --- structure: headings, titles, locators -------------------------------------------


def test_note_is_cut_by_heading_with_title_paths() -> None:
    items = parse(NOTES / "Berlin weekend.md")
    assert [(i.locator, i.title) for i in items] == [
        ("_top:0", None),
        ("travel/train:0", "Travel > Train"),
        ("travel/hotel:0", "Travel > Hotel"),
        ("plans/saturday:0", "Plans > Saturday"),
        ("plans/sunday:0", "Plans > Sunday"),
    ]
    assert (
        items[0].text
        == "Weekend in Berlin with [[Tomás Ribeiro|Tomás]] for his birthday. #planning"
    )
    assert items[1].text == (
        "ICE 1007 leaves München Hbf at 08:28 on Friday 3 May and arrives at Berlin Hbf at 12:29.\n"
        "Seats 45 and 46 in coach 7, booked with the BahnCard."
    )
    assert [i.meta["heading_path"] for i in items] == [
        [],
        ["Travel", "Train"],
        ["Travel", "Hotel"],
        ["Plans", "Saturday"],
        ["Plans", "Sunday"],
    ]
    assert [i.meta["chunk"] for i in items] == [0, 1, 2, 3, 4]
    assert {i.author for i in items} == {"self"}
    assert {i.kind for i in items} == {"note"}
    assert {i.document for i in items} == {str((NOTES / "Berlin weekend.md").resolve())}
    assert items[2].source_ref == f"{(NOTES / 'Berlin weekend.md').resolve()}#travel/hotel:0"


def test_heading_levels_closing_hashes_and_tag_lines(tmp_path: Path) -> None:
    text = (
        "# Top #\n\nA.\n\n### Deep ###\n\nB.\n\n## Middle\n\nC.\n\n"
        "#not-a-heading is a tag line\n\n#\n\n# Second top\n\nD.\n"
    )
    items = parse(write(tmp_path, "levels.md", text))
    assert [(i.title, i.text) for i in items] == [
        ("Top", "A."),
        ("Top > Deep", "B."),
        ("Top > Middle", "C.\n\n#not-a-heading is a tag line\n\n#"),
        ("Second top", "D."),
    ]
    assert items[0].meta["tags"] == ["not-a-heading"]


def test_fenced_code_hash_lines_are_not_headings_tags_or_links() -> None:
    items = parse(NOTES / "projects" / "Data pipeline.md")
    assert [i.locator for i in items] == ["architecture:0", "runbook:0", "runbook/alerts:0"]
    assert items[1].title == "Runbook"
    assert items[1].text == (
        "Restart the backfill from the last good partition:\n\n"
        "```bash\n"
        "# Heading-looking comment, not a heading #not-a-tag\n"
        "make backfill FROM=2024-02-01   # see [[Not a link]]\n"
        "```"
    )
    assert items[1].meta["wikilinks"] == []
    assert items[0].meta["tags"] == ["work", "oncall"]


def test_tilde_fence_and_unclosed_fence(tmp_path: Path) -> None:
    text = "# A\n\n~~~~\n# inside\n~~~\nstill inside\n~~~~\n\n# B\n\n```\n# open to the end\n"
    items = parse(write(tmp_path, "fences.md", text))
    assert [i.title for i in items] == ["A", "B"]
    assert items[0].text == "~~~~\n# inside\n~~~\nstill inside\n~~~~"
    assert items[1].text == "```\n# open to the end"


def test_split_sections_keeps_empty_parent_sections() -> None:
    sections = split_sections("intro\n# A\n## B\ntext\n")
    assert [(s.path, s.body) for s in sections] == [
        ((), "intro"),
        (("A",), ""),
        (("A", "B"), "text\n"),
    ]


def test_repeated_heading_paths_get_distinct_locators(tmp_path: Path) -> None:
    text = "# Day\n## Notes\none\n## Notes\ntwo\n# Other\n## Notes\nthree\n"
    items = parse(write(tmp_path, "dupes.md", text))
    assert [i.locator for i in items] == ["day/notes:0", "day/notes~2:0", "other/notes:0"]


def test_slug_keeps_letters_of_any_script() -> None:
    assert slug("Travel & Hotels (2024)") == "travel-hotels-2024"
    assert slug("Preparação") == "preparação"
    assert slug("東京 メモ") == "東京-メモ"
    assert slug("🐟") == "section"


def test_heading_keys_are_shared_by_sectioned_formats() -> None:
    paths = [(), ("Day", "Notes"), ("Day", "Notes"), ("Day",), (), ("Day", "Notes")]
    assert list(heading_keys(paths)) == [
        "_top", "day/notes", "day/notes~2", "day", "_top~2", "day/notes~3",
    ]  # fmt: skip


# --- meta: title, tags, wikilinks, aliases ------------------------------------------


def test_meta_carries_title_tags_aliases_and_links() -> None:
    items = parse(NOTES / "Berlin weekend.md")
    first = dict(items[0].meta)
    assert first == {
        "note_title": "Berlin weekend",
        "tags": ["travel", "berlin", "planning"],
        "aliases": ["Berlin trip", "Trip to Berlin"],
        "wikilinks": ["Tomás Ribeiro"],
        "heading_path": [],
        "chunk": 0,
        "date_source": "front_matter",
    }
    assert [i.meta["wikilinks"] for i in items] == [
        ["Tomás Ribeiro"],
        [],
        [],
        ["Museum Island"],
        ["Inês Ribeiro"],
    ]


def test_tags_from_string_front_matter_and_inline_are_deduplicated() -> None:
    reading = parse(NOTES / "Reading list.md")
    assert reading[0].meta["tags"] == ["books", "reading", "fiction", "to-read"]
    recipe = parse(NOTES / "Bacalhau a Bras.md")
    assert recipe[0].meta["tags"] == ["receita", "cozinha", "natal"]
    assert recipe[0].meta["note_title"] == "Bacalhau à Brás"
    assert "aliases" not in recipe[0].meta


def test_tag_rules(tmp_path: Path) -> None:
    text = (
        "---\ntags: ['#Travel', nested/tag, 42]\n---\n"
        "Trip #travel #1984 #y2024 #área/sub, url http://x.org/#frag and `#code` [[Note#Part]].\n"
    )
    items = parse(write(tmp_path, "tags.md", text))
    assert items[0].meta["tags"] == ["Travel", "nested/tag", "y2024", "área/sub"]


def test_wikilink_forms() -> None:
    text = (
        "[[Target]] [[Target|alias]] [[Other#Heading]] [[Third^block]] ![[Embedded.png]] "
        "[[#Local heading]] | [[Table\\|alias]] | `[[in code]]` [[target]]"
    )
    assert wikilinks(text) == ["Target", "Other", "Third", "Embedded.png", "Table"]


def test_note_title_falls_back_to_file_stem() -> None:
    items = parse(NOTES / "Tomás Ribeiro.md")
    assert {i.meta["note_title"] for i in items} == {"Tomás Ribeiro"}
    assert items[0].meta["tags"] == ["people", "friends"]


# --- time: front matter, then file name, then mtime -----------------------------------


def test_front_matter_date_wins_over_created() -> None:
    items = parse(NOTES / "Berlin weekend.md")
    assert {i.time for i in items} == {local(2024, 5, 3)}


def test_created_is_used_without_date() -> None:
    items = parse(NOTES / "Tomás Ribeiro.md")
    assert {i.time for i in items} == {local(2023, 11, 2, 19, 45)}
    assert {i.meta["date_source"] for i in items} == {"front_matter"}


def test_aware_front_matter_time_keeps_its_offset() -> None:
    items = parse(NOTES / "projects" / "Data pipeline.md")
    expected = datetime(2024, 2, 19, 10, 15, tzinfo=timezone(timedelta(hours=1)))
    assert {i.time for i in items} == {expected}
    assert items[0].time.utcoffset() == timedelta(hours=1)


def test_daily_note_takes_its_date_from_the_file_name() -> None:
    items = parse(NOTES / "2024-03-14.md")
    assert [i.title for i in items] == ["Thursday", "Thursday > Work"]
    assert {i.time for i in items} == {local(2024, 3, 14)}
    assert {i.meta["date_source"] for i in items} == {"file_name"}
    assert items[0].meta["tags"] == ["daily", "family"]
    assert items[0].meta["wikilinks"] == ["Dr. Okafor"]


@pytest.mark.parametrize(
    ("name", "front", "expected", "source"),
    [
        ("2024-03-14.md", "date: 2023-01-02\n", local(2023, 1, 2), "front_matter"),
        (
            "2024-03-14.md",
            "created: '2023-01-02 08:30'\n",
            local(2023, 1, 2, 8, 30),
            "front_matter",
        ),
        ("2024-03-14.md", "date: not a date\n", local(2024, 3, 14), "file_name"),
        ("2024-03-14.md", "title: x\n", local(2024, 3, 14), "file_name"),
        ("plain.md", "title: x\n", MTIME, "mtime"),
        (
            "plain.md",
            "date: 2024-02-10T08:00:00Z\n",
            datetime(2024, 2, 10, 8, tzinfo=UTC),
            "front_matter",
        ),
    ],
)
def test_date_precedence(
    tmp_path: Path, name: str, front: str, expected: datetime, source: str
) -> None:
    items = parse(write(tmp_path, name, f"---\n{front}---\nBody.\n"))
    assert [(i.time, i.meta["date_source"]) for i in items] == [(expected, source)]


@pytest.fixture
def tokyo_local_time(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    if not hasattr(time_module, "tzset"):
        pytest.skip("needs time.tzset to change the local zone")
    monkeypatch.setenv("TZ", "JST-9")
    time_module.tzset()
    yield
    monkeypatch.undo()
    time_module.tzset()


@pytest.mark.usefixtures("tokyo_local_time")
def test_naive_dates_are_local_time(tmp_path: Path) -> None:
    jst = timezone(timedelta(hours=9))
    dated = parse(write(tmp_path, "a.md", "---\ndate: 2024-02-10\n---\nBody.\n"))
    assert dated[0].time == datetime(2024, 2, 10, tzinfo=jst)
    assert dated[0].time.utcoffset() == timedelta(hours=9)
    named = parse(write(tmp_path, "2024-03-14.md", "Body.\n"))
    assert named[0].time == datetime(2024, 3, 14, tzinfo=jst)
    naive_mtime = CONNECTOR.parse(tmp_path / "b.md", b"Body.", datetime(2024, 1, 1, 12))
    assert naive_mtime[0].time == datetime(2024, 1, 1, 12, tzinfo=jst)


# --- chunk size and stability -------------------------------------------------------


def test_long_paragraph_is_split_under_the_bound_without_losing_text(tmp_path: Path) -> None:
    sentences = [
        f"Sentence number {n} talks about the Lisbon trip and the hotel near Alfama."
        for n in range(60)
    ]
    paragraph = " ".join(sentences)
    assert len(paragraph) > 4000
    items = parse(write(tmp_path, "long.md", f"# Long section\n\n{paragraph}\n\nShort tail.\n"))
    assert all(len(i.text) <= 1000 for i in items)
    assert len(items) == 6
    assert [i.locator for i in items] == [f"long-section:{n}" for n in range(6)]
    assert " ".join(i.text for i in items).split() == (paragraph + " Short tail.").split()
    # Cuts fall at sentence ends, as many whole sentences as fit; the next paragraph is
    # not glued onto a piece of a split one.
    assert [i.text.count("Sentence number") for i in items] == [13, 13, 13, 13, 8, 0]
    assert items[0].text == " ".join(sentences[:13])
    assert items[4].text == " ".join(sentences[52:])
    assert items[5].text == "Short tail."


def test_short_paragraphs_of_one_section_merge_but_not_across_headings(tmp_path: Path) -> None:
    text = "# A\n\none\n\ntwo\n\nthree\n\n# B\n\nfour\n"
    items = parse(write(tmp_path, "merge.md", text))
    assert [(i.locator, i.text) for i in items] == [("a:0", "one\n\ntwo\n\nthree"), ("b:0", "four")]


def test_editing_one_section_leaves_other_sections_untouched(tmp_path: Path) -> None:
    original = (NOTES / "Berlin weekend.md").read_text(encoding="utf-8")
    path = write(tmp_path, "Berlin weekend.md", original)
    before = {i.locator: i.content_hash for i in parse(path)}

    edited = original.replace("booking reference OB-58213.", "booking reference OB-99999.")
    edited = edited.replace("# Plans\n", "# Plans\n\n## Friday\nDinner at Mustafa's.\n")
    edited += "\n## Monday\nBack at work.\n"
    after = {i.locator: i.content_hash for i in parse(path, edited.encode("utf-8"))}

    assert set(after) == set(before) | {"plans/friday:0", "plans/monday:0"}
    changed = {loc for loc in before if before[loc] != after[loc]}
    assert changed == {"travel/hotel:0"}


# --- front matter edge cases --------------------------------------------------------


def test_front_matter_only_and_empty_files_give_no_items(tmp_path: Path) -> None:
    assert (
        parse(write(tmp_path, "fm.md", "---\ntitle: Only metadata\ndate: 2024-01-01\n---\n")) == []
    )
    assert parse(write(tmp_path, "fm2.md", "---\ntitle: x\n---")) == []
    assert parse(write(tmp_path, "empty.md", "")) == []
    assert parse(write(tmp_path, "blank.md", "\n  \n\t\n")) == []
    assert parse(write(tmp_path, "empty_fm.md", "---\n---\nBody.\n"))[0].text == "Body."


def test_unclosed_front_matter_is_body_text(tmp_path: Path) -> None:
    items = parse(write(tmp_path, "rule.md", "---\nJust a rule above this line.\n"))
    assert [i.text for i in items] == ["---\nJust a rule above this line."]
    assert items[0].meta["date_source"] == "mtime"


def test_malformed_front_matter_names_the_problem() -> None:
    with pytest.raises(ParseError) as caught:
        parse(BAD / "bad_front_matter_yaml_syntax.md")
    message = str(caught.value)
    assert message == (
        "malformed YAML front matter: expected ',' or ']', but got ':' "
        "while parsing a flow sequence (line 4, column 5)"
    )


BAD_MARKDOWN = {
    "binary_nul_bytes.md": "binary file, not text",
    "truncated_utf16.md": "is not valid utf-16-le",
    "bad_front_matter_yaml_syntax.md": "malformed YAML front matter",
    "bad_front_matter_not_a_mapping.md": "expected key: value pairs, got a list",
    "bad_front_matter_invalid_date.md": "malformed YAML front matter: month must be in 1..12",
    "bad_front_matter_nested_too_deep.md": "malformed YAML front matter: nested too deeply",
}


@pytest.mark.parametrize("name", sorted(BAD_MARKDOWN))
def test_each_bad_file_raises_its_parse_error(name: str) -> None:
    with pytest.raises(ParseError, match=BAD_MARKDOWN[name].replace(".", r"\.")):
        parse(BAD / name)


def test_huge_front_matter_is_refused_before_parsing(tmp_path: Path) -> None:
    path = write(tmp_path, "huge.md", "---\nx: " + "[" * 40_000 + "]" * 40_000 + "\n---\nBody.\n")
    with pytest.raises(ParseError, match="front matter is 80005 characters long; over 65536"):
        parse(path)


def test_every_bad_markdown_fixture_has_an_expected_error() -> None:
    assert {p.name for p in BAD.glob("*.md")} == set(BAD_MARKDOWN)
    assert b"\x00" in (BAD / "binary_nul_bytes.md").read_bytes()


# --- vault layout and encodings -----------------------------------------------------


def test_obsidian_settings_are_ignored_and_not_read_as_notes() -> None:
    assert MarkdownConnector.ignored_dirs == frozenset({".obsidian", ".trash", ".git"})
    settings = NOTES / ".obsidian" / "app.json"
    assert settings.is_file()
    assert not CONNECTOR.detect(settings, settings.read_bytes())
    assert CONNECTOR.detect(Path("Note.MARKDOWN"), b"")
    assert MarkdownConnector.name == "markdown"
    assert MarkdownConnector.extensions == (".md", ".markdown")


def test_legacy_cp1252_note_decodes() -> None:
    items = parse(ENCODINGS / "legacy_cp1252.md")
    assert [(i.title, i.text) for i in items] == [
        ("Café list", "Café da esquina – preço €1,20, “bica”.")
    ]


def test_utf16_note_with_bom_decodes() -> None:
    items = parse(ENCODINGS / "utf16le_bom.md")
    assert [(i.title, i.text) for i in items] == [("Notas", "Reunião às 10h ☕ com a [[Ana]].")]
    assert items[0].meta["wikilinks"] == ["Ana"]


def test_non_english_note_keeps_accents_cjk_and_emoji() -> None:
    items = parse(NOTES / "Bacalhau a Bras.md")
    assert [i.title for i in items] == ["Ingredientes 🐟", "Preparação"]
    assert [i.locator for i in items] == ["ingredientes:0", "preparação:0"]
    assert items[0].text.endswith("azeitonas e salsa. 🥔🧅")
    assert items[1].text.endswith("日本語のメモ：塩ダラは前の晩から水に浸しておく。")
    assert {i.time for i in items} == {local(2023, 12, 24)}
    assert date(2023, 12, 24) == items[0].time.date()


# --- the demo vault that ships with the product ---------------------------------------

DEMO = Path(__file__).resolve().parent.parent / "assistant" / "demo_notes"


def test_every_demo_note_parses_with_a_real_date() -> None:
    notes = sorted(p for p in DEMO.rglob("*.md") if ".obsidian" not in p.parts)
    assert len(notes) >= 12
    assert (DEMO / "projects").is_dir()
    for path in notes:
        items = parse(path)
        assert items, f"demo note {path.name} gives no items"
        assert {i.meta["date_source"] for i in items} <= {"front_matter", "file_name"}
        assert all(2023 <= i.time.year <= 2024 for i in items)


def test_demo_lisbon_trip_note() -> None:
    items = parse(DEMO / "Lisbon trip.md")
    assert {i.time for i in items} == {local(2024, 2, 10)}
    assert items[0].meta["note_title"] == "Lisbon trip"
    assert "Ana's flights" in items[2].meta["wikilinks"]
    assert [i.title for i in items[:3]] == [None, "Flights > Mine", "Flights > Ana's"]
