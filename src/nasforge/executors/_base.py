"""The executor seam: where evaluations run. The runner only submits and waits on futures.

Every executor returns :class:`concurrent.futures.Future` objects, so a process pool or a Dask cluster
plugs in without changing the runner: ``capacity`` says how many evaluations may be outstanding.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Iterable
from concurrent.futures import FIRST_COMPLETED, Future, wait
from typing import Any

__all__ = ["Executor"]


class Executor(ABC):
    capacity: int = 1

    @abstractmethod
    def submit(self, fn: Callable[..., Any], *args: Any) -> Future[Any]: ...

    def wait_any(self, futures: Iterable[Future[Any]]) -> set[Future[Any]]:
        """Block until at least one future is done; return the done ones."""
        done, _ = wait(list(futures), return_when=FIRST_COMPLETED)
        return done

    def shutdown(self) -> None:
        """Stop workers (a no-op for in-process execution)."""
