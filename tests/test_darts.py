"""DARTS on the cell space: the supernet, the bilevel gradients, the derivation rule, each remedy's own step, and
a tiny search end to end through the runner, the store, the final retraining and the report."""

from __future__ import annotations

import json
import re
from dataclasses import replace

import pytest
import torch
from torch.nn import functional as F

import nasforge as nf
from nasforge.budget import Budget
from nasforge.evaluators import Evaluator, FinalReport
from nasforge.exceptions import ConfigError
from nasforge.oneshot import Darts, EpochRecord, OneShot, SupernetData, free_ops
from nasforge.oneshot._supernet import SearchCell
from nasforge.run import Run
from nasforge.spaces import CellSpace
from nasforge.store import SQLiteStore

OPS = CellSpace().ops  # none, skip_connect, nor_conv_1x1, nor_conv_3x3, avg_pool_3x3


def small() -> CellSpace:
    return CellSpace(stem_channels=4, stages=2, cells_per_stage=1)


def data(n: int = 96, seed: int = 0) -> SupernetData:
    g = torch.Generator().manual_seed(seed)
    x, y = torch.randn(n, 1, 8, 8, generator=g), torch.randint(0, 3, (n,), generator=g)
    return SupernetData((x, y), (x.flip(0), y.flip(0)), (1, 8, 8), 3, 32, torch.device("cpu"))


def started(remedy: str = "none", epochs: int | str = 4, **kwargs) -> Darts:
    darts = Darts(remedy=remedy, epochs=epochs, **kwargs).bind(small(), seed=0)
    darts.start(data())
    return darts


def test_the_supernet_maps_a_batch_to_class_scores_and_both_parameter_sets_get_gradients():
    darts = started()
    x, y = data().train
    out = darts.model(x[:5], *darts.mixture())
    assert out.shape == (5, 3)
    F.cross_entropy(out, y[:5]).backward()
    assert darts.alpha.grad is not None and darts.alpha.grad.abs().sum() > 0
    grads = [p.grad for p in darts.model.parameters() if p.requires_grad]
    assert all(g is not None for g in grads) and sum(g.abs().sum() for g in grads) > 0
    assert not any(p is darts.alpha for p in darts.model.parameters()), "alpha is passed in, not owned"


def test_the_supernet_trains_with_the_trainers_threads():
    """Not torch's default of every core: two searches side by side would oversubscribe the machine."""
    before = torch.get_num_threads()
    try:
        torch.set_num_threads(2)
        Darts(epochs=1).bind(small(), seed=0).start(replace(data(), threads=1))
        assert torch.get_num_threads() == 1
    finally:
        torch.set_num_threads(before)


def test_the_derivation_takes_the_largest_weight_on_every_edge_none_included():
    darts = started()
    with torch.no_grad():
        darts.alpha.zero_()
        for edge, op in enumerate(["nor_conv_3x3", "none", "skip_connect", "avg_pool_3x3", "none", "nor_conv_1x1"]):
            darts.alpha[edge, OPS.index(op)] = 2.0
    assert str(darts.derive()) == "|nor_conv_3x3~0|+|none~0|skip_connect~1|+|avg_pool_3x3~0|none~1|nor_conv_1x1~2|"
    assert free_ops(darts.derive().ops) == 2  # a skip and a pool; none edges are absent, not free


def test_gdas_samples_one_op_per_edge_and_still_trains_alpha():
    darts = started("gdas")
    weights, index, skip = darts.mixture()
    assert len(index) == 6 and skip == 0.0
    assert torch.allclose(weights.detach(), F.one_hot(torch.tensor(index), 5).float())  # hard forward
    x, y = data().train
    F.cross_entropy(darts.model(x[:8], weights, index), y[:8]).backward()
    assert darts.alpha.grad.abs().sum() > 0, "the straight-through estimator carries the gradient"
    draws = {tuple(darts.mixture()[1]) for _ in range(20)}
    assert len(draws) > 1, "Gumbel noise: the sampled cells differ"


