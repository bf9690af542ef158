"""Asynchronous successive halving (ASHA; Li et al., MLSys 2020) over epochs, fed by any strategy.

Rungs are epoch counts ``min_epochs * eta**k`` up to the trainer's ``epochs`` (always the last rung). Every new
architecture the strategy asks for trains to the first rung. Whenever a worker is free, the scheduler looks for
a trial in the top ``1/eta`` of its rung (among the trials finished there so far) that was not promoted yet,
highest rung first, and promotes it: a new trial row (its ``parent`` the promoted one) continues that training,
from the parent's checkpoint when the driver still holds it, to the next rung. Only when there is nothing to
promote does it ask the strategy for a new architecture, so no worker waits for a rung to fill.

What the strategy learns: the result of every architecture at the first rung, and only that. All of them are
measured at the same fidelity, so a strategy that compares scores compares like with like; promotions decide
which architectures get more epochs, not what the strategy believes. The run's winner is ranked by the highest
rung reached first, then by score (:func:`~nasforge.trial.rank_key`), so a 9-epoch result never loses to a
lucky 1-epoch one.
"""

from __future__ import annotations

from nasforge.exceptions import ConfigError
from nasforge.trial import Trial, TrialState, rank_key

__all__ = ["Asha", "rung_epochs"]


def rung_epochs(min_epochs: int, max_epochs: int, eta: int) -> list[int]:
    """``min, min*eta, min*eta**2, ...`` below ``max``, then ``max``: ``(1, 16, 3)`` gives ``[1, 3, 9, 16]``."""
    rungs = [min_epochs]
    while rungs[-1] * eta < max_epochs:
        rungs.append(rungs[-1] * eta)
    if rungs[-1] != max_epochs:
        rungs.append(max_epochs)
    return rungs


class Asha:
    """Which trial to promote next; it sees every trial that ends (:meth:`observe`) or starts (:meth:`started`)."""

    name = "asha"

    def __init__(self, max_epochs: int, min_epochs: int = 1, eta: int = 3) -> None:
        for name, value, low in (("min_epochs", min_epochs, 1), ("eta", eta, 2), ("max_epochs", max_epochs, 1)):
            if isinstance(value, bool) or not isinstance(value, int) or value < low:
                raise ConfigError(f"fidelity.{name}: must be an integer >= {low}, got {value!r}")
        if min_epochs >= max_epochs:
            raise ConfigError(f"fidelity.min_epochs: must be below train.epochs ({max_epochs}), got {min_epochs}")
        self.eta = eta
        self.rungs = rung_epochs(min_epochs, max_epochs, eta)
        self._finished: list[list[Trial]] = [[] for _ in self.rungs]
        self._promoted: set[int] = set()

    def describe(self) -> str:
        return f"ASHA over {'/'.join(map(str, self.rungs))} epochs (eta {self.eta})"

    def rung(self, trial: Trial) -> int | None:
        epochs = trial.costs.get("epochs")
        return self.rungs.index(int(epochs)) if epochs in self.rungs else None

    def started(self, trial: Trial) -> None:
        """A promotion was recorded: its parent is never promoted again (a resume redoes an interrupted one)."""
        if trial.parent is not None:
            self._promoted.add(trial.parent)

    def observe(self, trial: Trial) -> None:
        self.started(trial)
        k = self.rung(trial)
        if trial.state is TrialState.FINISHED and k is not None:
            self._finished[k].append(trial)

    def promotion(self) -> tuple[Trial, int] | None:
        """The trial to train on and the epochs to train it to, or None: then ask for a new architecture."""
        for k in range(len(self.rungs) - 2, -1, -1):
            done = sorted(self._finished[k], key=rank_key)
            for trial in done[: len(done) // self.eta]:
                if trial.id not in self._promoted:
                    return trial, self.rungs[k + 1]
        return None
