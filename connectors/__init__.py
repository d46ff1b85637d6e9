"""Readers for chats, notes and files that turn them into normalized `Item`s."""

from typing import Any

from connectors.base import Author, Connector, ConnectorError, Item, ParseError


def __getattr__(name: str) -> Any:
    # The registry reads entry points (~40 ms): only code that picks a connector pays.
    if name in ("available_connectors", "connector_for"):
        from connectors import registry

        return getattr(registry, name)
    raise AttributeError(name)


__all__ = [
    "Author",
    "Connector",
    "ConnectorError",
    "Item",
    "ParseError",
    "available_connectors",
    "connector_for",
]
