"""The drawn-digits dataset: deterministic, balanced, raw pixel values, any size, and learnable."""

from __future__ import annotations

import numpy as np
import pytest

from nasforge.data import DATASETS, glyphs, load, split
from nasforge.exceptions import DataError


def test_same_seed_same_images_and_balanced_sorted_classes():
    a, b = glyphs(n=50, size=16, seed=3), glyphs(n=50, size=16, seed=3)
    assert np.array_equal(a.X, b.X) and not np.array_equal(a.X, glyphs(n=50, size=16, seed=4).X)
    assert a.input_shape == (1, 16, 16) and a.classes == tuple("0123456789")
    assert np.all(np.diff(a.y) >= 0) and np.bincount(a.y).tolist() == [5] * 10
    assert a.X.min() >= 0 and a.X.max() <= 255 and np.array_equal(a.X, np.round(a.X)), "whole uint8 values"


def test_any_size_and_the_builtin_name():
    assert load({"builtin": "glyphs", "n": 20, "size": 40}).input_shape == (1, 40, 40)
    assert DATASETS.get("glyphs") is glyphs


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"n": 5}, "data.n: must be a whole number >= 10, got 5"),
        ({"size": 4}, "data.size: must be a whole number >= 8, got 4"),
        ({"size": "16"}, "data.size: must be a whole number >= 8, got '16'"),
        ({"jitter": 0.5}, "data.jitter: must be a finite number in [0, 0.3], got 0.5"),
        ({"jitter": [0.1]}, "data.jitter: must be a finite number in [0, 0.3], got [0.1]"),
        ({"seed": -1}, "data.seed: must be a whole number >= 0, got -1"),
    ],
)
def test_bad_options_are_data_errors(kwargs, message):
    with pytest.raises(DataError) as raised:
        glyphs(**kwargs)
    assert str(raised.value) == message


def test_the_classes_are_drawn_apart_yet_not_trivially():
    """A linear model on 16x16 pixels is far above chance (0.1) and far from perfect: the shapes carry the class."""
    from sklearn.linear_model import LogisticRegression

    s = split(glyphs(n=1000, size=16, seed=0), seed=0)
    flat = [x.reshape(len(x), -1) for x in (s.train[0], s.test[0])]
    score = LogisticRegression(max_iter=500).fit(flat[0], s.train[1]).score(flat[1], s.test[1])
    assert 0.5 < score < 0.97
