"""The one error hierarchy of Second Self, and what each error means to a user.

Lower layers cannot import `assistant`, so the store and the connectors define
their own roots; this module re-exports them and draws the whole tree:

    Exception
    ├── SecondSelfError                    (assistant)
    │   ├── ConfigError                    bad config file or setting
    │   ├── VaultError
    │   │   ├── VaultNotFoundError         no vault here yet: run `me init`
    │   │   ├── VaultExistsError           `me init` over an existing vault
    │   │   ├── WrongSecretError           wrong passphrase / recovery phrase
    │   │   ├── KeyringError               no usable keyring, or its entry is missing
    │   │   ├── KeyFileError               keys.json missing, damaged or foreign
    │   │   └── VaultLockedError           no way to ask for the passphrase
    │   ├── ModelError                     a model (embedding or ollama) missing,
    │   │                                  not trusted or not answering
    │   ├── DaemonError                    the daemon is not there, or refused a request
    │   │   └── DaemonLockedError          the daemon is locked: `me unlock` (exit 3)
    │   ├── IngestError                    a path given to ingest does not exist
    │   │   └── SourceNotFoundError        no registered source with that id
    │   ├── MemoryRefError                 no such memory or change, or an undo
    │   │                                  that would lose a later change
    │   ├── QueryError                     a question with nothing to search for
    │   ├── GovernanceError                a grant, audit or autofill not possible as asked
    │   └── FormError                      a form autofill cannot read or fill
    │                                      (defined in assistant.autofill.forms)
    ├── StoreError                         (store)
    │   ├── DatabaseKeyError               database does not open with the key
    │   ├── DatabaseDamagedError           truncated or corrupt database
    │   ├── DatabaseBusyError              another process holds the vault
    │   ├── SnapshotError                  sealed vector snapshot fails authentication
    │   ├── SchemaError                    database from a newer version
    │   ├── DiskFullError                  no space left where the store writes
    │   └── Cancelled                      a job stopped at a safe point (exit 130):
    │                                      what it finished is kept, nothing half-written
    └── ConnectorError                     (connectors)
        └── ParseError                     one file could not be read

Every message says what happened and what to do next. Entry points catch
`USER_ERRORS`, print the message to stderr and exit with the error's `exit_code`
(1 unless the class says otherwise).
"""

from __future__ import annotations

from connectors.base import ConnectorError, ParseError
from store.errors import (
    Cancelled,
    DatabaseBusyError,
    DatabaseDamagedError,
    DatabaseKeyError,
    DiskFullError,
    SchemaError,
    SnapshotError,
    StoreError,
)


class SecondSelfError(Exception):
    """Base of the assistant's own errors."""

    exit_code = 1


class ConfigError(SecondSelfError):
    """The configuration file or a setting is invalid."""


class VaultError(SecondSelfError):
    """Something about the vault or its keys."""


class VaultNotFoundError(VaultError):
    """No vault exists at the data directory."""


class VaultExistsError(VaultError):
    """A vault (or part of one) already exists where a new one was to be created."""


class WrongSecretError(VaultError):
    """The passphrase or recovery phrase does not unlock the vault."""


class KeyringError(VaultError):
    """The OS keyring is unusable, untrusted, or lacks this vault's entry."""


class KeyFileError(VaultError):
    """The key file is missing, damaged, or belongs to another vault."""


class VaultLockedError(VaultError):
    """A secret is needed but there is no terminal to ask and no environment value."""


class ModelError(SecondSelfError):
    """A model cannot be used: the embedding model is missing or does not match its
    pinned hash, or the ollama server or model is not there or not answering."""


class DaemonError(SecondSelfError):
    """The daemon cannot be reached, cannot start, or refused a request."""


class DaemonLockedError(DaemonError):
    """The daemon holds the vault locked (`me lock`, or idle too long): `me unlock`."""

    exit_code = 3  # scripts tell "locked" apart from every other failure


class IngestError(SecondSelfError):
    """Ingest cannot start (e.g. a path that does not exist)."""


class SourceNotFoundError(IngestError):
    """No registered source has the id given (`me sources list` shows them)."""


class MemoryRefError(SecondSelfError):
    """A memory or change id that does not exist, or an operation it cannot take."""


class QueryError(SecondSelfError):
    """A question with nothing to search for (empty, or no word in it)."""


USER_ERRORS: tuple[type[Exception], ...] = (SecondSelfError, StoreError, ConnectorError)

__all__ = [
    "USER_ERRORS",
    "Cancelled",
    "ConfigError",
    "ConnectorError",
    "DaemonError",
    "DaemonLockedError",
    "DatabaseBusyError",
    "DatabaseDamagedError",
    "DatabaseKeyError",
    "DiskFullError",
    "IngestError",
    "KeyFileError",
    "KeyringError",
    "ModelError",
    "ParseError",
    "QueryError",
    "SchemaError",
    "SecondSelfError",
    "SnapshotError",
    "SourceNotFoundError",
    "StoreError",
    "VaultError",
    "VaultExistsError",
    "VaultLockedError",
    "VaultNotFoundError",
    "WrongSecretError",
]


class GovernanceError(SecondSelfError):
    """A grant, an audit or an autofill request that cannot be done as asked."""
