"""The evaluator that trains each architecture on the train split and scores it on the validation split.

The train and validation tensors are made once, on the device, when the evaluator is built (as is the flop
counter's one-off warm-up); every trial then only builds, trains and scores. The test split stays a private
numpy array that only :meth:`TrainEvaluator.final_test` reads, so no search-time path can see it.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Collection, Hashable, Mapping
from dataclasses import replace
from typing import TYPE_CHECKING, Any

from nasforge.constraints import Constraints
from nasforge.costs import (
    activation_profile,
    count_flops,
    count_params,
    measure_latency,
    model_bytes,
    training_bytes,
    warm_up_flop_counter,
)
from nasforge.device import free_memory_bytes
from nasforge.evaluators._base import Evaluation, Evaluator, FinalReport, Plan
from nasforge.evaluators._trainer import Trainer, set_threads
from nasforge.exceptions import ConfigError, DataError, Infeasible, NasforgeError, TrialFailed, TrialInterrupted
from nasforge.objective import TASK_METRICS

if TYPE_CHECKING:
    from torch import nn

    from nasforge.data import Splits
    from nasforge.oneshot import SupernetData
    from nasforge.spaces import SearchSpace

__all__ = ["MEMORY_HEADROOM", "TrainEvaluator"]

MEMORY_HEADROOM = 2.0
"""How many times its estimated training memory a network must find free before it trains: the estimate
(:func:`~nasforge.costs.train_memory_bytes`) leaves out what layers hold inside, and other trials and the data
share the machine."""


def _digest(tensors: tuple[Any, ...]) -> str:
    """SHA-256 of the tensors' values, in order: the same data on the driver and on a worker, or not."""
    digest = hashlib.sha256()
    for t in tensors:
        digest.update(t.detach().cpu().contiguous().numpy().tobytes())
    return digest.hexdigest()


