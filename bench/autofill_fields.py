"""Precision and recall of autofill's field classification on labelled HTML forms, per
field type, and apart for fields with a valid autocomplete token ("tokened") and
without ("untokened").

Run by hand from the repository root (it is not a test; the thresholds are asserted in
tests/test_autofill_classify.py, which imports `evaluate` from here):

    .venv/bin/python bench/autofill_fields.py                 # the labelled forms
    .venv/bin/python bench/autofill_fields.py -v              # every wrong or missed field
    .venv/bin/python bench/autofill_fields.py --json          # one JSON object
    .venv/bin/python bench/autofill_fields.py some/folder     # another labelled folder
    .venv/bin/python bench/autofill_fields.py --embeddings    # with the similarity fallback
    .venv/bin/python bench/autofill_fields.py --sweep         # its bounds, on labelled/ only

A folder holds HTML forms named `<language>_<what>.html` and a `labels.json`:
{"form.html": {"<field name, or id without one>": "<field type>" or null}}, one entry
for every input, select and textarea the form reader returns. Fields are read with
`forms.read_form` and classified with `classify.classify_form`, as `me autofill` does.
A field counts for precision when it is given a type (a wrong type is a false positive
of that type and a miss of the right one) and for recall when its label has a type;
null-labelled fields given nothing are right and count for neither.

`--embeddings` adds what `me autofill` adds: fields no rule decided, typed by their
label's similarity to each type's descriptions (`assistant/autofill/similar.py`), with
the packaged model. `--sweep` shows, for a grid of similarity and margin bounds, what
that fallback would type on the labelled forms, and how the similarity alone (every
field with a text, the rules set aside) does there: the bounds are chosen from it, and
the fresh forms are held out.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from scoring import Tally  # noqa: E402  (bench/, beside this script)

from assistant.autofill.classify import (  # noqa: E402
    UNDECIDED,
    classify_form,
    excluded,
    from_autocomplete,
    text_of,
)
from assistant.autofill.forms import read_form  # noqa: E402
from assistant.autofill.similar import MARGIN, THRESHOLD, Encoder, nearest  # noqa: E402

FIXTURES = Path(__file__).resolve().parent.parent / "tests/fixtures/forms"
# labelled: written and labelled before the rules were tuned on it; fresh: written
# after the rules and labelled before their first run.
DEFAULT_FOLDERS = (FIXTURES / "labelled", FIXTURES / "fresh")


@dataclass
class Report:
    tokened: Tally = field(default_factory=Tally)
    untokened: Tally = field(default_factory=Tally)
    similar: Tally = field(default_factory=Tally)  # the fields typed by similarity (no fn)
    by_type: dict[str, Tally] = field(default_factory=dict)
    forms: int = 0
    fields: int = 0
    typed: int = 0  # fields whose label is a type, not null
    languages: set[str] = field(default_factory=set)
    errors: list[str] = field(default_factory=list)  # "wrong"/"miss" lines
    problems: list[str] = field(default_factory=list)  # fields and labels that disagree

    @property
    def total(self) -> Tally:
        return Tally.total((self.tokened, self.untokened))

    def as_dict(self) -> dict[str, object]:
        return {
            "forms": self.forms,
            "fields": self.fields,
            "typed_fields": self.typed,
            "languages": sorted(self.languages),
            "all": self.total.as_dict(),
            "tokened": self.tokened.as_dict(),
            "untokened": self.untokened.as_dict(),
            "by_similarity": {"tp": self.similar.tp, "fp": self.similar.fp},
            "by_type": {name: t.as_dict() for name, t in sorted(self.by_type.items())},
            "problems": self.problems,
        }


def score(form: str, name: str, want: str | None, got: str | None, rule: str,
          tally: Tally, report: Report) -> None:  # fmt: skip
    """Add one field's outcome to `tally` (its token group) and the per-type tallies."""
    if got is not None:
        hit = got == want
        tally.tp += hit
        tally.fp += not hit
        kind = report.by_type.setdefault(got, Tally())
        kind.tp += hit
        kind.fp += not hit
        if not hit:
            report.errors.append(f"wrong {form} {name!r}: {got}, not {want}  [{rule}]")
    if want is not None and got != want:
        tally.fn += 1
        report.by_type.setdefault(want, Tally()).fn += 1
        if got is None:
            report.errors.append(f"miss  {form} {name!r}: want {want}  [{rule}]")