def test_gdas_anneals_its_temperature_linearly_over_the_planned_epochs():
    darts = started("gdas", epochs=5)
    temperatures = []
    for done in range(5):
        darts.done_epochs = done
        temperatures.append(darts.temperature)
    assert temperatures == pytest.approx([10.0, 7.525, 5.05, 2.575, 0.1])  # GDAS's tau_max - (max - min) * e / (E - 1)


def test_drnas_draws_dirichlet_mixtures_around_their_mean():
    darts = started("drnas")
    a, b = darts.mixture()[0], darts.mixture()[0]
    assert torch.allclose(a.sum(dim=1), torch.ones(6)) and not torch.allclose(a, b)
    a.sum().backward()  # reparameterised: the draw is differentiable in alpha
    assert darts.alpha.grad is not None
    mean = darts.mixture(training=False)[0]
    concentration = F.elu(darts.alpha) + 1
    assert torch.allclose(mean, concentration / concentration.sum(dim=1, keepdim=True))
    assert float(darts._arch_penalty().detach()) > 0


def test_darts_minus_adds_a_skip_on_every_edge_that_decays_to_zero():
    darts = started("darts_minus")
    assert darts.mixture()[2] == 1.0
    darts.done_epochs = 3  # the last of 4 planned epochs
    assert darts.mixture()[2] == 0.0
    cell = SearchCell(CellSpace(), channels=2)
    only_none = F.one_hot(torch.zeros(6, dtype=torch.long), 5).float()
    x = torch.randn(1, 2, 3, 3)
    # every edge contributes only its skip: node1 = x, node2 = x + node1, node3 = x + node1 + node2 = 4x
    assert torch.allclose(cell(x, only_none, skip=1.0), 4 * x)
    assert torch.allclose(cell(x, only_none, skip=0.0), torch.zeros_like(x))


def test_second_order_matches_the_exact_unrolled_gradient():
    """With a small finite-difference radius (in float64) the approximation converges to the exact gradient of
    the validation loss after one SGD step, which differs from the first-order gradient."""
    darts = started(order="second", hvp_radius=1e-5)
    darts.model.double()
    darts.alpha = darts.alpha.detach().double().requires_grad_(True)
    darts.weight_opt.param_groups[0]["lr"] = 0.5  # a long virtual step, so that the Hessian term is large
    darts.model.eval()  # batch statistics would differ between the passes; the identity holds per function
    (xt, yt), (xv, yv) = data().train, data().valid
    xt, yt, xv, yv = xt[:16].double(), yt[:16], xv[:16].double(), yv[:16]
    darts._unrolled_gradient(xv, yv, xt, yt)
    approximate = darts.alpha.grad.clone()

    from torch.func import functional_call

    names = [n for n, _ in darts.model.named_parameters()]
    params = [p for _, p in darts.model.named_parameters()]
    xi = darts.weight_opt.param_groups[0]["lr"]
    train_loss = F.cross_entropy(darts.model(xt, *darts.mixture()), yt)
    grads = torch.autograd.grad(train_loss, params, create_graph=True)
    unrolled = {n: p - xi * (g + darts.weight_decay * p) for n, p, g in zip(names, params, grads, strict=True)}
    out = functional_call(darts.model, {**unrolled, **dict(darts.model.named_buffers())}, (xv, *darts.mixture()))
    exact = torch.autograd.grad(F.cross_entropy(out, yv), darts.alpha)[0]
    first_order = torch.autograd.grad(F.cross_entropy(darts.model(xv, *darts.mixture()), yv), darts.alpha)[0]
    error = float((approximate - exact).norm() / exact.norm())
    hessian_share = float((exact - first_order).norm() / exact.norm())
    assert error < 1e-3 and hessian_share > 0.1, (error, hessian_share)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"remedy": "zen"}, "strategy.remedy: must be one of none, gdas, drnas, darts_minus"),
        ({"remedy": "gdas", "order": "second"}, "strategy.order: must be first with a sampling remedy"),
        ({"epochs": 0}, "strategy.epochs: must be >= 1 or auto, got 0"),
        ({"epochs": "all"}, "strategy.epochs: must be an integer >= 1 or auto, got 'all'"),
        ({"grad_clip": -1.0}, "strategy.grad_clip: must be > 0, got -1.0"),  # would flip every weight gradient
        ({"hvp_radius": 0.0}, "strategy.hvp_radius: must be > 0, got 0.0"),
        ({"momentum": -0.5}, "strategy.momentum: must be in [0, 1), got -0.5"),
        ({"weight_decay": -1e-4}, "strategy.weight_decay: must be >= 0, got -0.0001"),
        ({"drnas_reg": -1.0}, "strategy.drnas_reg: must be >= 0, got -1.0"),
    ],
)
def test_bad_settings_are_one_line(kwargs, message):
    with pytest.raises(ConfigError, match=re.escape(message)):
        Darts(**kwargs)


