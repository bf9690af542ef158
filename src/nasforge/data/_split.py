"""Seeded train/validation/test splits, with everything fitted to the data fitted on the training split only.

Protocol: the search trains on ``train`` and scores on ``valid``; ``test`` must only be touched by
:meth:`nasforge.evaluators.Evaluator.final_test`, once, for the architecture the search returns. The input
scaler, the tokenizer (text) and the target scaler (regression) never see validation or test samples.

How samples are split: stratified by class for classification, with every class in every part; for regression,
stratified by deciles of the target (so that each part covers its range; a plain shuffled split where the deciles
are too few to stratify); and when the data has ``groups`` (rows of one speech, patient or user), by group with
sklearn's ``GroupShuffleSplit``, every group in one part, the fractions then counting groups rather than rows
(refused when a class then has no training or no validation sample).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from nasforge.data._dataset import Dataset, InputKind, Task, input_kind_of
from nasforge.data._text import Tokenizer
from nasforge.exceptions import ConfigError, DataError

__all__ = ["MIN_PER_CLASS", "Scaler", "SplitRecipe", "Splits", "TargetScaler", "split", "split_indices"]

MIN_PER_CLASS = 3
"""The fewest samples a class may have: one for each of train, validation and test."""
_MAX_SEED = 2**32 - 1
"""The largest seed numpy's and scikit-learn's generators take."""

Arrays = tuple[np.ndarray, np.ndarray]


@dataclass(frozen=True)
class Scaler:
    """Standardisation ``(x - mean) / std``: per feature for flat inputs, per channel otherwise."""

    mean: np.ndarray
    std: np.ndarray

    @classmethod
    def fit(cls, X: np.ndarray) -> Scaler:
        axes = (0,) if X.ndim == 2 else (0, *range(2, X.ndim))
        mean = X.mean(axis=axes, dtype=np.float64)
        std = X.std(axis=axes, dtype=np.float64)
        std[std < 1e-12] = 1.0  # a constant feature stays constant instead of dividing by zero
        return cls(mean.astype(np.float32), std.astype(np.float32))

    def transform(self, X: np.ndarray) -> np.ndarray:
        shape = (1, -1) + (1,) * (X.ndim - 2)
        return ((X - self.mean.reshape(shape)) / self.std.reshape(shape)).astype(np.float32)

    def to_dict(self) -> dict[str, list[float]]:
        """Plain lists, for ``best.json``: an exported model expects inputs standardised like this."""
        return {"mean": self.mean.tolist(), "std": self.std.tolist()}


@dataclass(frozen=True)
class TargetScaler:
    """A regression target's standardisation, fitted on the training split: networks learn ``(y - mean) / std``
    (one scale for every dataset, so the trainer's learning rate suits them all) and metrics are reported in
    the target's own units (:meth:`unscale`)."""

    mean: float
    std: float

    @classmethod
    def fit(cls, y: np.ndarray, where: str = "data") -> TargetScaler:
        """Fitted on ``y`` (the training part); refused when float64 cannot hold their mean or spread (targets near
        its limit: squared deviations overflow beyond about 1e154), where every standardised target would be NaN
        or 0. ``where`` names the data in the message."""
        with np.errstate(over="ignore", invalid="ignore"):  # overflow shows in the result, refused below
            mean, std = float(y.mean()), float(y.std())
        if not (math.isfinite(mean) and math.isfinite(std)):
            raise DataError(
                f"{where}: regression targets from {y.min():g} to {y.max():g} overflow float64 when standardised "
                "(their mean or spread over the training part is not finite); rescale them so that they differ by "
                "less than 1e154"
            )
        return cls(mean, std if std > 1e-12 else 1.0)

    def transform(self, y: np.ndarray) -> np.ndarray:
        return ((y - self.mean) / self.std).astype(np.float32)

    def unscale(self, standardised: np.ndarray) -> np.ndarray:
        """Predictions of the network in the target's units."""
        return np.asarray(standardised, dtype=np.float64) * self.std + self.mean

    def to_dict(self) -> dict[str, float]:
        return {"mean": self.mean, "std": self.std}


@dataclass(frozen=True)
class SplitRecipe:
    """How to make the same splits elsewhere: the dataset's ``data:`` spec, the seed and the fractions.

    Worker machines that can read the data themselves (``executor: {data: load}``) receive this instead
    of the arrays; :meth:`splits` loads and splits exactly as the driver did (the split is seeded).
    """

    source: Mapping[str, Any]
    seed: int
    valid: float
    test: float

    def splits(self) -> Splits:
        from nasforge.data._files import load

        return split(load(self.source), self.seed, self.valid, self.test)


@dataclass(frozen=True)
class Splits:
    """``(X, y)`` arrays of the three splits, ready to train on, and what a space needs to build a network.

    Numeric inputs are standardised (``scaler``); text becomes token ids (``tokenizer``); regression targets
    are standardised (``target``). ``test`` is for the final report only; see the module docstring.
    """

    train: Arrays
    valid: Arrays
    test: Arrays
    classes: tuple[str, ...]
    scaler: Scaler | None
    seed: int
    name: str = "data"
    recipe: SplitRecipe | None = None
    """How to redo these splits from the data's source (``None`` for a dataset built from arrays)."""
    task: Task = "classification"
    target: TargetScaler | None = None
    vocab_size: int | None = None
    tokenizer: Tokenizer | None = None
    grouped: bool = False

    @property
    def input_shape(self) -> tuple[int, ...]:
        return tuple(int(d) for d in self.train[0].shape[1:])

    @property
    def input_kind(self) -> InputKind:
        return "tokens" if self.vocab_size is not None else input_kind_of(self.input_shape)

    @property
    def num_classes(self) -> int:
        return len(self.classes)

    def __len__(self) -> int:
        """Samples in the three parts together."""
        return len(self.train[1]) + len(self.valid[1]) + len(self.test[1])

    @property
    def outputs(self) -> int:
        """Outputs of the network: one per class, or one real value for regression."""
        return 1 if self.task == "regression" else self.num_classes

    def describe(self) -> dict[str, Any]:
        """Sizes, shapes and what was fitted on the training split as plain data, for the store and ``best.json``:
        an exported model expects inputs prepared the same way."""
        out: dict[str, Any] = {
            "name": self.name,
            "task": self.task,
            "input_shape": list(self.input_shape),
            "input_kind": self.input_kind,
            "classes": list(self.classes),
            "sizes": {"train": len(self.train[1]), "valid": len(self.valid[1]), "test": len(self.test[1])},
            "seed": self.seed,
            "grouped": self.grouped,
        }
        if self.scaler is not None:
            out["scaler"] = self.scaler.to_dict()
        if self.target is not None:
            out["target"] = self.target.to_dict()
        if self.vocab_size is not None:
            out["vocab_size"] = self.vocab_size
        if self.tokenizer is not None:
            out["tokenizer"] = self.tokenizer.to_dict()
        return out


def split(dataset: Dataset, seed: int, valid: float = 0.2, test: float = 0.2) -> Splits:
    """Split into train/validation/test (fractions of the whole; see the module docstring for how) and prepare
    the inputs and targets with what is fitted on the training split.

    >>> from nasforge.data import synthetic
    >>> s = split(synthetic("flat", n=100), seed=0)
    >>> len(s.train[1]), len(s.valid[1]), len(s.test[1])
    (60, 20, 20)
    """
    for name, value in (("valid", valid), ("test", test)):
        if not 0.0 < value < 1.0:
            raise ConfigError(f"data.{name}: must be a fraction in (0, 1), got {value!r}")
    if valid + test >= 1.0:
        raise ConfigError(f"data.valid + data.test must leave samples to train on, got {valid} + {test}")
    train_idx, valid_idx, test_idx = split_indices(dataset, seed, valid, test)
    X, y = dataset.X, dataset.y
    scaler = tokenizer = target = None
    vocab_size = dataset.vocab_size
    if dataset.input_kind == "text":
        tokenizer = Tokenizer.from_options(dataset.tokenizer, X[train_idx].tolist()).fit(X[train_idx].tolist())
        X, vocab_size = tokenizer.encode(X.tolist()), tokenizer.vocab_size
    elif dataset.input_kind != "tokens":
        scaler = Scaler.fit(X[train_idx])
        X = _standardised(X, scaler, _where(dataset), "X")
    if dataset.task == "regression":
        target = TargetScaler.fit(y[train_idx], _where(dataset))
        y = _standardised(y, target, _where(dataset), "the target")
    return Splits(
        train=(X[train_idx], y[train_idx].copy()),
        valid=(X[valid_idx], y[valid_idx].copy()),
        test=(X[test_idx], y[test_idx].copy()),
        classes=dataset.classes,
        scaler=scaler,
        seed=seed,
        name=dataset.name,
        recipe=None if dataset.source is None else SplitRecipe(dict(dataset.source), seed, valid, test),
        task=dataset.task,
        target=target,
        vocab_size=vocab_size,
        tokenizer=tokenizer,
        grouped=dataset.groups is not None,
    )


def _standardised(values: np.ndarray, scaler: Scaler | TargetScaler, where: str, what: str) -> np.ndarray:
    """``scaler.transform(values)`` (float32), refused when a value overflows: inputs near float32's limit (3.4e38),
    or a validation or test value extremely far from a training part that hardly varies. numpy's overflow warnings
    are silenced because the result is checked: printed, they would break the CLI's one-line error."""
    with np.errstate(over="ignore", invalid="ignore"):
        out = scaler.transform(values)
    bad = int(np.count_nonzero(~np.isfinite(out)))
    if bad:
        raise DataError(
            f"{where}: {what} from {values.min():g} to {values.max():g} overflows float32 once standardised by the "
            f"training part's mean and spread ({bad} values beyond 3.4e38); rescale it to a narrower range"
        )
    return out


def split_indices(
    dataset: Dataset, seed: int, valid: float = 0.2, test: float = 0.2
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The rows of the train, validation and test parts that :func:`split` uses (for baselines on the same rows)."""
    from sklearn.model_selection import GroupShuffleSplit, train_test_split

    if not isinstance(seed, (int, np.integer)) or not 0 <= seed <= _MAX_SEED:  # else sklearn's error, or a traceback
        raise ConfigError(f"seed: must be an integer from 0 to 2**32-1 ({_MAX_SEED}), got {seed!r}")
    where = _where(dataset)
    _check_targets(dataset, where, valid, test)
    idx = np.arange(len(dataset))
    if dataset.groups is not None:
        groups = dataset.groups
        count = len(np.unique(groups))  # the fractions count groups: see the module docstring
        _check_part_sizes(where, count, valid, test, f"{count} groups are too few", 1, "at least one group")
        rest, test_idx = next(GroupShuffleSplit(1, test_size=test, random_state=seed).split(idx, groups=groups))
        inner = GroupShuffleSplit(1, test_size=valid / (1.0 - test), random_state=seed)
        train_pos, valid_pos = next(inner.split(rest, groups=groups[rest]))
        train_idx, valid_idx = rest[train_pos], rest[valid_pos]
        if dataset.task == "classification":
            _check_grouped_classes(dataset, where, seed, train_idx, valid_idx)
        return train_idx, valid_idx, test_idx
    strata = dataset.y if dataset.task == "classification" else _deciles(dataset.y)
    try:
        rest, test_idx = train_test_split(idx, test_size=test, random_state=seed, stratify=strata)
        train_idx, valid_idx = train_test_split(
            rest,
            test_size=valid / (1.0 - test),
            random_state=seed,
            stratify=None if strata is None else strata[rest],
        )
    except ValueError as exc:  # sklearn's own check, for splits too small for the number of classes
        if dataset.task == "regression":  # too few samples per decile: a plain shuffled split
            rest, test_idx = train_test_split(idx, test_size=test, random_state=seed)
            train_idx, valid_idx = train_test_split(rest, test_size=valid / (1.0 - test), random_state=seed)
            return train_idx, valid_idx, test_idx
        raise DataError(f"{where}: cannot split stratified: {exc}".replace("\n", " ")) from None
    if dataset.task == "classification":
        _every_class_in_every_part((train_idx, valid_idx, test_idx), dataset.y)
    return train_idx, valid_idx, test_idx


def _every_class_in_every_part(parts: tuple[np.ndarray, ...], y: np.ndarray) -> None:
    """Keep :data:`MIN_PER_CLASS`'s promise, in place: sklearn shares a part's samples among the classes in
    proportion, so a class of 3 gets no validation or test sample when those parts are small. A part without class
    ``c`` swaps one of its samples of the class it holds most of (at least 2: it has at least as many samples as
    there are classes, checked before splitting, and lacks one) for one of ``c`` from the part holding most of ``c``
    (at least 2 of ``MIN_PER_CLASS``): sizes stay, and a split that needs no swap is sklearn's."""
    for part in parts:
        for c in np.setdiff1d(y, y[part]):
            donor = max(parts, key=lambda other: int(np.count_nonzero(y[other] == c)))
            give = np.flatnonzero(y[donor] == c)[0]
            take = np.flatnonzero(y[part] == np.bincount(y[part]).argmax())[0]
            donor[give], part[take] = part[take], donor[give]


def _check_grouped_classes(
    dataset: Dataset, where: str, seed: int, train_idx: np.ndarray, valid_idx: np.ndarray
) -> None:
    """Refuse a split by group that leaves a class out of the training part (never learned) or the validation part
    (never scored by the search): whole groups move, so unlike :func:`_every_class_in_every_part` nothing can be
    swapped. The test part may lack a class: only the final report is then blind to it."""
    for part, idx in (("training", train_idx), ("validation", valid_idx)):
        missing = np.setdiff1d(dataset.y, dataset.y[idx])
        if missing.size:
            c = int(missing[0])
            rows = dataset.y == c
            count = len(np.unique(dataset.groups[rows]))
            hint = "try another seed or finer groups" if count > 1 else "use finer groups"  # one group: no seed helps
            raise DataError(
                f"{where}: class {dataset.classes[c]!r} has no {part} sample in the split by group with seed {seed} "
                f"(its {int(np.count_nonzero(rows))} samples lie in {count} group{'s' * (count > 1)}); {hint}"
            )


def _part_sizes(count: int, valid: float, test: float) -> tuple[int, int, int]:
    """How many of ``count`` samples (or groups) train, validation and test get, by sklearn's arithmetic: the test
    part rounded up, then the validation part rounded up within the rest. Known before splitting, a part left empty
    is refused with its size instead of sklearn's message about ``n_samples`` and ``test_size``."""
    n_test = math.ceil(test * count)
    rest = count - n_test
    n_valid = math.ceil(valid / (1.0 - test) * rest)
    return rest - n_valid, n_valid, n_test


def _check_part_sizes(
    where: str, count: int, valid: float, test: float, too_few: str, least: int, each_needs: str
) -> None:
    """Refuse a split that would give a part fewer than ``least`` samples (groups): ``too_few`` says of what, and
    ``each_needs`` what a part needs."""
    train, val, tst = _part_sizes(count, valid, test)
    if min(train, val, tst) < least:
        raise DataError(
            f"{where}: {too_few} for valid={valid}, test={test}: train, validation and test would get "
            f"{train}, {val} and {tst}; each needs {each_needs}"
        )


def _deciles(y: np.ndarray) -> np.ndarray | None:
    """Each target's decile (fewer bins when values repeat), or None when there is nothing to stratify. Targets
    near float64's limit overflow the interpolation quietly: such bins only stratify worse, and
    :meth:`TargetScaler.fit` refuses those targets with its own message once the split is made."""
    with np.errstate(over="ignore", invalid="ignore"):
        edges = np.unique(np.quantile(y, np.linspace(0.1, 0.9, 9)))
    return np.searchsorted(edges, y, side="right") if len(edges) else None


def _where(dataset: Dataset) -> str:
    """What a message about the data names: the file it was loaded from (what the user edits), else its name."""
    path = (dataset.source or {}).get("path")
    return Path(str(path)).name if path else dataset.name


def _check_targets(dataset: Dataset, where: str, valid: float, test: float) -> None:
    """Refuse targets before anything trains on them: a single class or a single value, on which every
    architecture scores the same, so a search would rank noise; classes too small for a stratified split; and
    too few samples for the fractions, which would leave a part empty (or short of a class)."""
    n = len(dataset)
    if dataset.task == "regression":
        if dataset.y.min() == dataset.y.max():  # not np.ptp, whose subtraction overflows near 1e308
            raise DataError(f"{where}: every target is {dataset.y[0]:g}; a regression target needs at least 2 values")
        if dataset.groups is None:  # a split by group counts groups, and checks them itself
            _check_part_sizes(where, n, valid, test, f"{n} samples are too few", 1, "at least one sample")
        return
    if dataset.num_classes < 2:
        raise DataError(
            f"{where}: every label is {dataset.classes[0]!r}; classification needs samples of at least 2 classes"
        )
    counts = np.bincount(dataset.y, minlength=dataset.num_classes)
    k = int(np.argmin(counts))
    if counts[k] < MIN_PER_CLASS:
        raise DataError(
            f"{where}: class {dataset.classes[k]!r} has {counts[k]} samples; a stratified "
            f"train/validation/test split needs at least {MIN_PER_CLASS} per class"
        )
    if dataset.groups is None:  # a split by group cannot promise every class in every part; it checks after
        too_few = f"{n} samples are too few for {dataset.num_classes} classes"
        _check_part_sizes(where, n, valid, test, too_few, dataset.num_classes, "at least one sample per class")
