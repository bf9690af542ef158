"""Loaders: built-ins, synthetic data, .npz and CSV files, and the config's data block with its errors."""

from __future__ import annotations

import gzip
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from nasforge.data import DATASETS, Dataset, digits, load, load_csv, load_npz, synthetic
from nasforge.exceptions import DataError


@pytest.mark.parametrize("name", DATASETS.names())
def test_every_builtin_loads_as_a_valid_dataset(name: str) -> None:
    ds = load({"builtin": name})
    if ds.input_kind == "text":
        assert ds.X.dtype == object and all(isinstance(t, str) and t for t in ds.X)
    else:
        assert ds.X.dtype == np.float32 and ds.input_kind in ("flat", "sequence", "image")
    if ds.task == "regression":
        assert ds.y.dtype == np.float64 and ds.classes == () and np.isfinite(ds.y).all()
    else:
        assert ds.y.dtype == np.int64 and set(np.unique(ds.y)) == set(range(ds.num_classes))


def test_digits_are_single_channel_images() -> None:
    ds = digits()
    assert ds.X.shape == (1797, 1, 8, 8) and ds.input_kind == "image"
    assert ds.classes == tuple(str(d) for d in range(10))


@pytest.mark.parametrize(("kind", "shape"), [("flat", (16,)), ("sequence", (1, 64)), ("image", (1, 8, 8))])
def test_synthetic_kinds_are_balanced_and_seeded(kind: str, shape: tuple[int, ...]) -> None:
    a = synthetic(kind, n=60, classes=3, seed=1)
    assert a.input_shape == shape and a.input_kind == kind
    assert np.bincount(a.y).tolist() == [20, 20, 20]
    assert np.array_equal(a.X, synthetic(kind, n=60, classes=3, seed=1).X)
    assert not np.array_equal(a.X, synthetic(kind, n=60, classes=3, seed=2).X)


def test_dataset_is_frozen_and_read_only() -> None:
    ds = synthetic("flat", n=12)
    with pytest.raises(ValueError):
        ds.X[0, 0] = 1.0
    with pytest.raises(AttributeError):
        ds.name = "other"  # type: ignore[misc]


@pytest.mark.parametrize(("shape", "kind"), [((30, 5), "flat"), ((30, 2, 9), "sequence"), ((30, 3, 4, 4), "image")])
def test_npz_shape_says_the_input_kind(tmp_path: Path, shape: tuple[int, ...], kind: str) -> None:
    path = tmp_path / "x.npz"
    np.savez(path, X=np.random.default_rng(0).normal(size=shape), y=np.arange(30) % 3 + 10)
    ds = load({"path": str(path)})
    assert ds.input_kind == kind and ds.input_shape == shape[1:]
    assert ds.classes == ("10", "11", "12") and ds.y.tolist()[:3] == [0, 1, 2]


def test_npz_string_labels_keep_their_names(tmp_path: Path) -> None:
    path = tmp_path / "x.npz"
    np.savez(path, X=np.zeros((4, 2)), y=np.array(["cat", "dog", "cat", "ant"]))
    ds = load_npz(path)
    assert ds.classes == ("ant", "cat", "dog") and ds.y.tolist() == [1, 2, 1, 0]


@pytest.mark.parametrize(
    ("arrays", "message"),
    [
        ({"X": np.zeros((3, 2))}, "x.npz: missing array 'y' (found: X)"),
        (
            {"X": np.zeros((3, 2)), "y": np.zeros(4)},
            "x.npz: y must be 1-d with one label per sample of X (3), got (4,)",
        ),
        ({"X": np.array([[np.nan, 1.0], [2.0, 3.0]]), "y": np.zeros(2)}, "x.npz: X has 1 NaN or infinite values"),
        ({"X": np.zeros((3, 1, 1, 1, 1)), "y": np.zeros(3)}, "X must be (N,F), (N,C,L) or (N,C,H,W); got 5 dimensions"),
        (  # a scalar X has no length: it used to raise TypeError
            {"X": np.float32(1), "y": np.array([0, 1, 0])},
            "x.npz: X must be (N,F), (N,C,L) or (N,C,H,W); got a single value (0 dimensions)",
        ),
        (
            {"X": np.zeros((2, 2)), "y": np.array(["a", "b"]), "vocab_size": 1},
            "data.vocab_size: must be an integer >= 2",
        ),
    ],
)
def test_npz_errors(tmp_path: Path, arrays: dict[str, np.ndarray], message: str) -> None:
    path = tmp_path / "x.npz"
    np.savez(path, **arrays)
    with pytest.raises(DataError) as err:
        load_npz(path)
    assert str(err.value).startswith(message) and "\n" not in str(err.value)