def test_darts_needs_the_cell_space():
    with pytest.raises(ConfigError, match=r"darts searches the cell space"):
        Darts().bind(nf.ChainSpace(input_shape=(1, 8, 8)), seed=0)


@pytest.fixture(scope="module")
def images():
    return nf.data.synthetic("image", n=240, classes=3, seed=0)


def test_a_one_shot_search_refuses_constraints_it_cannot_apply(images):
    """It proposes no candidates to reject: a derived cell of 419 parameters came out of ``max_params: 10``."""
    with pytest.raises(ConfigError, match=r"^strategy\.name: darts searches one objective, .*constraints"):
        nf.search(data=images, space=small(), strategy="darts", constraints={"max_params": 10}, budget=Budget(trials=1))


def test_the_derivation_reconnects_a_cell_whose_none_edges_cut_the_input_off():
    """Edges 0->1, 0->2, 0->3 and 1->3 all strongest at ``none``: no path carries signal, so the closest call
    (0->3, where ``nor_conv_3x3`` trails ``none`` least) gives way, and the cell reaches its output again."""
    darts = started()
    with torch.no_grad():
        darts.alpha.zero_()
        for edge, (op, second, gap) in enumerate(
            [
                ("none", "skip_connect", 1.0),
                ("none", "nor_conv_1x1", 0.5),
                ("nor_conv_3x3", "none", 1.0),
                ("none", "nor_conv_3x3", 0.2),
                ("none", "avg_pool_3x3", 1.0),
                ("nor_conv_1x1", "none", 1.0),
            ]
        ):
            darts.alpha[edge, OPS.index(op)] = 2.0
            darts.alpha[edge, OPS.index(second)] = 2.0 - gap
    assert str(darts.derive()) == "|none~0|+|none~0|nor_conv_3x3~1|+|nor_conv_3x3~0|none~1|nor_conv_1x1~2|"
    assert darts.space.paths(darts.derive()) == [("nor_conv_3x3",)]


def test_a_tiny_search_records_epochs_and_retrains_the_last_derived_cell(tmp_path, images):
    darts = {"name": "darts", "remedy": "gdas", "epochs": 3}
    settings = {"data": images, "space": small(), "strategy": darts, "trainer": nf.Trainer(epochs=1)}
    run = nf.search(**settings, budget=Budget(trials=3), run_dir=tmp_path / "run", seeds=1)
    assert run.stop_reason == "trials" and [t.id for t in run.trials] == [1, 2, 3]
    assert run.best.trial.id == 3, "DARTS returns the cell derived at the end"
    history = run.store.get_meta("supernet")
    assert history["ops"] == list(OPS) and len(history["edges"]) == 6 and len(history["epochs"]) == 3
    last = history["epochs"][-1]
    assert last["arch"] == run.best.trial.arch and len(last["weights"]) == 6
    assert all(abs(sum(row) - 1) < 1e-3 for row in last["weights"])
    best = json.loads((tmp_path / "run" / "best.json").read_text())
    assert CellSpace().from_string(best["arch"]) is not None and "accuracy" in best["test"]
    assert 'id="fig-supernet"><svg' in (tmp_path / "run" / "report.html").read_text()
    with pytest.raises(ConfigError, match="cannot be resumed"):
        nf.search(**settings, budget=Budget(trials=4), run_dir=tmp_path / "run")


