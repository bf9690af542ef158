"""Dominance, fronts, crowding and hypervolume against hand-computed cases and brute force."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from nasforge.pareto import (
    crowding_distance,
    dominates,
    first_front,
    hypervolume,
    hypervolume_gains,
    non_dominated_fronts,
    pareto_order,
)


def test_dominance_needs_no_worse_everywhere_and_better_somewhere():
    assert dominates([2, 3], [1, 3]) and not dominates([1, 3], [2, 3])
    assert not dominates([2, 3], [2, 3])  # equal points do not dominate each other
    assert not dominates([3, 1], [1, 3])


def test_fronts_on_a_hand_computed_case():
    points = [[4, 1], [3, 3], [1, 4], [2, 2], [1, 1], [3, 3], [0, 5]]
    # [3,3] twice: neither dominates the other; [2,2] is beaten by [3,3]; [1,1] by [2,2]
    assert non_dominated_fronts(points) == [[0, 1, 2, 5, 6], [3], [4]]
    assert non_dominated_fronts([]) == []


def test_crowding_distance_on_a_hand_computed_front():
    front = np.array([[0.0, 4.0], [1.0, 3.0], [3.0, 1.0], [4.0, 0.0]])
    # ranges 4 and 4; [1,3]: (3-0)/4 + (4-1)/4 = 1.5; [3,1]: (4-1)/4 + (3-0)/4 = 1.5; the ends are infinite
    assert crowding_distance(front).tolist() == [np.inf, 1.5, 1.5, np.inf]
    front = np.array([[0.0, 4.0], [1.0, 3.0], [1.5, 2.5], [4.0, 0.0]])
    assert crowding_distance(front)[1:3].tolist() == pytest.approx([(1.5 - 0) / 4 * 2, (4 - 1) / 4 * 2])
    assert pareto_order([[1, 1], [0, 4], [1.5, 2.5], [1, 3], [4, 0]]) == [1, 4, 2, 3, 0]


def _brute_force(points: np.ndarray, reference: np.ndarray) -> int:
    """Unit cells of an integer grid dominated by some point: the exact volume for integer coordinates."""
    top = points.max(axis=0)
    count = 0
    for cell in itertools.product(*(range(int(r), int(t)) for r, t in zip(reference, top, strict=True))):
        corner = np.asarray(cell) + 1  # the cell [c, c+1) is dominated when some point is >= its upper corner
        count += bool(np.any(np.all(points >= corner, axis=1)))
    return count


@pytest.mark.parametrize("dims", [2, 3, 4])
def test_hypervolume_matches_brute_force(dims):
    rng = np.random.default_rng(dims)
    for _ in range(20):
        points = rng.integers(0, 7, size=(int(rng.integers(1, 9)), dims)).astype(float)
        reference = np.zeros(dims)
        assert hypervolume(points, reference) == _brute_force(points, reference)


def test_the_first_front_is_the_first_of_the_fronts_with_ties_and_duplicates():
    rng = np.random.default_rng(0)
    for _ in range(100):
        points = rng.integers(0, 4, size=(int(rng.integers(1, 30)), int(rng.integers(1, 4)))).astype(float)
        assert sorted(first_front(points)) == sorted(non_dominated_fronts(points)[0])
    assert first_front(np.empty((0, 2))) == []


def test_hypervolume_gains_are_what_each_point_alone_adds():
    rng = np.random.default_rng(1)
    reference = np.array([-1.0, 0.0])
    for size in (0, 1, 5):
        front = rng.integers(0, 6, size=(size, 2)).astype(float)
        points = rng.integers(-2, 7, size=(12, 2)).astype(float)  # some below the reference, some dominated
        base = hypervolume(front, reference) if size else 0.0
        added = [hypervolume(np.vstack([front, p]), reference) - base for p in points]
        assert hypervolume_gains(front, points, reference).tolist() == pytest.approx(added)


def test_hypervolume_ignores_points_that_do_not_beat_the_reference():
    assert hypervolume([[2.0, 2.0], [5.0, 0.5]], [1.0, 1.0]) == 1.0
    assert hypervolume([[0.5, 3.0]], [1.0, 1.0]) == 0.0


def test_the_front_of_a_run_compares_full_trainings_on_its_objectives():
    from nasforge.objective import Objective
    from nasforge.pareto import front_of
    from nasforge.trial import Trial, TrialState

    def t(id, accuracy, params, epochs=8, state=TrialState.FINISHED):
        costs = {"params": params, "epochs": epochs}
        return Trial(id=id, arch="a", state=state, seed=0, score=accuracy, metrics={"accuracy": accuracy}, costs=costs)

    trials = [
        t(1, 0.90, 5000),
        t(2, 0.95, 20000),
        t(3, 0.85, 8000),  # 3 is beaten by 1
        t(4, 0.99, 1000, epochs=2),  # an early rung: not compared with full trainings
        t(5, 0.97, 900, state=TrialState.PRUNED),
        t(6, 0.95, 20000),  # 6 ties 2: neither dominates
    ]
    front = front_of(trials, Objective(metrics=("accuracy", "params")))
    assert [x.id for x in front] == [2, 6, 1]
    assert front_of([], Objective(metrics=("accuracy", "params"))) == []


def test_scalarize_is_parego_augmented_tchebycheff_on_scaled_objectives():
    from nasforge.pareto import scalarize

    values = [[0.9, -300.0], [0.5, -100.0], [0.7, -200.0]]  # accuracy, -params: scaled to [1, 0], [0, 1], [.5, .5]
    # shortfalls d = 1 - u: [0, 1], [1, 0], [.5, .5]; weights (0.8, 0.2) -> w*d = [0, .2], [.8, 0], [.4, .1]
    assert scalarize(values, [0.8, 0.2]) == pytest.approx(
        [-(0.2 + 0.05 * 0.2), -(0.8 + 0.05 * 0.8), -(0.4 + 0.05 * 0.5)]
    )
    assert scalarize([[1.0, 2.0], [1.0, 3.0]], [0.5, 0.5])[1] == 0.0  # a constant objective costs nothing


def test_spread_front_keeps_the_ends_and_the_given_point():
    from nasforge.objective import Objective
    from nasforge.trial import Trial, TrialState
    from nasforge.winner import spread_front

    objective = Objective(metrics=("accuracy", "params"))
    front = [  # a front in order of accuracy, best first
        Trial(
            id=i, arch="a", state=TrialState.FINISHED, seed=0, score=acc, metrics={"accuracy": acc}, costs={"params": p}
        )
        for i, (acc, p) in enumerate([(0.9, 500), (0.88, 400), (0.8, 390), (0.7, 100), (0.6, 50)])
    ]
    assert [t.id for t in spread_front(front, objective, 2)] == [0, 4]  # the two ends (infinite crowding)
    assert [t.id for t in spread_front(front, objective, 2, keep=front[2])] == [0, 2]
    assert [t.id for t in spread_front(front, objective, 9)] == [0, 1, 2, 3, 4]


def test_a_pareto_search_names_its_front_and_tests_the_chosen_points(tmp_path):
    import json

    import nasforge as nf
    from nasforge.data import synthetic
    from nasforge.objective import Objective

    objective = Objective(metrics=("accuracy", "params"))
    run = nf.search(
        data=synthetic("image", n=240, classes=3, shape=(1, 8, 8), seed=0),
        trainer=nf.Trainer(epochs=2),
        strategy="nsga2",
        objective=objective,
        budget=nf.Budget(trials=8),
        run_dir=tmp_path,
        front=2,
    )
    best = json.loads((tmp_path / "best.json").read_text())
    from nasforge.pareto import front_of

    assert best["front"]["trials"] == [t.id for t in front_of(run.trials, objective)]
    tested = best["front"]["tested"]
    assert len(tested) == min(2, len(best["front"]["trials"])) and best["trial"] in [p["trial"] for p in tested]
    assert all(0 <= p["test"]["accuracy"] <= 1 and p["costs"]["params"] > 0 for p in tested)
    assert best["front"]["objectives"] == ["accuracy", "params"] and best["trial"] in best["front"]["trials"]
    assert (tmp_path / "pareto.png").stat().st_size > 0  # the front, the tested points marked
    with pytest.raises(nf.ConfigError, match=r"final\.front: must be (an integer )?>= 1"):
        nf.search(data=synthetic("image", n=60, classes=3, shape=(1, 8, 8)), objective=objective, front=0)


def test_a_nan_objective_counts_as_the_worst_value():
    """A NaN compares false both ways: left as it is, a point with one would be beaten by nothing and sit on the
    first front (and be retrained as a Pareto point) however poor its other objectives."""
    points = [[1.0, 1.0], [0.5, np.nan], [0.2, 0.2]]
    assert dominates(points[0], points[1]) and not dominates(points[1], points[2])
    assert non_dominated_fronts(points) == [[0], [1, 2]]
    assert first_front(points) == [0]
    assert pareto_order(points) == [0, 1, 2]
    assert not np.isnan(crowding_distance([[0.0, 3.0], [1.0, np.nan], [2.0, 2.0], [3.0, 1.0]])).any()


def test_the_front_of_a_run_leaves_a_trial_with_a_nan_objective_behind_a_better_one():
    from nasforge.objective import Objective
    from nasforge.pareto import front_of
    from nasforge.trial import Trial, TrialState

    def t(id, mse, r2):
        return Trial(id=id, arch="a", state=TrialState.FINISHED, seed=0, score=-mse, metrics={"mse": mse, "r2": r2})

    front = front_of([t(1, 0.5, np.nan), t(2, 0.2, 0.9), t(3, 0.1, np.nan)], Objective(metrics=("mse", "r2")))
    assert [x.id for x in front] == [3, 2]  # 1 is worse than 2 in mse, and its r2 is unknown
