"""Built-in datasets: sklearn's bundled tables (no download) and a synthetic generator for tests.

sklearn is imported inside the loaders, so that importing nasforge (``--help``, config checks) stays fast.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import TypeGuard

import numpy as np

from nasforge.data._dataset import Dataset, InputKind
from nasforge.exceptions import DataError
from nasforge.registry import Registry

__all__ = ["DATASETS", "breast_cancer", "diabetes", "digits", "synthetic", "wine", "word_order"]

DATASETS: Registry[Dataset] = Registry("dataset")
"""Built-in datasets by the name a config's ``data.builtin`` uses."""


def _is_whole(value: object, least: int) -> TypeGuard[int | float | np.integer | np.floating]:
    """Whether ``value`` is a whole number of at least ``least``: ``3`` or ``3.0``, not a bool, ``2.5`` or ``"3"``."""
    whole = isinstance(value, (int, np.integer)) or (
        isinstance(value, (float, np.floating)) and float(value).is_integer()
    )
    return whole and not isinstance(value, bool) and value >= least


def whole_option(name: str, value: object, least: int) -> int:
    """A built-in dataset's whole-number option ``data.<name>``, at least ``least``. The config hands options over
    as YAML wrote them, so a list, a string or a fraction arrives here; numpy would refuse it far from its name."""
    if _is_whole(value, least):
        return int(value)
    raise DataError(f"data.{name}: must be a whole number >= {least}, got {value!r}")


def real_option(name: str, value: object, low: float, high: float = math.inf) -> float:
    """A built-in dataset's real option ``data.<name>``, finite and in ``[low, high]``, checked for the same reason."""
    if (
        isinstance(value, bool)
        or not isinstance(value, (int, float, np.integer, np.floating))
        or not (math.isfinite(value) and low <= value <= high)
    ):
        allowed = f"in [{low:g}, {high:g}]" if math.isfinite(high) else f">= {low:g}"
        raise DataError(f"data.{name}: must be a finite number {allowed}, got {value!r}")
    return float(value)


@DATASETS.register("digits")
def digits() -> Dataset:
    """sklearn's 1,797 handwritten 8x8 digits as ``(N, 1, 8, 8)`` images, pixel values 0..16."""
    from sklearn.datasets import load_digits

    bunch = load_digits()
    X = bunch.images.astype(np.float32)[:, None, :, :]
    return Dataset("digits", X, bunch.target, tuple(str(c) for c in bunch.target_names))


@DATASETS.register("breast_cancer")
def breast_cancer() -> Dataset:
    """sklearn's Wisconsin breast cancer table: 569 samples, 30 flat features, 2 classes."""
    from sklearn.datasets import load_breast_cancer

    bunch = load_breast_cancer()
    return Dataset("breast_cancer", bunch.data, bunch.target, tuple(bunch.target_names))


@DATASETS.register("wine")
def wine() -> Dataset:
    """sklearn's wine table: 178 samples, 13 flat features, 3 classes."""
    from sklearn.datasets import load_wine

    bunch = load_wine()
    return Dataset("wine", bunch.data, bunch.target, tuple(bunch.target_names))


_DEFAULT_SHAPES: dict[str, tuple[int, ...]] = {"flat": (16,), "sequence": (1, 64), "image": (1, 8, 8)}
_SHAPE_AXES: dict[str, dict[str, int]] = {
    "flat": {"features": 1},
    "sequence": {"channels": 1, "length": 2},  # the motif is at least 2 long
    "image": {"channels": 1, "height": 1, "width": 1},
}
"""A sample's axes for each kind, with the least size each may have."""
_MOST_VALUES = 10**7
"""The most numbers a synthetic dataset holds (n times a sample's size; 80 MB while it is generated), so that a
mistyped ``n`` or ``shape`` is refused instead of exhausting memory or running for minutes."""


