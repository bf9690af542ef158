"""Bad input, as a new user makes it: each mistake is one line on stderr that names the field or file, says what is
wrong and what is allowed, and exits 2, never a traceback. docs/reliability.md lists these messages.

The CLI runs in this process (``nasforge.cli.main`` with ``sys.argv`` set) to keep the file fast; a few cases
also run as ``python -m nasforge`` to show the real command does the same.
"""

from __future__ import annotations

import errno
import os
import pathlib
import shutil
import sqlite3
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest

from nasforge.api import make_space
from nasforge.cli import main
from nasforge.exceptions import InvalidArchitecture
from nasforge.store import SCHEMA_VERSION, SQLiteStore

TINY = "budget: {trials: 1}\ntrain: {epochs: 1}\n"
FLAT = "data: {builtin: synthetic, kind: flat, n: 60, classes: 2}\n"
X = np.random.default_rng(0).normal(size=(30, 4))
Y = np.arange(30) % 3
HUGE = np.where(np.arange(30) % 2 == 0, 1e308, -1e308)
"""Targets at float64's limit: their mean and spread overflow."""
CSV = "a,b,t\n" + "".join(f"{i},{i * 2},{i % 3}\n" for i in range(30))
ONE_CLASS_CSV = "a,b,t\n" + "".join(f"{i},{i * 2},0\n" for i in range(30))


@dataclass(frozen=True)
class Case:
    """One mistake: ``setup`` writes its files into a folder and returns the nasforge arguments; ``message``
    is the start of the one line printed after ``error:``."""

    mistake: str
    setup: Callable[[Path], list[str]]
    message: str


def config(text: str | bytes) -> Callable[[Path], list[str]]:
    def setup(folder: Path) -> list[str]:
        (folder / "bad.yaml").write_bytes(text.encode() if isinstance(text, str) else text)
        return ["search", "bad.yaml", "--quiet"]

    return setup


def data(name: str, write: Callable[[Path], object], options: str = "") -> Callable[[Path], list[str]]:
    """A data file written by ``write`` and a config that searches it."""

    def setup(folder: Path) -> list[str]:
        write(folder / name)
        return config(f"data: {{path: {name}{options}}}\n{TINY}")(folder)

    return setup


def arrays(**values: np.ndarray) -> Callable[[Path], None]:
    return lambda path: np.savez(path, **values)


def text(content: str | bytes) -> Callable[[Path], int]:
    return lambda path: path.write_bytes(content.encode() if isinstance(content, str) else content)


def damaged(edit: Callable[[bytes], bytes]) -> Callable[[Path], int]:
    """A good .npz whose bytes ``edit`` damages."""

    def write(path: Path) -> int:
        np.savez(path, X=X, y=Y)
        return path.write_bytes(edit(path.read_bytes()))

    return write


def zero_middle(body: bytes) -> bytes:
    """64 zero bytes in the middle of the archive: inside X's data, so its checksum no longer matches."""
    mid = len(body) // 2
    return body[:mid] + bytes(64) + body[mid + 64 :]


def run_dir(write: Callable[[Path], object]) -> Callable[[Path], Path]:
    """A folder ``run`` whose store ``write`` makes."""

    def make(folder: Path) -> Path:
        (folder / "run").mkdir()
        write(folder / "run" / "store.sqlite")
        return folder / "run"

    return make


def newer_schema(path: Path) -> None:
    SQLiteStore(path).close()
    with sqlite3.connect(path) as db:
        db.execute("UPDATE meta SET value = '99' WHERE key = 'schema_version'")
    db.close()


def on_run(command: str, make: Callable[[Path], Path]) -> Callable[[Path], list[str]]:
    return lambda folder: [command, make(folder).name]


def garbage(path: Path) -> int:
    return path.write_bytes(b"not a database " * 300)


