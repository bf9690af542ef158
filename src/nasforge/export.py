"""Export the winner: ``best.pt`` (state dict), ``best.onnx`` (verified with onnxruntime) and ``best.json``.

Every file is checked after it is written, because an export nobody can load is found out only when it is
deployed: the state dict must load with ``torch.load(weights_only=True)`` and reproduce the model's outputs,
and the ONNX graph must match the PyTorch outputs on real samples at batch sizes 1 and ``n``. Files are
written to a temporary name and renamed, so an interrupted export never leaves half a file.
torch, onnx and onnxruntime are imported only here, inside the functions.
"""

from __future__ import annotations

import contextlib
import copy
import json
import logging
import os
import warnings
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from nasforge.atomic import torch_bytes, write_atomic
from nasforge.exceptions import ExportError

if TYPE_CHECKING:
    import torch
    from torch import nn

__all__ = ["ExportResult", "export_best", "export_model", "write_best_json"]

_INSTALL_HINT = "pip install onnx onnxscript onnxruntime"


@dataclass(frozen=True)
class ExportResult:
    """Where the files went and how closely the ONNX graph reproduces PyTorch (``max_abs_diff``)."""

    pt: Path
    onnx: Path
    max_abs_diff: float
    exporter: str
    note: str | None = None

    def describe(self) -> dict[str, Any]:
        return {
            "pt": self.pt.name,
            "onnx": self.onnx.name,
            "onnx_max_abs_diff": self.max_abs_diff,
            "onnx_exporter": self.exporter,
            **({"note": self.note} if self.note else {}),
        }


def export_model(
    model: nn.Module,
    input_shape: Sequence[int],
    out_dir: str | Path,
    stem: str = "best",
    samples: Any = None,
    rebuild: Callable[[], nn.Module] | None = None,
    atol: float = 1e-4,
    rtol: float = 1e-4,
) -> ExportResult:
    """Write ``<stem>.pt`` and ``<stem>.onnx`` (dynamic batch axis) for ``model`` and verify both.

    ``samples`` are real inputs ``(n, *input_shape)`` to verify on (random normal ones if ``None``; random token
    ids, some rows padded, for a model with a ``vocab_size``: its ONNX input is then int64 token ids);
    ``rebuild`` returns a fresh, untrained module of the same architecture to load ``<stem>.pt`` into: only
    that proves the state dict holds everything the outputs depend on. Without it the file is loaded into a copy
    of ``model``, which checks that it loads with ``weights_only=True`` and has every key, but not that state
    kept outside the state dict (a plain tensor attribute) is carried. The search's own exports always rebuild.
    The model is exported from a CPU copy in eval mode; ``model`` is not changed.
    """
    import torch

    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    # The trainer keeps image models channels-last; a fresh module (what users load the state dict into) is
    # not, and the two layouts run different kernels whose outputs differ in the last bits.
    model = copy.deepcopy(model).cpu().eval().to(memory_format=torch.contiguous_format)
    x = _samples(samples, input_shape, getattr(model, "vocab_size", None))
    with torch.no_grad():
        expected = model(x).numpy()
    pt = out / f"{stem}.pt"
    write_atomic(pt, lambda tmp: Path(tmp).write_bytes(torch_bytes(model.state_dict())))
    _verify_pt(pt, model if rebuild is None else rebuild(), x, expected)
    onnx_path = out / f"{stem}.onnx"
    exporter, note = write_atomic(onnx_path, lambda tmp: _export_onnx(model, x, tmp))
    diff = _verify_onnx(onnx_path, x, expected, atol, rtol)
    return ExportResult(pt, onnx_path, diff, exporter, note)


def export_best(
    out_dir: str | Path,
    payload: Mapping[str, Any],
    model: nn.Module,
    input_shape: Sequence[int],
    samples: Any = None,
    rebuild: Callable[[], nn.Module] | None = None,
    stem: str = "best",
) -> dict[str, Path]:
    """:func:`export_model`, then ``<stem>.json``: ``payload`` (architecture, metrics, config) plus the export."""
    result = export_model(model, input_shape, out_dir, stem=stem, samples=samples, rebuild=rebuild)
    json_path = Path(out_dir) / f"{stem}.json"
    write_best_json(json_path, {**payload, "export": result.describe()})
    return {"json": json_path, "pt": result.pt, "onnx": result.onnx}


def write_best_json(path: str | Path, payload: Mapping[str, Any]) -> Path:
    """Pretty JSON written atomically (temporary file + ``os.replace``); numpy values become plain numbers."""
    path = Path(path)
    text = json.dumps(payload, indent=2, default=_jsonable, allow_nan=True) + "\n"
    write_atomic(path, lambda tmp: Path(tmp).write_text(text, encoding="utf-8"))
    return path


