"""Splits: stratified, seeded, standardised with statistics of the training split only."""

from __future__ import annotations

import numpy as np
import pytest

from nasforge.data import Dataset, split, synthetic
from nasforge.exceptions import ConfigError, DataError


def test_split_sizes_and_stratification() -> None:
    ds = synthetic("flat", n=200, classes=4, seed=0)
    s = split(ds, seed=3)
    sizes = [len(part[1]) for part in (s.train, s.valid, s.test)]
    assert sizes == [120, 40, 40]
    for _, y in (s.train, s.valid, s.test):
        assert np.bincount(y, minlength=4).tolist() == [len(y) // 4] * 4
    assert s.input_shape == (16,) and s.num_classes == 4 and s.classes == ds.classes
    assert s.train[0].dtype == np.float32 and s.train[1].dtype == np.int64


def test_split_is_seeded() -> None:
    ds = synthetic("image", n=90, seed=0)
    a, b, c = split(ds, seed=1), split(ds, seed=1), split(ds, seed=2)
    assert np.array_equal(a.test[0], b.test[0]) and np.array_equal(a.train[1], b.train[1])
    assert not np.array_equal(a.test[0], c.test[0])


@pytest.mark.parametrize("kind", ["flat", "sequence", "image"])
def test_scaler_standardises_the_train_split(kind: str) -> None:
    s = split(synthetic(kind, n=150, seed=0), seed=0)
    X = s.train[0]
    axes = (0,) if X.ndim == 2 else (0, *range(2, X.ndim))
    np.testing.assert_allclose(X.mean(axis=axes), 0.0, atol=1e-5)
    np.testing.assert_allclose(X.std(axis=axes), 1.0, atol=1e-4)
    assert s.scaler.mean.shape == (X.shape[1],)


def test_scaler_ignores_the_test_split() -> None:
    """Shifting every test sample by a huge offset changes nothing the search sees."""
    ds = synthetic("sequence", n=120, classes=3, seed=0)
    base = split(ds, seed=5)
    idx = np.arange(len(ds))
    from sklearn.model_selection import train_test_split

    _, test_idx = train_test_split(idx, test_size=0.2, random_state=5, stratify=ds.y)
    X = ds.X.copy()
    X[test_idx] += 1000.0
    shifted = split(Dataset(ds.name, X, ds.y, ds.classes), seed=5)
    np.testing.assert_array_equal(base.scaler.mean, shifted.scaler.mean)
    np.testing.assert_array_equal(base.train[0], shifted.train[0])
    np.testing.assert_array_equal(base.valid[0], shifted.valid[0])
    assert shifted.test[0].mean() > 100


def test_too_few_samples_per_class() -> None:
    ds = Dataset("tiny", np.zeros((8, 2)), np.array([0, 0, 0, 0, 0, 0, 1, 1]), ("a", "b"))
    with pytest.raises(DataError) as err:
        split(ds, seed=0)
    assert str(err.value) == (
        "tiny: class 'b' has 2 samples; a stratified train/validation/test split needs at least 3 per class"
    )


def test_too_few_samples_for_the_number_of_classes() -> None:
    ds = Dataset("small", np.zeros((12, 2)), np.arange(12) % 4, ("a", "b", "c", "d"))
    with pytest.raises(DataError, match="12 samples are too few for 4 classes"):
        split(ds, seed=0)


@pytest.mark.parametrize(("valid", "test"), [(0.0, 0.2), (0.2, 1.0), (0.5, 0.5)])
def test_bad_fractions(valid: float, test: float) -> None:
    with pytest.raises(ConfigError, match=r"^data\.(valid|test|valid \+ data\.test)"):
        split(synthetic("flat", n=50), seed=0, valid=valid, test=test)


def test_describe_is_plain_data() -> None:
    d = split(synthetic("image", n=60), seed=0).describe()
    assert d["sizes"] == {"train": 36, "valid": 12, "test": 12} and d["input_kind"] == "image"
    assert len(d["scaler"]["mean"]) == 1
