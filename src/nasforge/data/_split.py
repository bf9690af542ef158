"""Seeded stratified train/validation/test splits with a scaler fitted on the training split only.

Protocol: the search trains on ``train`` and scores on ``valid``; ``test`` must only be touched by
:meth:`nasforge.evaluators.Evaluator.final_test`, once, for the architecture the search returns. The scaler
never sees validation or test samples, so neither leaks into training.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from nasforge.data._dataset import Dataset, InputKind, input_kind_of
from nasforge.exceptions import ConfigError, DataError

__all__ = ["MIN_PER_CLASS", "Scaler", "SplitRecipe", "Splits", "split"]

MIN_PER_CLASS = 3
"""The fewest samples a class may have: one for each of train, validation and test."""

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
    """Standardised ``(X, y)`` arrays of the three splits and what a space needs to build a network.

    ``test`` is for the final report only; see the module docstring.
    """

    train: Arrays
    valid: Arrays
    test: Arrays
    classes: tuple[str, ...]
    scaler: Scaler
    seed: int
    name: str = "data"
    recipe: SplitRecipe | None = None
    """How to redo these splits from the data's source (``None`` for a dataset built from arrays)."""

    @property
    def input_shape(self) -> tuple[int, ...]:
        return tuple(int(d) for d in self.train[0].shape[1:])

    @property
    def input_kind(self) -> InputKind:
        return input_kind_of(self.input_shape)

    @property
    def num_classes(self) -> int:
        return len(self.classes)

    def describe(self) -> dict[str, Any]:
        """Sizes, shapes and the scaler as plain data, for the store and ``best.json``."""
        return {
            "name": self.name,
            "input_shape": list(self.input_shape),
            "input_kind": self.input_kind,
            "classes": list(self.classes),
            "sizes": {"train": len(self.train[1]), "valid": len(self.valid[1]), "test": len(self.test[1])},
            "seed": self.seed,
            "scaler": self.scaler.to_dict(),
        }


def split(dataset: Dataset, seed: int, valid: float = 0.2, test: float = 0.2) -> Splits:
    """Stratified split into train/validation/test (fractions of the whole), standardised on train only.

    >>> from nasforge.data import synthetic
    >>> s = split(synthetic("flat", n=100), seed=0)
    >>> len(s.train[1]), len(s.valid[1]), len(s.test[1])
    (60, 20, 20)
    """
    from sklearn.model_selection import train_test_split

    for name, value in (("valid", valid), ("test", test)):
        if not 0.0 < value < 1.0:
            raise ConfigError(f"data.{name}: must be a fraction in (0, 1), got {value!r}")
    if valid + test >= 1.0:
        raise ConfigError(f"data.valid + data.test must leave samples to train on, got {valid} + {test}")
    _check_counts(dataset, valid, test)
    idx = np.arange(len(dataset))
    try:
        rest, test_idx = train_test_split(idx, test_size=test, random_state=seed, stratify=dataset.y)
        train_idx, valid_idx = train_test_split(
            rest, test_size=valid / (1.0 - test), random_state=seed, stratify=dataset.y[rest]
        )
    except ValueError as exc:  # sklearn's own check, for splits too small for the number of classes
        raise DataError(f"{dataset.name}: cannot split stratified: {exc}".replace("\n", " ")) from None
    X, y = dataset.X, dataset.y
    scaler = Scaler.fit(X[train_idx])
    return Splits(
        train=(scaler.transform(X[train_idx]), y[train_idx].copy()),
        valid=(scaler.transform(X[valid_idx]), y[valid_idx].copy()),
        test=(scaler.transform(X[test_idx]), y[test_idx].copy()),
        classes=dataset.classes,
        scaler=scaler,
        seed=seed,
        name=dataset.name,
        recipe=None if dataset.source is None else SplitRecipe(dict(dataset.source), seed, valid, test),
    )


def _check_counts(dataset: Dataset, valid: float, test: float) -> None:
    counts = np.bincount(dataset.y, minlength=dataset.num_classes)
    k = int(np.argmin(counts))
    if counts[k] < MIN_PER_CLASS:
        raise DataError(
            f"{dataset.name}: class {dataset.classes[k]!r} has {counts[k]} samples; a stratified "
            f"train/validation/test split needs at least {MIN_PER_CLASS} per class"
        )
    n = len(dataset)
    smallest = min(int(np.ceil(n * test)), int(np.ceil(n * valid)))
    if smallest < dataset.num_classes:
        raise DataError(
            f"{dataset.name}: {n} samples are too few for {dataset.num_classes} classes with "
            f"valid={valid}, test={test}: each split needs at least one sample per class"
        )
