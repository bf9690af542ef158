"""Zero-cost proxies: their definitions on networks small enough to compute by hand, and that they leave the
trial's network and training untouched."""

from __future__ import annotations

import math
import zlib
from collections.abc import Hashable
from copy import deepcopy

import numpy as np
import pytest
import torch
from torch import nn

from nasforge.budget import Budget
from nasforge.data import split, synthetic
from nasforge.evaluators import Evaluation, Evaluator, FinalReport, Trainer, TrainEvaluator
from nasforge.exceptions import ConfigError, NasforgeError
from nasforge.proxies import PROXIES, Prefilter, check_proxies, compute_proxies
from nasforge.run import Run, derive_seed
from nasforge.spaces import CellSpace, ChainSpace
from nasforge.store import SQLiteStore
from nasforge.strategies import Bananas, RandomSearch


def linear_pair() -> nn.Module:
    torch.manual_seed(0)
    return nn.Sequential(nn.Flatten(), nn.Linear(3, 4, bias=False), nn.ReLU(), nn.Linear(4, 2, bias=False))


def test_synflow_of_a_two_layer_network_is_twice_its_path_sum():
    model = linear_pair()
    w1, w2 = (model[i].weight.detach().abs().double() for i in (1, 3))
    paths = (w2 @ w1 @ torch.ones(3, dtype=torch.float64)).sum()  # every weight lies on paths of both layers
    score = compute_proxies(model, torch.randn(5, 3), torch.tensor([0, 1, 0, 1, 1]), ("synflow",))
    assert score["proxy_synflow"] == pytest.approx(2 * paths.item())


def test_grad_norm_and_snip_match_autograd_by_hand():
    model = linear_pair()
    x, y = torch.randn(5, 3), torch.tensor([0, 1, 0, 1, 1])
    copy = linear_pair()
    nn.functional.cross_entropy(copy(x), y).backward()
    grads = [(p.detach(), p.grad) for p in copy.parameters()]
    scores = compute_proxies(model, x, y, ("grad_norm", "snip"))
    assert scores["proxy_grad_norm"] == pytest.approx(sum(g.norm().item() for _, g in grads))
    assert scores["proxy_snip"] == pytest.approx(sum((w * g).abs().sum().item() for w, g in grads))


def test_gradient_proxies_read_the_layers_weights_only():
    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(3, 4), nn.BatchNorm1d(4), nn.ReLU(), nn.Linear(4, 2))
    x, y = torch.randn(5, 3), torch.tensor([0, 1, 0, 1, 1])
    copy = deepcopy(model)
    nn.functional.cross_entropy(copy(x), y).backward()
    grads = [(copy[i].weight.detach(), copy[i].weight.grad) for i in (0, 3)]  # no bias, no batch-norm affine
    scores = compute_proxies(model, x, y, ("grad_norm", "snip"))
    assert scores["proxy_grad_norm"] == pytest.approx(sum(g.norm().item() for _, g in grads))
    assert scores["proxy_snip"] == pytest.approx(sum((w * g).abs().sum().item() for w, g in grads))


def test_synflow_sums_magnitudes_so_normalisation_cannot_cancel_it():
    torch.manual_seed(1)  # with this draw the signed sum over every parameter was -0.95
    model = nn.Sequential(nn.Linear(3, 6), nn.LayerNorm(6), nn.Tanh(), nn.Linear(6, 2))
    by_hand = deepcopy(model).double().eval()
    with torch.no_grad():
        for tensor in by_hand.state_dict().values():
            tensor.abs_()
    by_hand(torch.ones(1, 3, dtype=torch.float64)).sum().backward()
    expected = sum((by_hand[i].weight * by_hand[i].weight.grad).abs().sum().item() for i in (0, 3))
    score = compute_proxies(model, torch.randn(5, 3), torch.tensor([0, 1, 0, 1, 1]), ("synflow",))
    assert score["proxy_synflow"] == pytest.approx(expected) and expected > 0


