"""The chain architecture value: a tuple of layers with one canonical, readable string.

``conv(32,k3,s1,relu,pool)>max_pool(k2,s2)>sep_conv(64,k5,s1,gelu,nobn,p0.2)>dense(...)``: layers joined by
``>``; a learned layer lists its width, ``k`` kernel, ``s`` stride and activation, then ``pool`` when a 2x2
max-pool (stride 2) follows it, ``nobn`` when it has no batch norm and ``p<rate>`` when it has dropout; a pool
layer lists only kernel and stride. Fields that do not concern an op are cleared when a :class:`Layer` is made,
so two layers that build the same module are equal values.

Sequence layers list their width (hidden size, model dimension) and ``bi`` (a bidirectional ``gru``/``lstm``)
or ``h<heads>`` (``attention``): ``embed(64)>conv(64,k5,s1,relu)>gru(64,bi)>attention(64,h4)>readout(max)``.
A chain on token ids starts with ``embed(<dim>)``; a chain on sequences may end with ``readout(<pooling>)``
(mean, max, last or attention pooling over the positions; mean when absent).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, fields

from nasforge.exceptions import InvalidArchitecture

__all__ = ["LEARNED_OPS", "POOL_OPS", "READOUTS", "SEQUENCE_LAYER_OPS", "WEIGHTED_OPS", "Chain", "Layer", "out_size"]

#: Ops with weights, a width and an activation (followed by optional BN and dropout in a chain).
LEARNED_OPS = ("conv", "sep_conv", "dense")
#: Ops that only resample: kernel and stride matter, width and activation do not.
POOL_OPS = ("max_pool", "avg_pool")
#: Sequence ops with weights and a width that see every position: recurrent layers and self-attention.
SEQUENCE_LAYER_OPS = ("gru", "lstm", "attention")
#: Every op with weights (a chain needs one).
WEIGHTED_OPS = LEARNED_OPS + SEQUENCE_LAYER_OPS
#: How a sequence chain pools its positions into one vector for the head.
READOUTS = ("mean", "max", "last", "attention")

_SPATIAL_LEARNED = ("conv", "sep_conv")
_TOKEN = re.compile(r"^([a-z_]+)(?:\((.*)\))?$")
_FORMS = {
    "conv": "conv(width,k<kernel>,s<stride>,activation[,pool][,nobn][,p<dropout>])",
    "sep_conv": "sep_conv(width,k<kernel>,s<stride>,activation[,pool][,nobn][,p<dropout>])",
    "dense": "dense(width,activation[,nobn][,p<dropout>])",
    "max_pool": "max_pool(k<kernel>,s<stride>)",
    "avg_pool": "avg_pool(k<kernel>,s<stride>)",
    "identity": "identity",
    "gru": "gru(width[,bi][,p<dropout>])",
    "lstm": "lstm(width[,bi][,p<dropout>])",
    "attention": "attention(width,h<heads>[,p<dropout>])",
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
    ``heads`` (attention) and ``bidirectional`` (gru, lstm) concern only the sequence ops.
    """

    op: str
    width: int | None = None
    kernel: int | None = None
    stride: int | None = None
    activation: str | None = None
    batch_norm: bool = True
    dropout: float = 0.0
    pool: bool = False
    heads: int | None = None
    bidirectional: bool = False

    def __post_init__(self) -> None:
        if self.op not in _FORMS:
            raise InvalidArchitecture(f"unknown layer op {self.op!r} (allowed: {', '.join(_FORMS)})")
        learned, spatial = self.op in LEARNED_OPS, self.op in _SPATIAL_LEARNED or self.op in POOL_OPS
        clear = {
            "width": self.op not in WEIGHTED_OPS,
            "activation": not learned,
            "kernel": not spatial,
            "stride": not spatial,
            "heads": self.op != "attention",
        }
        for name, drop in clear.items():
            if drop:
                object.__setattr__(self, name, None)
        if self.op not in _SPATIAL_LEARNED:
            object.__setattr__(self, "pool", False)
        if self.op not in ("gru", "lstm"):
            object.__setattr__(self, "bidirectional", False)
        if not learned:
            object.__setattr__(self, "batch_norm", False)
        if self.op not in WEIGHTED_OPS:
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
        if self.bidirectional:
            args.append("bi")
        if self.heads is not None:
            args.append(f"h{self.heads}")
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
    if arg == "bi":
        return "bidirectional", True
    if re.fullmatch(r"h\d+", arg):
        return "heads", int(arg[1:])
    if re.fullmatch(r"[a-z_]+", arg):
        return "activation", arg
    raise InvalidArchitecture(
        f"argument {arg!r}: expected a width (32), k<kernel>, s<stride>, an activation, pool, nobn, bi, h<heads> "
        "or p<dropout>"
    )


@dataclass(frozen=True)
class Chain:
    """A macro architecture: layers applied in order, then pooling over positions (if spatial) and the head.

    ``embed`` is the token embedding's dimension (token input only); ``readout`` how a sequence chain pools
    its positions (``None``: the mean, as every spatial chain does).

    >>> str(Chain.parse("conv(32,k3,s1,relu) > max_pool(k3,s2)"))
    'conv(32,k3,s1,relu)>max_pool(k3,s2)'
    >>> Chain.parse("embed(32)>gru(64,bi)>readout(max)").embed
    32
    """

    layers: tuple[Layer, ...]
    embed: int | None = None
    readout: str | None = None

    def __post_init__(self) -> None:
        if self.readout is not None and self.readout not in READOUTS:
            raise InvalidArchitecture(f"readout {self.readout!r}: expected one of {', '.join(READOUTS)}")
        if self.embed is not None and (not isinstance(self.embed, int) or self.embed < 1):
            raise InvalidArchitecture(f"embed {self.embed!r}: expected a positive dimension")

    def __str__(self) -> str:
        parts = [] if self.embed is None else [f"embed({self.embed})"]
        parts += map(str, self.layers)
        if self.readout is not None:
            parts.append(f"readout({self.readout})")
        return ">".join(parts)

    def __len__(self) -> int:
        return len(self.layers)

    @classmethod
    def parse(cls, text: str) -> Chain:
        if not text.strip():
            raise InvalidArchitecture("chain architecture: empty string (layers are joined by '>')")
        tokens = [t.strip().replace(" ", "") for t in text.split(">")]
        embed = readout = None
        if tokens and re.fullmatch(r"embed\(\d+\)", tokens[0]):
            embed = int(tokens.pop(0)[6:-1])
        if tokens and re.fullmatch(r"readout\([a-z]+\)", tokens[-1]):
            readout = tokens.pop()[8:-1]
        layers = []
        for token in tokens:
            try:
                layers.append(Layer.parse(token))
            except InvalidArchitecture as err:
                raise InvalidArchitecture(f"architecture {text!r}: {err}") from None
        return cls(tuple(layers), embed, readout)
