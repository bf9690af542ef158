"""Trainer: learns, is reproducible by seed, stops on time limits, detects divergence, validates its config."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest
import torch
from sklearn.metrics import f1_score
from torch import nn

from nasforge.config import check_params
from nasforge.data import split, synthetic
from nasforge.evaluators import Trainer, macro_f1
from nasforge.evaluators._trainer import _batch_bounds
from nasforge.exceptions import ConfigError, TrainingDiverged, TrialInterrupted, TrialTimeout


def conv1d_net(channels: int = 1, classes: int = 3) -> nn.Module:
    return nn.Sequential(
        nn.Conv1d(channels, 16, 5, padding=2),
        nn.BatchNorm1d(16),
        nn.ReLU(),
        nn.AdaptiveMaxPool1d(1),
        nn.Flatten(),
        nn.Linear(16, classes),
    )


@pytest.fixture(scope="module")
def seq_splits():
    return split(synthetic("sequence", n=300, classes=3, seed=0), seed=0)


def test_learns_the_synthetic_sequence_task(seq_splits) -> None:
    torch.manual_seed(0)
    model = conv1d_net()
    trainer = Trainer(epochs=6, batch_size=16, lr=1e-2, device="cpu")
    result = trainer.fit(model, *seq_splits.train, seed=0)
    assert result.epochs == 6 and result.losses[-1] < result.losses[0]
    metrics = trainer.evaluate(model, *seq_splits.valid)
    assert set(metrics) == {"accuracy", "f1", "loss"}
    assert metrics["accuracy"] > 0.8  # chance is 1/3


def _trained(seq_splits, seed: int) -> tuple[dict[str, float], list[torch.Tensor]]:
    torch.manual_seed(123)
    model = conv1d_net()
    trainer = Trainer(epochs=1, batch_size=32, device="cpu")
    trainer.fit(model, *seq_splits.train, seed=seed)
    return trainer.evaluate(model, *seq_splits.valid), [p.detach().clone() for p in model.parameters()]


def test_same_seed_gives_identical_results(seq_splits) -> None:
    (m1, w1), (m2, w2), (_, w3) = (_trained(seq_splits, s) for s in (7, 7, 8))
    assert m1 == m2
    assert all(torch.equal(a, b) for a, b in zip(w1, w2, strict=True))
    assert not all(torch.equal(a, b) for a, b in zip(w1, w3, strict=True))


def test_fit_leaves_the_global_rng_alone(seq_splits) -> None:
    model = nn.Sequential(nn.Flatten(), nn.Dropout(0.5), nn.Linear(64, 3))
    torch.manual_seed(0)
    expected = torch.rand(3)
    torch.manual_seed(0)
    Trainer(epochs=1, device="cpu").fit(model, *seq_splits.train, seed=1)
    assert torch.equal(torch.rand(3), expected)


def test_time_limit_raises_trial_timeout(seq_splits) -> None:
    trainer = Trainer(epochs=50, batch_size=8, time_limit=1e-3, device="cpu")
    with pytest.raises(TrialTimeout, match=r"^trial exceeded its time limit of 0\.001 s \(epoch 1/50\)$"):
        trainer.fit(conv1d_net(), *seq_splits.train, seed=0)


def test_the_search_budget_running_out_interrupts_rather_than_fails(seq_splits) -> None:
    trainer = Trainer(epochs=50, batch_size=8, time_limit=60, device="cpu")
    with pytest.raises(TrialInterrupted, match=r"^the search's time budget ran out during epoch 1/50$"):
        trainer.fit(conv1d_net(), *seq_splits.train, seed=0, seconds=1e-3)


def test_non_finite_loss_raises_training_diverged(seq_splits) -> None:
    model = nn.Sequential(nn.Flatten(), nn.Linear(64, 3))
    with torch.no_grad():
        model[1].weight.fill_(float("nan"))
    with pytest.raises(TrainingDiverged, match=r"^training diverged at epoch 1: loss is nan$"):
        Trainer(epochs=2, device="cpu").fit(model, *seq_splits.train, seed=0)


def test_on_epoch_sees_validation_metrics_and_can_stop(seq_splits) -> None:
    seen: list[tuple[int, dict[str, float]]] = []

    def on_epoch(epoch: int, metrics) -> bool:
        seen.append((epoch, dict(metrics)))
        return epoch == 2

    result = Trainer(epochs=5, device="cpu").fit(
        conv1d_net(), *seq_splits.train, seed=0, on_epoch=on_epoch, valid=seq_splits.valid
    )
    assert result.stopped and result.epochs == 2 and [e for e, _ in seen] == [1, 2]
    assert {"loss", "lr", "seconds", "valid_accuracy", "valid_f1", "valid_loss"} <= set(seen[0][1])


@pytest.mark.parametrize("schedule", ["cosine", "constant"])
def test_schedules(seq_splits, schedule: str) -> None:
    lrs: list[float] = []
    Trainer(epochs=3, lr=0.01, schedule=schedule, device="cpu").fit(
        conv1d_net(), *seq_splits.train, seed=0, on_epoch=lambda e, m: lrs.append(m["lr"])
    )
    if schedule == "constant":
        assert lrs == [0.01] * 3
    else:
        assert 0.01 > lrs[0] > lrs[1] > lrs[2] and lrs[2] < 0.001


@pytest.mark.parametrize("optimizer", ["sgd", "adamw"])
def test_other_optimizers_train(seq_splits, optimizer: str) -> None:
    trainer = Trainer(
        epochs=1,
        optimizer=optimizer,
        lr=0.05 if optimizer == "sgd" else 3e-3,
        weight_decay=1e-4,
        label_smoothing=0.1,
        device="cpu",
    )
    result = trainer.fit(conv1d_net(), *seq_splits.train, seed=0)
    assert np.isfinite(result.losses[0])


def test_a_last_batch_of_one_joins_the_previous_one() -> None:
    assert _batch_bounds(65, 64) == [(0, 65)]
    assert _batch_bounds(129, 64) == [(0, 64), (64, 129)]
    assert _batch_bounds(130, 64) == [(0, 64), (64, 128), (128, 130)]
    assert _batch_bounds(10, 64) == [(0, 10)]
    X, y = np.random.default_rng(0).normal(size=(65, 1, 8)), np.arange(65) % 3
    Trainer(epochs=1, device="cpu").fit(conv1d_net(), X, y, seed=0)  # batch norm would fail on a batch of 1


def test_evaluate_batches_and_restores_nothing_it_should_not(seq_splits) -> None:
    model = conv1d_net()
    before = [p.clone() for p in model.parameters()]
    Trainer(device="cpu").evaluate(model, *seq_splits.valid)
    assert not model.training
    assert all(torch.equal(a, b) for a, b in zip(before, model.parameters(), strict=True))


def test_macro_f1_matches_sklearn() -> None:
    rng = np.random.default_rng(0)
    for _ in range(5):
        target, pred = rng.integers(0, 5, 50), rng.integers(0, 4, 50)
        ours = macro_f1(torch.from_numpy(pred), torch.from_numpy(target), 6)
        assert ours == pytest.approx(f1_score(target, pred, average="macro"))


def test_threads_are_set(seq_splits) -> None:
    Trainer(epochs=1, threads=1, device="cpu").fit(conv1d_net(), *seq_splits.valid, seed=0)
    assert torch.get_num_threads() == 1


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"epochs": 0}, "train.epochs: must be an integer >= 1, got 0"),
        ({"batch_size": 2.5}, "train.batch_size: must be an integer >= 2, got 2.5"),
        ({"optimizer": "adm"}, "train.optimizer: must be one of adam, adamw, sgd, got 'adm'"),
        ({"schedule": "step"}, "train.schedule: must be one of cosine, constant, got 'step'"),
        ({"lr": 0}, "train.lr: must be a number in (0, inf), got 0"),
        ({"momentum": 1.0}, "train.momentum: must be a number in [0, 1), got 1.0"),
        ({"label_smoothing": -0.1}, "train.label_smoothing: must be a number in [0, 1), got -0.1"),
        ({"time_limit": 0}, "train.time_limit: must be a number in (0, inf), got 0"),
        ({"threads": True}, "train.threads: must be an integer >= 1, got True"),
        ({"device": "gpu"}, "train.device: must be 'auto', 'cpu', 'cuda' or 'cuda:N', got 'gpu'"),
    ],
)
def test_config_errors(kwargs: dict[str, object], message: str) -> None:
    with pytest.raises(ConfigError) as err:
        Trainer(**kwargs)  # type: ignore[arg-type]
    assert str(err.value) == message


def test_config_round_trips() -> None:
    trainer = Trainer(epochs=3, optimizer="sgd", time_limit=5.0)
    assert Trainer(**trainer.config()) == trainer


def test_unknown_config_keys() -> None:
    with pytest.raises(ConfigError, match=r"^train.epoch: unknown parameter; did you mean 'epochs'\?"):
        check_params("train", Trainer, {"epoch": 3})
    with pytest.raises(ConfigError, match=r"^train.zzz: unknown parameter \(allowed: epochs, batch_size,"):
        check_params("train", Trainer, {"zzz": 3})


def test_device_resolution() -> None:
    from nasforge.device import resolve_device

    assert resolve_device("cpu") == torch.device("cpu")
    assert resolve_device("auto").type == ("cuda" if torch.cuda.is_available() else "cpu")
    with pytest.raises(ConfigError, match=r"^train\.device: must be 'auto', 'cpu', 'cuda' or 'cuda:N', got 'cuda:x'$"):
        resolve_device("cuda:x", "train.device")
    if not torch.cuda.is_available():
        with pytest.raises(ConfigError, match=r"^device: 'cuda:0' asked for, but this torch has no CUDA device"):
            resolve_device("cuda:0")


def _dropout_net() -> nn.Module:
    torch.manual_seed(5)
    return nn.Sequential(conv1d_net(), nn.Dropout(0.3), nn.Linear(3, 3))  # dropout: the global RNG matters too


@pytest.mark.parametrize("optimizer", ["adam", "sgd"])
def test_training_on_from_a_checkpoint_equals_training_straight_through(seq_splits, optimizer: str) -> None:
    trainer = Trainer(epochs=5, batch_size=32, optimizer=optimizer, device="cpu")
    straight = _dropout_net()
    trainer.fit(straight, *seq_splits.train, seed=3)

    first = _dropout_net()
    part = trainer.fit(first, *seq_splits.train, seed=3, until=2, keep=True)
    assert part.epochs == 2 and len(part.losses) == 2 and part.checkpoint.epoch == 2
    second = _dropout_net()  # a fresh module, as on another worker: the checkpoint carries the weights
    rest = trainer.fit(second, *seq_splits.train, seed=3, start=part.checkpoint)
    assert rest.epochs == 5 and len(rest.losses) == 3
    for a, b in zip(straight.state_dict().values(), second.state_dict().values(), strict=True):
        assert torch.equal(a, b)


def test_until_lays_the_schedule_over_all_epochs(seq_splits) -> None:
    seen: list[float] = []
    trainer = Trainer(epochs=4, batch_size=32, device="cpu")
    trainer.fit(conv1d_net(), *seq_splits.train, seed=0, until=2, on_epoch=lambda e, m: seen.append(m["lr"]))
    assert len(seen) == 2 and 0.5 * trainer.lr < seen[-1] < 0.6 * trainer.lr  # about halfway down the cosine
    with pytest.raises(ValueError, match="cannot train from epoch 0 until 5 of 4"):
        trainer.fit(conv1d_net(), *seq_splits.train, seed=0, until=5)


def _scores(trainer: Trainer, seq_splits, model: nn.Module, **kwargs) -> list[float]:
    """Each epoch's validation loss under ``fit(**kwargs)``."""
    seen: list[float] = []
    trainer.fit(
        model,
        *seq_splits.train,
        seed=3,
        valid=seq_splits.valid,
        on_epoch=lambda e, m: seen.append(m["valid_loss"]),
        **kwargs,
    )
    return seen


