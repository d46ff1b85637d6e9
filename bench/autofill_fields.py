"""Precision and recall of autofill's field classification on labelled HTML forms, per
field type, and apart for fields with a valid autocomplete token ("tokened") and
without ("untokened").

Run by hand from the repository root (it is not a test; the thresholds are asserted in
tests/test_autofill_classify.py, which imports `evaluate` from here):

    .venv/bin/python bench/autofill_fields.py                 # the labelled forms
    .venv/bin/python bench/autofill_fields.py -v              # every wrong or missed field
    .venv/bin/python bench/autofill_fields.py --json          # one JSON object
    .venv/bin/python bench/autofill_fields.py some/folder     # another labelled folder

A folder holds HTML forms named `<language>_<what>.html` and a `labels.json`:
{"form.html": {"<field name, or id without one>": "<field type>" or null}}, one entry
for every input, select and textarea the form reader returns. Fields are read with
`forms.read_form` and classified with `classify.classify_form`, as `me autofill` does.
A field counts for precision when it is given a type (a wrong type is a false positive
of that type and a miss of the right one) and for recall when its label has a type;
null-labelled fields given nothing are right and count for neither.
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

from assistant.autofill.classify import classify_form, from_autocomplete  # noqa: E402
from assistant.autofill.forms import read_form  # noqa: E402

FIXTURES = Path(__file__).resolve().parent.parent / "tests/fixtures/forms"
# labelled: written and labelled before the rules were tuned on it; fresh: written
# after the rules and labelled before their first run.
DEFAULT_FOLDERS = (FIXTURES / "labelled", FIXTURES / "fresh")


@dataclass
class Report:
    tokened: Tally = field(default_factory=Tally)
    untokened: Tally = field(default_factory=Tally)
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


def evaluate(folder: Path, report: Report | None = None) -> Report:
    """Classify every labelled form in `folder` and score it (into `report` if given)."""
    report = report or Report()
    labels: dict[str, dict[str, str | None]] = json.loads(
        (folder / "labels.json").read_text(encoding="utf-8")
    )
    for form, wanted in sorted(labels.items()):
        fields = read_form(folder / form)
        report.forms += 1
        report.languages.add(form.split("_", 1)[0])
        seen = set()
        for item, kind in zip(fields, classify_form(fields), strict=True):
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
    for line in report.problems:
        print("  label problem: " + line)
    if verbose:
        print()
        for line in report.errors:
            print("  " + line)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("folders", nargs="*", type=Path, default=list(DEFAULT_FOLDERS))
    parser.add_argument("-v", "--verbose", action="store_true", help="list every error")
    parser.add_argument("--json", action="store_true", help="one JSON object on stdout")
    args = parser.parse_args(argv)

    results: dict[str, object] = {}
    reports = {folder.name: evaluate(folder) for folder in args.folders if folder.is_dir()}
    if len(reports) > 1:
        combined = Report()
        for folder in args.folders:
            evaluate(folder, combined)
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
