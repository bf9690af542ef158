"""Costs: parameters and FLOPs of one sample, FLOPs = 2 * MACs as torch's flop counter counts them."""

from __future__ import annotations

import pytest
from torch import nn

from nasforge.costs import activation_bytes, count_flops, count_params, measure_latency, model_bytes


def test_linear_flops_are_two_per_multiply_add() -> None:
    assert count_flops(nn.Linear(10, 5), (10,)) == 2 * 10 * 5


def test_conv_flops_count_every_output_position() -> None:
    conv = nn.Conv2d(3, 4, kernel_size=3, padding=1)
    assert count_flops(conv, (3, 8, 8)) == 2 * (3 * 3 * 3) * 4 * 8 * 8


def test_flops_do_not_depend_on_the_batch_and_restore_the_mode() -> None:
    model = nn.Sequential(nn.Conv1d(2, 4, 3), nn.BatchNorm1d(4), nn.ReLU(), nn.Flatten(), nn.Linear(4 * 14, 3))
    model.train()
    flops = count_flops(model, (2, 16))  # batch norm on one sample works because it runs in eval mode
    assert flops == 2 * (2 * 3) * 4 * 14 + 2 * 56 * 3
    assert model.training


@pytest.mark.parametrize(("cell", "gates"), [(nn.LSTM, 4), (nn.GRU, 3), (nn.RNN, 1)])
@pytest.mark.parametrize("bidirectional", [False, True])
def test_recurrent_flops_count_every_gate_of_every_step(cell: type[nn.RNNBase], gates: int, bidirectional: bool):
    # on CPU an LSTM runs as one oneDNN kernel that torch's flop counter has no formula for (it counted 0)
    steps, width, hidden = 10, 8, 16
    layer = cell(width, hidden, batch_first=True, bidirectional=bidirectional)
    per_direction = steps * 2 * gates * hidden * (width + hidden)
    assert count_flops(layer, (steps, width)) == per_direction * (2 if bidirectional else 1)


def test_params() -> None:
    model = nn.Sequential(nn.Linear(10, 5), nn.Linear(5, 2))
    assert count_params(model) == 55 + 12
    model[0].weight.requires_grad_(False)
    assert count_params(model, trainable_only=True) == 67 - 50


@pytest.mark.parametrize("module", [nn.ReLU(), nn.Identity()])
def test_parameter_free_modules_cost_nothing(module: nn.Module) -> None:
    assert count_params(module) == 0 and count_flops(module, (4,)) == 0


def test_model_size_counts_parameters_and_buffers_at_their_dtype() -> None:
    model = nn.Sequential(nn.Conv1d(2, 4, 3), nn.BatchNorm1d(4))
    params = 2 * 4 * 3 + 4 + 4 + 4  # conv weight and bias, batch-norm weight and bias
    buffers = 4 + 4  # running mean and variance (float32) ...
    assert model_bytes(model) == 4 * (params + buffers) + 8  # ... and num_batches_tracked (int64)


def test_activation_estimate_is_the_largest_layer_input_plus_output() -> None:
    model = nn.Sequential(nn.Conv2d(1, 8, 3, padding=1), nn.ReLU(), nn.Flatten(), nn.Linear(8 * 64, 10))
    # conv: 64 in + 512 out; relu: 512 + 512; flatten: 512 + 512; linear: 512 + 10 (float32 bytes)
    assert activation_bytes(model, (1, 8, 8)) == 4 * 1024
    assert model.training  # the training flag is restored


def test_latency_is_a_median_of_repeated_timings_with_its_spread() -> None:
    model = nn.Sequential(nn.Linear(64, 64), nn.ReLU(), nn.Linear(64, 4))
    latency = measure_latency(model, (64,), batch=8, warmup=2, repeats=9)
    assert latency.median_ms > 0 and latency.spread_ms >= 0
    assert (latency.batch, latency.repeats, latency.device) == (8, 9, "cpu") and latency.threads >= 1
    assert model.training


def test_a_search_records_latency_on_the_configured_batch_with_its_spread_and_threads(tmp_path) -> None:
    import nasforge as nf
    from nasforge.data import synthetic

    objective = nf.Objective(metrics=("accuracy", "latency_ms"))
    data = synthetic("image", n=90, classes=3, shape=(1, 8, 8), seed=0)
    common = {"data": data, "trainer": nf.Trainer(epochs=1), "objective": objective, "budget": nf.Budget(trials=2)}
    run = nf.search(**common, latency_batch=4, run_dir=tmp_path)
    for trial in run.trials:
        assert trial.costs["latency_batch"] == 4 and trial.costs["latency_threads"] >= 1
        assert trial.costs["latency_ms"] > 0 and trial.costs["latency_spread_ms"] >= 0
    with pytest.raises(nf.StoreError, match="latency changed"):  # latencies on another batch do not compare
        nf.search(**common, run_dir=tmp_path)
    with pytest.raises(nf.ConfigError, match=r"latency\.batch: must be >= 1, got 0"):
        nf.search(**common, latency_batch=0)
