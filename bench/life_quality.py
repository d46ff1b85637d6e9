"""The whole product measured on two years of one fictional life: answers to questions
with known answers, recall of the memories that hold them, the persona it learns, and
how well it tells one person from another.

Run by hand from the repository root (it is not a test; the real embedding model loads,
so a run takes a minute or two):

    .venv/bin/python bench/life_quality.py                      # tests/fixtures/life
    .venv/bin/python bench/life_quality.py path/to/life -v      # failed questions, persona errors
    .venv/bin/python bench/life_quality.py --json               # one JSON object
    .venv/bin/python bench/life_quality.py --no-identity        # without `me identity add`

The life folder holds the exports the connectors read (notes, WhatsApp, mbox, iCalendar,
ChatGPT), `questions.json` and `persona.json` (the labelled truth; see
tests/fixtures/life and bench/README.md). The bench creates a passphrase vault in a
temporary `SECONDSELF_HOME`, gives it the user's identity from `persona.json` (as `me
identity add` would), ingests the folder, reflects with the builtin engine, and scores:

- ask: `ask(remember=False, reinforce=False)` per question; exact when one accepted
  answer is in the answer text (case and spacing aside). A builtin answer cites each
  sentence's date and source, which may hold the answer by themselves (the cited file
  `Inês Carvalho.md`, a memory dated 2024-03-29), so the rate is also given with the
  citations left out. Then every question is asked twice more with `remember=True`, in
  a row, counting second answers worse than the first (exact, then not) and better.
- recall@5: a hit when any evidence substring is in one of the top 5 memories' text.
- persona: current facts (`facts()`) against the labelled current values, per
  attribute. Same person (case aside; the user is "self"), attribute and value: case
  and spacing aside, either value containing the other, phones by their last nine
  digits, dates by day and month (and year when both give one). Precision counts the
  predicted facts of labelled attributes; "stale" counts current facts whose value is a
  labelled closed one; closed recall looks for the closed labels among closed facts.
- people: pairwise precision and recall of `people()` over the labelled names and
  handles of everyone but the user: a name is the listed person's whose name, other
  name or handle it is, or whose first name it is when no one else listed has that
  first name; a name it does not list is a person of its own.
Each question is asked as of its `now` (`--now`), so "last March" means what it
meant to the person asking.
"""

from __future__ import annotations

import os

# Before anything can import torch: busy-waiting OpenMP threads starve a 2-core machine.
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

import argparse  # noqa: E402
import itertools  # noqa: E402
import json  # noqa: E402
import re  # noqa: E402
import shutil  # noqa: E402
import sys  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
from collections.abc import Iterable, Sequence  # noqa: E402
from dataclasses import dataclass, field  # noqa: E402
from datetime import datetime  # noqa: E402
from pathlib import Path  # noqa: E402
from typing import Any  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from assistant import config as config_mod  # noqa: E402
from assistant import paths as paths_mod  # noqa: E402
from assistant.memory import Memory  # noqa: E402
from assistant.service.backend import Resident  # noqa: E402
from assistant.service.requests import AskRequest, RecallRequest  # noqa: E402
from assistant.vault import Secrets, create_vault  # noqa: E402

LIFE = Path(__file__).resolve().parent.parent / "tests/fixtures/life"
PASSPHRASE = "bench life passphrase"
KINDS = ("static", "changed", "temporal", "combined")
RECALL_K = 5
Row = dict[str, Any]
_MONTHS = {
    name: number
    for number, names in enumerate(
        [
            "january jan janeiro", "february feb fevereiro", "march mar março marco",
            "april apr abril", "may maio", "june jun junho", "july jul julho",
            "august aug agosto", "september sep sept setembro", "october oct outubro",
            "november nov novembro", "december dec dezembro",
        ],
        start=1,
    )
    for name in names.split()
}  # fmt: skip
_WORD_DATE = re.compile(
    r"\b(\d{1,2})(?:st|nd|rd|th)?\s+(?:de\s+)?([a-zç]+)\.?(?:\s+(?:de\s+)?(\d{4}))?"
)
_MONTH_FIRST = re.compile(r"\b([a-zç]+)\.?\s+(\d{1,2})(?:st|nd|rd|th)?(?:,?\s+(\d{4}))?\b")
_ISO_DATE = re.compile(r"(\d{4}|-)-(\d{2})-(\d{2})")
# What a builtin answer cites after each sentence: "(2024-03-29, notes.md › Day) [e69]"
# (a source may hold one level of parentheses), and "[f91, f92]".
_CITATION = re.compile(r"\(\d{4}-\d{2}-\d{2}(?:[^()]|\([^()]*\))*\)|\[[eftl]\d+(?:, [eftl]\d+)*\]")


