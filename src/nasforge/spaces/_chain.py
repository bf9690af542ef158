"""Macro "list of layers" space for image ``(C,H,W)``, sequence ``(C,L)`` and flat ``(F,)`` inputs.

Decisions are the depth and, per layer slot, op, width, kernel, stride, activation, a 2x2 max-pool after the
layer (plus batch norm and dropout when given several choices). Canonical values drop ``identity`` layers and
clear the fields an op ignores, so two vectors building the same network give the same :class:`Chain`. A chain
whose downsampling would shrink a spatial axis below one element (or whose pool window is wider than its input)
is invalid: ``from_decisions`` rejects it with the reason, so no strategy proposes it and no training run
crashes on it.
"""

from __future__ import annotations

import itertools
from collections.abc import Hashable, Sequence
from functools import cache, cached_property
from typing import TYPE_CHECKING, Any, ClassVar

from nasforge.exceptions import ConfigError, InvalidArchitecture
from nasforge.spaces._base import SPACES, Decision, SearchSpace
from nasforge.spaces._chain_arch import LEARNED_OPS, POOL_OPS, Chain, Layer, out_size

if TYPE_CHECKING:
    from nasforge.spaces._chain_net import ChainNetwork

__all__ = ["ChainSpace"]

_KINDS = {1: "flat", 2: "sequence", 3: "image"}
_SPATIAL_OPS = ("conv", "sep_conv", "max_pool", "avg_pool", "identity")  # allowed; defaults drop avg_pool
_FIELDS = ("op", "width", "kernel", "stride", "activation", "pool", "batch_norm", "dropout")
_PLURAL = {"batch_norm": "batch_norms", "dropout": "dropouts", "pool": "pools"}


def default_choices(input_shape: Sequence[int]) -> dict[str, Any]:
    """Choices that suit the input kind: conv-BN-ReLU(-pool) chains for images and sequences, MLPs for vectors.

    Measured on digits (1x8x8, 8 epochs): ReLU only and no average pooling raise the median accuracy of random
    chains from 0.40 to 0.84. Plain convolutions with an optional 2x2 max-pool per layer (rather than strides,
    separable convs and pool layers taking depth slots) leave a searcher fewer dead ends still, and widths
    8-64 at depth 1-4 cost per trial what a hand-written search over the same block costs (depth 2-4 at widths
    16-64 made trials 1.3x (digits) to 2.2x (sequences) slower with no consistent gain in single-seed test
    accuracy; see ``docs/benchmarks.md``, issue 12). Users who want more pass the choices explicitly.
    """
    if len(input_shape) == 1:
        return {
            "depth": (1, 3),
            "ops": ("dense",),
            "widths": (16, 32, 64, 128),
            "kernels": (),
            "strides": (),
            "activations": ("relu",),
            "pool": (False,),
        }
    side = min(input_shape[1:])
    kernels = (3, 5, 7) if len(input_shape) == 2 else (3, 5)
    return {
        "depth": (1, 4),
        "ops": ("conv",),
        "widths": (8, 16, 32, 64),
        "kernels": tuple(k for k in kernels if k <= max(side, 3)),
        "strides": (1,),
        "activations": ("relu",),
        "pool": (False, True) if side >= 2 else (False,),
    }


