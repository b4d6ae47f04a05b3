"""keras.applications.ResNet50 at its full 224x224 input (issue 10's benchmark model,
tests/gen_keras_apps.py ``resnet50_224``: random weights, random BatchNorm statistics,
converter defaults, int8 I/O): cleartext bit-exact with LiteRT's builtin kernels, and the
secure run under rep3 equal to cleartext bit for bit.

Skipped unless QMPC_RESNET50_224=1: the conversion takes ~20 s, the rep3 run ~40 s and 7 GB
of memory (BENCHMARKS.md, "ResNet-50 at 224x224"; semi2k's dealer needs more than this
machine's 24 GB). CI covers the same network at 32x32 (tests/test_keras_apps.py)."""
from __future__ import annotations

import os

import numpy as np
import pytest

pytestmark = pytest.mark.skipif(os.environ.get("QMPC_RESNET50_224") != "1",
                                reason="set QMPC_RESNET50_224=1 (minutes, several GB)")

qmpc = pytest.importorskip("qmpc")
pytest.importorskip("ai_edge_litert.interpreter")
pytest.importorskip("tensorflow")

import gen_keras_apps  # noqa: E402
from test_cleartext_vs_litert import check_equal  # noqa: E402
from test_secure import check_secure, random_inputs  # noqa: E402


@pytest.fixture(scope="module")
def data():
    return gen_keras_apps.resnet50_224()


def test_ops_and_informative(data):
    m = qmpc.load(data)
    assert list(m.inputs[0].shape) == [1, 224, 224, 3]
    s = m.summary()
    for op in ("CONV_2D", "PAD", "MAX_POOL_2D", "ADD", "MEAN", "FULLY_CONNECTED"):
        assert op in s, op
    y = m.run(random_inputs(m, 0)[0])
    assert len(np.unique(y)) >= 20, np.unique(y)


def test_cleartext_equals_litert(data):
    check_equal(data, seeds=(0,))


def test_rep3_equals_cleartext(data):
    m = qmpc.load(data)
    check_secure(m, random_inputs(m, 0), "rep3")

