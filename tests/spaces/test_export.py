"""Built networks export to ONNX with a dynamic batch and match PyTorch; FLOPs are countable."""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
import pytest
import torch
from torch.utils.flop_counter import FlopCounterMode

from nasforge.spaces import CellSpace, ChainSpace

ALL_SPATIAL = ("conv", "sep_conv", "max_pool", "avg_pool", "identity")
CASES = [
    (
        ChainSpace(input_shape=(1, 8, 8), ops=ALL_SPATIAL, strides=(1, 2)),
        "conv(32,k3,s1,relu,pool)>avg_pool(k3,s2)>sep_conv(16,k5,s2,relu)",
        (1, 8, 8),
    ),
    (
        ChainSpace(input_shape=(3, 20), ops=ALL_SPATIAL, strides=(1, 2), dropout=(0.0, 0.2)),
        "conv(32,k7,s2,relu,p0.2)>max_pool(k3,s2)",
        (3, 20),
    ),
    (ChainSpace(input_shape=(12,), activations=("gelu", "tanh")), "dense(64,gelu)>dense(32,tanh)", (12,)),
    (
        CellSpace(stem_channels=4),
        "|nor_conv_3x3~0|+|avg_pool_3x3~0|skip_connect~1|+|none~0|nor_conv_1x1~1|avg_pool_3x3~2|",
        (1, 7, 9),
    ),
]


@pytest.mark.parametrize(("space", "arch", "shape"), CASES, ids=["image", "sequence", "flat", "cell"])
def test_onnx_export_dynamic_batch(space, arch: str, shape: tuple[int, ...], tmp_path: Path) -> None:
    ort = pytest.importorskip("onnxruntime")
    model = space.build(arch, shape, 4).eval()
    path = tmp_path / "model.onnx"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        torch.onnx.export(
            model, (torch.randn(2, *shape),), str(path), opset_version=17, dynamo=False,
            input_names=["x"], dynamic_axes={"x": {0: "batch"}},
        )  # fmt: skip
    x = torch.randn(5, *shape)
    out = ort.InferenceSession(str(path)).run(None, {"x": x.numpy()})[0]
    with torch.no_grad():
        np.testing.assert_allclose(out, model(x).numpy(), atol=1e-5)


@pytest.mark.parametrize(("space", "arch", "shape"), CASES, ids=["image", "sequence", "flat", "cell"])
def test_flops_are_countable(space, arch: str, shape: tuple[int, ...]) -> None:
    model = space.build(arch, shape, 4)
    with FlopCounterMode(display=False) as counter:
        model(torch.randn(2, *shape))
    assert counter.get_total_flops() > 0
