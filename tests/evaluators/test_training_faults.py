"""Training faults: recipes that cannot train refused up front, a diverged training never scored, and the CUDA
cache emptied only once an out-of-memory trial's network is gone."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from torch import nn

from nasforge.data import split, synthetic
from nasforge.evaluators import Augment, Trainer, TrainEvaluator
from nasforge.exceptions import ConfigError, TrainingDiverged, TrialFailed
from nasforge.spaces import ChainSpace


@pytest.fixture(scope="module")
def flat_splits():
    return split(synthetic("flat", n=60, classes=3, seed=0), seed=0)


def test_a_batch_of_one_sample_is_refused_as_batch_norm_cannot_train_on_it() -> None:
    # batch_size 1 made every batch but the last one sample: every network with batch norm on flat features failed
    with pytest.raises(ConfigError) as err:
        Trainer(batch_size=1)
    assert str(err.value) == "train.batch_size: must be an integer >= 2, got 1"
    assert Trainer(batch_size=2).batch_size == 2


@pytest.mark.parametrize("noise", [float("inf"), float("nan")])
def test_noise_must_be_finite(noise: float) -> None:
    # infinite noise made every input inf, so every trial diverged instead of the config failing in one line
    with pytest.raises(ConfigError, match=r"^train\.augment\.noise: must be a finite number >= 0, got"):
        Augment(noise=noise)


@pytest.mark.parametrize(
    ("augment", "message"),
    [
        ({"shift": 1}, "train.augment.shift: needs images (C, H, W) or sequences (C, L), not flat features"),
        ({"flip": True}, "train.augment.flip: needs images (C, H, W)"),
    ],
)
def test_augmentation_that_cannot_apply_to_the_data_is_refused_before_any_trial(flat_splits, augment, message) -> None:
    # it used to be raised inside every trial, so a search ran and failed all of them instead of one line up front
    trainer = Trainer(epochs=1, device="cpu", augment=augment)
    with pytest.raises(ConfigError) as err:
        TrainEvaluator(ChainSpace(flat_splits.input_shape), flat_splits, trainer)
    assert str(err.value) == message


def test_weights_made_non_finite_by_the_last_step_are_a_diverged_training(flat_splits) -> None:
    # one batch, one epoch: the training loss (measured before the step) is finite, the step overflows the
    # weights; the validation logits are then inf/NaN, and their argmax used to be reported as an accuracy
    torch.manual_seed(0)
    model = nn.Linear(flat_splits.input_shape[0], 3)
    trainer = Trainer(epochs=1, batch_size=64, optimizer="sgd", lr=3e38, momentum=0.0, device="cpu")
    seen: list[dict[str, float]] = []
    with pytest.raises(TrainingDiverged, match=r"^training diverged at epoch 1: validation loss is nan$"):
        trainer.fit(
            model, *flat_splits.train, seed=0, on_epoch=lambda e, m: seen.append(dict(m)), valid=flat_splits.valid
        )
    assert seen == [], "a diverged epoch is not reported as if it had a score"


class _OutOfMemoryOnTraining(nn.Module):
    """Raises CUDA's out-of-memory error in a training forward pass, as a network too big for the GPU does."""

    def __init__(self, features: int) -> None:
        super().__init__()
        self.linear = nn.Linear(features, 3)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.training:
            raise torch.cuda.OutOfMemoryError("CUDA out of memory (raised by the test)")
        return self.linear(x)


def test_after_an_out_of_memory_error_the_cache_is_emptied_once_the_network_is_gone(flat_splits, monkeypatch) -> None:
    # The cache used to be emptied while the error's traceback still held the training's frames (the network,
    # its gradients, the optimizer's moments), so what they held stayed reserved: the next trial's free-memory
    # check did not see it. No GPU is needed to check the order: the spy notes whether the network still lives.
    import weakref

    space = ChainSpace(flat_splits.input_shape)
    built: list[weakref.ref[nn.Module]] = []

    def build(arch, input_shape, num_classes):
        model = _OutOfMemoryOnTraining(input_shape[0])
        built.append(weakref.ref(model))
        return model

    monkeypatch.setattr(space, "build", build)
    alive_when_emptied: list[bool] = []
    monkeypatch.setattr(torch.cuda, "empty_cache", lambda: alive_when_emptied.append(built[-1]() is not None))
    evaluator = TrainEvaluator(space, flat_splits, Trainer(epochs=1, device="cpu"))
    with pytest.raises(TrialFailed, match=r"^OutOfMemoryError: CUDA out of memory"):
        evaluator.evaluate(space.sample(np.random.default_rng(0)), seed=0)
    assert alive_when_emptied == [False]
