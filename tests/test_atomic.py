"""A run's files are written whole or not at all, with the permissions any file the user writes gets."""

from __future__ import annotations

from pathlib import Path

import pytest

from nasforge.atomic import write_atomic
from nasforge.exceptions import StoreError


def test_a_file_is_replaced_whole_and_its_writer_s_result_returned(tmp_path) -> None:
    target = tmp_path / "best.json"
    target.write_text("old")
    assert write_atomic(target, lambda tmp: Path(tmp).write_text("new")) == 3
    assert target.read_text() == "new" and sorted(p.name for p in tmp_path.iterdir()) == ["best.json"]


def test_a_writer_that_fails_leaves_the_old_file_and_no_temporary_one(tmp_path) -> None:
    target = tmp_path / "best.json"
    target.write_text("old")

    def half(tmp: str) -> None:
        Path(tmp).write_text("ne")
        raise OSError(28, "No space left on device")

    with pytest.raises(StoreError, match=r"best.json: cannot write it \(No space left on device\); make room"):
        write_atomic(target, half)
    assert target.read_text() == "old" and sorted(p.name for p in tmp_path.iterdir()) == ["best.json"]


def test_the_file_gets_the_mode_a_plain_write_gives_not_a_private_one(tmp_path) -> None:
    plain = tmp_path / "plain.txt"
    plain.write_text("x")
    written = tmp_path / "report.html"
    write_atomic(written, lambda tmp: Path(tmp).write_text("x"))
    assert written.stat().st_mode == plain.stat().st_mode
