"""`me autofill FORM --for REQUESTER`: fill an HTML form, a PDF form or a JSON field
list from what you know, as far as the requester's grant allows; every release and
refusal goes to the audit log."""

from __future__ import annotations

import sys
from pathlib import Path

import click
from rich.console import Console
from rich.table import Table

from assistant.cli.common import backend
from assistant.cli.output import clean, echo, echo_json, styled

# What `--json` prints of a field: never a value that was not released.
JSON_KEYS = ("field", "label", "attribute", "category", "value", "released", "reason", "evidence")


@click.command(
    epilog="Example:\n\n\b\n  me grants add shop.example --allow identity,contact,address\n"
    "  me autofill checkout.html --for shop.example --output filled.html\n"
    "  me autofill fields.json --for my-script --json"
)
@click.argument("form", type=click.Path(path_type=Path))
@click.option("--for", "requester", required=True, help="Who the form is for (see `me grants`).")
@click.option("--output", type=click.Path(path_type=Path), help="Write the filled form here.")
@click.option("--json", "as_json", is_flag=True, help="One JSON object per field.")
def autofill(form: Path, requester: str, output: Path | None, as_json: bool) -> None:
    """Fill FORM (.html, .pdf with form fields, or a .json list of fields) for REQUESTER.

    Each field is matched to what it asks for, and given your current value only as the
    requester's grant allows; without a grant it is a preview. Financial data, ids,
    health and passwords are given only when you confirm each one here, at a terminal.
    Hidden fields are never filled."""
    from assistant.service.requests import AutofillRequest

    form = form.expanduser().resolve()
    out = output.expanduser().resolve() if output is not None else None
    interactive = sys.stdin.isatty() and sys.stdout.isatty() and not as_json
    request = AutofillRequest(form, requester, out, interactive=interactive)
    service = backend()
    confirmed: tuple[str, ...] = ()
    known: dict[str, str] = {}  # what each field would take: shown only at your terminal
    if interactive:
        plan = service.autofill(AutofillRequest(form, requester, out, interactive=True,
                                                plan_only=True))  # fmt: skip
        known = {f.field: f.proposed for f in plan.fields if f.proposed is not None}
        confirmed = tuple(
            f.field for f in plan.fields
            if f.needs_confirmation and click.confirm(
                f"Give {requester} your {f.attribute} for {_name(f.label, f.field)}"
                f" ({f.category}): {clean(f.proposed or '', one_line=True)}?", err=True)
        )  # fmt: skip
    result = service.autofill(AutofillRequest(form, requester, out, confirmed, request.interactive))
    if as_json:
        for field in result.fields:
            shown = field.as_json()
            echo_json({k: shown[k] for k in JSON_KEYS})
        return
    table = Table(title=f"{clean(form.name, one_line=True)} for "
                        f"{clean(result.requester, one_line=True)}")  # fmt: skip
    for column in ("field", "asks for", "value given", "why"):
        table.add_column(column)
    for field in result.fields:
        given = clean(field.value, one_line=True) if field.value is not None else "—"
        if field.value is None and field.field in known:  # a preview, or not allowed
            given = f"— (known: {clean(known[field.field], one_line=True)})"
        table.add_row(clean(_name(field.label, field.field), one_line=True)[:40],
                      field.attribute or "?", styled(given),
                      clean(field.reason, one_line=True))  # fmt: skip
    Console(soft_wrap=True).print(table)
    released = sum(f.released for f in result.fields)
    echo(f"{released} of {len(result.fields)} fields given; every decision is in `me audit`.")
    if result.output:
        echo(f"Filled form written to {result.output}.")
    if not result.granted:
        echo(f"No grant for {requester}: this was a preview. "
             f"`me grants add {requester} --allow …` allows categories.")  # fmt: skip


def _name(label: str, field: str) -> str:
    return label or field
