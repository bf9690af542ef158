"""The network a :class:`~nasforge.spaces.Chain` builds: its layers, global average pooling, a linear classifier.

Learned layers become op -> BN (optional) -> activation -> 2x2 max-pool (optional) -> dropout (optional); a
convolution followed by BN has no bias of its own. Spatial inputs are pooled over every axis after the
channels, flat inputs go straight to the classifier. Kept apart from the space so that importing the space
does not import torch.
"""

from __future__ import annotations

from collections.abc import Sequence

from torch import nn

from nasforge.ops import ACTIVATIONS, LAYER_OPS, GlobalAvgPool, batch_norm
from nasforge.spaces._chain_arch import LEARNED_OPS, Chain

__all__ = ["ChainNetwork"]


class ChainNetwork(nn.Sequential):
    """``features`` (the layers), ``pool`` (global average, or nothing for flat input), ``classifier``."""

    def __init__(self, chain: Chain, input_shape: Sequence[int], num_classes: int) -> None:
        dims, channels = len(input_shape) - 1, int(input_shape[0])
        body: list[nn.Module] = []
        for layer in chain.layers:
            factory = LAYER_OPS.get(layer.op)
            if layer.op not in LEARNED_OPS:
                body.append(factory(channels, channels, layer.kernel or 1, layer.stride or 1, dims))
                continue
            width = int(layer.width or 0)
            body.append(factory(channels, width, layer.kernel or 1, layer.stride or 1, dims, not layer.batch_norm))
            if layer.batch_norm:
                body.append(batch_norm(width, dims))
            body.append(ACTIVATIONS.get(str(layer.activation))())
            if layer.pool:
                body.append(LAYER_OPS.get("max_pool")(width, width, 2, 2, dims))
            if layer.dropout:
                body.append(nn.Dropout(layer.dropout))
            channels = width
        super().__init__()
        self.features = nn.Sequential(*body)
        self.pool = GlobalAvgPool() if dims else nn.Identity()
        self.classifier = nn.Linear(channels, num_classes)
