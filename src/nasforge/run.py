"""The runner: ties a strategy, an evaluator, an executor, a budget and a store into one search.

The loop is only ask -> evaluate -> tell. Every state change is written to the store before the loop moves
on, and a run opened on an existing store replays its trials through ``Strategy.tell``, so a crashed or
stopped search resumes where it was without redoing a finished trial.
"""

from __future__ import annotations

import time
import traceback
from collections.abc import Callable, Hashable, Iterator, Sequence
from dataclasses import dataclass, replace
from typing import Any

import numpy as np

from nasforge.budget import Budget
from nasforge.callbacks import Callback
from nasforge.evaluators import Evaluator, Plan
from nasforge.exceptions import ConfigError, Infeasible, TrialFailed, TrialInterrupted
from nasforge.executors import Executor, ExecutorError, LocalExecutor
from nasforge.fidelity import CheckpointShelf, Scheduler, Stopper
from nasforge.objective import Objective
from nasforge.oneshot import OneShot
from nasforge.proxies import Prefilter
from nasforge.rerank import Rerank, Reserve, mean_scores, overhead, repeat_seed, rerank_key
from nasforge.spaces import SearchSpace
from nasforge.store import Store
from nasforge.strategies import SpaceExhausted, Strategy, ask_new
from nasforge.trial import (
    DONE,
    Trial,
    TrialState,
    end_order,
    epochs_trained,
    training_seconds,
)
from nasforge.warm import Warm

__all__ = ["MAX_REJECTED_IN_A_ROW", "Run", "derive_seed"]

MAX_REJECTED_IN_A_ROW = 500
"""Consecutive architectures over a hard constraint after which a search stops as ``infeasible``: at a few ms
each, 500 cost seconds, and a space where so many proposals in a row break the limits holds little that fits."""


@dataclass(frozen=True)
class _Pending:
    """A trial in flight: its record, architecture, plan, and the trial it continues (a promotion)."""

    trial: Trial
    arch: Hashable
    plan: Plan | None = None
    parent: Trial | None = None


@dataclass
class _Tally:
    """What the trials that ended (finished, pruned, failed) have spent of the budget: those trials, kept here
    so that re-ranking's reserve, asked before every trial, need not read the whole store each time; their
    epochs; how many failed; the seconds their trainings took (the reserve's :func:`~nasforge.rerank.overhead`)."""

    ended: list[Trial]
    epochs: float
    failed: int
    trained: float

    @property
    def done(self) -> int:
        return len(self.ended)


_RERANKABLE = ("trials", "seconds", "epochs", "exhausted")
"""Why a search may stop with its leaders then re-ranked; not after failures, infeasibility or Ctrl-C."""


def derive_seed(*keys: int) -> int:
    """A 31-bit seed from the run seed and counters: independent streams that a resume recreates exactly.

    A new trial's counter is the number of trials ended when it starts, so trials started together (parallel
    workers, or the one after a rejected trial) share a seed; they train different architectures, so their
    trainings still differ."""
    return int(np.random.SeedSequence(list(keys)).generate_state(1)[0] & 0x7FFFFFFF)


