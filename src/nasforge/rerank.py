"""Re-ranking the leaders: the top architectures of a search trained again with other seeds, the winner chosen
by their mean validation score.

The best of many noisy validation scores is an optimistic one (the winner's curse): among hundreds of trials
the leader is often an architecture that drew a lucky seed. Training the top ``top`` architectures ``repeats``
more times, each from scratch with its own seed, and ranking them by the mean of all their scores returns an
architecture that is good rather than lucky (one that failed to train with a seed ranks after those that never
did: :func:`rerank_key`). The repeats are trials of the run (``Trial.repeat_of``), stored,
counted against the budget and resumed like any other, but never told to the strategy: they are not new
search results. The budget is shared, not extended: the search phase stops early enough to leave the repeats
their estimated cost (:meth:`Rerank.reserve`), so a re-ranked run and a plain one take the same trials, seconds
or epochs.
"""

from __future__ import annotations

import heapq
import math
import statistics
from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, NamedTuple

from nasforge.exceptions import ConfigError
from nasforge.trial import Trial, TrialState, epochs_reached, epochs_trained, rank_key, training_seconds

if TYPE_CHECKING:
    from nasforge.budget import Budget

__all__ = [
    "AUTO_SHARE",
    "Rerank",
    "Reranked",
    "Reserve",
    "comparable",
    "from_scratch",
    "mean_scores",
    "overhead",
    "rerank_key",
]

AUTO_SHARE = 0.1
"""The largest part of the budget that re-ranking takes by default (``rerank: auto``): with the default five
architectures and two repeats, a run where about 100 trials fit is re-ranked, a run of a few dozen is not."""


@dataclass(frozen=True)
class Reserve:
    """What the repeats are expected to cost, kept out of the search phase's share of each limit."""

    trials: int = 0
    seconds: float = 0.0
    epochs: float = 0.0


@dataclass(frozen=True)
class Rerank:
    """Train the ``top`` leading architectures ``repeats`` more times each and rank them by their mean score.

    ``auto`` re-ranks only where the repeats fit in ``AUTO_SHARE`` of every limit the budget sets (the cost of
    a repeat estimated from the leaders' own trainings); given explicitly (``rerank: 5``) it always does.

    >>> Rerank.parse("auto", repeats=2)
    Rerank(top=5, repeats=2, auto=True)
    """

    top: int = 5
    repeats: int = 2
    auto: bool = True

    @classmethod
    def parse(cls, rerank: int | str, repeats: int = 2) -> Rerank | None:
        """From the config's ``final.rerank`` (``auto``, or how many architectures; 0 for none) and ``repeats``."""
        if isinstance(repeats, bool) or not isinstance(repeats, int) or repeats < 1:
            raise ConfigError(f"final.repeats: must be an integer >= 1, got {repeats!r}")
        if rerank == "auto":
            return cls(repeats=repeats)
        if isinstance(rerank, bool) or not isinstance(rerank, int) or rerank < 0 or rerank == 1:
            # one leader has nothing to be ranked against
            raise ConfigError(f"final.rerank: must be 'auto', 0 or an integer >= 2, got {rerank!r}")
        return cls(top=rerank, repeats=repeats, auto=False) if rerank else None

    def leaders(self, trials: Sequence[Trial]) -> list[Trial]:
        """The search trials to re-rank: the ``top`` finished ones by their own score (repeats left out), among
        those trained longest. A repeat is a full training, so under a scheduler it is compared with full
        trainings only, and an architecture is re-ranked once (not again as the shorter parent of its
        promotion)."""
        searched = [(epochs_reached(t), t) for t in trials if t.state is TrialState.FINISHED and t.repeat_of is None]
        longest = max((epochs for epochs, _ in searched), default=0.0)
        return heapq.nsmallest(self.top, (t for epochs, t in searched if epochs == longest), key=rank_key)

    def reserve(self, trials: Sequence[Trial], budget: Budget, capacity: int, extra: float = 0.0) -> Reserve | None:
        """The repeats' expected cost, or None where there is nothing to re-rank or, under ``auto``, they would
        take more than ``AUTO_SHARE`` of a limit. Estimated from the leaders' own trainings, on ``capacity``
        parallel workers, each with the ``extra`` seconds a trial of the run costs beyond its training (see
        :func:`overhead`); repeats already run are not counted again."""
        leaders = self.leaders(trials)
        if len(leaders) < 2:
            return None
        left = len(self._left(leaders, trials))
        seconds = statistics.mean(from_scratch(t) * training_seconds(t) for t in leaders)
        seconds += extra
        epochs = statistics.mean(from_scratch(t) * epochs_trained(t) for t in leaders)

        def cost(n: int) -> Reserve:  # n trainings of equal length on ``capacity`` workers: whole waves of them
            return Reserve(n, math.ceil(n / capacity) * seconds, n * epochs)

        if self.auto:
            whole = cost(self.top * self.repeats)
            limits = ((budget.trials, whole.trials), (budget.seconds, whole.seconds), (budget.epochs, whole.epochs))
            if any(limit is not None and spent > AUTO_SHARE * limit for limit, spent in limits):
                return None
        return cost(left)

    def jobs(self, trials: Sequence[Trial]) -> list[tuple[Trial, int]]:
        """``(leader, k)`` for every repeat still to run: the ``k``-th repeat of ``leader`` (from 1); a repeat
        that was interrupted is run again."""
        return self._left(self.leaders(trials), trials)

    def _left(self, leaders: Sequence[Trial], trials: Sequence[Trial]) -> list[tuple[Trial, int]]:
        """:meth:`jobs` of leaders already chosen (:meth:`reserve`, asked before every trial, has them)."""
        ran: dict[int, set[int]] = defaultdict(set)
        for t in trials:
            if t.repeat_of is not None and t.state.is_done:
                ran[t.repeat_of].add(t.seed)
        return [
            (leader, k)
            for leader in leaders
            for k in range(1, self.repeats + 1)
            if repeat_seed(leader.seed, k) not in ran[leader.id]
        ]


