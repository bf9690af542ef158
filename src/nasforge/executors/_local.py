"""Evaluation in the calling process, one trial at a time: the default, and the simplest to debug."""

from __future__ import annotations

from collections.abc import Hashable
from concurrent.futures import Future
from typing import TYPE_CHECKING

from nasforge.executors._base import Executor, evaluate

if TYPE_CHECKING:
    from nasforge.evaluators import Evaluation, Evaluator, Plan

__all__ = ["LocalExecutor"]


class LocalExecutor(Executor):
    """Runs each evaluation synchronously inside ``submit``; Ctrl-C reaches the trial directly."""

    capacity = 1

    def start(self, evaluator: Evaluator) -> None:
        self.evaluator = evaluator

    def submit(self, arch: Hashable, seed: int, plan: Plan | None = None) -> Future[Evaluation]:
        future: Future[Evaluation] = Future()
        try:
            future.set_result(evaluate(self.evaluator, arch, seed, plan))
        except Exception as exc:  # recorded as a failed trial by the runner
            future.set_exception(exc)
        return future
