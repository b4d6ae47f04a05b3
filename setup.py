"""Build qmpc: compile the Go core into python/qmpc/_core with gopy, then package it.

``pip install .`` builds a platform wheel; ``pip install -e .`` builds the core in place for
development. Both run, from the repository root::

    go build -o <tmp>/goimports golang.org/x/tools/cmd/goimports   # gopy calls goimports
    go tool gopy build -vm=<this python> -dynamic-link=true \\
        -output=python/qmpc/_core -name=core ./pybind

gopy and goimports are pinned as ``tool`` lines in go.mod. The build needs Go >= 1.26, a C
compiler (cgo) and pybindgen (a build requirement). Set QMPC_GO to use another go binary.
The generated folder is git-ignored; only the Python wrappers and the extension module are
kept in it after the build.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from setuptools import Distribution, setup
from setuptools.command.build_py import build_py as _build_py

ROOT = Path(__file__).resolve().parent
CORE_DIR = ROOT / "python" / "qmpc" / "_core"
KEEP = {"__init__.py", "go.py", "pybind.py"}


def _run(cmd: list[str], env: dict[str, str]) -> None:
    print("+", " ".join(cmd), flush=True)
    if subprocess.run(cmd, cwd=ROOT, env=env).returncode != 0:
        # SystemExit, not an Exception: setuptools' editable installs ignore exceptions
        # raised by build_py and would install a package without its core.
        raise SystemExit(f"qmpc: building the Go core failed: {' '.join(cmd)}")


def build_core() -> None:
    """Generate and compile the gopy extension into python/qmpc/_core."""
    go = os.environ.get("QMPC_GO") or shutil.which("go")
    if not go:
        raise SystemExit("qmpc: building needs Go >= 1.26 on PATH (https://go.dev/dl/), or QMPC_GO")
    env = dict(os.environ)
    env["CGO_ENABLED"] = "1"
    if "-buildvcs" not in env.get("GOFLAGS", ""):
        env["GOFLAGS"] = (env.get("GOFLAGS", "") + " -buildvcs=false").strip()
    t0 = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="qmpc-build-") as tmp:
        _run([go, "build", "-o", os.path.join(tmp, "goimports"), "golang.org/x/tools/cmd/goimports"], env)
        env["PATH"] = tmp + os.pathsep + env.get("PATH", "")
        shutil.rmtree(CORE_DIR, ignore_errors=True)
        _run(
            [
                go, "tool", "gopy", "build",
                f"-vm={sys.executable}",
                "-dynamic-link=true",
                f"-output={CORE_DIR}",
                "-name=core",
                "./pybind",
            ],
            env,
        )
    for f in CORE_DIR.iterdir():  # drop gopy's intermediates (C, Go, headers, Makefile)
        if f.name not in KEEP and not (f.name.startswith("_core.") and f.suffix == ".so"):
            f.unlink()
    if not list(CORE_DIR.glob("_core.*.so")):
        raise SystemExit("qmpc: gopy did not produce the extension module")
    print(f"qmpc: built the Go core in {time.monotonic() - t0:.1f}s", flush=True)


class build_py(_build_py):
    """build_py that first builds the Go core (also used by editable installs)."""

    def run(self) -> None:
        build_core()
        super().run()


class BinaryDistribution(Distribution):
    """The wheel holds a compiled extension: mark it platform-specific."""

    def has_ext_modules(self) -> bool:
        return True


# Metadata generation (egg_info, sdist) runs before build_py and wants the package folder.
CORE_DIR.mkdir(parents=True, exist_ok=True)
(CORE_DIR / "__init__.py").touch()

setup(cmdclass={"build_py": build_py}, distclass=BinaryDistribution)
