"""A fake Ollama server: real HTTP on 127.0.0.1, the request and response shapes of
Ollama's REST API, and replies scripted per test.

The engine under test talks to it through the official `ollama` client, so the client's
own parsing (pydantic models, NDJSON streaming, error mapping) is exercised too. Only
the model is fake: what it "says" comes from a queue of scripted replies, and when the
queue is empty, from the smallest JSON value valid for the request's `format` schema.

    with FakeOllama() as fake:
        fake.script({"facts": [], "thoughts": []}, "not json", HttpError(500, "boom"))
        client = ollama.Client(host=fake.host)
        ...
        assert fake.chats()[0]["format"] == schema
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import socket
import threading
from collections import deque
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

VERSION = "0.6.5"
DEFAULT_MODELS = ("qwen2.5:3b-instruct",)


@dataclass(frozen=True)
class Slow:
    """Wait `seconds` before sending `reply` (to outlast a client's timeout)."""

    seconds: float
    reply: Any


@dataclass(frozen=True)
class HttpError:
    """Answer with this HTTP status and Ollama's error body `{"error": message}`."""

    status: int
    message: str


@dataclass(frozen=True)
class Drop:
    """Close the connection without answering, as a crashed server would."""


@dataclass(frozen=True)
class Recorded:
    method: str
    path: str
    body: dict[str, Any]


def minimal(schema: Any) -> Any:
    """The smallest value valid for a JSON schema (the subset Ollama's `format` uses)."""
    if not isinstance(schema, dict):
        return {}
    if "const" in schema:
        return schema["const"]
    if "enum" in schema:
        return schema["enum"][0]
    for key in ("anyOf", "oneOf"):
        if key in schema:
            branches = schema[key]
            nulls = [b for b in branches if b.get("type") == "null"]
            return minimal((nulls or branches)[0])
    kind = schema.get("type", "object")
    if isinstance(kind, list):
        kind = "null" if "null" in kind else kind[0]
    if kind == "object":
        props = schema.get("properties", {})
        return {name: minimal(props.get(name, {})) for name in schema.get("required", [])}
    if kind == "array":
        return [minimal(schema.get("items", {})) for _ in range(schema.get("minItems", 0))]
    if kind == "string":
        return "x" * schema.get("minLength", 0)
    if kind in ("integer", "number"):
        return schema.get("minimum", 0)
    if kind == "boolean":
        return False
    return None


def _auto(body: dict[str, Any]) -> Any:
    fmt = body.get("format")
    if isinstance(fmt, dict):
        return minimal(fmt)
    return {} if fmt == "json" else "ok"


def _now() -> str:
    return datetime.now(UTC).isoformat().replace("+00:00", "Z")


def _details(name: str) -> dict[str, Any]:
    family = name.split(":")[0].rstrip("0123456789.") or name
    return {
        "parent_model": "",
        "format": "gguf",
        "family": family,
        "families": [family],
        "parameter_size": "3.1B",
        "quantization_level": "Q4_K_M",
    }


def _full_name(model: str) -> str:
    """Ollama's default tag: "llama3.2" is "llama3.2:latest"."""
    return model if ":" in model else f"{model}:latest"


class FakeOllama:
    """The server. `script()` queues replies for /api/chat and /api/generate, in order;
    `requests` records every request (method, path, JSON body)."""

    def __init__(self, models: Sequence[str] = DEFAULT_MODELS) -> None:
        self.models = [_full_name(m) for m in models]
        self.requests: list[Recorded] = []
        self._replies: deque[Any] = deque()
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self._connections: set[socket.socket] = set()
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    # --- lifecycle ---------------------------------------------------------------------

    @property
    def host(self) -> str:
        assert self._server is not None, "the fake is not running"
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    def start(self) -> FakeOllama:
        self._stopping.clear()
        server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(self))
        # Join connection threads on close, so a test leaves no thread behind.
        server.daemon_threads = False
        server.block_on_close = True
        self._server = server
        self._thread = threading.Thread(
            target=server.serve_forever, kwargs={"poll_interval": 0.02}, name="fake-ollama"
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._server is None or self._thread is None:
            return
        self._stopping.set()  # ends any Slow wait at once
        self._server.shutdown()
        self._thread.join()
        with self._lock:
            for conn in self._connections:  # wake handlers idling on keep-alive reads
                with contextlib.suppress(OSError):  # already closed by the client
                    conn.shutdown(socket.SHUT_RDWR)
        self._server.server_close()
        self._server = self._thread = None

    def __enter__(self) -> FakeOllama:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # --- scripting and inspection ------------------------------------------------------

    def script(self, *replies: Any) -> None:
        """Queue replies: a JSON value (sent serialised as the content), a str (sent as
        is), a callable `(request body) -> reply`, `Slow`, `HttpError` or `Drop`."""
        with self._lock:
            self._replies.extend(replies)

    def pending(self) -> int:
        with self._lock:
            return len(self._replies)

    def chats(self) -> list[dict[str, Any]]:
        """The bodies of every /api/chat request, oldest first."""
        return [r.body for r in self.requests if r.path == "/api/chat"]

    def _record(self, method: str, path: str, body: dict[str, Any]) -> None:
        with self._lock:
            self.requests.append(Recorded(method, path, body))

    def _next_reply(self, body: dict[str, Any]) -> Any:
        with self._lock:
            if self._replies:
                return self._replies.popleft()
        return _auto(body)

    def _track(self, conn: socket.socket, open_: bool) -> None:
        with self._lock:
            (self._connections.add if open_ else self._connections.discard)(conn)


def _handler(fake: FakeOllama) -> type[BaseHTTPRequestHandler]:
    class Handler(_OllamaHandler):
        server_fake = fake

    return Handler


class _OllamaHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive and chunked streaming, like Ollama
    server_fake: FakeOllama

    def setup(self) -> None:
        super().setup()
        self.server_fake._track(self.connection, True)

    def finish(self) -> None:
        try:
            super().finish()
        finally:
            self.server_fake._track(self.connection, False)

    def log_message(self, format: str, *args: Any) -> None:
        """Silent: pytest output stays readable."""

    # --- routing -----------------------------------------------------------------------

    def do_GET(self) -> None:
        self._dispatch("GET")

    def do_POST(self) -> None:
        self._dispatch("POST")

    def _dispatch(self, method: str) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        try:
            body = json.loads(raw) if raw else {}
        except json.JSONDecodeError:
            self._json(400, {"error": "invalid character in request body"})
            return
        self.server_fake._record(method, self.path, body)
        routes: dict[tuple[str, str], Callable[[dict[str, Any]], None]] = {
            ("GET", "/"): lambda _b: self._text(200, "Ollama is running"),
            ("GET", "/api/version"): lambda _b: self._json(200, {"version": VERSION}),
            ("GET", "/api/tags"): self._tags,
            ("GET", "/api/ps"): lambda _b: self._json(200, {"models": []}),
            ("POST", "/api/show"): self._show,
            ("POST", "/api/chat"): lambda b: self._complete(b, chat=True),
            ("POST", "/api/generate"): lambda b: self._complete(b, chat=False),
            ("POST", "/api/embed"): self._embed,
        }
        route = routes.get((method, self.path))
        if route is None:
            self._text(404, "404 page not found")
            return
        try:
            route(body)
        except (BrokenPipeError, ConnectionResetError):
            self.close_connection = True  # the client gave up (its timeout): fine

    # --- endpoints ---------------------------------------------------------------------

    def _tags(self, _body: dict[str, Any]) -> None:
        models = [
            {
                "name": name,
                "model": name,
                "modified_at": "2025-01-15T10:20:30.123456789Z",
                "size": 1_929_912_432,
                "digest": hashlib.sha256(name.encode()).hexdigest(),
                "details": _details(name),
            }
            for name in self.server_fake.models
        ]
        self._json(200, {"models": models})

    def _show(self, body: dict[str, Any]) -> None:
        name = self._model(body)
        if name is None:
            return
        self._json(
            200,
            {
                "license": "Apache License 2.0",
                "modelfile": f"FROM {name}\n",
                "parameters": 'stop "<|im_end|>"',
                "template": "{{ .Prompt }}",
                "details": _details(name),
                "model_info": {"general.architecture": _details(name)["family"]},
                "capabilities": ["completion", "tools"],
                "modified_at": "2025-01-15T10:20:30.123456789Z",
            },
        )

    def _embed(self, body: dict[str, Any]) -> None:
        name = self._model(body)
        if name is None:
            return
        texts = body.get("input", [])
        texts = [texts] if isinstance(texts, str) else texts
        vectors = [[b / 255 for b in hashlib.sha256(t.encode()).digest()[:8]] for t in texts]
        self._json(
            200,
            {
                "model": name,
                "embeddings": vectors,
                "total_duration": 1_000_000,
                "load_duration": 100_000,
                "prompt_eval_count": sum(len(t.split()) for t in texts),
            },
        )

    def _complete(self, body: dict[str, Any], chat: bool) -> None:
        name = self._model(body)
        if name is None:
            return
        reply = self.server_fake._next_reply(body)
        while True:
            if callable(reply):
                reply = reply(body)
            elif isinstance(reply, Slow):
                if self.server_fake._stopping.wait(reply.seconds):
                    return
                reply = reply.reply
            else:
                break
        if isinstance(reply, HttpError):
            self._json(reply.status, {"error": reply.message})
        elif isinstance(reply, Drop):
            self.close_connection = True
            self.connection.shutdown(socket.SHUT_RDWR)
        else:
            content = reply if isinstance(reply, str) else json.dumps(reply)
            if body.get("stream", True):  # Ollama streams unless told not to
                self._stream(name, content, chat, body)
            else:
                self._json(200, _final(name, content, chat, body))

    def _stream(self, name: str, content: str, chat: bool, body: dict[str, Any]) -> None:
        self.send_response(200)
        self.send_header("Content-Type", "application/x-ndjson")
        self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()
        for piece in _pieces(content):
            self._chunk(_part(name, piece, chat))
        self._chunk(_final(name, "", chat, body))
        self.wfile.write(b"0\r\n\r\n")

    def _chunk(self, obj: dict[str, Any]) -> None:
        data = json.dumps(obj).encode() + b"\n"
        self.wfile.write(f"{len(data):x}\r\n".encode() + data + b"\r\n")
        self.wfile.flush()

    # --- helpers -----------------------------------------------------------------------

    def _model(self, body: dict[str, Any]) -> str | None:
        """The request's model if the server has it; otherwise answer as Ollama does."""
        model = body.get("model") or body.get("name")
        if not model:
            self._json(400, {"error": "model is required"})
            return None
        name = _full_name(model)
        if name not in self.server_fake.models:
            self._json(404, {"error": f"model '{model}' not found"})
            return None
        return name

    def _json(self, status: int, obj: Any) -> None:
        self._send(status, "application/json; charset=utf-8", json.dumps(obj).encode())

    def _text(self, status: int, text: str) -> None:
        self._send(status, "text/plain; charset=utf-8", text.encode())

    def _send(self, status: int, content_type: str, data: bytes) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)


