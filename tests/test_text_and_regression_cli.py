"""Text and regression through the CLI as users run it: search, show, resume, and the export used on new data."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import numpy as np
import pytest
import yaml

from nasforge.data import Tokenizer, word_order
from test_cli import nasforge


def test_text_csv_search_exports_a_model_that_reads_raw_text(tmp_path: Path) -> None:
    ort = pytest.importorskip("onnxruntime")
    data = word_order(n=200, seed=3)
    with (tmp_path / "texts.csv").open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["id", "body", "label"])
        writer.writerows(
            [i, text, data.classes[label]] for i, (text, label) in enumerate(zip(data.X, data.y, strict=True))
        )
    config = {
        "name": "texts",
        "data": {"path": "texts.csv", "text": "body", "target": "label"},
        "space": {"depth": [1, 2], "widths": [16], "embed": [16]},
        "train": {"epochs": 1},
        "budget": {"trials": 3},
    }
    (tmp_path / "texts.yaml").write_text(yaml.safe_dump(config))
    out = nasforge("search", "texts.yaml", cwd=tmp_path).stdout
    assert "Top 5 by validation accuracy" in out and "embed(16)>" in out
    run_dir = tmp_path / "runs" / "texts"
    best = json.loads((run_dir / "best.json").read_text())
    assert best["data"]["input_kind"] == "tokens" and best["data"]["tokenizer"]["level"] == "word"

    # The few lines of docs/text.md: the fitted tokenizer from best.json, then the ONNX model on new raw text.
    tokenizer = Tokenizer.from_dict(best["data"]["tokenizer"])
    session = ort.InferenceSession(str(run_dir / "best.onnx"))
    new = ["the day before a new plan came after", "after work the team met before the game"]
    logits = session.run(None, {session.get_inputs()[0].name: tokenizer.encode(new)})[0]
    assert logits.shape == (2, 2) and np.isfinite(logits).all()

    import torch

    from nasforge.spaces import ChainSpace

    space = ChainSpace((tokenizer.length,), vocab_size=tokenizer.vocab_size, widths=[16], embed=[16])
    model = space.build(best["arch"], (tokenizer.length,), 2)
    model.load_state_dict(torch.load(run_dir / "best.pt", weights_only=True))
    with torch.no_grad():
        expected = model.eval()(torch.from_numpy(tokenizer.encode(new))).numpy()
    np.testing.assert_allclose(logits, expected, atol=1e-4)

    elsewhere = tmp_path / "elsewhere"  # the data path was relative to where the search ran
    elsewhere.mkdir()
    nasforge("resume", str(run_dir), "--trials", "4", cwd=elsewhere)
    assert "4 trials (4 finished)" in nasforge("show", str(run_dir), "--all", cwd=elsewhere).stdout


def test_regression_search_show_and_resume(tmp_path: Path) -> None:
    config = {"name": "dia", "data": {"builtin": "diabetes"}, "train": {"epochs": 2}, "budget": {"trials": 2}}
    (tmp_path / "dia.yaml").write_text(yaml.safe_dump(config))
    out = nasforge("search", "dia.yaml", cwd=tmp_path).stdout
    assert "validation mse" in out and "mae" in out and "accuracy" not in out
    # a regression metric named in the config (docs/text.md's example) searches, resumes and exports
    by_mae = config | {"name": "dia-mae", "objective": {"metric": "mae"}}
    (tmp_path / "mae.yaml").write_text(yaml.safe_dump(by_mae))
    assert "validation mae" in nasforge("search", "mae.yaml", cwd=tmp_path).stdout
    nasforge("resume", str(tmp_path / "runs" / "dia-mae"), "--trials", "3", cwd=tmp_path)
    assert "3 trials (3 finished)" in nasforge("show", str(tmp_path / "runs" / "dia-mae"), "--all", cwd=tmp_path).stdout
    run_dir = tmp_path / "runs" / "dia"
    best = json.loads((run_dir / "best.json").read_text())
    assert {"mse", "mae", "r2", "loss"} == set(best["test"]) and best["data"]["task"] == "regression"
    assert best["data"]["target"]["std"] > 10  # the target's own units: disease progression, std about 77
    assert best["test"]["mae"] > 10 and best["export"]["onnx_max_abs_diff"] < 1e-3
    shown = nasforge("show", str(run_dir), "--trial", "1", cwd=tmp_path).stdout
    assert "r2" in shown and "accuracy" not in shown
    wrong = config | {"objective": {"metric": "accuracy"}}
    (tmp_path / "wrong.yaml").write_text(yaml.safe_dump(wrong))
    bad = nasforge("search", "wrong.yaml", "--run-dir", "other", cwd=tmp_path, check=False)
    assert bad.returncode == 2 and bad.stderr.startswith("error: objective.metric: accuracy is not a regression")