def test_nwot_counts_agreeing_activation_codes():
    model = nn.Sequential(nn.Linear(1, 1, bias=False), nn.ReLU())
    with torch.no_grad():
        model[0].weight.fill_(1.0)
    x = torch.tensor([[1.0], [-1.0]])  # codes [1] and [0]: K = [[1, 0], [0, 1]], log det 0
    assert compute_proxies(model, x, torch.tensor([0, 1]), ("nwot",))["proxy_nwot"] == pytest.approx(0.0)
    same = torch.tensor([[1.0], [2.0]])  # identical codes: K singular, log det -inf, stored as NaN
    assert math.isnan(compute_proxies(model, same, torch.tensor([0, 1]), ("nwot",))["proxy_nwot"])


def test_every_proxy_on_chains_leaves_the_network_and_its_training_unchanged():
    splits = split(synthetic("image", n=120, classes=3, seed=0), seed=0)
    space = ChainSpace(input_shape=splits.input_shape)
    arch = space.parse("conv(16,k3,s1,relu,pool)>conv(32,k3,s1,relu)")
    plain = TrainEvaluator(space, splits, Trainer(epochs=1, device="cpu"))
    scored = TrainEvaluator(space, splits, Trainer(epochs=1, device="cpu"), proxies=tuple(PROXIES))
    model = scored.build(arch, seed=3)
    before = {k: v.clone() for k, v in model.state_dict().items()}
    costs = scored.costs(model)
    assert all(torch.equal(before[k], v) for k, v in model.state_dict().items()), "weights and BN stats kept"
    assert all(math.isfinite(costs[f"proxy_{name}"]) for name in PROXIES)
    assert scored.evaluate(arch, seed=3).metrics == plain.evaluate(arch, seed=3).metrics


def test_token_inputs_have_no_input_gradient_for_jacob_cov():
    torch.manual_seed(0)
    model = nn.Sequential(nn.Embedding(10, 4), nn.Flatten(), nn.Linear(12, 32), nn.ReLU(), nn.Linear(32, 2))
    x = torch.randint(1, 10, (6, 3))
    scores = compute_proxies(model, x, torch.randint(0, 2, (6,)), tuple(PROXIES))
    assert math.isnan(scores["proxy_jacob_cov"])
    assert all(math.isfinite(scores[f"proxy_{name}"]) for name in ("grad_norm", "snip", "synflow", "nwot"))


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("nwot", "proxies: must be a list of names among grad_norm, snip, synflow, nwot, jacob_cov, got 'nwot'"),
        (["nwot", "zen"], "proxies: each must be one of grad_norm, snip, synflow, nwot, jacob_cov, got 'zen'"),
    ],
)
def test_bad_names_are_one_line(value, message):
    with pytest.raises(ConfigError) as err:
        check_proxies(value)
    assert str(err.value) == message


class ConvShare(Evaluator):
    """Accuracy = the share of 3x3 convolutions; the 'proxy' is that share too, so a prefilter should find it."""

    def __init__(self) -> None:
        self.proxied = 0

    def evaluate(self, arch: Hashable, seed: int) -> Evaluation:
        share = arch.ops.count("nor_conv_3x3") / len(arch.ops)
        return Evaluation({"accuracy": share, "loss": 1 - share})

    def final_test(self, arch: Hashable, seed: int) -> FinalReport:
        return FinalReport({"accuracy": 0.0})

    def proxy_scores(self, arch: Hashable, seed: int, names: tuple[str, ...]) -> dict[str, float]:
        self.proxied += 1
        value = math.nan if arch.ops[0] == "none" else arch.ops.count("nor_conv_3x3")
        return {f"proxy_{name}": value for name in names}


def test_a_prefilter_trains_the_best_of_its_candidates_by_the_proxy():
    def trained(prefilter: Prefilter | None) -> tuple[list[float], ConvShare]:
        evaluator = ConvShare()
        run = Run(CellSpace(), RandomSearch(), evaluator, SQLiteStore(":memory:"), seed=1, prefilter=prefilter)
        run.optimize(Budget(trials=30))
        return [t.metrics["accuracy"] for t in run.trials], evaluator

    plain, _ = trained(None)
    filtered, evaluator = trained(Prefilter("synflow", candidates=8))
    assert len(filtered) == 30 and evaluator.proxied == 30 * 8
    assert np.mean(filtered) > np.mean(plain) + 0.1, "the best of 8 random cells by conv count: 0.41 vs 0.24"


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ({"proxy": "zen"}, "prefilter.proxy: must be one of grad_norm, snip, synflow, nwot, jacob_cov, got 'zen'"),
        ({"proxy": "nwot", "candidates": 1}, "prefilter.candidates: must be an integer >= 2, got 1"),
        ({"candidates": 4}, "prefilter: give proxy (one of grad_norm, snip, synflow, nwot, jacob_cov) and optionally"),
    ],
)
def test_bad_prefilters_are_one_line(spec, message):
    with pytest.raises(ConfigError, match=message.replace("(", r"\(").replace(")", r"\)")):
        Prefilter.parse(spec)


