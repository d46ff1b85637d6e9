"""Every result a backend returns survives the daemon's wire: JSON out, the same object back.

If a result type gains a field the codec cannot carry (a set, a callable, a name only
imported for type checking), the daemon client would hand out something else than
the in-process backend; these round trips fail first.
"""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pytest

from assistant.daemon import codec
from assistant.forget import Target
from assistant.hits import Hit
from assistant.memory import Memory
from assistant.reflection.builtin import BuiltinEngine
from assistant.reflection.run import reflect
from assistant.service.core import (
    AskRequest,
    AutofillRequest,
    RecallRequest,
    Service,
    TimelineRequest,
)
from assistant.service.overview import outside

pytestmark = pytest.mark.slow


def wire(kind: Any, value: Any) -> Any:
    return codec.load(kind, json.loads(json.dumps(codec.dump(value))))


def wire_each(values: list[Any]) -> list[Any]:
    return [wire(type(v), v) for v in values]


def test_results_round_trip(memory: Memory, tmp_path: Path) -> None:
    notes = tmp_path / "notes"
    notes.mkdir()
    (notes / "me.md").write_text(
        "# About me\n\nI work at Farol Analytics as a data analyst. "
        "I live in Porto since 2021.\n\nBooked the flight to Lisbon for 12 March.\n"
    )
    (notes / "broken.pdf").write_bytes(b"%PDF-1.7 not really")  # a sync failure to carry
    service = Service(memory)
    source = service.add_source(notes)
    assert wire(type(source), source) == source
    synced = service.sync()
    assert wire(type(synced), synced) == synced
    listed = service.sources()
    assert listed[0].failures and wire_each(listed) == listed
    service.add_identity([("email", "rui@example.com")])
    who = service.identity()
    assert who and wire_each(who) == who
    report = service.reflect(BuiltinEngine(), limit=1)
    assert wire(type(report), report) == report
    reflect(memory, BuiltinEngine())
    service.set_fact("Ana Ribeiro", "birthday", "3 May")
    people = service.people()
    assert people and wire_each(people) == people
    hits = service.recall(RecallRequest("Lisbon flight", k=3, since=date(2000, 1, 1)))
    assert hits and wire(list[Hit], hits) == hits
    answer = service.ask(AskRequest("where do I work?"), BuiltinEngine())
    assert wire(type(answer), answer) == answer
    june = datetime(2024, 6, 1, tzinfo=UTC)
    dated = service.ask(AskRequest("what did I book last March?", now=june), BuiltinEngine())
    assert dated.searched is not None and wire(type(dated), dated) == dated
    story = service.timeline(TimelineRequest("Lisbon flight", person="me"))
    assert story and wire_each(story) == story
    fact = service.set_fact("me", "employer", "Maré Energy")
    facts = service.facts(include_closed=True)
    assert len(facts) >= 2 and wire_each(facts) == facts
    thoughts = service.thoughts(include_all=True)
    if thoughts:
        assert wire_each(thoughts) == thoughts
    history = service.history(f"f{fact.id}")
    assert wire_each(history) == history
    explained = service.why(f"e{hits[0].id}")
    assert wire(type(explained), explained) == explained
    around = service.surroundings(f"e{hits[0].id}")
    assert wire(type(around), around) == around
    review = service.review()
    assert review.facts and wire(type(review), review) == review
    changes = service.recent_changes()
    assert changes and wire_each(changes) == changes
    counts = service.counts()
    assert wire(type(counts), counts) == counts
    status = outside(memory.paths)
    assert wire(type(status), status) == status
    target = Target(refs=(f"e{hits[-1].id}",), before=date(2000, 1, 2))
    assert wire(Target, target) == target
    plan = service.forget_plan(Target(matching="Lisbon"))
    assert wire(type(plan), plan) == plan
    gone = service.forget(Target(matching="Lisbon"), expect=plan.fingerprint)
    assert wire(type(gone), gone) == gone
    other = tmp_path / "other"
    other.mkdir()
    (other / "x.md").write_text("# X\n\nA note read once.\n")
    summary = service.ingest([other])
    assert wire(type(summary), summary) == summary
    checked = service.check()
    assert checked.findings and wire(type(checked), checked) == checked
    request = RecallRequest("x", 3, date(2024, 1, 1), None, "Ana", reinforce=False,
                            now=datetime(2024, 3, 1, 9, tzinfo=UTC))  # fmt: skip
    assert wire(RecallRequest, request) == request
    asked = TimelineRequest("x", "Ana", date(2024, 1, 1), None, datetime(2024, 3, 1, tzinfo=UTC))
    assert wire(TimelineRequest, asked) == asked
    # Governance: grants, the audit log and its verdict, an autofill and its request.
    grant = service.grant("shop.example", ("contact", "identity"), 7)
    assert wire(type(grant), grant) == grant and wire_each(service.grants()) == [grant]
    form = tmp_path / "form.json"
    form.write_text('[{"name": "email", "autocomplete": "email"}, {"name": "nick"}]')
    fill = AutofillRequest(form, "shop.example", tmp_path / "out.json", ("email",), True)
    assert wire(AutofillRequest, fill) == fill
    filled = service.autofill(fill)
    assert filled.fields and wire(type(filled), filled) == filled
    entries = service.audit_log()
    assert entries and wire_each(entries) == entries
    verdict = service.verify_audit()
    assert verdict.intact and wire(type(verdict), verdict) == verdict
    # Backups, export, exclusions and retention rules.
    made = service.backup(tmp_path / "memory.bak")
    assert wire(type(made), made) == made
    exported = service.export(tmp_path / "memory.jsonl")
    assert wire(type(exported), exported) == exported
    source_id = listed[0].id
    preview = service.exclude_plan(source_id, "glob", "*.pdf")
    assert wire(type(preview), preview) == preview
    excluded = service.exclude(source_id, "glob", "*.pdf", preview.fingerprint)
    assert wire(type(excluded), excluded) == excluded
    assert wire_each(service.exclusions()) == service.exclusions()
    kept = service.add_retention("message", 3650)
    assert wire(type(kept), kept) == kept
    assert wire_each(service.retention_rules()) == service.retention_rules()


def test_unsupported_values_are_refused() -> None:
    with pytest.raises(TypeError):
        codec.dump({1, 2})
    with pytest.raises(TypeError):
        codec.load(complex, 1)


def test_every_backend_signature_resolves_for_the_daemon() -> None:
    """The daemon rebuilds arguments from the annotations; the types imported for type
    checking only must all be named by `annotation_types`, or a request fails."""
    import inspect
    import typing

    from assistant.service.backend import InProcess, annotation_types

    methods = [m for n, m in inspect.getmembers(InProcess, inspect.isfunction) if n[0] != "_"]
    assert len(methods) >= 20
    for method in methods:
        hints = typing.get_type_hints(method, localns=annotation_types())
        assert "return" in hints, method.__name__
