"""``nasforge.search``: the whole job from Python; the CLI is a thin layer over it."""

from __future__ import annotations

import inspect
import json
from collections.abc import Sequence
from contextlib import AbstractContextManager, nullcontext
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from nasforge.budget import Budget
from nasforge.callbacks import Callback
from nasforge.config import Config, check_params
from nasforge.constraints import Constraints
from nasforge.exceptions import ConfigError, NasforgeError, StoreError, integer_at_least
from nasforge.executors import Executor
from nasforge.fidelity import CheckpointShelf, Scheduler, Stopper, make_fidelity, scheduled_epochs
from nasforge.objective import TASK_METRICS, Objective
from nasforge.oneshot import ONE_SHOT, OneShot
from nasforge.proxies import Prefilter, check_proxies
from nasforge.rerank import Rerank
from nasforge.run import MAX_REJECTED_IN_A_ROW, Run
from nasforge.spaces import SPACES, SearchSpace
from nasforge.store import RunLock, SQLiteStore
from nasforge.strategies import STRATEGIES, Strategy
from nasforge.trial import TrialState, end_order, failure_summary
from nasforge.warm import WarmStart
from nasforge.winner import check_seeds

if TYPE_CHECKING:
    from nasforge.data import Dataset, Splits
    from nasforge.evaluators import Trainer

__all__ = [
    "CHECKPOINT_DIR",
    "STORE_FILE",
    "components_from_config",
    "export_trial",
    "make_executor",
    "make_space",
    "make_strategy",
    "search",
]

STORE_FILE = "store.sqlite"
CHECKPOINT_DIR = "checkpoints"  # the promotable trials' checkpoints while a scheduler's search runs (or crashed)


def make_space(
    spec: SearchSpace | str | dict[str, Any], input_shape: Sequence[int], vocab_size: int | None = None
) -> SearchSpace:
    """A space from an object, a registered type name or a config mapping (``{"type": "chain", ...}``), for
    inputs of ``input_shape`` (token ids below ``vocab_size`` when it is given)."""
    if isinstance(spec, SearchSpace):
        return spec
    params = {"type": spec} if isinstance(spec, str) else dict(spec)
    kind = params.pop("type", "chain")
    factory = SPACES.get(kind)
    takes = inspect.signature(factory).parameters
    fixed: dict[str, Any] = {"input_shape": tuple(input_shape)} if "input_shape" in takes else {}
    if vocab_size is not None:
        if "vocab_size" not in takes:
            raise ConfigError(f"space.type: {kind} does not take text or token input (the chain space does)")
        fixed["vocab_size"] = vocab_size
    return check_params("space", factory, params, **fixed)


def make_strategy(spec: Strategy | OneShot | str | dict[str, Any]) -> Strategy | OneShot:
    """A strategy from an object, a registered name or a config mapping (``{"name": "evolution", ...}``); a
    one-shot strategy (``darts``) is looked up among :data:`~nasforge.oneshot.ONE_SHOT`."""
    if isinstance(spec, (Strategy, OneShot)):
        return spec
    params = {"name": spec} if isinstance(spec, str) else dict(spec)
    name = params.pop("name", "evolution")
    return check_params("strategy", ONE_SHOT.get(name) if name in ONE_SHOT else STRATEGIES.get(name), params)


def make_executor(spec: Executor | str | dict[str, Any] | None) -> Executor:
    """An executor from a config's ``executor:`` block (or its ``type`` alone); ``None`` is in-process."""
    from nasforge.config import parse_executor
    from nasforge.executors import DaskExecutor, LocalExecutor

    if spec is None or isinstance(spec, Executor):
        return spec or LocalExecutor()
    cfg = parse_executor({"type": spec} if isinstance(spec, str) else spec)
    if cfg.type == "local":
        return LocalExecutor()
    return DaskExecutor(
        cfg.address,  # None for processes: the config allows an address only with type dask
        workers=cfg.workers,
        resources=cfg.resources,
        retries=cfg.retries,
        security=cfg.security,
        data=cfg.data,
    )


