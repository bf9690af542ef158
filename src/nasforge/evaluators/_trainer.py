"""The training recipe of a trial: optimizer, schedule, epochs and batches over in-memory tensors.

Built for many short trials on small data: the data stays as tensors on the device, batches are index
slices of one shuffled permutation (no DataLoader), the learning rate is set directly per batch, and the
loss reaches the host once per epoch. torch is imported inside the methods, so that building a ``Trainer``
from a config does not load it.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass, field
from functools import cached_property
from typing import TYPE_CHECKING, Any, Literal

import numpy as np

from nasforge.device import check_device, resolve_device
from nasforge.evaluators._augment import Augment
from nasforge.evaluators._metrics import classification_metrics, regression_metrics
from nasforge.exceptions import (
    ConfigError,
    DataError,
    TrainingDiverged,
    TrialInterrupted,
    TrialTimeout,
    integer_at_least,
)

if TYPE_CHECKING:
    import torch
    from torch import nn
    from torch.optim.swa_utils import AveragedModel

__all__ = ["Checkpoint", "EpochCallback", "FitResult", "Trainer", "input_defaults", "set_threads", "weight_average"]

EpochCallback = Callable[[int, Mapping[str, float]], "bool | None"]
"""Called after every epoch with ``(epoch, metrics)``; returning ``True`` stops training (pruning hooks)."""

_OPTIMIZERS = ("adam", "adamw", "sgd")
_SCHEDULES = ("cosine", "constant")
_EVAL_BATCH = 1024


def input_defaults(input_kind: str) -> dict[str, Any]:
    """Trainer arguments whose default depends on the input: a user's own values override them.

    Token input (text) trains at ``lr=6e-3`` instead of 0.02: recurrent and attention layers want smaller
    steps than the convolutions 0.02 was tuned on. On the names corpus (character level, validation accuracy;
    ``docs/benchmarks.md``, issue 20), 0.02 left a chain with attention followed by a GRU at the majority class
    (0.57) and five default token chains averaged 0.79; over four chains and two seeds, 8 epochs of the cosine
    from 3e-3, 6e-3 and 1e-2 averaged 0.857, 0.865 and 0.866 (12 epochs from 6e-3: 0.870, at 1.5x the time).
    """
    return {"lr": 6e-3} if input_kind == "tokens" else {}


def set_threads(threads: int) -> None:
    """Give torch ``threads`` intra-op threads; a no-op when already so, so trials can call it freely."""
    import torch

    if torch.get_num_threads() != threads:
        torch.set_num_threads(threads)


@dataclass(frozen=True)
class FitResult:
    """What :meth:`Trainer.fit` did: the epoch it reached, mean training loss per epoch run, whether a callback
    stopped it, and (when asked for) the state to continue from."""

    epochs: int
    losses: list[float] = field(default_factory=list)
    seconds: float = 0.0
    stopped: bool = False
    checkpoint: Checkpoint | None = None


@dataclass(frozen=True)
class Checkpoint:
    """Everything a training needs to go on where it stopped, on the CPU so that it can travel between processes.

    The weights, the optimizer's moments, the batch-order generator and the global RNG (dropout; on CUDA the
    device's generator too, ``cuda_rng``, which dropout on the device draws from), the position in the
    learning-rate schedule and, when the training scored an average of its weights, that average: continuing
    from it gives the weights (and scores) an uninterrupted training of the same length gives (bit for bit on
    the CPU).
    """

    epoch: int
    step: int
    model: dict[str, Any]
    optimizer: dict[str, Any]
    generator: Any
    rng: Any
    cuda_rng: Any = None
    average: dict[str, Any] | None = None


@dataclass(frozen=True)
class Trainer:
    """How every trial trains; the constructor only validates and stores the recipe.

    ``time_limit`` bounds the seconds :meth:`fit` may take: training stops between two batches once it is
    exceeded and raises :class:`TrialTimeout`, which fails the trial. ``threads`` torch threads per process:
    on small models one thread is as fast as two and leaves the other cores to parallel trials. The learning
    rate follows a cosine from ``lr`` to 0, stepped per batch, unless ``schedule="constant"``. ``augment``
    (:class:`~nasforge.evaluators.Augment`, or its fields as a mapping) changes every training batch.

    Why Adam at 0.02 with the cosine: on fixed chains (three per dataset, three seeds, validation accuracy,
    8 epochs) a cosine from 3e-3 lost to a constant 3e-3 because it decays before small nets have learned
    (digits 0.951 vs 0.970, the synthetic sequence task 0.837 vs 0.901), while a cosine from 0.02 beat both
    (0.979 and 0.961; breast_cancer 0.986 vs 0.981). See ``docs/benchmarks.md`` (issue 12).

    >>> Trainer(epochs=2, optimizer="sgd", lr=0.05).config()["optimizer"]
    'sgd'
    """

    epochs: int = 8
    batch_size: int = 64
    optimizer: Literal["adam", "adamw", "sgd"] = "adam"
    lr: float = 2e-2
    momentum: float = 0.9
    weight_decay: float = 0.0
    schedule: Literal["cosine", "constant"] = "cosine"
    label_smoothing: float = 0.0
    time_limit: float | None = None
    threads: int = 1
    device: str = "auto"
    augment: Augment = field(default_factory=Augment)

    def __post_init__(self) -> None:
        integer_at_least("train.epochs", self.epochs, 1)
        integer_at_least("train.batch_size", self.batch_size, 2)  # batch norm cannot train on one sample
        integer_at_least("train.threads", self.threads, 1)
        _choice("optimizer", self.optimizer, _OPTIMIZERS)
        _choice("schedule", self.schedule, _SCHEDULES)
        _number("lr", self.lr, low=0.0, low_open=True)
        _number("momentum", self.momentum, low=0.0, high=1.0, high_open=True)
        _number("weight_decay", self.weight_decay, low=0.0)
        _number("label_smoothing", self.label_smoothing, low=0.0, high=1.0, high_open=True)
        if self.time_limit is not None:
            _number("time_limit", self.time_limit, low=0.0, low_open=True)
        check_device(self.device, "train.device")
        object.__setattr__(self, "augment", Augment.parse(self.augment))  # from a config's mapping

    def config(self) -> dict[str, Any]:
        """The recipe as plain data; ``Trainer(**trainer.config())`` rebuilds it."""
        return asdict(self)

    @cached_property
    def torch_device(self) -> torch.device:
        """The resolved device, chosen once per trainer (``auto`` picks CUDA when there is one)."""
        return resolve_device(self.device, "train.device")

    def to_tensors(self, X: Any, y: Any) -> tuple[torch.Tensor, torch.Tensor]:
        """``(X, y)`` as tensors on the device; done once per dataset, not per trial.

        Inputs are float32, or int64 token ids; targets are int64 class ids, or float32 regression targets.
        Images are stored channels-last (see :func:`_memory_format`); batches sliced from them stay so.
        """
        import torch

        if not isinstance(X, torch.Tensor):
            X = torch.from_numpy(np.asarray(X))
        if not isinstance(y, torch.Tensor):
            y = torch.from_numpy(np.asarray(y))
        x_type = torch.int64 if not (X.is_floating_point() or X.is_complex()) else torch.float32
        y_type = torch.float32 if y.is_floating_point() else torch.int64
        X = X.to(self.torch_device, x_type).contiguous(memory_format=_memory_format(X))
        return X, y.to(self.torch_device, y_type)

    def fit(
        self,
        model: nn.Module,
        X: Any,
        y: Any,
        seed: int,
        on_epoch: EpochCallback | None = None,
        valid: tuple[Any, Any] | None = None,
        until: int | None = None,
        start: Checkpoint | None = None,
        keep: bool = False,
        target_scale: float = 1.0,
        seconds: float | None = None,
        average: bool = False,
    ) -> FitResult:
        """Train ``model`` in place on ``(X, y)``; the same seed, model and data give the same weights.

        ``until`` stops after that epoch (default: ``epochs``), with the learning-rate schedule still laid out
        over ``epochs``: a training to epoch 3 of 9 is the first third of the 9-epoch one. ``start`` continues
        from a :class:`Checkpoint` (its weights are loaded into ``model``), and ``keep`` returns one in the
        result: together they let a promoted trial train on instead of starting again. ``seconds`` is what is
        left of the search's time budget: past it, training stops between two batches and raises
        :class:`TrialInterrupted` (unlike ``time_limit``, the trial's own limit, which fails it).

        ``seed`` drives the batch order and, through a forked global RNG, dropout and other random layers;
        seed the model's initialisation when building it (``TrainEvaluator`` does). On the CPU the result is
        bit-identical for a seed; on CUDA, cuDNN may choose non-deterministic kernels. An image model is moved
        to the channels-last layout in place (faster; the same outputs to float rounding). ``on_epoch`` is
        called after every epoch with ``{"loss", "lr", "seconds"}`` plus ``valid_accuracy``/``valid_f1``/
        ``valid_loss`` when ``valid`` data are given (``valid_mse``/``valid_mae``/``valid_r2``/``valid_loss`` for
        regression, in units ``target_scale`` times the standardised ones); returning ``True`` stops training.

        With ``average``, the validation metrics of every epoch before the last of ``epochs`` are those of an
        exponential moving average of the weights over about the epoch's steps (:func:`weight_average`), not of
        the weights themselves: what a stopping rule or a scheduler's rung judges mid-schedule. The last epoch,
        a full training's result, is scored on its own weights either way, and the average never changes the
        training itself.
        """
        import torch

        set_threads(self.threads)
        X, y = self.to_tensors(X, y)
        self.augment.check(X)
        n = len(y)
        if n < 2 or len(X) != n:
            raise DataError(f"training needs at least 2 samples and one label per sample, got {len(X)} and {n}")
        model.to(self.torch_device, memory_format=_memory_format(X))
        devices = [self.torch_device] if self.torch_device.type == "cuda" else []
        last = self.epochs if until is None else until
        if not (start.epoch if start else 0) < last <= self.epochs:
            raise ValueError(f"cannot train from epoch {start.epoch if start else 0} until {last} of {self.epochs}")
        with torch.random.fork_rng(devices=devices):
            torch.manual_seed(seed)
            return self._loop(model, X, y, seed, on_epoch, valid, last, start, keep, target_scale, seconds, average)

    def _loop(
        self,
        model: nn.Module,
        X: torch.Tensor,
        y: torch.Tensor,
        seed: int,
        on_epoch: EpochCallback | None,
        valid: tuple[Any, Any] | None,
        last: int,
        resume: Checkpoint | None,
        keep: bool,
        target_scale: float,
        seconds: float | None,
        average: bool,
    ) -> FitResult:
        import torch

        optimizer = self._optimizer(model)
        n = len(y)
        bounds = _batch_bounds(n, self.batch_size)
        total = self.epochs * len(bounds)
        cosine = self.schedule == "cosine"
        generator = torch.Generator().manual_seed(seed)
        step, first = 0, 1
        averaged = weight_average(model, len(bounds)) if average else None
        if resume is not None:
            model.load_state_dict(resume.model)
            optimizer.load_state_dict(resume.optimizer)
            generator.set_state(resume.generator)
            torch.set_rng_state(resume.rng)
            if resume.cuda_rng is not None and self.torch_device.type == "cuda":
                torch.cuda.set_rng_state(resume.cuda_rng, self.torch_device)
            step, first = resume.step, resume.epoch + 1
            if averaged is not None and resume.average is not None:
                averaged.load_state_dict(resume.average)
        groups = optimizer.param_groups  # after loading: load_state_dict replaces the group dicts
        start = time.perf_counter()
        deadline = start + self.time_limit if self.time_limit is not None else math.inf
        budget_end = start + seconds if seconds is not None else math.inf
        stop_at = min(deadline, budget_end)
        valid_tensors = self.to_tensors(*valid) if valid is not None and on_epoch is not None else None
        losses: list[float] = []
        for epoch in range(first, last + 1):
            model.train()
            perm = torch.randperm(n, generator=generator).to(X.device)
            running = torch.zeros((), device=X.device)
            for lo, hi in bounds:
                if cosine:
                    lr = 0.5 * self.lr * (1.0 + math.cos(math.pi * step / total))
                    for group in groups:
                        group["lr"] = lr
                idx = perm[lo:hi]
                batch = X[idx]
                if self.augment.active:
                    batch = self.augment(batch, generator).contiguous(memory_format=_memory_format(batch))
                loss = self._loss(model(batch), y[idx])
                optimizer.zero_grad(set_to_none=True)
                loss.backward()
                optimizer.step()
                if averaged is not None and epoch < self.epochs:
                    averaged.update_parameters(model)
                running += loss.detach() * (hi - lo)
                step += 1
                if time.perf_counter() > stop_at:
                    if stop_at == deadline:
                        raise TrialTimeout(
                            f"trial exceeded its time limit of {self.time_limit:g} s (epoch {epoch}/{self.epochs})"
                        )
                    raise TrialInterrupted(f"the search's time budget ran out during epoch {epoch}/{self.epochs}")
            losses.append(running.item() / n)
            if not math.isfinite(losses[-1]):
                raise TrainingDiverged(f"training diverged at epoch {epoch}: loss is {losses[-1]}")
            if on_epoch is not None:
                metrics = {"loss": losses[-1], "lr": groups[0]["lr"], "seconds": time.perf_counter() - start}
                if valid_tensors is not None:
                    scored = averaged.module if averaged is not None and epoch < self.epochs else model
                    scores = self.evaluate(scored, *valid_tensors, target_scale=target_scale)
                    if not math.isfinite(scores["loss"]):  # the last steps overflowed the weights: no score to report
                        raise TrainingDiverged(
                            f"training diverged at epoch {epoch}: validation loss is {scores['loss']}"
                        )
                    metrics.update({f"valid_{k}": v for k, v in scores.items()})
                    model.train()
                if on_epoch(epoch, metrics) is True:
                    return FitResult(epoch, losses, time.perf_counter() - start, stopped=True)
        state = _checkpoint(last, step, model, optimizer, generator, self.torch_device, averaged) if keep else None
        return FitResult(last, losses, time.perf_counter() - start, checkpoint=state)

    def evaluate(self, model: nn.Module, X: Any, y: Any, target_scale: float = 1.0) -> dict[str, float]:
        """``accuracy``, macro ``f1`` and ``loss`` of ``model`` on ``(X, y)`` (regression, float ``y``: ``mse``,
        ``mae``, ``r2`` and ``loss``, the first two in units ``target_scale`` times the standardised ones):
        eval mode, no gradients, batched."""
        import torch

        set_threads(self.threads)
        X, y = self.to_tensors(X, y)
        model.to(self.torch_device, memory_format=_memory_format(X))
        model.eval()
        with torch.no_grad():
            out = torch.cat([model(X[i : i + _EVAL_BATCH]) for i in range(0, len(X), _EVAL_BATCH)])
        if y.is_floating_point():
            return regression_metrics(out, y, target_scale)
        return classification_metrics(out, y)

    def _loss(self, out: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        """Cross-entropy for class ids; the mean squared error for (standardised) regression targets."""
        from torch.nn import functional as F

        if y.is_floating_point():
            return F.mse_loss(out.reshape(-1), y)
        return F.cross_entropy(out, y, label_smoothing=self.label_smoothing)

    def _optimizer(self, model: nn.Module) -> torch.optim.Optimizer:
        import torch

        params = [p for p in model.parameters() if p.requires_grad]
        if not params:
            raise ConfigError("the model has no trainable parameters")
        # One fused kernel per step instead of a Python loop over tensors: on one CPU thread it trains a small
        # MLP 29% and a small CNN 10-14% faster (same seed, same weights on a rerun).
        if self.optimizer == "sgd":
            return torch.optim.SGD(
                params, lr=self.lr, momentum=self.momentum, weight_decay=self.weight_decay, fused=True
            )
        cls = torch.optim.AdamW if self.optimizer == "adamw" else torch.optim.Adam
        return cls(params, lr=self.lr, weight_decay=self.weight_decay, fused=True)


def _checkpoint(
    epoch: int,
    step: int,
    model: nn.Module,
    optimizer: torch.optim.Optimizer,
    generator: torch.Generator,
    device: torch.device,
    averaged: AveragedModel | None = None,
) -> Checkpoint:
    import torch

    def cpu(state: Any) -> Any:
        if isinstance(state, torch.Tensor):
            return state.detach().to("cpu", copy=True)
        if isinstance(state, dict):
            return {k: cpu(v) for k, v in state.items()}
        if isinstance(state, list):
            return [cpu(v) for v in state]
        return state

    return Checkpoint(
        epoch=epoch,
        step=step,
        model=cpu(model.state_dict()),
        optimizer=cpu(optimizer.state_dict()),
        generator=generator.get_state(),
        rng=torch.get_rng_state(),
        cuda_rng=torch.cuda.get_rng_state(device) if device.type == "cuda" else None,
        average=cpu(averaged.state_dict()) if averaged is not None else None,
    )


def weight_average(model: nn.Module, steps_per_epoch: int) -> AveragedModel:
    """An exponential moving average of ``model``'s weights and batch-norm statistics with a horizon of about
    one epoch (decay ``1 - 1/steps_per_epoch`` per step), updated by ``update_parameters(model)``.

    Why: mid-schedule, at a high learning rate, the weights of the last step rank architectures poorly. On the
    synthetic sequence task of ``benchmarks/vs_optuna.py`` (a search's 110 architectures, Spearman's correlation
    with their 8-epoch validation accuracy; ``benchmarks/rung_ranking.py``), epoch 2's weights had 0.17 and this
    average 0.40, epoch 3's 0.22 and 0.68, as good as a complete 3-epoch training (0.69). Horizons of one to two
    epochs (decays 0.93 and 0.96 at its 12 steps an epoch) ranked best of decays from 0.7 to 0.98, on two
    searches (docs/benchmarks.md, issue 18).
    """
    from torch.optim.swa_utils import AveragedModel, get_ema_multi_avg_fn

    decay = 1.0 - 1.0 / max(1, steps_per_epoch)
    return AveragedModel(model, multi_avg_fn=get_ema_multi_avg_fn(decay), use_buffers=True)


def _memory_format(X: torch.Tensor) -> torch.memory_format:
    """Channels-last for image batches: oneDNN's convolutions, batch norm and pooling run 1.4-1.5x faster on
    the CPU in that layout (conv-BN-ReLU-pool blocks at 16 and 64 channels on 28x28, one thread); other
    shapes keep the default layout."""
    import torch

    return torch.channels_last if X.dim() == 4 else torch.preserve_format


def _batch_bounds(n: int, batch_size: int) -> list[tuple[int, int]]:
    """Batch slices covering ``0..n``; a last batch of one sample joins the previous one (batch norm needs 2)."""
    bounds = [(lo, min(lo + batch_size, n)) for lo in range(0, n, batch_size)]
    if len(bounds) > 1 and bounds[-1][1] - bounds[-1][0] == 1:
        bounds[-2:] = [(bounds[-2][0], n)]
    return bounds


def _choice(name: str, value: Any, choices: tuple[str, ...]) -> None:
    if value not in choices:
        raise ConfigError(f"train.{name}: must be one of {', '.join(choices)}, got {value!r}")


def _number(
    name: str,
    value: Any,
    low: float,
    high: float = math.inf,
    low_open: bool = False,
    high_open: bool = False,
) -> None:
    ok = isinstance(value, (int, float, np.number)) and not isinstance(value, bool) and math.isfinite(value)
    ok = ok and (value > low if low_open else value >= low) and (value < high if high_open else value <= high)
    if not ok:
        lo, hi = "(" if low_open else "[", ")" if high_open or high == math.inf else "]"
        raise ConfigError(f"train.{name}: must be a number in {lo}{low:g}, {high:g}{hi}, got {value!r}")
