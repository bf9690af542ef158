"""Validation metrics, computed in torch: accuracy, macro-F1 and cross-entropy from logits (classification);
MSE, MAE, R2 and the training loss from predictions (regression).

Macro-F1 follows scikit-learn's ``f1_score(average="macro")``: the mean over the classes present in the
targets or the predictions, a class with no true or predicted positives scoring 0. Doing it in torch avoids
a device-to-host copy of every prediction and sklearn's input checks on every trial.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import torch

__all__ = ["classification_metrics", "macro_f1", "regression_metrics"]


def macro_f1(pred: torch.Tensor, target: torch.Tensor, num_classes: int) -> float:
    """Macro-averaged F1 of integer predictions against integer targets."""
    import torch

    k = num_classes
    confusion = torch.bincount(target * k + pred, minlength=k * k).reshape(k, k).double()
    tp = confusion.diagonal()
    predicted, actual = confusion.sum(dim=0), confusion.sum(dim=1)
    denom = predicted + actual
    present = denom > 0
    f1 = torch.where(present, 2 * tp / denom.clamp(min=1), torch.zeros_like(tp))
    return float(f1[present].mean()) if bool(present.any()) else 0.0


def classification_metrics(logits: torch.Tensor, target: torch.Tensor) -> dict[str, float]:
    """``accuracy``, ``f1`` (macro) and ``loss`` (mean cross-entropy, no label smoothing) of ``logits``."""
    from torch.nn import functional as F

    pred = logits.argmax(dim=1)
    return {
        "accuracy": float((pred == target).double().mean()),
        "f1": macro_f1(pred, target, logits.shape[1]),
        "loss": float(F.cross_entropy(logits.float(), target)),
    }


def regression_metrics(pred: torch.Tensor, target: torch.Tensor, scale: float = 1.0) -> dict[str, float]:
    """``mse``, ``mae`` and ``r2`` in the target's own units, and ``loss`` (the MSE the network trains on).

    ``pred`` ``(N, 1)`` and ``target`` ``(N,)`` are standardised targets; ``scale`` is the standard deviation
    that standardised them, so the MSE is multiplied by its square and the MAE by it (R2 does not change).
    R2 is scikit-learn's ``r2_score``: ``1 - SS_res / SS_tot``; for a constant target, 1 if predicted exactly,
    else 0 (NaN, as the other metrics, for a NaN prediction).
    """
    p, t = pred.reshape(-1).double(), target.double()
    error = p - t
    mse = float((error**2).mean())
    total = float(((t - t.mean()) ** 2).sum())
    residual = float((error**2).sum())
    if total > 0 or math.isnan(residual):
        r2 = 1.0 - residual / total if total > 0 else math.nan
    else:
        r2 = 1.0 if residual == 0 else 0.0
    return {"mse": mse * scale**2, "mae": float(error.abs().mean()) * scale, "r2": r2, "loss": mse}
