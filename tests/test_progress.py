"""secure_run's progress bar uses tqdm's own terminal check (issue 12): when stderr is not a
terminal (CI logs, output piped to a file) the default bar draws nothing; progress=True
still draws one."""

from __future__ import annotations

import subprocess
import sys

import pytest

pytest.importorskip("tqdm")

CODE = """
import sys
from qmpc.secure import _progress_bar
bar = _progress_bar(4, forced=sys.argv[1] == "forced")
for _ in range(4):
    bar.n += 1
    bar.refresh()
bar.close()
"""


@pytest.mark.parametrize("mode", ["default", "forced"])
def test_progress_bar_when_stderr_is_a_pipe(mode: str) -> None:
    r = subprocess.run([sys.executable, "-c", CODE, mode], capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    if mode == "default":
        assert r.stderr == ""
    else:
        assert "secure inference" in r.stderr and "4/4" in r.stderr
