"""The JSON reading shared by the ChatGPT, Claude, Telegram and Slack connectors."""

from __future__ import annotations

import json

import pytest

from connectors.base import ParseError
from connectors.jsonfile import json_type, load_json

WHAT = "Telegram export"


@pytest.mark.parametrize(
    "data",
    [
        b'{"a": [1, "\xc3\xa7"]}',
        b'\xef\xbb\xbf{"a": [1, "\xc3\xa7"]}',  # a UTF-8 BOM
        '\ufeff{"a": [1, "ç"]}'.encode("utf-16-le"),  # a Windows editor's "Unicode" save
        '\ufeff{"a": [1, "ç"]}'.encode("utf-16-be"),
    ],
)
def test_utf8_and_marked_utf16_are_read(data: bytes) -> None:
    assert load_json(data, WHAT) == {"a": [1, "ç"]}


@pytest.mark.parametrize(
    ("data", "error"),
    [
        (b" \n\t", "empty file: not a Telegram export"),
        (b"\xef\xbb\xbf", "empty file: not a Telegram export"),
        (b"\x89PNG\r\n\x1a\n\x00\x00", "binary file (it contains NUL bytes): not a Telegram"),
        ("\ufeff[\x00]".encode("utf-16-le"), "binary file (it contains NUL characters)"),
        (b'{"a": "caf\xe9"}', "not valid UTF-8 (bad byte at offset 10): not a Telegram"),
        (b'\xef\xbb\xbf{"a": "\xe9"}', "not valid UTF-8 (bad byte at offset 10)"),  # file offset
        (b'{"a": [1, 2}', "malformed or truncated JSON (line 1, column 12: Expecting"),
        (b"[" * 100_000 + b"]" * 100_000, "JSON nested too deeply to be a Telegram export"),
        (b"1" * 5000, "malformed JSON (Exceeds the limit (4300 digits)"),
    ],
)
def test_each_failure_is_a_parse_error_that_says_why(data: bytes, error: str) -> None:
    with pytest.raises(ParseError) as caught:
        load_json(data, WHAT)
    assert error in str(caught.value)


def test_json_type_names_values_for_messages() -> None:
    values = json.loads('[{}, [], "x", true, 1, 1.5, null]')
    assert [json_type(v) for v in values] == [
        "an object", "a list", "a string", "a boolean", "a number", "a number", "null",
    ]  # fmt: skip
