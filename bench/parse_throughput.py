"""Parse throughput of connectors, in MB of input per second, on generated files.

Run by hand from the repository root (it is not a test; compare runs on one machine):

    .venv/bin/python bench/parse_throughput.py                  # every format, ~20 MB each
    .venv/bin/python bench/parse_throughput.py --mb 5 --only whatsapp

For each row of `FORMATS` it generates one file of about `--mb` megabytes with a fixed
seed, then times `connector.parse(path, data, mtime)` in this process (best of
`--repeat` runs; no sandbox worker, no JSON transfer, no ingest) and prints MB/s.

Adding a format is one generator function and one row: the generator takes the target
size in bytes and a seeded `random.Random` and returns (file name, file bytes); the
connector is named as "module:Class" so a row whose module is missing is skipped, not
fatal.
"""

from __future__ import annotations

import argparse
import importlib
import logging
import random
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from connectors.base import Connector  # noqa: E402

log = logging.getLogger("bench.parse_throughput")

Generator = Callable[[int, random.Random], tuple[str, bytes]]

# --- generators ------------------------------------------------------------------------

_WORDS = tuple(
    " ".join(
        (
            "olá tudo bem amanhã jantar às 20h combinado obrigado praia Lisboa Porto comboio",
            "bilhetes hotel reunião trabalho fim de semana see you tomorrow the train is late",
            "dinner at eight booking confirmed 東京 寿司 🎉 😂 ❤️ 🇵🇹 👍 ok sim não talvez",
        )
    ).split(" ")
)
_PEOPLE = ("Ana Ribeiro", "Rui Costa", "Marta Silva", "Tomás Ribeiro", "+351 912 345 678")


def whatsapp_chat(size: int, rng: random.Random) -> tuple[str, bytes]:
    """An Android day-first export: mostly one-line messages, some multi-line, media, system."""
    moment = datetime(2021, 1, 1, 8, 0)
    lines = [f"{moment:%d/%m/%Y, %H:%M} - Messages and calls are end-to-end encrypted."]
    total = len(lines[0])
    while total < size:
        moment += timedelta(minutes=rng.choice((0, 0, 1, 2, 5, 30, 300)))
        stamp = f"{moment:%d/%m/%Y, %H:%M} - "
        roll = rng.random()
        if roll < 0.01:
            line = f"{stamp}{rng.choice(_PEOPLE)} added {rng.choice(_PEOPLE)}"
        elif roll < 0.04:
            line = f"{stamp}{rng.choice(_PEOPLE)}: <Media omitted>"
        else:
            words = " ".join(rng.choices(_WORDS, k=rng.randint(2, 25)))
            if roll > 0.95:
                words += "\n" + " ".join(rng.choices(_WORDS, k=rng.randint(2, 12)))
            line = f"{stamp}{rng.choice(_PEOPLE)}: {words}"
        lines.append(line)
        total += len(line.encode("utf-8")) + 1
    return "WhatsApp Chat with Family.txt", ("\n".join(lines) + "\n").encode("utf-8")


def _pdf_line_bytes(line: str) -> int:
    """Bytes a line takes in the content stream: 4 hex digits a glyph outside cp1252."""
    try:
        return len(line.encode("cp1252")) + 40  # + positioning and font operators
    except UnicodeEncodeError:
        return 4 * len(line) + 40


def pdf_document(size: int, rng: random.Random) -> tuple[str, bytes]:
    """A text PDF (Helvetica, plus a Type0 font for CJK/emoji lines), ~4.5 KB of text a page.

    Written by the test suite's small PDF writer with uncompressed content streams, so
    the MB are text operators, not images; real PDFs of this size are mostly images.
    """
    from tests.document_builders import make_pdf

    pages: list[list[str]] = []
    total = 0
    while total < size:
        paragraphs = []
        for _ in range(rng.randint(4, 8)):
            lines = [" ".join(rng.choices(_WORDS, k=rng.randint(10, 16))) for _ in range(6)]
            paragraphs.append("\n".join(lines))
            total += sum(_pdf_line_bytes(line) for line in lines)
        pages.append(paragraphs)
    info = {"Title": "Relatório", "Author": "Ana Ribeiro", "CreationDate": "D:20240315103000Z"}
    return "report.pdf", make_pdf(pages, info)


# --- the table: one row per format -------------------------------------------------------


@dataclass(frozen=True)
class Format:
    name: str
    generate: Generator
    connector: str  # "module:Class", imported when the row runs


FORMATS: list[Format] = [
    Format("whatsapp", whatsapp_chat, "connectors.whatsapp:WhatsAppConnector"),
    Format("pdf", pdf_document, "connectors.pdf:PdfConnector"),
]

# --- running -------------------------------------------------------------------------------


def load(spec: str) -> Connector:
    module, _, cls = spec.partition(":")
    connector: Connector = getattr(importlib.import_module(module), cls)()
    return connector


def measure(row: Format, size: int, repeat: int, seed: int) -> dict[str, float | int | str]:
    name, data = row.generate(size, random.Random(seed))
    connector = load(row.connector)
    mtime = datetime(2024, 1, 1, tzinfo=UTC)
    best = float("inf")
    items = 0
    for _ in range(repeat):
        start = time.perf_counter()
        items = len(connector.parse(Path(name), data, mtime))
        best = min(best, time.perf_counter() - start)
    megabytes = len(data) / 1e6
    return {
        "format": row.name,
        "mb": megabytes,
        "items": items,
        "seconds": best,
        "mb_per_s": megabytes / best,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--mb", type=float, default=20.0, help="size of each generated file")
    parser.add_argument("--repeat", type=int, default=3, help="runs per format; best is kept")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--only", nargs="*", help="format names to run (default: all)")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="%(message)s")
    rows = [r for r in FORMATS if not args.only or r.name in args.only]
    print(f"{'format':<12}{'MB':>8}{'items':>10}{'seconds':>10}{'MB/s':>8}")
    for row in rows:
        try:
            result = measure(row, int(args.mb * 1e6), args.repeat, args.seed)
        except ImportError as exc:
            log.warning("%s: skipped (%s)", row.name, exc)
            continue
        print(
            f"{result['format']:<12}{result['mb']:>8.1f}{result['items']:>10}"
            f"{result['seconds']:>10.2f}{result['mb_per_s']:>8.1f}"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
