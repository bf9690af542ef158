"""Faults a long search meets: a second writer, trials that fail, a network too big for the machine."""

from __future__ import annotations

import os
import pickle
import signal
import socket
import subprocess
import sys
import textwrap

import numpy as np
import pytest
import torch

import nasforge as nf
from nasforge.costs import train_memory_bytes
from nasforge.exceptions import Infeasible, NasforgeError, StoreError, TrialFailed
from nasforge.store import RunLock, SQLiteStore
from nasforge.trial import TrialState

HOLD = textwrap.dedent(
    """
    import sys, time
    from nasforge.store import RunLock, SQLiteStore
    lock = RunLock(sys.argv[1], "a search")
    lock.acquire()
    print("held", flush=True)
    time.sleep(300)
    """
)


@pytest.fixture(scope="module")
def images():
    return nf.data.synthetic("image", n=120, classes=3, seed=0)


def tiny_search(images, run_dir=None, **kwargs):
    options = dict(
        data=images,
        space=nf.ChainSpace(depth=(1, 2), widths=(4,), input_shape=images.X.shape[1:]),
        strategy="random",
        trainer=nf.Trainer(epochs=1),
        budget=nf.Budget(trials=2),
        run_dir=run_dir,
    )
    return nf.search(**{**options, **kwargs})


@pytest.fixture
def holder(tmp_path):
    """Another process holding ``tmp_path / "run"``; killed (SIGKILL) by the test or at teardown."""
    proc = subprocess.Popen([sys.executable, "-c", HOLD, str(tmp_path / "run")], stdout=subprocess.PIPE, text=True)
    assert proc.stdout is not None and proc.stdout.readline().strip() == "held"
    yield proc
    if proc.poll() is None:
        proc.kill()
    proc.wait()


