"""Random changes to each training batch, on tensors, on the batch's device: no torchvision, no DataLoader.

Shifts move every sample by a whole number of positions along each spatial axis (rows and columns of an image,
time of a sequence), filling what is uncovered with 0, the mean of standardised inputs; a flip mirrors images
left to right; noise adds a Gaussian of a given standard deviation, in the standardised units the inputs are
in. The random draws come from the trainer's seeded generator (on the CPU), so a seed gives the same batches,
and the same weights, on any device.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, fields
from typing import TYPE_CHECKING, Any

from nasforge.exceptions import ConfigError, integer_at_least

if TYPE_CHECKING:
    import torch

__all__ = ["Augment"]


@dataclass(frozen=True)
class Augment:
    """What changes each training batch (nothing by default); validation and test inputs are never changed.

    ``shift``: samples move by up to this many positions along every spatial axis, each sample and axis its own
    uniform draw in ``[-shift, shift]``. ``flip``: images are mirrored left to right with probability 1/2 (off
    unless asked for: a flipped digit or letter is another symbol). ``noise``: the standard deviation of the
    Gaussian noise added to every input value. Shifts and flips need images ``(C, H, W)`` or sequences
    ``(C, L)`` (flips images only); noise any real-valued input; token ids take none of them.

    >>> Augment.parse({"shift": 2}).active, Augment.parse(False).active
    (True, False)
    """

    shift: int = 0
    flip: bool = False
    noise: float = 0.0

    def __post_init__(self) -> None:
        integer_at_least("train.augment.shift", self.shift, 0)
        if not isinstance(self.flip, bool):
            raise ConfigError(f"train.augment.flip: must be true or false, got {self.flip!r}")
        number = isinstance(self.noise, (int, float)) and not isinstance(self.noise, bool)
        if not (number and math.isfinite(self.noise) and self.noise >= 0):  # inf noise: every trial would diverge
            raise ConfigError(f"train.augment.noise: must be a finite number >= 0, got {self.noise!r}")

    @classmethod
    def parse(cls, spec: Augment | Mapping[str, Any] | bool | None) -> Augment:
        """From a config value: a mapping of the fields, or ``false``/``null`` for none."""
        if isinstance(spec, Augment):
            return spec
        if spec is None or spec is False:
            return cls()
        if not isinstance(spec, Mapping):
            raise ConfigError(f"train.augment: must be a mapping of shift, flip, noise, or false; got {spec!r}")
        allowed = [f.name for f in fields(cls)]
        unknown = [k for k in spec if k not in allowed]
        if unknown:
            raise ConfigError(f"train.augment: unknown key {unknown[0]!r}; allowed: {', '.join(allowed)}")
        return cls(**spec)

    @property
    def active(self) -> bool:
        return bool(self.shift or self.flip or self.noise)

    def check(self, x: torch.Tensor) -> None:
        """Refuse inputs these changes do not apply to, once, before training."""
        if not self.active:
            return
        if not x.is_floating_point():
            raise ConfigError("train.augment: token ids cannot be shifted, flipped or noised; remove it for text")
        if self.shift and x.ndim not in (3, 4):
            raise ConfigError("train.augment.shift: needs images (C, H, W) or sequences (C, L), not flat features")
        if self.flip and x.ndim != 4:
            raise ConfigError("train.augment.flip: needs images (C, H, W)")

    def __call__(self, x: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
        """A changed copy of the batch ``x`` ``(N, C, ...)``; random draws from ``generator`` (a CPU one)."""
        import torch

        n = x.shape[0]
        if self.shift:
            offsets = torch.randint(-self.shift, self.shift + 1, (n, x.ndim - 2), generator=generator)
            x = _shifted(x, self.shift, offsets.to(x.device))
        if self.flip:
            mirror = (torch.rand(n, generator=generator) < 0.5).to(x.device).view(n, *[1] * (x.ndim - 1))
            x = torch.where(mirror, x.flip(-1), x)
        if self.noise:
            x = x + self.noise * torch.randn(x.shape, generator=generator).to(x.device, x.dtype)
        return x


def _shifted(x: torch.Tensor, shift: int, offsets: torch.Tensor) -> torch.Tensor:
    """``x`` ``(N, C, *spatial)`` with sample ``n`` moved by ``offsets[n]`` along each spatial axis: output
    position ``i`` reads input position ``i + offset``, and 0 where that falls outside. One zero-padding and one
    gather for the whole batch."""
    import torch
    from torch.nn import functional as F

    n, spatial = x.shape[0], x.shape[2:]
    padded = F.pad(x, [shift, shift] * len(spatial))
    ones = [1] * len(spatial)
    index: list[torch.Tensor] = [
        torch.arange(n, device=x.device).view(n, 1, *ones),
        torch.arange(x.shape[1], device=x.device).view(1, -1, *ones),
    ]
    for axis, size in enumerate(spatial):
        shape = [n, 1, *ones]
        shape[2 + axis] = size
        positions = torch.arange(size, device=x.device) + shift + offsets[:, axis : axis + 1]
        index.append(positions.view(shape))
    return padded[tuple(index)]