def _csv(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "x.csv"
    path.write_text(text)
    return path


def test_csv_with_string_labels(tmp_path: Path) -> None:
    path = _csv(tmp_path, "a,label,b\n1,yes,2.5\n3,no,4\n5,yes,-1e-3\n")
    ds = load({"path": str(path), "target": "label"})
    assert ds.classes == ("no", "yes") and ds.y.tolist() == [1, 0, 1]
    assert ds.X.tolist() == [[1.0, 2.5], [3.0, 4.0], [5.0, pytest.approx(-1e-3)]]
    assert ds.name == "x" and ds.input_kind == "flat"


def test_csv_numeric_labels_sort_numerically(tmp_path: Path) -> None:
    ds = load_csv(_csv(tmp_path, "f,t\n1,10\n2,9\n3,10\n"), "t")
    assert ds.classes == ("9", "10") and ds.y.tolist() == [1, 0, 1]


@pytest.mark.parametrize(
    ("text", "target", "message"),
    [
        ("a,b\n1,2\n", "lbl", "data.target: column 'lbl' not in x.csv (columns: a, b)"),
        ("a,color,t\n1,red,0\n2,blue,1\n", "t", "x.csv: column 'color' is not numeric (e.g. 'red' on line 2)"),
        ("a,t\n1,0\n,1\nnan,0\n", "t", "x.csv: column 'a' has 2 missing or non-finite values"),
        ("a,t\n1,0\n2,\n", "t", "x.csv: column 't': labels have 1 missing values"),
        ("a,t\n1,0\n2\n", "t", "x.csv: line 3 has 1 fields, the header has 2"),
        ("t\n1\n2\n", "t", "x.csv: no feature columns besides the target 't'"),
        # stripped names that repeat: the last column used to replace the first silently
        ("x,x ,t\n1,2,0\n3,4,1\n", "t", "x.csv: column 'x' appears more than once in the header; rename or drop one"),
        # the file's own line numbers, counting blank lines and a quoted field over two lines
        ("a,t\n\n1,0\n\nb,1\n", "t", "x.csv: column 'a' is not numeric (e.g. 'b' on line 5)"),
        ("a,t\n\n1,0\n\n2\n", "t", "x.csv: line 5 has 1 fields, the header has 2"),
        ('a,t\n"1\n",0\n3\n', "t", "x.csv: line 4 has 1 fields, the header has 2"),
    ],
)
def test_csv_errors(tmp_path: Path, text: str, target: str, message: str) -> None:
    with pytest.raises(DataError) as err:
        load_csv(_csv(tmp_path, text), target)
    assert str(err.value).startswith(message) and "\n" not in str(err.value)


GZIP_HEADER = b"\x1f\x8b\x08\x00\x00\x00\x00\x00\x00\xff"
"""A gzip member's 10-byte header (deflate, no name, no time)."""


@pytest.mark.parametrize(
    "damaged",
    [
        gzip.compress(b"a,t\n" + b"1,0\n2,1\n" * 200, mtime=0)[:-9],  # the end of the data cut off: EOFError
        GZIP_HEADER + b"\x07" + b"\x00" * 20,  # a deflate block of the reserved type 3: zlib.error
    ],
    ids=["truncated", "corrupt"],
)
def test_damaged_csv_gz_is_an_unreadable_file(tmp_path: Path, damaged: bytes) -> None:
    """gzip's EOFError and zlib.error used to escape: the CLI printed only "Aborted." or a traceback."""
    path = tmp_path / "x.csv.gz"
    path.write_bytes(damaged)
    with pytest.raises(DataError) as err:
        load({"path": str(path), "target": "t"})
    assert str(err.value).startswith("x.csv.gz: not a readable CSV file (") and "\n" not in str(err.value)


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        (
            {"builtin": "digts"},
            "data.builtin: unknown dataset 'digts'; did you mean 'digits', 'diabetes'? "
            "(choose from breast_cancer, diabetes, digits, glyphs, synthetic, wine, word_order)",
        ),
        ({"path": "nowhere/x.npz"}, "data.path: file not found: nowhere/x.npz"),
        ({"path": "x.parquet"}, "data.path: unsupported file type '.parquet'; use .npz, .csv or .csv.gz"),
        ({"path": "x.csv"}, "data.target: name the label column of x.csv"),
        ({}, "data: give exactly one of 'builtin' (e.g. digits) or 'path' (a .npz or .csv file)"),
        ({"builtin": "digits", "n": 3}, "data: unexpected option(s) n for builtin 'digits' (it takes no options)"),
        (
            {"builtin": "synthetic", "a\nb": 1, 5: 1},
            "data: unexpected option(s) 5, 'a\\nb' for builtin 'synthetic' (options: classes, kind, n, noise, seed, "
            "shape)",
        ),
        (
            {"path": "x.npz", "a\nb": 1},
            "data: unexpected option(s) 'a\\nb' for a file (allowed: target, text, group, task, tokenizer, vocab_size, "
            "input)",
        ),
    ],
)
def test_load_spec_errors(spec: dict[str, object], message: str) -> None:
    with pytest.raises(DataError) as err:
        load(spec)
    assert str(err.value) == message


