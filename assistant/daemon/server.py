"""The daemon: one process that keeps the vault, the index and the model warm, and
serves every front end of this user over a private Unix socket.

    client ──frame──▶ _Connection ──▶ Daemon.handle ──▶ Gate ──▶ the service (Resident)

Memory requests are the `Backend` methods, run on a backend whose memory stays open
(`Resident`), so the daemon answers exactly what the in-process backend would. Control
requests (ping, status, lock, unlock, stop) manage the daemon itself. Every request is
answered, a malformed one with an error; nothing a client sends can stop the server.
"""

from __future__ import annotations

import contextlib
import logging
import os
import select
import signal
import socket
import socketserver
import struct
import sys
import threading
import time
import typing
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

from assistant.config import Config
from assistant.daemon import codec, protocol
from assistant.daemon.gate import Gate
from assistant.daemon.place import DaemonPlace
from assistant.errors import USER_ERRORS, DaemonError, DaemonLockedError
from assistant.memory import Memory
from assistant.paths import Paths
from assistant.service.backend import Backend, Resident, annotation_types
from assistant.vault import Secrets
from store.errors import Cancelled
from store.progress import Cancel

log = logging.getLogger(__name__)
T = TypeVar("T")

# A client that connects and sends nothing is dropped after this long; a request, once
# read, may take as long as its work needs.
IDLE_CLIENT_S = 30.0
# The requests that are user actions on the memory: exactly the backend seam's methods.
MEMORY_OPS = frozenset(name for name in vars(Backend) if not name.startswith("_"))
CONTROL_OPS = frozenset({"ping", "daemon_status", "lock", "unlock", "stop"})
# A long job's hooks: given by the connection (`Link`), never by the client's arguments.
HOOKS = frozenset({"progress", "cancel"})
PROGRESS_EVERY_S = 0.1  # a bar redrawn ten times a second looks live; more is noise


def peer_uid(sock: socket.socket) -> int | None:
    """The user id of the process at the other end of a Unix socket."""
    if hasattr(socket, "SO_PEERCRED"):  # Linux: struct ucred {pid, uid, gid}
        raw = sock.getsockopt(socket.SOL_SOCKET, socket.SO_PEERCRED, struct.calcsize("3i"))
        return int(struct.unpack("3i", raw)[1])
    if hasattr(socket, "LOCAL_PEERCRED"):  # macOS, BSD: struct xucred {version, uid, ...}
        raw = sock.getsockopt(0, socket.LOCAL_PEERCRED, struct.calcsize("IIh16I"))
        return int(struct.unpack_from("II", raw)[1])
    return None


