"""Evaluators: how an architecture gets its score."""

from nasforge.evaluators._augment import Augment
from nasforge.evaluators._base import Evaluation, Evaluator, FinalReport, Plan
from nasforge.evaluators._metrics import classification_metrics, macro_f1, regression_metrics
from nasforge.evaluators._train import TrainEvaluator
from nasforge.evaluators._trainer import Checkpoint, EpochCallback, FitResult, Trainer, input_defaults

__all__ = ["Augment", "Evaluation", "Evaluator", "FinalReport", "Plan"]
__all__ += ["Checkpoint", "EpochCallback", "FitResult", "TrainEvaluator", "Trainer", "input_defaults"]
__all__ += ["classification_metrics", "macro_f1", "regression_metrics"]

from nasforge.evaluators._tabular import TabularEvaluator  # noqa: E402

__all__ += ["TabularEvaluator"]
