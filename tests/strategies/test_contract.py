"""Every registered strategy honours the ask/tell contract on the NB201 cell space and on a tiny one."""

from __future__ import annotations

import warnings

import pytest

from nasforge.exceptions import ConfigError
from nasforge.spaces import CellSpace, SearchSpace
from nasforge.strategies import STRATEGIES, SpaceExhausted, Strategy, ask_new

NAMES = STRATEGIES.names()
WEIGHTS = {"none": -3.0, "skip_connect": 0.5, "nor_conv_1x1": 1.0, "nor_conv_3x3": 2.0, "avg_pool_3x3": 0.0}


def score(arch) -> float:
    """A cheap deterministic objective with structure for the learners to find."""
    return sum(WEIGHTS[op] * (1 + 0.1 * i) for i, op in enumerate(arch.ops))


def make(name: str, seed: int = 0, space: CellSpace | None = None) -> Strategy:
    return STRATEGIES.get(name)().bind(space or CellSpace(), seed)


def drive(strategy: Strategy, steps: int) -> list[str]:
    seen: dict = {}
    asked = []
    for _ in range(steps):
        arch = ask_new(strategy, seen)
        seen[arch] = score(arch)
        strategy.tell(arch, seen[arch])
        asked.append(strategy.space.to_string(arch))
    return asked


@pytest.mark.parametrize("name", NAMES)
def test_asks_are_valid_architectures_of_the_space(name):
    space = CellSpace()
    strategy = make(name, space=space)
    for _ in range(30):
        arch = strategy.ask()
        assert space.from_decisions(space.to_decisions(arch)) == arch
        strategy.tell(arch, score(arch))


@pytest.mark.parametrize("name", NAMES)
def test_same_seed_same_asks_and_seeds_differ(name):
    first, again, other = (drive(make(name, seed), 35) for seed in (1, 1, 2))
    assert first == again
    assert first != other


@pytest.mark.parametrize("name", NAMES)
def test_several_asks_before_any_tell_are_distinct(name):
    strategy = make(name)
    drive(strategy, 12)
    pending = [strategy.ask() for _ in range(6)]
    assert len(set(pending)) == len(pending), "pending asks repeated an architecture"
    for arch in reversed(pending):
        strategy.tell(arch, score(arch))
    assert strategy.ask() is not None


@pytest.mark.parametrize("name", NAMES)
def test_tell_accepts_architectures_it_never_asked(name):
    import numpy as np

    space = CellSpace()
    strategy = make(name, space=space)
    rng = np.random.default_rng(5)
    replay = [space.sample(rng) for _ in range(25)]
    for arch in replay:
        strategy.tell(arch, score(arch))
    strategy.tell(replay[0], score(replay[0]))  # a replay may repeat a trial
    arch = strategy.ask()
    assert space.to_decisions(arch)


@pytest.mark.parametrize("name", NAMES)
def test_failed_trials_are_survived(name):
    strategy = make(name)
    for i in range(30):
        arch = strategy.ask()
        strategy.tell(arch, None if i % 3 == 0 else score(arch))
    assert strategy.ask() is not None


@pytest.mark.parametrize(
    ("name", "params"),
    [pytest.param(name, {}, id=name) for name in NAMES]
    + [pytest.param("genetic", {"population": 4, "elitism": 1, "selection": "roulette"}, id="genetic-roulette")],
)
def test_a_search_where_every_trial_fails_is_survived(name, params):
    # no score to rank by: roulette selection and the predictors must not turn -inf into NaN
    strategy = STRATEGIES.get(name)(**params).bind(CellSpace(), 0)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        for _ in range(30):
            strategy.tell(strategy.ask(), None)


def test_roulette_never_picks_a_parent_scored_minus_infinity():
    space = CellSpace()
    strategy = STRATEGIES.get("genetic")(
        population=4, elitism=1, selection="roulette", crossover_rate=0.0, mutation_rate=0.0
    ).bind(space, 0)
    # four cells with one op everywhere, six edges apart: a child (one mutation of one parent) shows its parent
    lost, *scored = (space.from_decisions([op] * 6) for op in range(4))
    strategy.tell(lost, float("-inf"))
    for i, arch in enumerate(scored):
        strategy.tell(arch, float(i))
    children = [strategy.ask() for _ in range(40)]
    assert not set(children) & set(space.neighbors(lost))
    assert set(children) <= {n for arch in scored for n in space.neighbors(arch)}


@pytest.mark.parametrize("name", NAMES)
def test_config_round_trips(name):
    strategy = STRATEGIES.get(name)()
    config = strategy.config()
    assert config["name"] == name
    rebuilt = STRATEGIES.get(name)(**{k: v for k, v in config.items() if k != "name"})
    assert rebuilt.config() == config


