"""TrainEvaluator: validation-only scoring, seeded builds, costs, and a final test on train+validation."""

from __future__ import annotations

import math
from collections.abc import Hashable, Sequence
from dataclasses import replace
from typing import Any

import numpy as np
import pytest
import torch
from torch import nn

from nasforge.data import split, synthetic
from nasforge.evaluators import Evaluation, FinalReport, Plan, Trainer, TrainEvaluator
from nasforge.spaces import Decision, SearchSpace


class WidthSpace(SearchSpace):
    """A test-only space: one conv layer whose width is the architecture."""

    name = "width-test"

    @property
    def decisions(self) -> tuple[Decision, ...]:
        return (Decision("width", (4, 8)),)

    def from_decisions(self, values: Sequence[int]) -> Hashable:
        return self.decisions[0].choices[values[0]]

    def to_decisions(self, arch: Hashable) -> tuple[int, ...]:
        return (self.decisions[0].choices.index(arch),)

    def to_string(self, arch: Hashable) -> str:
        return str(arch)

    def from_string(self, text: str) -> Hashable:
        return int(text)

    def build(self, arch: Hashable, input_shape: Sequence[int], num_classes: int) -> nn.Module:
        width = int(arch)  # type: ignore[call-overload]
        return nn.Sequential(
            nn.Conv1d(input_shape[0], width, 5, padding=2),
            nn.ReLU(),
            nn.AdaptiveMaxPool1d(1),
            nn.Flatten(),
            nn.Linear(width, num_classes),
        )

    def config(self) -> dict[str, Any]:
        return {}


@pytest.fixture(scope="module")
def splits():
    return split(synthetic("sequence", n=240, classes=3, seed=1), seed=0)


@pytest.fixture(scope="module")
def evaluator(splits) -> TrainEvaluator:
    return TrainEvaluator(WidthSpace(), splits, Trainer(epochs=5, batch_size=16, lr=1e-2, device="cpu"))


def test_evaluate_reports_validation_metrics_and_costs(evaluator: TrainEvaluator) -> None:
    result = evaluator.evaluate(8, seed=0)
    assert isinstance(result, Evaluation)
    assert set(result.metrics) == {"accuracy", "f1", "loss"}
    assert result.metrics["accuracy"] > 0.5
    params = (1 * 8 * 5 + 8) + (8 * 3 + 3)
    flops = 2 * 8 * 1 * 5 * 64 + 2 * 8 * 3  # conv on 64 positions + linear
    assert result.costs["params"] == params and result.costs["flops"] == flops
    for key in ("build_seconds", "cost_seconds", "train_seconds"):
        assert result.costs[key] >= 0
    assert [p["epoch"] for p in result.curve] == [1, 2, 3, 4, 5]  # the learning curve, on validation data
    assert {k: result.curve[-1][k] for k in result.metrics} == result.metrics  # the last epoch's are the metrics
    assert result.pruned is None and result.costs["epochs"] == 5
    assert evaluator.evaluate("8", seed=0).metrics == result.metrics  # string form works too


def test_costs_before_training_are_those_a_trial_measures(evaluator: TrainEvaluator) -> None:
    known = evaluator.costs_before_training(8, {"params", "flops", "latency_ms"})
    costs = evaluator.evaluate(8, seed=0).costs
    assert known == {"params": costs["params"], "flops": costs["flops"]}  # no latency: this one measures none


def test_same_seed_same_evaluation(evaluator: TrainEvaluator) -> None:
    assert evaluator.evaluate(4, seed=3).metrics == evaluator.evaluate(4, seed=3).metrics
    assert evaluator.evaluate(4, seed=3).metrics != evaluator.evaluate(4, seed=4).metrics


def test_build_is_seeded(evaluator: TrainEvaluator) -> None:
    a, b, c = evaluator.build(8, 1), evaluator.build(8, 1), evaluator.build(8, 2)
    assert all(torch.equal(x, y) for x, y in zip(a.parameters(), b.parameters(), strict=True))
    assert not torch.equal(next(a.parameters()), next(c.parameters()))


def test_search_never_touches_the_test_split(splits) -> None:
    """With a test split full of NaN, every search-time path still gives finite numbers."""
    poisoned = replace(splits, test=(np.full_like(splits.test[0], np.nan), splits.test[1]))
    evaluator = TrainEvaluator(WidthSpace(), poisoned, Trainer(epochs=1, device="cpu"))
    result = evaluator.evaluate(4, seed=0)
    assert all(math.isfinite(v) for v in result.metrics.values())
    public = [v for k, v in vars(evaluator).items() if not k.startswith("_")]
    assert not any(v is poisoned.test or v is poisoned for v in public)
    assert math.isnan(evaluator.final_test(4, seed=0).metrics["loss"])


def test_final_test_retrains_on_train_and_valid(splits, monkeypatch: pytest.MonkeyPatch) -> None:
    trainer = Trainer(epochs=1, time_limit=1e-9, device="cpu")
    evaluator = TrainEvaluator(WidthSpace(), splits, trainer)
    sizes: list[int] = []
    original = Trainer.fit

    def spy(self: Trainer, model: nn.Module, X: Any, y: Any, seed: int, **kwargs: Any):
        sizes.append(len(y))
        assert self.time_limit is None  # the final retraining is never cut short
        return original(self, model, X, y, seed, **kwargs)

    monkeypatch.setattr(Trainer, "fit", spy)
    report = evaluator.final_test(8, seed=0)
    assert isinstance(report, FinalReport) and isinstance(report.model, nn.Module)
    assert sizes == [len(splits.train[1]) + len(splits.valid[1])]
    assert set(report.metrics) == {"accuracy", "f1", "loss"}


def test_an_epoch_rule_sees_validation_metrics_and_can_stop_the_trial(evaluator: TrainEvaluator) -> None:
    seen: list[dict] = []

    def rule(epoch: int, point: dict) -> str | None:
        seen.append(dict(point))
        return "enough" if epoch == 2 else None

    result = evaluator.evaluate(4, seed=0, plan=Plan(rule=rule))
    assert [p["epoch"] for p in seen] == [1, 2] and set(seen[0]) == {"epoch", "accuracy", "f1", "loss"}
    assert result.pruned == "enough" and result.costs["epochs"] == 2 and len(result.curve) == 2
    assert {k: seen[-1][k] for k in result.metrics} == result.metrics  # the metrics of the epoch it reached


def test_what_a_rule_or_a_rung_judges_mid_schedule_is_the_averaged_weights_score(evaluator: TrainEvaluator) -> None:
    def scores(plan: Plan | None) -> list[float]:
        return [point["loss"] for point in evaluator.evaluate(4, seed=0, plan=plan).curve]

    full = scores(None)
    for plan in (Plan(rule=lambda epoch, point: None), Plan(until=5)):
        judged = scores(plan)
        assert all(a != b for a, b in zip(judged[:4], full[:4], strict=True)) and judged[4] == full[4]
    assert scores(Plan(until=2)) == scores(Plan(until=5))[:2]
