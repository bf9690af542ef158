"""Data: built-in and user datasets, and the seeded splits the search trains and validates on.

The test split of :func:`split` is never seen by the search; only the final report of the winner uses it.
"""

from nasforge.data._builtin import DATASETS, breast_cancer, diabetes, digits, synthetic, wine, word_order
from nasforge.data._dataset import Dataset, InputKind, Task
from nasforge.data._files import load, load_csv, load_npz
from nasforge.data._glyphs import glyphs
from nasforge.data._split import Scaler, SplitRecipe, Splits, TargetScaler, split, split_indices
from nasforge.data._text import Tokenizer

__all__ = [
    "DATASETS",
    "Dataset",
    "InputKind",
    "Scaler",
    "SplitRecipe",
    "Splits",
    "TargetScaler",
    "Task",
    "Tokenizer",
    "breast_cancer",
    "diabetes",
    "digits",
    "glyphs",
    "load",
    "load_csv",
    "load_npz",
    "split",
    "split_indices",
    "synthetic",
    "wine",
    "word_order",
]
