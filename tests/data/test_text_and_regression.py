"""Text input (tokenizer, CSV text columns, .npz token ids), regression targets and grouped splits."""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np
import pytest

from nasforge.data import Dataset, Tokenizer, diabetes, load, split, word_order
from nasforge.data._text import OOV, PAD, default_level
from nasforge.exceptions import DataError


def _write_csv(path: Path, header: list[str], rows: list[list[object]]) -> Path:
    with path.open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(header)
        writer.writerows(rows)
    return path


def test_tokenizer_pads_cuts_and_maps_unknown_tokens_to_oov() -> None:
    tok = Tokenizer(level="word", max_len=3).fit(["the cat sat", "the dog"])
    assert tok.tokens[0] == "the" and tok.vocab_size == len(tok.tokens) + 2 and tok.length == 3
    ids = tok.encode(["The Cat flew away home", "dog"])
    assert ids.dtype == np.int64 and ids.shape == (2, 3)
    assert ids[0, :2].tolist() == [2, tok.tokens.index("cat") + 2] and ids[0, 2] == OOV  # cut after 3 tokens
    assert ids[1].tolist() == [tok.tokens.index("dog") + 2, PAD, PAD]
    again = Tokenizer.from_dict(tok.to_dict())
    assert np.array_equal(again.encode(["the cat flew"]), tok.encode(["the cat flew"]))


def test_tokenizer_keeps_only_the_most_frequent_tokens() -> None:
    tok = Tokenizer(level="char", vocab=2).fit(["aaab", "ab", "c"])
    assert tok.tokens == ("a", "b") and tok.encode(["c"]).tolist() == [[OOV, PAD, PAD, PAD]]


def test_default_level_is_char_for_short_texts_and_word_for_long_ones() -> None:
    assert default_level(["Anna", "Bob", "Mary Ann"]) == "char"
    assert default_level(["this is a much longer text of words"] * 3) == "word"


def test_the_tokenizer_sees_the_training_split_only() -> None:
    texts = [f"name{i} is quite common" for i in range(60)]  # one word unique to each text
    splits = split(Dataset("t", np.asarray(texts, dtype=object), np.arange(60) % 2, ("a", "b")), seed=0)
    assert splits.tokenizer is not None and splits.tokenizer.level == "word"
    assert len(splits.tokenizer.tokens) == 3 + len(splits.train[1])  # "is quite common" and train's own names
    assert not (splits.train[0] == OOV).any()
    for part in (splits.valid, splits.test):  # their unique words were never seen: out of vocabulary
        assert (part[0][:, 0] == OOV).all() and (part[0][:, 1:] != OOV).all()


def test_csv_text_column_is_raw_text_and_other_columns_are_ignored(tmp_path: Path) -> None:
    path = _write_csv(tmp_path / "t.csv", ["id", "body", "label"], [[i, f"text {i}", i % 2] for i in range(20)])
    ds = load({"path": str(path), "text": "body", "target": "label", "tokenizer": {"level": "char", "max_len": 4}})
    assert ds.input_kind == "text" and ds.X[3] == "text 3" and ds.classes == ("0", "1")
    splits = split(ds, seed=0)
    assert splits.input_kind == "tokens" and splits.input_shape == (4,) and splits.scaler is None
    assert splits.describe()["tokenizer"]["level"] == "char"


def test_npz_integer_matrix_must_say_tokens_or_numeric(tmp_path: Path) -> None:
    path = tmp_path / "ids.npz"
    np.savez(path, X=np.random.default_rng(0).integers(0, 9, size=(30, 6)), y=np.arange(30) % 3)
    with pytest.raises(DataError, match=r"declare data\.vocab_size \(tokens\) or data\.input: numeric"):
        load({"path": str(path)})
    tokens = load({"path": str(path), "vocab_size": 9})
    assert tokens.input_kind == "tokens" and tokens.X.dtype == np.int64
    assert split(tokens, seed=0).input_kind == "tokens"
    numeric = load({"path": str(path), "input": "numeric"})
    assert numeric.input_kind == "flat" and numeric.X.dtype == np.float32
    with pytest.raises(DataError, match=r"token ids must lie in 0\.\.4"):
        load({"path": str(path), "vocab_size": 5})
    np.savez(path, X=np.ones((30, 6), dtype=np.int64), y=np.arange(30) % 3, vocab_size=12)
    assert load({"path": str(path)}).vocab_size == 12  # declared in the file itself


def test_real_valued_targets_are_regression_and_whole_numbers_need_declaring(tmp_path: Path) -> None:
    rows = [[i, i * 0.5 + 0.25] for i in range(30)]
    ds = load({"path": str(_write_csv(tmp_path / "r.csv", ["x", "price"], rows)), "target": "price"})
    assert ds.task == "regression" and ds.classes == () and ds.y[1] == 0.75
    years = _write_csv(tmp_path / "y.csv", ["x", "year"], [[i, 1900 + i] for i in range(30)])
    assert load({"path": str(years), "target": "year"}).task == "classification"
    assert load({"path": str(years), "target": "year", "task": "regression"}).task == "regression"
    with pytest.raises(DataError, match=r"data\.task: must be classification or regression"):
        load({"path": str(years), "target": "year", "task": "ranking"})


