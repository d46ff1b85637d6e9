"""Second Self's core services (ingest, recall, vault) and its entry points."""

__version__ = "0.1.0"
