"""Experiment stores: where a run's config and trials live, so that nothing finished is ever lost."""

from nasforge.store._base import Store
from nasforge.store._lock import LOCK_FILE, RunLock
from nasforge.store._sqlite import SCHEMA_VERSION, SQLiteStore

__all__ = ["LOCK_FILE", "SCHEMA_VERSION", "RunLock", "SQLiteStore", "Store"]