class TrainEvaluator(Evaluator):
    """Build ``arch`` from ``space`` (initialised from ``seed``), train it, score it on validation data.

    >>> from nasforge.data import split, synthetic
    >>> evaluator = TrainEvaluator(space, split(synthetic("sequence"), seed=0), Trainer(epochs=2))  # doctest: +SKIP
    >>> evaluator.evaluate(arch, seed=1).metrics["accuracy"]  # doctest: +SKIP
    0.93
    """

    def __init__(
        self,
        space: SearchSpace,
        splits: Splits,
        trainer: Trainer | None = None,
        constraints: Constraints | None = None,
        latency: bool = False,
        latency_batch: int = 1,
        proxies: tuple[str, ...] = (),
    ) -> None:
        """``constraints`` reject architectures before training; ``latency`` measures ``latency_ms`` for every
        trial (it is measured anyway when a constraint limits it), on batches of ``latency_batch`` samples;
        ``proxies`` (names of :data:`~nasforge.proxies.PROXIES`) are scored on every untrained network and
        stored as ``proxy_<name>`` costs."""
        if latency_batch < 1:
            raise ConfigError(f"latency.batch: must be >= 1, got {latency_batch}")
        self.space = space
        self.trainer = trainer if trainer is not None else Trainer()
        self.constraints = constraints or Constraints()
        self.latency = latency or "latency_ms" in self.constraints.costs
        self.latency_batch = latency_batch
        self.proxies = tuple(proxies)
        self.input_shape = splits.input_shape
        self.num_classes = splits.outputs
        self.metric_names = TASK_METRICS[splits.task]
        self.target_scale = splits.target.std if splits.target is not None else 1.0
        self._train = self.trainer.to_tensors(*splits.train)
        self._valid = self.trainer.to_tensors(*splits.valid)
        self.trainer.augment.check(self._train[0])  # one line now, rather than the same error failing every trial
        self._test = splits.test  # numpy, read by final_test only
        self._recipe = splits.recipe
        warm_up_flop_counter()

    def for_workers(self, load_data: bool = False) -> TrainEvaluator:
        """A copy without the test split, its tensors on the CPU; each worker moves them to its own device once.

        With ``load_data`` the copy carries no data at all, only how the driver made its splits and a digest
        of them: each worker loads the source itself (a path it can read) and checks it got the same samples.
        """
        copy = object.__new__(TrainEvaluator)
        copy.__dict__.update(self.__dict__)
        copy.trainer = replace(self.trainer)  # drops the driver's resolved device: the worker resolves its own
        copy._test = None
        if load_data:
            if self._recipe is None:
                raise ConfigError(
                    "executor.data: load needs data loaded from a source (the config's data block, or "
                    "nasforge.data.load({...}) in Python); these arrays can only be sent (data: send)"
                )
            copy._train = copy._valid = None
            copy._digest = _digest(self._train + self._valid)
        else:
            copy._train = tuple(t.cpu() for t in self._train)
            copy._valid = tuple(t.cpu() for t in self._valid)
        return copy

    def __setstate__(self, state: dict[str, Any]) -> None:
        """On a worker: the train and validation tensors go to this process's device, once (loaded here first
        when the driver sent only the recipe)."""
        self.__dict__.update(state)
        device = self.trainer.torch_device
        if self._train is None:
            splits = self._recipe.splits()
            self._train = self.trainer.to_tensors(*splits.train)
            self._valid = self.trainer.to_tensors(*splits.valid)
            if _digest(self._train + self._valid) != state["_digest"]:
                raise DataError(
                    f"data: a worker loaded {dict(self._recipe.source)} and got other train/validation samples "
                    "than the driver (is it the same file on every machine?)"
                )
        self._train = tuple(t.to(device) for t in self._train)
        self._valid = tuple(t.to(device) for t in self._valid)

    def recipe(self) -> dict[str, Any]:
        """The training recipe every trial and the final retraining use (epochs, optimizer, augmentation, ...)."""
        return self.trainer.config()

    def data_digest(self) -> str:
        """SHA-256 of the train and validation samples: whether two runs searched the same data."""
        return _digest(self._train + self._valid)

    def proxy_scores(self, arch: Hashable, seed: int, names: tuple[str, ...]) -> dict[str, float]:
        """The zero-cost proxies ``names`` of ``arch`` built from ``seed``, untrained, on the first training
        samples, as ``{"proxy_<name>": score}``: what a :class:`~nasforge.proxies.Prefilter` ranks proposals by
        and what a predictor's ``features`` add to an architecture's encoding."""
        from nasforge.proxies import PROXY_BATCH, compute_proxies

        x, y = (t[:PROXY_BATCH] for t in self._train)
        return compute_proxies(self.build(arch, seed), x, y, names)

    def supernet_data(self) -> SupernetData:
        """The train and validation tensors (on this evaluator's device) a one-shot strategy trains its supernet
        on, with the input shape, the outputs and the trainer's batch size and threads."""
        from nasforge.oneshot import SupernetData

        return SupernetData(
            self._train,
            self._valid,
            tuple(self.input_shape),
            self.num_classes,
            self.trainer.batch_size,
            self.trainer.torch_device,
            self.trainer.threads,
        )

    def build(self, arch: Hashable | str, seed: int) -> nn.Module:
        """The untrained network of ``arch``, its initial weights drawn from ``seed``."""
        import torch

        arch = self.space.parse(arch)
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(seed)
            model = self.space.build(arch, self.input_shape, self.num_classes)
        return model.to(self.trainer.torch_device)

    def evaluate(self, arch: Hashable, seed: int, plan: Plan | None = None) -> Evaluation:
        """Validation ``accuracy``/``f1``/``loss`` (regression: ``mse``/``mae``/``r2``/``loss``), the learning curve
        and costs: ``params``, ``flops``, seconds.

        The validation metrics are measured after every epoch (the curve; the last epoch's are the trial's
        metrics). A ``plan`` may stop the training early (its rule sees each epoch's ``{"epoch", "accuracy",
        "f1", "loss"}`` and returns a reason to stop, or None), end it at an epoch, continue it from a
        checkpoint (the curve then holds the new epochs only), keep one, and bound the seconds it may take. Under a
        plan with a rule or an end, the epochs before the trainer's last are scored on an average of the weights
        (``Trainer.fit``'s ``average``): those are the scores a rule or a rung judges.
        """
        import torch

        plan = plan or Plan()
        t0 = time.perf_counter()
        self._check_weights_fit(arch)
        model = self.build(arch, seed)
        t1 = time.perf_counter()
        measured = self.costs(model)
        t2 = time.perf_counter()
        spent = {"build_seconds": t1 - t0, "cost_seconds": t2 - t1}
        broken = self.constraints.broken(measured) or self._too_big(measured["train_memory_mb"])
        if broken:
            raise Infeasible(broken, {**measured, **spent})
        curve: list[dict[str, float]] = []
        stop: list[str] = []
        # a rule is not asked after the last epoch: stopping then saves nothing, and would mark a complete
        # training pruned (it could no longer win, though it trained as long as any winner)
        last = self.trainer.epochs if plan.until is None else plan.until

        def record(epoch: int, progress: Mapping[str, float]) -> bool:
            point = {"epoch": epoch, **{k: progress[f"valid_{k}"] for k in self.metric_names}}
            curve.append({**point, "seconds": progress["seconds"]})
            reason = plan.rule(epoch, point) if plan.rule is not None and epoch < last else None
            if reason:
                stop.append(reason)
            return bool(reason)

        try:
            fit = self.trainer.fit(
                model,
                *self._train,
                seed=seed,
                on_epoch=record,
                valid=self._valid,
                until=plan.until,
                start=plan.start,
                keep=plan.keep,
                target_scale=self.target_scale,
                seconds=None if plan.seconds is None else plan.seconds - (time.perf_counter() - t0),
                average=plan.rule is not None or plan.until is not None,
            )
        except Exception as exc:
            partial = {**measured, **spent, "epochs_trained": len(curve), "train_seconds": time.perf_counter() - t2}
            failure = _failed(exc, partial, curve)
            out_of_memory = isinstance(exc, torch.cuda.OutOfMemoryError)
        else:
            failure, out_of_memory = None, False
        if failure is not None:
            del model  # neither this frame nor the original traceback keeps an out-of-memory network alive
            if out_of_memory:  # only now: until the traceback went, its frames held the trial's tensors
                torch.cuda.empty_cache()  # so that the next trial on this GPU starts from what is really free
            raise failure
        t3 = time.perf_counter()
        metrics = {k: curve[-1][k] for k in self.metric_names}
        costs: dict[str, Any] = {
            **measured,
            "epochs": fit.epochs,
            "epochs_trained": len(curve),  # a continued training's curve holds only its new epochs
            "build_seconds": t1 - t0,
            "cost_seconds": t2 - t1,
            "train_seconds": t3 - t2,
        }
        pruned = stop[0] if stop else None
        return Evaluation(metrics=metrics, costs=costs, curve=tuple(curve), pruned=pruned, checkpoint=fit.checkpoint)

    def costs_before_training(self, arch: Hashable, names: Collection[str]) -> dict[str, float]:
        """The costs ``names`` of ``arch``'s untrained network (built from one fixed seed, so an architecture
        has one answer), measured as a trial measures them; of a network too big to build, only the parameters
        (counted on PyTorch's meta device)."""
        try:
            self._check_weights_fit(arch)
            measured = self.costs(self.build(arch, seed=0))
        except Infeasible as too_big:
            measured = too_big.costs
        return {name: float(measured[name]) for name in names if name in measured}

    def costs(self, model: nn.Module) -> dict[str, float]:
        """What the built network costs (:mod:`nasforge.costs`): parameters, FLOPs, weight and activation KiB,
        and, where it is measured, its latency: the median ms of a batch of ``latency_batch`` samples, with the
        interquartile range of the timings, the batch and the thread count it was measured with."""
        peak, stored = activation_profile(model, self.input_shape)  # one forward pass for both estimates
        out = {
            "params": count_params(model),
            "flops": count_flops(model, self.input_shape),
            "size_kb": model_bytes(model) / 1024,
            "activation_kb": peak / 1024,
            "train_memory_mb": training_bytes(model, stored, self.trainer.batch_size) / 2**20,
        }
        if self.proxies:
            from nasforge.proxies import PROXY_BATCH, compute_proxies

            x, y = (t[:PROXY_BATCH] for t in self._train)
            out |= compute_proxies(model, x, y, self.proxies)
        if self.latency:
            set_threads(self.trainer.threads)  # timed with the threads the trial trains with
            latency = measure_latency(model, self.input_shape, batch=self.latency_batch)
            out |= {
                "latency_ms": latency.median_ms,
                "latency_spread_ms": latency.spread_ms,
                "latency_batch": latency.batch,
                "latency_threads": latency.threads,
            }
        return out

    def _check_weights_fit(self, arch: Hashable) -> None:
        """Reject ``arch`` before its weights are allocated when they alone (with gradients and optimizer state)
        cannot fit: built on PyTorch's meta device, a network has shapes and no storage, so counting the
        parameters of one that would need 100 GB costs milliseconds instead of the search."""
        import torch

        with torch.device("meta"):
            shapes = self.space.build(self.space.parse(arch), self.input_shape, self.num_classes)
        params = count_params(shapes)
        needed_mb = 4 * params * 4 / 2**20  # float32 weights, gradients and two optimizer moments
        broken = self._too_big(needed_mb, "weights, gradients and optimizer state")
        if broken:
            raise Infeasible(broken, {"params": params, "train_memory_mb": needed_mb})

    def _too_big(
        self, needed_mb: float, what: str = "weights, gradients, optimizer state and a batch's activations"
    ) -> str | None:
        """Why a network cannot train here (``needed_mb`` with ``MEMORY_HEADROOM`` exceeds the memory free on the
        device), or None: rejected before training rather than killed by the OS."""
        free_mb = free_memory_bytes(self.trainer.torch_device) / 2**20
        if needed_mb * MEMORY_HEADROOM <= free_mb:
            return None
        return (
            f"needs about {needed_mb:,.0f} MiB to train ({what}; {MEMORY_HEADROOM:g}x that is wanted), "
            f"{free_mb:,.0f} MiB are free on {self.trainer.torch_device.type}"
        )

    def final_test(self, arch: Hashable, seed: int) -> FinalReport:
        """Retrain ``arch`` from scratch on train+validation with the same recipe, score it once on test.

        The retraining has no time limit: the winner is trained once and must not fail at the end of a run.
        The scaler stays the one fitted on the training split.
        """
        import torch

        if self._test is None:
            raise RuntimeError("this evaluator was copied for search workers and holds no test split")
        trainer = replace(self.trainer, time_limit=None)
        X = torch.cat([self._train[0], self._valid[0]])
        y = torch.cat([self._train[1], self._valid[1]])
        model = self.build(arch, seed)
        trainer.fit(model, X, y, seed=seed)
        metrics = trainer.evaluate(model, *self._test, target_scale=self.target_scale)
        return FinalReport(metrics=metrics, model=model)


def _failed(error: Exception, costs: dict[str, float], curve: list[dict[str, float]]) -> TrialFailed:
    """``error`` as a :class:`TrialFailed` with the trial's partial costs and curve (a :class:`TrialInterrupted`
    stays one); the traceback goes along as text when the error is not one of ours (a bug, or an out-of-memory
    error, deserves its call site)."""
    import traceback

    if isinstance(error, TrialInterrupted):
        return TrialInterrupted(str(error), costs, tuple(curve))
    detail = "" if isinstance(error, NasforgeError) else "".join(traceback.format_exception(error)).rstrip()
    return TrialFailed(f"{type(error).__name__}: {error}", costs, tuple(curve), detail)