def _advance(sizes: tuple[int, ...], layer: Layer) -> tuple[int, ...] | str:
    """Spatial sizes after ``layer``, or why it cannot fit them."""
    if layer.kernel is None or layer.stride is None:
        return sizes
    new = []
    for n in sizes:
        if layer.stride > n:
            return f"stride {layer.stride} on an axis of {n} would shrink it below 1"
        if layer.op in POOL_OPS and layer.kernel > n:
            return f"pool window {layer.kernel} is wider than its input axis of {n}"
        m = out_size(n, layer.kernel, layer.stride)
        if m < 1:
            return f"kernel {layer.kernel} does not fit an axis of {n}"
        if layer.pool and m < 2:
            return f"its 2x2 pool needs an axis of at least 2, got {m}"
        new.append(m // 2 if layer.pool else m)
    return tuple(new)


def _relevant(op: str, field: str) -> bool:
    """Whether ``field`` shapes the module ``op`` builds (the others are normalised away)."""
    if field == "op":
        return True
    if field in ("kernel", "stride"):
        return op not in ("dense", "identity")
    if field == "pool":
        return op in ("conv", "sep_conv")
    return op in LEARNED_OPS


def _choices(name: str, given: Any, default: tuple[Any, ...]) -> tuple[Any, ...]:
    values = default if given is None else (given,) if isinstance(given, (bool, int, float, str)) else tuple(given)
    if len(set(values)) != len(values):
        raise ConfigError(f"space.{name}: choices must be distinct, got {list(values)}")
    return values


@SPACES.register("chain")
class ChainSpace(SearchSpace):
    """Macro search space: a chain of layers (1 to 4 convs by default; 1 to 3 dense) for images, sequences or vectors.

    ``input_shape`` is one sample's shape without the batch axis; options left ``None`` get defaults that fit it.

    >>> space = ChainSpace(input_shape=(1, 8, 8))
    >>> arch = space.from_string("conv(32,k3,s1,relu,pool)>conv(64,k3,s1,relu)")
    >>> space.to_string(arch)
    'conv(32,k3,s1,relu,pool)>conv(64,k3,s1,relu)'
    """

    name: ClassVar[str] = "chain"

    def __init__(
        self,
        input_shape: Sequence[int],
        depth: int | Sequence[int] | None = None,
        ops: Sequence[str] | None = None,
        widths: Sequence[int] | None = None,
        kernels: Sequence[int] | None = None,
        strides: Sequence[int] | None = None,
        activations: Sequence[str] | None = None,
        batch_norm: bool | Sequence[bool] = True,
        dropout: float | Sequence[float] = 0.0,
        pool: bool | Sequence[bool] | None = None,
    ) -> None:
        shape = tuple(input_shape)
        if len(shape) not in _KINDS or not all(isinstance(d, int) and d >= 1 for d in shape):
            raise ConfigError(f"space.input_shape: expected (F,), (C,L) or (C,H,W) of positive ints, got {list(shape)}")
        defaults = default_choices(shape)
        depth = defaults["depth"] if depth is None else depth
        lo, hi = (depth, depth) if isinstance(depth, int) else tuple(depth)
        if not 1 <= lo <= hi:
            raise ConfigError(f"space.depth: expected an int or [min, max] with 1 <= min <= max, got {depth}")
        self.input_shape, self.depth = shape, (int(lo), int(hi))
        self.ops = _choices("ops", ops, defaults["ops"])
        self.widths = _choices("widths", widths, defaults["widths"])
        self.kernels = _choices("kernels", kernels, defaults["kernels"])
        self.strides = _choices("strides", strides, defaults["strides"])
        self.activations = _choices("activations", activations, defaults["activations"])
        self.batch_norms = _choices("batch_norm", batch_norm, ())
        self.dropouts = tuple(float(p) for p in _choices("dropout", dropout, ()))
        self.pools = _choices("pool", pool, defaults["pool"])
        self._validate()

    @property
    def kind(self) -> str:
        return _KINDS[len(self.input_shape)]

    def _validate(self) -> None:
        from nasforge.ops import ACTIVATIONS, LAYER_OPS  # torch only once a space is made, not for --help

        for op in self.ops:
            LAYER_OPS.get(op)  # unknown names: ConfigError with close matches
        allowed = ("dense", "identity") if self.kind == "flat" else _SPATIAL_OPS
        wrong = [op for op in self.ops if op not in allowed]
        if wrong or not set(self.ops) - {"identity"}:
            raise ConfigError(f"space.ops: {self.kind} input takes ops from {list(allowed)} with one besides identity")
        for act in self.activations:
            ACTIVATIONS.get(act)
        checks = {
            "widths": (self.widths, lambda w: isinstance(w, int) and w >= 1),
            "kernels": (self.kernels, lambda k: isinstance(k, int) and k >= 1),
            "strides": (self.strides, lambda s: isinstance(s, int) and s >= 1),
            "batch_norm": (self.batch_norms, lambda b: isinstance(b, bool)),
            "pool": (self.pools, lambda b: isinstance(b, bool)),
            "dropout": (self.dropouts, lambda p: 0.0 <= p < 1.0),
        }
        for name, (values, ok) in checks.items():
            if not all(ok(v) for v in values):
                raise ConfigError(f"space.{name}: invalid choices {list(values)}")
        learned = any(op in LEARNED_OPS for op in self.ops)
        spatial = any(op not in ("dense", "identity") for op in self.ops)
        needs = [("widths", learned), ("activations", learned), ("kernels", spatial), ("strides", spatial)]
        for name, need in [*needs, ("pools", any(_relevant(op, "pool") for op in self.ops))]:
            if need and not getattr(self, name):
                raise ConfigError(f"space.{name}: needs at least one choice for ops {list(self.ops)}")
        if not self.batch_norms or not self.dropouts:
            raise ConfigError("space.batch_norm and space.dropout: need at least one choice each")
        if self.size == 0:
            raise ConfigError(f"space: no chain of depth {self.depth} fits input shape {list(self.input_shape)}")

    def config(self) -> dict[str, Any]:
        def scalar(values: tuple[Any, ...]) -> Any:
            return values[0] if len(values) == 1 else list(values)

        return {
            "type": self.name,
            "input_shape": list(self.input_shape),
            "depth": list(self.depth),
            "ops": list(self.ops),
            "widths": list(self.widths),
            "kernels": list(self.kernels),
            "strides": list(self.strides),
            "activations": list(self.activations),
            "batch_norm": scalar(self.batch_norms),
            "dropout": scalar(self.dropouts),
            "pool": scalar(self.pools),
        }

    # -- decisions -----------------------------------------------------------------------------------------
    def _field_choices(self, field: str) -> tuple[Any, ...]:
        """The choices of one per-layer field, empty when no op of this space uses the field."""
        if field != "op" and not any(_relevant(op, field) for op in self.ops):
            return ()
        return getattr(self, _PLURAL.get(field, field + "s"))

    @cached_property
    def _fields(self) -> tuple[tuple[str | None, int], ...]:
        """(field, slot) for every decision; ``(None, 0)`` is the depth. Fields with one choice are fixed."""
        out: list[tuple[str | None, int]] = [(None, 0)] if self.depth[1] > self.depth[0] else []
        for slot in range(self.depth[1]):
            out += [(f, slot) for f in _FIELDS if len(self._field_choices(f)) > 1]
        return tuple(out)

    @cached_property
    def decisions(self) -> tuple[Decision, ...]:  # type: ignore[override]
        depths = tuple(range(self.depth[0], self.depth[1] + 1))
        return tuple(
            Decision("depth", depths) if f is None else Decision(f"layer{s}.{f}", self._field_choices(f))
            for f, s in self._fields
        )

    def from_decisions(self, values: Sequence[int]) -> Chain:
        if len(values) != len(self._fields):
            raise InvalidArchitecture(f"chain space: expected {len(self._fields)} decisions, got {len(values)}")
        picked: dict[tuple[str | None, int], int] = {}
        for key, v, d in zip(self._fields, values, self.decisions, strict=True):
            if not 0 <= int(v) < len(d):
                raise InvalidArchitecture(f"chain space: decision {d.name} must be < {len(d)}, got {v}")
            picked[key] = int(v)
        depth = self.depth[0] + picked.get((None, 0), 0)
        layers = []
        for slot in range(depth):
            chosen = {f: self._field_choices(f)[picked.get((f, slot), 0)] for f in _FIELDS if self._field_choices(f)}
            if chosen["op"] != "identity":
                layers.append(Layer(**chosen))
        return self._check(Chain(tuple(layers)))

    def to_decisions(self, arch: Hashable) -> tuple[int, ...]:
        chain = self._check(arch)
        values = []
        for f, slot in self._fields:
            if f is None:
                values.append(len(chain) - self.depth[0])
                continue
            layer = chain.layers[slot] if slot < len(chain) else None
            relevant = layer is not None and _relevant(layer.op, f)
            values.append(self._field_choices(f).index(getattr(layer, f)) if relevant else 0)
        return tuple(values)

    def _check(self, arch: Hashable, input_shape: Sequence[int] | None = None) -> Chain:
        """``arch`` as a member of this space that fits ``input_shape``, or InvalidArchitecture saying why not."""
        chain = Chain.parse(arch) if isinstance(arch, str) else arch
        if not isinstance(chain, Chain):
            raise InvalidArchitecture(f"{arch!r} is not a chain architecture")
        for i, layer in enumerate(chain.layers, start=1):
            for f in _FIELDS:
                choices = self._field_choices(f)
                if _relevant(layer.op, f) and getattr(layer, f) not in choices:
                    allowed = ", ".join(map(str, choices)) or "none"
                    raise InvalidArchitecture(
                        f"chain {chain}: layer {i} {f} {getattr(layer, f)!r} is not in this space (allowed: {allowed})"
                    )
        if any(layer.op == "identity" for layer in chain.layers):
            chain = Chain(tuple(layer for layer in chain.layers if layer.op != "identity"))
        if not self.depth[0] <= len(chain) <= self.depth[1]:
            raise InvalidArchitecture(
                f"chain {chain or 'of identities'}: {len(chain)} layers besides identity, space allows {self.depth}"
            )
        if not any(layer.op in LEARNED_OPS for layer in chain.layers):
            raise InvalidArchitecture(
                f"chain {chain}: needs a conv, sep_conv or dense layer; pools alone learn nothing"
            )
        shape = tuple(input_shape) if input_shape is not None else self.input_shape
        sizes = shape[1:]
        for i, layer in enumerate(chain.layers, start=1):
            result = _advance(sizes, layer)
            if isinstance(result, str):
                raise InvalidArchitecture(f"chain {chain}: layer {i} {layer} cannot fit input {list(shape)}: {result}")
            sizes = result
        return chain

    def to_string(self, arch: Hashable) -> str:
        return str(self._check(arch))

    def from_string(self, text: str) -> Chain:
        return self._check(Chain.parse(text))

    @cached_property
    def size(self) -> int:  # type: ignore[override]
        """Exact count of distinct valid chains: dynamic programming over (sizes, layers left, learned yet)."""
        learned = len(self.widths) * len(self.activations) * len(self.batch_norms) * len(self.dropouts)
        moves: list[tuple[Layer, int]] = []
        for op in self.ops:
            if op == "dense":
                moves.append((Layer(op, self.widths[0], activation=self.activations[0]), learned))
            elif op != "identity":
                for k, s, p in itertools.product(self.kernels, self.strides, self.pools):
                    layer = Layer(op, self.widths[0], k, s, self.activations[0], pool=p)
                    if layer.pool == p:  # pools take no pool option: count them once
                        moves.append((layer, learned if op in LEARNED_OPS else 1))

        @cache
        def count(sizes: tuple[int, ...], left: int, learned_yet: bool) -> int:
            if left == 0:
                return int(learned_yet)
            total = 0
            for layer, mult in moves:
                nxt = _advance(sizes, layer)
                if not isinstance(nxt, str):
                    total += mult * count(nxt, left - 1, learned_yet or layer.op in LEARNED_OPS)
            return total

        return sum(count(self.input_shape[1:], d, False) for d in range(self.depth[0], self.depth[1] + 1))

    def build(self, arch: Hashable, input_shape: Sequence[int], num_classes: int) -> ChainNetwork:
        shape = tuple(int(d) for d in input_shape)
        if len(shape) != len(self.input_shape):
            raise InvalidArchitecture(
                f"this chain space was made for {self.kind} input {list(self.input_shape)}, got shape {list(shape)}"
            )
        from nasforge.spaces._chain_net import ChainNetwork

        return ChainNetwork(self._check(arch, shape), shape, num_classes)
