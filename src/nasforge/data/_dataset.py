"""The in-memory dataset every loader returns: inputs, targets (class ids or real values) and class names.

What kind of input a dataset is decides which operations a search space offers, and it is decided in one
place, here: ``X`` of strings is raw **text** (tokenised when split, on the training part only); a declared
``vocab_size`` makes an integer ``(N, L)`` array **tokens** (ids ``0..vocab_size-1``, 0 padding); any other
``X`` is numeric and its shape says the rest: ``(N, F)`` flat, ``(N, C, L)`` sequence, ``(N, C, H, W)`` image.
Loaders refuse an integer ``(N, F)`` array that could be either tokens or features unless told which.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np

from nasforge.exceptions import DataError

__all__ = ["INPUT_KINDS", "TASKS", "Dataset", "InputKind", "Task", "input_kind_of"]

InputKind = Literal["flat", "sequence", "image", "tokens", "text"]
Task = Literal["classification", "regression"]
INPUT_KINDS: dict[int, InputKind] = {1: "flat", 2: "sequence", 3: "image"}
TASKS = ("classification", "regression")
_FLOAT32_MAX = float(np.finfo(np.float32).max)


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
    """Samples ``X``, targets ``y`` and the ``K`` class names (none for regression).

    Classification: ``y`` int64 in ``0..K-1``. Regression (``task="regression"``): ``y`` float64 in the data's
    own units. ``X`` is float32, int64 token ids (with ``vocab_size``) or strings (raw text, with the
    ``tokenizer`` options to tokenise it by). ``groups`` (one label per sample) keep each group's samples in one
    part of the split.

    >>> ds = Dataset("toy", np.zeros((4, 3)), np.array([0, 1, 0, 1]), ("a", "b"))
    >>> ds.input_shape, ds.input_kind, ds.num_classes
    ((3,), 'flat', 2)
    """

    name: str
    X: np.ndarray
    y: np.ndarray
    classes: tuple[str, ...] = ()
    source: Mapping[str, Any] | None = field(default=None, compare=False, repr=False)
    """The ``data:`` spec it was loaded from (``nasforge.data.load``), so that worker machines can load it too."""
    task: Task = "classification"
    vocab_size: int | None = None
    groups: np.ndarray | None = field(default=None, compare=False, repr=False)
    tokenizer: Mapping[str, Any] | None = field(default=None, compare=False, repr=False)

    def __post_init__(self) -> None:
        if self.task not in TASKS:
            raise DataError(f"{self.name}: task must be classification or regression, got {self.task!r}")
        X = self._inputs(np.asarray(self.X))
        y = np.asarray(self.y)
        if y.ndim != 1 or len(y) != len(X):
            raise DataError(f"{self.name}: y must be 1-d with one label per sample of X ({len(X)}), got {y.shape}")
        if len(y) == 0:
            raise DataError(f"{self.name}: the dataset is empty")
        classes = tuple(str(c) for c in self.classes)
        if self.task == "regression":
            if y.dtype.kind not in "fiu":
                raise DataError(f"{self.name}: a regression target must be numeric, got dtype {y.dtype}")
            y = np.ascontiguousarray(y, dtype=np.float64)
            bad = int(np.count_nonzero(~np.isfinite(y)))
            if bad:
                raise DataError(f"{self.name}: the target has {bad} NaN or infinite values")
            if classes:
                raise DataError(f"{self.name}: a regression dataset has no class names")
        else:
            if not np.issubdtype(y.dtype, np.integer):
                raise DataError(f"{self.name}: y must hold integer class ids, got dtype {y.dtype}")
            if y.min() < 0 or y.max() >= len(classes):
                raise DataError(f"{self.name}: labels must lie in 0..{len(classes) - 1} (one per class name)")
            y = np.ascontiguousarray(y, dtype=np.int64)
        if self.groups is not None:
            groups = np.asarray(self.groups)
            if groups.shape != (len(y),):
                raise DataError(f"{self.name}: groups must hold one label per sample ({len(y)}), got {groups.shape}")
            object.__setattr__(self, "groups", groups)
        X.setflags(write=False)
        y.setflags(write=False)
        object.__setattr__(self, "X", X)
        object.__setattr__(self, "y", y)
        object.__setattr__(self, "classes", classes)

    def _inputs(self, X: np.ndarray) -> np.ndarray:
        """``X`` in the dtype of its kind, checked: strings, token ids below ``vocab_size``, or finite floats."""
        if X.dtype.kind in "OUS":
            if X.ndim != 1:
                raise DataError(f"{self.name}: text input must be one string per sample, got shape {X.shape}")
            return np.asarray([str(t) for t in X.tolist()], dtype=object)
        if self.vocab_size is not None:
            if isinstance(self.vocab_size, bool) or not isinstance(self.vocab_size, int) or self.vocab_size < 2:
                raise DataError(f"{self.name}: vocab_size must be an integer >= 2, got {self.vocab_size!r}")
            if X.ndim != 2 or X.dtype.kind not in "iu":
                raise DataError(f"{self.name}: token ids must be an integer array (N, L), got {X.dtype} {X.shape}")
            if X.size and (X.min() < 0 or X.max() >= self.vocab_size):
                raise DataError(
                    f"{self.name}: token ids must lie in 0..{self.vocab_size - 1} (vocab_size {self.vocab_size}; "
                    f"0 is padding), got {X.min()}..{X.max()}"
                )
            return np.ascontiguousarray(X, dtype=np.int64)
        input_kind_of(X.shape[1:])
        bad = int(np.count_nonzero(~np.isfinite(X)))
        if bad:
            raise DataError(f"{self.name}: X has {bad} NaN or infinite values")
        if X.dtype.kind == "f" and X.dtype.itemsize > 4:  # narrower floats and every integer fit float32
            big = X[np.abs(X) > _FLOAT32_MAX]  # checked before the cast, which would make them infinite
            if big.size:
                raise DataError(
                    f"{self.name}: X has {big.size} values beyond float32's range (magnitude over 3.4e38, "
                    f"e.g. {big[0]:g}); nasforge trains in float32: rescale X"
                )
        return np.ascontiguousarray(X, dtype=np.float32)

    def __len__(self) -> int:
        return len(self.y)

    @property
    def input_shape(self) -> tuple[int, ...]:
        """The shape of one sample, without the batch dimension."""
        return tuple(int(d) for d in self.X.shape[1:])

    @property
    def input_kind(self) -> InputKind:
        if self.X.dtype == object:
            return "text"
        return "tokens" if self.vocab_size is not None else input_kind_of(self.input_shape)

    @property
    def num_classes(self) -> int:
        return len(self.classes)

    def __repr__(self) -> str:
        target = f"classes={self.num_classes}" if self.task == "classification" else "task='regression'"
        return (
            f"Dataset({self.name!r}, n={len(self)}, input_shape={self.input_shape}, kind={self.input_kind!r}, {target})"
        )
