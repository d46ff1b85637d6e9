"""Precision and recall of the builtin engine's fact extraction on labelled statements,
the share of matched facts dated right, and its throughput in chat messages per second.

Run by hand from the repository root (it is not a test; the thresholds are asserted in
tests/test_extract.py, which imports `evaluate` from here):

    .venv/bin/python bench/extraction_quality.py                    # the three fixture files
    .venv/bin/python bench/extraction_quality.py some.jsonl -v      # misses and false positives
    .venv/bin/python bench/extraction_quality.py --speed 20000      # throughput too
    .venv/bin/python bench/extraction_quality.py --json             # one JSON object

Each line of a labelled file is {"text", "date" (ISO with offset), "author" ('self',
'other', 'unknown'), "sender", "facts": [{"person", "attribute", "value", "valid_from"}],
"category"}. A predicted fact matches a labelled one when person_key, attribute and
value_key agree after dropping a leading "a", "an", "the" or "my" from both values.
valid_from is scored apart, over matched facts whose label gives one (a birthday's
date is its value, so its label says null).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from scoring import Tally  # noqa: E402  (bench/, beside this script)

from assistant.derived.attributes import person_key, value_key  # noqa: E402
from assistant.derived.proposals import FactCandidate  # noqa: E402
from assistant.reflection.engine import EpisodeView  # noqa: E402
from assistant.reflection.extract import extract_facts  # noqa: E402

FIXTURES = Path(__file__).resolve().parent.parent / "tests/fixtures/extraction"
# statements: tuned on; heldout: 30% of the same writing, never tuned on; fresh: written
# after the rules existed and labelled before its first run.
DEFAULT_FILES = tuple(FIXTURES / f"{n}.jsonl" for n in ("statements", "heldout", "fresh"))
Key = tuple[str, str, str]
Row = dict[str, Any]  # one labelled line
_LEADING = ("a ", "an ", "the ", "my ")


@dataclass
class Report:
    total: Tally = field(default_factory=Tally)
    by_attribute: dict[str, Tally] = field(default_factory=dict)
    dated: int = 0  # matched facts whose label has a valid_from
    dated_right: int = 0
    errors: list[str] = field(default_factory=list)  # "miss"/"false"/"date" lines

    @property
    def valid_from_accuracy(self) -> float:
        return self.dated_right / self.dated if self.dated else 1.0

    def as_dict(self) -> dict[str, object]:
        return {
            "precision": round(self.total.precision, 4),
            "recall": round(self.total.recall, 4),
            "tp": self.total.tp,
            "fp": self.total.fp,
            "fn": self.total.fn,
            "valid_from_accuracy": round(self.valid_from_accuracy, 4),
            "by_attribute": {
                name: {"tp": t.tp, "fp": t.fp, "fn": t.fn}
                for name, t in sorted(self.by_attribute.items())
            },
        }


def comparable(value: str) -> str:
    """value_key without a leading article or "my": "the Navy" and "Navy" are one value."""
    key = value_key(value)
    for word in _LEADING:
        if key.startswith(word):
            return key[len(word) :]
    return key


def fact_key(person: str, attribute: str, value: str) -> Key:
    return person_key(person), attribute, comparable(value)


def load(paths: Iterable[Path]) -> list[Row]:
    rows: list[Row] = []
    for path in paths:
        with open(path, encoding="utf-8") as handle:
            rows.extend(json.loads(line) for line in handle if line.strip())
    return rows


def episode_of(row: Row, index: int) -> EpisodeView:
    return EpisodeView(
        id=index,
        time=datetime.fromisoformat(row["date"]),
        author=row["author"],
        sender=row.get("sender"),
        text=row["text"],
        kind="message",
    )


def score_row(row: Row, predicted: Sequence[FactCandidate], report: Report) -> None:
    """Add one labelled row's matches, misses and false positives to `report`."""
    truth = {fact_key(f["person"], f["attribute"], f["value"]): f for f in row["facts"]}
    found = {fact_key(f.person, f.attribute, f.value): f for f in predicted}
    for key, label in truth.items():
        tally = report.by_attribute.setdefault(key[1], Tally())
        fact = found.get(key)
        if fact is None:
            report.total.fn += 1
            tally.fn += 1
            report.errors.append(f"miss  {key} <- {row['text']!r}")
            continue
        report.total.tp += 1
        tally.tp += 1
        if label.get("valid_from"):
            report.dated += 1
            if fact.valid_from == label["valid_from"]:
                report.dated_right += 1
            else:
                report.errors.append(
                    f"date  {key} {fact.valid_from} != {label['valid_from']} <- {row['text']!r}"
                )
    for key in found.keys() - truth.keys():
        report.total.fp += 1
        report.by_attribute.setdefault(key[1], Tally()).fp += 1
        report.errors.append(f"false {key} <- {row['text']!r} [{row['category']}]")


def evaluate(rows: Sequence[Row]) -> Report:
    report = Report()
    for index, row in enumerate(rows):
        score_row(row, extract_facts(episode_of(row, index)), report)
    return report


def throughput(rows: Sequence[Row], messages: int) -> float:
    """Messages per second over the labelled texts, cycled to `messages` episodes."""
    episodes = [episode_of(rows[i % len(rows)], i) for i in range(messages)]
    start = time.perf_counter()
    for episode in episodes:
        extract_facts(episode)
    return messages / (time.perf_counter() - start)


def print_report(name: str, report: Report, verbose: bool) -> None:
    total = report.total
    print(f"\n{name}")
    print(
        f"  precision {total.precision:.3f}  recall {total.recall:.3f}  "
        f"(tp {total.tp}, fp {total.fp}, fn {total.fn})  "
        f"valid_from right {report.dated_right}/{report.dated} "
        f"({report.valid_from_accuracy:.3f})"
    )
    print(f"  {'attribute':<15}{'tp':>5}{'fp':>5}{'fn':>5}")
    for attribute, tally in sorted(report.by_attribute.items()):
        print(f"  {attribute:<15}{tally.tp:>5}{tally.fp:>5}{tally.fn:>5}")
    if verbose:
        for line in report.errors:
            print("  " + line)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("files", nargs="*", type=Path, default=list(DEFAULT_FILES))
    parser.add_argument("-v", "--verbose", action="store_true", help="list every error")
    parser.add_argument("--speed", type=int, default=0, help="time this many messages")
    parser.add_argument("--json", action="store_true", help="one JSON object on stdout")
    args = parser.parse_args(argv)

    results: dict[str, object] = {}
    reports = {str(path): evaluate(load([path])) for path in args.files}
    if len(args.files) > 1:
        reports["all"] = evaluate(load(args.files))
    rows = load(args.files)
    categories = Counter(row["category"] for row in rows)
    for name, report in reports.items():
        results[name] = report.as_dict()
        if not args.json:
            print_report(name, report, args.verbose)
    if args.speed:
        rate = throughput(rows, args.speed)
        results["messages_per_second"] = round(rate)
        if not args.json:
            print(f"\nthroughput: {rate:,.0f} messages/s over {args.speed} messages")
    if args.json:
        results["categories"] = dict(categories)
        print(json.dumps(results))
    return 0


if __name__ == "__main__":
    sys.exit(main())
