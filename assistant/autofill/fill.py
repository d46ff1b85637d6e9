"""Fill a form from what the persona knows about you, as far as the requester's grant
and your confirmation allow, every decision audited.

For each field: classify it (`classify.py`), propose the current value of the fact it
asks for (one current, unconflicted value; a given name or a postal code is derived
from the stored name or address), decide by the release rules (`policies/release.py`),
and record a release (with a keyed hash of the value) or a refusal (with its reason).
When the person reviewed the fill field by field (`approved`, the app's review screen),
a field they did not approve is withheld: refused with the reason `WITHHELD`.
A plan (`plan_only`) decides the same way but releases, records and writes nothing: it
is what the command line shows before asking which sensitive fields to confirm.
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass
from typing import Any

import sqlcipher3

from assistant.autofill.classify import Classified, classify_form
from assistant.autofill.fields import FIELD_TYPES, FormField
from assistant.autofill.forms import read_form, write_form
from assistant.derived import persona
from assistant.derived.attributes import is_single
from assistant.errors import GovernanceError
from assistant.governance import audited
from assistant.memory import Memory
from assistant.reflection.dates import full_date
from assistant.service.requests import AutofillRequest
from policies import grants
from policies.release import Decision, decide

# The persona attribute each field type reads; the types not here are derived from one
# (`_derived`) or are nothing the persona keeps (cards, ids, passwords).
_ATTRIBUTE = {
    "name": "name", "email": "email", "phone": "phone", "birthday": "birthday",
    "nationality": "nationality", "address": "address", "city": "city", "country": "country",
    "employer": "employer", "job_title": "job_title", "allergy": "allergy",
    "given_name": "name", "family_name": "name", "postal_code": "address",
}  # fmt: skip
WITHHELD = "withheld by you"
_POSTAL = re.compile(r"\b\d{4}-\d{3}\b|\b\d{5}(?:-\d{4})?\b|\b[A-Z]{1,2}\d[A-Z\d]? ?\d[A-Z]{2}\b")


@dataclass(frozen=True)
class FilledField:
    field: str
    label: str
    attribute: str | None  # the field type it asks for (a persona attribute or a part)
    category: str | None
    value: str | None  # what was released; None when nothing was
    released: bool
    reason: str
    evidence: tuple[str, ...]  # the fact, then the memories it rests on
    proposed: str | None = None  # the value it would take (only in a plan, for you)
    confidence: float | None = None
    rule: str = ""  # why the field is taken to ask for `attribute`
    needs_confirmation: bool = False

    def as_json(self) -> dict[str, Any]:
        shown = asdict(self)
        shown["evidence"] = list(self.evidence)
        return shown


@dataclass(frozen=True)
class AutofillResult:
    requester: str
    form: str
    fields: list[FilledField]
    output: str | None
    granted: tuple[str, ...]

    def as_json(self) -> dict[str, Any]:
        return {"requester": self.requester, "form": self.form, "output": self.output,
                "granted": list(self.granted),
                "fields": [f.as_json() for f in self.fields]}  # fmt: skip


def autofill(memory: Memory, request: AutofillRequest) -> AutofillResult:
    """Classify, propose, decide and (unless a plan) record and write; see the module."""
    requester = request.requester.strip()
    if not requester:
        raise GovernanceError("say who the form is for: --for REQUESTER")
    if request.output is not None and request.output.resolve() == request.form.resolve():
        raise GovernanceError("--output must be another file than the form itself")
    fields = read_form(request.form)
    conn = memory.db.conn
    allowed = grants.granted(conn, requester)
    kinds = classify_form(fields, similar=memory.embedder)
    filled = [_one(conn, f, k, allowed, request) for f, k in zip(fields, kinds, strict=True)]
    if not request.plan_only:
        with audited(memory) as record:
            for item, field in zip(filled, fields, strict=True):
                fact_id = int(item.evidence[0][1:]) if item.evidence else None
                record("release" if item.released else "refuse", requester=requester,
                       field=item.field, attribute=item.attribute, fact_id=fact_id,
                       value=item.value,
                       detail={"reason": item.reason, "form": request.form.name,
                               "hidden": field.hidden})  # fmt: skip
        if request.output is not None:
            values = {f.field: f.value for f in filled if f.released and f.value is not None}
            write_form(request.form, values, request.output)
    shown = [item if request.plan_only else _without_proposal(item) for item in filled]
    return AutofillResult(requester, str(request.form), shown,
                          str(request.output) if request.output and not request.plan_only
                          else None, tuple(sorted(allowed)))  # fmt: skip


def _without_proposal(item: FilledField) -> FilledField:
    return FilledField(**{**asdict(item), "proposed": None, "evidence": item.evidence})


def _one(
    conn: sqlcipher3.Connection,
    field: FormField,
    kind: Classified,
    allowed: frozenset[str],
    request: AutofillRequest,
) -> FilledField:
    category = FIELD_TYPES.get(kind.type) if kind.type else None
    proposal = _proposal(conn, kind.type, field) if kind.type else None
    value, fact, quarantined = proposal if proposal else (None, None, False)
    decision = decide(
        category, allowed, has_value=value is not None, hidden=field.hidden,
        quarantined=quarantined, secret=fact is not None and fact.sensitivity == "secret",
        interactive=request.interactive, confirmed=field.name in request.confirmed,
    )  # fmt: skip
    decision = _reviewed(decision, field.name, request)
    evidence = (f"f{fact.id}", *(f"e{e}" for e in fact.evidence)) if fact else ()
    return FilledField(
        field.name, field.label, kind.type, category,
        value if decision.released else None, decision.released, decision.reason, evidence,
        value, fact.confidence if fact else None, kind.rule, decision.needs_confirmation,
    )  # fmt: skip


def _reviewed(decision: Decision, name: str, request: AutofillRequest) -> Decision:
    """The rules' decision after the person's review: a field they did not approve is
    withheld, whether the rules would release it or only wait for their confirmation
    (either way it was theirs to give, and they chose not to)."""
    if request.approved is None or name in request.approved:
        return decision
    if decision.released or decision.needs_confirmation:
        return Decision(False, WITHHELD)
    return decision


def _proposal(
    conn: sqlcipher3.Connection, kind: str, field: FormField
) -> tuple[str, persona.Fact, bool] | None:
    """(value for the field, the fact it comes from, whether that rests only on
    quarantined text), or None when nothing current and unconflicted is known."""
    attribute = _ATTRIBUTE.get(kind)
    if attribute is None:
        return None
    held = persona.facts(conn, "self", attribute)
    current = [f for f in held if f.status == "active"]
    if not current or any(f.status == "conflict" for f in held):
        return None
    if is_single(attribute) and len(current) > 1:
        return None  # two current values of a one-valued attribute: not ours to pick
    fact = current[-1]
    stored = ", ".join(f.value for f in current) if not is_single(attribute) else fact.value
    value = _derived(kind, stored, field)
    if value is None:
        return None
    return value, fact, _only_quarantined(conn, fact)


def _derived(kind: str, value: str, field: FormField) -> str | None:
    """The part of a stored value a field asks for, in the form it takes."""
    if kind == "given_name":
        return value.split()[0] if value.split() else None
    if kind == "family_name":
        parts = value.split()
        return parts[-1] if len(parts) > 1 else None
    if kind == "postal_code":
        found = _POSTAL.search(value)
        return found.group() if found else None
    if kind == "birthday" and field.type == "date":  # a date input takes 1993-07-14
        born = full_date(value)
        return born.isoformat() if born else None
    return value


def _only_quarantined(conn: sqlcipher3.Connection, fact: persona.Fact) -> bool:
    """Whether every memory the fact rests on is quarantined (a value the user set has
    no memory behind it, and is the user's own word)."""
    if not fact.evidence:
        return False
    marks = ",".join("?" * len(fact.evidence))
    clean = conn.execute(
        f"SELECT count(*) FROM episodes WHERE id IN ({marks}) AND quarantine IS NULL",
        list(fact.evidence),
    ).fetchone()[0]
    return int(clean) == 0
