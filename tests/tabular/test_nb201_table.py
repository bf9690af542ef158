"""The NB201 table format: parsing, validation errors that name the file and the problem, lookups."""

from __future__ import annotations

import gzip

import numpy as np
import pytest

from nasforge.exceptions import DataError
from nasforge.spaces import CellSpace
from nasforge.tabular import NB201Table


def test_tiny_asset_parses(tiny):
    table = NB201Table(tiny)
    assert len(table) == 300
    assert table.datasets == ("cifar10", "cifar100")
    assert table.space.nodes == 4
    arch = table.archs[7]
    assert table.row(arch) == 7
    assert table.row(str(arch)) == 7
    assert table.valid("cifar10").shape == (300,)


def test_oracle_is_the_test_accuracy_of_the_best_valid_row(tiny):
    table = NB201Table(tiny)
    for ds in table.datasets:
        best = int(np.argmax(table.valid(ds)))
        assert table.best_valid_row(ds) == best
        assert table.oracle(ds) == table.test(ds)[best]


def test_columns_are_read_only(tiny):
    table = NB201Table(tiny)
    with pytest.raises(ValueError):
        table.valid("cifar10")[0] = 100.0


def test_gzip_table_reads_the_same(tiny, tmp_path):
    path = tmp_path / "t.csv.gz"
    path.write_bytes(gzip.compress(tiny.read_bytes()))
    a, b = NB201Table(tiny), NB201Table(path)
    assert a.archs == b.archs
    assert np.array_equal(a.test("cifar100"), b.test("cifar100"))


def test_unknown_architecture_and_dataset_are_data_errors(tiny):
    table = NB201Table(tiny)
    missing = next(a for a in CellSpace().enumerate() if a not in table)
    with pytest.raises(DataError, match="no row for architecture"):
        table.row(missing)
    with pytest.raises(DataError, match=r"no dataset 'imagenet'.*cifar10, cifar100"):
        table.valid("imagenet")


def write(tmp_path, text: str):
    path = tmp_path / "bad.csv"
    path.write_text(text)
    return path


ARCH = "|nor_conv_3x3~0|+|nor_conv_3x3~0|none~1|+|skip_connect~0|none~1|nor_conv_1x1~2|"
BAD = [
    ("index,c10_valid,c10_test\n0,1,2\n", "missing column.*arch"),
    (f"index,arch,c10_valid\n0,{ARCH},1\n", "c10 need both a _valid and a _test"),
    (f"index,arch\n0,{ARCH}\n", "no '<name>_valid'"),
    (f"index,arch,c10_valid,c10_test\n0,{ARCH},x,2\n", r"bad.csv:2: column c10_valid is not a number"),
    (f"index,arch,c10_valid,c10_test\n0,{ARCH},nan,2\n", "not finite"),
    ("index,arch,c10_valid,c10_test\n0,|bogus~0|,1,2\n", r"bad.csv:2:.*unknown op 'bogus'"),
    (f"index,arch,c10_valid,c10_test\n0,{ARCH},1,2\n1,|none~0|+|none~0|none~1|,1,2\n", r"bad.csv:3:.*node groups"),
    (f"index,arch,c10_valid,c10_test\n0,{ARCH},1,2\n1,{ARCH},1,2\n", r"bad.csv:3:.*appears twice"),
    (f"index,arch,c10_valid,c10_test\n0,{ARCH},1\n", "expected 4 fields, got 3"),
    ("index,arch,c10_valid,c10_test\n", "no rows"),
    ("", "empty table"),
]


@pytest.mark.parametrize(("text", "message"), BAD)
def test_malformed_tables_raise_one_line_data_errors(tmp_path, text, message):
    with pytest.raises(DataError, match=message) as info:
        NB201Table(write(tmp_path, text))
    assert "bad.csv" in str(info.value)
    assert "\n" not in str(info.value)


def test_missing_and_unreadable_files(tmp_path):
    with pytest.raises(DataError, match="no such table file"):
        NB201Table(tmp_path / "absent.csv")
    path = tmp_path / "broken.csv.gz"
    path.write_bytes(b"\x1f\x8b\x08\x00garbage")
    with pytest.raises(DataError, match="cannot read"):
        NB201Table(path)


def test_smaller_cells_are_inferred_from_the_strings(complete_table):
    table = NB201Table(complete_table)
    assert table.space.nodes == 3
    assert len(table) == table.space.size == 125
