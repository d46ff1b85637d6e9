"""The daemon's wire format: length-prefixed JSON frames over a Unix socket.

A frame is a 4-byte big-endian length, then that many bytes of UTF-8 JSON. Lengths are
bounded before anything is read, so a hostile or broken peer cannot make either side
allocate more than the bound. Requests and replies carry the protocol version:

    request  {"v": 1, "op": "recall", "args": {...}}
    reply    {"v": 1, "ok": true, "result": ...}
             {"v": 1, "ok": false, "error": {"kind": "locked", "message": "..."}}

A long job (ingest, sync, reflect, forget, check) asked with `"progress": true` in its
request is answered with progress frames before its reply, a few per second at most:

    progress {"v": 1, "progress": {"stage": "...", "done": 3, "total": 10}}

A client cancels the job it is waiting for by shutting down its sending side (or by
going away): the job stops at its next safe point, and the reply, still sent, is the
error of kind "cancelled".

Standard library only: the client side must start in a blink.
"""

from __future__ import annotations

import json
import socket
import struct
from typing import Any

VERSION = 1
HEADER = struct.Struct(">I")
MAX_REQUEST = 1 << 20  # 1 MiB: a question, a passphrase, a few paths
MAX_REPLY = 64 << 20  # 64 MiB: a long listing of thoughts or facts


class ProtocolError(Exception):
    """A frame that is truncated, too large, not JSON or not a request/reply."""


def _read_exactly(sock: socket.socket, size: int) -> bytes:
    chunks: list[bytes] = []
    remaining = size
    while remaining:
        chunk = sock.recv(min(remaining, 1 << 16))
        if not chunk:
            raise ProtocolError(f"connection closed after {size - remaining} of {size} bytes")
        chunks.append(chunk)
        remaining -= len(chunk)
    return b"".join(chunks)


def read_frame(sock: socket.socket, limit: int) -> dict[str, Any] | None:
    """The next JSON object from `sock`, or None when the peer closed cleanly between
    frames. Raises ProtocolError for anything else that is not a well-formed frame."""
    first = sock.recv(HEADER.size)
    if not first:
        return None
    if len(first) < HEADER.size:
        first += _read_exactly(sock, HEADER.size - len(first))
    head = first
    (size,) = HEADER.unpack(head)
    if size > limit:
        raise ProtocolError(f"frame of {size} bytes is over the {limit}-byte limit")
    body = _read_exactly(sock, size)
    try:
        message = json.loads(body.decode("utf-8"))
    except (UnicodeDecodeError, ValueError) as exc:
        raise ProtocolError(f"frame is not UTF-8 JSON: {exc}") from None
    if not isinstance(message, dict):
        raise ProtocolError("frame is not a JSON object")
    return message


def write_frame(sock: socket.socket, message: dict[str, Any]) -> None:
    body = json.dumps(message, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
    sock.sendall(HEADER.pack(len(body)) + body)


def request(op: str, args: dict[str, Any], progress: bool = False) -> dict[str, Any]:
    message: dict[str, Any] = {"v": VERSION, "op": op, "args": args}
    if progress:
        message["progress"] = True
    return message


def progress(stage: str, done: int, total: int | None) -> dict[str, Any]:
    return {"v": VERSION, "progress": {"stage": stage, "done": done, "total": total}}


def success(result: Any) -> dict[str, Any]:
    return {"v": VERSION, "ok": True, "result": result}


def failure(kind: str, message: str, **detail: str) -> dict[str, Any]:
    """An error reply; `detail` lets the client rebuild the error (a cancelled job's name)."""
    return {"v": VERSION, "ok": False, "error": {"kind": kind, "message": message, **detail}}