def components_from_config(config: Config) -> dict[str, Any]:
    """Everything :func:`search` needs, built from a validated config (the cheap parts first, data last)."""
    config.objective.build(None)  # a bad key fails here, before the data loads; the task's metrics are checked below
    Rerank.parse(config.final.rerank, config.final.repeats)
    check_seeds(config.final.seeds)
    check_proxies(config.proxies)
    Prefilter.parse(config.prefilter)
    WarmStart.parse(config.warm_start)
    strategy = make_strategy({"name": config.strategy.name, **config.strategy.params})
    from nasforge.data import load, split
    from nasforge.evaluators import Trainer, input_defaults

    trainer = check_params("train", Trainer, config.train.params)
    trainer = replace(trainer, epochs=scheduled_epochs(config.fidelity.spec(), trainer.epochs))
    data = load(config.data.source)
    objective = config.objective.build(data.task)
    # The network's input is known once the data is split (text is tokenised on the training part), so the
    # splits are made here, once, and handed to search in place of the dataset.
    splits = split(data, seed=config.seed, valid=config.data.valid, test=config.data.test)
    space = make_space({"type": config.space.type, **config.space.params}, splits.input_shape, splits.vocab_size)
    unset = {k: v for k, v in input_defaults(splits.input_kind).items() if k not in config.train.params}
    trainer = replace(trainer, **unset)
    return {
        "space": space,
        "data": splits,
        "strategy": strategy,
        "trainer": trainer,
        "budget": Budget(**config.budget.model_dump()),
        "executor": make_executor(config.executor.model_dump()),
        "fidelity": config.fidelity.spec(),
        "constraints": Constraints(**config.constraints.model_dump(exclude_none=True)),
        "front": config.final.front,
        "rerank": config.final.rerank,
        "repeats": config.final.repeats,
        "seeds": config.final.seeds,
        "latency_batch": config.latency.batch,
        "proxies": tuple(config.proxies),
        "prefilter": config.prefilter,
        "warm_start": config.warm_start,
        "report_every": config.report.every,
        "objective": objective,
        "seed": config.seed,
        "valid": config.data.valid,
        "test": config.data.test,
    }


