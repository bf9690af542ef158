"""The benchmark scripts behind docs/benchmarks.md compare what they say they compare: the same protocol on both
sides of a comparison, and printed figures computed from the right trials. Tiny data and budgets."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest

from nasforge.exceptions import ConfigError
from nasforge.trial import Trial, TrialState

BENCHMARKS = Path(__file__).resolve().parents[1] / "benchmarks"
sys.path.insert(0, str(BENCHMARKS))

FLAT = {"builtin": "synthetic", "kind": "flat", "n": 90, "classes": 3, "noise": 0.1, "seed": 0}


def test_tie_break_leaves_out_reranking_repeats(tmp_path):
    # Three trials tie at the top; the third is a re-ranking repeat of the first, which trains its architecture
    # again and is no tied search result of its own: two leaders, each retrained and tested once.
    from nasforge.api import STORE_FILE
    from nasforge.store import SQLiteStore
    from tie_break import tied_leaders_tested

    store = SQLiteStore(tmp_path / STORE_FILE)
    space = {"type": "chain", "depth": 1, "widths": [16, 32]}
    store.set_meta("config", {"name": "ties", "seed": 0, "data": FLAT, "space": space, "train": {"epochs": 1}})
    for arch, repeat_of in (("dense(16,relu)", None), ("dense(32,relu)", None), ("dense(16,relu)", 1)):
        made = store.create_trial(arch, seed=7, repeat_of=repeat_of)
        store.finish_trial(made.id, 1.0, {"accuracy": 1.0, "loss": 0.1}, {"flops": 100.0})
    store.close()
    tested = tied_leaders_tested(tmp_path)
    assert sorted(trial.id for trial, _ in tested) == [1, 2]


def trial(id: int, elapsed: float) -> Trial:
    costs = {"build_seconds": 0.1, "cost_seconds": 0.1, "train_seconds": 1.0}
    return Trial(id, "a", TrialState.FINISHED, 0, costs=costs, elapsed=elapsed)


def test_nasforge_seconds_per_trial_is_the_search_clock_over_trials():
    # Three trials ended by 7.5 s; a fourth was cut when the 10 s budget ran out: side B's seconds per trial
    # is its search's wall-clock over its trials, so nasforge's must count those last 2.5 s too.
    from vs_optuna import nasforge_timing

    per_trial, breakdown = nasforge_timing([trial(1, 2.5), trial(2, 5.0), trial(3, 7.5)], 10.0, 14.0)
    assert per_trial == pytest.approx(10.0 / 3)
    assert breakdown["store+strategy"] == pytest.approx(7.5 / 3 - 1.2)
    assert breakdown["start+retrain+test+export (once)"] == pytest.approx(4.0)


def test_optuna_side_retrains_its_winner_as_nasforge_does():
    # nasforge's test figure is the mean over final.seeds retrainings; side B's must be over as many.
    pytest.importorskip("optuna")
    from vs_optuna import optuna_side

    side = optuna_side("flat", FLAT, 0, 0.5, extra={"final": {"seeds": 2}})
    assert side.final_seeds == 2
    assert 0.0 <= side.test_accuracy <= 1.0
    assert side.architectures == side.trials


def test_optuna_side_trains_on_the_device_nasforge_is_given():
    pytest.importorskip("optuna")
    import torch

    from vs_optuna import optuna_side

    if torch.cuda.is_available():
        pytest.skip("asks for CUDA where there is none")
    with pytest.raises(ConfigError, match=r"train\.device"):
        optuna_side("flat", FLAT, 0, 0.5, extra={"train": {"device": "cuda"}})


def test_optuna_side_can_train_with_nasforges_schedule():
    # --optuna-recipe nasforge: the default trainer's cosine from its lr to 0, per batch; plain stays 3e-3.
    from nasforge.evaluators import Trainer
    from vs_optuna import learning_rate

    assert learning_rate("nasforge", 0, 80) == pytest.approx(Trainer().lr)
    assert learning_rate("nasforge", 40, 80) == pytest.approx(Trainer().lr / 2)
    assert learning_rate("nasforge", 79, 80) < 1e-4
    assert {learning_rate("plain", step, 80) for step in (0, 40, 79)} == {3e-3}


def test_curve_overhead_times_trials_that_differ_only_in_validating_every_epoch():
    """Both sides build, measure the costs and train the same way; the curve side validates after each of the
    2 epochs, the other once at the end. One untimed trial of each warms up first, then they take turns going
    first (the first trial run pays the warm-up, and the second of a pair may find the first's caches warm)."""
    from dataclasses import dataclass, field

    from curve_overhead import compare
    from nasforge.api import make_space
    from nasforge.data import split, synthetic
    from nasforge.evaluators import Trainer, TrainEvaluator

    @dataclass(frozen=True)
    class Logged(Trainer):
        log: list[str] = field(default_factory=list, compare=False)

        def fit(self, model, X, y, seed, **options):
            self.log.append("fit, validating" if options.get("valid") is not None else "fit")
            return super().fit(model, X, y, seed, **options)

        def evaluate(self, model, X, y, target_scale=1.0):
            self.log.append("validate")
            return super().evaluate(model, X, y, target_scale)

    class CostsLogged(TrainEvaluator):
        def costs(self, model):
            self.trainer.log.append("costs")
            return super().costs(model)

    splits = split(synthetic("flat", n=90, classes=3, noise=0.1), seed=0)
    space = make_space("chain", splits.input_shape)
    trainer = Logged(epochs=2, device="cpu")
    evaluator = CostsLogged(space, splits, trainer)
    rng = np.random.default_rng(0)
    compare(evaluator, [space.sample(rng) for _ in range(3)])
    curve, once = ["costs", "fit, validating", "validate", "validate"], ["costs", "fit", "validate"]
    warm_up = curve + once
    assert trainer.log == warm_up + curve + once + once + curve + curve + once


def test_curve_overhead_with_average_differs_only_in_averaging():
    # --average: both sides validate every epoch; one scores the epochs before the last on averaged weights,
    # the last on the weights themselves, so both end on the same accuracy (compare checks it, or exits).
    from dataclasses import dataclass, field

    from curve_overhead import compare
    from nasforge.api import make_space
    from nasforge.data import split, synthetic
    from nasforge.evaluators import Trainer, TrainEvaluator

    @dataclass(frozen=True)
    class Logged(Trainer):
        log: list[tuple[bool, bool]] = field(default_factory=list, compare=False)

        def fit(self, model, X, y, seed, **options):
            self.log.append((options.get("valid") is not None, options.get("average", False)))
            return super().fit(model, X, y, seed, **options)

    splits = split(synthetic("flat", n=90, classes=3, noise=0.1), seed=0)
    space = make_space("chain", splits.input_shape)
    trainer = Logged(epochs=3, device="cpu")
    rng = np.random.default_rng(0)
    averaged, plain = compare(
        TrainEvaluator(space, splits, trainer), [space.sample(rng) for _ in range(2)], ("averaged", "curve")
    )
    assert averaged > 0 and plain > 0
    a, c = (True, True), (True, False)
    assert trainer.log == [a, c, a, c, c, a]


def test_checkpoint_overhead_times_a_round_trip_through_the_file_and_leaves_none(tmp_path):
    from checkpoint_overhead import hold_and_take
    from nasforge.fidelity import CheckpointShelf

    trial = Trial(id=1, arch="a", state=TrialState.FINISHED, seed=0)
    hold, take = hold_and_take(CheckpointShelf(tmp_path / "shelf"), trial, {"epoch": 1})
    assert hold > 0 and take > 0 and not list((tmp_path / "shelf").iterdir())
    (tmp_path / "blocked").write_text("a file where the directory should be")
    with pytest.warns(RuntimeWarning), pytest.raises(SystemExit, match="did not come back"):
        hold_and_take(CheckpointShelf(tmp_path / "blocked"), trial, {"epoch": 1})  # timing nothing is refused
