"""Property-based tests of nasforge's boundary: random configs (read from YAML, as the CLI reads them) and small
random datasets either work or fail with nasforge's own one-line errors, never with a TypeError, a pydantic
ValidationError or an sklearn message from deep inside, which the CLI would print as a traceback.

Each property runs a few dozen derandomized examples in the default suite (the same ones on every run) and many
more under ``-m slow``.
"""

from __future__ import annotations

import dataclasses
import inspect
from collections.abc import Callable
from typing import Any, Literal, get_args, get_origin

import numpy as np
import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp
from pydantic import BaseModel

import nasforge as nf
from nasforge.api import components_from_config, make_space, make_strategy
from nasforge.config import Config, check_params, load_config
from nasforge.data import Dataset, load, split, synthetic
from nasforge.evaluators import Trainer
from nasforge.exceptions import ConfigError, NasforgeError
from nasforge.objective import COSTS
from nasforge.ops import ACTIVATIONS, CELL_OPS, LAYER_OPS
from nasforge.registry import Registry
from nasforge.spaces import SPACES, CellSpace, SearchSpace
from nasforge.strategies import STRATEGIES, Strategy
from nasforge.testing import check_round_trip

_SETTINGS = settings(deadline=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow])
MISSING = object()
"""The default of a key that has none (a required one)."""


def examples(default: int, thorough: int) -> pytest.MarkDecorator:
    """Parametrize ``max_examples``: ``default`` in the default suite, ``thorough`` under ``-m slow``."""
    return pytest.mark.parametrize(
        "max_examples", [default, pytest.param(thorough, marks=pytest.mark.slow)], ids=["default", "thorough"]
    )


def mostly(usual: st.SearchStrategy[Any], odd: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    """``usual`` about three times in four, else ``odd``: most examples get past the first check to the next."""
    return st.sampled_from([usual, usual, usual, odd]).flatmap(lambda chosen: chosen)  # one_of() would halve it


def assert_one_line(error: NasforgeError) -> None:
    """The CLI prints a nasforge error as one line; an empty or multi-line message would be a bug of its own."""
    message = str(error)
    assert len(message.splitlines()) == 1, f"not one line: {message!r}"


# -- configs ------------------------------------------------------------------------------------------------
def _literals(annotation: Any) -> set[str]:
    """Every string a ``Literal`` inside ``annotation`` allows (``str | None``, ``Literal[...] | None``, ...)."""
    if get_origin(annotation) is Literal:
        return {a for a in get_args(annotation) if isinstance(a, str)}
    return set().union(*(_literals(a) for a in get_args(annotation)))


def _plain(value: Any) -> Any:
    """``value`` as YAML writes it: tuples become lists."""
    return [_plain(v) for v in value] if isinstance(value, (list, tuple)) else value


def _defaults(source: type[BaseModel] | Callable[..., Any]) -> dict[str, Any]:
    """The keys a config section or a factory takes, with their defaults (``MISSING`` for a required one)."""
    if isinstance(source, type) and issubclass(source, BaseModel):
        return {k: MISSING if f.is_required() else _plain(f.default) for k, f in source.model_fields.items()}
    params = inspect.signature(source).parameters.values()
    # a dataclass field made by a factory (the Trainer's augment) shows a sentinel as its default: no value
    made = (
        {f.name for f in dataclasses.fields(source) if f.default_factory is not dataclasses.MISSING}
        if dataclasses.is_dataclass(source)
        else set()
    )
    unset = {p.name for p in params if p.default is p.empty} | made
    return {p.name: MISSING if p.name in unset else _plain(p.default) for p in params if p.name != "self"}


SECTIONS: dict[str, type[BaseModel]] = {
    name: field.annotation
    for name, field in Config.model_fields.items()
    if isinstance(field.annotation, type) and issubclass(field.annotation, BaseModel)
}
"""Config's sections by key; ``space``, ``strategy`` and ``train`` are open: their keys are a factory's arguments."""
REGISTERED: dict[str, tuple[str, Registry[Any]]] = {"space": ("type", SPACES), "strategy": ("name", STRATEGIES)}
"""The open sections whose key names a registered component; ``train``'s keys are the Trainer's arguments."""
# Words the schema and the registries know, so that random values are often right and reach the checks behind.
WORDS = sorted(
    set().union(*(_literals(f.annotation) for model in SECTIONS.values() for f in model.model_fields.values()))
    | {*SPACES, *STRATEGIES, *CELL_OPS, *LAYER_OPS, *ACTIVATIONS, *COSTS, "gru", "attention", "adam", "cosine", "cpu"}
)
PLAUSIBLE = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(0, 8),
    st.integers(1, 70),
    st.floats(0, 1),
    st.sampled_from(WORDS),
    st.lists(st.integers(0, 70), min_size=1, max_size=3),
    st.lists(st.sampled_from(WORDS), min_size=1, max_size=3),
    st.lists(st.booleans(), min_size=1, max_size=2),
    st.dictionaries(st.sampled_from(WORDS), st.floats(0, 2), max_size=2),
)
KEYS = st.one_of(st.text(max_size=5), st.integers())
"""Any text, newlines and other line breaks included: an unknown key is quoted in its one-line error."""
JUNK = st.recursive(
    st.one_of(st.none(), st.booleans(), st.integers(), st.floats(), st.text(max_size=6)),
    lambda inner: st.one_of(st.lists(inner, max_size=3), st.dictionaries(KEYS, inner, max_size=3)),
    max_leaves=6,
)
VALUES = mostly(PLAUSIBLE, JUNK)


