"""Errors raised by the encrypted store (drawn with the rest in assistant/errors.py)."""


class StoreError(Exception):
    """Base of every store error."""


class DatabaseKeyError(StoreError):
    """The database did not open with the key it was given (wrong key or foreign file)."""


class DatabaseDamagedError(StoreError):
    """The database's pages are damaged or missing (e.g. truncated, failed authentication)."""


class DatabaseBusyError(StoreError):
    """Another process holds the vault."""


class SnapshotError(StoreError):
    """A sealed vector snapshot failed authentication or is unreadable."""


class SchemaError(StoreError):
    """The database was written by a newer Second Self than this one."""


class DiskFullError(StoreError):
    """A folder the store writes to (data or runtime) has no space left."""
