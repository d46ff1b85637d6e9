"""The parse worker: a separate process that reads files and returns items.

It is started with a scrubbed environment (no passphrase, no keys) and never opens
the database. Its address space is capped, so a file that makes a parser allocate
without bound fails alone; the parent enforces a time limit per file.

Protocol on stdin/stdout, length-prefixed JSON frames. Once its parsers are loaded the
worker says {"ready": true}, so that start-up never counts against a file's time limit;
then one frame each way per file:
    request  {"path": str, "connectors": [str], "mtime": float, "detect": bool,
              "max_chunks": int}
             (connectors: the candidates in detection order, each a plugin name or
             "module:Class" for one that is not installed; detect false: read with the
             first, the one the user chose, without looking at the content)
    reply    {"ok": true, "connector": str | null, "items": [...], "detail": str}
             | {"ok": false, "error": str, "message": str}
The worker opens, sniffs and reads the file itself (`connectors.reading`): a FIFO or a
device is refused without blocking, and detection runs under the same time limit as
parsing.
"""

from __future__ import annotations

import os
import sys
import traceback
from pathlib import Path
from typing import Any

from connectors.base import ConnectorError
from connectors.reading import ReadOptions, read_file
from connectors.wire import item_to_dict, read_frame, write_frame

MEMORY_ENV = "SECONDSELF_WORKER_MEMORY_MIB"


def _cap_memory() -> None:
    mib = int(os.environ.get(MEMORY_ENV, "0") or 0)
    if mib <= 0:
        return
    try:
        import resource

        limit = mib * 1024 * 1024
        resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
    except (ImportError, ValueError, OSError):  # not on this OS: the timeout still holds
        pass


def _by_import_path(spec: str) -> Any:
    """A connector that is not an installed plugin, named "module:Class" by the parent."""
    import importlib

    module, _, cls = spec.partition(":")
    return getattr(importlib.import_module(module), cls)()


def _connector(name: str, connectors: dict[str, Any]) -> Any:
    if ":" in name and name not in connectors:
        try:
            connectors[name] = _by_import_path(name)
        except (ImportError, AttributeError) as exc:
            raise ConnectorError(f"cannot load {name}: {exc}") from exc
    if name not in connectors:
        raise ConnectorError(f"unknown connector {name!r}")
    return connectors[name]


def handle(request: dict[str, Any], connectors: dict[str, Any]) -> dict[str, Any]:
    try:
        path = Path(request["path"])
        candidates = [_connector(name, connectors) for name in request["connectors"]]
        options = ReadOptions(bool(request["detect"]), int(request["max_chunks"]))
        reading = read_file(path, candidates, float(request["mtime"]), options)
        return {
            "ok": True,
            "connector": reading.connector,
            "items": [item_to_dict(i) for i in reading.items],
            "detail": reading.detail,
        }
    except ConnectorError as exc:
        return {"ok": False, "error": type(exc).__name__, "message": str(exc)}
    except MemoryError:
        return {"ok": False, "error": "MemoryError", "message": "ran out of memory"}
    except OSError as exc:
        return {"ok": False, "error": "OSError", "message": f"cannot read: {exc.strerror or exc}"}
    except RecursionError:
        return {"ok": False, "error": "RecursionError", "message": "input nested too deeply"}
    except Exception as exc:  # a connector bug: report it, keep serving other files
        detail = traceback.format_exception_only(type(exc), exc)[-1].strip()
        names = ", ".join(request.get("connectors") or [])
        return {"ok": False, "error": "ConnectorBug", "message": f"{names}: {detail}"}


def main() -> None:
    _cap_memory()
    from connectors.registry import available_connectors

    connectors = {c.name: c for c in available_connectors()}
    stdin, stdout = sys.stdin.buffer, sys.stdout.buffer
    sys.stdout = sys.stderr  # a stray print in a plugin must not corrupt the protocol
    write_frame(stdout, {"ready": True})
    while (request := read_frame(stdin)) is not None:
        try:
            reply = handle(request, connectors)
            write_frame(stdout, reply)
        except MemoryError:
            write_frame(
                stdout, {"ok": False, "error": "MemoryError", "message": "ran out of memory"}
            )


if __name__ == "__main__":
    main()