def test_a_finished_one_shot_run_exports_any_derived_cell_from_the_cli(tmp_path):
    from typer.testing import CliRunner

    from nasforge.cli import app

    config = tmp_path / "darts.yaml"
    config.write_text(
        "data: {builtin: digits}\n"
        "space: {type: cell, stem_channels: 4, stages: 1, cells_per_stage: 1}\n"
        "strategy: {name: darts, remedy: gdas, epochs: 2}\n"
        "train: {epochs: 1}\nbudget: {trials: 2}\nfinal: {seeds: 1}\n"
    )
    run_dir = tmp_path / "run"
    searched = CliRunner().invoke(app, ["search", str(config), "--run-dir", str(run_dir), "--quiet"])
    assert searched.exit_code == 0, searched.output
    exported = CliRunner().invoke(app, ["export", str(run_dir), "--trial", "1"])
    assert exported.exit_code == 0, exported.output
    assert (run_dir / "trial-1" / "model.onnx").exists() and (run_dir / "trial-1" / "model.json").exists()
    resumed = CliRunner().invoke(app, ["resume", str(run_dir), "--trials", "3"])
    assert isinstance(resumed.exception, ConfigError)  # the CLI's entry point prints it as one line, exit 2
    assert "cannot be resumed (2 epochs are stored)" in str(resumed.exception)


class Scripted(OneShot):
    """Epochs deriving the given cells; the third has two parameter-free ops and stops, as max_free_ops=1 would."""

    name = "scripted"
    cells = (
        "|nor_conv_3x3~0|+|nor_conv_3x3~0|none~1|+|nor_conv_1x1~0|none~1|none~2|",
        "|nor_conv_3x3~0|+|nor_conv_3x3~0|skip_connect~1|+|nor_conv_1x1~0|none~1|none~2|",
        "|skip_connect~0|+|nor_conv_3x3~0|skip_connect~1|+|nor_conv_1x1~0|none~1|none~2|",
    )

    def start(self, data) -> None:
        self.done = 0

    def epoch(self, out_of_time) -> EpochRecord:
        arch = self.space.from_string(self.cells[self.done])
        self.done += 1
        if free_ops(arch.ops) > 1:
            self.stopped = "collapse"
        weights = [[0.2] * 5 for _ in range(6)]
        return EpochRecord(arch, {"accuracy": 0.5 + self.done / 10, "loss": 1.0}, 1.0, weights, {})


class NoTraining(Evaluator):
    def evaluate(self, arch, seed):
        raise AssertionError("a one-shot run evaluates no candidate")

    def final_test(self, arch, seed):
        return FinalReport({"accuracy": 0.0})

    def supernet_data(self):
        return None


def test_auto_epochs_fit_the_schedules_to_the_plan_and_never_turn_them_back():
    darts = started("darts_minus", epochs="auto")
    first = darts.epoch(lambda: False)
    assert "planned_epochs" not in first.extra and darts.progress == 0.0, "unplanned, the schedules stay at 0"
    darts.plan(4)
    darts.done_epochs = 2
    assert darts.progress == 0.5 and darts.mixture()[2] == 0.5, "epoch 3 of 5: the skip has decayed halfway"
    darts.plan(1)  # the machine slowed down: one more epoch fits, so the next is the last
    assert darts.epoch(lambda: True) is None and darts.progress == 1.0
    assert darts.weight_opt.param_groups[0]["lr"] == pytest.approx(darts.lr_min), "the cosine has ended"
    darts.plan(10)  # faster again: a longer plan does not undo the schedules' progress
    assert darts.progress == 1.0 and darts.mixture()[2] == 0.0
    assert darts.epoch(lambda: False).extra["planned_epochs"] == 12
    fixed = started(epochs=4)
    fixed.plan(100)
    assert fixed.length == 4, "a number of epochs is the user's, whatever the budget"