def search(
    *,
    data: Dataset | Splits,
    space: SearchSpace | str | dict[str, Any] = "chain",
    strategy: Strategy | str | dict[str, Any] = "evolution",
    trainer: Trainer | None = None,
    budget: Budget | None = None,
    objective: Objective | str | None = None,
    run_dir: str | Path | None = None,
    seed: int = 0,
    valid: float = 0.2,
    test: float = 0.2,
    callbacks: Sequence[Callback] = (),
    config: dict[str, Any] | None = None,
    executor: Executor | str | dict[str, Any] | None = None,
    fidelity: Stopper | Scheduler | dict[str, Any] | None = None,
    constraints: Constraints | dict[str, float] | None = None,
    front: int = 5,
    latency_batch: int = 1,
    rerank: int | str = "auto",
    repeats: int = 2,
    seeds: int | str = "auto",
    proxies: Sequence[str] = (),
    prefilter: Prefilter | dict[str, Any] | None = None,
    warm_start: WarmStart | str | Path | dict[str, Any] | None = None,
    report_every: int = 10,
) -> Run:
    """Search ``space`` on ``data``, then retrain the winner on train+validation and test it once.

    ``data`` is a dataset, split here by ``seed``, ``valid`` and ``test``, or :class:`~nasforge.data.Splits`
    already made (as :func:`components_from_config` makes them), used as they are.

    With a ``run_dir``, the run is stored in ``run_dir/store.sqlite`` and the winner exported there
    (``best.json``, ``best.pt``, ``best.onnx``, ``progress.png``, ``curves.png``); calling ``search`` again
    with the same ``run_dir`` resumes the run. Ctrl-C stops the search cleanly (``KeyboardInterrupt`` propagates).
    ``executor`` says where trials run: ``None``/``"local"`` here, ``"processes"`` or
    ``{"type": "processes", "workers": 2}`` on worker processes, ``{"type": "dask", "address": ...}`` on a
    Dask cluster (the keys of the config's ``executor:`` block), or an :class:`~nasforge.executors.Executor`.
    ``fidelity`` spends less on losers: ``{"stopper": "median", "warmup_epochs": 2}`` stops them early,
    ``{"scheduler": "asha", "min_epochs": 1, "eta": 3}`` (or ``successive_halving``, ``hyperband``) trains
    architectures briefly and promotes the best (the keys of the config's ``fidelity:`` block; or a
    :class:`~nasforge.fidelity.Stopper` or :class:`~nasforge.fidelity.Scheduler`); ``None`` trains all fully.
    ``constraints`` (``{"max_params": 5000}``, the keys of the config's ``constraints:`` block, or a
    :class:`~nasforge.constraints.Constraints`) rejects architectures over a limit before training them.
    With several objectives (``Objective(metrics=(...))``), up to ``front`` points of the run's Pareto front
    are retrained and tested once each, and ``best.json`` names the whole front (the config's ``final.front``).
    ``latency_batch`` is the batch ``latency_ms`` is timed on where it is measured (the config's ``latency.batch``).
    ``rerank`` leading architectures are trained ``repeats`` more times with other seeds, within the budget, and
    the winner is the best by their mean score (``auto``: where that takes at most a tenth of the budget; 0:
    never; see :mod:`nasforge.rerank`); the winner is then retrained ``seeds`` times on train+validation and its
    test mean reported (``auto``: three where they take at most a tenth of the search's time, else one).
    ``proxies`` (names in :data:`nasforge.proxies.PROXIES`) are scored on every untrained network and stored
    as its ``proxy_<name>`` costs. ``prefilter`` (``{"proxy": "nwot", "candidates": 10}``, the config's
    ``prefilter:`` block) trains only the best of that many proposals by that proxy. ``warm_start`` (an earlier
    run's directory, or ``{"run": DIR, "top": K}``) trains that run's best architectures first and, on the same
    space, objective and data, replays its results into the strategy (:mod:`nasforge.warm`). With a ``run_dir``,
    ``run_dir/report.html`` (:mod:`nasforge.report`) is rewritten every ``report_every`` trials (0: only at the
    end), so that a search can be watched while it runs.

    >>> import nasforge as nf
    >>> run = nf.search(data=nf.data.digits(), space="cell", strategy="evolution",
    ...                 budget=nf.Budget(trials=10), run_dir="runs/demo")  # doctest: +SKIP
    >>> run.best.arch, run.best.test["accuracy"]  # doctest: +SKIP
    """
    from nasforge.data import Splits, split
    from nasforge.evaluators import Trainer, TrainEvaluator, input_defaults

    integer_at_least("final.front", front, 1)  # bad values fail before the search, not after it
    integer_at_least("report.every", report_every, 0)
    check_seeds(seeds)
    proxies = check_proxies(list(proxies))
    chooser = Prefilter.parse(prefilter)
    earlier = WarmStart.parse(warm_start)
    leaders = Rerank.parse(rerank, repeats)
    splits = data if isinstance(data, Splits) else split(data, seed=seed, valid=valid, test=test)
    space = make_space(space, splits.input_shape, splits.vocab_size)
    strategy = make_strategy(strategy)
    trainer = trainer or Trainer(**input_defaults(splits.input_kind))
    trainer = replace(trainer, epochs=scheduled_epochs(fidelity, trainer.epochs))
    budget = budget or Budget()
    if not isinstance(objective, Objective):
        objective = Objective(objective or TASK_METRICS[splits.task][0])
    objective.check_task(splits.task)
    out_dir = Path(run_dir) if run_dir is not None else None
    stopper, scheduler = make_fidelity(fidelity, objective, trainer.epochs)
    limits = constraints if isinstance(constraints, Constraints) else Constraints(**(constraints or {}))
    identity = search_identity(space, strategy, objective, seed, stopper or scheduler, limits, latency_batch, trainer)
    executor = make_executor(executor)
    timed = "latency_ms" in objective.costs
    evaluator = TrainEvaluator(
        space, splits, trainer, limits, latency=timed, latency_batch=latency_batch, proxies=proxies
    )
    digest = evaluator.data_digest()
    warm = earlier.load(space, identity, digest) if earlier is not None else None
    with _writing(out_dir, "a search"):
        store = open_store(out_dir, identity, config)
        if not _searched_on(store, digest, out_dir, "resume it on the same data, or choose another run directory"):
            store.set_meta("data_digest", digest)  # what a later warm start compares its data with
            store.set_meta("data", splits.describe())  # what a report draws the winner's shapes from, mid-run too
        if warm is not None:
            store.set_meta("warm_start", dict(warm.record))
        run = Run(
            space,
            strategy,
            evaluator,
            store,
            objective=objective,
            seed=seed,
            executor=executor,
            stopper=stopper,
            scheduler=scheduler,
            rerank=leaders,
            prefilter=chooser,
            warm=warm,
            checkpoints=CheckpointShelf(out_dir / CHECKPOINT_DIR) if out_dir is not None else None,
        )
        if out_dir is not None:
            from nasforge.report import ReportCallback

            live = ReportCallback(out_dir, report_every, at_end=False)  # _finish writes the final report
            callbacks = [live, *callbacks]  # first: the others see it current
        try:
            run.optimize(budget, callbacks)
        finally:
            executor.shutdown()  # the winner is retrained here, in the driver, which alone holds the test split
        try:
            run.best = _finish(run, out_dir, splits, config, front, seeds)
        except NasforgeError:
            if out_dir is not None:  # no winner to report: the report shows the trials, and why they failed
                from nasforge.report import write_report

                write_report(out_dir, pngs=False)
            raise
        for cb in callbacks:
            cb.on_final(run, run.best)
    return run


