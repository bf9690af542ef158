"""Q-learning over partial architectures, Baker et al., "Designing Neural Network Architectures using
Reinforcement Learning" (MetaQNN, ICLR 2017): epsilon-greedy episodes, experience replay, tabular Bellman
updates."""

from __future__ import annotations

from collections.abc import Hashable, Sequence

import numpy as np

from nasforge.exceptions import InvalidArchitecture
from nasforge.strategies._base import STRATEGIES, Strategy
from nasforge.strategies._history import Drawn, History, check, check_count

__all__ = ["QLearning"]

_INVALID_TRIES = 100
_STATES = ("prefix", "last")


@STRATEGIES.register("qlearning")
class QLearning(Strategy):
    """Tabular Q-learning where a state is a partial architecture (the decisions taken so far).

    An episode takes ``space.decisions`` in order; each action picks one choice, epsilon-greedily on
    ``Q(prefix, .)``. The only reward is the final score, so with discount ``gamma`` the update after an
    episode, last step first, is ``Q(s, a) += lr * (r + gamma * max Q(s', .) - Q(s, a))``. Epsilon stays at
    ``epsilon_start`` for ``explore`` episodes, then falls linearly to ``epsilon_end`` over ``decay``
    episodes (MetaQNN's schedule, compressed to NAS-benchmark budgets). Every tell also replays ``replay``
    stored episodes. A pair never visited is valued at the mean reward so far, so the scale of the score
    does not matter. Failed trials and decision vectors the space rejects earn the worst reward seen.
    Episodes yielding an architecture already told or pending are redrawn (up to 50 times). A tell updates
    the actions the episode took (on a chain, the widths past its depth too, which the architecture itself
    does not record); a told architecture this instance never asked, its canonical decisions.

    >>> from nasforge.spaces import CellSpace
    >>> s = QLearning().bind(CellSpace(), seed=0)
    """

    name = "qlearning"

    def __init__(
        self,
        lr: float = 0.1,
        gamma: float = 1.0,
        epsilon_start: float = 1.0,
        epsilon_end: float = 0.1,
        explore: int = 20,
        decay: int = 60,
        replay: int = 20,
        state: str = "last",
    ) -> None:
        check(0 < lr <= 1, "lr", "in (0, 1]", lr)
        check(0 <= gamma <= 1, "gamma", "in [0, 1]", gamma)
        check(0 <= epsilon_start <= 1, "epsilon_start", "in [0, 1]", epsilon_start)
        check(0 <= epsilon_end <= 1, "epsilon_end", "in [0, 1]", epsilon_end)
        check_count(explore, "explore", 0)
        check_count(decay, "decay", 0)
        check_count(replay, "replay", 0)
        check(state in _STATES, "state", f"one of {', '.join(_STATES)}", state)
        self.state = state
        self.lr = lr
        self.gamma = gamma
        self.epsilon_start = epsilon_start
        self.epsilon_end = epsilon_end
        self.explore = explore
        self.decay = decay
        self.replay = replay

    def setup(self) -> None:
        self.history = History()
        self.drawn = Drawn(self.space)
        self.sizes = [len(d) for d in self.space.decisions]
        self.q: dict[tuple[int, ...], np.ndarray] = {}
        self.memory: list[tuple[tuple[int, ...], float]] = []
        self._total = 0.0

    def epsilon(self) -> float:
        episode = len(self.history) + len(self.history.pending)
        if episode < self.explore:
            return self.epsilon_start
        if self.decay == 0:
            return self.epsilon_end
        t = min((episode - self.explore) / self.decay, 1.0)
        return self.epsilon_start + t * (self.epsilon_end - self.epsilon_start)

    def _key(self, prefix: tuple[int, ...]) -> tuple[int, ...]:
        """The state of a partial architecture: all of it, or (depth, last choice) as in MetaQNN."""
        if self.state == "prefix":
            return prefix
        return (len(prefix), prefix[-1] if prefix else -1)

    def _values(self, prefix: tuple[int, ...]) -> np.ndarray:
        """Q(state, .) with unvisited actions at the mean reward so far."""
        row = self.q.get(self._key(prefix))
        default = self._total / len(self.memory) if self.memory else 0.0
        if row is None:
            return np.full(self.sizes[len(prefix)], default)
        return np.where(np.isnan(row), default, row)

    def _episode(self) -> Hashable:
        for _ in range(_INVALID_TRIES):
            eps, values = self.epsilon(), ()
            for n in self.sizes:
                if self.rng.random() < eps:
                    action = int(self.rng.integers(n))
                else:
                    q = self._values(values)
                    best = np.flatnonzero(q == q.max())
                    action = int(best[self.rng.integers(len(best))])
                values = (*values, action)
            try:
                arch = self.space.from_decisions(values)
            except InvalidArchitecture:
                self._learn(values, self._floor())
                continue
            self.drawn.last = values
            return arch
        self.drawn.last = None
        return self.space.sample(self.rng)

    def ask(self) -> Hashable:
        return self.drawn.keep(self.history.fresh(self._episode))

    def tell(self, arch: Hashable, score: float | None) -> None:
        self.history.told(arch, score)
        self._learn(self.drawn.pop(arch), self._floor() if score is None else float(score))

    def _floor(self) -> float:
        return min(r for _, r in self.memory) if self.memory else 0.0

    def _learn(self, values: tuple[int, ...], reward: float) -> None:
        self.memory.append((values, reward))
        self._total += reward
        self._update(values, reward)
        for i in self.rng.integers(len(self.memory), size=self.replay):
            self._update(*self.memory[i])

    def _update(self, values: Sequence[int], reward: float) -> None:
        for t in range(len(values) - 1, -1, -1):
            prefix = tuple(values[:t])
            last = t == len(values) - 1
            target = reward if last else self.gamma * float(self._values(tuple(values[: t + 1])).max())
            row = self.q.setdefault(self._key(prefix), np.full(self.sizes[t], np.nan))
            current = self._values(prefix)[values[t]]
            row[values[t]] = current + self.lr * (target - current)