@dataclass
class Tally:
    hits: int = 0
    total: int = 0

    @property
    def rate(self) -> float:
        return self.hits / self.total if self.total else 0.0

    def add(self, hit: bool) -> None:
        self.hits += hit
        self.total += 1

    def as_dict(self) -> dict[str, object]:
        return {"hits": self.hits, "total": self.total, "rate": round(self.rate, 4)}


@dataclass
class ByKind:
    all: Tally = field(default_factory=Tally)
    kinds: dict[str, Tally] = field(default_factory=dict)

    def add(self, kind: str, hit: bool) -> None:
        self.all.add(hit)
        self.kinds.setdefault(kind, Tally()).add(hit)

    def as_dict(self) -> dict[str, object]:
        out: dict[str, object] = {"all": self.all.as_dict()}
        out.update({kind: tally.as_dict() for kind, tally in sorted(self.kinds.items())})
        return out


@dataclass
class PR:
    """Matched predictions over predictions, matched labels over labels."""

    tp_predicted: int = 0
    predicted: int = 0
    tp_labelled: int = 0
    labelled: int = 0

    @property
    def precision(self) -> float:
        return self.tp_predicted / self.predicted if self.predicted else 0.0

    @property
    def recall(self) -> float:
        return self.tp_labelled / self.labelled if self.labelled else 0.0

    def as_dict(self) -> dict[str, object]:
        return {
            "precision": round(self.precision, 4),
            "recall": round(self.recall, 4),
            "predicted": self.predicted,
            "labelled": self.labelled,
        }


@dataclass
class Report:
    counts: dict[str, object] = field(default_factory=dict)
    ask: ByKind = field(default_factory=ByKind)
    ask_strict: ByKind = field(default_factory=ByKind)  # citations left out
    recall: ByKind = field(default_factory=ByKind)
    remember: dict[str, int] = field(default_factory=dict)
    persona: dict[str, PR] = field(default_factory=dict)
    persona_total: PR = field(default_factory=PR)
    stale: int = 0
    closed_recall: Tally = field(default_factory=Tally)
    people: dict[str, object] | None = None
    notes: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)  # for -v
    seconds: dict[str, float] = field(default_factory=dict)

    def as_dict(self) -> dict[str, object]:
        return {
            "counts": self.counts,
            "ask_exact": self.ask.as_dict(),
            "ask_exact_outside_citations": self.ask_strict.as_dict(),
            "recall_at_5": self.recall.as_dict(),
            "remember_twice": self.remember,
            "persona": {
                "all": self.persona_total.as_dict(),
                "by_attribute": {a: pr.as_dict() for a, pr in sorted(self.persona.items())},
                "stale_current": self.stale,
                "closed_recall": self.closed_recall.as_dict(),
            },
            "people": self.people,
            "notes": self.notes,
            "seconds": {k: round(v, 1) for k, v in self.seconds.items()},
        }


# -- matching ---------------------------------------------------------------------------
def norm(text: str) -> str:
    return " ".join(text.split()).casefold()


def exact(answer: str, accepted: Iterable[str]) -> bool:
    said = norm(answer)
    return any(norm(a) in said for a in accepted)


def without_citations(answer: str) -> str:
    return _CITATION.sub(" ", answer)


def holds_evidence(texts: Iterable[str], evidence: Sequence[str]) -> bool:
    wanted = [norm(e) for e in evidence]
    return any(e in norm(t) for t in texts for e in wanted)


def digits(text: str) -> str:
    return re.sub(r"\D", "", text)[-9:]


