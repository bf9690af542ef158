"""Zero-cost proxies: scores of an untrained network, from one batch of training data or none at all.

They try to rank architectures before any training (Abdelfattah et al., "Zero-Cost Proxies for Lightweight
NAS", ICLR 2021; Mellor et al., "Neural Architecture Search without Training", ICML 2021). Each takes a
freshly initialised network and one batch, and higher is meant to be better:

* ``grad_norm``: the summed L2 norms of the loss's gradients with respect to the layers' weights;
* ``snip``: the summed ``|w * dL/dw|`` over the layers' weights (connection sensitivity, Lee et al. 2019);
* ``synflow``: data-free; with every parameter replaced by its absolute value, in float64 and eval mode, the
  summed ``|w * dR/dw|`` over the layers' weights, where ``R`` is the sum of the outputs for an all-ones input
  (Tanaka et al. 2020); token inputs use the batch's first sample instead, as ones are not token ids;
* ``nwot``: ``log |det K|`` of the batch's kernel of binary activation codes (``K[i, j]`` counts the
  units on which samples ``i`` and ``j`` agree, active or not), read at every activation module;
* ``jacob_cov``: how uncorrelated the samples' input gradients are, ``-sum(log(l + k) + 1 / (l + k))`` over
  the eigenvalues ``l`` of their correlation matrix (``k = 1e-5``); not for token inputs (no input gradient).

"The layers' weights" are those of convolutions, linear maps and recurrent layers, as the proxies' published
code (Abdelfattah et al.'s, NASLib's) reads them: not biases, normalisation or embeddings, whose terms would
swamp or, in ``synflow``'s signed sum through gates and normalisation, cancel the layers' own.

Every proxy runs on a deep copy of the network, so computing one changes neither the network's weights nor
its batch-norm statistics, and the training that follows is the one it would have been. How well they rank
on real data is measured in ``docs/benchmarks.md`` (issue 22), not assumed.
"""

from __future__ import annotations

import copy
import math
from collections.abc import Callable, Hashable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from nasforge.exceptions import ConfigError, integer_at_least

if TYPE_CHECKING:
    import torch
    from torch import nn

__all__ = ["PROXIES", "PROXY_BATCH", "Prefilter", "check_proxies", "compute_proxies"]

PROXY_BATCH = 64
"""Training samples a proxy sees: the first ones of the training split, the same for every architecture."""