def test_averaged_scores_change_the_epochs_before_the_last_and_not_the_training(seq_splits) -> None:
    trainer = Trainer(epochs=4, batch_size=32, device="cpu")
    plain, averaged = _dropout_net(), _dropout_net()
    raw = _scores(trainer, seq_splits, plain)
    mean = _scores(trainer, seq_splits, averaged, average=True)
    assert all(a != b for a, b in zip(raw[:3], mean[:3], strict=True))  # scored on the average mid-schedule
    assert raw[3] == mean[3]  # the full training is scored on its own weights
    for a, b in zip(plain.state_dict().values(), averaged.state_dict().values(), strict=True):
        assert torch.equal(a, b)


def test_with_one_step_an_epoch_the_average_is_the_weights_themselves(seq_splits) -> None:
    trainer = Trainer(epochs=3, batch_size=len(seq_splits.train[1]), device="cpu")  # decay 1 - 1/1 = 0
    assert _scores(trainer, seq_splits, _dropout_net(), average=True) == _scores(trainer, seq_splits, _dropout_net())


def test_the_average_travels_in_the_checkpoint(seq_splits) -> None:
    trainer = Trainer(epochs=5, batch_size=32, device="cpu")
    straight = _scores(trainer, seq_splits, _dropout_net(), until=4, average=True)
    part = trainer.fit(_dropout_net(), *seq_splits.train, seed=3, until=2, keep=True, average=True)
    assert part.checkpoint.average is not None
    rest = _scores(trainer, seq_splits, _dropout_net(), start=part.checkpoint, until=4, average=True)
    assert rest == straight[2:]  # an average restarted at epoch 2 would score epochs 3 and 4 otherwise
    restarted = replace(part.checkpoint, average=None)
    assert _scores(trainer, seq_splits, _dropout_net(), start=restarted, until=4, average=True) != straight[2:]