def day_month(text: str) -> tuple[int, int, int | None] | None:
    """(month, day, year or None) of the first date written in `text`, if any."""
    lowered = norm(text)
    iso = _ISO_DATE.search(lowered)
    if iso:
        year = None if iso.group(1) == "-" else int(iso.group(1))
        return int(iso.group(2)), int(iso.group(3)), year
    for pattern, day_at, month_at in ((_WORD_DATE, 1, 2), (_MONTH_FIRST, 2, 1)):
        for found in pattern.finditer(lowered):
            month = _MONTHS.get(found.group(month_at))
            if month:
                written = found.group(3)
                return month, int(found.group(day_at)), int(written) if written else None
    return None


def value_matches(attribute: str, predicted: str, labelled: Iterable[str]) -> bool:
    for label in labelled:
        if attribute == "phone" and len(digits(predicted)) == 9:
            if digits(predicted) == digits(label):
                return True
            continue
        if attribute in ("birthday", "important_date"):
            mine, theirs = day_month(predicted), day_month(label)
            if mine and theirs:
                years = (mine[2], theirs[2])
                if mine[:2] == theirs[:2] and (None in years or years[0] == years[1]):
                    return True
                continue
        p, t = norm(predicted), norm(label)
        if p and t and (p in t or t in p):
            return True
    return False


def accepted_values(label: Row) -> list[str]:
    return [label["value"], *label.get("accept", [])]


# -- the vault --------------------------------------------------------------------------
def open_life(home: Path) -> Memory:
    """A fresh passphrase-mode vault in `home`, opened."""
    os.environ["SECONDSELF_HOME"] = str(home)
    os.environ.pop("SECONDSELF_PASSPHRASE", None)
    paths = paths_mod.resolve()
    secrets = Secrets(_remembered=PASSPHRASE)
    create_vault(paths, secrets, mode="passphrase")
    return Memory.open(paths, config_mod.load(paths.config_file), secrets)


def identity_values(persona: Row) -> list[tuple[str, str]]:
    given = persona.get("identity", {})
    return [(kind, value) for kind, values in given.items() for value in values]


def prepare(backend: Resident, life: Path, persona: Row, identity: bool, report: Report) -> None:
    """Identity, ingest and builtin reflection, as a new user would run them."""
    if identity:
        backend.add_identity(identity_values(persona))
    started = time.perf_counter()
    summary = backend.ingest([life])
    report.seconds["ingest"] = time.perf_counter() - started
    if summary.failed:
        report.notes.append(f"ingest: {len(summary.failed)} file(s) failed")
    started = time.perf_counter()
    reflected = backend.reflect("builtin")
    report.seconds["reflect"] = time.perf_counter() - started
    report.counts.update(
        {
            "files": summary.added,
            "memories": summary.chunks_added,
            "reflected": reflected.episodes,
            "quarantined": reflected.quarantined,
            "facts": dict(reflected.facts),
            "thoughts": dict(reflected.thoughts),
            "people_merged": len(reflected.people_merged),
        }
    )


def asked_at(question: Row) -> datetime | None:
    """The moment the question is asked (its `now`), as `--now` would give it."""
    return datetime.fromisoformat(question["now"]) if question.get("now") else None


def ask_text(backend: Resident, question: Row, remember: bool) -> str:
    request = AskRequest(
        question["question"], remember=remember, reinforce=remember, now=asked_at(question)
    )
    return backend.ask(request, engine="builtin").answer.text


# -- scores -----------------------------------------------------------------------------
def unsourced_evidence(life: Path, questions: Sequence[Row]) -> list[str]:
    """Evidence written nowhere in the life's files, byte for byte (labels aside)."""
    labels = {"questions.json", "persona.json"}
    files = [p for p in life.rglob("*") if p.is_file() and p.name not in labels]
    texts = [p.read_text(encoding="utf-8", errors="replace") for p in files]
    return [
        f"{q['id']} {e!r}"
        for q in questions
        for e in q["evidence"]
        if not any(e in text for text in texts)
    ]


