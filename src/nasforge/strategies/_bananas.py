"""BANANAS, White et al., "BANANAS: Bayesian Optimization with Neural Architectures for Neural Architecture
Search" (AAAI 2021): an ensemble of neural predictors on the path encoding, an acquisition function, and
candidates made by mutating the best architectures so far.

In a Pareto run it is told objective vectors and searches with random scalarisations, ParEGO's idea (Knowles,
IEEE TEC 2006) in the form of Paria et al., "A Flexible Framework for Multi-Objective Bayesian Optimization
using Random Scalarizations" (UAI 2019): one ensemble per objective, each fitted on that objective scaled to
[0, 1] over the results so far; the acquisition draws each candidate's value of every objective (Thompson
sampling), and each slot of the batch goes to the best candidate under a weight vector drawn afresh from the
simplex (augmented Tchebycheff, :func:`~nasforge.pareto.scalarize`, towards an ideal point 20% beyond the best
seen in each objective, so that a candidate predicted to extend the front past its ends earns credit).
Candidates are mutants of the best told architectures by Pareto front, then crowding distance, and as many
random ones: a front spans the space, and without them some seeds never reached its cheap end.

Costs are not always worth predicting: where the run can read a candidate's costs before training for free (a
benchmark table's latency, parameters or FLOPs), BANANAS uses them as they are (``exact_costs``) and fits
predictors only for the metrics; with two objectives, each slot then goes to the candidate whose draw adds
the most hypervolume to the front so far (:func:`~nasforge.pareto.hypervolume_gains`), the chosen ones
counted in for the next slot. On NAS-Bench-201 against Raspberry Pi 4 latency (30 seeds) that raised the
hypervolume at 300 queries from 0.8819 to 0.8836, and at 25 queries it was above what predicting had at 100
(0.8714 against 0.8671); against FPGA latency it kept 0.7843 at 300 and was far ahead early. With predicted
costs, hypervolume gains did worse than scalarisations (0.8804), so they are used only with read costs. On
real data a candidate's costs mean building and measuring its network (11 ms a candidate on digits, 24 ms
with its latency, one torch thread; a refill scores about 150), so there they are predicted unless
``exact_costs: true``. On the synthetic cell problem of ``tests/strategies/test_synthetic_objective.py``
reading the cost did worse than predicting it (hypervolume 168 against 177 at 60 queries, 10 seeds),
perhaps because its front's cheap end is worth little and read costs pull the search there (not tested).

Why not ParEGO's own form (one predictor refitted on the results scalarised under one weight vector per
refill, a whole batch chasing that one direction): on NAS-Bench-201 against Raspberry Pi 4 latency it fell
below random search (``docs/benchmarks.md``, issue 19)."""

from __future__ import annotations

from collections.abc import Callable, Hashable, Sequence
from typing import ClassVar

import numpy as np

from nasforge.exceptions import NasforgeError
from nasforge.pareto import first_front, hypervolume_gains, pareto_order, scalarize
from nasforge.proxies import check_proxies
from nasforge.strategies._base import STRATEGIES, Strategy
from nasforge.strategies._history import History, check, check_count
from nasforge.strategies._predictor import MLPEnsemble

__all__ = ["Bananas", "PredictorMixin"]

_ACQUISITIONS = ("its", "ucb", "mean")
_IDEAL = 1.2  # a Pareto run's ideal point, in objectives scaled to [0, 1] over the results so far