def _jsonable(value: Any) -> Any:
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, (Path, os.PathLike)):
        return os.fspath(value)
    if isinstance(value, (set, frozenset)):
        return sorted(value)
    raise TypeError(f"best.json: cannot write a {type(value).__name__} as JSON")


def _samples(samples: Any, input_shape: Sequence[int], vocab_size: int | None = None) -> torch.Tensor:
    """The inputs to verify on: ``samples``, or 8 random ones (token ids below ``vocab_size``, with padding at
    the end of every other row, for a model on text; standard normal values otherwise)."""
    import torch

    if samples is None:
        generator = torch.Generator().manual_seed(0)
        if vocab_size is None:
            return torch.randn((8, *input_shape), generator=generator)
        tokens = torch.randint(1, vocab_size, (8, *input_shape), generator=generator)
        tokens[::2, input_shape[0] // 2 :] = 0
        return tokens
    raw = np.asarray(samples)
    x = torch.as_tensor(raw.astype(np.int64 if vocab_size is not None else np.float32))
    if tuple(x.shape[1:]) != tuple(input_shape) or len(x) == 0:
        raise ExportError(
            f"export: samples must have shape (n, {', '.join(map(str, input_shape))}), got {tuple(x.shape)}"
        )
    return x if len(x) > 1 else x.repeat(2, *([1] * len(input_shape)))  # a batch of 1 would fix the batch axis


def _verify_pt(path: Path, fresh: nn.Module, x: torch.Tensor, expected: np.ndarray) -> None:
    import torch

    try:
        state = torch.load(path, weights_only=True)
        fresh.load_state_dict(state)
    except Exception as exc:
        raise ExportError(f"{path.name}: does not load back with weights_only=True: {_first_line(exc)}") from None
    fresh = fresh.cpu().eval()
    with torch.no_grad():
        got = fresh(x).numpy()
    if not np.allclose(got, expected, atol=1e-6, rtol=1e-6):
        raise ExportError(f"{path.name}: the reloaded model's outputs differ by {np.abs(got - expected).max():.3g}")


def _export_onnx(model: nn.Module, x: torch.Tensor, path: str) -> tuple[str, str | None]:
    """Export with torch's default (dynamo) exporter; fall back to the TorchScript one if that fails."""
    import torch

    try:
        import onnxscript  # noqa: F401  (the default exporter needs it)
    except ImportError:
        raise ExportError(f"export: writing ONNX needs onnx and onnxscript ({_INSTALL_HINT})") from None
    names: dict[str, Any] = {"input_names": ["input"], "output_names": ["logits"], "verbose": False}
    with _quiet():
        try:
            batch = torch.export.Dim("batch")
            torch.onnx.export(model, (x,), path, dynamic_shapes=({0: batch},), external_data=False, **names)
            return "dynamo", None
        except Exception as exc:
            note = f"default ONNX exporter failed ({_first_line(exc)}); used dynamo=False"
        try:
            axes = {"input": {0: "batch"}, "logits": {0: "batch"}}
            torch.onnx.export(model, (x,), path, dynamo=False, dynamic_axes=axes, **names)
        except Exception as exc:
            raise ExportError(f"export: ONNX export failed: {_first_line(exc)}") from None
    return "torchscript", note


def _verify_onnx(path: Path, x: torch.Tensor, expected: np.ndarray, atol: float, rtol: float) -> float:
    try:
        import onnxruntime as ort
    except ImportError:
        raise ExportError(f"export: verifying {path.name} needs onnxruntime ({_INSTALL_HINT})") from None
    try:
        session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
        name = session.get_inputs()[0].name
        got = session.run(None, {name: x.numpy()})[0]
        single = session.run(None, {name: x[:1].numpy()})[0]
    except Exception as exc:
        raise ExportError(f"{path.name}: onnxruntime cannot run it: {_first_line(exc)}") from None
    diff = float(max(np.abs(got - expected).max(), np.abs(single - expected[:1]).max()))
    ok = np.allclose(got, expected, atol=atol, rtol=rtol) and np.allclose(single, expected[:1], atol=atol, rtol=rtol)
    if not ok:
        raise ExportError(f"{path.name}: onnxruntime outputs differ from PyTorch by up to {diff:.3g} (atol {atol:g})")
    return diff


@contextlib.contextmanager
def _quiet() -> Iterator[None]:
    """Silence the exporter's progress lines and warnings; failures still raise."""
    logger = logging.getLogger("torch.onnx")
    level = logger.level
    logger.setLevel(logging.ERROR)
    try:
        with open(os.devnull, "w") as sink, warnings.catch_warnings(), contextlib.redirect_stdout(sink):
            warnings.simplefilter("ignore")
            yield
    finally:
        logger.setLevel(level)


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return f"{type(exc).__name__}: {text[0] if text else ''}".rstrip(": ")
