"""Export: best.pt loads with weights_only=True, best.onnx matches PyTorch in onnxruntime, best.json atomic."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import torch
from torch import nn

from nasforge.exceptions import ExportError
from nasforge.export import export_best, export_model, write_best_json


def small_cnn() -> nn.Module:
    torch.manual_seed(0)
    return nn.Sequential(
        nn.Conv2d(1, 4, 3, padding=1),
        nn.BatchNorm2d(4),
        nn.ReLU(),
        nn.AdaptiveAvgPool2d(1),
        nn.Flatten(),
        nn.Linear(4, 3),
    )


@pytest.fixture(scope="module")
def exported(tmp_path_factory: pytest.TempPathFactory):
    out = tmp_path_factory.mktemp("export")
    model = small_cnn()
    samples = np.random.default_rng(0).normal(size=(5, 1, 8, 8)).astype(np.float32)
    payload = {"architecture": "conv4", "metrics": {"accuracy": np.float64(0.9)}, "config": {"epochs": 2}}
    paths = export_best(out, payload, model, (1, 8, 8), samples=samples, rebuild=small_cnn)
    return model, samples, paths


def test_pt_loads_with_weights_only(exported) -> None:
    model, samples, paths = exported
    fresh = small_cnn()
    fresh.load_state_dict(torch.load(paths["pt"], weights_only=True))
    fresh.eval()
    model.eval()
    x = torch.from_numpy(samples)
    assert torch.equal(fresh(x), model(x))


def test_onnx_matches_pytorch_at_any_batch_size(exported) -> None:
    import onnxruntime as ort

    model, _, paths = exported
    session = ort.InferenceSession(str(paths["onnx"]), providers=["CPUExecutionProvider"])
    model.eval()
    for batch in (1, 3, 17):
        x = torch.randn(batch, 1, 8, 8)
        got = session.run(None, {session.get_inputs()[0].name: x.numpy()})[0]
        np.testing.assert_allclose(got, model(x).detach().numpy(), atol=1e-4, rtol=1e-4)


def test_best_json_holds_payload_and_export_details(exported) -> None:
    _, _, paths = exported
    data = json.loads(paths["json"].read_text())
    assert data["architecture"] == "conv4" and data["metrics"] == {"accuracy": 0.9}
    assert data["export"]["pt"] == "best.pt" and data["export"]["onnx"] == "best.onnx"
    assert data["export"]["onnx_max_abs_diff"] <= 1e-4
    assert sorted(p.name for p in paths["json"].parent.iterdir()) == ["best.json", "best.onnx", "best.pt"]


def test_export_does_not_change_the_model(tmp_path: Path) -> None:
    model = small_cnn().train()
    export_model(model, (1, 8, 8), tmp_path, stem="m")
    assert model.training and (tmp_path / "m.pt").is_file() and (tmp_path / "m.onnx").is_file()


def test_wrong_sample_shape(tmp_path: Path) -> None:
    with pytest.raises(ExportError, match=r"^export: samples must have shape \(n, 1, 8, 8\), got \(2, 8, 8\)$"):
        export_model(small_cnn(), (1, 8, 8), tmp_path, samples=np.zeros((2, 8, 8)))


def test_a_rebuild_of_another_architecture_is_caught(tmp_path: Path) -> None:
    def other() -> nn.Module:
        return nn.Sequential(nn.Flatten(), nn.Linear(64, 3))

    with pytest.raises(ExportError, match=r"^best\.pt: does not load back with weights_only=True: RuntimeError"):
        export_model(small_cnn(), (1, 8, 8), tmp_path, rebuild=other)


def test_write_best_json_is_atomic_and_pretty(tmp_path: Path) -> None:
    path = tmp_path / "best.json"
    path.write_text("old")
    write_best_json(path, {"a": np.int64(3), "b": (1, 2), "c": np.arange(2), "p": tmp_path})
    text = path.read_text()
    assert json.loads(text) == {"a": 3, "b": [1, 2], "c": [0, 1], "p": str(tmp_path)}
    assert text.startswith("{\n  ") and [p.name for p in tmp_path.iterdir()] == ["best.json"]
    with pytest.raises(TypeError):
        write_best_json(path, {"x": object()})
    assert json.loads(path.read_text())["a"] == 3  # a failed write leaves the old file alone
    assert [p.name for p in tmp_path.iterdir()] == ["best.json"]


def test_falls_back_to_the_torchscript_exporter(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    original = torch.onnx.export

    def default_fails(*args, **kwargs):
        if kwargs.get("dynamo", True):
            raise RuntimeError("unsupported op\nsecond line")
        return original(*args, **kwargs)

    monkeypatch.setattr(torch.onnx, "export", default_fails)
    result = export_model(small_cnn(), (1, 8, 8), tmp_path)
    assert result.exporter == "torchscript" and result.max_abs_diff <= 1e-4
    assert result.note == "default ONNX exporter failed (RuntimeError: unsupported op); used dynamo=False"


def test_onnx_mismatch_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(ExportError, match=r"^best\.onnx: onnxruntime outputs differ from PyTorch by up to"):
        export_model(small_cnn(), (1, 8, 8), tmp_path, atol=-1.0, rtol=0.0)


def test_a_channels_last_model_exports_in_the_layout_a_fresh_module_has(tmp_path: Path) -> None:
    def two_channel_cnn() -> nn.Module:
        torch.manual_seed(0)
        return nn.Sequential(nn.Conv2d(2, 4, 3, padding=1), nn.ReLU(), nn.Flatten(2), nn.Flatten(), nn.Linear(256, 3))

    model = two_channel_cnn().to(memory_format=torch.channels_last)  # how the trainer leaves an image model
    samples = np.random.default_rng(1).normal(size=(6, 2, 8, 8)).astype(np.float32)
    result = export_model(model, (2, 8, 8), tmp_path, samples=samples, rebuild=two_channel_cnn)
    state = torch.load(result.pt, weights_only=True)
    assert all(t.is_contiguous() for t in state.values())
    assert model[0].weight.is_contiguous(memory_format=torch.channels_last), "the caller's model is left as it was"