class Paced(OneShot):
    """Epochs of 10 s on the run's clock (the first 30 s, as a first epoch with one-off costs may be), recording
    the room it is told about before each."""

    name = "paced"

    def __init__(self, clock: list[float]) -> None:
        self.clock, self.told = clock, []

    def start(self, data) -> None:
        self.done = 0

    def plan(self, epochs_left: int) -> None:
        self.told.append(epochs_left)

    def epoch(self, out_of_time) -> EpochRecord | None:
        self.clock[0] += 30.0 if self.done == 0 else 10.0
        if out_of_time():
            return None
        self.done += 1
        arch = self.space.from_string(Scripted.cells[0])
        return EpochRecord(arch, {"accuracy": 0.5, "loss": 1.0}, 1.0, [[0.2] * 5 for _ in range(6)], {})


@pytest.mark.parametrize(
    ("budget", "told"),
    [
        (Budget(seconds=100), [2, 3, 5, 4, 3, 2, 1]),  # no pace before the first epoch; then the median
        (Budget(trials=3), [3, 2, 1]),
        (Budget(trials=20, seconds=100), [20, 2, 3, 5, 4, 3, 2, 1]),
    ],
)
def test_a_one_shot_strategy_is_told_the_epochs_its_budget_has_room_for(budget, told):
    clock = [0.0]
    strategy = Paced(clock)
    run = Run(CellSpace(), strategy, NoTraining(), SQLiteStore(":memory:"), clock=lambda: clock[0])
    run.optimize(budget)
    assert strategy.told == told


def test_the_early_stop_records_the_collapse_but_returns_the_cell_before_it():
    run = Run(CellSpace(), Scripted(), NoTraining(), SQLiteStore(":memory:"))
    assert run.optimize(Budget(trials=10)) == "early stop"
    assert [t.arch for t in run.trials] == list(Scripted.cells[:2])
    assert run.best_trial.arch == Scripted.cells[1], "the last cell before the collapse, not the best scored"
    history = run.store.get_meta("supernet")["epochs"]
    assert [e["arch"] for e in history] == list(Scripted.cells)


def test_darts_stops_itself_when_a_derived_cell_has_too_many_free_ops():
    darts = started(max_free_ops=0)
    with torch.no_grad():
        darts.alpha.zero_()
        darts.alpha[:, OPS.index("skip_connect")] = 5.0  # every edge a skip: six free ops
    record = darts.epoch(lambda: False)
    assert darts.stopped and "6 parameter-free ops" in darts.stopped and record.extra["free_ops"] == 6
    assert darts.epoch(lambda: True) is None, "out of time before the first batch: nothing to record"
    darts.start(data())
    assert darts.stopped is None, "the same strategy object searches again from the start"


def test_the_derivation_reconnects_a_cell_whose_none_ties_with_the_next_op():
    """Every edge's ``none`` ties with ``nor_conv_3x3`` at the top: the runner-up must be the convolution, not
    ``none`` again (numpy's argsort may order the tie either way; taken as the second largest, ``none`` looped
    for ever)."""
    darts = started()
    with torch.no_grad():
        darts.alpha.zero_()
        darts.alpha[:, OPS.index("none")] = 2.0
        darts.alpha[:, OPS.index("nor_conv_3x3")] = 2.0
    cell = darts.derive()
    assert darts.space.paths(cell) and "nor_conv_3x3" in cell.ops


def test_drnas_pulls_the_concentration_to_its_anchor_of_one():
    """DrNAS regularises the concentration towards 1 (its l2 option decays alpha to 0, its kl option to
    Dirichlet(1)); a penalty on the concentration itself would push every alpha down, towards one-hot draws."""
    darts = started("drnas", drnas_reg=1.0)
    with torch.no_grad():
        darts.alpha.zero_()
    assert float(darts._arch_penalty().detach()) == 0.0, "the anchor costs nothing"
    with torch.no_grad():
        darts.alpha[0, 0], darts.alpha[0, 1] = 0.5, -0.5
    darts._arch_penalty().backward()
    assert darts.alpha.grad[0, 0] > 0 > darts.alpha.grad[0, 1], "both pulled back towards alpha = 0"