def _pieces(content: str, size: int = 8) -> Iterator[str]:
    """Token-sized pieces of a reply, as a model streams them."""
    for start in range(0, len(content), size):
        yield content[start : start + size]


def _part(name: str, piece: str, chat: bool) -> dict[str, Any]:
    out: dict[str, Any] = {"model": name, "created_at": _now(), "done": False}
    if chat:
        out["message"] = {"role": "assistant", "content": piece}
    else:
        out["response"] = piece
    return out


def _final(name: str, content: str, chat: bool, body: dict[str, Any]) -> dict[str, Any]:
    """The last object of a reply: the whole content when not streaming, and the counts."""
    out = _part(name, content, chat)
    prompt = json.dumps(body.get("messages") or body.get("prompt") or "")
    out.update(
        done=True,
        done_reason="stop",
        total_duration=5_000_000,
        load_duration=1_000_000,
        prompt_eval_count=max(1, len(prompt) // 4),
        prompt_eval_duration=2_000_000,
        eval_count=max(1, len(content) // 4),
        eval_duration=2_000_000,
    )
    if not chat:
        out["context"] = [1, 2, 3]
    return out


@pytest.fixture
def fake_ollama() -> Iterator[FakeOllama]:
    """A running fake server, stopped (threads joined, port closed) after the test."""
    with FakeOllama() as fake:
        yield fake
