"""HARD_SWISH, TANH and mid-graph LOGISTIC (issue 10): bit-exact with LiteRT in cleartext,
and on shares (mpc.LookupTable of the table the cleartext kernel computes) equal to
cleartext under every protocol (tests/gen_keras_lut.py makes the models). The TANH-only
models are fed every int8 value, at four input scales: LiteRT fills its TANH table with
the C library's tanhf, which qnn.Tanhf reproduces."""
from __future__ import annotations

import re

import numpy as np
import pytest

qmpc = pytest.importorskip("qmpc")

import listed  # noqa: E402
pytest.importorskip("ai_edge_litert.interpreter")

import gen_keras_lut  # noqa: E402
from test_cleartext_vs_litert import check_equal, litert, litert_run  # noqa: E402
from test_secure import check_secure, random_inputs  # noqa: E402


def _generated():
    try:
        return gen_keras_lut.generate()
    except ImportError as e:  # TensorFlow absent
        return [("unavailable", e)]


MODELS = _generated()
IDS = [n for n, _ in MODELS]
PROTOCOLS = [p.name for p in listed.protocols() if p.name != "plain"]


def _skip_if_unavailable(data):
    if isinstance(data, Exception):
        pytest.skip(f"cannot generate models: {data}")


@pytest.mark.parametrize("name,data", MODELS, ids=IDS)
def test_has_lookup_ops_mid_graph(name, data):
    _skip_if_unavailable(data)
    summary = qmpc.load(data).summary()
    kinds = re.findall(r"^\s+\d+\s+([A-Z_0-9]+)\s", summary, re.M)
    if "se_block" in name:
        assert "HARD_SWISH" in kinds, summary
        assert "LOGISTIC" in kinds[:-1], summary  # not the final op: not in the client's tail
    elif "tanh_mid" in name:
        assert "TANH" in kinds[:-1], summary
    elif "tanh_a" in name:
        assert kinds == ["TANH"], summary


@pytest.mark.parametrize("name,data", [c for c in MODELS if "tanh_a" in c[0]],
                         ids=[n for n in IDS if "tanh_a" in n])
def test_tanh_every_input_value(name, data):
    _skip_if_unavailable(data)
    it = litert(data)
    d = it.get_input_details()[0]
    assert d["dtype"] == np.int8 and tuple(d["shape"]) == (1, 256), d
    x = np.arange(-128, 128, dtype=np.int8).reshape(1, 256)
    want = litert_run(it, [x])[0]
    m = qmpc.load(data)
    got = m.run(x)
    assert np.array_equal(got, want), (
        f"input scale {d['quantization'][0]}: {int((got != want).sum())} of 256 table entries "
        f"differ from LiteRT at inputs {x[got != want].tolist()}")
    r = qmpc.secure_run(m, x, protocol="rep3", progress=False)
    assert np.array_equal(r.output, want)


def _with_quantization(data, in_q, out_q):
    """The TANH-only model with its input and output (scale, zero point) replaced."""
    import flatbuffers
    import ai_edge_litert.schema_py_generated as fb

    mt = fb.ModelT.InitFromObj(fb.Model.GetRootAsModel(data, 0))
    sg = mt.subgraphs[0]
    for t, (scale, zp) in ((sg.inputs[0], in_q), (sg.outputs[0], out_q)):
        q = sg.tensors[t].quantization
        q.scale, q.zeroPoint = [float(scale)], [int(zp)]
    b = flatbuffers.Builder(len(data) + 1024)
    b.Finish(mt.Pack(b), file_identifier=b"TFL3")
    return bytes(b.Output())


def test_tanh_tables_at_many_scales():
    """40 random input quantizations (scale 2^-9..2^0, any zero point) and output scales
    around 1/128: every table entry equals LiteRT's (the C library's tanhf through
    qnn.Tanhf, then roundf and the clamp)."""
    base = next((d for n, d in MODELS if n == "keras_tanh_a1"), None)
    _skip_if_unavailable(base if base is not None else MODELS[0][1])
    rng = np.random.default_rng(10)
    x = np.arange(-128, 128, dtype=np.int8).reshape(1, 256)
    for k in range(40):
        in_q = (2.0 ** rng.uniform(-9, 0), int(rng.integers(-128, 128)))
        out_q = (1 / 128 * 2.0 ** rng.uniform(-1, 1) if k % 2 else 1 / 128, int(rng.integers(-20, 21)) if k % 4 == 3 else 0)
        data = _with_quantization(base, in_q, out_q)
        want = litert_run(litert(data), [x])[0]
        got = qmpc.load(data).run(x)
        assert np.array_equal(got, want), (
            f"input {in_q}, output {out_q}: {int((got != want).sum())} entries differ at "
            f"inputs {x[got != want].tolist()}")


@pytest.mark.parametrize("name,data", MODELS, ids=IDS)
def test_cleartext_equals_litert(name, data):
    _skip_if_unavailable(data)
    check_equal(data)


@pytest.mark.parametrize("protocol", PROTOCOLS)
@pytest.mark.parametrize("name,data", MODELS, ids=IDS)
def test_secure_equals_cleartext(name, data, protocol):
    _skip_if_unavailable(data)
    m = qmpc.load(data)
    check_secure(m, random_inputs(m, 0), protocol)
