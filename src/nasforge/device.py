"""Choose the torch device once per run: ``auto`` (CUDA when there is one), ``cpu``, ``cuda`` or ``cuda:N``.

:func:`check_device` validates the spelling without importing torch, so config validation stays fast;
:func:`resolve_device` imports torch and checks that the device exists.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from nasforge.exceptions import ConfigError

if TYPE_CHECKING:
    import torch

__all__ = ["check_device", "free_memory_bytes", "resolve_device"]

_SPEC = re.compile(r"auto|cpu|cuda(:\d+)?")


def check_device(spec: str, field: str = "device") -> str:
    """Return ``spec`` if it names a device nasforge understands, else raise a one-line ConfigError."""
    if not isinstance(spec, str) or not _SPEC.fullmatch(spec):
        raise ConfigError(f"{field}: must be 'auto', 'cpu', 'cuda' or 'cuda:N', got {spec!r}")
    return spec


def resolve_device(spec: str = "auto", field: str = "device") -> torch.device:
    """The ``torch.device`` for ``spec``; asking for CUDA where there is none is a ConfigError.

    >>> resolve_device("cpu")
    device(type='cpu')
    """
    import torch

    check_device(spec, field)
    if spec == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if spec == "cpu":
        return torch.device("cpu")
    if not torch.cuda.is_available():
        raise ConfigError(f"{field}: {spec!r} asked for, but this torch has no CUDA device; use 'cpu' or 'auto'")
    device = torch.device(spec)
    count = torch.cuda.device_count()
    if device.index is not None and device.index >= count:
        raise ConfigError(f"{field}: {spec!r} asked for, but there are only {count} CUDA device(s)")
    return device


def free_memory_bytes(device: torch.device) -> int:
    """Memory a trial on ``device`` may still take: free CUDA memory on that GPU plus what PyTorch's caching
    allocator holds there unused (earlier trials' blocks, which this process reuses but the driver counts as
    taken), or the system's available memory for the CPU (what the OS can give without swapping,
    ``psutil.virtual_memory().available``)."""
    if device.type == "cuda":
        import torch

        free = torch.cuda.mem_get_info(device)[0]
        return int(free + torch.cuda.memory_reserved(device) - torch.cuda.memory_allocated(device))
    import psutil

    return int(psutil.virtual_memory().available)