def labels_of(folder: Path) -> dict[str, dict[str, str | None]]:
    labels: dict[str, dict[str, str | None]] = json.loads(
        (folder / "labels.json").read_text(encoding="utf-8")
    )
    return labels


def evaluate(folder: Path, report: Report | None = None, similar: Encoder | None = None) -> Report:
    """Classify every labelled form in `folder` (with the similarity fallback when given
    an encoder) and score it (into `report` if given)."""
    report = report or Report()
    for form, wanted in sorted(labels_of(folder).items()):
        fields = read_form(folder / form)
        report.forms += 1
        report.languages.add(form.split("_", 1)[0])
        seen = set()
        for item, kind in zip(fields, classify_form(fields, similar), strict=True):
            seen.add(item.name)
            if item.name not in wanted:
                report.problems.append(f"{form}: {item.name!r} has no label")
                continue
            want = wanted[item.name]
            report.fields += 1
            report.typed += want is not None
            tokened = from_autocomplete(item.autocomplete)[1]
            group = report.tokened if tokened else report.untokened
            score(form, item.name, want, kind.type, kind.rule, group, report)
            if " similar to " in kind.rule:
                report.similar.tp += kind.type == want
                report.similar.fp += kind.type != want
        report.problems.extend(
            f"{form}: label {n!r} matches no field" for n in wanted.keys() - seen
        )
    return report


def print_report(report: Report, verbose: bool) -> None:
    languages = ", ".join(sorted(report.languages))
    print(f"{report.forms} forms, {report.fields} fields ({report.typed} with a type), "
          f"languages: {languages}")  # fmt: skip
    print(f"\n  {'':<12}{'precision':>10}{'recall':>8}{'tp':>6}{'fp':>5}{'fn':>5}")
    for name, tally in (("all", report.total), ("tokened", report.tokened),
                        ("untokened", report.untokened)):  # fmt: skip
        print(f"  {name:<12}{tally.precision:>10.3f}{tally.recall:>8.3f}"
              f"{tally.tp:>6}{tally.fp:>5}{tally.fn:>5}")  # fmt: skip
    print(f"\n  {'type':<16}{'precision':>10}{'recall':>8}{'tp':>6}{'fp':>5}{'fn':>5}")
    for name, tally in sorted(report.by_type.items()):
        print(f"  {name:<16}{tally.precision:>10.3f}{tally.recall:>8.3f}"
              f"{tally.tp:>6}{tally.fp:>5}{tally.fn:>5}")  # fmt: skip
    if report.similar.tp or report.similar.fp:
        print(f"\n  typed by similarity: {report.similar.tp} right, {report.similar.fp} wrong")
    for line in report.problems:
        print("  label problem: " + line)
    if verbose:
        print()
        for line in report.errors:
            print("  " + line)


def packaged_model() -> Encoder:
    """The packaged model as `me` loads it, its ONNX export in the cache folder."""
    from assistant import paths
    from assistant.config import EmbeddingSettings
    from assistant.embedder import Embedder
    from assistant.memory import onnx_cache

    return Embedder(EmbeddingSettings(), onnx_cache(paths.resolve()))


THRESHOLDS = (0.60, 0.65, 0.70, 0.75, 0.80, 0.85, 0.90, 0.95)
MARGINS = (0.0, 0.05, 0.10, 0.15, 0.20)


