"""Readers for chats, notes and files that turn them into normalized `Item`s."""

from connectors.base import Author, Connector, ConnectorError, Item, ParseError
from connectors.registry import available_connectors, connector_for

__all__ = [
    "Author",
    "Connector",
    "ConnectorError",
    "Item",
    "ParseError",
    "available_connectors",
    "connector_for",
]