def _writing(out_dir: Path | None, command: str) -> AbstractContextManager[Any]:
    """Hold ``out_dir`` against a second writer (see :class:`~nasforge.store.RunLock`); nothing for in-memory runs."""
    return RunLock(out_dir, command) if out_dir is not None else nullcontext()


def search_identity(
    space: SearchSpace,
    strategy: Strategy,
    objective: Objective,
    seed: int,
    fidelity: Stopper | Scheduler | None = None,
    constraints: Constraints | None = None,
    latency_batch: int = 1,
    trainer: Trainer | None = None,
) -> dict[str, Any]:
    """What makes a search the same search: a run resumed or exported under another one is refused.

    A stopper or scheduler is part of it when there is one (a run resumed under another scheduler would
    promote trials it never ranked), and so are constraints (they decide which trials were rejected), a
    latency batch other than 1 (latencies timed on other batches are not comparable), and the trainer's recipe
    (scores after 1 and after 8 epochs, or at two learning rates, do not rank together), without how it runs
    (device, threads, time limit).
    """
    identity = {"space": space.config(), "strategy": strategy.config(), "objective": objective.config(), "seed": seed}
    if trainer is not None:
        identity["train"] = {k: v for k, v in trainer.config().items() if k not in ("device", "threads", "time_limit")}
    if fidelity is not None:
        identity["fidelity"] = fidelity.describe()
    if constraints:
        identity["constraints"] = constraints.config()
    if latency_batch != 1:
        identity["latency"] = {"batch": latency_batch}
    return identity


def open_store(out_dir: Path | None, identity: dict[str, Any], config: dict[str, Any] | None) -> SQLiteStore:
    """Open (or create) the run's store; refuse to mix a different search (``identity``) into an existing run."""
    if out_dir is None:
        store = SQLiteStore(":memory:")
    else:
        out_dir.mkdir(parents=True, exist_ok=True)
        store = SQLiteStore(out_dir / STORE_FILE)
    stored = store.get_meta("search")
    if stored is None:
        store.set_meta("search", identity)
        if config is not None:
            store.set_meta("config", config)
    elif stored != (current := _as_stored(json.loads(json.dumps(identity)), stored)):  # tuples are lists there
        changed = sorted(k for k in current.keys() | stored.keys() if current.get(k) != stored.get(k))
        raise StoreError(
            f"{out_dir}: holds a different search ({', '.join(changed)} changed); resume it as it was "
            "or choose another run directory"
        )
    return store


def _as_stored(identity: dict[str, Any], stored: dict[str, Any]) -> dict[str, Any]:
    """``identity`` without the strategy parameters that ``stored`` (an earlier version's run) lacks and that
    are at their defaults: a parameter added since (e.g. BANANAS's ``exact_costs``) must not make an old run
    unresumable when its default keeps the old behaviour. Nor the trainer's recipe, where an earlier version
    did not store it."""
    if "train" not in stored:
        identity = {k: v for k, v in identity.items() if k != "train"}
    strategy, before = identity.get("strategy"), stored.get("strategy")
    if not isinstance(strategy, dict) or not isinstance(before, dict) or strategy.get("name") != before.get("name"):
        return identity
    name = strategy["name"]
    if name not in ONE_SHOT and name not in STRATEGIES.names():
        return identity
    signature = inspect.signature((ONE_SHOT if name in ONE_SHOT else STRATEGIES).get(name).__init__).parameters
    added = {k for k in strategy.keys() - before.keys() if k in signature and signature[k].default == strategy[k]}
    return {**identity, "strategy": {k: v for k, v in strategy.items() if k not in added}}


