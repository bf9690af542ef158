"""Evaluation in the calling process, one trial at a time: the default, and the simplest to debug."""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import Future
from typing import Any

from nasforge.executors._base import Executor

__all__ = ["LocalExecutor"]


class LocalExecutor(Executor):
    """Runs each evaluation synchronously inside ``submit``; Ctrl-C reaches the trial directly."""

    capacity = 1

    def submit(self, fn: Callable[..., Any], *args: Any) -> Future[Any]:
        future: Future[Any] = Future()
        try:
            future.set_result(fn(*args))
        except Exception as exc:  # recorded as a failed trial by the runner
            future.set_exception(exc)
        return future
