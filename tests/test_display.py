"""What the CLI prints while a search runs: how trials rank, the leader, and which limit stopped the search."""

from __future__ import annotations

import io
from types import SimpleNamespace

from rich.console import Console

from nasforge.budget import Budget
from nasforge.cli._display import Display
from nasforge.objective import Objective
from nasforge.trial import Trial, TrialState


def finished(trial_id: int, accuracy: float, flops: float, objective: Objective) -> Trial:
    metrics, costs = {"accuracy": accuracy}, {"flops": flops, "params": 1000.0}
    score = objective.score(metrics, costs)
    return Trial(trial_id, f"arch{trial_id}", TrialState.FINISHED, seed=0, score=score, metrics=metrics, costs=costs)


def progress_lines(
    budget: Budget, objective: Objective, trials: list[Trial], reason: str, cut: tuple[Trial, ...] = ()
) -> list[str]:
    display = Display()
    display.console = Console(file=io.StringIO(), width=240, highlight=False)  # not a terminal: a line per trial
    progress = display.progress(budget, objective)
    run = SimpleNamespace(best_trial=None, top=lambda k=None: [], elapsed_before=0.0, done=0, trials=[])
    progress.on_search_start(run)
    for trial in trials:
        progress.on_trial_end(run, trial)
    run.done = len(trials)
    ended = {"top": lambda k=None: trials, "trials": trials + list(cut)}  # cut trials never reach on_trial_end
    progress.on_search_end(SimpleNamespace(**{**vars(run), **ended}), reason)
    return display.console.file.getvalue().splitlines()


def test_the_leader_is_the_ranked_trial_and_the_highest_metric_is_shown_beside_it():
    objective = Objective(flops_penalty=0.1)
    cheap, large = finished(1, 0.978, 6.35e6, objective), finished(2, 0.981, 17e6, objective)
    assert cheap.score > large.score, "the issue's example: the penalty ranks the cheaper network first"
    lines = progress_lines(Budget(seconds=300), objective, [cheap, large], "seconds")
    assert lines[0] == (
        "ranking: validation accuracy traded against FLOPs (2x the FLOPs must cut the error (1 - accuracy) by 10%); "
        "budget: 300 s"
    )
    assert "leader #1 accuracy 0.9780 @ 6.35M FLOPs  " in lines[1]
    assert "leader #1 accuracy 0.9780 @ 6.35M FLOPs (highest accuracy: 0.9810, #2)" in lines[2]
    assert lines[3].startswith("search stopped (time budget of 300 s spent) after 2 trials")


def test_without_a_penalty_the_leader_is_the_highest_metric():
    objective = Objective(flops_penalty=0)
    trials = [finished(1, 0.978, 6.35e6, objective), finished(2, 0.981, 17e6, objective)]
    lines = progress_lines(Budget(), objective, trials, "exhausted")
    assert lines[0] == "ranking: validation accuracy; budget: 40 trials (the default when no budget is given)"
    assert lines[2].split("  ")[2] == "leader #2 accuracy 0.9810"
    assert lines[3].startswith("search stopped (every architecture of the space evaluated) after 2 trials")


def test_trials_the_time_budget_cut_are_counted_apart():
    objective = Objective(flops_penalty=0)
    trials = [finished(1, 0.978, 6.35e6, objective), finished(2, 0.981, 17e6, objective)]
    cut = Trial(3, "arch3", TrialState.INTERRUPTED, seed=0, error="the search's time budget ran out during epoch 2/8")
    lines = progress_lines(Budget(seconds=300), objective, trials, "seconds", cut=(cut,))
    assert lines[3].startswith(
        "search stopped (time budget of 300 s spent) after 2 trials; 1 cut by the time budget (not counted; "
        "a resume given more time trains them again) in "
    )
