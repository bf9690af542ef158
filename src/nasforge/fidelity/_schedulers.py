"""Schedulers over epochs, fed by any strategy: asynchronous successive halving, successive halving, Hyperband.

Rungs are epoch counts ``min_epochs * eta**k`` up to the trainer's ``epochs`` (always the last rung); the cosine
schedule is laid over all epochs, so a trial trained to a rung is the beginning of the full training. A promotion
is a trial row of its own (its ``parent`` the promoted trial, the same seed) that trains on to the next rung,
from the parent's checkpoint when the driver still holds it (:class:`CheckpointShelf`). New architectures come
from the strategy's ``ask``.

- **ASHA** (Li et al., MLSys 2020): whenever a worker is free, promote a trial in the top ``1/eta`` of its rung
  (among those finished there so far) that was not promoted yet, highest rung first; otherwise start a new
  architecture at the first rung. No worker ever waits for a rung to fill.
- **Successive halving** (Jamieson & Talwalkar, 2016) runs brackets of ``eta**K`` architectures (``K + 1``
  rungs): a rung's top ``1/eta`` is promoted once every trial of the rung has ended. While a bracket waits,
  free workers start the next bracket.
- **Hyperband** (Li et al., JMLR 2018) cycles through brackets that start at each rung in turn, from many
  architectures at few epochs to a few at full length, hedging against a first rung that ranks badly.

What the strategy learns: each architecture's result at the rung it started at, and only that (a promotion's
deeper result goes to the scheduler alone). Under ASHA and successive halving all architectures start at the
first rung, so the strategy compares like with like; Hyperband's later brackets start deeper, and their results
are told as they are (a longer training scores higher, which the strategy reads as a better architecture: the
price of telling it everything once). The run's winner is ranked by the most epochs reached, then by score
(:func:`~nasforge.trial.rank_key`), so a 9-epoch result never loses to a lucky 1-epoch one.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Sequence
from typing import Any

from nasforge.exceptions import ConfigError
from nasforge.fidelity._stoppers import int_at_least
from nasforge.objective import Objective
from nasforge.pareto import pareto_order
from nasforge.trial import Trial, TrialState, rank_key

__all__ = ["SCHEDULERS", "Asha", "Hyperband", "Scheduler", "SuccessiveHalving", "rung_epochs"]


def rung_epochs(min_epochs: int, max_epochs: int, eta: int) -> list[int]:
    """``min, min*eta, min*eta**2, ...`` below ``max``, then ``max``: ``(1, 16, 3)`` gives ``[1, 3, 9, 16]``."""
    rungs = [min_epochs]
    while rungs[-1] * eta < max_epochs:
        rungs.append(rungs[-1] * eta)
    if rungs[-1] != max_epochs:
        rungs.append(max_epochs)
    return rungs


class Scheduler(ABC):
    """Decides which trial trains on (:meth:`promotion`) and how long a new architecture trains (:meth:`first_rung`).

    It sees every trial the runner starts (:meth:`started`) and every trial that ends or is replayed on resume
    (:meth:`observe`); promotions are linked to their parents in the store, so a resumed run promotes no trial
    twice, and a promotion whose driver died is redone once.
    """

    name: str

    def __init__(
        self,
        max_epochs: int,
        min_epochs: int = 1,
        eta: int = 3,
        rungs: Sequence[int] | None = None,
        objective: Objective | None = None,
    ) -> None:
        """Rungs ``min_epochs * eta**k`` up to ``max_epochs``, or the given ``rungs`` (e.g. ``[12, 200]``, the
        fidelities a benchmark table holds); either way ``eta`` is the fraction ``1/eta`` promoted. With several
        objectives (``objective``), a rung is ranked by non-domination (:meth:`ranked`)."""
        self.objective = objective or Objective()
        for name, value, low in (("min_epochs", min_epochs, 1), ("eta", eta, 2), ("max_epochs", max_epochs, 1)):
            int_at_least(name, value, low)
        self.eta = eta
        if rungs is not None:
            self.rungs = [int_at_least("rungs", r) for r in rungs]
            if len(self.rungs) < 2 or self.rungs != sorted(set(self.rungs)) or self.rungs[-1] != max_epochs:
                raise ConfigError(
                    f"fidelity.rungs: must be two or more increasing epoch counts ending at {max_epochs}, got {rungs!r}"
                )
            return
        if min_epochs >= max_epochs:
            raise ConfigError(f"fidelity.min_epochs: must be below train.epochs ({max_epochs}), got {min_epochs}")
        self.rungs = rung_epochs(min_epochs, max_epochs, eta)

    def describe(self) -> str:
        return f"{self.name} over {'/'.join(map(str, self.rungs))} epochs (eta {self.eta})"

    def ranked(self, trials: Sequence[Trial]) -> list[Trial]:
        """One rung's finished trials, best first: by score (:func:`~nasforge.trial.rank_key`), or with several
        objectives by Pareto front, then crowding distance (NSGA-II's order, as MO-ASHA by Schmucker et al.,
        2021): a promotion goes to the points no other trial of the rung beats on every objective, spread out
        along the front, instead of to the best in the first objective alone (ties in the order the trials
        started, so that a resume, which replays them in that order, promotes what the live run did)."""
        if not self.objective.multi:
            return sorted(trials, key=rank_key)
        trials = sorted(trials, key=lambda t: t.id)
        values = [self.objective.values(t.metrics, t.costs) for t in trials]
        return [trials[i] for i in pareto_order(values)]

    def first_rung(self) -> int:
        """The epochs the next new architecture trains for."""
        return self.rungs[0]

    def reset(self) -> None:
        """Forget every trial seen: a run calls it before replaying its own, so that an object reused from an
        earlier run (or an earlier open of this one) does not count trials twice or bring in another run's."""

    def close(self) -> bool:
        """The strategy has no new architecture left: end what waits for more (a bracket still admitting them)
        so that its rungs can be decided; True where that changed anything."""
        return False

    def started(self, trial: Trial) -> None:
        """The runner recorded ``trial`` as running (a new architecture or a promotion)."""

    @abstractmethod
    def observe(self, trial: Trial) -> None:
        """A trial ended (finished, pruned or failed), or a stored one is replayed on resume."""

    @abstractmethod
    def promotion(self) -> tuple[Trial, int] | None:
        """The trial to train on and the epochs to train it to, or None: then a new architecture starts."""