def near(default: Any) -> st.SearchStrategy[Any]:
    """What a user might write instead of ``default``: the same number as a float, a string or a bool, a
    neighbour, zero, a negative, a list of it; the wrong types that pass a range check and fail far away."""
    if isinstance(default, bool):
        return st.sampled_from([not default, int(default), str(default).lower(), [default]])
    if isinstance(default, (int, float)):
        return st.sampled_from([default + 1, default + 0.5, float(default), 0, -1, True, str(default), [default]])
    if isinstance(default, str):
        return st.sampled_from([default.upper(), f" {default}", "", 1, [default]])
    if isinstance(default, list):
        return st.sampled_from([default[:1], [*default, *default], [], [default], *default[:1]])
    return st.sampled_from([0, 0.5, -1, True, "", [], {}])


@st.composite
def options(draw: st.DrawFn, name: str) -> dict[Any, Any]:
    """A section's mapping: a few of the keys it takes (in ``data``, those of the section or of the synthetic
    dataset; in ``space`` and ``strategy``, a registered component's name, or any value, and its arguments), each
    its default, a value :func:`near` it or any value, a third of the time each, so that one wrong value often
    meets its own check."""
    if name == "data":  # a small built-in dataset to start from, so that the rest of the config gets checked
        out = {"builtin": "synthetic", "kind": draw(st.sampled_from(["flat", "sequence", "image"])), "n": 24}
        keys = draw(st.sampled_from([{}, {}, _defaults(SECTIONS["data"]), _defaults(synthetic)]))
    elif name in REGISTERED:
        key, registry = REGISTERED[name]
        out = {key: draw(st.one_of(st.sampled_from(registry.names()), VALUES))}
        keys = _defaults(registry.get(out[key])) if isinstance(out[key], str) and out[key] in registry else {}
    else:
        out, keys = {}, _defaults(Trainer if name == "train" else SECTIONS[name])
    for key in draw(st.lists(st.sampled_from(sorted(keys)), max_size=3, unique=True)) if keys else ():
        default = keys[key]
        choices = [VALUES] if default is MISSING else [st.just(default), near(default), VALUES]
        out[key] = draw(st.sampled_from(choices).flatmap(lambda chosen: chosen))
    return out