def unstored_evidence(memory: Memory, questions: Sequence[Row]) -> list[str]:
    """Evidence that no stored memory holds (a subject line, a heading, a signature the
    connectors do not keep as text): a fault of the fixture, which recall cannot hit."""
    texts = [norm(text) for (text,) in memory.db.conn.execute("SELECT text FROM episodes")]
    return [
        f"{q['id']} {e!r}"
        for q in questions
        for e in q["evidence"]
        if not any(norm(e) in text for text in texts)
    ]


def score_questions(backend: Resident, questions: Sequence[Row], report: Report) -> None:
    started = time.perf_counter()
    for q in questions:
        answer = ask_text(backend, q, remember=False)
        ok = exact(answer, q["answers"])
        report.ask.add(q["kind"], ok)
        report.ask_strict.add(q["kind"], exact(without_citations(answer), q["answers"]))
        if not ok:
            short = " ".join(answer.split())[:200]
            report.errors.append(f"ask   {q['id']} [{q['kind']}] {q['question']}")
            report.errors.append(f"        want {q['answers']}\n        got  {short!r}")
    report.seconds["ask"] = time.perf_counter() - started
    started = time.perf_counter()
    for q in questions:
        request = RecallRequest(q["question"], k=RECALL_K, reinforce=False, now=asked_at(q))
        hits = backend.recall(request)
        found = holds_evidence((h.text for h in hits), q["evidence"])
        report.recall.add(q["kind"], found)
        if not found:
            report.errors.append(f"recall {q['id']} [{q['kind']}] {q['question']}")
    report.seconds["recall"] = time.perf_counter() - started


def score_remembering(backend: Resident, questions: Sequence[Row], report: Report) -> None:
    """Each question asked twice in a row, keeping the answer as a thought each time."""
    first_exact = second_exact = worse = better = 0
    for q in questions:
        first = exact(ask_text(backend, q, remember=True), q["answers"])
        second_answer = ask_text(backend, q, remember=True)
        second = exact(second_answer, q["answers"])
        first_exact += first
        second_exact += second
        worse += first and not second
        better += second and not first
        if first and not second:
            short = " ".join(second_answer.split())[:200]
            report.errors.append(f"worse {q['id']} {q['question']} -> {short!r}")
    report.remember = {
        "questions": len(questions),
        "first_exact": first_exact,
        "second_exact": second_exact,
        "worse": worse,
        "better": better,
    }


def person_of(name: str) -> str:
    return "self" if norm(name) == "self" else norm(name)


Key = tuple[str, str]  # (person, attribute)


def by_key(rows: Iterable[Row]) -> dict[Key, list[Row]]:
    out: dict[Key, list[Row]] = {}
    for row in rows:
        out.setdefault((person_of(row["person"]), row["attribute"]), []).append(row)
    return out


def matching(key: Key, value: str, labels: dict[Key, list[Row]]) -> list[Row]:
    return [
        lab for lab in labels.get(key, []) if value_matches(key[1], value, accepted_values(lab))
    ]


def score_persona(backend: Resident, persona: Row, report: Report) -> None:
    labels, closed = by_key(persona["current"]), by_key(persona["closed"])
    attributes = {attribute for _, attribute in labels}
    matched: set[int] = set()  # ids of the labels found
    for fact in backend.facts():
        if not fact.current or fact.attribute not in attributes:
            continue
        key = (person_of(fact.person), fact.attribute)
        pr = report.persona.setdefault(fact.attribute, PR())
        pr.predicted += 1
        hits = matching(key, fact.value, labels)
        matched.update(id(lab) for lab in hits)
        pr.tp_predicted += bool(hits)
        if not hits:
            stale = bool(matching(key, fact.value, closed))
            report.stale += stale
            why = "stale" if stale else "false"
            report.errors.append(f"{why} f{fact.id} {fact.person} / {key[1]} = {fact.value!r}")
    for (_person, attribute), group in sorted(labels.items()):
        pr = report.persona.setdefault(attribute, PR())
        for label in group:
            pr.labelled += 1
            pr.tp_labelled += id(label) in matched
            if id(label) not in matched:
                report.errors.append(f"miss  {label['person']} / {attribute} = {label['value']!r}")
    total = report.persona_total
    for pr in report.persona.values():
        total.tp_predicted += pr.tp_predicted
        total.predicted += pr.predicted
        total.tp_labelled += pr.tp_labelled
        total.labelled += pr.labelled
    score_closed(backend, persona["closed"], report)


