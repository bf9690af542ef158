"""What an architecture costs, measured on the built network before it is trained.

- **params**: parameters (shared ones once).
- **flops**: ``torch.utils.flop_counter.FlopCounterMode`` on one sample, which counts a multiply-add as two FLOPs
  (FLOPs = 2 * MACs): ``Linear(10, 5)`` on one sample is 100 FLOPs. Only the ops torch has formulas for are
  counted (matmuls, convolutions, attention; a recurrent layer as its gates' matrix products); elementwise
  ops, normalisation and pooling count as zero, which is the usual convention for comparing architectures.
- **size_kb**: parameters and buffers in memory (KiB at their dtype): what the weights take on a device.
- **activation_kb**: an estimate of the peak activation memory of one sample in inference: the largest sum of
  one layer's input and output (KiB, float32), what must coexist while that layer runs when a network executes
  layer by layer. Tensors held for later branches (a cell's skip edges) are not added, so it is a lower bound,
  exact for plain chains.
- **train_memory_mb**: an estimate of what one training step needs (:func:`train_memory_bytes`), checked against
  the memory free on the device before a trial trains.
- **latency_ms**: measured on this machine, on the device trials run on (:func:`measure_latency`).
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from torch import nn

__all__ = [
    "Latency",
    "activation_bytes",
    "activation_profile",
    "count_flops",
    "count_params",
    "measure_latency",
    "model_bytes",
    "train_memory_bytes",
    "training_bytes",
    "warm_up_flop_counter",
]


def count_params(module: nn.Module, trainable_only: bool = False) -> int:
    """How many parameters ``module`` has (shared parameters once)."""
    return sum(p.numel() for p in module.parameters() if p.requires_grad or not trainable_only)


@contextmanager
def _unfused() -> Iterator[None]:
    """oneDNN (CPU) and cuDNN (CUDA) off: their fused recurrent kernels have no formula in torch's flop counter,
    which counted an LSTM as free; without them a recurrent layer runs as the matrix products it counts."""
    import torch

    saved = torch.backends.mkldnn.enabled, torch.backends.cudnn.enabled
    torch.backends.mkldnn.enabled = torch.backends.cudnn.enabled = False
    try:
        yield
    finally:
        torch.backends.mkldnn.enabled, torch.backends.cudnn.enabled = saved


def count_flops(module: nn.Module, input_shape: Sequence[int]) -> int:
    """FLOPs of one forward pass on a single sample of ``input_shape`` (no batch dimension).

    Runs in eval mode without gradients on the module's own device, and restores the training flag. The same
    module counts the same on every device (fused recurrent kernels are switched off while counting).

    >>> from torch import nn
    >>> count_flops(nn.Linear(10, 5), (10,))
    100
    """
    import torch
    from torch.utils.flop_counter import FlopCounterMode

    x = torch.zeros((1, *input_shape), device=_device_of(module))
    was_training = module.training
    module.eval()
    try:
        counter = FlopCounterMode(display=False)
        with torch.no_grad(), _unfused(), counter:
            module(x)
    finally:
        module.train(was_training)
    return int(counter.get_total_flops())


def warm_up_flop_counter() -> None:
    """Pay the flop counter's one-off first-use cost (it imports sympy and torch._dynamo: ~1.4 s) now.

    Evaluators call this when they are built, so that the first trial's ``cost_seconds`` and time limit do
    not carry a cost that every later trial is spared.
    """
    from torch import nn

    count_flops(nn.Linear(1, 1), (1,))


def model_bytes(module: nn.Module) -> int:
    """Bytes of the parameters and buffers (batch-norm statistics), each at its own dtype."""
    tensors = [*module.parameters(), *module.buffers()]
    return sum(t.numel() * t.element_size() for t in tensors)


def activation_bytes(module: nn.Module, input_shape: Sequence[int]) -> int:
    """Peak activation memory of one sample, estimated as the largest input + output of any leaf layer (float32
    bytes); see the module docstring for what it leaves out."""
    return activation_profile(module, input_shape)[0]


def train_memory_bytes(module: nn.Module, input_shape: Sequence[int], batch_size: int) -> int:
    """An estimate of the memory one training step of ``batch_size`` samples needs (float32 bytes): the weights,
    their gradients and two optimizer moments (Adam's; SGD keeps fewer), plus every leaf layer's output for the
    batch twice (kept for the backward pass, and its gradient). Intermediate tensors inside a layer (an
    attention's score matrix, a recurrent layer's gates) are left out, so it is a lower bound: enough to tell
    a network that cannot fit from one that may."""
    return training_bytes(module, activation_profile(module, input_shape)[1], batch_size)


def training_bytes(module: nn.Module, stored_per_sample: int, batch_size: int) -> int:
    """:func:`train_memory_bytes` from one sample's stored leaf outputs (``activation_profile(...)[1]``), for a
    caller that already ran the profile."""
    weights = sum(p.numel() for p in module.parameters()) * 4
    return 4 * weights + 2 * batch_size * stored_per_sample


def activation_profile(module: nn.Module, input_shape: Sequence[int]) -> tuple[int, int]:
    """One sample's float32 bytes from one forward pass: the largest input + output of a leaf layer, and all
    leaf outputs together."""
    import torch

    peak = total = 0

    def hook(layer: nn.Module, inputs: tuple[Any, ...], output: Any) -> None:
        nonlocal peak, total
        outputs = [t for t in (output if isinstance(output, tuple) else (output,)) if torch.is_tensor(t)]
        tensors = [t for t in inputs if torch.is_tensor(t)] + outputs
        peak = max(peak, sum(t.numel() for t in tensors) * 4)
        total += sum(t.numel() for t in outputs) * 4

    leaves = [m for m in module.modules() if next(m.children(), None) is None]
    handles = [leaf.register_forward_hook(hook) for leaf in leaves]
    was_training = module.training
    module.eval()
    try:
        with torch.no_grad():
            module(torch.zeros((1, *input_shape), device=_device_of(module)))
    finally:
        module.train(was_training)
        for handle in handles:
            handle.remove()
    return peak, total


@dataclass(frozen=True)
class Latency:
    """One latency measurement: the median of ``repeats`` timed forward passes after ``warmup`` untimed ones.

    ``spread_ms`` is the interquartile range of the timings (how much a single reading can be trusted);
    ``threads`` and ``device`` say what it was measured with, since both change it several-fold.
    """

    median_ms: float
    spread_ms: float
    batch: int
    repeats: int
    threads: int
    device: str


def measure_latency(
    module: nn.Module, input_shape: Sequence[int], batch: int = 1, warmup: int = 3, repeats: int = 15
) -> Latency:
    """Time inference of a batch of ``batch`` samples on the module's device (CUDA is synchronised around
    every pass), in eval mode without gradients; the training flag is restored."""
    import torch

    device = _device_of(module)
    x = torch.zeros((batch, *input_shape), device=device)
    was_training = module.training
    module.eval()
    timings: list[float] = []
    try:
        with torch.inference_mode():
            for n in range(warmup + repeats):
                if device.type == "cuda":
                    torch.cuda.synchronize(device)
                start = time.perf_counter()
                module(x)
                if device.type == "cuda":
                    torch.cuda.synchronize(device)
                if n >= warmup:
                    timings.append((time.perf_counter() - start) * 1e3)
    finally:
        module.train(was_training)
    quartiles = statistics.quantiles(timings, n=4) if len(timings) > 1 else [timings[0]] * 3
    return Latency(
        median_ms=statistics.median(timings),
        spread_ms=quartiles[2] - quartiles[0],
        batch=batch,
        repeats=repeats,
        threads=torch.get_num_threads(),
        device=str(device),
    )


def _device_of(module: nn.Module) -> Any:
    import torch

    param = next(module.parameters(), None)
    return param.device if param is not None else torch.device("cpu")