NOT_A_RUN = run_dir(lambda path: None)
CASES = [
    # the config
    Case(
        "malformed YAML",
        config("data: {builtin: digits\n"),
        "bad.yaml: line 2 is not valid YAML (expected ',' or '}', but got '<stream end>')",
    ),
    Case(
        "an empty config file",
        config(""),
        "bad.yaml: the config is empty; it needs at least a data section (data: {builtin: digits})",
    ),
    Case(
        "a config file that is not UTF-8 (Latin-1)",
        config(b"data: {builtin: digits}\nname: caf\xe9\n"),
        "bad.yaml: line 2 is not UTF-8 text (byte 0xe9); save the config as UTF-8",
    ),
    Case(
        "a control character in the config",
        config("data: {builtin: digits}\nname: a\x01b\n"),
        "bad.yaml: line 2 is not valid YAML (character '\\x01' is not allowed)",
    ),
    Case(
        "a date that does not exist (month 13)",
        config("data: {builtin: digits}\nseed: 2020-13-01\n"),
        "bad.yaml: line 2 is not valid YAML ('2020-13-01' is not a valid !!timestamp)",
    ),
    Case(
        "a YAML tag on nothing",
        config("data: {builtin: digits}\nseed: !!float\n"),
        "bad.yaml: line 2 is not valid YAML ('' is not a valid !!float)",
    ),
    Case(
        "a config that is a list",
        config("- data\n"),
        "config: must be a mapping of sections (data, space, ...), got list",
    ),
    Case(
        "a config file that does not exist",
        lambda folder: ["search", "nowhere.yaml"],
        "nowhere.yaml: cannot read the config (No such file or directory)",
    ),
    Case(
        "a misspelt section (dta:)",
        config("dta: {builtin: digits}\n"),
        "dta: unknown field; did you mean 'data'? (allowed: name, seed, data, space,",
    ),
    Case(
        "an unknown key holding a newline",
        config('data: {builtin: digits}\n"a\\nb": 1\n'),
        "'a\\nb': unknown field (allowed: name, seed, data, space,",
    ),
    Case(
        "a misspelt key in a section",
        config("data: {builtin: digits}\nbudget: {trails: 3}\n"),
        "budget.trails: unknown field; did you mean 'trials'? (allowed: trials, seconds, epochs",
    ),
    Case(
        "a misspelt space option",
        config("data: {builtin: digits}\nspace: {dept: 2}\n"),
        "space.dept: unknown parameter; did you mean 'depth'? (allowed: depth, ops,",
    ),
    Case(
        "a misspelt space type",
        config("data: {builtin: digits}\nspace: {type: chian}\n"),
        "space.type: unknown space type 'chian'; did you mean 'chain'? (choose from cell, chain",
    ),
    Case(
        "a misspelt strategy",
        config("data: {builtin: digits}\nstrategy: {name: evolutoin}\n"),
        "strategy.name: unknown strategy 'evolutoin'; did you mean 'evolution'? (choose from",
    ),
    Case(
        "a misspelt data option for a file",
        config("data: {path: x.csv, targte: t}\n"),
        "data: unexpected option(s) targte for a file; did you mean 'target'? (allowed: path, target,",
    ),
    Case(
        "text where an integer goes",
        config("data: {builtin: digits}\nbudget: {trials: many}\n"),
        "budget.trials: must be an integer, got 'many'",
    ),
    Case(
        "a list where an integer goes",
        config("data: {builtin: digits}\nseed: [1]\n"),
        "seed: must be an integer, got [1]",
    ),
    Case(
        "a fraction where a whole number goes",
        config("data: {builtin: digits}\nbudget: {trials: 2.5}\n"),
        "budget.trials: must be a whole number, got 2.5",
    ),
    Case(
        "text where a number goes",
        config("data: {builtin: digits}\nbudget: {seconds: long}\n"),
        "budget.seconds: must be a number, got 'long'",
    ),
    Case(
        "a list where a number goes",
        config("data: {builtin: digits}\nbudget: {seconds: [60]}\n"),
        "budget.seconds: must be a number, got [60]",
    ),
    Case(
        "a word where true or false goes",
        config("data: {path: x.csv, target: t, tokenizer: {lowercase: maybe}}\n"),
        "data.tokenizer.lowercase: must be true or false, got 'maybe'",
    ),
    Case(
        "a list where true or false goes",
        config("data: {path: x.csv, target: t, tokenizer: {lowercase: [1]}}\n"),
        "data.tokenizer.lowercase: must be true or false, got [1]",
    ),
    Case("a number where a name goes", config("data: {builtin: digits}\nname: 5\n"), "name: must be a string, got 5"),
    Case(
        "a number where a list goes",
        config("data: {builtin: digits}\nobjective: {metrics: 5}\n"),
        "objective.metrics: must be a list, got 5",
    ),
    Case(
        "a number where a mapping goes",
        config("data: {builtin: digits}\nexecutor: {type: processes, resources: 5}\n"),
        "executor.resources: must be a mapping ({key: value, ...}), got 5",
    ),
    Case(
        "resources on this machine's own workers",
        config("data: {builtin: digits}\nexecutor: {type: processes, resources: {GPU: 1}}\n"),
        "executor.resources: matches trials to the workers of a Dask cluster (address: ...); the worker processes",
    ),
    Case(
        "a value where a section goes",
        config("data: {builtin: digits}\nbudget: 5\n"),
        "budget: must be a mapping of its options ({key: value, ...}), got 5",
    ),
    Case(
        "a value out of range",
        config("data: {builtin: digits}\nbudget: {trials: 0}\n"),
        "budget.trials: must be >= 1, got 0",
    ),
    Case(
        "a split fraction of 1 or more",
        config("data: {builtin: digits, valid: 1.5}\n"),
        "data.valid: must be < 1, got 1.5",
    ),
    Case(
        "a training option out of range",
        config("data: {builtin: digits}\ntrain: {epochs: 0}\n"),
        "train.epochs: must be an integer >= 1, got 0",
    ),
    Case(
        "a space with no architecture that fits the input",
        config("data: {builtin: digits}\nspace: {depth: [4, 4], strides: [2], pool: [true]}\n"),
        "space: no chain of depth (4, 4) fits input shape [1, 8, 8] under min_receptive_field",
    ),
    Case(
        "a list where a built-in dataset's number goes",
        config("data: {builtin: synthetic, classes: [3]}\n"),
        "data.classes: must be a whole number >= 2, got [3]",
    ),
    Case(
        "text where a built-in dataset's number goes",
        config("data: {builtin: synthetic, noise: x}\n"),
        "data.noise: must be a finite number >= 0, got 'x'",
    ),
    # the data
    Case(
        "a data file that does not exist",
        config("data: {path: nowhere.npz}\n"),
        "data.path: file not found: nowhere.npz",
    ),
    Case(
        "an empty .npz (0 bytes)",
        data("x.npz", text(b"")),
        "x.npz: the file is empty (0 bytes); an .npz is a zip archive of arrays X and y, as numpy.savez(path, X=X, "
        "y=y) writes",
    ),
    Case(
        "a CSV renamed .npz",
        data("x.npz", text(CSV)),
        "x.npz: not an .npz archive (it starts with b'a,b,', not with a zip header); an .npz is a zip archive",
    ),
    Case(
        "text in an .npz",
        data("x.npz", text("just some notes\n")),
        "x.npz: not an .npz archive (it starts with b'just', not with a zip header)",
    ),
    Case(
        "an .npz whose zip body is corrupt",
        data("x.npz", damaged(zero_middle)),
        "x.npz: not a readable .npz archive (BadZipFile: Bad CRC-32 for file 'X.npy')",
    ),
    Case(
        "an .npz cut short",
        data("x.npz", damaged(lambda body: body[: len(body) // 2])),
        "x.npz: not a readable .npz archive (BadZipFile: File is not a zip file)",
    ),
    Case(
        "X and y of different lengths",
        data("x.npz", arrays(X=X, y=Y[:-1])),
        "x.npz: y must be 1-d with one label per sample of X (30), got (29,)",
    ),
    Case(
        "NaN in X",
        data("x.npz", arrays(X=np.where(np.arange(30)[:, None] == 3, np.nan, X), y=Y)),
        "x.npz: X has 4 NaN or infinite values",
    ),
    Case(
        "inf in y",
        data("x.npz", arrays(X=X, y=np.where(np.arange(30) == 3, np.inf, Y))),
        "x.npz: y has 1 NaN or infinite values",
    ),
    Case(
        "X beyond float32's range",
        data("x.npz", arrays(X=np.where(np.arange(30)[:, None] == 3, 1e39, X), y=Y)),
        "x: X has 4 values beyond float32's range (magnitude over 3.4e38, e.g. 1e+39); nasforge trains in float32: "
        "rescale X",
    ),
    Case(
        "X that overflows float32 once standardised",
        data("x.npz", arrays(X=np.where(np.arange(30)[:, None] < 27, 3e38, -3e38), y=Y)),
        "x.npz: X from -3e+38 to 3e+38 overflows float32 once standardised by the training part's mean and spread "
        "(3 values beyond 3.4e38); rescale it to a narrower range",
    ),
    Case(
        "regression targets at float64's limit",
        data("x.npz", arrays(X=X, y=HUGE), ", task: regression"),
        "x.npz: regression targets from -1e+308 to 1e+308 overflow float64 when standardised (their mean or spread "
        "over the training part is not finite); rescale them so that they differ by less than 1e154",
    ),
    Case(
        "too few samples to split",
        data("x.npz", arrays(X=X[:2], y=np.array([0.5, 1.5]))),
        "x.npz: 2 samples are too few for valid=0.2, test=0.2: train, validation and test would get 0, 1 and 1; "
        "each needs at least one sample",
    ),
    Case(
        "too few groups for the fractions",
        data("x.npz", arrays(X=X[:22], y=Y[:22] + 0.5, groups=np.arange(22) % 3), ", valid: 0.5"),
        "x.npz: 3 groups are too few for valid=0.5, test=0.2: train, validation and test would get 0, 2 and 1; "
        "each needs at least one group",
    ),
    Case(
        "labels of one class only",
        data("x.npz", arrays(X=X, y=np.zeros(30, dtype=int))),
        "x.npz: every label is '0'; classification needs samples of at least 2 classes",
    ),
    Case(
        "too few samples of a class for a stratified split",
        data("x.npz", arrays(X=X, y=np.r_[np.zeros(28, dtype=int), 1, 1])),
        "x.npz: class '1' has 2 samples; a stratified train/validation/test split needs at least 3 per class",
    ),
    Case(
        "an empty CSV (0 bytes)",
        data("x.csv", text(""), ", target: t"),
        "x.csv: needs a header row and at least one data row",
    ),
    Case(
        "a CSV with a header only",
        data("x.csv", text("a,b,t\n"), ", target: t"),
        "x.csv: needs a header row and at least one data row",
    ),
    Case(
        "a CSV without the target column",
        data("x.csv", text(CSV), ", target: label"),
        "data.target: column 'label' not in x.csv (columns: a, b, t)",
    ),
    Case(
        "a CSV row with more fields than the header",
        data("x.csv", text(CSV.replace("3,6,0\n", "3,6,0,9\n")), ", target: t"),
        "x.csv: line 5 has 4 fields, the header has 3",
    ),
    Case(
        "a CSV row with fewer fields than the header",
        data("x.csv", text(CSV.replace("3,6,0\n", "3,6\n")), ", target: t"),
        "x.csv: line 5 has 2 fields, the header has 3",
    ),
    Case(
        "a missing value in a CSV feature",
        data("x.csv", text(CSV.replace("3,6,0\n", "nan,6,0\n")), ", target: t"),
        "x.csv: column 'a' has 1 missing or non-finite values",
    ),
    Case(
        "a CSV whose labels are one class",
        data("x.csv", text(ONE_CLASS_CSV), ", target: t"),
        "x.csv: every label is '0'; classification needs samples of at least 2 classes",
    ),
    Case(
        "a regression target of one value",
        data("x.csv", text(ONE_CLASS_CSV.replace(",0\n", ",1.5\n")), ", target: t, task: regression"),
        "x.csv: every target is 1.5; a regression target needs at least 2 values",
    ),
    Case(
        "binary bytes in a .csv",
        data("x.csv", text(bytes(range(256))), ", target: t"),
        "x.csv: not a readable CSV file ('utf-8' codec can't decode byte 0x80 in position 128: invalid start byte)",
    ),
    # the run directory
    Case(
        "show on a folder that is not a run",
        on_run("show", NOT_A_RUN),
        "run: no nasforge run here (store.sqlite is missing)",
    ),
    Case(
        "resume on a folder that is not a run",
        on_run("resume", NOT_A_RUN),
        "run: no nasforge run here (store.sqlite is missing)",
    ),
    Case(
        "show on a run whose store.sqlite is garbage",
        on_run("show", run_dir(garbage)),
        "run/store.sqlite: not a readable nasforge store (file is not a database)",
    ),
    Case(
        "resume on a run whose store.sqlite is garbage",
        on_run("resume", run_dir(garbage)),
        "run/store.sqlite: not a readable nasforge store (file is not a database)",
    ),
    Case(
        "a store written by a newer nasforge",
        on_run("show", run_dir(newer_schema)),
        f"run/store.sqlite: store schema version 99, this nasforge reads {SCHEMA_VERSION}",
    ),
]
BY_MISTAKE = {case.mistake: case for case in CASES}


def run_cli(args: list[str], monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> tuple[int, str]:
    """``nasforge ARGS`` in this process: its exit code and what it printed on stderr."""
    monkeypatch.setattr(sys, "argv", ["nasforge", *args])
    with pytest.raises(SystemExit) as stopped:
        main()
    return stopped.value.code, capsys.readouterr().err


def assert_one_line(code: int, err: str, message: str) -> None:
    lines = err.splitlines()
    assert code == 2 and len(lines) == 1 and lines[0].startswith(f"error: {message}"), f"exit {code}: {err}"


@pytest.mark.parametrize("case", CASES, ids=[case.mistake for case in CASES])
def test_each_mistake_is_one_line_and_exit_2(case: Case, tmp_path: Path, monkeypatch, capsys) -> None:
    monkeypatch.chdir(tmp_path)
    assert_one_line(*run_cli(case.setup(tmp_path), monkeypatch, capsys), case.message)


@pytest.mark.parametrize("mistake", ["malformed YAML", "an .npz whose zip body is corrupt", "labels of one class only"])
def test_the_real_command_prints_the_same_line(mistake: str, tmp_path: Path) -> None:
    case = BY_MISTAKE[mistake]
    args = case.setup(tmp_path)
    proc = subprocess.run([sys.executable, "-m", "nasforge", *args], cwd=tmp_path, capture_output=True, text=True)
    assert_one_line(proc.returncode, proc.stderr, case.message)


@pytest.fixture(scope="module")
def finished_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A finished one-trial run, made with the CLI; tests copy it before they damage it."""
    folder = tmp_path_factory.mktemp("finished")
    (folder / "tiny.yaml").write_text(f"{FLAT}{TINY}")
    with pytest.MonkeyPatch.context() as patch:
        patch.chdir(folder)
        patch.setattr(sys, "argv", ["nasforge", "search", "tiny.yaml", "--run-dir", "run", "--quiet"])
        with pytest.raises(SystemExit) as stopped:
            main()
    assert stopped.value.code == 0
    return folder


@pytest.mark.parametrize(
    ("arch", "message"),
    [
        ("dense(32", "architecture 'dense(32': layer 'dense(32': expected op(args...)"),
        ("dense(7,relu)", "chain dense(7,relu): layer 1 width 7 is not in this space (allowed: "),
    ],
    ids=["does-not-parse", "not-in-the-space"],
)
def test_export_of_a_stored_architecture_outside_the_space(
    arch: str, message: str, finished_run: Path, tmp_path: Path, monkeypatch, capsys
) -> None:
    """A store edited by hand (or by another nasforge) holds an architecture this space cannot build."""
    shutil.copytree(finished_run, tmp_path, dirs_exist_ok=True)
    monkeypatch.chdir(tmp_path)
    with sqlite3.connect(tmp_path / "run" / "store.sqlite") as db:
        db.execute("UPDATE trials SET arch = ? WHERE id = 1", (arch,))
    db.close()
    assert_one_line(*run_cli(["export", "run", "--trial", "1"], monkeypatch, capsys), message)


@pytest.mark.parametrize(
    ("space", "arch", "message"),
    [
        ("chain", "conv(32", "architecture 'conv(32': layer 'conv(32': expected op(args...)"),
        ("chain", "dense(32,relu)", "chain dense(32,relu): layer 1 op 'dense' is not in this space (allowed: conv"),
        ("cell", "|conv~0|", "architecture '|conv~0|': expected 3 '+'-separated node groups, got 1"),
        ("cell", "|bogus~0|+|none~0|none~1|+|none~0|none~1|none~2|", "architecture '|bogus~0|+"),
    ],
)
def test_from_string_raises_invalid_architecture(space: str, arch: str, message: str) -> None:
    with pytest.raises(InvalidArchitecture) as raised:
        make_space(space, (1, 8, 8)).from_string(arch)
    assert str(raised.value).startswith(message) and "\n" not in str(raised.value)


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes into any folder, whatever its mode")
def test_a_run_directory_that_cannot_be_written(tmp_path: Path, monkeypatch, capsys) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "parent").mkdir()
    (tmp_path / "parent").chmod(0o500)
    (tmp_path / "tiny.yaml").write_text(f"{FLAT}{TINY}")
    try:
        code, err = run_cli(["search", "tiny.yaml", "--run-dir", "parent/run", "--quiet"], monkeypatch, capsys)
    finally:
        (tmp_path / "parent").chmod(0o700)
    assert_one_line(code, err, "parent/run")
    assert "(Permission denied)" in err


def test_a_full_disk_where_the_run_directory_is_made(tmp_path: Path, monkeypatch, capsys) -> None:
    """The first write of a search makes the run directory; on a full disk that fails with ENOSPC."""

    def full(self: Path, *args: object, **kwargs: object) -> None:
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), str(self))

    monkeypatch.chdir(tmp_path)
    (tmp_path / "tiny.yaml").write_text(f"{FLAT}{TINY}")
    monkeypatch.setattr(pathlib.Path, "mkdir", full)
    code, err = run_cli(["search", "tiny.yaml", "--run-dir", "run", "--quiet"], monkeypatch, capsys)
    assert_one_line(code, err, "run")
    assert "(No space left on device)" in err


def test_a_full_disk_while_trials_are_stored(tmp_path: Path, monkeypatch, capsys) -> None:
    """SQLite's own full-disk error (SQLITE_FULL), from a database capped at a few pages: the store opens, then
    a trial's write no longer fits."""
    connect = sqlite3.connect

    def capped(path: str, *args: object, **kwargs: object) -> sqlite3.Connection:
        db = connect(path, *args, **kwargs)
        db.execute("PRAGMA page_size = 512")
        db.execute("PRAGMA max_page_count = 8")
        return db

    monkeypatch.chdir(tmp_path)
    (tmp_path / "tiny.yaml").write_text(f"{FLAT}budget: {{trials: 2}}\ntrain: {{epochs: 1}}\n")
    monkeypatch.setattr(sqlite3, "connect", capped)
    code, err = run_cli(["search", "tiny.yaml", "--run-dir", "run", "--quiet"], monkeypatch, capsys)
    assert_one_line(code, err, "run/store.sqlite: write failed (database or disk is full)")
