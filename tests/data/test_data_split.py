"""Splits: stratified, seeded, standardised with statistics of the training split only."""

from __future__ import annotations

import math

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


@pytest.mark.parametrize(
    ("dataset", "valid", "message"),
    [
        (
            Dataset("r", np.zeros((2, 3)), np.array([0.5, 1.5]), task="regression"),
            0.2,
            "r: 2 samples are too few for valid=0.2, test=0.2: train, validation and test would get 0, 1 and 1; "
            "each needs at least one sample",
        ),
        (
            Dataset("r", np.zeros((3, 3)), np.array([0.5, 1.5, 2.5]), task="regression"),
            0.5,
            "r: 3 samples are too few for valid=0.5, test=0.2: train, validation and test would get 0, 2 and 1; "
            "each needs at least one sample",
        ),
        (
            Dataset("g", np.zeros((22, 3)), np.arange(22) % 2, ("a", "b"), groups=np.arange(22) % 3),
            0.5,
            "g: 3 groups are too few for valid=0.5, test=0.2: train, validation and test would get 0, 2 and 1; "
            "each needs at least one group",
        ),
        (
            Dataset("g", np.zeros((20, 3)), np.arange(20) % 2, ("a", "b"), groups=np.arange(20) % 2),
            0.2,
            "g: 2 groups are too few for valid=0.2, test=0.2: train, validation and test would get 0, 1 and 1; "
            "each needs at least one group",
        ),
        (  # the training part too is short of a class: once sklearn's message inside "cannot split stratified"
            Dataset("c", np.zeros((12, 2)), np.arange(12) % 3, ("a", "b", "c")),
            0.6,
            "c: 12 samples are too few for 3 classes for valid=0.6, test=0.2: train, validation and test would get "
            "2, 7 and 3; each needs at least one sample per class",
        ),
    ],
    ids=["regression of 2", "regression with valid=0.5", "3 groups with valid=0.5", "2 groups", "train short"],
)
def test_a_split_that_would_leave_a_part_empty_says_how_many_each_gets(
    dataset: Dataset, valid: float, message: str
) -> None:
    """Counted before splitting, as sklearn counts (the test part rounded up, then validation within the rest);
    sklearn's own error ("With n_samples=1, test_size=0.25 ...") used to escape."""
    with pytest.raises(DataError) as err:
        split(dataset, seed=0, valid=valid)
    assert str(err.value) == message


def test_regression_targets_whose_spread_overflows_float64_are_refused() -> None:
    """Their mean and spread overflow: every standardised training target would be NaN, silently."""
    y = np.where(np.arange(20) % 2 == 0, 1e308, -1e308)
    with pytest.raises(DataError, match=r"^r: regression targets from -1e\+308 to 1e\+308 overflow float64 when"):
        split(Dataset("r", np.random.default_rng(0).normal(size=(20, 3)), y, task="regression"), seed=0)
    assert split(Dataset("r", np.zeros((20, 1)), y / 1e160, task="regression"), seed=0).target.std > 0


def test_values_that_overflow_float32_once_standardised_are_refused() -> None:
    """Inputs near float32's limit, and a target far outside a training part that does not vary (standardised
    with a spread of 1), overflow float32; they used to become infinite training or validation values."""
    X = np.where(np.arange(20)[:, None] < 18, 3e38, -3e38).astype(np.float32)
    with pytest.raises(DataError, match=r"^x: X from -3e\+38 to 3e\+38 overflows float32 once standardised"):
        split(Dataset("x", X, np.arange(20) % 2, ("a", "b")), seed=0)
    y = np.r_[np.zeros(19), 1e200]
    with pytest.raises(DataError, match=r"^r: the target from 0 to 1e\+200 overflows float32 once standardised"):
        split(Dataset("r", np.random.default_rng(0).normal(size=(20, 2)), y, task="regression"), seed=0)


@pytest.mark.parametrize(("valid", "test"), [(0.05, 0.05), (0.1, 0.1), (0.04, 0.3)])
def test_a_class_of_min_per_class_samples_gets_one_in_each_part(valid: float, test: float) -> None:
    """MIN_PER_CLASS's promise: sklearn shares small parts among the classes in proportion, and the class of 3 used
    to get no validation or test sample. Swapped in, the sizes stay sklearn's."""
    y = np.array([0] * 40 + [1] * 40 + [2] * 3)  # MIN_PER_CLASS
    s = split(Dataset("rare", np.random.default_rng(0).normal(size=(len(y), 2)), y, ("a", "b", "c")), 0, valid, test)
    sizes = [len(part[1]) for part in (s.train, s.valid, s.test)]
    assert all(np.bincount(part[1], minlength=3).min() >= 1 for part in (s.train, s.valid, s.test))
    n_test = math.ceil(test * len(y))
    n_valid = math.ceil(valid / (1 - test) * (len(y) - n_test))
    assert sizes == [len(y) - n_valid - n_test, n_valid, n_test]


@pytest.mark.parametrize(
    ("groups", "seed", "message"),
    [
        (  # the rare class lives in one group, which this seed puts in the test part: no seed can help
            np.repeat(np.arange(10), 6),
            1,
            "g: class 'c' has no training sample in the split by group with seed 1 (its 6 samples lie in 1 group); "
            "use finer groups",
        ),
        (  # group by the target itself: each class in one part
            None,
            0,
            "g: class 'b' has no training sample in the split by group with seed 0 (its 27 samples lie in 1 group); "
            "use finer groups",
        ),
        (  # the rare class in two groups, both left out of validation by this seed
            np.r_[np.repeat(np.arange(9), 6), [9, 9, 9, 10, 10, 10]],
            0,
            "g: class 'c' has no validation sample in the split by group with seed 0 (its 6 samples lie in 2 groups); "
            "try another seed or finer groups",
        ),
    ],
    ids=["class in one group", "group is the target", "class in two groups"],
)
def test_a_split_by_group_that_leaves_a_class_out_of_training_or_validation_is_refused(
    groups: np.ndarray | None, seed: int, message: str
) -> None:
    """Whole groups move, so a class can miss the training part (never learned) or the validation part (never
    scored); this used to pass silently."""
    y = np.array([0, 1] * 27 + [2] * 6)
    ds = Dataset("g", np.zeros((len(y), 2)), y, ("a", "b", "c"), groups=y if groups is None else groups)
    with pytest.raises(DataError) as err:
        split(ds, seed=seed)
    assert str(err.value) == message


@pytest.mark.parametrize("seed", [2**32, -1])
@pytest.mark.parametrize("task", ["classification", "regression"])
def test_a_seed_outside_32_bits_is_refused(seed: int, task: str) -> None:
    """sklearn takes seeds 0..2**32-1; beyond them it failed as "cannot split stratified" or with a traceback."""
    ds = (
        synthetic("flat", n=50)
        if task == "classification"
        else Dataset("r", np.zeros((20, 2)), np.arange(20.0), task=task)
    )
    with pytest.raises(ConfigError) as err:
        split(ds, seed=seed)
    assert str(err.value) == f"seed: must be an integer from 0 to 2**32-1 (4294967295), got {seed}"
