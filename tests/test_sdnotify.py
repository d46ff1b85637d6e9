"""sd_notify against a real datagram socket bound by the test, as systemd would bind it."""

from __future__ import annotations

import logging
import os
import socket
import sys
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from assistant.daemon import sdnotify


@pytest.fixture(autouse=True)
def no_manager(monkeypatch: pytest.MonkeyPatch) -> None:
    """Start each test outside systemd, whatever the environment running the tests."""
    for name in ("NOTIFY_SOCKET", "WATCHDOG_USEC", "WATCHDOG_PID"):
        monkeypatch.delenv(name, raising=False)


def _listener(address: str) -> socket.socket:
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    sock.bind(address)
    sock.settimeout(5)
    return sock


@pytest.fixture
def path_socket(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[socket.socket]:
    address = str(tmp_path / "notify")
    with _listener(address) as sock:
        monkeypatch.setenv("NOTIFY_SOCKET", address)
        yield sock


@pytest.fixture
def abstract_socket(monkeypatch: pytest.MonkeyPatch) -> Iterator[socket.socket]:
    if not sys.platform.startswith("linux"):
        pytest.skip("abstract Unix socket addresses exist on Linux only")
    name = f"secondself-test-{uuid.uuid4().hex}"
    with _listener("\0" + name) as sock:
        monkeypatch.setenv("NOTIFY_SOCKET", "@" + name)
        yield sock


SENDERS: list[tuple[Callable[[], bool], bytes]] = [
    (sdnotify.ready, b"READY=1"),
    (sdnotify.stopping, b"STOPPING=1"),
    (sdnotify.watchdog, b"WATCHDOG=1"),
    (lambda: sdnotify.status("indexing 3 files"), b"STATUS=indexing 3 files"),
    (lambda: sdnotify.notify("RELOADING=1"), b"RELOADING=1"),
]


@pytest.mark.parametrize(("send", "expected"), SENDERS)
def test_a_path_socket_receives_exactly_the_message(
    path_socket: socket.socket, send: Callable[[], bool], expected: bytes
) -> None:
    assert send() is True
    assert path_socket.recv(4096) == expected


@pytest.mark.parametrize(("send", "expected"), SENDERS)
def test_an_abstract_socket_receives_exactly_the_message(
    abstract_socket: socket.socket, send: Callable[[], bool], expected: bytes
) -> None:
    assert send() is True
    assert abstract_socket.recv(4096) == expected


def test_messages_arrive_one_datagram_each_in_order(path_socket: socket.socket) -> None:
    assert sdnotify.ready() and sdnotify.watchdog() and sdnotify.stopping()
    received = [path_socket.recv(4096) for _ in range(3)]
    assert received == [b"READY=1", b"WATCHDOG=1", b"STOPPING=1"]


def test_a_status_cannot_smuggle_another_assignment(path_socket: socket.socket) -> None:
    assert sdnotify.status("syncing\nREADY=1\r\nWATCHDOG=1")
    assert path_socket.recv(4096) == b"STATUS=syncing READY=1 WATCHDOG=1"


def test_outside_systemd_nothing_is_sent() -> None:
    assert sdnotify.notify("READY=1") is False
    assert sdnotify.ready() is False
    assert sdnotify.watchdog() is False


def test_a_missing_socket_is_logged_not_raised(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setenv("NOTIFY_SOCKET", str(tmp_path / "gone"))
    with caplog.at_level(logging.DEBUG, logger="assistant.daemon.sdnotify"):
        assert sdnotify.ready() is False
    assert "could not notify" in caplog.text


def test_a_socket_of_the_wrong_kind_is_not_an_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    address = str(tmp_path / "stream")
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as stream:
        stream.bind(address)
        monkeypatch.setenv("NOTIFY_SOCKET", address)
        assert sdnotify.ready() is False


@pytest.mark.parametrize("address", ["relative/notify", "vsock:2:1234"])
def test_an_unsupported_address_is_not_an_error(
    monkeypatch: pytest.MonkeyPatch, address: str
) -> None:
    monkeypatch.setenv("NOTIFY_SOCKET", address)
    assert sdnotify.ready() is False


def test_no_watchdog_outside_systemd() -> None:
    assert sdnotify.watchdog_interval() is None


def test_watchdog_interval_in_seconds(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("WATCHDOG_USEC", "60000000")
    assert sdnotify.watchdog_interval() == 60.0
    monkeypatch.setenv("WATCHDOG_PID", str(os.getpid()))
    assert sdnotify.watchdog_interval() == 60.0


def test_a_watchdog_meant_for_another_process_is_ignored(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("WATCHDOG_USEC", "60000000")
    monkeypatch.setenv("WATCHDOG_PID", str(os.getpid() + 1))
    assert sdnotify.watchdog_interval() is None


@pytest.mark.parametrize(
    ("usec", "pid"), [("0", None), ("-5", None), ("soon", None), ("60000000", "me")]
)
def test_a_malformed_watchdog_is_ignored(
    monkeypatch: pytest.MonkeyPatch, usec: str, pid: str | None
) -> None:
    monkeypatch.setenv("WATCHDOG_USEC", usec)
    if pid is not None:
        monkeypatch.setenv("WATCHDOG_PID", pid)
    assert sdnotify.watchdog_interval() is None