class Run:
    """One search over one store.

    >>> # run = Run(space, strategy, evaluator, SQLiteStore("runs/x/store.sqlite"))
    >>> # run.optimize(Budget(trials=40)); run.best_trial
    """

    def __init__(
        self,
        space: SearchSpace,
        strategy: Strategy,
        evaluator: Evaluator,
        store: Store,
        *,
        objective: Objective | None = None,
        seed: int = 0,
        executor: Executor | None = None,
        stopper: Stopper | None = None,
        scheduler: Scheduler | None = None,
        rerank: Rerank | None = None,
        prefilter: Prefilter | None = None,
        warm: Warm | None = None,
        checkpoints: CheckpointShelf | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.space = space
        self.strategy = strategy
        self.evaluator = evaluator
        self.store = store
        self.objective = objective or Objective()
        self.seed = seed
        self.executor = executor or LocalExecutor()
        self.stopper = stopper  # hands every trial an epoch rule that may end it early (recorded "pruned")
        self.scheduler = scheduler  # promotes good trials to more epochs (ASHA, ...); None: all train fully
        for fidelity in (stopper, scheduler):
            if fidelity is not None:
                fidelity.reset()  # it learns this run's trials below, from none
        self.rerank = rerank  # trains the leaders again with other seeds at the end; None: one score each
        self.prefilter = prefilter  # trains the best of several proposals by a zero-cost proxy; None: each one
        # where the trials a scheduler may promote stopped training; None: in memory, lost with the driver
        self.checkpoints = checkpoints if checkpoints is not None else CheckpointShelf()
        self.clock = clock  # seconds; injectable so that time budgets are testable without waiting
        self.best: Any = None  # the retrained winner (a nasforge.winner.Best), once reported
        self.stop_reason: str | None = None  # why optimize() stopped: trials, seconds, exhausted, failures, ...
        self.interrupted_on_open = store.interrupt_running()
        stored = store.trials()  # in the order they started (their ids)
        done = [t for t in stored if t.state in DONE]
        self.checkpoints.recover(stored)  # a resume goes on from the checkpoints its trials left on disk
        self._seen: dict[Hashable, Any] = {}  # architecture -> what its strategy was told
        self._rejected_in_a_row = _rejected_at_end(stored)
        self.one_shot = isinstance(strategy, OneShot)  # trains a supernet: see _optimize_one_shot
        if self.one_shot:
            self._check_one_shot(warm, prefilter)
            strategy.bind(space, derive_seed(seed, 0))
            self._first: list[Hashable] = []
            self.elapsed_before = 0.0
            return
        self.strategy.bind(space, derive_seed(seed, 0, len(done)))
        if getattr(strategy, "features", ()):
            strategy.describe_with(self._proxy_features(strategy.features))  # type: ignore[attr-defined]
        if self.objective.multi and hasattr(strategy, "costs_with"):
            strategy.costs_with(self._objective_costs, free=evaluator.costs_are_free)
        warm = warm or Warm()
        for arch, trial in warm.replay:  # an earlier run's results, before this run's own (see nasforge.warm)
            self.strategy.tell(arch, self._told(trial))
        self._first = list(warm.first)  # trained before the strategy proposes anything
        for trial in stored:  # in the order they started, as a scheduler admitted them to its brackets
            if trial.state is TrialState.INTERRUPTED:
                self._replay_interrupted(trial)
            else:
                self._observe(trial)
        for trial in sorted(stored, key=end_order):  # as they were told: an aging population is the last N
            if trial.state is not TrialState.INTERRUPTED:
                self._tell(trial)
        # every trial that ended records the search's clock (one cut by the time budget too, at its end)
        self.elapsed_before = max((t.elapsed or 0.0 for t in stored), default=0.0)

    def _check_one_shot(self, warm: Warm | None, prefilter: Prefilter | None) -> None:
        """What a one-shot run cannot do: several objectives, a warm start, a prefilter, fidelity or constraints
        (there are no proposals to seed, filter, stop or reject: a derived cell would break a limit in silence);
        nor be resumed (see :meth:`optimize`)."""
        limited = bool(getattr(self.evaluator, "constraints", None))
        fidelity = self.scheduler is not None or self.stopper is not None
        if self.objective.multi or warm is not None or prefilter is not None or fidelity or limited:
            raise ConfigError(
                f"strategy.name: {self.strategy.name} searches one objective, without warm_start, prefilter, "
                "fidelity or constraints (it proposes no candidates to seed, filter, stop or reject)"
            )

    def _proxy_features(self, names: tuple[str, ...]) -> Callable[[Hashable], list[float]]:
        """How a predictor strategy gets its ``features``: the zero-cost proxies of an architecture's untrained
        network (always built from one seed, so that an architecture has one description), from the evaluator."""
        if not hasattr(self.evaluator, "proxy_scores"):
            raise ConfigError(
                f"strategy.features: zero-cost proxies need an evaluator that builds and trains networks, "
                f"not {type(self.evaluator).__name__}"
            )
        seed = derive_seed(self.seed, 2)

        def describe(arch: Hashable) -> list[float]:
            scores = self.evaluator.proxy_scores(arch, seed, names)  # type: ignore[attr-defined]
            return [scores[f"proxy_{name}"] for name in names]

        return describe

    def _objective_costs(self, arch: Hashable) -> tuple[float, ...]:
        """What a Pareto strategy may read of an untrained architecture: the objectives that are costs,
        measured (or looked up) as before every training, NaN for the metrics only training gives."""
        return self.objective.cost_values(self.evaluator.costs_before_training(arch, self.objective.costs))

    def _learn(self, trial: Trial) -> None:
        """A trial ended: the strategy, stopper and scheduler see it (a resume replays the two parts apart)."""
        self._tell(trial)
        self._observe(trial)

    def _tell(self, trial: Trial) -> None:
        """The strategy is told only a new architecture's own result; a promotion's deeper result goes to the
        scheduler alone (see :mod:`nasforge.fidelity._schedulers` for why), and a repeat (re-ranking) to none."""
        if trial.parent is None and trial.repeat_of is None:
            arch = self.space.from_string(trial.arch)
            self._seen[arch] = told = self._told(trial)
            self.strategy.tell(arch, told)

    def _observe(self, trial: Trial) -> None:
        """The stopper and scheduler see every trial that ended but a repeat (re-ranking)."""
        if trial.repeat_of is not None:
            return
        if self.stopper is not None:
            self.stopper.observe(trial)
        if self.scheduler is not None:
            self.scheduler.observe(trial)

    def _replay_interrupted(self, trial: Trial) -> None:
        """A new architecture that a crash or the time budget cut off held a place in its scheduler's bracket
        (Hyperband, successive halving): replayed as a trial that ended without a result, it keeps every later
        one in the bracket and rung it trained in. An interrupted promotion is not replayed, so that it is
        trained again; neither is a repeat, nor anything the strategy would be told."""
        if self.scheduler is not None and trial.parent is None and trial.repeat_of is None:
            self.scheduler.observe(trial)

    def _told(self, trial: Trial) -> Any:
        """What the strategy learns of a trial: its score, or with several objectives and a strategy that
        takes them (``multi_objective``, e.g. NSGA-II) its objective vector; ``None`` when it has neither."""
        if trial.score is None or trial.state is TrialState.REJECTED:
            return None
        if self.objective.multi and getattr(self.strategy, "multi_objective", False):
            return self.objective.values(trial.metrics, trial.costs)
        return trial.score

    # -- what the run holds ---------------------------------------------------------------------------
    @property
    def trials(self) -> list[Trial]:
        return self.store.trials()

    @property
    def done(self) -> int:
        """Trials that count against the budget: finished, pruned and failed."""
        return len(self.store.trials(states=DONE))

    def top(self, k: int | None = None) -> list[Trial]:
        """Finished search trials, best first (ties: see :func:`~nasforge.trial.rank_key`); once the leaders are
        re-ranked, those come first, by failed repeats and the mean score over their seeds (see
        :func:`~nasforge.rerank.rerank_key`; repeats themselves are not listed)."""
        trials = self.store.trials()
        means = mean_scores(trials)
        searched = [t for t in trials if t.state is TrialState.FINISHED and t.repeat_of is None]
        ranked = sorted(searched, key=lambda t: rerank_key(t, means))
        return ranked if k is None else ranked[:k]

    @property
    def best_trial(self) -> Trial | None:
        """The best trial; in a one-shot run the architecture derived at the last recorded supernet epoch."""
        if self.one_shot:
            finished = self.store.trials(states=(TrialState.FINISHED,))
            return finished[-1] if finished else None
        top = self.top(1)
        return top[0] if top else None

    # -- the loop -------------------------------------------------------------------------------------
    def optimize(self, budget: Budget, callbacks: Sequence[Callback] = ()) -> str:
        """Search until the budget is spent; returns why it stopped. Ctrl-C stops cleanly and re-raises.

        With ``rerank``, the search phase leaves the repeats their expected cost and the leaders are then
        trained again within the same budget (see :mod:`nasforge.rerank`). A one-shot strategy trains its
        supernet instead (:meth:`_supernet_epochs`).
        """
        if self.one_shot and self.done:  # a finished run still opens, to be shown or exported
            raise ConfigError(
                f"strategy.name: {self.strategy.name} trains one supernet, whose weights a run does not store, "
                f"so it cannot be resumed ({self.done} epochs are stored); start it again in a new run directory"
            )
        start = self.clock() - self.elapsed_before
        for cb in callbacks:
            cb.on_search_start(self)
        try:
            search = self._supernet_epochs if self.one_shot else self._search
            reason = search(budget, start, callbacks)
            self.checkpoints.clear()  # no promotion follows; a crash or Ctrl-C instead leaves them to a resume
        except (KeyboardInterrupt, ExecutorError):
            # Ctrl-C, or the workers are gone: no trial stays "running"; a resume redoes the interrupted ones.
            self.stop_reason = "interrupted"
            self.store.interrupt_running()
            for cb in callbacks:
                cb.on_search_end(self, "interrupted")
            raise
        finally:
            self.elapsed_before = self.clock() - start
        self.stop_reason = reason
        for cb in callbacks:
            cb.on_search_end(self, reason)
        return reason

    def _search(self, budget: Budget, start: float, callbacks: Sequence[Callback]) -> str:
        """Ask, evaluate and tell until the budget is spent, then re-rank the leaders where the run does."""
        ended = self.store.trials(states=DONE)
        failed = sum(t.state is TrialState.FAILED for t in ended)
        tally = _Tally(ended, sum(map(epochs_trained, ended)), failed, sum(map(training_seconds, ended)))
        if budget.too_many_failures(tally.failed, tally.done):
            return "failures"
        if self._rejected_in_a_row >= MAX_REJECTED_IN_A_ROW:
            return "infeasible"
        self.executor.start(self.evaluator)
        reason = self._drive(budget, self._next_job, start, tally, callbacks, reserve=True)
        if reason in _RERANKABLE and self._reserve(budget, tally, self.clock() - start) is not None:
            repeats = iter(self.rerank.jobs(tally.ended))  # type: ignore[union-attr]
            self._drive(budget, lambda pending, done: self._repeat_job(repeats), start, tally, callbacks)
        return reason

    def _supernet_epochs(self, budget: Budget, start: float, callbacks: Sequence[Callback]) -> str:
        """Train the one-shot strategy's supernet epoch by epoch in this process, each epoch recorded as a trial
        of the architecture derived at its end, with its weights in the store's ``supernet`` meta.

        The budget counts epochs (trials and epochs alike) and seconds; an epoch still running when the seconds
        run out stops between two batches and is not recorded. Before each epoch the strategy is told how many
        more fit (:meth:`OneShot.plan`), the seconds counted at the median pace of the epochs so far.
        """
        self.strategy.start(self.evaluator.supernet_data())  # type: ignore[attr-defined]
        history: list[dict[str, Any]] = []
        seed = derive_seed(self.seed, 1, 0)
        edges = [d.name for d in self.space.decisions]
        paces: list[float] = []

        def out_of_time() -> bool:
            return budget.seconds is not None and self.clock() - start >= budget.seconds

        while True:
            elapsed = self.clock() - start
            reason = budget.stop_reason(self.done, elapsed, self.done)
            if reason:
                return reason
            left = budget.room(self.done, elapsed, float(np.median(paces)) if paces else None)
            if left is not None:
                self.strategy.plan(left)  # type: ignore[attr-defined]
            began = self.clock()
            record = self.strategy.epoch(out_of_time)  # type: ignore[attr-defined]
            if record is None:
                return "seconds"
            paces.append(self.clock() - began)
            arch = self.space.to_string(record.arch)
            history.append(
                {
                    "epoch": len(history) + 1,
                    "arch": arch,
                    "weights": record.weights,
                    "train_loss": record.train_loss,
                    **record.metrics,
                    **record.extra,
                }
            )
            self.store.set_meta("supernet", {"ops": list(self.space.ops), "edges": edges, "epochs": history})
            if self.strategy.stopped and self.done:
                return "early stop"  # the collapsing epoch stays in the history; the run keeps the one before
            trial = self.store.create_trial(arch, seed)
            score = self.objective.score(record.metrics, {})
            costs = {"train_loss": record.train_loss, **record.extra, **self._derived_costs(record.arch)}
            trial = self.store.finish_trial(trial.id, score, record.metrics, costs, self.clock() - start)
            for cb in callbacks:
                cb.on_trial_end(self, trial)
            if self.strategy.stopped:
                return "early stop"

    def _derived_costs(self, arch: Hashable) -> dict[str, float]:
        """Parameters, FLOPs, size and activation memory of a one-shot epoch's derived cell, as any trial has."""
        if not hasattr(self.evaluator, "costs"):
            return {}
        return dict(self.evaluator.costs(self.evaluator.build(arch, self.seed)))  # type: ignore[attr-defined]

    def _drive(
        self,
        budget: Budget,
        next_job: Callable[[dict[Any, _Pending], int], _Pending],
        start: float,
        tally: _Tally,
        callbacks: Sequence[Callback],
        reserve: bool = False,
    ) -> str:
        """Submit ``next_job()`` while the budget allows (less what re-ranking will need, with ``reserve``) and
        record every result; returns why it stopped once nothing is in flight.

        The budget is asked again after every result, counting the trials in flight as spent: one of them may
        end rejected or cut and so not count, and a trial then takes its place. Failures, infeasibility and an
        exhausted space (``halt``) stop the search for good.
        """
        pending: dict[Any, _Pending] = {}  # executor futures
        halt = ""
        while True:
            reason = halt
            while not reason and len(pending) < self.executor.capacity:
                elapsed = self.clock() - start
                kept = (self._reserve(budget, tally, elapsed) if reserve else None) or Reserve()
                reason = budget.stop_reason(
                    tally.done + len(pending) + kept.trials, elapsed + kept.seconds, tally.epochs + kept.epochs
                )
                reason = reason or ""
                if reason:
                    break
                try:
                    job = next_job(pending, tally.done)
                except SpaceExhausted:
                    if self.scheduler is not None and self.scheduler.close():
                        continue  # a bracket that waited for more architectures may promote now
                    if pending and self.scheduler is not None:
                        break  # every architecture is asked for, but results in flight may earn promotions
                    reason = halt = "exhausted"
                    break
                if budget.seconds is not None and self.evaluator.takes_plan:  # it must end with its phase
                    left = budget.seconds - elapsed - kept.seconds  # not in the time kept for re-ranking
                    job = replace(job, plan=replace(job.plan or Plan(), seconds=left))
                for cb in callbacks:
                    cb.on_trial_start(self, job.trial)
                pending[self.executor.submit(job.arch, job.trial.seed, job.plan)] = job
            if not pending:
                return reason
            for future in self.executor.wait_any(pending):
                job = pending.pop(future)
                trial = self._record(job, future, self.clock() - start)
                if trial.state is TrialState.INTERRUPTED:
                    continue  # cut by the time budget: not a result, not told, trained again by a resume
                if job.parent is not None:
                    self.checkpoints.release(job.parent.id)  # its promotion is decided: redone by no resume
                self._learn(trial)
                if trial.state is TrialState.REJECTED:
                    self._rejected_in_a_row += 1
                    if self._rejected_in_a_row >= MAX_REJECTED_IN_A_ROW:
                        halt = halt or "infeasible"
                    continue  # never trained: no budget spent, no trial end to report
                self._rejected_in_a_row = 0
                tally.ended.append(trial)
                tally.epochs += epochs_trained(trial)
                tally.trained += training_seconds(trial)
                if budget.epochs is not None and trial.state is TrialState.FINISHED and not epochs_trained(trial):
                    raise ConfigError(  # else no trial would count, and the search would never stop
                        f"budget.epochs: {type(self.evaluator).__name__} does not record the epochs its trials "
                        "train (costs['epochs_trained']); give the budget in trials or seconds"
                    )
                tally.failed += trial.state is TrialState.FAILED
                if budget.too_many_failures(tally.failed, tally.done):
                    halt = halt or "failures"
                for cb in callbacks:
                    cb.on_trial_end(self, trial)

    def _reserve(self, budget: Budget, tally: _Tally, elapsed: float) -> Reserve | None:
        """What re-ranking still needs of the budget after the trials that ended in ``elapsed`` seconds, or None
        where the run re-ranks nothing."""
        if self.rerank is None or self.objective.multi:
            return None
        capacity = self.executor.capacity
        extra = overhead(tally.trained, tally.done, capacity, elapsed)
        return self.rerank.reserve(tally.ended, budget, capacity, extra)

    def _repeat_job(self, repeats: Iterator[tuple[Trial, int]]) -> _Pending:
        """The next leader's architecture trained again from scratch with another seed (recorded running)."""
        leader, k = next(repeats, (None, 0))
        if leader is None:
            raise SpaceExhausted("every repeat is submitted")
        trial = self.store.create_trial(leader.arch, repeat_seed(leader.seed, k), repeat_of=leader.id)
        return _Pending(trial, self.space.from_string(leader.arch))

    def _next_job(self, pending: dict[Any, _Pending], done: int) -> _Pending:
        """A promotion when the scheduler has one, else a new architecture from the strategy (recorded running)."""
        if self.scheduler is not None and (promotion := self.scheduler.promotion()) is not None:
            parent, epochs = promotion
            trial = self.store.create_trial(parent.arch, parent.seed, parent=parent.id)  # the same training, on
            self.scheduler.started(trial)
            held = self.checkpoints.take(parent.id)  # without one the training is redone, to the same weights
            plan = Plan(until=epochs, start=held, keep=epochs < self.scheduler.rungs[-1])
            return _Pending(trial, self.space.from_string(parent.arch), plan, parent)
        busy = {job.arch for job in pending.values()}
        seed = derive_seed(self.seed, 1, done)
        while self._first and (self._first[0] in self._seen or self._first[0] in busy):
            self._first.pop(0)  # trained already (a resume), or in flight
        if self._first:
            arch = self._first.pop(0)
        elif self.prefilter is None:
            arch = ask_new(self.strategy, self._seen, busy)
        else:
            name = self.prefilter.proxy
            arch = self.prefilter.choose(
                lambda taken: ask_new(self.strategy, self._seen, busy | set(taken)),
                lambda option: self.evaluator.proxy_scores(option, seed, (name,))[f"proxy_{name}"],  # type: ignore[attr-defined]
            )
        trial = self.store.create_trial(self.space.to_string(arch), seed)
        if self.scheduler is not None:
            until = self.scheduler.first_rung()
            self.scheduler.started(trial)
            return _Pending(trial, arch, Plan(until=until, keep=until < self.scheduler.rungs[-1]))
        return _Pending(trial, arch, Plan(rule=self.stopper.rule()) if self.stopper is not None else None)

    def _record(self, job: _Pending, future: Any, elapsed: float) -> Trial:
        """Store the result (finished, pruned or failed) and tell the strategy; a failure never stops the search.

        A pruned trial's score is the one at the epoch it reached, and the strategy is told it like any other:
        a stopping rule ends only trials that trail the others, so the early score ranks it low, as it should.
        """
        trial = job.trial
        error = future.exception()
        curve: tuple = ()
        if error is None:
            evaluation = future.result()
            curve = evaluation.curve
            if job.parent is not None and curve and curve[0]["epoch"] > 1:  # continued from the parent's weights
                curve = tuple(p for p in job.parent.curve if p["epoch"] < curve[0]["epoch"]) + curve
            try:
                score = self.objective.score(evaluation.metrics, evaluation.costs)
            except KeyError as exc:
                error = KeyError(f"the evaluator returned no {exc} metric")
            else:
                if np.isfinite(score):
                    finished = self.store.finish_trial(
                        trial.id,
                        score,
                        evaluation.metrics,
                        evaluation.costs,
                        elapsed,
                        curve=curve,
                        pruned=evaluation.pruned,
                    )
                    if evaluation.checkpoint is not None:
                        self.checkpoints.hold(finished, evaluation.checkpoint)
                    return finished
                error = ValueError(f"the {self.objective.metric} metric is not finite ({score})")
        costs = getattr(error, "costs", None)
        if isinstance(error, Infeasible):
            return self.store.fail_trial(trial.id, str(error), costs=costs, elapsed=elapsed, state=TrialState.REJECTED)
        if isinstance(error, TrialInterrupted):
            return self.store.fail_trial(
                trial.id, str(error), costs=costs, elapsed=elapsed, curve=error.curve, state=TrialState.INTERRUPTED
            )
        if isinstance(error, TrialFailed):
            curve = error.curve
        return self.store.fail_trial(trial.id, _describe(error), costs=costs, elapsed=elapsed, curve=curve)


def _rejected_at_end(trials: Sequence[Trial]) -> int:
    """How many trials in a row were rejected when the run stopped, counted in the order they ended, as
    :meth:`Run._drive` counts them (a trial cut by the time budget or a crash does not break the row), so that a
    resume stops where the uninterrupted search would."""
    count = 0
    for trial in sorted(trials, key=end_order, reverse=True):
        if trial.state is TrialState.REJECTED:
            count += 1
        elif trial.state in DONE:
            break
    return count


def _describe(error: BaseException) -> str:
    """One line for the table, the full traceback below it for whoever opens the store."""
    from nasforge.exceptions import NasforgeError

    if isinstance(error, TrialFailed):  # already "Type: message", with the traceback as text where it matters
        return f"{error}\n{error.detail}" if error.detail else str(error)
    head = f"{type(error).__name__}: {error}"
    if isinstance(error, NasforgeError):
        return head
    return head + "\n" + "".join(traceback.format_exception(error)).rstrip()
