"""REINFORCE, Williams (1992) as used for NAS by Zoph & Le, "Neural Architecture Search with Reinforcement
Learning" (ICLR 2017), in the form of NAS-Bench-201's baseline: a softmax policy with one logit vector per
decision, an exponential-moving-average reward baseline and an entropy bonus."""

from __future__ import annotations

from collections.abc import Hashable

import numpy as np

from nasforge.exceptions import InvalidArchitecture
from nasforge.strategies._base import STRATEGIES, Strategy
from nasforge.strategies._history import Drawn, History, check

__all__ = ["Reinforce"]

_INVALID_TRIES = 100


@STRATEGIES.register("reinforce")
class Reinforce(Strategy):
    """Policy-gradient search over ``space.decisions``.

    The policy is independent softmaxes over each decision's choices (NB201's REINFORCE baseline; a
    controller RNN adds nothing on six independent choices). Every tell takes one Adam step (``lr``) along
    ``advantage * grad log p(arch) + entropy * grad H``, where the advantage is the reward minus an EMA
    baseline (``momentum``), divided by the rewards' running standard deviation so that ``lr`` means the
    same for any score scale. A failed trial (``None``) earns the worst reward seen. A sampled decision
    vector the space rejects (``InvalidArchitecture``) gets the same penalty step and is resampled.
    Samples already told or pending are redrawn (up to 50 times). A tell credits the decisions that were
    sampled (on a chain, the widths past its depth too, which the architecture itself does not record); a
    told architecture this instance never asked updates the policy by its canonical decisions.

    >>> from nasforge.spaces import CellSpace
    >>> s = Reinforce(lr=0.1).bind(CellSpace(), seed=0)
    """

    name = "reinforce"

    def __init__(self, lr: float = 0.1, momentum: float = 0.9, entropy: float = 0.01) -> None:
        check(lr > 0, "lr", "> 0", lr)
        check(0 <= momentum < 1, "momentum", "in [0, 1)", momentum)
        check(entropy >= 0, "entropy", ">= 0", entropy)
        self.lr = lr
        self.momentum = momentum
        self.entropy = entropy

    def setup(self) -> None:
        self.history = History()
        self.drawn = Drawn(self.space)
        self.sizes = [len(d) for d in self.space.decisions]
        self.logits = [np.zeros(n) for n in self.sizes]
        self._m = [np.zeros(n) for n in self.sizes]
        self._v = [np.zeros(n) for n in self.sizes]
        self._steps = 0
        self._cdf_step = -1
        self._cdf: list[np.ndarray] = []
        self.baseline: float | None = None
        # the rewards' count, mean, sum of squared deviations (Welford) and minimum: a converged policy is told
        # thousands of repeats, and keeping every reward to take its std each step made that quadratic
        self._count, self._mean, self._squares, self._floor_seen = 0, 0.0, 0.0, np.inf

    def probabilities(self) -> list[np.ndarray]:
        out = []
        for logit in self.logits:
            p = np.exp(logit - logit.max())
            out.append(p / p.sum())
        return out

    def _cdfs(self) -> list[np.ndarray]:
        """Each decision's cumulative probabilities, recomputed only after the policy took a step: a converged
        policy proposes known architectures over and over, and those redraws must stay cheap."""
        if self._cdf_step != self._steps:
            cumulative = [p.cumsum() for p in self.probabilities()]
            self._cdf = [c / c[-1] for c in cumulative]  # normalised by its last entry, as numpy's choice does
            self._cdf_step = self._steps
        return self._cdf

    def _sample(self) -> Hashable:
        for _ in range(_INVALID_TRIES):
            # inverse-CDF draws: the same values, from the same stream, as ``rng.choice(len(p), p=p)`` per decision
            draws = self.rng.random(len(self.sizes))
            values = [int(cdf.searchsorted(u, side="right")) for cdf, u in zip(self._cdfs(), draws, strict=True)]
            try:
                arch = self.space.from_decisions(values)
            except InvalidArchitecture:
                self._update(values, self._floor())
                continue
            self.drawn.last = tuple(values)
            return arch
        self.drawn.last = None
        return self.space.sample(self.rng)

    def ask(self) -> Hashable:
        return self.drawn.keep(self.history.fresh(self._sample))

    def tell(self, arch: Hashable, score: float | None) -> None:
        self.history.told(arch, score)
        reward = self._floor() if score is None else float(score)
        self._update(self.drawn.pop(arch), reward)

    def _floor(self) -> float:
        return self._floor_seen if self._count else 0.0

    def _update(self, values: list[int] | tuple[int, ...], reward: float) -> None:
        self._count += 1
        delta = reward - self._mean
        self._mean += delta / self._count
        self._squares += delta * (reward - self._mean)
        self._floor_seen = min(self._floor_seen, reward)
        self.baseline = (
            reward if self.baseline is None else self.momentum * self.baseline + (1 - self.momentum) * reward
        )
        scale = float(np.sqrt(self._squares / self._count)) or 1.0
        advantage = (reward - self.baseline) / scale
        self._steps += 1
        b1, b2 = 0.9, 0.999
        correction = self.lr * np.sqrt(1 - b2**self._steps) / (1 - b1**self._steps)
        for i, p in enumerate(self.probabilities()):
            grad = -p.copy()
            grad[values[i]] += 1.0
            grad *= advantage
            if self.entropy:
                logp = np.log(p + 1e-12)
                grad += self.entropy * (-p * (logp + float(-(p * logp).sum())))
            # gradient ascent: Adam on the negated gradient
            g = -grad
            self._m[i] = b1 * self._m[i] + (1 - b1) * g
            self._v[i] = b2 * self._v[i] + (1 - b2) * g * g
            self.logits[i] -= correction * self._m[i] / (np.sqrt(self._v[i]) + 1e-8)