@st.composite
def configs(draw: st.DrawFn) -> dict[Any, Any]:
    """A config mapping as a user might write it: ``data`` and a few other sections, now and then a section that
    is not a mapping, a missing ``data`` or an unknown key."""

    def section(name: str) -> Any:
        return draw(VALUES) if draw(st.integers(0, 19)) == 0 else draw(options(name))

    raw = {"data": section("data")} if draw(st.integers(0, 19)) else {}
    others = [*sorted(set(Config.model_fields) - {"data"}), *REGISTERED, "train"]  # components twice as often
    for name in draw(st.lists(st.sampled_from(others), max_size=2, unique=True)):
        raw[name] = section(name) if name in SECTIONS else draw(st.one_of(st.integers(0, 5), VALUES))
    if draw(st.integers(0, 19)) == 0:
        raw[draw(KEYS)] = draw(VALUES)
    return raw


YAML_TAGS = ["", "", "", "!!str", "!!int", "!!float", "!!bool", "!!null", "!!timestamp", "!!binary", "!!seq", "!!set"]
YAML_VALUES = ["", "0", "-1", "1.5", "=x", "0x", "yes", "~", ".nan", "1e400", "2020-01-01", "2020-13-01", "[1]"]
NOT_UTF8 = [b"\xe9", b"\xff", b"\x80", b"\x00"]
"""Bytes a config file should not hold: three that are not UTF-8 and a control character that YAML refuses."""


@st.composite
def config_files(draw: st.DrawFn) -> bytes:
    """A config file's bytes as a user might save them: ``data`` and a few keys, each a YAML value in plain form or
    with an explicit tag it may not fit (``seed: !!float``; a date with month 13 is a timestamp that does not
    exist), and now and then a byte that is not UTF-8 text."""
    lines = ["data: {builtin: synthetic, kind: flat, n: 24}"] if draw(st.booleans()) else []
    for key in draw(st.lists(st.sampled_from(["seed", "name", "budget", "space", "x"]), max_size=3)):
        lines.append(f"{key}: {draw(st.sampled_from(YAML_TAGS))} {draw(st.sampled_from(YAML_VALUES))}".rstrip())
    content = "\n".join(lines).encode()
    if draw(st.integers(0, 4)) == 0:
        at = draw(st.integers(0, len(content)))
        content = content[:at] + draw(st.sampled_from(NOT_UTF8)) + content[at:]
    return content


@examples(100, 3000)
def test_random_config_files_load_or_fail_with_one_line_config_errors(
    max_examples: int, tmp_path_factory: pytest.TempPathFactory
) -> None:
    """Reading a file: its encoding and YAML's own conversions (tags, dates), before the schema sees a value."""
    path = tmp_path_factory.mktemp("files") / "config.yaml"

    @settings(_SETTINGS, max_examples=max_examples)
    @given(content=config_files())
    def holds(content: bytes) -> None:
        path.write_bytes(content)
        try:
            load_config(path)
        except ConfigError as error:
            assert_one_line(error)

    holds()


def use_space(space: SearchSpace) -> None:
    """Sample the space: an option its constructor let through must not fail later, inside a search."""
    check_round_trip(space, space.sample(np.random.default_rng(0)))


def use_strategy(strategy: Strategy) -> None:
    """Ask and tell a dozen times (on a small space: grid search enumerates it): an option the constructor let
    through, such as a float where numpy wants an int, must not fail later, inside a search."""
    strategy.bind(CellSpace(nodes=3), seed=0)
    for step in range(12):
        strategy.tell(strategy.ask(), step % 5 / 4)


@examples(60, 2000)
def test_random_configs_build_or_fail_with_one_line_nasforge_errors(
    max_examples: int, tmp_path_factory: pytest.TempPathFactory
) -> None:
    path = tmp_path_factory.mktemp("configs") / "config.yaml"

    @settings(_SETTINGS, max_examples=max_examples)
    @given(raw=configs())
    def holds(raw: dict[Any, Any]) -> None:
        path.write_text(yaml.safe_dump(raw))
        try:
            parts = components_from_config(load_config(path))
            use_space(parts["space"])
            use_strategy(parts["strategy"])
        except NasforgeError as error:
            assert_one_line(error)

    holds()


