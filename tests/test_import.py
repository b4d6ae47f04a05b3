"""Import-time and process robustness of the Go core's Python boundary (issue 12):

* importing qmpc never changes the working directory, not even briefly (gopy's generated
  wrappers did; setup.py removes those lines): checked in a fresh interpreter with an audit
  hook on ``os.chdir`` and a thread that polls ``os.getcwd()`` during the import;
* a child made by ``fork`` after ``import qmpc`` either works or raises ``qmpc.QmpcError``
  with the fork message, within 5 seconds (it must not hang); a ``spawn`` child works.
"""

from __future__ import annotations

import gc
import multiprocessing
import queue
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np

import qmpc
from qmpc import _bridge

WATCH_IMPORT = textwrap.dedent(
    """
    import os, sys, threading
    chdirs = []
    sys.addaudithook(lambda event, args: chdirs.append(args) if event == "os.chdir" else None)
    start = os.getcwd()
    seen = set()
    done = threading.Event()

    def watch():
        while not done.is_set():
            seen.add(os.getcwd())

    sys.setswitchinterval(1e-6)  # let the watcher run between the importer's bytecodes
    t = threading.Thread(target=watch)
    t.start()
    import qmpc
    m = qmpc.load(sys.argv[1])  # the first real call into Go, too
    done.set()
    t.join()
    assert chdirs == [], f"os.chdir during import: {chdirs}"
    assert seen == {start}, f"the working directory changed during import: {seen}"
    assert os.getcwd() == start
    print("ok", len(seen))
    """
)


def test_import_never_changes_cwd(tmp_path: Path, digits_model: Path) -> None:
    r = subprocess.run([sys.executable, "-c", WATCH_IMPORT, str(digits_model)], cwd=tmp_path,
                       capture_output=True, text=True, timeout=120)
    assert r.returncode == 0 and r.stdout.startswith("ok"), r.stdout + r.stderr


def test_generated_wrappers_have_no_chdir() -> None:
    from qmpc._core import go, pybind  # type: ignore[attr-defined]

    for mod in (go, pybind):
        assert "chdir" not in Path(mod.__file__).read_text(), mod.__file__


def _child_run(model: str, x: np.ndarray, q: "multiprocessing.Queue[tuple[str, object]]") -> None:
    try:
        y = qmpc.load(model).run(x)
        q.put(("ok", y))
    except qmpc.QmpcError as e:
        q.put(("QmpcError", str(e)))
    except BaseException as e:  # noqa: BLE001 - reported to the parent
        q.put((type(e).__name__, str(e)))


def _child_inherited(m: qmpc.Model, x: np.ndarray, q: "multiprocessing.Queue[tuple[str, object]]") -> None:
    """Use the parent's Model object (fork copies it), then let it be collected."""
    try:
        try:
            result: tuple[str, object] = ("ok", m.run(x))
        except qmpc.QmpcError as e:
            result = ("QmpcError", str(e))
        del m
        gc.collect()  # the handle's finalizer calls into Go: it must not hang either
        q.put(result)
    except BaseException as e:  # noqa: BLE001 - reported to the parent
        q.put((type(e).__name__, str(e)))


def _in_child(method: str, model: Path | qmpc.Model, x: np.ndarray) -> tuple[str, object]:
    ctx = multiprocessing.get_context(method)
    q = ctx.Queue()
    if isinstance(model, qmpc.Model):  # fork only: the object is inherited, not pickled
        p = ctx.Process(target=_child_inherited, args=(model, x, q), daemon=True)
    else:
        p = ctx.Process(target=_child_run, args=(str(model), x, q), daemon=True)
    p.start()
    try:
        # spawn re-imports qmpc (and numpy) in the child: allow it; fork must answer in 5 s.
        return q.get(timeout=5 if method == "fork" else 120)
    except queue.Empty:
        return ("hang", None)
    finally:
        p.join(5)
        if p.is_alive():
            p.kill()
            p.join(5)


def test_forked_child_raises_instead_of_hanging(digits_model: Path, repo_root: Path) -> None:
    x = np.load(repo_root / "examples" / "digits" / "test_images.npy")[:1]
    m = qmpc.load(digits_model)  # the parent has used Go before forking
    want = m.run(x)
    kind, value = _in_child("fork", digits_model, x)
    assert kind in ("ok", "QmpcError"), (kind, value)
    if kind == "ok":
        np.testing.assert_array_equal(value, want)
    else:
        assert value == _bridge.FORK_MESSAGE
        assert "fork" in str(value) and "spawn" in str(value)
    kind, value = _in_child("fork", m, x)  # the parent's model object, used in the child
    assert kind in ("ok", "QmpcError"), (kind, value)
    if kind == "ok":
        np.testing.assert_array_equal(value, want)
    else:
        assert value == _bridge.FORK_MESSAGE
    # The parent is unaffected.
    np.testing.assert_array_equal(m.run(x), want)


def test_spawned_child_works(digits_model: Path, repo_root: Path) -> None:
    x = np.load(repo_root / "examples" / "digits" / "test_images.npy")[:1]
    kind, value = _in_child("spawn", digits_model, x)
    assert kind == "ok", (kind, value)
    np.testing.assert_array_equal(value, qmpc.load(digits_model).run(x))