def _loss(out: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    from torch.nn import functional as F

    if y.is_floating_point():
        return F.mse_loss(out.reshape(-1).to(y.dtype), y)
    return F.cross_entropy(out, y)


def _layer_weights(model: nn.Module) -> list[torch.Tensor]:
    """The weight tensors of ``model``'s convolutions, linear maps and recurrent layers (see the module's doc)."""
    from torch import nn

    weights: list[torch.Tensor] = []
    for module in model.modules():
        if isinstance(module, (nn.Linear, nn.Conv1d, nn.Conv2d, nn.Conv3d)):
            weights.append(module.weight)
        elif isinstance(module, nn.RNNBase):
            weights += [p for name, p in module.named_parameters(recurse=False) if name.startswith("weight_")]
    return weights


def _weight_gradients(model: nn.Module, x: torch.Tensor, y: torch.Tensor) -> list[tuple[torch.Tensor, torch.Tensor]]:
    """``(w, dL/dw)`` for the layers' weights after one backward pass of the training loss on ``(x, y)``."""
    model.train()
    model.zero_grad(set_to_none=True)
    _loss(model(x), y).backward()
    return [(w.detach(), w.grad.detach()) for w in _layer_weights(model) if w.grad is not None]


def grad_norm(model: nn.Module, x: torch.Tensor, y: torch.Tensor) -> float:
    return float(sum(g.norm() for _, g in _weight_gradients(model, x, y)))


def snip(model: nn.Module, x: torch.Tensor, y: torch.Tensor) -> float:
    return float(sum((w * g).abs().sum() for w, g in _weight_gradients(model, x, y)))


def synflow(model: nn.Module, x: torch.Tensor, y: torch.Tensor) -> float:
    import torch

    model = model.double().eval()
    with torch.no_grad():
        for tensor in model.state_dict().values():
            if tensor.is_floating_point():
                tensor.abs_()
    ones = x[:1] if not x.is_floating_point() else torch.ones((1, *x.shape[1:]), dtype=torch.float64, device=x.device)
    model.zero_grad(set_to_none=True)
    model(ones).sum().backward()
    return float(sum((w.detach() * w.grad).abs().sum() for w in _layer_weights(model) if w.grad is not None))


def nwot(model: nn.Module, x: torch.Tensor, y: torch.Tensor) -> float:
    import torch
    from torch import nn

    activations = (nn.ReLU, nn.ReLU6, nn.LeakyReLU, nn.GELU, nn.SiLU, nn.ELU, nn.Hardswish, nn.Tanh)
    codes: list[torch.Tensor] = []
    hooks = [
        m.register_forward_hook(lambda _m, _i, out: codes.append((out > 0).flatten(1).to(torch.float64)))
        for m in model.modules()
        if isinstance(m, activations)
    ]
    try:
        model.train()
        with torch.no_grad():
            model(x)
    finally:
        for hook in hooks:
            hook.remove()
    if not codes:
        return math.nan  # no activation module to read codes from
    kernel = sum(c @ c.T + (1 - c) @ (1 - c).T for c in codes)
    return float(torch.linalg.slogdet(kernel)[1])


def jacob_cov(model: nn.Module, x: torch.Tensor, y: torch.Tensor) -> float:
    import torch

    if not x.is_floating_point():
        return math.nan
    x = x.clone().requires_grad_(True)
    model.train()
    out = model(x)
    out.backward(torch.ones_like(out))
    jacobian = x.grad.flatten(1).cpu().numpy()  # type: ignore[union-attr]
    eigenvalues = np.linalg.eigvalsh(np.corrcoef(jacobian))
    k = 1e-5
    return float(-np.sum(np.log(eigenvalues + k) + 1.0 / (eigenvalues + k)))


PROXIES: dict[str, Callable[[nn.Module, torch.Tensor, torch.Tensor], float]] = {
    "grad_norm": grad_norm,
    "snip": snip,
    "synflow": synflow,
    "nwot": nwot,
    "jacob_cov": jacob_cov,
}


def check_proxies(names: object, field: str = "proxies") -> tuple[str, ...]:
    """A list of proxy names from the config (``proxies``, or ``field``), checked: names of :data:`PROXIES`."""
    if isinstance(names, str) or not isinstance(names, (list, tuple)):
        raise ConfigError(f"{field}: must be a list of names among {', '.join(PROXIES)}, got {names!r}")
    for name in names:
        if name not in PROXIES:
            raise ConfigError(f"{field}: each must be one of {', '.join(PROXIES)}, got {name!r}")
    return tuple(names)


def compute_proxies(model: nn.Module, x: torch.Tensor, y: torch.Tensor, names: tuple[str, ...]) -> dict[str, float]:
    """``{"proxy_<name>": score}`` for ``model`` (untouched: each proxy runs on a copy) on the batch ``(x, y)``.

    A proxy that fails on an architecture (a NaN, a singular kernel, an op it cannot differentiate) scores
    NaN, stored as null: a proxy is advice, and it must not fail the trial.
    """
    import torch

    scores = {}
    for name in names:
        try:
            devices = [x.device] if x.device.type == "cuda" else []
            with torch.random.fork_rng(devices=devices):  # dropout in a proxy draws nothing from the trial's stream
                value = PROXIES[name](copy.deepcopy(model), x, y)
        except (RuntimeError, ValueError, np.linalg.LinAlgError):
            value = math.nan
        scores[f"proxy_{name}"] = value if math.isfinite(value) else math.nan
    return scores


@dataclass(frozen=True)
class Prefilter:
    """Train only the best of ``candidates`` proposals by a zero-cost ``proxy``.

    The strategy proposes ``candidates`` new architectures, each is scored untrained (milliseconds on small
    networks), and the best one is trained; the others are dropped: the strategy is not told about them (it
    has no score to learn from), and keeps them as asked, so it does not propose them again. A proxy that
    cannot score a proposal ranks it last.

    >>> Prefilter.parse({"proxy": "nwot", "candidates": 8})
    Prefilter(proxy='nwot', candidates=8)
    """

    proxy: str
    candidates: int = 10

    def __post_init__(self) -> None:
        if self.proxy not in PROXIES:
            raise ConfigError(f"prefilter.proxy: must be one of {', '.join(PROXIES)}, got {self.proxy!r}")
        integer_at_least("prefilter.candidates", self.candidates, 2)

    @classmethod
    def parse(cls, spec: Prefilter | Mapping[str, Any] | None) -> Prefilter | None:
        if spec is None or isinstance(spec, Prefilter):
            return spec
        unknown = [k for k in spec if k not in ("proxy", "candidates")]
        if unknown or "proxy" not in spec:
            raise ConfigError(f"prefilter: give proxy (one of {', '.join(PROXIES)}) and optionally candidates")
        return cls(**spec)

    def choose(self, propose: Callable[[list[Hashable]], Hashable], score: Callable[[Hashable], float]) -> Hashable:
        """The best by proxy of up to ``candidates`` proposals; ``propose(taken)`` gives one not in ``taken``
        and raises :class:`~nasforge.strategies.SpaceExhausted` when there is none (fewer then compete)."""
        from nasforge.strategies import SpaceExhausted

        options = [propose([])]
        while len(options) < self.candidates:
            try:
                options.append(propose(options))
            except SpaceExhausted:
                break
        values = [score(arch) for arch in options]
        ranked = [v if math.isfinite(v) else -math.inf for v in values]
        return options[int(np.argmax(ranked))]