INPUTS = [((12,), None), ((2, 20), None), ((1, 8, 8), None), ((16,), 30)]
"""What a space is made for: flat, sequence and image input, and token ids with their vocabulary size."""


@examples(300, 6000)
def test_random_component_options_build_working_components_or_fail_with_one_line_errors(max_examples: int) -> None:
    """The space, strategy and train sections one at a time, each with a few of its own options: many more of
    these reach the component's checks than in whole random configs."""

    @settings(_SETTINGS, max_examples=max_examples)
    @given(kind=st.sampled_from(["space", "strategy", "train"]), data=st.data(), inputs=st.sampled_from(INPUTS))
    def holds(kind: str, data: st.DataObject, inputs: tuple[tuple[int, ...], int | None]) -> None:
        given_options = data.draw(options(kind), label="options")
        try:
            if kind == "space":
                use_space(make_space(given_options, *inputs))
            elif kind == "strategy":
                use_strategy(make_strategy(given_options))
            else:
                check_params("train", Trainer, given_options)
        except NasforgeError as error:
            assert_one_line(error)

    holds()


# -- datasets -----------------------------------------------------------------------------------------------
SAMPLE_SHAPES = mostly(
    st.sampled_from([(1,), (3,), (1, 1), (2, 4), (1, 1, 1), (2, 3, 3)]), st.sampled_from([(), (0,), (1, 2, 2, 2)])
)
"""One sample's shape: flat, sequence or image; or a bare number, no feature at all, one axis too many."""


@st.composite
def labels(draw: st.DrawFn, n: int) -> np.ndarray:
    """``n`` targets: real values or three classes (usually); many integer classes, booleans, one class or one
    sample per class (odd). Values come from a drawn seed: hypothesis's own arrays are mostly one repeated value.

    Numbers reach +-1e6 half the time, or else 1e19 (whole numbers beyond int64 and beyond those float64 holds exactly,
    which must not merge into one class), 1e154 (where squared deviations overflow) or float64's limit.
    """
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    scale = draw(st.sampled_from([1e6, 1e6, 1e6, 1e19, 1e154, 1.7e308]))
    kinds = {
        "real": lambda: rng.uniform(-1, 1, n) * scale,
        "three classes": lambda: rng.permutation(np.arange(n) % 3),
        "integers": lambda: np.round(rng.uniform(-1, 1, n) * scale).astype(np.int64 if scale < 2**63 else float),
        "booleans": lambda: rng.random(n) < 0.5,
        "one class": lambda: np.zeros(n, dtype=np.int64),
        "one per class": lambda: np.arange(n),
    }
    kind = draw(mostly(st.sampled_from(["real", "three classes"]), st.sampled_from(list(kinds)[2:])))
    return kinds[kind]()


@st.composite
def npz_arrays(draw: st.DrawFn) -> dict[str, np.ndarray]:
    """``X`` of any dtype and shape (finite or with NaN and infinities; sometimes a constant feature), ``y`` of
    :func:`labels` as they are or as strings, and sometimes ``groups``; usable data about half of the time."""
    n = draw(mostly(st.integers(1, 40), st.just(0)))
    dtypes = mostly(
        st.sampled_from(["float32", "float64", "float16"]), st.sampled_from(["int64", "uint8", "bool", "U3", "c8"])
    )
    dtype = np.dtype(draw(dtypes))
    finite = {"allow_nan": False, "allow_infinity": False} if dtype.kind == "f" and draw(st.booleans()) else {}
    shape = (n, *draw(SAMPLE_SHAPES))
    X = draw(hnp.arrays(dtype, shape, elements=hnp.from_dtype(dtype, **finite)))
    if X.ndim > 1 and X.size and draw(st.booleans()):
        X[:, 0] = X[0, 0]
    y = draw(labels(n))
    arrays = {"X": X, "y": y.astype(str) if draw(st.booleans()) else y}
    groups = draw(mostly(st.just(0), st.integers(1, 8)))  # how many groups, if any
    if groups:
        arrays["groups"] = np.arange(n) % groups
    return arrays


