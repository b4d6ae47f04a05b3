"""Execute the notebooks in notebooks/, for tests/test_notebooks.py and scripts/notebooks.sh.

The notebooks are committed with their outputs (so that they read on a code host without
running). ``python tests/notebook_runner.py [NOTEBOOK...]`` re-executes them in place (all of
notebooks/ by default); tests/test_notebooks.py executes a copy and checks that the committed
outputs still have the shape (:func:`shape`) of a fresh run's.

Each notebook runs in a fresh kernel of this Python (a kernel spec written to a temporary
JUPYTER_PATH, so no user or system kernel is involved), with notebooks/ as its working
directory, as when a user opens it in Jupyter.
"""

from __future__ import annotations

import contextlib
import copy
import json
import os
import sys
import tempfile
from pathlib import Path
from typing import Any, Iterator

import nbclient
import nbformat

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))
KERNEL = "qmpc-notebooks-python"


@contextlib.contextmanager
def kernel(python: str = sys.executable) -> Iterator[str]:
    """A kernel spec for ``python`` on a temporary JUPYTER_PATH; yields its name."""
    saved = {k: os.environ.get(k) for k in ("JUPYTER_PATH", "MPLBACKEND")}
    with tempfile.TemporaryDirectory(prefix="qmpc-jupyter-") as root:
        spec = Path(root) / "kernels" / KERNEL
        spec.mkdir(parents=True)
        (spec / "kernel.json").write_text(json.dumps({
            "argv": [python, "-m", "ipykernel_launcher", "-f", "{connection_file}"],
            "display_name": "qmpc notebooks Python",
            "language": "python",
        }))
        os.environ["JUPYTER_PATH"] = root
        os.environ["MPLBACKEND"] = "module://matplotlib_inline.backend_inline"
        try:
            yield KERNEL
        finally:
            for k, v in saved.items():
                if v is None:
                    os.environ.pop(k, None)
                else:
                    os.environ[k] = v


def execute(path: Path, kernel_name: str, timeout: int = 600) -> Any:
    """Execute a copy of the notebook at ``path`` top to bottom; return it (raises
    nbclient's CellExecutionError on the first failing cell)."""
    nb = nbformat.read(path, as_version=4)
    kernelspec = copy.deepcopy(nb.metadata.get("kernelspec"))
    for cell in nb.cells:
        if cell.cell_type == "code":
            cell.outputs = []
            cell.execution_count = None
    client = nbclient.NotebookClient(
        nb,
        kernel_name=kernel_name,
        timeout=timeout,
        record_timing=False,  # no timestamps in the committed files
        resources={"metadata": {"path": str(path.parent)}},
    )
    client.execute()
    if kernelspec is not None:  # the committed notebook opens with the user's "python3"
        nb.metadata["kernelspec"] = kernelspec
    return nb


def shape(nb: Any) -> list[tuple[str, ...]]:
    """Per cell what a reader sees, without the values: the cell type and, for a code cell,
    which of stdout, a result, images (by MIME type) and errors it shows. Standard error is
    left out (warnings that depend on timing or installed packages go there)."""
    out: list[tuple[str, ...]] = []
    for cell in nb.cells:
        if cell.cell_type != "code":
            out.append((cell.cell_type,))
            continue
        kinds: set[str] = set()
        for o in cell.get("outputs", []):
            if o.output_type == "stream":
                if o.name == "stdout":
                    kinds.add("stdout")
            elif o.output_type == "error":
                kinds.add("error")
            else:
                if o.output_type == "execute_result":
                    kinds.add("result")
                kinds.update(k for k in o.get("data", {}) if k.startswith("image/"))
        out.append(("code", *sorted(kinds)))
    return out


def problems(nb: Any) -> list[str]:
    """What is wrong with a committed notebook: code cells not executed top to bottom in one
    run, or error outputs."""
    found = []
    counts = [c.execution_count for c in nb.cells if c.cell_type == "code" and c.source.strip()]
    if counts != list(range(1, len(counts) + 1)):
        found.append(f"code cells were not executed once, top to bottom (execution counts {counts})")
    for i, c in enumerate(nb.cells):
        if c.cell_type == "code" and any(o.output_type == "error" for o in c.get("outputs", [])):
            found.append(f"cell {i} has an error output")
    return found


def main(argv: list[str]) -> int:
    paths = [Path(a).resolve() for a in argv] or NOTEBOOKS
    with kernel() as name:
        for path in paths:
            print(f"executing {path.relative_to(ROOT)}", file=sys.stderr, flush=True)
            nb = execute(path, name)
            nbformat.write(nb, path)
            images = sum(1 for s in shape(nb) for k in s if k.startswith("image/"))
            print(f"  {len(nb.cells)} cells, {images} images", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