@DATASETS.register("synthetic")
def synthetic(
    kind: InputKind = "image",
    n: int = 600,
    classes: int = 3,
    seed: int = 0,
    shape: Sequence[int] | None = None,
    noise: float = 1.0,
) -> Dataset:
    """A learnable classification task of any input kind, generated from ``seed`` (for tests and benchmarks).

    Sequences and images hold one class-specific motif (width ``L // 8`` or a 3x3 patch) at a random offset
    in Gaussian noise: the class does not depend on *where* the motif sits, so translation-equivariant
    convolutions with pooling beat dense layers on it. Flat samples are Gaussian clusters around
    class-specific centres. Labels are balanced: sample ``i`` has class ``i % classes``.

    >>> synthetic("sequence", n=30, classes=3).input_shape
    (1, 64)
    """
    if not isinstance(kind, str) or kind not in _DEFAULT_SHAPES:
        raise DataError(f"data.kind: must be one of {', '.join(_DEFAULT_SHAPES)}, got {kind!r}")
    classes, n = whole_option("classes", classes, 2), whole_option("n", n, 1)
    if n < classes:
        raise DataError(f"data.n: must be >= classes ({classes}), so that every class has a sample, got {n}")
    noise = real_option("noise", noise, 0.0)
    sample_shape = _DEFAULT_SHAPES[kind] if shape is None else _sample_shape(kind, shape)
    if n * math.prod(sample_shape) > _MOST_VALUES:
        raise DataError(
            f"data: n x shape is {n} x {list(sample_shape)} = {n * math.prod(sample_shape):.3g} numbers; "
            f"a synthetic dataset holds at most {_MOST_VALUES:.0e}"
        )
    rng = np.random.default_rng(whole_option("seed", seed, 0))
    y = np.arange(n) % classes
    rng.shuffle(y)
    X = rng.normal(0.0, noise, size=(n, *sample_shape))
    if kind == "flat":
        centres = rng.normal(0.0, 1.5, size=(classes, *sample_shape))
        X += centres[y]
    else:
        channels, *extent = sample_shape
        motif_shape = tuple(max(2, d // 8) if kind == "sequence" else min(3, d) for d in extent)
        motifs = rng.choice([-3.0, 3.0], size=(classes, channels, *motif_shape))
        for i, label in enumerate(y):
            start = [int(rng.integers(0, d - m + 1)) for d, m in zip(extent, motif_shape, strict=True)]
            window: tuple[int | slice, ...] = (i, slice(None))
            window += tuple(slice(s, s + m) for s, m in zip(start, motif_shape, strict=True))
            X[window] += motifs[label]
    return Dataset(f"synthetic-{kind}", X, y, tuple(f"c{k}" for k in range(classes)))


def _sample_shape(kind: str, shape: object) -> tuple[int, ...]:
    """``data.shape`` of a ``kind`` sample: one whole number per axis, each at least its axis's least size."""
    axes = _SHAPE_AXES[kind]
    sizes = list(shape) if isinstance(shape, (list, tuple)) else []
    if len(sizes) != len(axes) or not all(_is_whole(d, least) for d, least in zip(sizes, axes.values(), strict=True)):
        least = ", ".join(f"{axis} >= {size}" for axis, size in axes.items())
        raise DataError(f"data.shape: must be [{', '.join(axes)}] for {kind} input ({least}), got {shape!r}")
    return tuple(int(d) for d in sizes)


@DATASETS.register("diabetes")
def diabetes() -> Dataset:
    """sklearn's diabetes table: 442 patients, 10 flat features, a real-valued target (disease progression)."""
    from sklearn.datasets import load_diabetes

    bunch = load_diabetes()
    return Dataset("diabetes", bunch.data, bunch.target, task="regression")


_FILLER = tuple(
    [
        "the",
        "a",
        "of",
        "to",
        "and",
        "in",
        "is",
        "it",
        "for",
        "on",
        "with",
        "as",
        "at",
        "by",
        "from",
        "this",
        "that",
        "be",
        "are",
        "was",
        "we",
        "they",
        "you",
        "our",
        "new",
        "old",
        "good",
        "time",
        "day",
        "year",
        "work",
        "home",
        "city",
        "road",
        "plan",
        "team",
        "game",
        "book",
        "room",
        "hand",
        "part",
        "case",
        "week",
    ]
)


@DATASETS.register("word_order")
def word_order(n: int = 2000, seed: int = 0, min_words: int = 8, max_words: int = 24) -> Dataset:
    """A text task where only word order tells the classes apart: every text holds the words ``before`` and
    ``after`` once each among filler words, and its class says which comes first.

    Both classes have the same words, so a bag of words (or any order-blind model) scores 50%; a network must
    relate two positions up to ``max_words`` apart: a recurrent or attention layer, or convolutions that see
    far enough. Word-level texts of 8-24 words, balanced classes, generated from ``seed``.

    >>> ds = word_order(n=4)
    >>> ds.input_kind, ds.classes
    ('text', ('after_first', 'before_first'))
    """
    n, min_words = whole_option("n", n, 4), whole_option("min_words", min_words, 2)
    max_words = whole_option("max_words", max_words, min_words)
    rng = np.random.default_rng(whole_option("seed", seed, 0))
    y = np.arange(n) % 2
    rng.shuffle(y)
    texts = []
    for label in y:
        words = list(rng.choice(_FILLER, size=int(rng.integers(min_words, max_words + 1)) - 2))
        i, j = sorted(rng.choice(len(words) + 2, size=2, replace=False))
        first, second = ("before", "after") if label == 1 else ("after", "before")
        words.insert(i, first)
        words.insert(j, second)
        texts.append(" ".join(words))
    return Dataset("word_order", np.asarray(texts, dtype=object), y, ("after_first", "before_first"))
