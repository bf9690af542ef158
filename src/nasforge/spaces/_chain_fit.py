"""How a chain fits its input: the default choices for an input shape, and the arithmetic of validity.

Kept free of torch and of the space class, so that the rules can be read (and tested) on their own: a layer
fits when its kernel, stride and pool fit the spatial sizes it receives and it outputs at most
``max_activations`` values per sample; a whole chain fits when, in addition, its last layer's receptive field
covers ``min_receptive_field`` of the input's shorter side.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from nasforge.spaces._chain_arch import POOL_OPS, SEQUENCE_LAYER_OPS, Layer, out_size

__all__ = ["IMAGE_ACTIVATIONS", "IMAGE_RECEPTIVE_FIELD", "WHOLE_INPUT", "Extent", "advance", "default_choices"]

IMAGE_RECEPTIVE_FIELD = 0.65
"""Default share of an image's shorter side that the last layer must see (see :func:`default_choices`)."""
IMAGE_ACTIVATIONS = 64 * 16 * 16
"""Default cap on the values one image layer outputs per sample: 64 channels at 16x16."""
WHOLE_INPUT = 2**31
"""The receptive field of a layer that sees every position (recurrent, attention), whatever the input's length."""


def default_choices(input_shape: Sequence[int], tokens: bool = False) -> dict[str, Any]:
    """Choices that suit the input kind: conv-BN-ReLU(-pool) chains for images and sequences, MLPs for vectors.

    Measured on digits (1x8x8, 8 epochs): ReLU only and no average pooling raise the median accuracy of random
    chains from 0.40 to 0.84. Plain convolutions with an optional 2x2 max-pool per layer (rather than strides,
    separable convs and pool layers taking depth slots) leave a searcher fewer dead ends still, and widths
    8-64 at depth 1-4 cost per trial what a hand-written search over the same block costs (depth 2-4 at widths
    16-64 made trials 1.3x (digits) to 2.2x (sequences) slower with no consistent gain in single-seed test
    accuracy; see ``docs/benchmarks.md``, issue 12). Users who want more pass the choices explicitly.

    Images get two rules that scale with the picture (issue 16; 5,000 drawn 28x28 digits, jitter 0.05, 8
    epochs): the last layer must see ``IMAGE_RECEPTIVE_FIELD`` of the shorter side (of 18 random chains from
    the old defaults, the seven that saw less than half of the image scored 0.38-0.93 on validation, those
    that saw two thirds or more 0.977-0.990), and no layer may output more than ``IMAGE_ACTIVATIONS`` values
    per sample (or 16 channels at full size, when that is more): on the CPU a trial's time follows these
    values more than FLOPs, so one 64-channel conv at 28x28 (2.5 MFLOPs) took 24 s to train where a 16-32-64
    three-block network (3.8 MFLOPs) took 9 s. Under both rules 30 random 28x28 chains scored 0.946-0.995
    (median 0.986) at 9 s per trial. Images larger than 32 pixels may also stride by 2: a 64x64 image leaves
    a first layer no other way under the cap, and with the cap's 16 channels at 64x64 instead, random chains
    took 42 s per trial.
    """
    if tokens:
        return token_choices(input_shape[0])
    if len(input_shape) == 1:
        return {
            "depth": (1, 3),
            "ops": ("dense",),
            "widths": (16, 32, 64, 128),
            "kernels": (),
            "strides": (),
            "activations": ("relu",),
            "pool": (False,),
            "min_receptive_field": 0.0,
            "max_activations": None,
        }
    side = min(input_shape[1:])
    kernels = (3, 5, 7) if len(input_shape) == 2 else (3, 5)
    choices = {
        "depth": (1, 4),
        "ops": ("conv",),
        "widths": (8, 16, 32, 64),
        "kernels": tuple(k for k in kernels if k <= max(side, 3)),
        "strides": (1,),
        "activations": ("relu",),
        "pool": (False, True) if side >= 2 else (False,),
        "min_receptive_field": 0.0,
        "max_activations": None,
    }
    if len(input_shape) == 3:
        if side > 32:  # a first layer at full size would exceed the activation cap: let it stride
            choices["strides"] = (1, 2)
        choices["min_receptive_field"] = IMAGE_RECEPTIVE_FIELD
        choices["max_activations"] = IMAGE_ACTIVATIONS
    return choices


SHORT_TEXT = 64
"""Token sequences up to this length (names, titles, short messages) get the short-text defaults."""