def test_load_passes_options_to_synthetic() -> None:
    ds = load({"builtin": "synthetic", "kind": "sequence", "n": 30, "classes": 2})
    assert ds.input_kind == "sequence" and len(ds) == 30 and ds.num_classes == 2


def test_dataset_rejects_labels_outside_the_classes() -> None:
    with pytest.raises(DataError, match=r"labels must lie in 0\.\.1"):
        Dataset("bad", np.zeros((3, 2)), np.array([0, 1, 2]), ("a", "b"))


def test_data_and_trainer_modules_import_neither_torch_nor_sklearn() -> None:
    """Config validation and ``--help`` load these modules; torch alone costs over a second."""
    code = (
        "import sys, nasforge; before = 'torch' in sys.modules; "
        "import nasforge.data, nasforge.device, nasforge.costs, nasforge.export, nasforge.evaluators; "
        "print(before or 'torch' not in sys.modules, 'sklearn' not in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.split() == ["True", "True"]


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"classes": [3]}, "data.classes: must be a whole number >= 2, got [3]"),
        ({"classes": 2.5}, "data.classes: must be a whole number >= 2, got 2.5"),
        ({"n": True}, "data.n: must be a whole number >= 1, got True"),
        ({"n": 2}, "data.n: must be >= classes (3), so that every class has a sample, got 2"),
        ({"seed": -1}, "data.seed: must be a whole number >= 0, got -1"),
        ({"noise": "x"}, "data.noise: must be a finite number >= 0, got 'x'"),
        ({"noise": float("inf")}, "data.noise: must be a finite number >= 0, got inf"),
        ({"kind": [1]}, "data.kind: must be one of flat, sequence, image, got [1]"),
        (
            {"shape": 1.5},
            "data.shape: must be [channels, height, width] for image input (channels >= 1, height >= 1, width >= 1), "
            "got 1.5",
        ),
        (
            {"kind": "sequence", "shape": [1, 1]},
            "data.shape: must be [channels, length] for sequence input (channels >= 1, length >= 2), got [1, 1]",
        ),
        ({"kind": "flat", "shape": ["8"]}, "data.shape: must be [features] for flat input (features >= 1), got ['8']"),
        (
            {"kind": "flat", "shape": [10**6]},
            "data: n x shape is 24 x [1000000] = 2.4e+07 numbers; a synthetic dataset holds at most 1e+07",
        ),
    ],
)
def test_synthetic_options_of_the_wrong_type_are_data_errors(options: dict[str, object], message: str) -> None:
    """The config hands a built-in dataset's options over as YAML wrote them; numpy would fail on them far away."""
    with pytest.raises(DataError) as err:
        load({"builtin": "synthetic", "n": 24, **options})
    assert str(err.value) == message


def test_synthetic_takes_whole_floats_as_the_numbers_they_are() -> None:
    assert load({"builtin": "synthetic", "kind": "flat", "n": 24.0, "classes": 2.0}).num_classes == 2


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"n": "many"}, "data.n: must be a whole number >= 4, got 'many'"),
        ({"min_words": 9, "max_words": 8}, "data.max_words: must be a whole number >= 9, got 8"),
    ],
)
def test_word_order_options_are_checked(options: dict[str, object], message: str) -> None:
    with pytest.raises(DataError) as err:
        load({"builtin": "word_order", **options})
    assert str(err.value) == message


@pytest.mark.parametrize(
    ("y", "classes"),
    [
        (np.array([1e19, 2e19, 3e19] * 2), ("1e+19", "2e+19", "3e+19")),  # beyond int64: once all one class
        (np.array(["4e280", "1", "2"] * 2), ("1", "2", "4e280")),  # once an OverflowError
        (np.array(["9007199254740993", "9007199254740992"] * 3), ("9007199254740992", "9007199254740993")),
    ],
    ids=["floats beyond int64", "text beyond int64", "text beyond exact floats"],
)
def test_whole_number_labels_too_large_for_ids_stay_apart_as_text(
    tmp_path: Path, y: np.ndarray, classes: tuple[str, ...]
) -> None:
    path = tmp_path / "x.npz"
    np.savez(path, X=np.zeros((len(y), 2)), y=y)
    ds = load_npz(path)
    assert ds.task == "classification" and ds.classes == classes
    assert [ds.classes[i] for i in ds.y] == [str(v) for v in y.tolist()]


def test_x_beyond_float32_is_named_as_such_not_as_nan() -> None:
    """X is cast to float32, where 1e39 is infinite: the file holds no NaN or infinity, so say what it does hold."""
    with pytest.raises(DataError) as err:
        Dataset("big", np.full((30, 3), 1e39), np.arange(30) % 3, ("a", "b", "c"))
    assert str(err.value) == (
        "big: X has 90 values beyond float32's range (magnitude over 3.4e38, e.g. 1e+39); "
        "nasforge trains in float32: rescale X"
    )
