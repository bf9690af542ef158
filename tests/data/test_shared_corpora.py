"""The shared real text corpora (``../shared/datasets``) load as users would point nasforge at them."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from nasforge.data import load, split

SHARED = Path(__file__).resolve().parents[2].parent / "shared" / "datasets"
pytestmark = pytest.mark.skipif(not SHARED.is_dir(), reason=f"the shared datasets are not at {SHARED}")


def test_names_are_character_level_text_and_words_like_nan_stay_names() -> None:
    data = load({"path": str(SHARED / "names_gender.csv"), "text": "name", "target": "gender"})
    assert len(data) == 8003 and data.classes == ("female", "male") and data.input_kind == "text"
    assert {"Nan", "None"} & set(data.X.tolist())  # read as names, not as missing values
    splits = split(data, seed=0)
    assert splits.tokenizer is not None and splits.tokenizer.level == "char" and splits.input_shape[0] <= 15


def test_state_of_the_union_years_split_by_speech() -> None:
    spec = {
        "path": str(SHARED / "sotu_paragraphs.csv.gz"),
        "text": "text",
        "target": "year",
        "task": "regression",
        "group": ["year", "president"],
    }
    data = load(spec)
    assert data.task == "regression" and data.name == "sotu_paragraphs" and len(np.unique(data.groups)) == 233
    splits = split(data, seed=0)
    assert splits.grouped and splits.tokenizer is not None and splits.tokenizer.level == "word"
    assert splits.target is not None and 1790 <= splits.target.mean <= 2021