def token_choices(length: int) -> dict[str, Any]:
    """Defaults for token ids (text): an embedding, then up to three layers among a 1D convolution, a GRU or
    LSTM (uni- or bidirectional) and a self-attention block (2 or 4 heads), then mean, max or attention pooling
    over the real tokens. No layer at all is a choice too: pooled embeddings and the head, the deep averaging
    network (fastText's model), which trains in seconds where a recurrent layer over long texts takes minutes
    (on the State of the Union paragraphs, 27 s against 150-290 s for 8 epochs on one core). The layers keep
    the sequence's length (stride 1, no pooling between layers), so the padding mask holds at every layer and
    padding never changes a prediction; convolutions get long kernels (up to 7) because a token chain is short;
    widths stop at 128, where one CPU thread trains a bidirectional GRU over 5,000 names in about a second
    per epoch.

    Short texts (at most ``SHORT_TEXT`` tokens) get one or two conv/GRU/LSTM layers and max pooling: recurrent
    layers are cheap there, and what the broad defaults add (attention blocks, mean pooling, no layer or three)
    mostly spent a 300 s budget on weaker networks. On the names corpus (char level, 300 s,
    ``docs/benchmarks.md``, issue 20) the winners tested 0.8932, 0.8826 and 0.8857 on seeds 0-2 (mean 0.8872)
    against 0.8838, 0.8770 and 0.8919 with attention pooling as a second choice (which no winner took, and
    which trained single chains 1-3 points below max pooling) and 0.8688, 0.8782 and 0.8688 for the broad
    defaults.
    """
    if length <= SHORT_TEXT:
        return {
            **token_choices(SHORT_TEXT + 1),
            "depth": (1, 2),
            "ops": ("conv", "gru", "lstm"),
            "readout": ("max",),
        }
    from nasforge.ops import MAX_LENGTH

    return {
        "depth": (0, 3),
        # attention's positional table ends at MAX_LENGTH: longer texts (long character sequences) go without it
        "ops": ("conv", "gru", "lstm", *(("attention",) if length <= MAX_LENGTH else ())),
        "widths": (32, 64, 128),
        "kernels": (3, 5, 7),
        "strides": (1,),
        "activations": ("relu",),
        "pool": (False,),
        "min_receptive_field": 0.0,
        "max_activations": None,
        "embed": (32, 64, 128),
        "heads": (2, 4),
        "bidirectional": (False, True),
        "readout": ("mean", "max", "attention"),
    }


@dataclass(frozen=True)
class Extent:
    """What a chain has made of the input so far: spatial sizes, receptive field and jump (input pixels
    between neighbouring outputs), for validity checks without building the network."""

    sizes: tuple[int, ...]
    field: int = 1
    jump: int = 1


def advance(extent: Extent, layer: Layer, max_activations: int | None) -> Extent | str:
    """The extent after ``layer``, or why the layer cannot follow ``extent``."""
    if layer.op in SEQUENCE_LAYER_OPS:
        return _global(extent, layer, max_activations)
    if layer.kernel is None or layer.stride is None:
        return extent
    sizes, field, jump = [], extent.field + (layer.kernel - 1) * extent.jump, extent.jump * layer.stride
    for n in extent.sizes:
        if layer.stride > n:
            return f"stride {layer.stride} on an axis of {n} would shrink it below 1"
        if layer.op in POOL_OPS and layer.kernel > n:
            return f"pool window {layer.kernel} is wider than its input axis of {n}"
        m = out_size(n, layer.kernel, layer.stride)
        if m < 1:
            return f"kernel {layer.kernel} does not fit an axis of {n}"
        if layer.pool and m < 2:
            return f"its 2x2 pool needs an axis of at least 2, got {m}"
        sizes.append(m)
    if max_activations is not None and layer.width is not None:
        values = layer.width * math.prod(sizes)
        if values > max_activations:
            shape = "x".join(map(str, (layer.width, *sizes)))
            return f"it outputs {values:,} values per sample ({shape}), over max_activations {max_activations:,}"
    if layer.pool:
        sizes, field, jump = [m // 2 for m in sizes], field + jump, jump * 2
    return Extent(tuple(sizes), field, jump)


def _global(extent: Extent, layer: Layer, max_activations: int | None) -> Extent | str:
    """A recurrent or attention layer: the sizes stay, every output sees the whole input."""
    width = int(layer.width or 0)
    if layer.heads is not None and width % layer.heads:
        return f"its width {width} is not divisible by its {layer.heads} heads"
    if layer.bidirectional and width % 2:
        return f"a bidirectional layer splits its width {width} between two directions: it must be even"
    if max_activations is not None and width * math.prod(extent.sizes) > max_activations:
        values = width * math.prod(extent.sizes)
        return f"it outputs {values:,} values per sample, over max_activations {max_activations:,}"
    return Extent(extent.sizes, WHOLE_INPUT, extent.jump)
