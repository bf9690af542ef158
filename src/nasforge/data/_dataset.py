"""The in-memory dataset every loader returns: float32 features, int64 class ids, class names.

The shape of ``X`` is the only thing that says what kind of input a dataset is, so search spaces can pick
1d or 2d operations from it: ``(N, F)`` flat, ``(N, C, L)`` sequence, ``(N, C, H, W)`` image.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np

from nasforge.exceptions import DataError

__all__ = ["INPUT_KINDS", "Dataset", "InputKind", "input_kind_of"]

InputKind = Literal["flat", "sequence", "image"]
INPUT_KINDS: dict[int, InputKind] = {1: "flat", 2: "sequence", 3: "image"}


def input_kind_of(shape: tuple[int, ...]) -> InputKind:
    """The input kind of one sample's shape: ``(F,)`` flat, ``(C, L)`` sequence, ``(C, H, W)`` image."""
    try:
        return INPUT_KINDS[len(shape)]
    except KeyError:
        raise DataError(
            f"X must be (N,F), (N,C,L) or (N,C,H,W); got {len(shape) + 1} dimensions {('N', *shape)}"
        ) from None


@dataclass(frozen=True)
class Dataset:
    """Samples ``X`` (float32), labels ``y`` (int64 in ``0..K-1``) and the ``K`` class names.

    >>> ds = Dataset("toy", np.zeros((4, 3)), np.array([0, 1, 0, 1]), ("a", "b"))
    >>> ds.input_shape, ds.input_kind, ds.num_classes
    ((3,), 'flat', 2)
    """

    name: str
    X: np.ndarray
    y: np.ndarray
    classes: tuple[str, ...]
    source: Mapping[str, Any] | None = field(default=None, compare=False, repr=False)
    """The ``data:`` spec it was loaded from (``nasforge.data.load``), so that worker machines can load it too."""

    def __post_init__(self) -> None:
        X = np.ascontiguousarray(self.X, dtype=np.float32)
        y = np.asarray(self.y)
        input_kind_of(X.shape[1:])
        if y.ndim != 1 or len(y) != len(X):
            raise DataError(f"{self.name}: y must be 1-d with one label per sample of X ({len(X)}), got {y.shape}")
        if len(y) == 0:
            raise DataError(f"{self.name}: the dataset is empty")
        if not np.issubdtype(y.dtype, np.integer):
            raise DataError(f"{self.name}: y must hold integer class ids, got dtype {y.dtype}")
        classes = tuple(str(c) for c in self.classes)
        if y.min() < 0 or y.max() >= len(classes):
            raise DataError(f"{self.name}: labels must lie in 0..{len(classes) - 1} (one per class name)")
        bad = int(np.count_nonzero(~np.isfinite(X)))
        if bad:
            raise DataError(f"{self.name}: X has {bad} NaN or infinite values")
        X.setflags(write=False)
        y = np.ascontiguousarray(y, dtype=np.int64)
        y.setflags(write=False)
        object.__setattr__(self, "X", X)
        object.__setattr__(self, "y", y)
        object.__setattr__(self, "classes", classes)

    def __len__(self) -> int:
        return len(self.y)

    @property
    def input_shape(self) -> tuple[int, ...]:
        """The shape of one sample, without the batch dimension."""
        return tuple(int(d) for d in self.X.shape[1:])

    @property
    def input_kind(self) -> InputKind:
        return input_kind_of(self.input_shape)

    @property
    def num_classes(self) -> int:
        return len(self.classes)

    def __repr__(self) -> str:
        return (
            f"Dataset({self.name!r}, n={len(self)}, input_shape={self.input_shape}, "
            f"kind={self.input_kind!r}, classes={self.num_classes})"
        )
