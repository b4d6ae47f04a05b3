"""The notebooks in notebooks/ are committed with their outputs (issue 12: they read on a
code host without running). Each one must still run without error in a fresh kernel, and its
committed outputs must match a fresh run's shape (tests/notebook_runner.py ``shape``: per
cell, stdout, results, images, errors) and come from one top-to-bottom run without errors.
When a notebook's code changes, re-execute it in place with ``scripts/notebooks.sh``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Iterator

import pytest

nbformat = pytest.importorskip("nbformat")
pytest.importorskip("nbclient")
pytest.importorskip("ipykernel")

import notebook_runner as runner  # noqa: E402  (tests/ is on sys.path under pytest)

HINT = "re-execute it with scripts/notebooks.sh and commit the outputs"


@pytest.fixture(scope="module")
def kernel_name() -> Iterator[str]:
    with runner.kernel() as name:
        yield name


def test_notebooks_exist() -> None:
    assert runner.NOTEBOOKS, "no notebooks found"


@pytest.mark.parametrize("path", runner.NOTEBOOKS, ids=[p.name for p in runner.NOTEBOOKS])
def test_notebook_runs_and_matches_its_outputs(path: Path, kernel_name: str) -> None:
    committed = nbformat.read(path, as_version=4)
    assert not runner.problems(committed), f"{path.name}: {runner.problems(committed)}; {HINT}"
    fresh = runner.execute(path, kernel_name)  # raises CellExecutionError on a failing cell
    assert len(fresh.cells) == len(committed.cells)
    got, want = runner.shape(fresh), runner.shape(committed)
    diff = [(i, w, g) for i, (w, g) in enumerate(zip(want, got)) if w != g]
    assert not diff, f"{path.name}: committed outputs (cell, committed, fresh run) differ: {diff}; {HINT}"