def _finish(run: Run, out_dir: Path | None, splits: Splits, config: Any, front: int, seeds: int | str) -> Any:
    from nasforge.winner import report_winner

    if run.best_trial is None and run.stop_reason == "infeasible":
        last = max((t for t in run.trials if t.state is TrialState.REJECTED), key=end_order)
        raise NasforgeError(
            f"constraints: no architecture fits ({MAX_REJECTED_IN_A_ROW} in a row broke a limit, the last: "
            f"{last.error}); loosen the limits or search a smaller space"
        )
    failed = sum(t.state is TrialState.FAILED for t in run.trials)
    if run.best_trial is None and failed:  # whatever ended the search, why its trials failed is the news
        why = " (budget.max_failures)" if run.stop_reason == "failures" else ""
        raise NasforgeError(
            f"search stopped: {failed} of {run.done} trials failed{why}, so there is no winner: "
            f"{failure_summary(run.trials)}"
        )
    cut = [t for t in run.trials if t.state is TrialState.INTERRUPTED and t.elapsed is not None]
    if run.best_trial is None and run.stop_reason == "seconds" and cut:
        raise NasforgeError(
            f"budget.seconds: no trial finished in the time given ({len(cut)} cut by it, the last: {cut[-1].error}); "
            "give the search more time (nasforge resume RUN_DIR --seconds N) or fewer epochs (train.epochs)"
        )
    best = report_winner(
        run,
        out_dir,
        splits.input_shape,
        splits.outputs,
        config=config,
        front=front,
        data=splits.describe(),
        seeds=seeds,
    )
    if out_dir is not None:
        final = {"trial": best.trial.id, "test": dict(best.test)}
        if best.front:
            final["front"] = sorted({p["trial"] for p in best.front})  # retrained and tested: starred in the plot
        run.store.set_meta("final", final)
        from nasforge.report import write_report

        best.paths.update(write_report(out_dir))  # report.html and its figures as PNGs
    return best


def _searched_on(store: SQLiteStore, digest: str, run_dir: Path | None, remedy: str) -> bool:
    """Whether ``store`` records a search on the data of ``digest`` (False: it records none yet); a
    ``StoreError`` ending in ``remedy`` when it records other data."""
    searched = store.get_meta("data_digest")
    if searched is not None and searched != digest:
        raise StoreError(
            f"{run_dir}: holds a search on other data (its training and validation samples differ); {remedy}"
        )
    return searched is not None


def export_trial(config: Config, run_dir: Path, trial_id: int | None = None, out_dir: Path | None = None) -> Any:
    """Retrain one stored trial (default: the best) on train+validation, test it once and export it."""
    from nasforge.evaluators import TrainEvaluator
    from nasforge.winner import report_winner, winner_of

    parts = components_from_config(config)
    splits = parts["data"]
    objective = parts["objective"]
    stopper, scheduler = make_fidelity(parts["fidelity"], objective, parts["trainer"].epochs)
    limits = parts["constraints"]
    identity = search_identity(
        parts["space"],
        parts["strategy"],
        objective,
        parts["seed"],
        stopper or scheduler,
        limits,
        parts["latency_batch"],
        parts["trainer"],
    )
    evaluator = TrainEvaluator(parts["space"], splits, parts["trainer"], limits)
    with _writing(run_dir, "an export"):
        store = open_store(run_dir, identity, None)
        # a data file changed since the search would be split anew: its test part could hold samples searched on
        _searched_on(store, evaluator.data_digest(), run_dir, "export it with the data it searched")
        run = Run(parts["space"], parts["strategy"], evaluator, store, objective=objective, seed=parts["seed"])
        trials = {t.id: t for t in run.top()}
        chosen = winner_of(run) if trial_id is None else trials.get(trial_id)
        if chosen is None:
            known = ", ".join(str(i) for i in sorted(trials)) or "none"
            raise NasforgeError(f"--trial: no finished trial with id {trial_id} (finished trials: {known})")
        return report_winner(
            run,
            out_dir or run_dir / f"trial-{chosen.id}",
            splits.input_shape,
            splits.outputs,
            trial=chosen,
            stem="model",
            config=config.model_dump(mode="json"),
            data=splits.describe(),
        )
