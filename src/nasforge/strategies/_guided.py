"""A hybrid: local search whose neighbourhood order and restarts come from a BANANAS-style predictor.

Plain local search (White et al. 2021) spends most of its queries on neighbours that turn out worse. Here
an ensemble of neural predictors (the one BANANAS uses, on the path encoding) ranks the neighbours, so the
climb tries the promising ones first, and a restart begins at the predicted best of a pool of random and
mutated architectures instead of a blind sample.
"""

from __future__ import annotations

from collections.abc import Hashable

import numpy as np

from nasforge.strategies._bananas import PredictorMixin
from nasforge.strategies._base import STRATEGIES
from nasforge.strategies._history import check, check_count
from nasforge.strategies._local import LocalSearch

__all__ = ["GuidedLocalSearch"]

_RESTARTS = ("random", "predicted")


@STRATEGIES.register("guided_local")
class GuidedLocalSearch(PredictorMixin, LocalSearch):
    """First-improvement local search, neighbours visited in order of predicted score.

    The predictor (``ensemble`` numpy MLPs, ``epochs`` Adam steps, path encoding where the space has one)
    is refitted when at least ``refit`` new results arrived since the last fit. Until ``init`` results
    exist, one of them a success, it behaves like :class:`LocalSearch`. With ``patience`` set, a climb step
    tries only the ``patience`` neighbours predicted best before calling the point a local optimum. A restart
    starts from the best of ``init`` random architectures (``restart="random"``, the default: diversity is what
    gets a stuck search out of a wrong basin) or from the predicted best of ``pool`` random architectures
    (``"predicted"``). Duplicates are avoided exactly as in local search.

    >>> from nasforge.spaces import CellSpace
    >>> s = GuidedLocalSearch().bind(CellSpace(), seed=0)
    """

    name = "guided_local"

    def __init__(
        self,
        init: int = 7,
        refit: int = 5,
        ensemble: int = 5,
        epochs: int = 100,
        pool: int = 200,
        restart: str = "random",
        patience: int | None = 12,
    ) -> None:
        super().__init__(init=init, improvement="first")
        check_count(refit, "refit", 1)
        check_count(ensemble, "ensemble", 1)
        check_count(epochs, "epochs", 1)
        check_count(pool, "pool", 1)
        check(restart in _RESTARTS, "restart", f"one of {', '.join(_RESTARTS)}", restart)
        check_count(patience, "patience", 1, optional=True)
        self.restart = restart
        self.patience = patience
        self.refit = refit
        self.ensemble = ensemble
        self.epochs = epochs
        self.pool = pool

    def setup(self) -> None:
        super().setup()
        self._setup_predictor()
        self._model = None
        self._fitted_at = -1

    def _model_now(self):
        if len(self.history) < self.init:
            return None
        if self._model is None or len(self.history) - self._fitted_at >= self.refit:
            self._model, self._fitted_at = self._fit(), len(self.history)
        return self._model

    def _move(self, arch: Hashable) -> None:
        super()._move(arch)
        model = self._model_now()
        if model is not None and self.queue:
            mean, _ = self._predict(model, self.queue)
            order = np.argsort(mean, kind="stable")
            if self.patience is not None:
                order = order[-self.patience :]
            self.queue = [self.queue[i] for i in order]

    def _restart(self) -> Hashable | None:
        model = self._model_now()
        if model is None or self.restart == "random":
            return None
        pool: dict[Hashable, None] = {}
        for _ in range(self.pool):
            arch = self.space.sample(self.rng)
            if not self.history.known(arch):
                pool.setdefault(arch)
        if not pool:
            return None
        archs = list(pool)
        mean, _ = self._predict(model, archs)
        return archs[int(np.argmax(mean))]
