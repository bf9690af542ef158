"""The executor seam: where evaluations run. The runner only starts it, submits and waits on futures.

:meth:`Executor.start` ships the evaluator once (for remote workers, :meth:`Evaluator.for_workers`, a copy
without the test split); each :meth:`Executor.submit` then sends only an architecture and a seed, and its
future yields an :class:`~nasforge.evaluators.Evaluation`. Futures need ``exception()``, which holds every
way the trial failed, and ``result()``, which then does not raise (a ``concurrent.futures`` future, or the
Dask executor's own, which makes a lost or unreturnable evaluation an exception); ``capacity`` says how many
may be outstanding.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Hashable, Iterable
from concurrent.futures import FIRST_COMPLETED, wait
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from nasforge.evaluators import Evaluation, Evaluator, Plan

__all__ = ["Executor", "evaluate"]


def evaluate(evaluator: Evaluator, arch: Hashable, seed: int, plan: Plan | None) -> Evaluation:
    """One evaluation, wherever it runs; a plan goes only to evaluators that train in epochs."""
    if plan is None:
        return evaluator.evaluate(arch, seed)
    return evaluator.evaluate(arch, seed, plan=plan)  # type: ignore[call-arg]


class Executor(ABC):
    capacity: int = 1

    @abstractmethod
    def start(self, evaluator: Evaluator) -> None:
        """Make ``evaluator`` available where evaluations run; called once per search, before any submit."""

    @abstractmethod
    def submit(self, arch: Hashable, seed: int, plan: Plan | None = None) -> Any:
        """Evaluate ``arch`` with ``seed``; returns a future of the :class:`~nasforge.evaluators.Evaluation`.

        ``plan`` (a stopping rule's snapshot, how many epochs, a checkpoint to go on from) travels with it.
        """

    def describe(self) -> str:
        """Where trials run, in words, for the search's header line."""
        return "in this process"

    def wait_any(self, futures: Iterable[Any]) -> set[Any]:
        """Block until at least one future is done; return the done ones."""
        done, _ = wait(list(futures), return_when=FIRST_COMPLETED)
        return done

    def shutdown(self) -> None:
        """Stop workers (a no-op for in-process execution)."""