class Asha(Scheduler):
    """Asynchronous successive halving: promote the top ``1/eta`` of each rung as soon as they are known."""

    name = "asha"

    def __init__(self, max_epochs: int, **options: Any) -> None:
        super().__init__(max_epochs, **options)
        self.reset()

    def reset(self) -> None:
        self._finished: list[list[Trial]] = [[] for _ in self.rungs]
        self._promoted: set[int] = set()

    def rung(self, trial: Trial) -> int | None:
        epochs = trial.costs.get("epochs")
        return self.rungs.index(int(epochs)) if epochs in self.rungs else None

    def started(self, trial: Trial) -> None:
        if trial.parent is not None:
            self._promoted.add(trial.parent)

    def observe(self, trial: Trial) -> None:
        self.started(trial)
        k = self.rung(trial)
        if trial.state is TrialState.FINISHED and k is not None:
            self._finished[k].append(trial)

    def promotion(self) -> tuple[Trial, int] | None:
        for k in range(len(self.rungs) - 2, -1, -1):
            done = self.ranked(self._finished[k])
            for trial in done[: len(done) // self.eta]:
                if trial.id not in self._promoted:
                    return trial, self.rungs[k + 1]
        return None


class _Bracket:
    """``n`` architectures starting at rung ``start``; rung ``k`` holds ``n // eta**(k - start)`` of them."""

    def __init__(self, start: int, n: int, rungs: int, eta: int) -> None:
        self.start, self.rungs, self.eta = start, rungs, eta
        self.admitted = 0
        self.resize(n)
        self.ended: dict[int, list[Trial]] = {k: [] for k in self.size}
        self.promoted: set[int] = set()

    def resize(self, n: int) -> None:
        """Hold ``n`` architectures, halved per rung as the bracket's shape says."""
        self.n = n
        self.size = {k: max(1, n // self.eta ** (k - self.start)) for k in range(self.start, self.rungs)}

    def complete(self, k: int) -> bool:
        """Whether rung ``k`` holds every trial it ever will: its size, or at the rungs above the first as many
        as finished the rung below when fewer did (a failed, rejected or interrupted trial is not promoted)."""
        if k == self.start:
            return len(self.ended[k]) >= self.size[k]
        below = sum(t.state is TrialState.FINISHED for t in self.ended[k - 1])
        return self.complete(k - 1) and len(self.ended[k]) >= min(self.size[k], below)


class Hyperband(Scheduler):
    """Brackets of successive halving, starting at each rung in turn (Hyperband's order: most exploratory first)."""

    name = "hyperband"

    def __init__(self, max_epochs: int, **options: Any) -> None:
        super().__init__(max_epochs, **options)
        self.reset()

    def reset(self) -> None:
        self._brackets: list[_Bracket] = []
        self._where: dict[int, tuple[_Bracket, int]] = {}  # trial id -> (bracket, rung index)

    def close(self) -> bool:
        """A bracket still admitting architectures holds only those it has: with a space smaller than the
        bracket, its first rung would otherwise wait for ever and no architecture would reach full training."""
        short = [bracket for bracket in self._brackets if 0 < bracket.admitted < bracket.n]
        for bracket in short:
            bracket.resize(bracket.admitted)
        return bool(short)

    def _shape(self, index: int) -> tuple[int, int]:
        """(start rung, architectures) of the ``index``-th bracket: s = K, K-1, ..., 0, then again."""
        top = len(self.rungs) - 1
        s = top - index % (top + 1)
        return top - s, -(-(top + 1) * self.eta**s // (s + 1))  # ceil, exact: a float product can round up

    def _open(self) -> _Bracket:
        """The first bracket that still admits a new architecture (a new one when all are full)."""
        for bracket in self._brackets:
            if bracket.admitted < bracket.n:
                return bracket
        start, n = self._shape(len(self._brackets))
        self._brackets.append(_Bracket(start, n, len(self.rungs), self.eta))
        return self._brackets[-1]

    def first_rung(self) -> int:
        return self.rungs[self._open().start]

    def started(self, trial: Trial) -> None:
        if trial.id in self._where:
            return
        if trial.parent is None:
            bracket = self._open()
            bracket.admitted += 1
            self._where[trial.id] = (bracket, bracket.start)
        else:
            bracket, k = self._where[trial.parent]
            bracket.promoted.add(trial.parent)
            self._where[trial.id] = (bracket, k + 1)

    def observe(self, trial: Trial) -> None:
        self.started(trial)
        bracket, k = self._where[trial.id]
        bracket.ended[k].append(trial)

    def promotion(self) -> tuple[Trial, int] | None:
        for bracket in self._brackets:
            for k in range(len(self.rungs) - 2, bracket.start - 1, -1):
                if not bracket.complete(k):
                    continue  # promote nobody yet
                finished = self.ranked([t for t in bracket.ended[k] if t.state is TrialState.FINISHED])
                for trial in finished[: bracket.size[k + 1]]:
                    if trial.id not in bracket.promoted:
                        return trial, self.rungs[k + 1]
        return None


class SuccessiveHalving(Hyperband):
    """Hyperband's most exploratory bracket only: ``eta**K`` architectures at the first rung, halved per rung."""

    name = "successive_halving"

    def _shape(self, index: int) -> tuple[int, int]:
        return 0, self.eta ** (len(self.rungs) - 1)


SCHEDULERS: dict[str, type[Scheduler]] = {s.name: s for s in (Asha, SuccessiveHalving, Hyperband)}
