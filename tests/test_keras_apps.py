"""keras.applications models with random weights, converted with the converter's defaults
(tests/gen_keras_apps.py): cleartext bit-exact with LiteRT's builtin kernels, and secure
inference equal to cleartext bit for bit under rep3, semi2k (the labelled simulated
dealer on every model; its OT offline phase on the two smallest), rep3-mal (on two small
models: ~10 s each, ResNet50 takes ~4 min and 6.6 GB) and plain."""
from __future__ import annotations

import re

import numpy as np
import pytest

qmpc = pytest.importorskip("qmpc")
pytest.importorskip("ai_edge_litert.interpreter")

import gen_keras_apps  # noqa: E402
from test_cleartext_vs_litert import check_equal  # noqa: E402
from test_secure import check_secure, random_inputs  # noqa: E402


def _generated():
    try:
        return gen_keras_apps.generate()
    except ImportError as e:  # TensorFlow absent
        return [("unavailable", e)]


MODELS = _generated()
IDS = [n for n, _ in MODELS]
# Models whose semi2k run with its OT offline phase takes a few seconds (the others take ~1 min).
SMALL = ("mobilenet_v2", "efficientnet_lite")


def _skip_if_unavailable(data):
    if isinstance(data, Exception):
        pytest.skip(f"cannot generate models: {data}")


def _kinds(m):
    return set(re.findall(r"^\s+\d+\s+([A-Z_0-9]+)\s", m.summary(), re.M))


@pytest.mark.parametrize("name,data", MODELS, ids=IDS)
def test_ops(name, data):
    """The ops each application is known for are in the imported graph (so the tests below
    exercise them), and no shape subgraph is left."""
    _skip_if_unavailable(data)
    kinds = _kinds(qmpc.load(data))
    want = {"CONV_2D", "MEAN"}
    if "mobilenet_v3" in name:  # the classifier is a 1x1 CONV_2D and a Flatten
        want |= {"HARD_SWISH", "MUL", "DEPTHWISE_CONV_2D", "RESHAPE"}
    else:
        want.add("FULLY_CONNECTED")
    if "resnet50" in name:
        want |= {"PAD", "MAX_POOL_2D", "ADD"}
    if "efficientnet_b0" in name:
        want |= {"LOGISTIC", "MUL", "DEPTHWISE_CONV_2D"}
    if "mobilenet_v2" in name or "efficientnet_lite" in name:
        want |= {"ADD", "DEPTHWISE_CONV_2D"}
    if name.endswith("_f32"):
        want |= {"QUANTIZE", "DEQUANTIZE"}
    assert want <= kinds, f"missing {want - kinds}"
    assert not kinds & {"SHAPE", "STRIDED_SLICE", "PACK"}


@pytest.mark.parametrize("name,data", MODELS, ids=IDS)
def test_outputs_informative(name, data):
    """The logits take many values (a constant output would make the comparisons below
    test nothing)."""
    _skip_if_unavailable(data)
    m = qmpc.load(data)
    y = m.run(random_inputs(m, 0)[0])
    assert len(np.unique(y)) >= (20 if y.size >= 100 else 5), np.unique(y)


@pytest.mark.parametrize("name,data", MODELS, ids=IDS)
def test_cleartext_equals_litert(name, data):
    _skip_if_unavailable(data)
    check_equal(data, seeds=(0, 1))


@pytest.mark.parametrize("name,data", MODELS, ids=IDS)
def test_rep3_equals_cleartext(name, data):
    _skip_if_unavailable(data)
    m = qmpc.load(data)
    check_secure(m, random_inputs(m, 0), "rep3")


@pytest.mark.parametrize("name,data", MODELS, ids=IDS)
def test_semi2k_equals_cleartext(name, data):
    _skip_if_unavailable(data)
    m = qmpc.load(data)
    xs = random_inputs(m, 1)
    if any(s in name for s in SMALL) and name.endswith("_i8"):
        check_secure(m, xs, "semi2k")
    # The labelled, simulated dealer: the same online phase, a short offline phase.
    r = qmpc.secure_run(m, xs[0], protocol="semi2k", preprocessing="dealer", progress=False)
    assert np.array_equal(r.output, m.run(xs[0]))


@pytest.mark.parametrize("name,data", [c for c in MODELS if any(s in c[0] for s in SMALL)],
                         ids=[n for n in IDS if any(s in n for s in SMALL)])
def test_plain_equals_cleartext(name, data):
    _skip_if_unavailable(data)
    m = qmpc.load(data)
    check_secure(m, random_inputs(m, 2), "plain")


# rep3-mal where this build has it, on MobileNetV3Small (HARD_SWISH, squeeze-excitation
# MULs) and the EfficientNet-lite-like net.
MAL = [c for c in MODELS if c[0] in ("keras_mobilenet_v3_small_32_i8", "keras_efficientnet_lite_32_i8")]


@pytest.mark.skipif("rep3-mal" not in [p.name for p in qmpc.protocols()], reason="no rep3-mal in this build")
@pytest.mark.parametrize("name,data", MAL, ids=[n for n, _ in MAL])
def test_rep3mal_equals_cleartext(name, data):
    _skip_if_unavailable(data)
    m = qmpc.load(data)
    check_secure(m, random_inputs(m, 3), "rep3-mal")
