"""The checkpoints a scheduler's promotions go on from: held in memory or in files a resume finds again."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from torch import nn

import nasforge as nf
from nasforge.api import CHECKPOINT_DIR, search
from nasforge.callbacks import Callback
from nasforge.data import synthetic
from nasforge.evaluators import Trainer
from nasforge.fidelity import CheckpointShelf
from nasforge.trial import Trial, TrialState

DATA = synthetic("image", n=240, classes=3, shape=(1, 8, 8), seed=0)


def _trial(id: int, state: TrialState = TrialState.FINISHED, parent: int | None = None, **kwargs) -> Trial:
    return Trial(id=id, arch=f"arch{id}", state=state, seed=id, parent=parent, **kwargs)


def _net() -> nn.Module:
    torch.manual_seed(0)
    return nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Dropout(0.2), nn.Linear(8, 3))


def _xy() -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(0)
    return rng.normal(size=(96, 4)).astype(np.float32), rng.integers(0, 3, 96)


def test_a_checkpoint_read_back_from_its_file_trains_on_to_the_weights_of_one_training(tmp_path) -> None:
    trainer = Trainer(epochs=4, batch_size=16, device="cpu")
    straight = _net()
    trainer.fit(straight, *_xy(), seed=1)
    part = trainer.fit(_net(), *_xy(), seed=1, until=2, keep=True, average=True)

    shelf = CheckpointShelf(tmp_path)
    shelf.hold(_trial(7), part.checkpoint)
    resumed = CheckpointShelf(tmp_path)  # another driver's, after a crash
    resumed.recover([_trial(7)])
    checkpoint = resumed.take(7)
    assert checkpoint.epoch == 2 and checkpoint.average is not None  # read back, not retrained from scratch
    continued = _net()
    assert len(trainer.fit(continued, *_xy(), seed=1, start=checkpoint).losses) == 2  # epochs 3 and 4
    for a, b in zip(straight.state_dict().values(), continued.state_dict().values(), strict=True):
        assert torch.equal(a, b)


def test_a_taken_file_stays_until_the_promotion_ends_and_memory_forgets_at_once(tmp_path) -> None:
    on_disk, in_memory = CheckpointShelf(tmp_path), CheckpointShelf()
    for shelf in (on_disk, in_memory):
        shelf.hold(_trial(3), {"epoch": 1})
        assert shelf.take(3) == {"epoch": 1}
        assert shelf.take(3) is None and len(shelf) == 0
    assert (tmp_path / "3.pt").exists(), "a promotion cut by a crash is redone from it"
    on_disk.release(3)
    assert not (tmp_path / "3.pt").exists()


def test_a_resume_holds_again_only_the_checkpoints_a_promotion_may_still_use(tmp_path) -> None:
    writer = CheckpointShelf(tmp_path)
    for id in range(1, 7):
        writer.hold(_trial(id), {"id": id})
    (tmp_path / ".8.x1y2z3.tmp.pt").write_bytes(b"half a file")  # what a SIGKILL mid-write leaves
    trials = [
        _trial(1),  # never promoted
        _trial(2),  # promoted, and the promotion finished
        _trial(3),  # promoted, and the promotion was cut by the crash: redone from the file
        _trial(4, TrialState.PRUNED),
        _trial(5),  # its promotion failed: decided all the same
        # trial 6 is not in the store: a file of another run that was started over in the same directory
        _trial(9, parent=2),
        _trial(10, TrialState.INTERRUPTED, parent=3),
        _trial(11, TrialState.FAILED, parent=5),
    ]
    resumed = CheckpointShelf(tmp_path)
    resumed.recover(trials)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["1.pt", "3.pt"]
    assert len(resumed) == 2 and resumed.take(3) == {"id": 3} and resumed.take(1) == {"id": 1}


def test_a_damaged_or_foreign_file_means_retraining_not_wrong_weights(tmp_path) -> None:
    damaged, foreign = CheckpointShelf(tmp_path / "damaged"), CheckpointShelf(tmp_path / "foreign")
    for shelf in (damaged, foreign):
        shelf.hold(_trial(1), {"epoch": 1})
    (tmp_path / "damaged" / "1.pt").write_bytes(b"not a checkpoint")
    damaged.recover([_trial(1)])
    assert damaged.take(1) is None
    foreign.recover([Trial(id=1, arch="another architecture", state=TrialState.FINISHED, seed=1)])
    assert foreign.take(1) is None, "trial 1 of the store trains another architecture than the file's"


def test_beyond_its_limit_a_shelf_drops_the_lowest_of_a_rung_and_deletes_its_file(tmp_path) -> None:
    shelf = CheckpointShelf(tmp_path, limit=3)
    for id, epochs, score in [(1, 1, 0.9), (2, 1, 0.5), (3, 3, 0.2), (4, 1, 0.7)]:
        shelf.hold(_trial(id, score=score, costs={"epochs": epochs}), {"id": id})
    assert sorted(p.name for p in tmp_path.iterdir()) == ["1.pt", "3.pt", "4.pt"], "rung 1's lowest goes"
    assert shelf.take(2) is None


class _CtrlCAfter(Callback):
    def __init__(self, trials: int) -> None:
        self.trials = trials

    def on_trial_end(self, run, trial) -> None:
        if len(run.trials) >= self.trials:
            raise KeyboardInterrupt


def test_after_ctrl_c_a_resumed_asha_search_goes_on_from_the_checkpoints_on_disk(tmp_path) -> None:
    run_dir = tmp_path / "run"
    common = {
        "data": DATA,
        "trainer": nf.Trainer(epochs=4),
        "strategy": "random",
        "fidelity": {"scheduler": "asha", "min_epochs": 1, "eta": 2},
        "budget": nf.Budget(trials=14),
        "run_dir": run_dir,
    }
    with pytest.raises(KeyboardInterrupt):
        search(**common, callbacks=[_CtrlCAfter(2)])
    left = {int(p.stem) for p in (run_dir / CHECKPOINT_DIR).glob("*.pt")}
    assert left, "the trials that may be promoted left their checkpoints"
    trials = search(**common).trials
    after = [t for t in trials if t.parent in left and t.id > 2]
    assert after, "a trial that finished before the Ctrl-C was promoted after it"
    by_id = {t.id: t for t in trials}
    for child in after:
        assert child.costs["epochs_trained"] == child.costs["epochs"] - by_id[child.parent].costs["epochs"]
    assert not (run_dir / CHECKPOINT_DIR).exists(), "a search that ended leaves no checkpoint behind"


def test_a_checkpoint_that_cannot_be_written_costs_its_promotion_the_retraining_not_the_search(tmp_path) -> None:
    (tmp_path / "blocked").write_text("a file where the directory should be")
    shelf = CheckpointShelf(tmp_path / "blocked")
    with pytest.warns(RuntimeWarning, match="cannot keep trial 1's checkpoint .* trains from the first epoch"):
        shelf.hold(_trial(1), {"epoch": 1})
    assert len(shelf) == 0 and shelf.take(1) is None
    shelf.release(1)  # the promotion ended: nothing to remove, nothing raised


SMALL_DISK = """
import resource, signal, sys
signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # a failed write, not a killed process
resource.setrlimit(resource.RLIMIT_FSIZE, (2_000_000, 2_000_000))  # 1.2 MB of weights fit, not 4.7 MB of checkpoint
import nasforge as nf
from nasforge.api import search
from nasforge.data import synthetic
space = {"type": "chain", "depth": 2, "widths": [512], "activations": ["relu", "gelu", "silu", "tanh"]}
run = search(
    data=synthetic("flat", n=120, classes=3, seed=0), space=space,
    trainer=nf.Trainer(epochs=3), strategy="random", fidelity={"scheduler": "asha", "min_epochs": 1, "eta": 3},
    budget=nf.Budget(trials=6), run_dir=sys.argv[1], seeds=1,
)
for t in run.trials:
    print(t.id, t.parent, t.state.value, t.costs.get("epochs"), t.costs.get("epochs_trained"))
"""


def test_a_disk_too_full_for_checkpoints_warns_and_the_search_retrains_its_promotions(tmp_path) -> None:
    """A file size limit (``RLIMIT_FSIZE``) fails every checkpoint's write as a full disk would, the store's not."""
    import subprocess
    import sys

    (tmp_path / "small_disk.py").write_text(SMALL_DISK)
    done = subprocess.run(
        [sys.executable, "small_disk.py", "run"], cwd=tmp_path, capture_output=True, text=True, timeout=300
    )
    assert done.returncode == 0, done.stderr
    assert "cannot keep trial 1's checkpoint" in done.stderr and "File too large" in done.stderr
    rows = [line.split() for line in done.stdout.splitlines()]
    promotions = [row for row in rows if row[1] != "None"]
    assert promotions and all(row[2] == "finished" and row[3] == row[4] for row in promotions), rows
    assert not (tmp_path / "run" / CHECKPOINT_DIR).exists()