def test_a_second_writer_is_refused_with_the_holders_pid_host_and_start(tmp_path, images, holder):
    with pytest.raises(StoreError) as refused:
        tiny_search(images, run_dir=tmp_path / "run")
    message = str(refused.value)
    assert f"in use by a search (pid {holder.pid} on {socket.gethostname()}, since 20" in message
    assert "\n" not in message
    (tmp_path / "cfg.yaml").write_text("data: {builtin: digits}\nbudget: {trials: 1}\n")
    cli = subprocess.run(
        [sys.executable, "-m", "nasforge", "search", "cfg.yaml", "--run-dir", "run"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
    )
    relative = message.replace(str(tmp_path / "run"), "run")
    assert cli.returncode == 2 and cli.stderr.splitlines() == [f"error: {relative}"]


def test_a_lock_left_by_a_killed_process_does_not_block_the_next_writer(tmp_path, images, holder):
    os.kill(holder.pid, signal.SIGKILL)
    holder.wait()
    run = tiny_search(images, run_dir=tmp_path / "run")  # the kernel released the dead process's lock
    assert run.done == 2
    assert RunLock(tmp_path / "run").holder()["pid"] == os.getpid()  # the file says who held it last


def test_show_reads_a_run_while_another_process_holds_it(tmp_path, images):
    tiny_search(images, run_dir=tmp_path / "run")
    proc = subprocess.Popen([sys.executable, "-c", HOLD, str(tmp_path / "run")], stdout=subprocess.PIPE, text=True)
    try:
        assert proc.stdout is not None and proc.stdout.readline().strip() == "held"
        shown = subprocess.run(
            [sys.executable, "-m", "nasforge", "show", str(tmp_path / "run")], capture_output=True, text=True
        )
        assert shown.returncode == 0, shown.stderr
        assert "finished" in shown.stdout
    finally:
        proc.kill()
        proc.wait()


def test_in_one_process_a_run_is_released_when_its_search_returns(tmp_path, images):
    tiny_search(images, run_dir=tmp_path / "run")
    with RunLock(tmp_path / "run", "a test"), pytest.raises(StoreError, match="in use by a test"):
        tiny_search(images, run_dir=tmp_path / "run", budget=nf.Budget(trials=3))
    assert tiny_search(images, run_dir=tmp_path / "run", budget=nf.Budget(trials=3)).done == 3


def test_trials_that_keep_failing_stop_the_search_with_their_reasons(images):
    # a time limit no training can meet: every trial raises TrialTimeout in its first batch
    trainer = nf.Trainer(epochs=1, time_limit=1e-9)
    with pytest.raises(NasforgeError) as stopped:
        tiny_search(images, trainer=trainer, budget=nf.Budget(trials=20))
    message = str(stopped.value)
    assert message.startswith("search stopped: 5 of 5 trials failed (budget.max_failures)")
    assert "5x TrialTimeout: trial exceeded its time limit" in message


def test_a_failed_trial_keeps_its_reason_and_costs_and_the_search_goes_on(tmp_path, images):
    trainer = nf.Trainer(epochs=1, time_limit=1e-9)
    # both trials ran and the trial budget ended the search: no winner, and the message says why they failed
    with pytest.raises(NasforgeError, match=r"^search stopped: 2 of 2 trials failed, so there is no winner: 2x Trial"):
        tiny_search(images, tmp_path / "run", trainer=trainer, budget=nf.Budget(trials=2, max_failures=5))
    failed = SQLiteStore(tmp_path / "run" / "store.sqlite").trials(states=(TrialState.FAILED,))
    assert len(failed) == 2
    assert failed[0].error.startswith("TrialTimeout: trial exceeded its time limit")
    assert failed[0].costs["params"] > 0 and failed[0].costs["epochs_trained"] == 0


def test_a_count_of_failures_stops_at_that_count(images):
    trainer = nf.Trainer(epochs=1, time_limit=1e-9)
    with pytest.raises(NasforgeError, match="search stopped: 1 of 1 trials failed"):
        tiny_search(images, trainer=trainer, budget=nf.Budget(trials=20, max_failures=1))


@pytest.mark.parametrize("bad", [0, -1, 1.5, True])
def test_max_failures_must_be_a_count_or_a_fraction(bad):
    with pytest.raises(NasforgeError, match=r"budget\.max_failures: a count >= 1 or a fraction in"):
        nf.Budget(max_failures=bad)


def test_a_network_whose_activations_do_not_fit_is_rejected_before_training(images, monkeypatch):
    from nasforge.evaluators import _train

    splits = nf.data.split(images, seed=0)
    space = nf.ChainSpace(depth=1, widths=(64,), input_shape=splits.input_shape)
    arch = space.sample(np.random.default_rng(0))
    model = space.build(arch, splits.input_shape, 3)
    weights = 16 * sum(p.numel() for p in model.parameters())
    assert train_memory_bytes(model, splits.input_shape, 64) > 2 * weights  # activations dominate this one
    # free memory for the weights' check, not for the batch's activations on top
    monkeypatch.setattr(_train, "free_memory_bytes", lambda device: _train.MEMORY_HEADROOM * 2 * weights)
    evaluator = nf.TrainEvaluator(space, splits, nf.Trainer(epochs=1))
    with pytest.raises(Infeasible, match=r"needs about .* MiB to train \(weights, .* a batch's activations; 2x"):
        evaluator.evaluate(arch, seed=0)


def test_training_memory_counts_weights_gradients_moments_and_stored_outputs():
    model = torch.nn.Sequential(torch.nn.Linear(100, 50), torch.nn.ReLU())
    weights = (100 * 50 + 50) * 4
    outputs = (50 + 50) * 4  # the Linear's output and the ReLU's, per sample
    assert train_memory_bytes(model, (100,), batch_size=8) == 4 * weights + 2 * 8 * outputs


def test_failures_travel_between_processes_with_what_they_carry():
    failed = pickle.loads(pickle.dumps(TrialFailed("MemoryError: x", {"params": 3.0}, ({"epoch": 1},), "trace")))
    assert (str(failed), failed.costs, failed.curve, failed.detail) == (
        "MemoryError: x",
        {"params": 3.0},
        ({"epoch": 1},),
        "trace",
    )
    rejected = pickle.loads(pickle.dumps(Infeasible("params 9 > 5", {"params": 9.0})))
    assert (str(rejected), rejected.costs) == ("params 9 > 5", {"params": 9.0})


def test_a_run_directory_that_stops_taking_writes_is_one_line_and_resumes(tmp_path):
    """A file size limit (``RLIMIT_FSIZE``) makes the store's writes fail mid-search as a full disk would."""
    import resource

    def limited() -> None:
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # a failed write, not a killed process
        resource.setrlimit(resource.RLIMIT_FSIZE, (120_000, 120_000))  # 6 of 30 trials fit (60 KB: none since schema 4)

    (tmp_path / "cfg.yaml").write_text(
        "data: {builtin: digits}\nspace: {type: chain, depth: [1, 2]}\ntrain: {epochs: 1}\nbudget: {trials: 30}\n"
    )
    command = [sys.executable, "-m", "nasforge", "search", "cfg.yaml", "--run-dir", "run", "--quiet"]
    full = subprocess.run(command, cwd=tmp_path, capture_output=True, text=True, preexec_fn=limited)
    assert full.returncode == 2, full.stderr
    message = "error: run/store.sqlite: write failed (disk I/O error); what was stored before is kept"
    assert full.stderr.splitlines() == [message]
    store = SQLiteStore(tmp_path / "run" / "store.sqlite")
    kept = [t.id for t in store.trials(states=(TrialState.FINISHED,))]
    store.close()
    assert 0 < len(kept) < 30
    resume = [sys.executable, "-m", "nasforge", "resume", "run", "--quiet"]
    subprocess.run(resume, cwd=tmp_path, capture_output=True, check=True)
    store = SQLiteStore(tmp_path / "run" / "store.sqlite")
    finished = [t.id for t in store.trials(states=(TrialState.FINISHED,))]
    assert finished[: len(kept)] == kept and len(finished) == 30 and (tmp_path / "run" / "best.onnx").exists()


def test_a_network_whose_weights_cannot_fit_is_rejected_without_allocating_them():
    data = nf.data.synthetic("flat", n=60, classes=2, seed=0)
    splits = nf.data.split(data, seed=0)
    space = nf.ChainSpace(depth=2, widths=(16, 400_000), input_shape=splits.input_shape)
    evaluator = nf.TrainEvaluator(space, splits, nf.Trainer(epochs=1))
    giant = space.from_string("dense(400000,relu)>dense(400000,relu)")  # 1.6e11 parameters: 2.4 TiB to train
    with pytest.raises(Infeasible, match=r"needs about [\d,]+ MiB to train \(weights, gradients and optimizer"):
        evaluator.evaluate(giant, seed=0)
    run = nf.search(data=splits, space=space, strategy="grid", trainer=nf.Trainer(epochs=1), budget=nf.Budget(trials=4))
    states = sorted(t.state.value for t in run.trials)
    assert states == ["finished", "finished", "finished", "rejected"], "only the two giant layers together do not fit"
