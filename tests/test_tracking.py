"""TensorBoard and MLflow callbacks, each writing to a local directory with the real library and read back with
that library's own reader."""

from __future__ import annotations

import itertools

import pytest

import nasforge as nf
from nasforge.budget import Budget
from nasforge.exceptions import ConfigError
from nasforge.tracking import MLflowCallback, TensorBoardCallback, tracking_callbacks


def tiny_search(tmp_path, callback) -> nf.Run:
    return nf.search(
        data=nf.data.synthetic("image", n=180, classes=3, seed=0),
        space=nf.CellSpace(stem_channels=4, stages=2, cells_per_stage=1),
        strategy="random",
        trainer=nf.Trainer(epochs=2),
        budget=Budget(trials=4),
        run_dir=tmp_path / "run",
        seeds=1,
        callbacks=[callback],
    )


def test_tensorboard_gets_scalars_per_trial_and_epoch_and_the_winners_graph(tmp_path):
    pytest.importorskip("tensorboard", reason="pip install 'nasforge[tensorboard]'")
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    run = tiny_search(tmp_path, TensorBoardCallback(tmp_path / "tb"))
    events = EventAccumulator(str(tmp_path / "tb"))
    events.Reload()
    tags = events.Tags()["scalars"]
    accuracy = events.Scalars("trial/accuracy")
    assert [e.step for e in accuracy] == [t.id for t in run.trials]
    assert [e.value for e in accuracy] == pytest.approx([t.metrics["accuracy"] for t in run.trials])
    best = events.Scalars("search/best_score")
    assert best[-1].value == pytest.approx(max(t.score for t in run.trials))
    assert all(a.value <= b.value for a, b in itertools.pairwise(best))
    curve = events.Scalars("curve/accuracy/trial_00001")
    assert [e.step for e in curve] == [1, 2]
    assert {"trial/params", "trial/flops"} <= set(tags)
    graph = events.Graph()
    assert any("Conv" in node.op or "conv" in node.name for node in graph.node)


def test_mlflow_gets_a_run_per_search_a_nested_run_per_trial_and_the_winners_files(tmp_path):
    pytest.importorskip("mlflow", reason="pip install 'nasforge[mlflow]'")
    from mlflow.tracking import MlflowClient

    uri = f"sqlite:///{tmp_path / 'mlflow.db'}"  # MLflow 3's local store (its file store is retired)
    client = MlflowClient(uri)
    client.create_experiment("tiny", artifact_location=(tmp_path / "artifacts").as_uri())  # not the cwd's
    callback = MLflowCallback(uri, experiment="tiny")
    run = tiny_search(tmp_path, callback)
    experiment = client.get_experiment_by_name("tiny")
    runs = client.search_runs([experiment.experiment_id])
    parent = client.get_run(callback.run_id)
    children = [r for r in runs if r.data.tags.get("mlflow.parentRunId") == callback.run_id]
    assert len(runs) == 5 and len(children) == 4
    assert parent.data.params["strategy"] == "random" and parent.data.params["winner"] == run.best.trial.arch
    assert parent.data.metrics["test_accuracy"] == pytest.approx(run.best.test["accuracy"])
    arches = sorted(c.data.params["arch"] for c in children)
    assert arches == sorted(t.arch for t in run.trials)
    history = client.get_metric_history(children[0].info.run_id, "accuracy")
    assert sorted(m.step for m in history) == [0, 1, 2]  # the trial's result, then its curve by epoch
    files = {f.path for f in client.list_artifacts(callback.run_id, "winner")}
    assert {"winner/best.pt", "winner/best.onnx", "winner/best.json", "winner/report.html"} <= files


def test_tracking_from_the_config_needs_a_place_to_write():
    with pytest.raises(ConfigError, match=r"report.tensorboard: give a directory"):
        tracking_callbacks(None, True, False)
    assert tracking_callbacks(None, False, False) == []


def test_a_tracker_that_fails_is_a_warning_and_the_search_goes_on(tmp_path):
    """The runner calls callbacks without catching: a tracker's error (here a log directory under a file, and an
    MLflow store that cannot be created) must not end the search, whose trials and winner are all there."""
    pytest.importorskip("tensorboard", reason="pip install 'nasforge[tensorboard]'")
    pytest.importorskip("mlflow", reason="pip install 'nasforge[mlflow]'")
    blocker = tmp_path / "a-file"
    blocker.write_text("")
    with pytest.warns(RuntimeWarning, match=r"report\.tensorboard: on_search_start failed \(NotADirectoryError"):
        run = tiny_search(tmp_path / "tb", TensorBoardCallback(blocker / "tb"))
    assert run.done == 4 and (tmp_path / "tb" / "run" / "best.json").is_file()
    with pytest.warns(RuntimeWarning, match=r"^report\.mlflow: on_\w+ failed"):
        run = tiny_search(tmp_path / "mlflow", MLflowCallback(f"sqlite:///{blocker}/mlflow.db"))
    assert run.done == 4 and (tmp_path / "mlflow" / "run" / "best.json").is_file()


def test_the_winners_graph_is_traced_on_a_copy(tmp_path):
    """``best.model`` is the caller's: tracing it must not move it to the CPU (a CUDA run's model would then
    fail on CUDA inputs) nor switch it to evaluation mode."""
    pytest.importorskip("tensorboard", reason="pip install 'nasforge[tensorboard]'")
    from dataclasses import replace

    run = tiny_search(tmp_path, TensorBoardCallback(tmp_path / "tb"))
    model = run.space.build(run.best.arch, run.evaluator.input_shape, 3)
    model.train()
    callback = TensorBoardCallback(tmp_path / "tb2")
    callback.on_search_start(run)
    callback.on_final(run, replace(run.best, model=model))
    assert model.training, "the caller's model keeps its mode"
