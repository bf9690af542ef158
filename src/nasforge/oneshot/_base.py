"""The one-shot seam, beside ask/tell: a strategy that trains one supernet instead of proposing candidates.

The runner (:class:`~nasforge.run.Run`) gives it the data once (:class:`SupernetData`, from the evaluator) and
then asks for one supernet epoch at a time, recording each as a trial of the architecture derived at its end
(with its validation metrics and the architecture weights); the last derived architecture is the run's winner
and goes through the same retraining, single test and export as any other strategy's.
"""

from __future__ import annotations

import inspect
from abc import ABC, abstractmethod
from collections.abc import Callable, Hashable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, ClassVar

from nasforge.exceptions import ConfigError
from nasforge.registry import Registry
from nasforge.spaces import CellSpace, SearchSpace

if TYPE_CHECKING:
    import torch

__all__ = ["ONE_SHOT", "EpochRecord", "OneShot", "SupernetData"]


@dataclass(frozen=True)
class SupernetData:
    """What a supernet trains on: tensors on ``device`` (``train`` for the weights, ``valid`` for the
    architecture), the input shape, the number of outputs, and the batch size and torch threads of the run's
    trainer (the supernet trains with the threads a trial would, as ``train.threads`` says)."""

    train: tuple[torch.Tensor, torch.Tensor]
    valid: tuple[torch.Tensor, torch.Tensor]
    input_shape: tuple[int, ...]
    num_classes: int
    batch_size: int
    device: torch.device
    threads: int = 1


@dataclass(frozen=True)
class EpochRecord:
    """One supernet epoch: the architecture derived at its end, the supernet's validation metrics, the
    training loss, and the architecture weights (one row of op weights per edge)."""

    arch: Hashable
    metrics: dict[str, float]
    train_loss: float
    weights: list[list[float]]
    extra: dict[str, float] = field(default_factory=dict)


class OneShot(ABC):
    """A gradient-based (one-shot) strategy. Constructors only store configuration, as for :class:`Strategy`."""

    name: ClassVar[str]
    space: CellSpace
    seed: int
    stopped: str | None = None  # set when the strategy ends the search itself (e.g. an early-stopping remedy)

    def bind(self, space: SearchSpace, seed: int) -> OneShot:
        if not isinstance(space, CellSpace):
            raise ConfigError(f"strategy.name: {self.name} searches the cell space (space: {{type: cell}})")
        self.space, self.seed = space, seed
        return self

    @abstractmethod
    def start(self, data: SupernetData) -> None:
        """Build the supernet and its optimisers on ``data``'s device."""

    @abstractmethod
    def epoch(self, out_of_time: Callable[[], bool]) -> EpochRecord | None:
        """Train one epoch; None when ``out_of_time()`` turned true before it ended (nothing is recorded)."""

    def plan(self, epochs_left: int) -> None:
        """Told before each epoch how many more the run's budget has room for (see :meth:`Budget.room
        <nasforge.budget.Budget.room>`), so that a strategy whose schedules span its length can fit them to
        the budget rather than to a guess; ignored by default."""

    def config(self) -> dict[str, Any]:
        params = inspect.signature(type(self).__init__).parameters
        return {"name": self.name, **{p: getattr(self, p) for p in params if p != "self"}}


ONE_SHOT: Registry[OneShot] = Registry("one-shot strategy")
"""One-shot strategies by name; ``strategy: {name: darts}`` finds them here (:func:`nasforge.api.make_strategy`)."""
