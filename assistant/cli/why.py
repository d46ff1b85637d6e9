"""`me why ID`: where a memory came from, how strongly it is remembered, and what it
is linked to."""

from __future__ import annotations

from typing import Any

import click

from assistant.cli.common import backend
from assistant.cli.output import clean, echo, echo_json

EVIDENCE_WIDTH = 100  # characters of each evidence memory's text shown by `me why`


def _evidence_line(item: dict[str, Any]) -> str:
    sender = f"{item['sender']}: " if item["sender"] else ""
    text = clean(item["text"], one_line=True)
    text = text if len(text) <= EVIDENCE_WIDTH else text[: EVIDENCE_WIDTH - 1] + "…"
    held = " [quarantined]" if item["quarantine"] else ""
    return f"{item['id']:<6} {item['date'][:10]}  {sender}{text}{held}"


@click.command(
    epilog="Example:\n\n\b\n  me recall --json Lisbon   # find an id\n  me why 42\n  me why f7"
)
@click.argument("memory_ref")
@click.option("--json", "as_json", is_flag=True, help="Print as one JSON object.")
def why(memory_ref: str, as_json: bool) -> None:
    """Explain a memory (42 or e42 an episode, t3 a thought, f7 a persona fact): source,
    author, sensitivity, strength S, last recall, R, pins and links."""
    found = backend().why(memory_ref)
    if as_json:
        echo_json(found.as_json())
        return
    echo(f"{'id':<14} {found.ref}")
    for key, value in found.fields.items():
        if key == "evidence_memories":
            for item in value:
                echo(f"{'':<14} {_evidence_line(item)}")
        else:
            shown = ", ".join(map(str, value)) if isinstance(value, list) else str(value)
            echo(f"{key:<14} {clean(shown, one_line=True)}")
    for link in found.links:
        arrow = "->" if link["direction"] == "to" else "<-"
        echo(f"link           {arrow} {link['other']} ({link['label']})")
    if found.kind != "fact":
        since = "last recall" if found.fields["last_recall"] else "stored"
        floor = found.retention_floor
        echo(
            f"\nR = exp(-days since {since} / ({found.retention_days:g} x S)); "
            f"recall ranks with {floor:g} + {1 - floor:g} x R."
        )
