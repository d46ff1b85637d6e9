"""Parse throughput of connectors, in MB of input per second, on generated files.

Run by hand from the repository root (it is not a test; compare runs on one machine):

    .venv/bin/python bench/parse_throughput.py                  # every format, ~20 MB each
    .venv/bin/python bench/parse_throughput.py --mb 5 --only whatsapp

For each row of `FORMATS` it generates one file of about `--mb` megabytes with a fixed
seed, writes it to a temporary folder, then times `connector.parse(path, data, mtime)` in
this process (best of `--repeat` runs; no sandbox worker, no JSON transfer, no ingest)
and prints MB/s. A connector that reads its path itself (`reads_path`, e.g. WhatsApp)
gets empty `data`, as from the worker, so its time includes reading the file.

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
import tempfile
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


def mbox_mailbox(size: int, rng: random.Random) -> tuple[str, bytes]:
    """A Gmail Takeout-like mbox: Gmail headers, threads, plain/HTML/QP bodies, attachments.

    Per 100 messages about 55 plain text, 25 multipart/alternative, 10 with a base64
    attachment (5-150 KB; read for its name only) and 10 HTML-only newsletters; a third
    are replies with quoted text, so trimming and threading do real work.
    """
    import base64
    import quopri

    moment = datetime(2021, 1, 1, 8, 0, tzinfo=UTC)
    roots: list[tuple[str, str]] = []  # (message id, subject) of threads to reply to
    parts: list[bytes] = []
    total = 0
    number = 0
    while total < size:
        number += 1
        moment += timedelta(minutes=rng.choice((1, 7, 30, 120, 600)))
        sender, to = rng.sample(_PEOPLE[:4], 2)
        text = "\n\n".join(
            " ".join(rng.choices(_WORDS, k=rng.randint(15, 60))) for _ in range(rng.randint(1, 5))
        )
        msgid = f"{number}.{rng.getrandbits(48):x}@mail.example.org"
        thread: list[str] = []
        if roots and rng.random() < 0.33:
            root, subject = rng.choice(roots)
            thread = [f"In-Reply-To: <{root}>", f"References: <{root}>"]
            subject = f"Re: {subject}"
            text += "\n\nOn Mon, 11 Mar 2024 at 10:05, Ana Ribeiro <ana@example.org> wrote:\n"
            text += "\n".join("> " + " ".join(rng.choices(_WORDS, k=12)) for _ in range(6))
        else:
            subject = " ".join(rng.choices(_WORDS, k=rng.randint(2, 7)))
            roots = [*roots[-50:], (msgid, subject)]
        headers = [
            f"X-GM-THRID: {rng.getrandbits(63)}",
            "X-Gmail-Labels: Inbox,Category Personal,Opened",
            "Delivered-To: ana@example.org",
            *(
                f"Received: by 2002:a05:{rng.getrandbits(32):x} with SMTP id x{n}csp{number};"
                f" {moment:%a, %d %b %Y %H:%M:%S %z}"
                for n in range(3)
            ),
            "DKIM-Signature: v=1; a=rsa-sha256; c=relaxed/relaxed; d=example.org; s=20230601; "
            "b=" + base64.b64encode(rng.randbytes(180)).decode(),
            f"From: {sender} <{sender.split()[0].lower()}@example.org>",
            f"To: {to} <{to.split()[0].lower()}@example.org>",
            f"Subject: =?UTF-8?B?{base64.b64encode(subject.encode()).decode()}?=",
            f"Date: {moment:%a, %d %b %Y %H:%M:%S %z}",
            f"Message-ID: <{msgid}>",
            *thread,
            "MIME-Version: 1.0",
        ]
        roll = rng.random()
        qp = quopri.encodestring(text.encode("utf-8")).decode("ascii")
        plain = (
            "Content-Type: text/plain; charset=UTF-8\n"
            f"Content-Transfer-Encoding: quoted-printable\n\n{qp}\n"
        )
        html = "".join(f"<p>{p}</p>" for p in text.split("\n\n"))
        html_part = (
            "Content-Type: text/html; charset=UTF-8\nContent-Transfer-Encoding: base64\n\n"
            + base64.encodebytes(f"<div>{html}</div>".encode()).decode()
        )
        if roll < 0.55:
            body = plain
        elif roll < 0.80:
            body = (
                'Content-Type: multipart/alternative; boundary="alt"\n\n'
                f"--alt\n{plain}--alt\n{html_part}--alt--\n"
            )
        elif roll < 0.90:
            blob = base64.encodebytes(rng.randbytes(rng.randint(5_000, 150_000))).decode()
            body = (
                'Content-Type: multipart/mixed; boundary="mix"\n\n'
                f"--mix\n{plain}--mix\nContent-Type: application/pdf\n"
                'Content-Disposition: attachment; filename="fatura.pdf"\n'
                f"Content-Transfer-Encoding: base64\n\n{blob}--mix--\n"
            )
        else:  # a newsletter: a long HTML table of the same paragraphs
            rows = f"<tr><td>{html}</td></tr>" * rng.randint(5, 20)
            page = f"<html><head><style>p{{margin:0}}</style></head><body><table>{rows}</table>"
            body = (
                "Content-Type: text/html; charset=UTF-8\nContent-Transfer-Encoding: base64\n\n"
                + base64.encodebytes(f"{page}</body></html>".encode()).decode()
            )
        message = (
            f"From {rng.getrandbits(60)}@xxx {moment:%a %b %d %H:%M:%S %z %Y}\n"
            + "\n".join(headers)
            + "\n"
            + body
            + "\n"
        ).encode("utf-8")
        parts.append(message)
        total += len(message)
    return "All mail Including Spam and Trash.mbox", b"".join(parts)


# --- the table: one row per format -------------------------------------------------------


@dataclass(frozen=True)
class Format:
    name: str
    generate: Generator
    connector: str  # "module:Class", imported when the row runs


FORMATS: list[Format] = [
    Format("whatsapp", whatsapp_chat, "connectors.whatsapp:WhatsAppConnector"),
    Format("pdf", pdf_document, "connectors.pdf:PdfConnector"),
    Format("mbox", mbox_mailbox, "connectors.mail:MboxConnector"),
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
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / name
        path.write_bytes(data)
        given = b"" if connector.reads_path else data  # what the worker passes
        for _ in range(repeat):
            start = time.perf_counter()
            items = len(connector.parse(path, given, mtime))
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
