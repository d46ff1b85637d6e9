"""Connectors that misbehave on purpose, loaded by the parse worker as "module:Class"."""

from __future__ import annotations

import json
import os
import time
from datetime import datetime
from pathlib import Path

from connectors import Connector, Item


def _item(path: Path, text: str, mtime: datetime) -> Item:
    return Item(text=text, time=mtime, kind="note", document=str(path), locator="0")


class Sleeper(Connector):
    name = "tests.hostile_connectors:Sleeper"

    def parse(self, path: Path, data: bytes, mtime: datetime) -> list[Item]:
        time.sleep(60)
        return []


class Crasher(Connector):
    name = "tests.hostile_connectors:Crasher"

    def parse(self, path: Path, data: bytes, mtime: datetime) -> list[Item]:
        os.abort()


class Hog(Connector):
    name = "tests.hostile_connectors:Hog"

    def parse(self, path: Path, data: bytes, mtime: datetime) -> list[Item]:
        hoard = [bytearray(64 * 1024 * 1024) for _ in range(64)]  # 4 GiB
        return [_item(path, str(len(hoard)), mtime)]


class EnvSpy(Connector):
    name = "tests.hostile_connectors:EnvSpy"

    def parse(self, path: Path, data: bytes, mtime: datetime) -> list[Item]:
        return [_item(path, json.dumps(dict(os.environ)), mtime)]


class Chatty(Connector):
    name = "tests.hostile_connectors:Chatty"

    def parse(self, path: Path, data: bytes, mtime: datetime) -> list[Item]:
        print("a plugin that prints to stdout")  # must not corrupt the protocol
        return [_item(path, data.decode(), mtime)]
