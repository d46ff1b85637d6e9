"""A tiny sd_notify client: tells systemd the daemon is ready, alive or stopping.

The protocol is one datagram per message on the AF_UNIX socket named by
`$NOTIFY_SOCKET` (a path, or an abstract address spelled with a leading `@`). Outside
systemd the variable is unset and every call is a cheap no-op returning False, so the
daemon calls these unconditionally. A broken socket must never take the daemon down:
failures are logged at debug level and reported as False, never raised.
"""

from __future__ import annotations

import logging
import os
import socket

log = logging.getLogger(__name__)


def notify(message: str) -> bool:
    """Send `message` (e.g. "READY=1") to the service manager; False when not under one."""
    address = os.environ.get("NOTIFY_SOCKET")
    if not address:
        return False
    if address.startswith("@"):  # Linux abstract namespace: a leading NUL byte
        target = "\0" + address[1:]
    elif address.startswith("/"):
        target = address
    else:  # vsock and other transports of newer systemd: not needed by a user service
        log.debug("NOTIFY_SOCKET %r is not a Unix socket address; not notifying", address)
        return False
    try:
        with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as sock:
            sock.sendto(message.encode("utf-8"), target)
    except OSError as exc:
        log.debug("could not notify %r of %r: %s", address, message, exc)
        return False
    return True


def ready() -> bool:
    """The socket accepts connections: `systemctl start` may return."""
    return notify("READY=1")


def stopping() -> bool:
    """Shutdown has begun (sealing the index may take a while)."""
    return notify("STOPPING=1")


def watchdog() -> bool:
    """Still alive: resets the WatchdogSec= timer."""
    return notify("WATCHDOG=1")


def status(text: str) -> bool:
    """A one-line status shown by `systemctl --user status`.

    Line breaks become spaces: each line of a datagram is an assignment of its own, so
    a status text must not be able to say READY=1 or WATCHDOG=1 on a line of its own.
    """
    return notify("STATUS=" + " ".join(text.splitlines()))


def watchdog_interval() -> float | None:
    """Seconds within which systemd expects `watchdog()`, or None when it expects nothing.

    From `$WATCHDOG_USEC`; when `$WATCHDOG_PID` is set it must be this process, since a
    child that inherited the environment is not the one being watched. Ping at half of it.
    """
    usec = os.environ.get("WATCHDOG_USEC")
    if not usec:
        return None
    pid = os.environ.get("WATCHDOG_PID")
    if pid:
        try:
            if int(pid) != os.getpid():
                return None
        except ValueError:
            log.debug("ignoring a malformed WATCHDOG_PID %r", pid)
            return None
    try:
        value = int(usec)
    except ValueError:
        log.debug("ignoring a malformed WATCHDOG_USEC %r", usec)
        return None
    return value / 1_000_000 if value > 0 else None
