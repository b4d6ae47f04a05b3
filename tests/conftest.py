"""Shared pytest fixtures for qmpc's Python tests.

* ``repo_root``: the repository root.
* ``shared_models``: the folder of real third-party models (``../shared/models`` beside the
  repository, or $QMPC_SHARED_MODELS); tests that use it are skipped when it is absent.
* ``shared_model``: a factory, ``shared_model("coral/cat.bmp")`` -> Path, skipping when
  that file is absent.
* ``generated_dir``: ``tests/_generated`` (git-ignored), a cache for models that tests make
  with TensorFlow/PyTorch converters.
* ``digits_model``: the bundled demo model, ``examples/digits/digits_cnn_int8.tflite``.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Callable

import pytest

ROOT = Path(__file__).resolve().parents[1]
SHARED_MODELS = Path(os.environ.get("QMPC_SHARED_MODELS", ROOT.parent / "shared" / "models"))
GENERATED = ROOT / "tests" / "_generated"

# TensorFlow's C++ logging at import time is noise in test output.
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

# TensorFlow and Triton (which PyTorch imports lazily, e.g. from torch.fx when it formats a
# stack trace) each carry LLVM; loading both into one process aborts it ("LLVM ERROR:
# inconsistency in registered CommandLine options"). qmpc's tests use PyTorch on the CPU
# only, which needs no Triton: make `import triton` fail so that torch skips it.
if "triton" not in sys.modules:
    sys.modules["triton"] = None  # type: ignore[assignment]


@pytest.fixture(scope="session")
def repo_root() -> Path:
    return ROOT


@pytest.fixture(scope="session")
def shared_models() -> Path:
    if not SHARED_MODELS.is_dir():
        pytest.skip(f"real models folder {SHARED_MODELS} is absent (only in the project's workspace)")
    return SHARED_MODELS


@pytest.fixture(scope="session")
def shared_model() -> Callable[[str], Path]:
    def get(relpath: str) -> Path:
        p = SHARED_MODELS / relpath
        if not p.is_file():
            pytest.skip(f"{p} is absent (real models are only in the project's workspace)")
        return p

    return get


@pytest.fixture(scope="session")
def generated_dir() -> Path:
    GENERATED.mkdir(parents=True, exist_ok=True)
    return GENERATED


@pytest.fixture(scope="session")
def digits_model() -> Path:
    return ROOT / "examples" / "digits" / "digits_cnn_int8.tflite"
