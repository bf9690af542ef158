"""The learning strategies credit the decisions they sampled, not the architecture's canonical ones.

On a chain of depth 1 to 3, the widths of layers past the chosen depth build nothing: every value gives the
same network, which records them as choice 0. Rewarding depth 1 alone must leave those widths unlearnt.
"""

from __future__ import annotations

import numpy as np
import pytest

from nasforge.spaces import ChainSpace
from nasforge.strategies import QLearning, Reinforce, Strategy


def shallow_chains() -> ChainSpace:
    space = ChainSpace(input_shape=(10,), depth=(1, 3), widths=(16, 32, 64, 128))
    assert [d.name for d in space.decisions] == ["depth", "layer0.width", "layer1.width", "layer2.width"]
    return space


def train(strategy: Strategy, steps: int = 300) -> None:
    for _ in range(steps):
        arch = strategy.ask()
        strategy.tell(arch, 1.0 if len(arch) == 1 else 0.0)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_reinforce_does_not_learn_a_width_that_builds_nothing(seed: int):
    strategy = Reinforce(lr=0.05).bind(shallow_chains(), seed)
    train(strategy)
    depth, _, unused, _ = strategy.probabilities()
    assert depth[0] > 0.9  # it learnt what is rewarded
    assert unused.max() < 0.5  # and not the canonical 0 of a layer it never built (it was above 0.85)


def test_qlearning_updates_the_widths_its_episodes_took():
    strategy = QLearning(state="prefix").bind(shallow_chains(), 0)
    train(strategy)
    # the rows after "depth 1, some width": the next action (layer 1's width) is drawn but builds nothing
    taken = {
        int(a)
        for key, row in strategy.q.items()
        if len(key) == 2 and key[0] == 0
        for a in np.flatnonzero(~np.isnan(row))
    }
    assert len(taken) > 1, "only the canonical width 0 was ever updated"
