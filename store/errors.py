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


class Cancelled(StoreError):
    """A job was stopped through its `Cancel` token (store/progress.py), at a point where
    everything it finished is committed and nothing half-written is kept."""

    exit_code = 130  # like an interrupt: the user (or the daemon, locking) stopped it

    def __init__(self, job: str = "the job") -> None:
        super().__init__(job)  # the only argument: it pickles and copies as itself
        self.job = job

    def __str__(self) -> str:
        return (
            f"{self.job} cancelled: what it finished is kept, nothing half-written was; "
            "run it again to carry on"
        )
