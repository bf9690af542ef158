"""The chain space: string form, validity on small inputs, exact size, and the networks it builds."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from nasforge.exceptions import ConfigError, InvalidArchitecture
from nasforge.spaces import SPACES, Chain, ChainSpace, Layer

DIGITS = (1, 8, 8)
# Every spatial op, two strides and two activations (the defaults are narrower), depth 1 to 4.
WIDE = {
    "depth": (1, 4),
    "ops": ("conv", "sep_conv", "max_pool", "avg_pool", "identity"),
    "strides": (1, 2),
    "activations": ("relu", "gelu"),
    "min_receptive_field": 0.0,
}


def test_string_form_is_readable_and_round_trips() -> None:
    space = ChainSpace(input_shape=DIGITS, kernels=(2, 3, 5), dropout=(0.0, 0.25), batch_norm=(True, False), **WIDE)
    text = "conv(32,k3,s1,relu)>max_pool(k2,s2)>sep_conv(64,k5,s1,gelu,nobn,p0.25)"
    arch = space.from_string(text)
    assert arch.layers[1] == Layer("max_pool", kernel=2, stride=2)
    assert arch.layers[2] == Layer("sep_conv", 64, 5, 1, "gelu", batch_norm=False, dropout=0.25)
    assert space.to_string(arch) == str(arch) == text
    assert space.from_string(" conv( 32, k3, s1, relu ) > max_pool(k2,s2)>sep_conv(64,k5,s1,gelu,p0.25,nobn)") == arch


def test_identity_layers_and_irrelevant_fields_are_normalised() -> None:
    space = ChainSpace(input_shape=DIGITS, **WIDE)
    assert space.from_string("identity>conv(16,k3,s2,relu)>identity") == space.from_string("conv(16,k3,s2,relu)")
    assert Layer("max_pool", width=64, kernel=3, stride=2, activation="gelu") == Layer("max_pool", kernel=3, stride=2)
    assert Layer("dense", 32, kernel=5, stride=2, activation="relu") == Layer("dense", 32, activation="relu")
    values = space.to_decisions(space.from_string("max_pool(k3,s2)>conv(16,k3,s1,relu)"))
    names = [d.name for d in space.decisions]
    assert values[names.index("layer0.width")] == 0 and values[names.index("layer2.op")] == 0


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ("", "empty string"),
        ("conv(32,k3,s1)", "needs activation"),
        ("convv(32,k3,s1,relu)", "unknown op 'convv'"),
        ("conv(32,k3,s1,relu)>>conv(32,k3,s1,relu)", "expected op"),
        ("conv(32,k3,x1,relu)", "argument 'x1'"),
        ("max_pool(32,k3,s2)", "max_pool takes no width"),
        ("conv(48,k3,s1,relu)", r"width 48 is not in this space \(allowed: 8, 16, 32, 64\)"),
        ("conv(32,k3,s1,swish)", "activation 'swish' is not in this space"),
        ("dense(32,relu)", "op 'dense' is not in this space"),
        ("conv(16,k3,s1,relu,k5)", "kernel given twice"),
        ("identity", "0 layers besides identity"),
        ("max_pool(k3,s2)", "pools alone learn nothing"),
        ("conv(16,k3,s2,relu)>conv(16,k3,s2,relu)>conv(16,k3,s2,relu)>conv(16,k3,s2,relu)", "layer 4.*below 1"),
    ],
)
def test_parse_errors_name_the_bad_token(text: str, fragment: str) -> None:
    with pytest.raises(InvalidArchitecture, match=fragment) as info:
        ChainSpace(input_shape=DIGITS, **WIDE).from_string(text)
    assert "\n" not in str(info.value)


def test_digits_allow_three_halvings_and_no_more() -> None:
    wide = ChainSpace(input_shape=DIGITS, **WIDE)
    assert wide.from_string("conv(16,k3,s2,relu)>max_pool(k3,s2)>conv(16,k3,s2,relu)")
    with pytest.raises(InvalidArchitecture, match="wider than its input"):
        wide.from_string("conv(16,k3,s2,relu)>conv(16,k3,s2,relu)>conv(16,k3,s2,relu)>max_pool(k3,s1)")
    space = ChainSpace(input_shape=DIGITS)
    three = "conv(16,k3,s1,relu,pool)>conv(16,k3,s1,relu,pool)>conv(16,k3,s1,relu,pool)"
    assert space.from_string(three)
    with pytest.raises(InvalidArchitecture, match=r"layer 4.*pool needs an axis of at least 2"):
        space.from_string(three + ">conv(16,k3,s1,relu,pool)")
    rng = np.random.default_rng(0)
    for _ in range(200):
        arch = space.sample(rng)
        assert sum(layer.pool for layer in arch.layers) <= 3
        assert space.build(arch, DIGITS, 10)(torch.randn(2, *DIGITS)).shape == (2, 10)


def test_pool_option_halves_after_the_activation_and_round_trips() -> None:
    space = ChainSpace(input_shape=(3, 9), kernels=(3,))
    arch = space.from_string("conv(16,k3,s1,relu,pool)>conv(32,k3,s1,relu)")
    assert arch.layers[0] == Layer("conv", 16, 3, 1, "relu", pool=True) and str(arch).count("pool") == 1
    model = space.build(arch, (3, 9), 2)
    kinds = [type(m).__name__ for m in model.features]
    assert kinds[:4] == ["Conv1d", "BatchNorm1d", "ReLU", "MaxPool1d"]
    assert model.features[:4](torch.randn(2, 3, 9)).shape == (2, 16, 4)
    assert Layer("dense", 8, activation="relu", pool=True) == Layer("dense", 8, activation="relu")
    with pytest.raises(InvalidArchitecture, match="pool True is not in this space"):
        ChainSpace(input_shape=(3, 9), pool=False).from_string("conv(16,k3,s1,relu,pool)>conv(16,k3,s1,relu)")


def test_tiny_sequence_rejects_collapse_and_oversized_pools() -> None:
    space = ChainSpace(input_shape=(2, 3), kernels=(2, 3, 5), **{**WIDE, "strides": (1, 2, 3)})
    assert space.strides == (1, 2, 3)
    assert space.from_string("conv(16,k5,s3,relu)")  # padded conv: 3 -> 1
    with pytest.raises(InvalidArchitecture, match="kernel 2 does not fit"):
        space.from_string("conv(16,k5,s3,relu)>conv(16,k2,s1,relu)")
    with pytest.raises(InvalidArchitecture, match="pool window 5"):
        space.from_string("avg_pool(k5,s1)>conv(16,k3,s1,relu)")
    rng = np.random.default_rng(1)
    for _ in range(100):
        model = space.build(space.sample(rng), (2, 3), 4)
        assert model(torch.randn(2, 2, 3)).shape == (2, 4)


@pytest.mark.parametrize(
    ("shape", "options"),
    [
        ((1, 4, 4), {"depth": (1, 2), "widths": (8,), "kernels": (3,), "activations": ("relu",)}),
        (
            (2, 5),
            {"depth": (1, 2), "widths": (8, 16), "kernels": (2, 3), "strides": (1, 2, 3), "activations": ("relu",)},
        ),
        ((2, 3), {"depth": (2, 3), "ops": ("conv", "max_pool", "identity"), "widths": (8,), "activations": ("relu",)}),
        ((6,), {"depth": (1, 3), "widths": (4, 8), "batch_norm": (True, False), "activations": ("relu",)}),
        ((1, 5, 5), {"depth": (1, 3), "widths": (8,), "kernels": (3,), "strides": (1, 2), **{"ops": WIDE["ops"]}}),
        (
            (1, 6, 6),
            {
                "depth": (1, 3),
                "widths": (2, 4, 8),
                "kernels": (1, 3),
                "max_activations": 100,
                "min_receptive_field": 0.8,
            },
        ),
        ((2, 12), {"depth": (1, 3), "widths": (4, 8), "kernels": (3, 5), "min_receptive_field": 0.75}),
    ],
)
def test_size_matches_enumeration(shape: tuple[int, ...], options: dict) -> None:
    space = ChainSpace(input_shape=shape, **options)
    archs = list(space.enumerate())
    assert space.size == len(archs) == len(set(archs))


@pytest.mark.parametrize(
    ("shape", "kind", "size"),
    [(DIGITS, "image", 65_780), ((3, 32, 32), "image", 19_200), ((2, 128), "sequence", 346_200), ((64,), "flat", 84)],
)
def test_defaults_fit_the_input_kind(shape: tuple[int, ...], kind: str, size: int) -> None:
    space = ChainSpace(input_shape=shape)
    assert space.kind == kind and space.size == size
    if kind == "flat":
        assert space.ops == ("dense",) and space.kernels == () and space.pools == (False,)
    else:
        assert space.ops == ("conv",) and space.strides == (1,) and space.pools == (False, True)


def test_default_image_chains_see_most_of_the_image_and_stay_cheap() -> None:
    space = ChainSpace(input_shape=(1, 28, 28))
    assert (space.min_receptive_field, space.max_activations) == (0.65, 64 * 16 * 16)
    with pytest.raises(InvalidArchitecture, match=r"sees 3 input pixels across, below the 19 that min_receptive_field"):
        space.from_string("conv(16,k3,s1,relu)")
    with pytest.raises(InvalidArchitecture, match=r"outputs 25,088 values per sample \(32x28x28\), over max_act"):
        space.from_string("conv(32,k3,s1,relu,pool)>conv(32,k3,s1,relu,pool)>conv(32,k3,s1,relu,pool)")
    three = "conv(16,k3,s1,relu,pool)>conv(32,k3,s1,relu,pool)>conv(64,k3,s1,relu,pool)"
    assert str(space.from_string(three)) == three and space.receptive_field(three) == 22
    loose = ChainSpace(input_shape=(1, 28, 28), min_receptive_field=0, max_activations=32 * 28 * 28)
    assert loose.from_string("conv(32,k3,s1,relu)") and loose.size > space.size


@pytest.mark.parametrize("side", [16, 28, 32, 48, 64])
def test_default_image_spaces_scale_from_16_to_64_pixels(side: int) -> None:
    shape = (1, side, side)
    space = ChainSpace(input_shape=shape)
    assert space.size > 1000 and space.depth == (1, 4) and space.max_activations == 64 * 16 * 16
    assert space.strides == ((1, 2) if side > 32 else (1,)), "a 64x64 first layer must stride to fit the cap"
    rng = np.random.default_rng(side)
    for _ in range(20):
        arch = space.sample(rng)
        model = space.build(arch, shape, 10)
        assert model(torch.randn(2, *shape)).shape == (2, 10)


@pytest.mark.parametrize(
    ("shape", "text"),
    [
        ((3, 16, 12), "conv(16,k3,s1,relu,pool)>max_pool(k3,s2)>sep_conv(32,k5,s1,gelu)>avg_pool(k3,s1)"),
        ((4, 50), "conv(16,k7,s2,relu)>max_pool(k3,s2)>sep_conv(32,k5,s1,gelu)>avg_pool(k5,s2)"),
        ((20,), "dense(64,relu)>dense(32,tanh)"),
    ],
)
def test_build_output_shapes(shape: tuple[int, ...], text: str) -> None:
    space = ChainSpace(
        input_shape=shape, dropout=(0.0, 0.1), **(WIDE if len(shape) > 1 else {"activations": ("relu", "tanh")})
    )
    model = space.build(text, shape, 5)
    assert model(torch.randn(3, *shape)).shape == (3, 5)
    assert sum(p.numel() for p in model.parameters()) > 0


def test_build_checks_the_input_shape() -> None:
    space = ChainSpace(input_shape=(3, 32, 32))
    deep = "conv(16,k3,s1,relu,pool)>conv(16,k3,s1,relu,pool)>conv(16,k3,s1,relu,pool)>conv(16,k3,s1,relu,pool)"
    assert space.build(deep, (3, 32, 32), 2)
    with pytest.raises(InvalidArchitecture, match="at least 2"):
        space.build(deep, (3, 8, 8), 2)
    with pytest.raises(InvalidArchitecture, match="made for image input"):
        space.build(deep, (3, 32), 2)


def test_batch_norm_off_keeps_conv_bias() -> None:
    space = ChainSpace(input_shape=(3, 10), batch_norm=False, depth=1)
    model = space.build("conv(16,k3,s1,relu,nobn)", (3, 10), 2)
    assert model[0][0].bias is not None and not any(isinstance(m, torch.nn.BatchNorm1d) for m in model.modules())


@pytest.mark.parametrize(
    ("options", "fragment"),
    [
        ({"input_shape": (1, 2, 3, 4)}, "input_shape"),
        ({"input_shape": (8,), "ops": ("conv",)}, "flat input takes ops"),
        ({"input_shape": DIGITS, "ops": ("dense",)}, "image input takes ops"),
        ({"input_shape": DIGITS, "ops": ("cnov",)}, "did you mean 'conv'"),
        ({"input_shape": DIGITS, "activations": ("rleu",)}, "did you mean 'relu'"),
        ({"input_shape": DIGITS, "depth": (3, 2)}, "space.depth"),
        ({"input_shape": DIGITS, "widths": (16, 16)}, "distinct"),
        ({"input_shape": DIGITS, "dropout": 1.5}, "space.dropout"),
        ({"input_shape": (1, 1, 1), "ops": ("max_pool", "identity")}, "one besides identity|no chain"),
        ({"input_shape": DIGITS, "min_receptive_field": 1.5}, "space.min_receptive_field: must be a fraction"),
        ({"input_shape": DIGITS, "max_activations": 0}, "space.max_activations: must be an integer >= 1"),
        ({"input_shape": DIGITS, "max_activations": 10}, r"fits input shape .* under min_receptive_field 0.65 and"),
    ],
)
def test_bad_configuration_is_a_config_error(options: dict, fragment: str) -> None:
    with pytest.raises(ConfigError, match=fragment):
        ChainSpace(**options)


def test_config_round_trips_through_the_registry() -> None:
    space = ChainSpace(input_shape=(2, 30), depth=3, dropout=(0.0, 0.2), activations=["relu"])
    cfg = space.config()
    again = SPACES.get(cfg["type"])(**{k: v for k, v in cfg.items() if k != "type"})
    assert again.config() == cfg and again.decisions == space.decisions
    assert [d.name for d in space.decisions][:5] == [f"layer0.{f}" for f in ("width", "kernel", "pool", "dropout")] + [
        "layer1.width"
    ]


def test_chain_value_is_hashable_and_parses_standalone() -> None:
    a = Chain.parse("conv(16,k3,s1,relu)>avg_pool(k3,s2)")
    assert a == Chain((Layer("conv", 16, 3, 1, "relu"), Layer("avg_pool", kernel=3, stride=2)))
    assert len({a, Chain.parse(str(a))}) == 1


def test_a_chain_grown_by_mutation_appends_the_cheapest_layer() -> None:
    # a deliberate choice, measured against a random new layer (docs/benchmarks.md, "How a chain grows")
    space = ChainSpace(DIGITS)
    parent = space.parse("conv(32,k3,s1,relu,pool)>conv(64,k3,s1,relu)")
    rng = np.random.default_rng(0)
    grown = [child for child in (space.mutate(parent, rng) for _ in range(600)) if len(child) > len(parent)]
    assert len(grown) > 20 and all(child.layers[:2] == parent.layers for child in grown)
    assert {child.layers[2] for child in grown} == {Layer("conv", min(space.widths), 3, 1, "relu")}
