"""ONNX import: qmpc's cleartext evaluator against ONNX Runtime (the oracle).

Models are generated with fixed seeds (tests/onnx_models.py): float NCHW graphs built with
onnx.helper, quantized by ONNX Runtime's own ``quantize_static`` in QOperator and QDQ form,
uint8 and int8, per tensor and per channel. Inputs and outputs are float32 NCHW on both
sides (ONNX Runtime's types and layout); differences are counted in output LSBs (the
scale of the final DequantizeLinear).

What is exact and what is not (measured on x86-64 with AVX2, no AVX-VNNI):

* Bit-exact: every model in QOperator form, and in QDQ form except where ORT runs an op
  in float (AveragePool), with uint8 weights or with ORT's ``reduce_range`` 7-bit int8
  weights.
* ORT's U8S8 kernels (uint8 activations x int8 weights; ORT also converts S8S8 QDQ models
  to U8S8 on x86) use vpmaddubsw, whose int16 pair sums saturate for full-range int8
  weights (ORT's documentation recommends reduce_range for this). qmpc computes the exact
  integer result, so such models differ from ORT on a fraction of outputs, by more than
  one LSB: FULL_RANGE_BOUNDS below bound that fraction; with reduce_range the same models
  are exact.
* QDQ AveragePool runs in float32 in ORT; qmpc's integer round-half-even of the exact
  average differs by one LSB near ties: SINGLE_OP_BOUNDS, and QDQ_AVGPOOL_BOUND for the
  ``branches`` model (an AveragePool inside a network).
* On a CPU with AVX-VNNI (``avx_vnni`` or ``avx512_vnni`` in /proc/cpuinfo) ORT's U8S8
  kernels do not saturate, and full-range int8 weights are bit-exact too (measured: every
  model, every configuration, except the QDQ AveragePool above).

Every bound is on the fraction of outputs that differ and on the size of a difference
(max |d| in LSB).
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import onnx
import pytest
from onnx import helper, numpy_helper, TensorProto

sys.path.insert(0, str(Path(__file__).parent))
import onnx_models as om  # noqa: E402

import qmpc  # noqa: E402

N_INPUTS = 12


def out_scale(data: bytes) -> float:
    m = onnx.load_from_string(data)
    inits = {i.name: numpy_helper.to_array(i) for i in m.graph.initializer}
    last = m.graph.node[-1]
    assert last.op_type == "DequantizeLinear", last.op_type
    return float(inits[last.input[1]])


def lsb_diffs(data: bytes, shape: list[int], n: int = N_INPUTS, seed: int = 7) -> np.ndarray:
    """|qmpc - ORT| in output LSBs over n random inputs (flattened)."""
    m = qmpc.load(data)
    s = out_scale(data)
    d = []
    for x in om.inputs(shape, n, seed):
        ref = om.ort_run(data, x)
        got = m.run(x)
        assert got.dtype == ref.dtype and got.shape == ref.shape, (got.dtype, got.shape, ref.shape)
        d.append(np.rint(np.abs(got.astype(np.float64) - ref) / s).ravel())
    return np.concatenate(d)


_cache: dict[tuple[str, str], bytes] = {}


def quantized(name: str, cfg: om.QConfig) -> tuple[bytes, list[int]]:
    build = om.FLOAT_MODELS.get(name)
    fm, shape = build() if build else om.single_op(name)
    key = (name, cfg.name)
    if key not in _cache:
        _cache[key] = om.quantize(fm, shape, cfg)
    return _cache[key], shape


# Configurations where ORT's integer arithmetic is exact: uint8 weights, or reduce_range.
EXACT_CONFIGS = [c for c in om.QCONFIGS if c.weight == "uint8"] + om.QCONFIGS_RR
# (model, format) pairs where ORT runs an op in float (QDQ AveragePool): not exact.
FLOAT_IN_ORT = {("branches", "qdq")}
# Their bound: (fraction of outputs that differ, largest difference in LSB). Measured on the
# 60 outputs of 12 inputs: 0.27 to 0.40 of the outputs differ, each by exactly one LSB (a
# one-LSB difference of the pool near a tie, carried through Mul, GAP and the linear layer).
QDQ_AVGPOOL_BOUND = (0.5, 1)


def _vnni() -> bool:
    try:
        flags = Path("/proc/cpuinfo").read_text().split()
    except OSError:
        return False
    return "avx_vnni" in flags or "avx512_vnni" in flags


VNNI = _vnni()


def assert_bounded(d: np.ndarray, frac: float, max_lsb: int) -> None:
    """At most frac of the outputs differ, none by more than max_lsb LSB."""
    assert frac < 1.0, "a bound of 1.0 on a fraction cannot fail"
    got = float(np.mean(d > 0))
    assert got <= frac, f"{got:.4f} of {d.size} outputs differ (bound {frac})"
    assert d.max() <= max_lsb, f"max difference {d.max()} LSB (bound {max_lsb})"


@pytest.mark.parametrize("cfg", EXACT_CONFIGS, ids=lambda c: c.name)
@pytest.mark.parametrize("name", list(om.FLOAT_MODELS))
def test_bit_exact_with_onnxruntime(name, cfg):
    data, shape = quantized(name, cfg)
    d = lsb_diffs(data, shape)
    if (name, cfg.fmt) in FLOAT_IN_ORT:  # ORT runs QDQ AveragePool in float32
        assert_bounded(d, *QDQ_AVGPOOL_BOUND)
        return
    assert d.max() == 0, f"{int((d > 0).sum())}/{d.size} outputs differ, max {d.max()} LSB"


# Measured fraction of outputs that differ by one LSB (and the largest difference), per
# single-op model and configuration; the bounds are the measured values rounded up.
SINGLE_OP_BOUNDS = {
    ("AveragePool", "qdq"): (0.03, 1),
}


@pytest.mark.parametrize("cfg", [om.QConfig(f, "uint8", "uint8", False) for f in ("qoperator", "qdq")]
                         + [om.QConfig(f, "int8", "int8", False, True) for f in ("qoperator", "qdq")],
                         ids=lambda c: c.name)
@pytest.mark.parametrize("op", om.SINGLE_OPS)
def test_single_op_agreement(op, cfg):
    data, shape = quantized(op, cfg)
    if onnx.load_from_string(data).graph.node[-1].op_type != "DequantizeLinear":
        pytest.skip(f"ORT's quantizer leaves {op} in float in {cfg.name}")
    d = lsb_diffs(data, shape, n=6)
    frac, mx = SINGLE_OP_BOUNDS.get((op, cfg.fmt), (0.0, 0))
    assert d.max() <= mx, f"max difference {d.max()} LSB"
    assert np.mean(d > 0) <= frac, f"{np.mean(d > 0):.4f} of outputs differ (bound {frac})"


# Full-range int8 weights without AVX-VNNI: ORT's vpmaddubsw saturation (see the module
# docstring). Fraction of final outputs that differ, measured on an AVX2 machine without
# VNNI and rounded up. The size of those differences was not recorded there, and "branches"
# was not measured at all: on such a machine the test checks these fractions only and
# skips "branches" (the report of issue 15 lists this). With VNNI every model is exact
# except the QDQ AveragePool of "branches" (QDQ_AVGPOOL_BOUND).
FULL_RANGE_FRACTION_NO_VNNI = {"conv_bn_relu": 0.15, "depthwise": 0.01, "residual": 0.15, "pools": 0.6,
                               "small_cnn": 0.6, "flatten_fc": 0.0}


@pytest.mark.parametrize("cfg", [c for c in om.QCONFIGS if c.weight == "int8"], ids=lambda c: c.name)
@pytest.mark.parametrize("name", list(om.FLOAT_MODELS))
def test_full_range_int8_weights_bounded(name, cfg):
    data, shape = quantized(name, cfg)
    d = lsb_diffs(data, shape)
    if VNNI:
        if (name, cfg.fmt) in FLOAT_IN_ORT:
            assert_bounded(d, *QDQ_AVGPOOL_BOUND)
        else:
            assert d.max() == 0, f"{int((d > 0).sum())}/{d.size} outputs differ, max {d.max()} LSB"
        return
    if name not in FULL_RANGE_FRACTION_NO_VNNI:
        pytest.skip(f"no bound measured for {name} on a CPU without AVX-VNNI")
    got = float(np.mean(d > 0))
    assert got <= FULL_RANGE_FRACTION_NO_VNNI[name], f"{got:.4f} of outputs differ"


@pytest.mark.parametrize("opset", [11, 17, 21])
@pytest.mark.parametrize("cfg", [om.QConfig("qdq", "uint8", "uint8", False), om.QConfig("qoperator", "int8", "int8", True, True)],
                         ids=lambda c: c.name)
def test_opsets(opset, cfg):
    fm, shape = om.small_cnn(opset=opset)
    data = om.quantize(fm, shape, cfg)
    assert any(o.version == opset for o in onnx.load_from_string(data).opset_import if o.domain in ("", "ai.onnx"))
    d = lsb_diffs(data, shape, n=4)
    assert d.max() == 0


@pytest.mark.parametrize("cfg", [om.QConfig("qoperator", "uint8", "uint8", False), om.QConfig("qdq", "int8", "int8", True, True)],
                         ids=lambda c: c.name)
def test_computed_reshape_is_folded(cfg):
    """A Reshape whose shape a Shape -> Gather -> Unsqueeze -> Concat subgraph computes (a
    symbolic batch, as torch.onnx.export writes x.view(x.size(0), -1)) is folded at import:
    bit-exact with ORT, and the secure run equals the cleartext one."""
    data, shape = quantized("flatten_fc", cfg)
    data = om.compute_reshape_shapes(data)
    kinds = [n.op_type for n in onnx.load_from_string(data).graph.node]
    assert {"Shape", "Gather", "Unsqueeze", "Reshape"} <= set(kinds), kinds
    assert lsb_diffs(data, shape, n=4).max() == 0
    m = qmpc.load(data)
    x = om.inputs(shape, 1, 3)[0]
    assert np.array_equal(qmpc.secure_run(m, x, progress=False).output, m.run(x))


def test_layout_is_nchw_at_the_boundary():
    data, shape = quantized("conv_bn_relu", om.QConfig("qoperator", "uint8", "uint8", False))
    m = qmpc.load(data)
    assert m.format == "onnx"
    assert m.inputs[0].shape == tuple(shape) and m.inputs[0].dtype == np.float32
    x = om.inputs(shape, 1, 3)[0]
    ref = om.ort_run(data, x)
    got = m.run(x)
    assert got.shape == ref.shape == (1, 8, 6, 6)  # NCHW out, as ORT
    np.testing.assert_array_equal(got, ref)
    assert m.outputs[0].shape == ref.shape


def test_load_from_path(tmp_path):
    data, shape = quantized("small_cnn", om.QConfig("qdq", "uint8", "uint8", False))
    p = tmp_path / "m.onnx"
    p.write_bytes(data)
    m = qmpc.load(p)
    x = om.inputs(shape, 1, 4)[0]
    np.testing.assert_array_equal(m.run(x), om.ort_run(data, x))


def _qop_model(nodes, inits, out_name="y", out_type=TensorProto.FLOAT):
    g = helper.make_graph(nodes, "t", [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 2, 4, 4])],
                          [helper.make_tensor_value_info(out_name, out_type, None)], initializer=inits)
    m = helper.make_model(g, opset_imports=[helper.make_opsetid("", 13), helper.make_opsetid("com.microsoft", 1)])
    return m.SerializeToString()


def test_unsupported_ops_listed_at_once():
    inits = [numpy_helper.from_array(np.array(0.1, np.float32), "s"),
             numpy_helper.from_array(np.array(128, np.uint8), "z")]
    nodes = [
        helper.make_node("QuantizeLinear", ["x", "s", "z"], ["q"]),
        helper.make_node("QLinearSigmoid", ["q", "s", "z", "s", "z"], ["a"], domain="com.microsoft"),
        helper.make_node("QLinearLeakyRelu", ["a", "s", "z", "s", "z"], ["b"], domain="com.microsoft", alpha=0.1),
        helper.make_node("DequantizeLinear", ["b", "s", "z"], ["f"]),
        helper.make_node("Softmax", ["f"], ["y"]),
    ]
    with pytest.raises(qmpc.UnsupportedOpError) as e:
        qmpc.load(_qop_model(nodes, inits))
    msg = str(e.value)
    assert "QLinearSigmoid" in msg and "QLinearLeakyRelu" in msg, msg


def test_conv_group_unsupported():
    fm, shape = om.FLOAT_MODELS["depthwise"]()
    data = om.quantize(fm, shape, om.QConfig("qoperator", "uint8", "uint8", False))
    m = onnx.load_from_string(data)
    for n in m.graph.node:  # turn the depthwise conv into a grouped one (2 groups of 4)
        if n.op_type == "QLinearConv" and any(a.name == "group" and a.i == 8 for a in n.attribute):
            for a in n.attribute:
                if a.name == "group":
                    a.i = 2
            w = next(i for i in m.graph.initializer if i.name == n.input[3])
            arr = numpy_helper.to_array(w)
            w.CopyFrom(numpy_helper.from_array(np.repeat(arr, 4, axis=1), w.name))
    with pytest.raises(qmpc.UnsupportedOpError, match=r"group=2"):
        qmpc.load(m.SerializeToString())


@pytest.mark.parametrize("cut", [1, 10, 100, -1])
def test_truncated_file_is_a_model_error(cut):
    data, _ = quantized("small_cnn", om.QConfig("qoperator", "uint8", "uint8", False))
    bad = data[:cut] if cut > 0 else data[: len(data) // 2]
    with pytest.raises((qmpc.ModelError, qmpc.UnsupportedOpError)):
        qmpc.load(bad)


def _dilated_pools(op: str, **attrs):
    """conv (uint8/int8 after quantization), then a dilated pool, then a 1x1 conv."""
    b, shape = om._Builder(12, opset=19), [1, 4, 13, 11]
    y = b.node(op, [b.conv("x", 4, 6, 3)], op.lower(), **attrs)
    return b.model("x", shape, b.conv(y, 6, 4, 1)), shape


DILATED_MAXPOOLS = {
    "pads": dict(kernel_shape=[3, 3], strides=[2, 2], pads=[1, 1, 1, 1], dilations=[2, 2]),
    "ceil": dict(kernel_shape=[2, 3], strides=[2, 1], dilations=[3, 2], ceil_mode=1),
    "asym": dict(kernel_shape=[3, 2], strides=[1, 2], pads=[2, 0, 1, 1], dilations=[2, 3]),
}


@pytest.mark.parametrize("cfg", [om.QConfig("qoperator", "uint8", "uint8", False), om.QConfig("qdq", "int8", "int8", True, True)],
                         ids=lambda c: c.name)
@pytest.mark.parametrize("case", list(DILATED_MAXPOOLS))
def test_dilated_maxpool(case, cfg):
    """MaxPool with ``dilations`` (with pads, ceil_mode, uneven dilations): a GATHER of each
    window's taps and a max over them in qmpc; bit-exact with ORT, secure equal to
    cleartext."""
    fm, shape = _dilated_pools("MaxPool", **DILATED_MAXPOOLS[case])
    data = om.quantize(fm, shape, cfg)
    assert "MaxPool" in [n.op_type for n in onnx.load_from_string(data).graph.node]
    m = qmpc.load(data)
    assert "GATHER" in m.summary() and "MAX_POOL_2D" in m.summary()
    assert lsb_diffs(data, shape, n=4).max() == 0
    x = om.inputs(shape, 1, 5)[0]
    assert np.array_equal(qmpc.secure_run(m, x, protocol="rep3", progress=False).output, m.run(x))
    r = qmpc.secure_run(m, x, protocol="semi2k", preprocessing="dealer", progress=False)
    assert np.array_equal(r.output, m.run(x))


def test_dilated_averagepool_refused():
    """AveragePool's ``dilations`` (opset 19) is refused with a message naming it."""
    fm, shape = _dilated_pools("AveragePool", kernel_shape=[3, 3], dilations=[2, 2])
    data = om.quantize(fm, shape, om.QConfig("qdq", "uint8", "uint8", False))
    with pytest.raises(qmpc.UnsupportedOpError, match="dilations"):
        qmpc.load(data)
