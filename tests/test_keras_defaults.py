"""Keras models converted with the TFLite converter's defaults (dynamic batch) load, run
bit-exact with LiteRT and run securely (tests/gen_keras_defaults.py makes them).

Their RESHAPE shapes come from SHAPE -> STRIDED_SLICE -> PACK subgraphs, which qmpc folds
at import; the NCHW model also moves data on activations (TRANSPOSE, STRIDED_SLICE, SPLIT,
PACK, UNPACK, GATHER, SPACE_TO_DEPTH, DEPTH_TO_SPACE), which the secure engine evaluates
as public index maps.
"""
from __future__ import annotations

import re

import numpy as np
import pytest

qmpc = pytest.importorskip("qmpc")

import listed  # noqa: E402
pytest.importorskip("ai_edge_litert.interpreter")

import gen_keras_defaults  # noqa: E402
from test_cleartext_vs_litert import check_equal  # noqa: E402
from test_secure import check_secure, random_inputs  # noqa: E402


def _generated():
    try:
        return gen_keras_defaults.generate()
    except ImportError as e:  # TensorFlow absent
        return [("unavailable", e)]


MODELS = _generated()
IDS = [n for n, _ in MODELS]


def _skip_if_unavailable(data):
    if isinstance(data, Exception):
        pytest.skip(f"cannot generate models: {data}")


@pytest.mark.parametrize("name,data", MODELS, ids=IDS)
def test_folded_at_import(name, data):
    _skip_if_unavailable(data)
    summary = qmpc.load(data).summary()
    kinds = set(re.findall(r"^\s+\d+\s+([A-Z_0-9]+)\s", summary, re.M))
    assert "RESHAPE" in kinds or "nchw" in name, summary
    if "nchw" in name:
        assert {"TRANSPOSE", "STRIDED_SLICE", "SPLIT", "PACK", "GATHER", "SPACE_TO_DEPTH",
                "DEPTH_TO_SPACE"} <= kinds, summary
        assert "SHAPE" not in kinds, summary
    else:
        assert not kinds & {"SHAPE", "STRIDED_SLICE", "PACK"}, f"shape subgraph left:\n{summary}"


@pytest.mark.parametrize("name,data", MODELS, ids=IDS)
def test_outputs_informative(name, data):
    """The outputs take several values on a random input (a constant output would make
    the comparisons below test nothing)."""
    _skip_if_unavailable(data)
    m = qmpc.load(data)
    y = m.run(random_inputs(m, 0)[0])
    assert len(np.unique(y)) >= (20 if y.size >= 100 else 5), np.unique(y)


@pytest.mark.parametrize("name,data", MODELS, ids=IDS)
def test_cleartext_equals_litert(name, data):
    _skip_if_unavailable(data)
    check_equal(data)


# Every protocol of this build but plain (run below on the small models).
PROTOCOLS = [p.name for p in listed.protocols() if p.name != "plain"]


@pytest.mark.parametrize("protocol", PROTOCOLS)
@pytest.mark.parametrize("name,data", MODELS, ids=IDS)
def test_secure_equals_cleartext(name, data, protocol):
    _skip_if_unavailable(data)
    m = qmpc.load(data)
    xs = random_inputs(m, 0)
    info = next(p for p in qmpc.protocols() if p.name == protocol)
    if "mobilenet" in name and info.offline:
        # The OT-based offline phase of semi2k takes ~100 s for this MobileNet on two cores;
        # the (labelled, simulated) dealer keeps CI short. The online phase is the same.
        r = qmpc.secure_run(m, xs[0], protocol=protocol, preprocessing="dealer", progress=False)
        assert np.array_equal(r.output, m.run(xs[0]))
    else:
        check_secure(m, xs, protocol)


@pytest.mark.parametrize("name,data", [c for c in MODELS if "mobilenet" not in c[0]],
                         ids=[n for n in IDS if "mobilenet" not in n])
def test_plain_equals_cleartext(name, data):
    _skip_if_unavailable(data)
    m = qmpc.load(data)
    check_secure(m, random_inputs(m, 1), "plain")
