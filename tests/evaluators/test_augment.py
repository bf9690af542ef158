"""Augmentation on tensors: what a shift, flip and noise do to a batch, their seeding, and the config's errors."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from nasforge.evaluators import Augment, Trainer
from nasforge.evaluators._augment import _shifted
from nasforge.exceptions import ConfigError


def test_a_shift_moves_each_sample_by_its_own_offset_and_fills_with_zeros() -> None:
    x = torch.arange(1, 2 * 3 * 4 + 1, dtype=torch.float32).view(2, 1, 3, 4)
    out = _shifted(x, 1, torch.tensor([[1, 0], [0, -1]]))
    assert torch.equal(out[0, 0, :2], x[0, 0, 1:]) and not out[0, 0, 2].any(), "rows read one further down"
    assert torch.equal(out[1, 0, :, 1:], x[1, 0, :, :3]) and not out[1, 0, :, 0].any(), "columns one to the left"
    seq = torch.arange(1, 6, dtype=torch.float32).view(1, 1, 5)
    assert _shifted(seq, 2, torch.tensor([[-2]])).flatten().tolist() == [0, 0, 1, 2, 3]


def test_draws_come_from_the_generator_and_cover_every_offset() -> None:
    x = torch.randn(256, 1, 8, 8)
    augment = Augment(shift=1, flip=True, noise=0.1)
    first = augment(x, torch.Generator().manual_seed(3))
    assert torch.equal(first, augment(x, torch.Generator().manual_seed(3)))
    assert not torch.equal(first, augment(x, torch.Generator().manual_seed(4)))
    impulse = torch.zeros(512, 1, 7)  # a sequence: one spatial axis
    impulse[..., 3] = 1.0
    moved = Augment(shift=2)(impulse, torch.Generator().manual_seed(0)).flatten(1).argmax(dim=1)
    assert set(moved.tolist()) == {1, 2, 3, 4, 5}, "offsets -2..2 all occur"


def test_a_flip_mirrors_about_half_the_images_and_nothing_else() -> None:
    x = torch.randn(400, 2, 5, 5)
    out = Augment(flip=True)(x, torch.Generator().manual_seed(0))
    mirrored = (out == x.flip(-1)).flatten(1).all(dim=1)
    kept = (out == x).flatten(1).all(dim=1)
    assert bool((mirrored | kept).all()) and 150 < int(mirrored.sum()) < 250


def test_noise_has_the_standard_deviation_asked_for() -> None:
    x = torch.zeros(100, 1, 1000)
    out = Augment(noise=0.05)(x, torch.Generator().manual_seed(0))
    assert abs(out.std().item() - 0.05) < 0.002


def test_training_with_augmentation_is_seeded_and_differs_from_training_without() -> None:
    torch.manual_seed(0)
    X, y = torch.randn(96, 1, 8, 8), torch.randint(0, 3, (96,))

    def weights(trainer: Trainer) -> torch.Tensor:
        torch.manual_seed(1)
        model = nn.Sequential(nn.Conv2d(1, 4, 3), nn.ReLU(), nn.Flatten(), nn.Linear(144, 3))
        trainer.fit(model, X, y, seed=5)
        return torch.cat([p.detach().flatten() for p in model.parameters()])

    augmented = Trainer(epochs=2, device="cpu", augment={"shift": 1, "noise": 0.1})
    assert torch.equal(weights(augmented), weights(augmented))
    assert not torch.equal(weights(augmented), weights(Trainer(epochs=2, device="cpu")))


def test_the_recipe_round_trips_through_its_config() -> None:
    trainer = Trainer(augment={"shift": 2, "flip": True})
    assert trainer.config()["augment"] == {"shift": 2, "flip": True, "noise": 0.0}
    assert Trainer(**trainer.config()) == trainer
    assert Trainer(augment=False).augment == Augment() and not Augment().active


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ({"shfit": 1}, "train.augment: unknown key 'shfit'; allowed: shift, flip, noise"),
        ({"shift": -1}, "train.augment.shift: must be an integer >= 0, got -1"),
        ({"shift": 1.5}, "train.augment.shift: must be an integer >= 0, got 1.5"),
        ({"flip": "yes"}, "train.augment.flip: must be true or false, got 'yes'"),
        ({"noise": -0.1}, "train.augment.noise: must be a finite number >= 0, got -0.1"),
        ("shift", "train.augment: must be a mapping of shift, flip, noise, or false; got 'shift'"),
    ],
)
def test_config_errors(spec: object, message: str) -> None:
    with pytest.raises(ConfigError) as err:
        Trainer(augment=spec)  # type: ignore[arg-type]
    assert str(err.value) == message


@pytest.mark.parametrize(
    ("X", "spec", "message"),
    [
        (torch.randint(1, 9, (8, 6)), {"noise": 0.1}, "train.augment: token ids cannot be shifted, flipped or noised"),
        (torch.randn(8, 6), {"shift": 1}, "train.augment.shift: needs images (C, H, W) or sequences (C, L)"),
        (torch.randn(8, 1, 6), {"flip": True}, "train.augment.flip: needs images (C, H, W)"),
    ],
)
def test_inputs_the_changes_do_not_apply_to_are_refused(X: torch.Tensor, spec: dict, message: str) -> None:
    model = nn.Sequential(nn.Flatten(), nn.LazyLinear(2))
    with pytest.raises(ConfigError, match=message.replace("(", r"\(").replace(")", r"\)")):
        Trainer(epochs=1, device="cpu", augment=spec).fit(model, X, torch.randint(0, 2, (8,)), seed=0)