def score_closed(backend: Resident, closed: Sequence[Row], report: Report) -> None:
    """Old values kept as history: each closed label among the facts no longer current."""
    history = [f for f in backend.facts(include_closed=True) if not f.current]
    for label in closed:
        key = (person_of(label["person"]), label["attribute"])
        found = any(
            (person_of(f.person), f.attribute) == key
            and value_matches(key[1], f.value, accepted_values(label))
            for f in history
        )
        report.closed_recall.add(found)
        if not found:
            report.errors.append(
                f"lost  {label['person']} / {key[1]} = {label['value']!r} (closed)"
            )


def mention_key(text: str) -> str:
    """How a name or handle is compared: phones by their last nine digits."""
    if len(re.sub(r"\D", "", text)) >= 7 and not re.search(r"[^\W\d_]", text):
        return "tel:" + digits(text)
    return norm(text)


def score_people(backend: Resident, persona: Row, report: Report) -> None:
    """Pairwise precision and recall of who is who, over the labelled names of others."""
    listing = getattr(backend, "people", None)
    if listing is None:
        report.notes.append("people(): not available")
        return
    cluster: dict[str, int] = {}
    first_names: dict[str, set[int]] = {}
    for index, person in enumerate(listing()):
        for name in (person.name, *person.names, *person.handles):
            cluster.setdefault(mention_key(name), index)
        first_names.setdefault(norm(person.name).split(" ")[0], set()).add(index)
    for first, indexes in first_names.items():  # "Pedro" for "Pedro Nunes", if he alone
        if len(indexes) == 1:
            cluster.setdefault(first, indexes.pop())
    mentions: dict[str, int] = {}  # key -> labelled person
    for index, entry in enumerate(persona["people"]):
        for name in (entry["name"], *entry["also"]):
            if entry["name"] == "self":
                if mention_key(name) in cluster:
                    report.errors.append(f"people: the user's {name!r} is listed as someone else")
                continue
            mentions.setdefault(mention_key(name), index)
    unknown = sorted(key for key in mentions if key not in cluster)
    report.errors.extend(f"people: {key!r} is nobody's name" for key in unknown)
    pairs = PR()
    for (a, label_a), (b, label_b) in itertools.combinations(mentions.items(), 2):
        same_label = label_a == label_b
        same_guess = a in cluster and b in cluster and cluster[a] == cluster[b]
        pairs.labelled += same_label
        pairs.predicted += same_guess
        pairs.tp_labelled += same_label and same_guess
        if same_label != same_guess and a not in unknown and b not in unknown:
            word = "split" if same_label else "joined"
            report.errors.append(f"people: {word} {a!r} and {b!r}")
    pairs.tp_predicted = pairs.tp_labelled
    report.people = {**pairs.as_dict(), "names": len(mentions), "unknown": len(unknown)}


# -- output -----------------------------------------------------------------------------
def kinds_line(scores: ByKind) -> str:
    parts = [f"{scores.all.rate:.3f} ({scores.all.hits}/{scores.all.total})"]
    for kind in KINDS:
        tally = scores.kinds.get(kind, Tally())
        parts.append(f"{kind} {tally.rate:.3f} ({tally.hits}/{tally.total})")
    return "   ".join(parts)


