"""What an architecture costs: parameters and FLOPs, counted once per architecture on one sample.

FLOPs come from ``torch.utils.flop_counter.FlopCounterMode``, which counts a multiply-add as two FLOPs
(FLOPs = 2 * MACs): ``Linear(10, 5)`` on one sample is 100 FLOPs. Only the ops torch has formulas for are
counted (matmuls, convolutions, attention); elementwise ops, normalisation and pooling count as zero, which
is the usual convention for comparing architectures.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from torch import nn

__all__ = ["count_flops", "count_params", "warm_up_flop_counter"]


def count_params(module: nn.Module, trainable_only: bool = False) -> int:
    """How many parameters ``module`` has (shared parameters once)."""
    return sum(p.numel() for p in module.parameters() if p.requires_grad or not trainable_only)


def count_flops(module: nn.Module, input_shape: Sequence[int]) -> int:
    """FLOPs of one forward pass on a single sample of ``input_shape`` (no batch dimension).

    Runs in eval mode without gradients on the module's own device, and restores the training flag.

    >>> from torch import nn
    >>> count_flops(nn.Linear(10, 5), (10,))
    100
    """
    import torch
    from torch.utils.flop_counter import FlopCounterMode

    param = next(module.parameters(), None)
    device = param.device if param is not None else torch.device("cpu")
    x = torch.zeros((1, *input_shape), device=device)
    was_training = module.training
    module.eval()
    try:
        counter = FlopCounterMode(display=False)
        with torch.no_grad(), counter:
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
