"""Executors: where evaluations run (in-process now; process pools and Dask plug into the same seam)."""

from nasforge.executors._base import Executor
from nasforge.executors._local import LocalExecutor

__all__ = ["Executor", "LocalExecutor"]