VALID = st.sampled_from([0.1, 0.2, 0.5, 0.7])
"""Validation fractions (the test fraction is 0.2): the larger ones leave a tiny split's training part empty."""
TASKS = st.sampled_from(["classification", "regression"])
FILE_OPTIONS = st.sampled_from(
    [
        st.just({}),
        st.just({}),
        st.fixed_dictionaries({"task": TASKS}),  # whole numbers from 2**53 up are regression targets only if declared
        st.fixed_dictionaries(
            {},
            optional={
                "task": TASKS,
                "vocab_size": st.integers(-1, 40),
                "input": st.sampled_from(["tokens", "numeric"]),
            },
        ),
    ]
).flatmap(lambda chosen: chosen)
"""A file's options: none (half the time), a task, or some of task, vocab_size and input (often contradicting the
file)."""


@examples(150, 5000)
@pytest.mark.filterwarnings("error::RuntimeWarning")  # numpy's overflow warning, printed beside the one-line error
def test_random_npz_files_load_and_split_or_fail_with_one_line_data_errors(
    max_examples: int, tmp_path_factory: pytest.TempPathFactory
) -> None:
    path = tmp_path_factory.mktemp("npz") / "data.npz"

    @settings(_SETTINGS, max_examples=max_examples)
    @given(arrays=npz_arrays(), options=FILE_OPTIONS, valid=VALID)
    def holds(arrays: dict[str, np.ndarray], options: dict[str, Any], valid: float) -> None:
        np.savez(path, **arrays)
        try:
            dataset = load({"path": str(path), **options})
            splits = split(dataset, seed=0, valid=valid)
        except NasforgeError as error:
            assert_one_line(error)
            return
        assert len(splits) == len(dataset)
        for X, y in (splits.train, splits.valid, splits.test):
            assert len(X) == len(y) > 0
            assert np.isfinite(X).all() and np.isfinite(y).all()

    holds()


@st.composite
def small_datasets(draw: st.DrawFn) -> Dataset:
    """A tiny valid dataset of any input kind: 2-3 balanced classes of 4-8 samples, or as many real targets."""
    shape = draw(st.sampled_from([(1,), (3,), (1, 1), (2, 5), (1, 1, 1), (1, 4, 4)]))
    classes, per_class = draw(st.integers(2, 3)), draw(st.integers(4, 8))
    n = classes * per_class
    X = draw(hnp.arrays(np.float32, (n, *shape), elements=st.floats(-1e3, 1e3, width=32)))
    if draw(st.booleans()):
        X[:, 0] = X[0, 0]
    if draw(st.booleans()):
        return Dataset("random", X, np.arange(n) % classes, tuple(f"c{k}" for k in range(classes)))
    return Dataset(
        "random",
        X,
        draw(hnp.arrays(np.float64, n, elements=st.floats(-1e3, 1e3), fill=st.nothing())),
        task="regression",
    )


@examples(10, 200)
def test_a_search_on_tiny_random_data_ends_or_fails_with_a_nasforge_error(max_examples: int) -> None:
    @settings(_SETTINGS, max_examples=max_examples)
    @given(
        data=small_datasets(),
        space=st.sampled_from(["chain", {"type": "cell", "stem_channels": 4, "stages": 2}]),
        strategy=st.sampled_from(["evolution", "random", "bananas"]),
        seed=st.integers(0, 9),
    )
    def holds(data: Dataset, space: str | dict[str, Any], strategy: str, seed: int) -> None:
        try:
            run = nf.search(
                data=data,
                space=space,
                strategy=strategy,
                budget=nf.Budget(trials=1),
                trainer=nf.Trainer(epochs=1),
                seed=seed,
            )
        except NasforgeError as error:
            assert_one_line(error)
            return
        assert run.done == 1 and run.best is not None

    holds()