def print_report(life: Path, report: Report, verbose: bool) -> None:
    counts = report.counts
    print(f"life: {life}")
    print(
        f"  {counts['files']} files, {counts['memories']} memories, {counts['questions']} "
        f"questions; reflected {counts['reflected']} (facts {counts['facts']}, "
        f"thoughts {counts['thoughts']}, people merged {counts['people_merged']}, "
        f"quarantined {counts['quarantined']})"
    )
    print(f"\nask exact      {kinds_line(report.ask)}")
    print(f"  outside cites {kinds_line(report.ask_strict)}")
    print(f"recall@{RECALL_K}       {kinds_line(report.recall)}")
    rem = report.remember
    print(
        f"remember twice first exact {rem['first_exact']}/{rem['questions']}, second exact "
        f"{rem['second_exact']}/{rem['questions']}: {rem['worse']} worse, {rem['better']} better"
    )
    total = report.persona_total
    print(
        f"\npersona (current) precision {total.precision:.3f}  recall {total.recall:.3f}  "
        f"(predicted {total.predicted}, labelled {total.labelled}); stale current {report.stale}; "
        f"closed kept {report.closed_recall.hits}/{report.closed_recall.total}"
    )
    print(f"  {'attribute':<16}{'P':>7}{'R':>7}{'pred':>6}{'lab':>6}")
    for attribute, pr in sorted(report.persona.items()):
        print(
            f"  {attribute:<16}{pr.precision:>7.3f}{pr.recall:>7.3f}"
            f"{pr.predicted:>6}{pr.labelled:>6}"
        )
    if report.people is None:
        print("\npeople(): not available")
    else:
        people = report.people
        print(
            f"\npeople pairwise precision {people['precision']:.3f}  recall "
            f"{people['recall']:.3f}  ({people['names']} names, {people['unknown']} unknown)"
        )
    times = ", ".join(f"{k} {v:.1f} s" for k, v in report.seconds.items())
    print(f"\ntime: {times}")
    for note in report.notes:
        print(f"note: {note}")
    if verbose:
        print()
        for line in report.errors:
            print("  " + line)


def run(life: Path, identity: bool, keep: bool) -> Report:
    questions: list[Row] = json.loads((life / "questions.json").read_text(encoding="utf-8"))
    persona: Row = json.loads((life / "persona.json").read_text(encoding="utf-8"))
    report = Report()
    report.counts["questions"] = len(questions)
    unsourced = unsourced_evidence(life, questions)
    if unsourced:
        report.notes.append(f"{len(unsourced)} evidence string(s) in none of the files")
        report.errors.extend(f"unsourced evidence {line}" for line in unsourced)
    workdir = Path(tempfile.mkdtemp(prefix="life-bench-"))
    try:
        measure(workdir / "home", life, questions, persona, identity, report)
    finally:
        if keep:
            where = workdir / "home"
            report.notes.append(f"vault kept: SECONDSELF_HOME={where}, passphrase {PASSPHRASE!r}")
        else:
            shutil.rmtree(workdir, ignore_errors=True)
    return report


def measure(
    home: Path, life: Path, questions: Sequence[Row], persona: Row, identity: bool, report: Report
) -> None:
    started = time.perf_counter()
    with open_life(home) as memory:
        memory.embedder.load()
        report.seconds["open"] = time.perf_counter() - started
        backend = Resident(memory)
        prepare(backend, life, persona, identity, report)
        unstored = unstored_evidence(memory, questions)
        if unstored:
            report.notes.append(f"{len(unstored)} evidence string(s) in no stored memory")
            report.errors.extend(f"unstored evidence {line}" for line in unstored)
        score_questions(backend, questions, report)
        score_persona(backend, persona, report)
        score_people(backend, persona, report)
        started = time.perf_counter()
        score_remembering(backend, questions, report)  # last: it stores thoughts
        report.seconds["remember"] = time.perf_counter() - started


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("life", nargs="?", type=Path, default=LIFE, help="the life folder")
    parser.add_argument("-v", "--verbose", action="store_true", help="list every failure")
    parser.add_argument("--json", action="store_true", help="one JSON object on stdout")
    parser.add_argument(
        "--no-identity", action="store_true", help="do not give the user's identity first"
    )
    parser.add_argument("--keep", action="store_true", help="keep the vault (SECONDSELF_HOME)")
    args = parser.parse_args(argv)
    report = run(args.life.resolve(), identity=not args.no_identity, keep=args.keep)
    if args.json:
        result = report.as_dict()
        if args.verbose:
            result["errors"] = report.errors
        print(json.dumps(result, ensure_ascii=False))
    else:
        print_report(args.life, report, args.verbose)
    return 0


if __name__ == "__main__":
    sys.exit(main())
