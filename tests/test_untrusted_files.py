"""Files a run reads may come from someone else: nothing in nasforge may execute what a file contains.

A static check over the source, so that a later change cannot slip in an unpickling load: weights load only with
``torch.load(weights_only=True)``, arrays with ``allow_pickle=False``, YAML with ``safe_load``; no ``pickle``,
``eval`` or ``exec``.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

SOURCE = sorted((Path(__file__).resolve().parents[1] / "src" / "nasforge").rglob("*.py"))

FORBIDDEN = {
    "torch.load without weights_only=True": re.compile(r"torch\.load\((?![^)]*weights_only=True)"),
    "numpy loading pickles": re.compile(r"allow_pickle\s*=\s*True"),
    "yaml.load without a safe Loader": re.compile(
        r"yaml\.(?:unsafe_load|full_load)\(|yaml\.load\((?![^)]*Loader=_)|Loader=yaml\.(?:Unsafe|Full)?Loader\b"
    ),
    "the pickle module": re.compile(r"^\s*(?:import|from)\s+(?:c?pickle|dill|cloudpickle)\b", re.MULTILINE),
    "eval or exec of text": re.compile(r"(?<![.\w])(?:eval|exec)\("),
}


@pytest.mark.parametrize("path", SOURCE, ids=lambda p: str(p.relative_to(p.parents[2])))
def test_no_source_file_executes_what_a_file_contains(path: Path) -> None:
    text = path.read_text(encoding="utf-8")
    found = [what for what, pattern in FORBIDDEN.items() if pattern.search(text)]
    assert not found, f"{path.name}: {', '.join(found)}"


def test_the_config_loader_is_a_safe_loader() -> None:
    """The one ``yaml.load`` (``Loader=_ConfigLoader``, which words errors better) builds plain data only."""
    import yaml

    from nasforge.config import _ConfigLoader

    assert issubclass(_ConfigLoader, yaml.SafeLoader)


def test_the_check_catches_each_forbidden_form() -> None:
    samples = [
        "state = torch.load(path)",
        "np.load(path, allow_pickle=True)",
        "cfg = yaml.load(text, Loader=yaml.Loader)",
        "import pickle",
        "value = eval(text)",
    ]
    for sample, (what, pattern) in zip(samples, FORBIDDEN.items(), strict=True):
        assert pattern.search(sample), what
    assert not FORBIDDEN["eval or exec of text"].search("model.eval()")
    assert not FORBIDDEN["torch.load without weights_only=True"].search("torch.load(path, weights_only=True)")
    assert FORBIDDEN["yaml.load without a safe Loader"].search("yaml.load(text)")
