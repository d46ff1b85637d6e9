"""Precision, recall and F1 of the secret detector per kind, plus its throughput in MB/s.

Run by hand from the repository root (it is not a test; the fixture thresholds are
asserted in tests/test_secrets.py):

    .venv/bin/python bench/secrets_quality.py                      # the three fixture files
    .venv/bin/python bench/secrets_quality.py other.jsonl --json   # one JSON object

The fixture is three files: `labelled.jsonl`, read while writing the rules;
`heldout.jsonl`, every third line with secrets and every third without of each later
batch of examples, set aside before the rules for that batch were written and never
tuned on; `fresh.jsonl`, written after the rules and labelled before their first run
(bench/README.md gives that first, blind run).
Each line is {"text": ..., "secrets": [{"kind": ..., "value": ...}]}.
A labelled value's span is its first occurrence in the text not already used by an
earlier label of the line. "strict" counts a finding as correct when its kind matches and
its span equals the labelled span; "overlap" when its kind matches and the spans share at
least one character. Two counts ignore the kind: "leaks", labelled values still present
after `redact()` (what a model would see), and "false lines", lines labelled with no
secret where something was found (ordinary text redacted for nothing). Throughput runs
`find_secrets` on a generated text of `--mb` megabytes (fixed seed; memory-like prose
with a secret every few kilobytes).
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from scoring import Tally  # noqa: E402  (bench/, beside this script)

from policies.secrets import KINDS, Finding, find_secrets, redact  # noqa: E402

FIXTURES = Path(__file__).resolve().parent.parent / "tests/fixtures/secrets"
DEFAULT_FILES = tuple(FIXTURES / f"{n}.jsonl" for n in ("labelled", "heldout", "fresh"))
Span = tuple[str, int, int]


@dataclass
class Report:
    strict: dict[str, Tally] = field(default_factory=lambda: {k: Tally() for k in KINDS})
    overlap: dict[str, Tally] = field(default_factory=lambda: {k: Tally() for k in KINDS})
    lines: int = 0
    leaks: int = 0  # labelled values that redact() left in the text
    secret_free: int = 0  # lines labelled with no secret
    false_lines: int = 0  # ... of which something was found
    errors: list[str] = field(default_factory=list)  # "fp"/"fn" lines, for reading


def labelled_spans(text: str, secrets: Iterable[dict[str, str]]) -> list[Span]:
    """(kind, start, end) of each labelled value: its first unused occurrence in `text`."""
    spans: list[Span] = []
    for secret in secrets:
        start = text.find(secret["value"])
        while start >= 0 and any(
            s < start + len(secret["value"]) and start < e for _, s, e in spans
        ):
            start = text.find(secret["value"], start + 1)
        if start < 0:
            raise ValueError(f"labelled value not in text: {secret['value']!r}")
        spans.append((secret["kind"], start, start + len(secret["value"])))
    return spans


def _count(tallies: dict[str, Tally], truth: list[Span], found: list[Span], match: str) -> None:
    def same(a: Span, b: Span) -> bool:
        if a[0] != b[0]:
            return False
        return a[1:] == b[1:] if match == "strict" else a[1] < b[2] and b[1] < a[2]

    for f in found:
        if any(same(f, t) for t in truth):
            tallies[f[0]].tp += 1
        else:
            tallies[f[0]].fp += 1
    for t in truth:
        if not any(same(f, t) for f in found):
            tallies[t[0]].fn += 1


def evaluate(path: Path) -> Report:
    report = Report()
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip():
            continue
        row = json.loads(line)
        text = row["text"]
        truth = labelled_spans(text, row["secrets"])
        found = [(f.kind, f.start, f.end) for f in find_secrets(text)]
        redacted = redact(text)
        report.lines += 1
        report.leaks += sum(1 for s in row["secrets"] if s["value"] in redacted)
        report.secret_free += not truth
        report.false_lines += bool(found) and not truth
        _count(report.strict, truth, found, "strict")
        _count(report.overlap, truth, found, "overlap")
        for kind, s, e in sorted(set(found) - set(truth)):
            report.errors.append(f"line {number}: fp {kind} {text[s:e]!r}")
        for kind, s, e in sorted(set(truth) - set(found)):
            report.errors.append(f"line {number}: fn {kind} {text[s:e]!r}")
    return report


def total(tallies: dict[str, Tally]) -> Tally:
    return Tally.total(tallies.values())


def generated_text(megabytes: float, seed: int = 7) -> str:
    rng = random.Random(seed)
    prose = (
        "dinner at eight with Ana booking confirmed train to Porto password reset link sent "
        "order 4000123412341235 call +351 912 345 678 on 2023-04-12 the code review went well "
        "paid 49,90 € version 3.11.4 commit 9fceb02d0ae598e95dc970b74dd4c7a3e0f5b1d7 tokens"
    )
    words = prose.split()
    secrets = (
        "card 4111 1111 1111 1111",
        "pin: 4821",
        "your code is 482913",
        "password: Hunter2!x",
    )
    parts: list[str] = []
    size, target = 0, int(megabytes * 1_000_000)
    while size < target:
        piece = " ".join(rng.choices(words, k=12)) + "\n"
        if rng.random() < 0.05:
            piece = rng.choice(secrets) + "\n" + piece
        parts.append(piece)
        size += len(piece)
    return "".join(parts)


def throughput(megabytes: float) -> tuple[float, int]:
    text = generated_text(megabytes)
    started = time.perf_counter()
    findings: list[Finding] = find_secrets(text)
    elapsed = time.perf_counter() - started
    return len(text.encode("utf-8")) / 1_000_000 / elapsed, len(findings)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("paths", nargs="*", type=Path, default=list(DEFAULT_FILES))
    parser.add_argument("--mb", type=float, default=10.0, help="size of the throughput text")
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    parser.add_argument("--errors", action="store_true", help="list every fp and fn")
    args = parser.parse_args(argv)

    reports = {path: evaluate(path) for path in args.paths}
    mb_per_s, found = throughput(args.mb)
    result = {
        "fixtures": {path.name: summary(report) for path, report in reports.items()},
        "throughput_mb_s": mb_per_s,
        "throughput_text_mb": args.mb,
        "throughput_findings": found,
    }
    if args.json:
        print(json.dumps(result))
        return 0
    for path, report in reports.items():
        print_table(path.name, report)
    print(f"throughput: {mb_per_s:.1f} MB/s on {args.mb:g} MB ({found} findings)")
    if args.errors:
        for path, report in reports.items():
            print("\n".join(f"{path.name} {error}" for error in report.errors))
    return 0


def summary(report: Report) -> dict[str, object]:
    return {
        "strict": {k: report.strict[k].scores() for k in KINDS}
        | {"overall": total(report.strict).scores()},
        "overlap": {k: report.overlap[k].scores() for k in KINDS}
        | {"overall": total(report.overlap).scores()},
        "counts": {k: vars(report.strict[k]) for k in KINDS},
        "lines": report.lines,
        "leaks": report.leaks,
        "secret_free_lines": report.secret_free,
        "false_lines": report.false_lines,
    }


def print_table(name: str, report: Report) -> None:
    print(f"{name}: {report.lines} lines")
    print(f"{'kind':<12} {'tp':>4} {'fp':>4} {'fn':>4}  {'P':>6} {'R':>6} {'F1':>6}   overlap F1")
    for kind in (*KINDS, "overall"):
        tally = total(report.strict) if kind == "overall" else report.strict[kind]
        strict = tally.scores()
        loose = (total(report.overlap) if kind == "overall" else report.overlap[kind]).scores()
        print(
            f"{kind:<12} {tally.tp:>4} {tally.fp:>4} {tally.fn:>4}  {strict['precision']:>6.3f}"
            f" {strict['recall']:>6.3f} {strict['f1']:>6.3f}   {loose['f1']:>6.3f}"
        )
    print(
        f"leaks after redact(): {report.leaks}; false lines: {report.false_lines} of "
        f"{report.secret_free} with no secret\n"
    )


if __name__ == "__main__":
    raise SystemExit(main())
