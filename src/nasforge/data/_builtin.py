"""Built-in datasets: sklearn's bundled tables (no download) and a synthetic generator for tests.

sklearn is imported inside the loaders, so that importing nasforge (``--help``, config checks) stays fast.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from nasforge.data._dataset import Dataset, InputKind
from nasforge.exceptions import DataError
from nasforge.registry import Registry

__all__ = ["DATASETS", "breast_cancer", "diabetes", "digits", "synthetic", "wine", "word_order"]

DATASETS: Registry[Dataset] = Registry("dataset")
"""Built-in datasets by the name a config's ``data.builtin`` uses."""


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
    if kind not in _DEFAULT_SHAPES:
        raise DataError(f"synthetic: kind must be one of {', '.join(_DEFAULT_SHAPES)}, got {kind!r}")
    if classes < 2 or n < classes:
        raise DataError(f"synthetic: need classes >= 2 and n >= classes, got n={n}, classes={classes}")
    sample_shape = tuple(int(d) for d in (shape or _DEFAULT_SHAPES[kind]))
    if len(sample_shape) != len(_DEFAULT_SHAPES[kind]):
        raise DataError(f"synthetic: a {kind} sample shape has {len(_DEFAULT_SHAPES[kind])} dims, got {shape}")
    rng = np.random.default_rng(seed)
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
    if n < 4 or not 2 <= min_words <= max_words:
        raise DataError(f"word_order: need n >= 4 and 2 <= min_words <= max_words, got {n}, {min_words}, {max_words}")
    rng = np.random.default_rng(seed)
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