def overhead(trained: float, trials: int, capacity: int, elapsed: float) -> float:
    """The seconds a trial costs beyond its training, on average: the time of ``capacity`` workers over
    ``elapsed`` seconds of search, less the ``trained`` seconds of the ``trials`` trials that ended, per trial.
    Between two trainings the driver records the result, runs the callbacks (the live report is rewritten
    every ten trials) and sends the next; on digits that came to about 0.2 s a trial, 7% of a training, and a
    reserve of trainings alone cut the last repeat in three runs of six (``docs/benchmarks.md``). Trials still
    running count as overhead, so the estimate errs on the side of keeping too much."""
    return max(0.0, capacity * elapsed - trained) / trials if trials else 0.0


def from_scratch(trial: Trial) -> float:
    """How many times its own training a repeat or a final retraining of ``trial`` costs: a promotion continued
    from its parent's checkpoint trained only the epochs it added, a repeat trains all of them."""
    trained = epochs_trained(trial)
    return (epochs_reached(trial) or trained) / trained if trained else 1.0


def repeat_seed(seed: int, k: int) -> int:
    """The seed of the ``k``-th repeat of a trial trained with ``seed``: another stream, the same on a resume."""
    from nasforge.run import derive_seed

    return derive_seed(seed, 3, k)


def comparable(mean: float) -> float:
    """A mean score as re-ranking compares it: to 12 decimals, far finer than any validation set's resolution and
    far coarser than a float's rounding error. Equal means of scores such as 352/360, 340/360, 340/360 and
    340/360, 344/360, 348/360 can differ in their last bit, and that error, not the search's ranking, would
    otherwise break their tie."""
    return round(mean, 12)


class Reranked(NamedTuple):
    """A re-ranked leader: the mean of ``scores``, its own and its finished repeats', and its ``failed`` repeats."""

    mean: float
    scores: list[float]
    failed: int


def mean_scores(trials: Sequence[Trial]) -> dict[int, Reranked]:
    """``{trial id: Reranked}`` for each re-ranked trial: one with a repeat that ended (finished or failed; one
    the budget cut and nobody ran again says nothing of the architecture). ``trials`` must hold the leaders."""
    scores: dict[int, list[float]] = defaultdict(list)
    failed: dict[int, int] = defaultdict(int)
    for t in trials:
        if t.repeat_of is not None and t.state is TrialState.FINISHED and t.score is not None:
            scores[t.repeat_of].append(t.score)
        elif t.repeat_of is not None and t.state is TrialState.FAILED:
            failed[t.repeat_of] += 1
    by_id = {t.id: t for t in trials}
    out = {}
    for trial_id in scores.keys() | failed.keys():
        own = by_id[trial_id].score
        values = ([own] if own is not None else []) + scores[trial_id]
        out[trial_id] = Reranked(statistics.mean(values), values, failed[trial_id])
    return out


def rerank_key(trial: Trial, means: Mapping[int, Reranked]) -> tuple[bool, int, float, tuple[float, ...]]:
    """Sort key, best first, once the leaders are re-ranked (``means`` from :func:`mean_scores`): the re-ranked
    trials first, those with fewer failed repeats first, then by the mean score over their seeds; every other
    trial after them by :func:`~nasforge.trial.rank_key`, which also breaks the ties.

    A failed repeat counts as the worst result, as a failed trial does for a strategy, rather than as a seed
    that is missing: the winner is retrained with seeds of its own and its first retraining's failure is final
    (there is then no model to export), so an architecture that failed to train with one seed in three is the
    riskier choice whatever its mean over the others, and one whose every repeat failed (its mean is its own
    lucky score) the riskiest. A failure of the machine rather than of the architecture (a worker that died)
    cannot be told apart, and costs only the choice of the next leader."""
    reranked = means.get(trial.id)
    if reranked is None:
        return (True, 0, 0.0, rank_key(trial))
    return (False, reranked.failed, -comparable(reranked.mean), rank_key(trial))
