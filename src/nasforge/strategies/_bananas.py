"""BANANAS, White et al., "BANANAS: Bayesian Optimization with Neural Architectures for Neural Architecture
Search" (AAAI 2021): an ensemble of neural predictors on the path encoding, an acquisition function, and
candidates made by mutating the best architectures so far."""

from __future__ import annotations

from collections.abc import Hashable

import numpy as np

from nasforge.strategies._base import STRATEGIES, Strategy
from nasforge.strategies._history import History, check
from nasforge.strategies._predictor import MLPEnsemble

__all__ = ["Bananas", "PredictorMixin"]

_ACQUISITIONS = ("its", "ucb", "mean")


class PredictorMixin:
    """Encoding cache and ensemble fitting shared by the predictor-guided strategies."""

    space: object
    rng: np.random.Generator
    history: History
    ensemble: int
    epochs: int

    def _setup_predictor(self) -> None:
        space = self.space
        self.encoding = "path" if "path" in space.encodings else "onehot"  # type: ignore[attr-defined]
        self._codes: dict[Hashable, np.ndarray] = {}

    def _encode(self, archs: list[Hashable]) -> np.ndarray:
        for arch in archs:
            if arch not in self._codes:
                self._codes[arch] = self.space.encode(arch, self.encoding)  # type: ignore[attr-defined]
        return np.stack([self._codes[a] for a in archs]).astype(np.float64)

    def _fit(self) -> MLPEnsemble:
        archs = list(self.history.scores)
        y = np.array([self.history.value(self.history.scores[a]) for a in archs])
        return MLPEnsemble(self.rng, members=self.ensemble, epochs=self.epochs).fit(self._encode(archs), y)

    def _predict(self, model: MLPEnsemble, archs: list[Hashable]) -> tuple[np.ndarray, np.ndarray]:
        preds = model.predict(self._encode(archs))
        return preds.mean(axis=0), preds.std(axis=0)


@STRATEGIES.register("bananas")
class Bananas(PredictorMixin, Strategy):
    """Predictor-guided Bayesian optimisation over architectures.

    After ``init`` random architectures, every refill trains ``ensemble`` MLPs (numpy, ``epochs`` full-batch
    Adam steps; path encoding where the space has one, else one-hot) on everything told, scores
    ``candidates`` mutants (one or two mutations) of the ``parents`` best architectures plus all their
    neighbours, and queues the ``batch`` best by the acquisition: ``its`` (independent Thompson sampling: one
    draw from each candidate's Gaussian of ensemble predictions), ``ucb`` (mean + ``kappa`` std) or ``mean``.
    Retraining at most once per ``batch`` tells keeps the overhead low. Candidates already told or pending are
    dropped before scoring, so the queue never holds a duplicate.

    >>> from nasforge.spaces import CellSpace
    >>> s = Bananas(init=10, batch=5).bind(CellSpace(), seed=0)
    """

    name = "bananas"

    def __init__(
        self,
        init: int = 10,
        batch: int = 10,
        candidates: int = 100,
        parents: int = 10,
        ensemble: int = 5,
        epochs: int = 200,
        acquisition: str = "its",
        kappa: float = 1.0,
    ) -> None:
        check(init >= 2, "init", ">= 2", init)
        check(batch >= 1, "batch", ">= 1", batch)
        check(candidates >= 1, "candidates", ">= 1", candidates)
        check(parents >= 1, "parents", ">= 1", parents)
        check(ensemble >= 1, "ensemble", ">= 1", ensemble)
        check(epochs >= 1, "epochs", ">= 1", epochs)
        check(acquisition in _ACQUISITIONS, "acquisition", f"one of {', '.join(_ACQUISITIONS)}", acquisition)
        check(kappa >= 0, "kappa", ">= 0", kappa)
        self.init = init
        self.batch = batch
        self.candidates = candidates
        self.parents = parents
        self.ensemble = ensemble
        self.epochs = epochs
        self.acquisition = acquisition
        self.kappa = kappa

    def setup(self) -> None:
        self.history = History()
        self.queue: list[Hashable] = []
        self._setup_predictor()
        self._model: MLPEnsemble | None = None
        self._fitted_at = -1

    def ask(self) -> Hashable:
        if len(self.history.scores) < self.init:
            return self.history.fresh(lambda: self.space.sample(self.rng))
        while True:
            while self.queue:
                arch = self.queue.pop()
                if not self.history.known(arch):
                    return self.history.asked(arch)
            if not self._refill():
                return self.history.fresh(lambda: self.space.sample(self.rng))

    def _refill(self) -> bool:
        pool = [a for a in self._candidates() if not self.history.known(a)]
        if not pool:
            return False
        if self._model is None or len(self.history) - self._fitted_at >= self.batch:
            self._model, self._fitted_at = self._fit(), len(self.history)
        mean, std = self._predict(self._model, pool)
        if self.acquisition == "its":
            value = mean + std * self.rng.standard_normal(len(pool))
        elif self.acquisition == "ucb":
            value = mean + self.kappa * std
        else:
            value = mean
        order = np.argsort(-value, kind="stable")[: self.batch]
        self.queue = [pool[i] for i in order[::-1]]
        return True

    def _candidates(self) -> list[Hashable]:
        top = self.history.best(self.parents)
        found: dict[Hashable, None] = {}
        for arch in top:
            found.update(dict.fromkeys(self.space.neighbors(arch)))
        for i in range(self.candidates):
            child = top[i % len(top)]
            for _ in range(1 + int(self.rng.integers(2))):
                child = self.space.mutate(child, self.rng)
            found.setdefault(child)
        return list(found)

    def tell(self, arch: Hashable, score: float | None) -> None:
        self.history.told(arch, score)