@pytest.mark.parametrize("name", NAMES)
def test_small_space_is_searched_without_repeats(name):
    space = CellSpace(nodes=3)  # 125 architectures
    strategy = make(name, space=space)
    seen: dict = {}
    for _ in range(60):
        try:
            arch = ask_new(strategy, seen)
        except SpaceExhausted:
            break
        assert arch not in seen
        seen[arch] = score(arch)
        strategy.tell(arch, seen[arch])
    assert len(seen) >= 30


@pytest.mark.parametrize("name", NAMES)
def test_a_small_space_is_exhausted_only_after_every_architecture(name):
    space = CellSpace(nodes=3)  # 125 architectures
    strategy = make(name, space=space)
    seen: dict = {}
    with pytest.raises(SpaceExhausted):
        for _ in range(space.size + 1):
            arch = ask_new(strategy, seen)
            seen[arch] = score(arch)
            strategy.tell(arch, seen[arch])
    assert len(seen) == space.size


def test_grid_visits_every_architecture_once_then_is_exhausted():
    space = CellSpace(nodes=2)  # one edge: 5 architectures
    for shuffle in (True, False):
        strategy = STRATEGIES.get("grid")(shuffle=shuffle).bind(space, 0)
        asked = []
        for _ in range(5):
            asked.append(strategy.ask())
            strategy.tell(asked[-1], 1.0)
        assert sorted(map(str, asked)) == sorted(map(str, space.enumerate()))
        with pytest.raises(SpaceExhausted):
            strategy.ask()


def test_grid_canonical_order_follows_enumeration():
    space = CellSpace(nodes=3)
    strategy = STRATEGIES.get("grid")(shuffle=False, max_size=100).bind(space, 0)  # streamed: no size limit
    assert [strategy.ask() for _ in range(7)] == list(space.enumerate())[:7]


def test_grid_refuses_a_space_over_max_size_before_any_trial():
    with pytest.raises(ConfigError, match=r"strategy\.max_size: .*\(125\)") as info:
        STRATEGIES.get("grid")(max_size=100).bind(CellSpace(nodes=3), 0)
    assert "\n" not in str(info.value)


def test_grid_refuses_a_space_over_max_size_that_only_enumeration_counts_at_the_first_ask():
    class Uncounted(CellSpace):
        size = SearchSpace.size  # counted by enumerating, as a space that does not know its size is

    strategy = STRATEGIES.get("grid")(max_size=100).bind(Uncounted(nodes=3), 0)
    with pytest.raises(ConfigError, match=r"strategy\.max_size: .*\(over 100\)") as info:
        strategy.ask()
    assert "\n" not in str(info.value)


def test_genetic_generations_limit_ends_the_search():
    strategy = STRATEGIES.get("genetic")(population=4, elitism=1, generations=2).bind(CellSpace(), 0)
    with pytest.raises(SpaceExhausted):
        drive(strategy, 50)
    assert strategy.generation == 3


BAD = [
    ("evolution", {"population": 0}, "strategy.population"),
    ("evolution", {"population": 5, "sample": 9}, "strategy.sample"),
    ("local", {"improvement": "steepest"}, "strategy.improvement"),
    ("local", {"init": 0}, "strategy.init"),
    ("grid", {"max_size": 0}, "strategy.max_size"),
    ("genetic", {"selection": "rank"}, "strategy.selection"),
    ("genetic", {"crossover": "two_point"}, "strategy.crossover"),
    ("genetic", {"mutation_rate": 1.5}, "strategy.mutation_rate"),
    ("genetic", {"population": 4, "elitism": 4}, "strategy.elitism"),
    ("reinforce", {"lr": 0}, "strategy.lr"),
    ("reinforce", {"momentum": 1.0}, "strategy.momentum"),
    ("qlearning", {"epsilon_end": 2}, "strategy.epsilon_end"),
    ("qlearning", {"gamma": -0.1}, "strategy.gamma"),
    ("bananas", {"acquisition": "ei"}, "strategy.acquisition"),
    ("bananas", {"ensemble": 0}, "strategy.ensemble"),
    ("guided_local", {"refit": 0}, "strategy.refit"),
]


@pytest.mark.parametrize(("name", "params", "field"), BAD)
def test_bad_config_is_a_one_line_config_error(name, params, field):
    with pytest.raises(ConfigError, match=field) as info:
        STRATEGIES.get(name)(**params)
    assert "\n" not in str(info.value)
