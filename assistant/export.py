"""`me export --jsonl`: the whole memory written out in the open, one JSON object per line.

The data belongs to the user, so everything goes, secrets and quarantined text
included, each line saying how it is labelled. The file is NOT encrypted: the front
end says so before and after. It is written 0600, never over an existing file, and
the export is audited (counts and the file's name, nothing of what it holds).

Lines, in this order: `{"type": "episode", ...}` for every memory read from a source,
then "fact" (closed ones too), "thought" (every one, archived and merged too) and
"link". Ids are the ones every command takes (e12, f3, t7, l5).
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from assistant.derived import persona, thoughts
from assistant.errors import GovernanceError
from assistant.governance import audited
from assistant.memory import Memory

BATCH = 2000


@dataclass(frozen=True)
class ExportReport:
    path: str
    counts: dict[str, int]

    def as_json(self) -> dict[str, Any]:
        return {"path": self.path, "counts": self.counts}


def export_jsonl(memory: Memory, dest: Path) -> ExportReport:
    if dest.exists() or dest.is_symlink():
        raise GovernanceError(f"{dest} exists; the export never writes over a file")
    if not dest.parent.is_dir():
        raise GovernanceError(f"{dest.parent} is not a folder")
    conn = memory.db.conn
    counts = {"episodes": 0, "facts": 0, "thoughts": 0, "links": 0}
    tmp = dest.with_name(f".{dest.name}.partial")
    try:
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as out:

            def line(kind: str, body: dict[str, Any]) -> None:
                out.write(json.dumps({"type": kind, **body}, ensure_ascii=False) + "\n")
                counts[kind + "s"] += 1

            cursor = conn.execute(
                "SELECT e.id, e.time, e.kind, e.source_ref, e.sender, e.author, e.conversation,"
                " e.title, e.text, e.trust, e.sensitivity, e.connector, e.meta "
                "FROM episodes e ORDER BY e.time_unix, e.id"
            )
            while rows := cursor.fetchmany(BATCH):
                for (row_id, time, kind, ref, sender, author, conversation, title, text,
                     trust, sensitivity, connector, meta) in rows:  # fmt: skip
                    line("episode", {
                        "id": f"e{row_id}", "time": time, "kind": kind, "source": ref,
                        "sender": sender, "author": author, "conversation": conversation,
                        "title": title, "text": text, "trust": trust,
                        "sensitivity": sensitivity, "connector": connector,
                        "meta": json.loads(meta or "{}"),
                    })  # fmt: skip
            for fact in persona.facts(conn, include_closed=True):
                line("fact", fact.as_json())
            for thought in thoughts.listing(conn, include_all=True):
                line("thought", thought.as_json())
            for row_id, sk, si, dk, di, label, score, engine, created in conn.execute(
                "SELECT id, src_kind, src_id, dst_kind, dst_id, label, score, engine, created_at "
                "FROM links ORDER BY id"
            ):
                line("link", {"id": f"l{row_id}", "from": f"{sk[0]}{si}", "to": f"{dk[0]}{di}",
                              "label": label, "score": score, "engine": engine,
                              "created": created})  # fmt: skip
            out.flush()
            os.fsync(out.fileno())
        os.replace(tmp, dest)
    except OSError as exc:
        tmp.unlink(missing_ok=True)
        raise GovernanceError(f"the export could not be written to {dest}: "
                              f"{exc.strerror or exc}") from exc  # fmt: skip
    with audited(memory) as record:
        record("export", detail={"file": dest.name, "counts": counts})
    return ExportReport(str(dest), counts)