def rss_mb() -> float:
    """Resident memory of this process now (Linux), else its peak."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return round(int(line.split()[1]) / 1024, 1)
    except OSError:
        pass
    import resource

    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return round(peak / (1024 * 1024 if sys.platform == "darwin" else 1024), 1)


def _error_kind(exc: BaseException) -> str:
    return "locked" if isinstance(exc, DaemonLockedError) else "error"


class Link:
    """What a long job may use of the connection that asked for it: progress frames
    to the client (when it asked for them), and a `Cancel` set when the client shuts
    its sending side or goes away.

    Progress frames are written under a lock and stop when the job returns, so they
    never interleave with each other or the reply; a watcher thread only peeks, so a
    request the client sent early stays unread for the connection to answer next."""

    def __init__(self, sock: socket.socket, wants_progress: bool) -> None:
        self.sock = sock
        self.cancel = Cancel()
        self._wants_progress = wants_progress
        self._last_sent = 0.0
        self._writing = threading.Lock()
        self._finished = threading.Event()
        self._watcher = threading.Thread(target=self._watch, name="link-watch", daemon=True)

    def __enter__(self) -> Link:
        self._watcher.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        with self._writing:
            self._wants_progress = False  # the reply is next; a late report is dropped
        self._finished.set()
        self._watcher.join()

    def progress(self, stage: str, done: int, total: int | None) -> None:
        with self._writing:
            if not self._wants_progress or self.cancel.cancelled:
                return
            now = time.monotonic()
            last = total is not None and done >= total
            if now - self._last_sent < PROGRESS_EVERY_S and not last:
                return
            self._last_sent = now
            try:
                protocol.write_frame(self.sock, protocol.progress(stage, done, total))
            except OSError:  # the client is gone: nobody wants the rest of the work
                self.cancel.cancel()

    def _watch(self) -> None:
        while not self._finished.is_set():
            try:
                readable, _, _ = select.select([self.sock], [], [], 0.1)
                if not readable:
                    continue
                hung_up = not self.sock.recv(1, socket.MSG_PEEK)
            except (OSError, ValueError):  # closed under us: the same as hanging up
                hung_up = True
            if hung_up:
                log.info("the client stopped waiting: cancelling its job")
                self.cancel.cancel()
            return  # hung up, or sent its next request: nothing more to watch for


class Daemon:
    """The daemon's state: the gate to the open memory and what status reports."""

    def __init__(self, paths: Paths, config: Config, place: DaemonPlace) -> None:
        self.paths = paths
        self.config = config
        self.place = place
        self.gate: Gate[Resident] = Gate()
        self.started = time.monotonic()
        self.last_request = time.monotonic()
        self.last_sync: str | None = None
        self.served = 0  # memory requests answered, for status (and to prove a path)
        self.unlock_mode: str | None = None
        self._transition = threading.Lock()  # one lock or unlock at a time
        self.stop_requested = threading.Event()
        self.on_unlocked: list[Callable[[Resident], None]] = []  # background work starts here
        self.current_job: Callable[[], str | None] = lambda: None

    # -- lock and unlock -------------------------------------------------------------

    def unlock(self, passphrase: str | None = None) -> bool:
        """Open the vault and warm the model; False when it was already open."""
        with self._transition:
            if self.gate.is_open:
                return False
            secrets = Secrets(_remembered=passphrase) if passphrase else Secrets()
            memory = Memory.open(self.paths, self.config, secrets)
            try:
                memory.embedder.load()  # the first recall must not pay for the model
            except BaseException:
                memory.close()
                raise
            warm = Resident(memory)
            self.gate.open(warm)
            log.info("unlocked")
        for start in self.on_unlocked:
            start(warm)
        return True

    def lock(self) -> bool:
        """Drop the keys and seal the index; False when it was already locked."""
        with self._transition:
            warm = self.gate.close()
            if warm is None:
                return False
            warm.memory.close()  # seals the index and removes the runtime copy
            log.info("locked")
            return True

    def answers(self) -> bool:
        """Whether the socket serves a ping now: what the systemd watchdog vouches for."""
        try:
            with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
                sock.settimeout(10)
                sock.connect(str(self.place.socket))
                protocol.write_frame(sock, protocol.request("ping", {}))
                reply = protocol.read_frame(sock, protocol.MAX_REPLY)
        except (OSError, protocol.ProtocolError):
            return False
        return bool(reply and reply.get("ok"))

    def release_thread(self) -> None:
        """A client's thread is ending: close its database connection."""
        # While locked there is nothing to release: locking closed every connection.
        with contextlib.suppress(DaemonLockedError), self.gate.use() as warm:
            warm.memory.db.release_thread()

    def idle_s(self) -> float:
        return time.monotonic() - self.last_request

    # -- requests --------------------------------------------------------------------

    def handle(self, message: dict[str, Any], sock: socket.socket | None = None) -> dict[str, Any]:
        """The reply to one request; `sock`, the client's connection, carries a long
        job's progress and cancel (without it, a job runs without them)."""
        if message.get("v") != protocol.VERSION:
            return protocol.failure(
                "protocol", f"protocol version {message.get('v')!r} is not {protocol.VERSION}"
            )
        op, args = message.get("op"), message.get("args", {})
        if not isinstance(op, str) or not isinstance(args, dict):
            return protocol.failure("protocol", "a request needs an `op` name and `args` object")
        if op not in MEMORY_OPS and op not in CONTROL_OPS:
            return protocol.failure("protocol", f"unknown request {op[:40]!r}")
        if op not in ("ping", "daemon_status"):  # looking does not keep it unlocked
            self.last_request = time.monotonic()
        try:
            if op in CONTROL_OPS:
                return protocol.success(self._control(op, args))
            with self.gate.use() as warm:
                result = codec.dump(_call(warm, op, args, sock, message.get("progress") is True))
            self.served += 1
            return protocol.success(result)
        except Cancelled as exc:
            return protocol.failure("cancelled", str(exc), job=exc.job)
        except USER_ERRORS as exc:
            return protocol.failure(_error_kind(exc), str(exc))
        except (TypeError, KeyError, ValueError) as exc:
            return protocol.failure("protocol", f"bad arguments for {op}: {exc}")
        except Exception as exc:  # a bug must not end the server; the log has the details
            log.exception("request %s failed", op)
            return protocol.failure("internal", f"the daemon failed on {op}: {exc}")

    def _control(self, op: str, args: dict[str, Any]) -> Any:
        if op == "ping":
            return {"pid": os.getpid()}
        if op == "daemon_status":
            return self.status()
        if op == "lock":
            return {"locked_now": self.lock()}
        if op == "unlock":
            passphrase = args.get("passphrase")
            if passphrase is not None and not isinstance(passphrase, str):
                raise TypeError("passphrase must be a string")
            return {"unlocked_now": self.unlock(passphrase)}
        self.stop_requested.set()  # "stop": the main thread shuts down after this reply
        return {"stopping": True}

    def status(self) -> dict[str, Any]:
        sources = pending = None
        if self.gate.is_open:
            try:
                with self.gate.use() as warm:
                    sources, pending = _sources_and_pending(warm.memory)
            except DaemonLockedError:
                pass
        return {
            "running": True,
            "pid": os.getpid(),
            "locked": not self.gate.is_open,
            "socket": str(self.place.socket),
            "uptime_s": round(time.monotonic() - self.started, 1),
            "sources": sources,
            "last_sync": self.last_sync,
            "pending_reflection": pending,
            "rss_mb": rss_mb(),
            "requests": self.served,
            "job": self.current_job(),
            "unlock_mode": self.unlock_mode,
            "idle_lock_minutes": self.config.daemon.idle_lock_minutes,
        }