class PredictorMixin:
    """Encoding cache and ensemble fitting shared by the predictor-guided strategies.

    With ``features`` (names of zero-cost proxies, :mod:`nasforge.proxies`), an architecture's input to the
    predictor is its encoding followed by those proxies of its untrained network. The strategy cannot compute
    them (they need data and a network); the run that drives it hands over a function that does, through
    :meth:`describe_with`. Each proxy enters as ``sign(v) log(1 + |v|)`` (synflow spans orders of magnitude),
    standardised over every architecture described so far; one a proxy could not score gets the mean (0).
    """

    space: object
    rng: np.random.Generator
    history: History
    ensemble: int
    epochs: int
    features: tuple[str, ...] = ()
    _describe: Callable[[Hashable], Sequence[float]] | None = None

    def describe_with(self, describe: Callable[[Hashable], Sequence[float]]) -> None:
        """Take the function giving an architecture's ``features`` (one value per name, NaN where none)."""
        self._describe = describe

    def _setup_predictor(self) -> None:
        space = self.space
        self.encoding = "path" if "path" in space.encodings else "onehot"  # type: ignore[attr-defined]
        self._codes: dict[Hashable, np.ndarray] = {}
        self._described: dict[Hashable, np.ndarray] = {}

    def _encode(self, archs: list[Hashable]) -> np.ndarray:
        for arch in archs:
            if arch not in self._codes:
                self._codes[arch] = self.space.encode(arch, self.encoding)  # type: ignore[attr-defined]
        codes = np.stack([self._codes[a] for a in archs]).astype(np.float64)
        if not self.features:
            return codes
        return np.hstack([codes, self._proxy_features(archs)])

    def _proxy_features(self, archs: list[Hashable]) -> np.ndarray:
        if self._describe is None:
            raise NasforgeError(
                f"{type(self).__name__}: features {list(self.features)} need the run to describe architectures "
                "(nasforge.search or Run do; with a hand-written loop call describe_with first)"
            )
        for arch in archs:
            if arch not in self._described:
                raw = np.asarray(self._describe(arch), dtype=np.float64)
                self._described[arch] = np.sign(raw) * np.log1p(np.abs(raw))
        known = np.stack(list(self._described.values()))
        finite = np.isfinite(known)
        count = np.maximum(finite.sum(axis=0), 1)
        mean = np.where(finite, known, 0.0).sum(axis=0) / count
        std = np.sqrt((np.where(finite, known - mean, 0.0) ** 2).sum(axis=0) / count)
        values = (np.stack([self._described[a] for a in archs]) - mean) / np.where(std > 0, std, 1.0)
        return np.where(np.isfinite(values), values, 0.0)

    def _fit(self) -> MLPEnsemble | None:
        """An ensemble fitted on every finite told score; ``None`` while there is none (every trial failed),
        as a fit on -inf targets predicts NaN everywhere."""
        values = {a: self.history.value(score) for a, score in self.history.scores.items()}
        archs = [a for a, v in values.items() if np.isfinite(v)]
        if not archs:
            return None
        y = np.array([values[a] for a in archs])
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
    dropped before scoring, so the queue never holds a duplicate. Told objective vectors (a Pareto run), it
    searches by random scalarisations instead, or by hypervolume gains where it reads the costs (see the
    module docstring). ``exact_costs``: read the candidates' costs instead of predicting them; ``None`` (the
    default) where the run reads them for free (tables), ``True`` also where each candidate's network must be
    built and measured, ``False`` never.

    >>> from nasforge.spaces import CellSpace
    >>> s = Bananas(init=10, batch=5).bind(CellSpace(), seed=0)
    """

    name = "bananas"
    multi_objective: ClassVar[bool] = True

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
        features: Sequence[str] = (),
        exact_costs: bool | None = None,
    ) -> None:
        check_count(init, "init", 2)
        check_count(batch, "batch", 1)
        check_count(candidates, "candidates", 1)
        check_count(parents, "parents", 1)
        check_count(ensemble, "ensemble", 1)
        check_count(epochs, "epochs", 1)
        check(acquisition in _ACQUISITIONS, "acquisition", f"one of {', '.join(_ACQUISITIONS)}", acquisition)
        check(kappa >= 0, "kappa", ">= 0", kappa)
        self.features = check_proxies(features, "strategy.features")
        self.init = init
        self.batch = batch
        self.candidates = candidates
        self.parents = parents
        self.ensemble = ensemble
        self.epochs = epochs
        self.acquisition = acquisition
        self.kappa = kappa
        check(exact_costs is None or isinstance(exact_costs, bool), "exact_costs", "true, false or null", exact_costs)
        self.exact_costs = exact_costs
        self._measure: Callable[[Hashable], Sequence[float]] | None = None
        self._free = False

    def setup(self) -> None:
        self.history = History()
        self.queue: list[Hashable] = []
        self._setup_predictor()
        self._model: MLPEnsemble | None = None
        self._fitted_at = -1
        self._vectors: dict[Hashable, np.ndarray] = {}  # a Pareto run's objective vectors
        self._exact: dict[Hashable, np.ndarray] = {}  # objective components known before training (NaN: not)

    def costs_with(self, measure: Callable[[Hashable], Sequence[float]], free: bool = False) -> None:
        """Take the function giving an architecture's objective components known before training (its costs,
        NaN for the metrics), and whether reading them is ``free`` (a table's column) rather than a network
        built and measured per candidate: in a Pareto run they are then read instead of predicted (see
        ``exact_costs``)."""
        self._measure, self._free = measure, free

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
        if self._vectors:
            return self._refill_pareto()
        pool = [a for a in self._candidates(self.history.best(self.parents)) if not self.history.known(a)]
        if not pool:
            return False
        if self._model is None or len(self.history) - self._fitted_at >= self.batch:
            self._model, self._fitted_at = self._fit(), len(self.history)
        if self._model is None:  # nothing succeeded yet: sample at random, as before ``init`` results
            return False
        value = self._acquire(*self._predict(self._model, pool))
        order = np.argsort(-value, kind="stable")[: self.batch]
        self.queue = [pool[i] for i in order[::-1]]
        return True

    def _refill_pareto(self) -> bool:
        """Random scalarisations of per-objective predictions; failed architectures count as the worst seen in
        every objective, so the predictors learn where infeasible or broken architectures lie."""
        archs = list(self._vectors)
        values = np.stack([self._vectors[a] for a in archs])
        parents = [archs[i] for i in pareto_order(values)[: self.parents]]
        fresh = [self.space.sample(self.rng) for _ in range(self.candidates)]
        pool = [a for a in dict.fromkeys(self._candidates(parents) + fresh) if not self.history.known(a)]
        if not pool:
            return False
        failed = [a for a, score in self.history.scores.items() if score is None]
        low, high = values.min(axis=0), values.max(axis=0)
        span = np.where(high > low, high - low, 1.0)
        scaled = np.vstack([(values - low) / span, np.zeros((len(failed), len(low)))])
        x, candidates = self._encode(archs + failed), self._encode(pool)
        draws = np.empty((len(pool), len(low)))
        exact = self._exact_objectives(pool, len(low))
        for k in range(len(low)):
            if np.isfinite(exact[:, k]).all():  # a cost: every candidate's, measured, on the same scale
                draws[:, k] = (exact[:, k] - low[k]) / span[k]
                continue
            model = MLPEnsemble(self.rng, members=self.ensemble, epochs=self.epochs).fit(x, scaled[:, k])
            preds = model.predict(candidates)
            draws[:, k] = self._acquire(preds.mean(axis=0), preds.std(axis=0))
        chosen: list[int] = []
        front = scaled[first_front(scaled[: len(archs)])]
        by_gain = len(low) == 2 and np.isfinite(exact).all(axis=0).any()  # two objectives, one of them read
        for _ in range(min(self.batch, len(pool))):
            value = hypervolume_gains(front, draws, (-0.1, -0.1)) if by_gain else np.zeros(len(pool))
            if value.max() <= 0:  # no candidate adds hypervolume (or no gains): a random scalarisation
                value = scalarize(draws, self.rng.dirichlet(np.ones(len(low))), bounds=(0.0, _IDEAL))
            value[chosen] = -np.inf
            chosen.append(int(np.argmax(value)))
            front = np.vstack([front, draws[chosen[-1]]])
        self.queue = [pool[i] for i in chosen[::-1]]
        return True

    def _exact_objectives(self, archs: list[Hashable], objectives: int) -> np.ndarray:
        """Each architecture's objective components known before training (one row each; NaN where unknown or
        where the run hands over none, or ``exact_costs`` says not to read them)."""
        read = self._free if self.exact_costs is None else self.exact_costs
        if not read or self._measure is None:
            return np.full((len(archs), objectives), np.nan)
        for arch in archs:
            if arch not in self._exact:
                self._exact[arch] = np.asarray(self._measure(arch), dtype=np.float64)
        return np.stack([self._exact[a] for a in archs])

    def _acquire(self, mean: np.ndarray, std: np.ndarray) -> np.ndarray:
        if self.acquisition == "its":
            return mean + std * self.rng.standard_normal(len(mean))
        if self.acquisition == "ucb":
            return mean + self.kappa * std
        return mean

    def _candidates(self, top: list[Hashable]) -> list[Hashable]:
        """All neighbours of ``top`` and ``candidates`` one- or two-step mutants of them."""
        found: dict[Hashable, None] = {}
        for arch in top:
            found.update(dict.fromkeys(self.space.neighbors(arch)))
        for i in range(self.candidates):
            child = top[i % len(top)]
            for _ in range(1 + int(self.rng.integers(2))):
                child = self.space.mutate(child, self.rng)
            found.setdefault(child)
        return list(found)

    def tell(self, arch: Hashable, score: float | Sequence[float] | None) -> None:
        if score is not None and np.ndim(score) > 0:  # a Pareto run's objective vector
            self._vectors[arch] = np.asarray(score, dtype=np.float64)
            score = 0.0  # the history only tracks that it was told; the vectors are what the search ranks
        self.history.told(arch, score)