def sweep(folder: Path, encoder: Encoder) -> list[dict[str, float | int]]:
    """For each pair of bounds: the fallback on the fields no rule decided (`fallback`:
    right and wrong types given, as `classify_form` gives them), and the similarity
    alone on every field with a text (`alone`: precision and recall against the labels,
    no rule consulted)."""
    rows: list[tuple[str | None, str, bool]] = []  # (wanted type, text, undecided)
    for form, wanted in sorted(labels_of(folder).items()):
        fields = read_form(folder / form)
        for item, kind in zip(fields, classify_form(fields), strict=True):
            if item.name in wanted and (said := text_of(item)) is not None:
                rows.append((wanted[item.name], said[1], kind.rule == UNDECIDED))
    near = nearest(encoder, [text for _, text, _ in rows])
    out: list[dict[str, float | int]] = []
    for threshold in THRESHOLDS:
        for margin in MARGINS:
            fallback, alone = Tally(), Tally()
            for (want, text, undecided), found in zip(rows, near, strict=True):
                got = found.type if found.decided(threshold, margin) else None
                alone.fn += want is not None and got != want
                if got is None:
                    continue
                alone.tp += got == want
                alone.fp += got != want
                if undecided and not excluded(got, text):
                    fallback.tp += got == want
                    fallback.fp += got != want
            out.append({"threshold": threshold, "margin": margin,
                        "fallback_tp": fallback.tp, "fallback_fp": fallback.fp,
                        "alone_precision": round(alone.precision, 4),
                        "alone_recall": round(alone.recall, 4),
                        "alone_tp": alone.tp, "alone_fp": alone.fp})  # fmt: skip
    return out


def print_sweep(folder: Path, rows: list[dict[str, float | int]]) -> None:
    print(f"{folder.name}: the fallback on undecided fields, and similarity alone "
          f"(chosen: > {THRESHOLD}, margin > {MARGIN})\n")  # fmt: skip
    print(f"  {'threshold':>9}{'margin':>7}{'fallback tp':>12}{'fp':>4}"
          f"{'alone P':>9}{'R':>7}{'tp':>5}{'fp':>4}")  # fmt: skip
    for r in rows:
        print(f"  {r['threshold']:>9.2f}{r['margin']:>7.2f}{r['fallback_tp']:>12}"
              f"{r['fallback_fp']:>4}{r['alone_precision']:>9.3f}{r['alone_recall']:>7.3f}"
              f"{r['alone_tp']:>5}{r['alone_fp']:>4}")  # fmt: skip


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("folders", nargs="*", type=Path, default=list(DEFAULT_FOLDERS))
    parser.add_argument("-v", "--verbose", action="store_true", help="list every error")
    parser.add_argument("--json", action="store_true", help="one JSON object on stdout")
    parser.add_argument(
        "--embeddings",
        action="store_true",
        help="type the fields no rule decided by similarity, as `me autofill`",
    )
    parser.add_argument(
        "--sweep",
        action="store_true",
        help="similarity bounds against labelled/ only (fresh/ is held out)",
    )
    args = parser.parse_args(argv)

    if args.sweep:
        rows = sweep(FIXTURES / "labelled", packaged_model())
        if args.json:
            print(json.dumps({"labelled": rows}))
        else:
            print_sweep(FIXTURES / "labelled", rows)
        return 0
    similar = packaged_model() if args.embeddings else None
    results: dict[str, object] = {}
    reports = {folder.name: evaluate(folder, similar=similar)
               for folder in args.folders if folder.is_dir()}  # fmt: skip
    if len(reports) > 1:
        combined = Report()
        for folder in args.folders:
            evaluate(folder, combined, similar)
        reports["all"] = combined
    for name, report in reports.items():
        results[name] = report.as_dict()
        if not args.json:
            print(f"\n{name}")
            print_report(report, args.verbose)
    if args.json:
        print(json.dumps(results))
    return 1 if any(r.problems for r in reports.values()) else 0


if __name__ == "__main__":
    sys.exit(main())