def _sources_and_pending(memory: Memory) -> tuple[int, int]:
    from assistant.reflection.run import pending_count
    from assistant.service.overview import counts

    return counts(memory).sources, pending_count(memory)


def _call(
    warm: Resident,
    op: str,
    args: dict[str, Any],
    sock: socket.socket | None = None,
    wants_progress: bool = False,
) -> Any:
    """Run backend method `op` with `args` rebuilt into the types its signature names;
    a long job gets its progress and cancel hooks from the connection."""
    method = getattr(warm, op)
    hints = typing.get_type_hints(method, localns=annotation_types())
    unknown = set(args) - (set(hints) - HOOKS - {"return"})
    if unknown:
        raise TypeError(f"unexpected argument(s) {', '.join(sorted(unknown))}")
    loaded = {name: codec.load(hints[name], value) for name, value in args.items()}
    hooks = HOOKS & set(hints)
    if sock is None or not hooks:
        return method(**loaded)
    with Link(sock, wants_progress) as link:
        given = {"progress": link.progress, "cancel": link.cancel}
        return method(**loaded, **{name: given[name] for name in hooks})


class _Connection(socketserver.BaseRequestHandler):
    """One client connection: its uid is checked, then frames are answered in turn."""

    server: _Server

    def finish(self) -> None:
        self.server.daemon.release_thread()  # each connection runs on a thread of its own

    def handle(self) -> None:
        sock: socket.socket = self.request
        daemon = self.server.daemon
        uid = peer_uid(sock)
        if uid != os.getuid():
            log.warning("refused a connection from uid %s", uid)
            self._refuse(protocol.failure("forbidden", "this daemon serves only its own user"))
            return
        while True:
            sock.settimeout(IDLE_CLIENT_S)
            try:
                message = protocol.read_frame(sock, protocol.MAX_REQUEST)
            except TimeoutError:
                return  # connected and said nothing: let the thread go
            except protocol.ProtocolError as exc:
                # The stream cannot be trusted past a bad frame: answer, then hang up.
                self._refuse(protocol.failure("protocol", str(exc)))
                return
            except OSError:
                return
            if message is None:
                return
            sock.settimeout(None)
            if not self._reply(daemon.handle(message, sock)):
                return
            if daemon.stop_requested.is_set():
                self.server.begin_shutdown()
                return

    def _refuse(self, message: dict[str, Any]) -> None:
        """Answer, then hang up without losing the answer. Closing with the client's
        unread bytes still queued makes the kernel send a reset, which can destroy the
        reply before the client reads it; so stop writing, then drain (bounded)."""
        sock: socket.socket = self.request
        if not self._reply(message):
            return
        with contextlib.suppress(OSError):  # the client left first: nothing to protect
            sock.shutdown(socket.SHUT_WR)
            sock.settimeout(1.0)
            drained = 0
            while drained < protocol.MAX_REQUEST and (chunk := sock.recv(1 << 16)):
                drained += len(chunk)

    def _reply(self, message: dict[str, Any]) -> bool:
        try:
            protocol.write_frame(self.request, message)
        except OSError:  # the client went away; its loss
            return False
        return True


