"""Evaluators: how an architecture gets its score."""

from nasforge.evaluators._base import Evaluation, Evaluator, FinalReport
from nasforge.evaluators._metrics import classification_metrics, macro_f1
from nasforge.evaluators._train import TrainEvaluator
from nasforge.evaluators._trainer import EpochCallback, FitResult, Trainer

__all__ = ["Evaluation", "Evaluator", "FinalReport"]
__all__ += ["EpochCallback", "FitResult", "TrainEvaluator", "Trainer", "classification_metrics", "macro_f1"]

from nasforge.evaluators._tabular import TabularEvaluator  # noqa: E402

__all__ += ["TabularEvaluator"]
