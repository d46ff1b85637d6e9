"""Run connectors in a worker process with a time and memory limit per file.

The worker (connectors/worker.py) holds no keys and no database handle and gets a
scrubbed environment. A parser that crashes, hangs or allocates without bound
costs one file: the worker is killed, the file reported, a new worker started.
POSIX only (pipes are polled with `select`).
"""

from __future__ import annotations

import json
import logging
import os
import select
import struct
import subprocess
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from types import TracebackType
from typing import Any

from connectors.base import Connector, ConnectorError, ParseError
from connectors.reading import (
    BY_CONTENT,
    ConnectorBugError,
    LimitError,
    NotRegularFileError,
    Reading,
    ReadOptions,
    read_file,
)
from connectors.wire import item_from_dict, write_frame
from connectors.worker import MEMORY_ENV

log = logging.getLogger(__name__)

# The only variables the worker inherits: nothing secret, enough to import and decode.
PASSED_ENV = ("PATH", "LANG", "LC_ALL", "LC_CTYPE", "TZ", "TMPDIR", "SYSTEMROOT")
# How long a new worker may take to import its parsers before it counts as broken.
STARTUP_LIMIT = 60.0


class ParseTimeoutError(ConnectorError):
    """The parser took longer than the per-file time limit."""


class ParseCrashError(ConnectorError):
    """The parser process died (a crash in native code, or its memory limit)."""


class ParseMemoryError(ConnectorError):
    """The parser needed more memory than the per-file limit."""


# Errors the worker names in its reply, raised again here as the same class.
_ERRORS: dict[str, type[ConnectorError]] = {
    cls.__name__: cls for cls in (ParseError, NotRegularFileError, LimitError, ConnectorBugError)
}


def _worker_env(memory_mib: int) -> dict[str, str]:
    env = {k: os.environ[k] for k in PASSED_ENV if k in os.environ}
    env["PYTHONPATH"] = os.pathsep.join(p for p in sys.path if p and os.path.isdir(p))
    env[MEMORY_ENV] = str(memory_mib)
    env["PYTHONDONTWRITEBYTECODE"] = "1"
    return env


class ParseSandbox:
    """A reusable worker; `parse` returns items or raises a ConnectorError subclass."""

    def __init__(self, timeout: float = 60.0, memory_mib: int = 1536) -> None:
        self.timeout = timeout
        self.memory_mib = memory_mib
        self._proc: subprocess.Popen[bytes] | None = None

    def _start(self) -> subprocess.Popen[bytes]:
        """The running worker, or a new one that has said it is ready: its start-up
        (an interpreter and every parser's imports, seconds on a busy machine) is
        not charged to the first file's time limit."""
        if self._proc is not None and self._proc.poll() is None:
            return self._proc
        self._proc = subprocess.Popen(
            [sys.executable, "-m", "connectors.worker"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            env=_worker_env(self.memory_mib),
            cwd=os.path.dirname(os.path.dirname(os.path.abspath(__file__))),
        )
        deadline = time.monotonic() + max(STARTUP_LIMIT, self.timeout)
        try:
            (size,) = struct.unpack(">I", self._read(self._proc, 4, deadline))
            hello = json.loads(self._read(self._proc, size, deadline))
        except (TimeoutError, EOFError, ValueError) as exc:
            code = self._kill()
            raise ParseCrashError(
                f"the parser process did not start ({_describe_exit(code)})"
            ) from exc
        if hello != {"ready": True}:
            self._kill()
            raise ParseCrashError("the parser process did not start (unexpected greeting)")
        return self._proc

    def read(
        self,
        path: Path,
        connectors: Sequence[Connector],
        mtime: float,
        options: ReadOptions = BY_CONTENT,
    ) -> Reading:
        """Open, sniff and parse `path` in the worker (see `connectors.reading.read_file`);
        a failure raises a ConnectorError subclass."""
        request = {
            "path": str(path),
            "connectors": [c.name for c in connectors],
            "mtime": mtime,
            "detect": options.detect,
            "max_chunks": options.max_chunks,
        }
        reply = self._exchange(request)
        try:
            items = [item_from_dict(d) for d in reply["items"]]
            return Reading(reply["connector"], items, str(reply.get("detail") or ""))
        except (KeyError, TypeError, ValueError) as exc:
            raise ParseCrashError(f"the parser sent malformed items: {exc}") from exc

    def _exchange(self, request: dict[str, Any]) -> dict[str, Any]:
        """Send one request and return its successful reply, under the time limit."""
        proc = self._start()
        assert proc.stdin is not None and proc.stdout is not None
        deadline = time.monotonic() + self.timeout
        try:
            write_frame(proc.stdin, request)
            head = self._read(proc, 4, deadline)
            (size,) = struct.unpack(">I", head)
            reply: dict[str, Any] = json.loads(self._read(proc, size, deadline))
        except TimeoutError:
            self._kill()
            raise ParseTimeoutError(
                f"reading took longer than {self.timeout:.0f} s (the parse_timeout); not stored"
            ) from None
        except (EOFError, BrokenPipeError, ValueError) as exc:
            code = self._kill()
            raise ParseCrashError(
                f"the parser process died ({_describe_exit(code)}); "
                f"the file may be malformed or need more than {self.memory_mib} MiB"
            ) from exc
        if reply.get("ok"):
            return reply
        error, message = reply.get("error"), str(reply.get("message", "failed"))
        if error == "MemoryError":
            raise ParseMemoryError(f"{message} (limit {self.memory_mib} MiB per file)")
        raise _ERRORS.get(str(error), ConnectorError)(message)

    @staticmethod
    def _read(proc: subprocess.Popen[bytes], size: int, deadline: float) -> bytes:
        assert proc.stdout is not None
        fd = proc.stdout.fileno()
        chunks: list[bytes] = []
        remaining = size
        while remaining:
            left = deadline - time.monotonic()
            if left <= 0:
                raise TimeoutError
            ready, _, _ = select.select([fd], [], [], left)
            if not ready:
                raise TimeoutError
            chunk = os.read(fd, min(remaining, 1 << 20))
            if not chunk:
                raise EOFError
            chunks.append(chunk)
            remaining -= len(chunk)
        return b"".join(chunks)

    def _kill(self) -> int | None:
        proc, self._proc = self._proc, None
        if proc is None:
            return None
        if proc.poll() is None:
            proc.kill()
        code = proc.wait()
        for stream in (proc.stdin, proc.stdout):
            if stream is not None:
                stream.close()
        return code

    def close(self) -> None:
        proc, self._proc = self._proc, None
        if proc is None:
            return
        assert proc.stdin is not None and proc.stdout is not None
        proc.stdin.close()
        try:
            proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        proc.stdout.close()

    def __enter__(self) -> ParseSandbox:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()


class InProcessParser:
    """The sandbox's interface without the process: for tests and trusted plugins."""

    read = staticmethod(read_file)

    def close(self) -> None:
        """Nothing to release."""


def _describe_exit(code: int | None) -> str:
    if code is None:
        return "unknown exit"
    if code < 0:
        return f"killed by signal {-code}"
    return f"exit status {code}"
