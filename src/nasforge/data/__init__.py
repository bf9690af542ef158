"""Data: built-in and user datasets, and the seeded stratified splits the search trains and validates on.

The test split of :func:`split` is never seen by the search; only the final report of the winner uses it.
"""

from nasforge.data._builtin import DATASETS, breast_cancer, digits, synthetic, wine
from nasforge.data._dataset import Dataset, InputKind
from nasforge.data._files import load, load_csv, load_npz
from nasforge.data._glyphs import glyphs
from nasforge.data._split import Scaler, SplitRecipe, Splits, split

__all__ = [
    "DATASETS",
    "Dataset",
    "InputKind",
    "Scaler",
    "SplitRecipe",
    "Splits",
    "breast_cancer",
    "digits",
    "glyphs",
    "load",
    "load_csv",
    "load_npz",
    "split",
    "synthetic",
    "wine",
]
