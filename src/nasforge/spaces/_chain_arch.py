"""The chain architecture value: a tuple of layers with one canonical, readable string.

``conv(32,k3,s1,relu,pool)>max_pool(k2,s2)>sep_conv(64,k5,s1,gelu,nobn,p0.2)>dense(...)``: layers joined by
``>``; a learned layer lists its width, ``k`` kernel, ``s`` stride and activation, then ``pool`` when a 2x2
max-pool (stride 2) follows it, ``nobn`` when it has no batch norm and ``p<rate>`` when it has dropout; a pool
layer lists only kernel and stride. Fields that do not concern an op are cleared when a :class:`Layer` is made,
so two layers that build the same module are equal values.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, fields

from nasforge.exceptions import InvalidArchitecture

__all__ = ["LEARNED_OPS", "POOL_OPS", "Chain", "Layer", "out_size"]

#: Ops with weights, a width and an activation (followed by optional BN and dropout in a chain).
LEARNED_OPS = ("conv", "sep_conv", "dense")
#: Ops that only resample: kernel and stride matter, width and activation do not.
POOL_OPS = ("max_pool", "avg_pool")

_SPATIAL_LEARNED = ("conv", "sep_conv")
_TOKEN = re.compile(r"^([a-z_]+)(?:\((.*)\))?$")
_FORMS = {
    "conv": "conv(width,k<kernel>,s<stride>,activation[,pool][,nobn][,p<dropout>])",
    "sep_conv": "sep_conv(width,k<kernel>,s<stride>,activation[,pool][,nobn][,p<dropout>])",
    "dense": "dense(width,activation[,nobn][,p<dropout>])",
    "max_pool": "max_pool(k<kernel>,s<stride>)",
    "avg_pool": "avg_pool(k<kernel>,s<stride>)",
    "identity": "identity",
}


def out_size(n: int, kernel: int, stride: int) -> int:
    """Output length of a spatial layer op on a length-``n`` axis (< 1: it does not fit).

    The same arithmetic as the ``LAYER_OPS`` modules, which pad by ``(kernel - 1) // 2``: odd kernels keep the
    size at stride 1 and give ``ceil(n / stride)`` otherwise. Kept here, free of torch, so that validity and
    the space's size are known without importing it.
    """
    return (n + 2 * ((kernel - 1) // 2) - kernel) // stride + 1


@dataclass(frozen=True)
class Layer:
    """One chain layer; irrelevant fields are normalised (a pool has no width, ``dense`` no kernel).

    ``pool`` puts a 2x2 max-pool of stride 2 after a conv's activation: the classic conv-BN-ReLU-pool block,
    one decision per layer instead of a separate pool layer that would take a slot of the chain's depth.
    """

    op: str
    width: int | None = None
    kernel: int | None = None
    stride: int | None = None
    activation: str | None = None
    batch_norm: bool = True
    dropout: float = 0.0
    pool: bool = False

    def __post_init__(self) -> None:
        if self.op not in _FORMS:
            raise InvalidArchitecture(f"unknown layer op {self.op!r} (allowed: {', '.join(_FORMS)})")
        learned, spatial = self.op in LEARNED_OPS, self.op in _SPATIAL_LEARNED or self.op in POOL_OPS
        clear = {
            "width": not learned,
            "activation": not learned,
            "kernel": not spatial,
            "stride": not spatial,
        }
        for name, drop in clear.items():
            if drop:
                object.__setattr__(self, name, None)
        if self.op not in _SPATIAL_LEARNED:
            object.__setattr__(self, "pool", False)
        if not learned:
            object.__setattr__(self, "batch_norm", False)
            object.__setattr__(self, "dropout", 0.0)
        object.__setattr__(self, "dropout", float(self.dropout))
        missing = [
            f.name for f in fields(self) if f.name in clear and not clear[f.name] and getattr(self, f.name) is None
        ]
        if missing:
            raise InvalidArchitecture(f"layer {self.op!r} needs {', '.join(missing)} (form: {_form(self.op)})")

    def __str__(self) -> str:
        if self.op == "identity":
            return "identity"
        args: list[str] = []
        if self.width is not None:
            args.append(str(self.width))
        if self.kernel is not None:
            args += [f"k{self.kernel}", f"s{self.stride}"]
        if self.activation is not None:
            args.append(self.activation)
            if self.pool:
                args.append("pool")
            if not self.batch_norm:
                args.append("nobn")
            if self.dropout:
                args.append(f"p{self.dropout!r}")
        return f"{self.op}({','.join(args)})"

    @classmethod
    def parse(cls, token: str) -> Layer:
        """Read one layer token; the error names the token and the form its op takes."""
        token = token.strip()
        match = _TOKEN.match(token.replace(" ", ""))
        if match is None:
            raise InvalidArchitecture(f"layer {token!r}: expected op(args...), e.g. {_FORMS['conv']}")
        op, body = match.group(1), match.group(2)
        if op not in _FORMS:
            raise InvalidArchitecture(f"layer {token!r}: unknown op {op!r} (allowed: {', '.join(_FORMS)})")
        values: dict[str, object] = {}
        for arg in body.split(",") if body else []:
            name, value = _read_arg(arg)
            if name in values:
                raise InvalidArchitecture(f"layer {token!r}: {name} given twice (form: {_FORMS[op]})")
            values[name] = value
        layer = cls(op, **values)  # type: ignore[arg-type]
        unused = [name for name, value in values.items() if getattr(layer, name) != value]
        if unused:
            raise InvalidArchitecture(f"layer {token!r}: {op} takes no {', '.join(unused)} (form: {_FORMS[op]})")
        return layer


def _form(op: str) -> str:
    return _FORMS.get(op, f"one of {', '.join(_FORMS)}")


def _read_arg(arg: str) -> tuple[str, object]:
    """Classify one argument by its shape: ``32`` width, ``k3`` kernel, ``s2`` stride, ``p0.1`` dropout."""
    if arg == "pool":
        return "pool", True
    if arg.isdigit():
        return "width", int(arg)
    if re.fullmatch(r"k\d+", arg):
        return "kernel", int(arg[1:])
    if re.fullmatch(r"s\d+", arg):
        return "stride", int(arg[1:])
    if re.fullmatch(r"p\d*\.?\d+(e-?\d+)?", arg):
        return "dropout", float(arg[1:])
    if arg in ("bn", "nobn"):
        return "batch_norm", arg == "bn"
    if re.fullmatch(r"[a-z_]+", arg):
        return "activation", arg
    raise InvalidArchitecture(
        f"argument {arg!r}: expected a width (32), k<kernel>, s<stride>, an activation, pool, nobn or p<dropout>"
    )


@dataclass(frozen=True)
class Chain:
    """A macro architecture: layers applied in order, then global average pooling (if spatial) and a classifier.

    >>> str(Chain.parse("conv(32,k3,s1,relu) > max_pool(k3,s2)"))
    'conv(32,k3,s1,relu)>max_pool(k3,s2)'
    """

    layers: tuple[Layer, ...]

    def __str__(self) -> str:
        return ">".join(map(str, self.layers))

    def __len__(self) -> int:
        return len(self.layers)

    @classmethod
    def parse(cls, text: str) -> Chain:
        if not text.strip():
            raise InvalidArchitecture("chain architecture: empty string (layers are joined by '>')")
        layers = []
        for token in text.split(">"):
            try:
                layers.append(Layer.parse(token))
            except InvalidArchitecture as err:
                raise InvalidArchitecture(f"architecture {text!r}: {err}") from None
        return cls(tuple(layers))
