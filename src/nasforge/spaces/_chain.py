"""Macro "list of layers" space for image ``(C,H,W)``, sequence ``(C,L)``, token ``(L,)`` and flat ``(F,)`` inputs.

Decisions are the depth and, per layer slot, op, width, kernel, stride, activation, a 2x2 max-pool after the
layer (plus batch norm and dropout when given several choices). Canonical values drop ``identity`` layers and
clear the fields an op ignores, so two vectors building the same network give the same :class:`Chain`. A chain
whose downsampling would shrink a spatial axis below one element (or whose pool window is wider than its input)
is invalid, as is one whose last layer sees too little of the input or one with a layer too large to train
cheaply (``min_receptive_field``, ``max_activations``): ``from_decisions`` rejects it with the reason, so no
strategy proposes it and no training run crashes on it or is wasted on it.

Sequences and token ids (text) also choose recurrent (``gru``, ``lstm``: hidden width, uni- or bidirectional)
and self-attention layers (``attention``: model width, heads), stacked by the chain's depth, and a ``readout``
that pools the positions (mean, max, last, attention); token chains start with an embedding (``embed``
dimensions). A recurrent or attention layer that cannot be built (heads not dividing the width, an odd
bidirectional width) is rejected with the reason, like any layer that does not fit.
"""

from __future__ import annotations

import itertools
import math
from collections import Counter
from collections.abc import Hashable, Sequence
from dataclasses import replace
from functools import cached_property
from typing import TYPE_CHECKING, Any, ClassVar, Literal

from nasforge.exceptions import ConfigError, InvalidArchitecture
from nasforge.spaces._base import SPACES, Decision, SearchSpace
from nasforge.spaces._chain_arch import LEARNED_OPS, READOUTS, SEQUENCE_LAYER_OPS, WEIGHTED_OPS, Chain, Layer
from nasforge.spaces._chain_fit import Extent, advance, default_choices

if TYPE_CHECKING:
    from torch import nn

__all__ = ["ChainSpace"]

_KINDS = {1: "flat", 2: "sequence", 3: "image"}
_SPATIAL_OPS = ("conv", "sep_conv", "max_pool", "avg_pool", "identity")  # allowed; defaults drop avg_pool
_ALLOWED_OPS = {
    "flat": ("dense", "identity"),
    "sequence": _SPATIAL_OPS + SEQUENCE_LAYER_OPS,
    "image": _SPATIAL_OPS,
    "tokens": ("conv", "sep_conv", "identity", *SEQUENCE_LAYER_OPS),
}
_FIELDS = ("op", "width", "kernel", "stride", "activation", "pool", "batch_norm", "dropout", "heads", "bidirectional")
_PLURAL = {
    "batch_norm": "batch_norms",
    "dropout": "dropouts",
    "pool": "pools",
    "bidirectional": "bidirectionals",
    "heads": "heads",
}
_GLOBAL = ("embed", "readout")  # decisions of the whole chain, before the per-layer ones


def _relevant(op: str, field: str) -> bool:
    """Whether ``field`` shapes the module ``op`` builds (the others are normalised away)."""
    if field == "op":
        return True
    if field in ("kernel", "stride"):
        return op in ("conv", "sep_conv", "max_pool", "avg_pool")
    if field == "pool":
        return op in ("conv", "sep_conv")
    if field == "heads":
        return op == "attention"
    if field == "bidirectional":
        return op in ("gru", "lstm")
    if field in ("width", "dropout"):
        return op in WEIGHTED_OPS
    return op in LEARNED_OPS


_SCALARS = (bool, int, float, str)


def _choices(name: str, given: Any, default: tuple[Any, ...]) -> tuple[Any, ...]:
    """One value or a list of them, as a tuple of distinct plain values; anything else (a mapping, nested lists)
    is a ConfigError here rather than a TypeError from deep inside the space."""
    if given is None:
        values = default
    elif isinstance(given, _SCALARS):
        values = (given,)
    elif isinstance(given, Sequence) and all(isinstance(v, _SCALARS) for v in given):
        values = tuple(given)
    else:
        raise ConfigError(f"space.{name}: expected one value or a list of values, got {given!r}")
    if len(set(values)) != len(values):
        raise ConfigError(f"space.{name}: choices must be distinct, got {list(values)}")
    return values