def test_regression_targets_are_standardised_on_the_training_split() -> None:
    data = diabetes()
    splits = split(data, seed=0)
    assert splits.task == "regression" and splits.outputs == 1 and splits.target is not None
    assert abs(float(splits.train[1].mean())) < 1e-5 and abs(float(splits.train[1].std()) - 1) < 1e-4
    train_targets = splits.target.unscale(splits.train[1])
    assert np.isclose(splits.target.mean, train_targets.mean()) and splits.valid[1].dtype == np.float32
    # stratified by deciles: every part covers the target's range
    for part in (splits.train, splits.valid, splits.test):
        values = splits.target.unscale(part[1])
        assert values.min() < np.quantile(data.y, 0.15) and values.max() > np.quantile(data.y, 0.85)


def test_groups_keep_each_group_in_one_part(tmp_path: Path) -> None:
    group = np.repeat(np.arange(12), 5)
    data = Dataset("g", group[:, None].astype(float), np.arange(60) % 2, ("a", "b"), groups=group)
    splits = split(data, seed=0)
    assert splits.grouped and splits.scaler is not None

    def groups(part: tuple[np.ndarray, np.ndarray]) -> set[int]:
        raw = part[0][:, 0] * splits.scaler.std[0] + splits.scaler.mean[0]
        return set(np.round(raw).astype(int).tolist())

    train, valid, test = groups(splits.train), groups(splits.valid), groups(splits.test)
    assert train and valid and test and not (train & valid or train & test or valid & test)
    assert len(splits.train[1]) + len(splits.valid[1]) + len(splits.test[1]) == 60
    rows = [[f"speech {g}", g % 2, f"s{g}"] for g in range(12) for _ in range(5)]
    path = _write_csv(tmp_path / "g.csv", ["text", "party", "speech"], rows)
    assert load({"path": str(path), "text": "text", "target": "party", "group": "speech"}).groups is not None
    with pytest.raises(DataError, match=r"data\.group: column 'nope' not in"):
        load({"path": str(path), "text": "text", "target": "party", "group": "nope"})


def test_regression_metrics_match_sklearn() -> None:
    import torch
    from sklearn.metrics import mean_absolute_error, mean_squared_error, r2_score

    from nasforge.evaluators._metrics import regression_metrics

    rng = np.random.default_rng(0)
    target, pred = rng.normal(size=50), rng.normal(size=50)
    scale = 7.5
    got = regression_metrics(torch.tensor(pred)[:, None], torch.tensor(target), scale)
    assert got["mse"] == pytest.approx(mean_squared_error(target * scale, pred * scale))
    assert got["mae"] == pytest.approx(mean_absolute_error(target * scale, pred * scale))
    assert got["r2"] == pytest.approx(r2_score(target, pred))
    assert got["loss"] == pytest.approx(mean_squared_error(target, pred))
    constant = torch.full((4,), 0.5, dtype=torch.float64)
    assert regression_metrics(constant[:, None], constant)["r2"] == 1.0  # sklearn's r2_score: exact, else 0
    assert regression_metrics(constant[:, None] + 1, constant)["r2"] == 0.0
    assert np.isnan(regression_metrics(torch.full((4, 1), float("nan")), constant)["r2"])  # as mse and mae are


def test_word_order_task_is_balanced_and_order_is_the_only_signal() -> None:
    ds = word_order(n=200, seed=1)
    assert np.bincount(ds.y).tolist() == [100, 100]
    for text, label in zip(ds.X, ds.y, strict=True):
        words = text.split()
        assert words.count("before") == 1 and words.count("after") == 1
        assert (words.index("before") < words.index("after")) == bool(label)


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ({"data": {"builtin": "diabetes"}, "objective": {"metric": "accuracy"}}, "objective.metric: accuracy is not"),
        ({"data": {"builtin": "word_order"}, "objective": {"metric": "r2"}}, "objective.metric: r2 is not a class"),
        ({"data": {"path": "x.csv", "target": "y", "tokenizer": {"level": "byte"}}}, "data.tokenizer.level: "),
        ({"data": {"path": "x.csv", "target": "y", "tokenizer": {"vocab": 0}}}, "data.tokenizer.vocab: "),
        ({"data": {"path": "x.csv", "target": "y", "task": "ranking"}}, "data.task: "),
        ({"data": {"path": "x.npz", "input": "images"}}, "data.input: "),
        ({"data": {"builtin": "digits"}, "space": {"embed": [16]}}, "space.embed: only for token input, not image"),
    ],
)
def test_new_config_keys_fail_in_one_line(raw: dict, message: str) -> None:
    from nasforge.api import components_from_config
    from nasforge.config import parse_config
    from nasforge.exceptions import NasforgeError

    with pytest.raises(NasforgeError) as info:
        components_from_config(parse_config(raw))
    assert str(info.value).startswith(message) and "\n" not in str(info.value)


def test_a_minimised_metric_is_negated_in_the_score_only() -> None:
    from nasforge.objective import Objective

    mse = Objective("mse")
    assert mse.score({"mse": 4.0}) == -4.0 and mse.better(3.0, 4.0) and mse.directions == ("min",)
    assert Objective("r2").score({"r2": 0.7}) == pytest.approx(0.7) and Objective("mae").better(1.0, 2.0)
