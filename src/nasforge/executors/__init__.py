"""Executors: where evaluations run (in this process, in worker processes, or on a Dask cluster)."""

from nasforge.executors._base import Executor
from nasforge.executors._dask import DaskExecutor, ExecutorError
from nasforge.executors._local import LocalExecutor

__all__ = ["DaskExecutor", "Executor", "ExecutorError", "LocalExecutor"]