class Scrambled(Evaluator):
    """Accuracy is a hash of the architecture: no encoding predicts it, but the 'proxy' is that hash."""

    def evaluate(self, arch: Hashable, seed: int) -> Evaluation:
        return Evaluation({"accuracy": self.hashed(arch), "loss": 0.0})

    def final_test(self, arch: Hashable, seed: int) -> FinalReport:
        return FinalReport({"accuracy": 0.0})

    @staticmethod
    def hashed(arch: Hashable) -> float:
        return zlib.crc32(str(arch).encode()) / 2**32

    def proxy_scores(self, arch: Hashable, seed: int, names: tuple[str, ...]) -> dict[str, float]:
        return {f"proxy_{name}": math.nan if arch.ops[0] == "none" else self.hashed(arch) for name in names}


def test_bananas_learns_from_proxies_given_as_features():
    def accuracies(features: tuple[str, ...]) -> list[float]:
        strategy = Bananas(init=10, batch=5, ensemble=3, epochs=100, features=features)
        run = Run(CellSpace(), strategy, Scrambled(), SQLiteStore(":memory:"), seed=3)
        run.optimize(Budget(trials=40))
        return [t.metrics["accuracy"] for t in run.trials][10:]  # after the random initial ones

    blind, informed = accuracies(()), accuracies(("snip",))
    assert np.mean(informed) > np.mean(blind) + 0.15, (np.mean(informed), np.mean(blind))


def test_bananas_features_need_a_run_or_a_describe_function():
    strategy = Bananas(init=2, batch=1, features=["nwot"]).bind(CellSpace(), seed=0)
    for _ in range(2):
        strategy.tell(strategy.ask(), 0.5)
    with pytest.raises(NasforgeError, match=r"features \['nwot'\] need the run to describe architectures"):
        strategy.ask()
    strategy.describe_with(lambda arch: [math.nan])  # unscored everywhere: the feature is 0, the search goes on
    strategy.tell(strategy.ask(), 0.5)


def test_bananas_features_are_checked_and_need_networks():
    with pytest.raises(ConfigError, match=r"strategy.features: each must be one of grad_norm, .*, got 'zen'"):
        Bananas(features=["zen"])
    with pytest.raises(ConfigError, match=r"strategy.features: zero-cost proxies need an evaluator that builds"):
        Run(CellSpace(), Bananas(features=["snip"]), ConvShareNoProxy(), SQLiteStore(":memory:"))


class ConvShareNoProxy(Evaluator):
    def evaluate(self, arch: Hashable, seed: int) -> Evaluation:
        return Evaluation({"accuracy": 0.5})

    def final_test(self, arch: Hashable, seed: int) -> FinalReport:
        return FinalReport({"accuracy": 0.0})


def test_a_real_search_describes_architectures_by_their_proxies():
    splits = split(synthetic("image", n=120, classes=3, seed=0), seed=0)
    space = ChainSpace(input_shape=splits.input_shape)
    strategy = Bananas(init=3, batch=2, ensemble=2, epochs=20, features=("synflow", "nwot"))
    evaluator = TrainEvaluator(space, splits, Trainer(epochs=1, device="cpu"))
    run = Run(space, strategy, evaluator, SQLiteStore(":memory:"), seed=0)
    run.optimize(Budget(trials=6))
    assert run.done == 6
    described = strategy._described
    assert len(described) > 6 and all(v.shape == (2,) for v in described.values())
    arch = next(iter(described))
    again = evaluator.proxy_scores(arch, derive_seed(0, 2), ("synflow", "nwot"))
    raw = np.array([again["proxy_synflow"], again["proxy_nwot"]])
    np.testing.assert_allclose(described[arch], np.sign(raw) * np.log1p(np.abs(raw)))