class _Server(socketserver.ThreadingMixIn, socketserver.UnixStreamServer):
    daemon_threads = True
    block_on_close = False
    request_queue_size = 64

    def __init__(self, path: Path, daemon: Daemon) -> None:
        self.daemon = daemon
        super().__init__(str(path), _Connection)

    def begin_shutdown(self) -> None:
        """Stop serving from any thread but the one in `serve_forever`."""
        threading.Thread(target=self.shutdown, name="shutdown", daemon=True).start()


def run(paths: Paths, config: Config, on_ready: Callable[[], None] | None = None) -> None:
    """Serve until stopped (`me daemon stop`, SIGTERM or SIGINT), then seal and clean up."""
    from assistant.daemon import background, sdnotify
    from assistant.service.overview import has_vault
    from assistant.vault import key_file_mode

    place = DaemonPlace(paths)
    with place.claim():  # refuses a second daemon for this vault, names its pid
        daemon = Daemon(paths, config, place)
        if not has_vault(paths):
            raise DaemonError(f"no vault at {paths.data}: run `me init` first")
        daemon.unlock_mode = key_file_mode(paths.key_file)
        server = _Server(place.bind(), daemon)
        os.chmod(place.socket, 0o600)
        jobs = background.Background(daemon)
        daemon.on_unlocked.append(jobs.unlocked)
        daemon.current_job = lambda: jobs.current
        try:
            _first_unlock(daemon)
            jobs.start()
            for signum in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
                signal.signal(signum, lambda *_: server.begin_shutdown())
            sdnotify.ready()
            if on_ready is not None:
                on_ready()
            log.info("serving on %s (pid %d)", place.socket, os.getpid())
            server.serve_forever(poll_interval=0.2)
        finally:
            sdnotify.stopping()
            server.server_close()
            place.socket.unlink(missing_ok=True)
            jobs.stop()
            daemon.lock()
            log.info("stopped")


def _first_unlock(daemon: Daemon) -> None:
    """Keyring vaults open at start; passphrase vaults too when SECONDSELF_PASSPHRASE is
    set. Otherwise the daemon starts locked and waits for `me unlock`."""
    try:
        daemon.unlock()
    except USER_ERRORS as exc:
        log.warning("starting locked: %s", exc)
