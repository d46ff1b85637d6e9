"""Find connectors through the `secondself.connectors` entry-point group."""

from __future__ import annotations

import logging
from importlib.metadata import entry_points
from pathlib import Path

from connectors.base import Connector, ConnectorError
from connectors.reading import open_regular, sniff

log = logging.getLogger(__name__)

GROUP = "secondself.connectors"


def available_connectors() -> list[Connector]:
    """Instantiate every registered connector, skipping plugins that fail to load."""
    found: list[Connector] = []
    for ep in sorted(entry_points(group=GROUP), key=lambda e: e.name):
        try:
            cls = ep.load()
            found.append(cls())
        except Exception as exc:  # a broken plugin must not break ingest
            log.warning("connector plugin %s failed to load: %s", ep.name, exc)
    return sorted(found, key=lambda c: -c.priority)


def connector_named(name: str) -> Connector:
    """The registered connector called `name`; KeyError lists the known ones."""
    for connector in available_connectors():
        if connector.name == name:
            return connector
    known = ", ".join(c.name for c in available_connectors())
    raise KeyError(f"no connector called {name!r} (known: {known})")


def connector_for(path: Path, connectors: list[Connector]) -> Connector | None:
    """The first connector that claims `path` by its content or name, if any (None for
    anything that is not a readable regular file; see `connectors.reading`)."""
    try:
        with open_regular(path) as stream:
            return sniff(path, stream, connectors)
    except (OSError, ConnectorError):
        return None