def _number(name: str, value: Any) -> float:
    """``value`` as a float, refusing what ``float`` would also take (a bool, a numeric string)."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ConfigError(f"space.{name}: must be a number, got {value!r}")
    return float(value)


def _positive_int(value: Any) -> bool:
    """A width, kernel, stride, embedding size or head count; not a bool, which passes as 1 but prints as True."""
    return isinstance(value, int) and not isinstance(value, bool) and value >= 1


@SPACES.register("chain")
class ChainSpace(SearchSpace):
    """Macro search space: a chain of layers (1 to 4 convs by default; 1 to 3 dense) for images, sequences or vectors,
    and embedding, conv, recurrent and attention layers for token ids (text).

    ``input_shape`` is one sample's shape without the batch axis (``(L,)`` token ids when ``vocab_size`` is
    given); options left ``None`` (``max_activations``: ``"auto"``) get defaults that fit it
    (:func:`default_choices`). Besides fitting the input, a chain must
    satisfy two rules that keep every default architecture worth training: its last layer sees at least
    ``min_receptive_field`` of the input's shorter side, and no layer outputs more than ``max_activations``
    values per sample (``None``: no cap).

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
        min_receptive_field: float | None = None,
        max_activations: int | Literal["auto"] | None = "auto",
        vocab_size: int | None = None,
        embed: int | Sequence[int] | None = None,
        heads: int | Sequence[int] | None = None,
        bidirectional: bool | Sequence[bool] | None = None,
        readout: str | Sequence[str] | None = None,
    ) -> None:
        shape = tuple(input_shape)
        if len(shape) not in _KINDS or not all(isinstance(d, int) and d >= 1 for d in shape):
            raise ConfigError(f"space.input_shape: expected (F,), (C,L) or (C,H,W) of positive ints, got {list(shape)}")
        if vocab_size is not None and (len(shape) != 1 or not isinstance(vocab_size, int) or vocab_size < 2):
            raise ConfigError(f"space.vocab_size: token input is (L,) ids below vocab_size >= 2, got {vocab_size}")
        self.vocab_size = vocab_size
        defaults = default_choices(shape, tokens=vocab_size is not None)
        depth = defaults["depth"] if depth is None else depth
        bounds = (depth, depth) if isinstance(depth, int) else tuple(depth) if isinstance(depth, Sequence) else ()
        least = 0 if vocab_size is not None else 1  # a token chain's embedding already learns
        whole = len(bounds) == 2 and all(isinstance(d, int) and not isinstance(d, bool) for d in bounds)
        if not whole or not least <= bounds[0] <= bounds[1]:
            raise ConfigError(f"space.depth: expected an int or [min, max] with {least} <= min <= max, got {depth!r}")
        self.input_shape, self.depth = shape, (int(bounds[0]), int(bounds[1]))
        self.ops = _choices("ops", ops, defaults["ops"])
        self.widths = _choices("widths", widths, defaults["widths"])
        self.kernels = _choices("kernels", kernels, defaults["kernels"])
        self.strides = _choices("strides", strides, defaults["strides"])
        self.activations = _choices("activations", activations, defaults["activations"])
        self.batch_norms = _choices("batch_norm", batch_norm, ())
        self.dropouts = tuple(_number("dropout", p) for p in _choices("dropout", dropout, ()))
        self.pools = _choices("pool", pool, defaults["pool"])
        field = defaults["min_receptive_field"] if min_receptive_field is None else min_receptive_field
        self.min_receptive_field = _number("min_receptive_field", field)
        self.max_activations = defaults["max_activations"] if max_activations == "auto" else max_activations
        sequence = self.kind in ("sequence", "tokens")
        self.embed = _choices("embed", embed, defaults.get("embed", ())) if self.kind == "tokens" else ()
        self.heads = _choices("heads", heads, defaults.get("heads", (2, 4)))
        self.bidirectionals = _choices("bidirectional", bidirectional, defaults.get("bidirectional", (False, True)))
        self.readouts = _choices("readout", readout, defaults.get("readout", ("mean",))) if sequence else ()
        for name, given, kinds in (("embed", embed, "token"), ("readout", readout, "sequence or token")):
            if given is not None and not getattr(self, "embed" if name == "embed" else "readouts"):
                raise ConfigError(f"space.{name}: only for {kinds} input, not {self.kind}")
        self._validate()

    @property
    def kind(self) -> str:
        return "tokens" if self.vocab_size is not None else _KINDS[len(self.input_shape)]

    def _validate(self) -> None:
        from nasforge.ops import ACTIVATIONS, LAYER_OPS, MAX_LENGTH  # torch only once a space is made, not for --help

        for name, names in (("ops", self.ops), ("activations", self.activations)):
            if not all(isinstance(n, str) for n in names):  # the registries' close-match hints need strings
                raise ConfigError(f"space.{name}: expected names, got {list(names)}")
        for op in self.ops:
            if op not in SEQUENCE_LAYER_OPS:
                LAYER_OPS.get(op)  # unknown names: ConfigError with close matches
        allowed = _ALLOWED_OPS[self.kind]
        wrong = [op for op in self.ops if op not in allowed]
        if wrong or not set(self.ops) - {"identity"}:
            raise ConfigError(f"space.ops: {self.kind} input takes ops from {list(allowed)} with one besides identity")
        for act in self.activations:
            ACTIVATIONS.get(act)
        checks = {
            "widths": (self.widths, _positive_int),
            "kernels": (self.kernels, _positive_int),
            "strides": (self.strides, _positive_int),
            "batch_norm": (self.batch_norms, lambda b: isinstance(b, bool)),
            "pool": (self.pools, lambda b: isinstance(b, bool)),
            "dropout": (self.dropouts, lambda p: 0.0 <= p < 1.0),
            "embed": (self.embed, _positive_int),
            "heads": (self.heads, _positive_int),
            "bidirectional": (self.bidirectionals, lambda b: isinstance(b, bool)),
            "readout": (self.readouts, lambda r: r in READOUTS),
        }
        for name, (values, ok) in checks.items():
            if not all(ok(v) for v in values):
                raise ConfigError(f"space.{name}: invalid choices {list(values)}")
        if self.kind == "tokens" and (
            set(self.strides) != {1} or True in self.pools or any(k % 2 == 0 for k in self.kernels)
        ):
            # The padding mask holds at every layer only if each keeps the length: an even kernel drops a position.
            raise ConfigError(
                "space.strides, space.kernels and space.pool: token chains keep their length "
                "(strides [1], odd kernels, pool false)"
            )
        if "attention" in self.ops and self.input_shape[-1] > MAX_LENGTH:  # its positional table ends there
            raise ConfigError(
                f"space.ops: attention reads at most {MAX_LENGTH} positions, the input has {self.input_shape[-1]} "
                "(for text: lower data.tokenizer.max_len); or leave attention out"
            )
        learned = any(op in LEARNED_OPS for op in self.ops)
        spatial = any(_relevant(op, "kernel") for op in self.ops)
        needs = [
            ("widths", any(op in WEIGHTED_OPS for op in self.ops)),
            ("activations", learned),
            ("kernels", spatial),
            ("strides", spatial),
            ("heads", "attention" in self.ops),
            ("bidirectionals", any(_relevant(op, "bidirectional") for op in self.ops)),
            ("embed", self.kind == "tokens"),
            ("readouts", self.kind in ("sequence", "tokens")),
        ]
        for name, need in [*needs, ("pools", any(_relevant(op, "pool") for op in self.ops))]:
            if need and not getattr(self, name):
                raise ConfigError(f"space.{name}: needs at least one choice for ops {list(self.ops)}")
        if not 0.0 <= self.min_receptive_field <= 1.0:
            got = self.min_receptive_field
            raise ConfigError(f"space.min_receptive_field: must be a fraction in [0, 1], got {got}")
        limit = self.max_activations
        if limit is not None and (isinstance(limit, bool) or not isinstance(limit, int) or limit < 1):
            raise ConfigError(f"space.max_activations: must be an integer >= 1, auto or null (no cap), got {limit!r}")
        if not self.batch_norms or not self.dropouts:
            raise ConfigError("space.batch_norm and space.dropout: need at least one choice each")
        if self.size == 0:
            rules = []
            if self.min_receptive_field > 0:
                rules.append(f"min_receptive_field {self.min_receptive_field:g}")
            if self.max_activations is not None:
                rules.append(f"max_activations {self.max_activations}")
            under = f" under {' and '.join(rules)} (0 and null lift them; or allow more depth, kernels or pools)"
            raise ConfigError(
                f"space: no chain of depth {self.depth} fits input shape {list(self.input_shape)}"
                + (under if rules else "")
            )

    def config(self) -> dict[str, Any]:
        def scalar(values: tuple[Any, ...]) -> Any:
            return values[0] if len(values) == 1 else list(values)

        out = {
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
            "min_receptive_field": self.min_receptive_field,
            "max_activations": self.max_activations,
        }
        # The sequence options only where they matter, so that a space older runs stored keeps its identity.
        if self.kind == "tokens":
            out |= {"vocab_size": self.vocab_size, "embed": list(self.embed)}
        if "attention" in self.ops:
            out["heads"] = list(self.heads)
        if any(_relevant(op, "bidirectional") for op in self.ops):
            out["bidirectional"] = list(self.bidirectionals)
        if self.readouts and (self.kind == "tokens" or self.readouts != ("mean",)):
            out["readout"] = list(self.readouts)
        return out

    # -- decisions -----------------------------------------------------------------------------------------
    def _field_choices(self, field: str) -> tuple[Any, ...]:
        """The choices of one per-layer field (or of ``embed``/``readout``), empty where nothing uses it."""
        if field in _GLOBAL:
            return self.embed if field == "embed" else self.readouts
        if field != "op" and not any(_relevant(op, field) for op in self.ops):
            return ()
        return getattr(self, _PLURAL.get(field, field + "s"))

    @cached_property
    def _fields(self) -> tuple[tuple[str | None, int], ...]:
        """(field, slot) for every decision; ``(None, 0)`` is the depth, ``(embed|readout, -1)`` the chain's
        own. Fields with one choice are fixed."""
        out: list[tuple[str | None, int]] = [(None, 0)] if self.depth[1] > self.depth[0] else []
        out += [(f, -1) for f in _GLOBAL if len(self._field_choices(f)) > 1]
        for slot in range(self.depth[1]):
            out += [(f, slot) for f in _FIELDS if len(self._field_choices(f)) > 1]
        return tuple(out)

    @cached_property
    def decisions(self) -> tuple[Decision, ...]:  # type: ignore[override]
        depths = tuple(range(self.depth[0], self.depth[1] + 1))
        return tuple(
            Decision("depth", depths)
            if f is None
            else Decision(f if s < 0 else f"layer{s}.{f}", self._field_choices(f))
            for f, s in self._fields
        )

    def _global(self, field: str, picked: dict[tuple[str | None, int], int]) -> Any:
        """The chain's ``embed`` or ``readout`` for these decisions; the mean readout is the default ``None``."""
        choices = self._field_choices(field)
        value = choices[picked.get((field, -1), 0)] if choices else None
        return None if value == "mean" else value

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
        return self._check(Chain(tuple(layers), self._global("embed", picked), self._global("readout", picked)))

    def to_decisions(self, arch: Hashable) -> tuple[int, ...]:
        """The decisions that build ``arch``; a slot beyond its depth, and a field its layer ignores, read 0.

        So a mutation or neighbour that deepens a chain appends the cheapest layer (every field's first choice:
        the smallest width, no stride, no pool), which later mutations change field by field. Drawing the new
        layer at random instead was measured on the sequence task and lost (``docs/benchmarks.md``, "How a
        chain grows").
        """
        chain = self._check(arch)
        values = []
        for f, slot in self._fields:
            if f is None:
                values.append(len(chain) - self.depth[0])
                continue
            if slot < 0:
                value = getattr(chain, f)
                values.append(self._field_choices(f).index("mean" if f == "readout" and value is None else value))
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
        for f in _GLOBAL:
            value, choices = getattr(chain, f), self._field_choices(f)
            value = "mean" if f == "readout" and value is None and choices else value
            if (value is None) != (not choices) or (value is not None and value not in choices):
                allowed = ", ".join(map(str, choices)) or "none (not for this input)"
                raise InvalidArchitecture(f"chain {chain}: {f} {value!r} is not in this space (allowed: {allowed})")
        if any(layer.op == "identity" for layer in chain.layers):
            layers = tuple(layer for layer in chain.layers if layer.op != "identity")
            chain = Chain(layers, chain.embed, chain.readout)
        if not self.depth[0] <= len(chain) <= self.depth[1]:
            raise InvalidArchitecture(
                f"chain {chain or 'of identities'}: {len(chain)} layers besides identity, space allows {self.depth}"
            )
        if self.kind != "tokens" and not any(layer.op in WEIGHTED_OPS for layer in chain.layers):
            raise InvalidArchitecture(f"chain {chain}: needs a layer with weights; pools alone learn nothing")
        shape = tuple(input_shape) if input_shape is not None else self.input_shape
        field = self._extent(chain, self._positions(shape)).field
        needed = self._needed_field(shape)
        if field < needed:
            raise InvalidArchitecture(
                f"chain {chain}: its last layer sees {field} input pixels across, below the {needed} that "
                f"min_receptive_field {self.min_receptive_field:g} asks of input {list(shape)}"
            )
        return chain

    def _positions(self, shape: Sequence[int]) -> tuple[int, ...]:
        """``shape`` as ``(channels, *positions)``: token ids ``(L,)`` become the embedding's ``(?, L)``."""
        return (0, *shape) if self.kind == "tokens" else tuple(shape)

    def _extent(self, chain: Chain, shape: Sequence[int]) -> Extent:
        """What ``chain`` makes of input ``shape``, or InvalidArchitecture naming the first layer that does not fit."""
        extent = Extent(tuple(shape[1:]))
        for i, layer in enumerate(chain.layers, start=1):
            result = advance(extent, layer, self.max_activations)
            if isinstance(result, str):
                raise InvalidArchitecture(f"chain {chain}: layer {i} {layer} cannot fit input {list(shape)}: {result}")
            extent = result
        return extent

    def receptive_field(self, arch: Hashable) -> int:
        """How many input pixels (or steps) across the last layer of ``arch`` sees; 1 for flat input.

        >>> space = ChainSpace(input_shape=(1, 28, 28))
        >>> space.receptive_field("conv(16,k3,s1,relu,pool)>conv(32,k3,s1,relu,pool)>conv(64,k3,s1,relu,pool)")
        22
        """
        return self._extent(self.parse(arch), self._positions(self.input_shape)).field

    def _needed_field(self, shape: Sequence[int]) -> int:
        """The receptive field the last layer must reach on input ``shape`` (1 for flat input)."""
        if len(shape) < 2 or self.kind == "tokens":
            return 1
        return max(1, math.ceil(self.min_receptive_field * min(shape[1:]) - 1e-9))

    def to_string(self, arch: Hashable) -> str:
        return str(self._check(arch))

    def from_string(self, text: str) -> Chain:
        return self._check(Chain.parse(text))

    @cached_property
    def size(self) -> int:  # type: ignore[override]
        """Exact count of distinct valid chains, by dynamic programming over what the layers so far made of the
        input and whether one of them has weights yet.

        It steps forward one layer at a time, not by recursion, so that a deep space does not exceed Python's
        recursion limit; and it caps the receptive field at the one a chain must reach (the field only grows, and
        past that value it no longer decides validity), so that states differing only beyond it are merged:
        otherwise every path has its own field and deep image spaces took minutes to count.
        """
        variants = len(self.activations) * len(self.batch_norms) * len(self.dropouts)  # same extent, same count
        moves: list[tuple[Layer, int]] = []
        for op in self.ops:
            if op in SEQUENCE_LAYER_OPS:
                options = [{"heads": h} for h in self.heads] if op == "attention" else []
                options = options or [{"bidirectional": b} for b in self.bidirectionals]
                moves += [(Layer(op, w, **o), len(self.dropouts)) for w in self.widths for o in options]
            elif op == "dense":
                moves += [(Layer(op, w, activation=self.activations[0]), variants) for w in self.widths]
            elif op in LEARNED_OPS:
                for k, s, p, w in itertools.product(self.kernels, self.strides, self.pools, self.widths):
                    moves.append((Layer(op, w, k, s, self.activations[0], pool=p), variants))
            elif op != "identity":
                moves += [(Layer(op, kernel=k, stride=s), 1) for k, s in itertools.product(self.kernels, self.strides)]
        needed = self._needed_field(self.input_shape)
        start = Extent(self.input_shape[1:] if self.kind != "tokens" else self.input_shape)
        states: Counter[tuple[Extent, bool]] = Counter({(start, self.kind == "tokens"): 1})  # -> chains reaching it
        chains = 0
        for depth in range(self.depth[1] + 1):
            if depth >= self.depth[0]:
                chains += sum(n for (extent, learned), n in states.items() if learned and extent.field >= needed)
            if depth == self.depth[1]:
                break
            following: Counter[tuple[Extent, bool]] = Counter()
            for (extent, learned), n in states.items():
                for layer, mult in moves:
                    after = advance(extent, layer, self.max_activations)
                    if not isinstance(after, str):
                        key = (replace(after, field=min(after.field, needed)), learned or layer.op in WEIGHTED_OPS)
                        following[key] += n * mult
            states = following
        return chains * max(1, len(self.embed)) * max(1, len(self.readouts))

    def layer_shapes(self, arch: Hashable) -> list[tuple[str, tuple[int, ...]]]:
        """Each layer of ``arch`` with the shape of one sample after it, from one forward pass of the built
        network (what a drawing of the chain shows)."""
        import torch

        from nasforge.spaces._chain_net import layer_modules

        chain = self._check(arch)
        model = self.build(chain, self.input_shape, 2).eval()
        shapes: list[tuple[int, ...]] = []
        hooks = [
            module.register_forward_hook(lambda _m, _i, out: shapes.append(tuple(out.shape[1:])))
            for module in layer_modules(model)  # type: ignore[arg-type]
        ]
        dtype = torch.long if self.kind == "tokens" else torch.float32
        with torch.no_grad():
            model(torch.ones((1, *self.input_shape), dtype=dtype))
        for hook in hooks:
            hook.remove()
        return list(zip(map(str, chain.layers), shapes, strict=True))

    def build(self, arch: Hashable, input_shape: Sequence[int], num_classes: int) -> nn.Module:
        shape = tuple(int(d) for d in input_shape)
        if len(shape) != len(self.input_shape):
            raise InvalidArchitecture(
                f"this chain space was made for {self.kind} input {list(self.input_shape)}, got shape {list(shape)}"
            )
        if num_classes < 1:  # as a cell network refuses it: a chain would silently output (N, 0)
            raise InvalidArchitecture(f"num_classes must be >= 1, got {num_classes}")
        from nasforge.spaces._chain_net import ChainNetwork, SequenceNetwork

        chain = self._check(arch, shape)
        if (
            self.kind == "tokens"
            or chain.readout is not None
            or any(layer.op in SEQUENCE_LAYER_OPS for layer in chain.layers)
        ):
            return SequenceNetwork(chain, shape, num_classes, self.vocab_size)
        return ChainNetwork(chain, shape, num_classes)
