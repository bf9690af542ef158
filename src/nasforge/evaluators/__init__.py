"""Evaluators: how an architecture gets its score."""

from nasforge.evaluators._base import Evaluation, Evaluator

__all__ = ["Evaluation", "Evaluator"]
