"""HARD_SWISH and mid-graph LOGISTIC (issue 10): bit-exact with LiteRT in cleartext, and
on shares (mpc.LookupTable of the table the cleartext kernel computes) equal to cleartext
under every protocol (tests/gen_keras_lut.py makes the models)."""
from __future__ import annotations

import re

import numpy as np
import pytest

qmpc = pytest.importorskip("qmpc")
pytest.importorskip("ai_edge_litert.interpreter")

import gen_keras_lut  # noqa: E402
from test_cleartext_vs_litert import check_equal  # noqa: E402
from test_secure import check_secure, random_inputs  # noqa: E402


def _generated():
    try:
        return gen_keras_lut.generate()
    except ImportError as e:  # TensorFlow absent
        return [("unavailable", e)]


MODELS = _generated()
IDS = [n for n, _ in MODELS]
PROTOCOLS = [p.name for p in qmpc.protocols() if p.name != "plain"]


def _skip_if_unavailable(data):
    if isinstance(data, Exception):
        pytest.skip(f"cannot generate models: {data}")


@pytest.mark.parametrize("name,data", MODELS, ids=IDS)
def test_has_lookup_ops_mid_graph(name, data):
    _skip_if_unavailable(data)
    summary = qmpc.load(data).summary()
    kinds = re.findall(r"^\s+\d+\s+([A-Z_0-9]+)\s", summary, re.M)
    assert "HARD_SWISH" in kinds, summary
    if "se_block" in name:
        assert "LOGISTIC" in kinds[:-1], summary  # not the final op: not in the client's tail


@pytest.mark.parametrize("name,data", MODELS, ids=IDS)
def test_cleartext_equals_litert(name, data):
    _skip_if_unavailable(data)
    check_equal(data)


@pytest.mark.parametrize("protocol", PROTOCOLS)
@pytest.mark.parametrize("name,data", MODELS, ids=IDS)
def test_secure_equals_cleartext(name, data, protocol):
    _skip_if_unavailable(data)
    m = qmpc.load(data)
    xs = random_inputs(m, 0)
    info = next(p for p in qmpc.protocols() if p.name == protocol)
    if "mobilenet" in name and info.offline:
        # The OT-based offline phase is slow on CI's two cores; the labelled, simulated
        # dealer keeps it short (the online phase is the same).
        r = qmpc.secure_run(m, xs[0], protocol=protocol, preprocessing="dealer", progress=False)
        assert np.array_equal(r.output, m.run(xs[0]))
    else:
        check_secure(m, xs, protocol)
