"""Quantized ONNX test models, generated with fixed seeds.

Float models are built with :mod:`onnx.helper` (NCHW, as ONNX is), then quantized by ONNX
Runtime's own quantizer, ``onnxruntime.quantization.quantize_static``, in both formats it
writes (QOperator: QLinearConv, QLinearAdd, ...; QDQ: DequantizeLinear -> float op ->
QuantizeLinear), with uint8 or int8 activations and weights, per tensor or per channel.
Nothing is downloaded.

Run as a script to write every model into a folder::

    python tests/onnx_models.py tests/_generated/onnx
"""

from __future__ import annotations

import os
import sys
import tempfile
from dataclasses import dataclass
from typing import Callable, Iterator

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

OPSET = 13  # the opset of the float models (ORT's quantizer keeps it for QDQ/QOperator)


class _Builder:
    """Collects nodes and initializers of a float NCHW graph."""

    def __init__(self, seed: int, opset: int = OPSET) -> None:
        self.opset = opset
        self.rng = np.random.default_rng(seed)
        self.nodes: list[onnx.NodeProto] = []
        self.inits: list[onnx.TensorProto] = []
        self.n = 0

    def name(self, prefix: str) -> str:
        self.n += 1
        return f"{prefix}{self.n}"

    def const(self, prefix: str, a: np.ndarray) -> str:
        n = self.name(prefix)
        self.inits.append(numpy_helper.from_array(np.asarray(a), n))
        return n

    def node(self, op: str, inputs: list[str], prefix: str | None = None, **attrs) -> str:
        out = self.name(prefix or op.lower())
        self.nodes.append(helper.make_node(op, inputs, [out], name=out, **attrs))
        return out

    def conv(self, x: str, cin: int, cout: int, k: int, stride: int = 1, group: int = 1,
             pad: int | None = None, bias: bool = True) -> str:
        w = self.rng.normal(0, 1 / np.sqrt(cin // group * k * k), (cout, cin // group, k, k))
        ins = [x, self.const("w", w.astype(np.float32))]
        if bias:
            ins.append(self.const("b", self.rng.normal(0, 0.1, cout).astype(np.float32)))
        p = k // 2 if pad is None else pad
        return self.node("Conv", ins, "conv", kernel_shape=[k, k], strides=[stride, stride],
                         pads=[p, p, p, p], group=group)

    def bn(self, x: str, c: int) -> str:
        r = self.rng
        return self.node("BatchNormalization", [
            x,
            self.const("gamma", r.uniform(0.5, 1.5, c).astype(np.float32)),
            self.const("beta", r.normal(0, 0.2, c).astype(np.float32)),
            self.const("mean", r.normal(0, 0.2, c).astype(np.float32)),
            self.const("var", r.uniform(0.5, 1.5, c).astype(np.float32)),
        ], "bn", epsilon=1e-5)

    def gemm(self, x: str, cin: int, cout: int) -> str:
        w = self.rng.normal(0, 1 / np.sqrt(cin), (cout, cin)).astype(np.float32)
        b = self.rng.normal(0, 0.1, cout).astype(np.float32)
        return self.node("Gemm", [x, self.const("fcw", w), self.const("fcb", b)], "fc", transB=1)

    def model(self, x: str, shape: list[int], y: str) -> onnx.ModelProto:
        g = helper.make_graph(
            self.nodes, "qmpc_test",
            [helper.make_tensor_value_info(x, TensorProto.FLOAT, shape)],
            [helper.make_tensor_value_info(y, TensorProto.FLOAT, None)],
            initializer=self.inits)
        m = helper.make_model(g, opset_imports=[helper.make_opsetid("", self.opset)],
                              producer_name="qmpc-tests")
        m.ir_version = 8
        m = onnx.shape_inference.infer_shapes(m)
        for vi in m.graph.value_info:  # give the output the inferred shape
            if vi.name == y:
                m.graph.output[0].CopyFrom(vi)
        onnx.checker.check_model(m, full_check=True)
        return m


def conv_bn_relu(seed: int = 1) -> tuple[onnx.ModelProto, list[int]]:
    """Conv 3x3 + BatchNormalization + Relu (fused by ORT's pre-processing), twice."""
    b, shape = _Builder(seed), [1, 3, 12, 12]
    y = b.node("Relu", [b.bn(b.conv("x", 3, 8, 3), 8)])
    y = b.node("Relu", [b.bn(b.conv(y, 8, 8, 3, stride=2), 8)])
    return b.model("x", shape, y), shape


def depthwise(seed: int = 2) -> tuple[onnx.ModelProto, list[int]]:
    """Depthwise 3x3 (group = channels) + Relu, then pointwise 1x1."""
    b, shape = _Builder(seed), [1, 8, 10, 10]
    y = b.node("Relu", [b.conv("x", 8, 8, 3, group=8)])
    y = b.conv(y, 8, 16, 1)
    return b.model("x", shape, y), shape


def residual(seed: int = 3) -> tuple[onnx.ModelProto, list[int]]:
    """x -> conv-relu -> conv; Add with x; Relu."""
    b, shape = _Builder(seed), [1, 8, 8, 8]
    y = b.node("Relu", [b.conv("x", 8, 8, 3)])
    y = b.conv(y, 8, 8, 3)
    y = b.node("Relu", [b.node("Add", ["x", y])])
    return b.model("x", shape, y), shape


def pools(seed: int = 4) -> tuple[onnx.ModelProto, list[int]]:
    """conv-relu, MaxPool 2x2/2, conv, GlobalAveragePool, Flatten, Gemm (linear)."""
    b, shape = _Builder(seed), [1, 4, 16, 16]
    y = b.node("Relu", [b.conv("x", 4, 8, 3)])
    y = b.node("MaxPool", [y], "maxpool", kernel_shape=[2, 2], strides=[2, 2])
    y = b.conv(y, 8, 16, 3)
    y = b.node("GlobalAveragePool", [y], "gap")
    y = b.node("Flatten", [y], "flatten", axis=1)
    y = b.gemm(y, 16, 10)
    return b.model("x", shape, y), shape


def small_cnn(seed: int = 5, opset: int = OPSET) -> tuple[onnx.ModelProto, list[int]]:
    """All of the above in one network (stem, depthwise block with residual, pools, linear)."""
    b, shape = _Builder(seed, opset), [1, 3, 16, 16]
    y = b.node("Relu", [b.bn(b.conv("x", 3, 8, 3, stride=2), 8)])
    r = y
    y = b.node("Relu", [b.conv(y, 8, 8, 3, group=8)])
    y = b.conv(y, 8, 8, 1)
    y = b.node("Add", [r, y])
    y = b.node("MaxPool", [y], "maxpool", kernel_shape=[2, 2], strides=[2, 2])
    y = b.node("Relu", [b.conv(y, 8, 16, 3)])
    y = b.node("GlobalAveragePool", [y], "gap")
    y = b.node("Flatten", [y], "flatten", axis=1)
    y = b.gemm(y, 16, 10)
    return b.model("x", shape, y), shape


def branches(seed: int = 6) -> tuple[onnx.ModelProto, list[int]]:
    """Two conv branches concatenated, average pool 3x3 (padding excluded), Mul, GAP, linear."""
    b, shape = _Builder(seed), [1, 4, 10, 10]
    y1 = b.node("Relu", [b.conv("x", 4, 6, 3)])
    y2 = b.conv("x", 4, 6, 1)
    cat = b.node("Concat", [y1, y2], "concat", axis=1)
    p = b.node("AveragePool", [cat], "avgpool", kernel_shape=[3, 3], strides=[1, 1], pads=[1, 1, 1, 1])
    m = b.node("Mul", [p, b.conv(cat, 12, 12, 1)], "mul")
    y = b.node("GlobalAveragePool", [m], "gap")
    y = b.node("Flatten", [y], "flatten", axis=1)
    y = b.gemm(y, 12, 5)
    return b.model("x", shape, y), shape


def flatten_fc(seed: int = 7) -> tuple[onnx.ModelProto, list[int]]:
    """conv, Flatten of a 4x4x4 NCHW map (the permutation folds into the weights), MatMul."""
    b, shape = _Builder(seed), [1, 2, 8, 8]
    y = b.node("Relu", [b.conv("x", 2, 4, 3, stride=2)])
    y = b.node("Flatten", [y], "flatten", axis=1)
    w = b.rng.normal(0, 0.2, (64, 10)).astype(np.float32)
    y = b.node("MatMul", [y, b.const("mmw", w)], "matmul")
    return b.model("x", shape, y), shape


def movement(seed: int = 9) -> tuple[onnx.ModelProto, list[int]]:
    """Data movement on activations: a Transpose swapping H and W, a channel shuffle as
    ShuffleNet's (Reshape to 5-D, Transpose, Reshape back), a conv, and a Transpose to an
    NHWC output."""
    b, shape = _Builder(seed), [1, 4, 6, 8]
    y = b.node("Relu", [b.conv("x", 4, 8, 3)])  # [1, 8, 6, 8]
    y = b.node("Transpose", [y], "transpose", perm=[0, 1, 3, 2])  # [1, 8, 8, 6]
    y = b.node("Reshape", [y, b.const("shape", np.array([1, 2, 4, 8, 6], np.int64))], "reshape")
    y = b.node("Transpose", [y], "transpose", perm=[0, 2, 1, 3, 4])
    y = b.node("Reshape", [y, b.const("shape", np.array([1, 8, 8, 6], np.int64))], "reshape")
    y = b.conv(y, 8, 6, 1)
    y = b.node("Transpose", [y], "transpose", perm=[0, 2, 3, 1])  # [1, 8, 6, 6]
    return b.model("x", shape, y), shape


def slicing(seed: int = 10) -> tuple[onnx.ModelProto, list[int]]:
    """More data movement on activations: Slice (a crop and a stride), Split into two,
    Gather of channels with constant indices, Concat, DepthToSpace, Unsqueeze -> Transpose ->
    Squeeze (swapping H and W), SpaceToDepth, and GlobalAveragePool -> Squeeze -> Gemm."""
    b, shape = _Builder(seed), [1, 4, 8, 8]
    y = b.node("Relu", [b.conv("x", 4, 8, 3)])  # [1, 8, 8, 8]
    y = b.node("Slice", [y, b.const("starts", np.array([1, 0], np.int64)), b.const("ends", np.array([7, 8], np.int64)),
                         b.const("axes", np.array([2, 3], np.int64)), b.const("steps", np.array([1, 2], np.int64))],
               "slice")  # [1, 8, 6, 4]
    s1, s2 = b.name("split"), b.name("split")
    b.nodes.append(helper.make_node("Split", [y, b.const("sizes", np.array([4, 4], np.int64))], [s1, s2],
                                    name=s1, axis=1))
    g = b.node("Gather", [s2, b.const("indices", np.array([3, 0, 2, 1], np.int64))], "gather", axis=1)
    y = b.node("Concat", [b.conv(s1, 4, 4, 1), g], "concat", axis=1)  # [1, 8, 6, 4]
    y = b.node("DepthToSpace", [y], "d2s", blocksize=2)  # [1, 2, 12, 8]
    y = b.node("Unsqueeze", [y, b.const("axes", np.array([4], np.int64))], "unsqueeze")  # [1, 2, 12, 8, 1]
    y = b.node("Transpose", [y], "transpose", perm=[0, 1, 4, 3, 2])  # [1, 2, 1, 8, 12]
    y = b.node("Squeeze", [y, b.const("axes", np.array([2], np.int64))], "squeeze")  # [1, 2, 8, 12]
    y = b.node("SpaceToDepth", [y], "s2d", blocksize=2)  # [1, 8, 4, 6]
    y = b.node("Relu", [b.conv(y, 8, 8, 3)])
    y = b.node("GlobalAveragePool", [y], "gap")
    y = b.node("Squeeze", [y, b.const("axes", np.array([2, 3], np.int64))], "squeeze")
    y = b.gemm(y, 8, 10)
    return b.model("x", shape, y), shape


def compute_reshape_shapes(data: bytes) -> bytes:
    """Replaces every Flatten (axis 1) and every Reshape's constant shape in a quantized
    model by the subgraph torch.onnx.export writes for x.view(x.size(0), -1) with a dynamic
    batch:
    Concat(Unsqueeze(Gather(Shape(x), 0)), [-1]); the graph input's batch becomes symbolic.
    (ORT's pre-processing would fold the subgraph if it were in the float model.)"""
    m = onnx.load_from_string(data)
    g = m.graph
    nodes = []
    for i, n in enumerate(g.node):
        if n.op_type == "Flatten":
            n = helper.make_node("Reshape", [n.input[0], ""], list(n.output), name=n.name)
        if n.op_type == "Reshape":
            p = f"computed_shape{i}_"
            g.initializer.extend([numpy_helper.from_array(np.array(0, np.int64), p + "zero"),
                                  numpy_helper.from_array(np.array([0], np.int64), p + "axes"),
                                  numpy_helper.from_array(np.array([-1], np.int64), p + "minus1")])
            nodes += [
                helper.make_node("Shape", [n.input[0]], [p + "dims"], name=p + "shape"),
                helper.make_node("Gather", [p + "dims", p + "zero"], [p + "n"], name=p + "gather", axis=0),
                helper.make_node("Unsqueeze", [p + "n", p + "axes"], [p + "n1"], name=p + "unsqueeze"),
                helper.make_node("Concat", [p + "n1", p + "minus1"], [p + "target"], name=p + "concat", axis=0),
            ]
            n.input[1] = p + "target"
        nodes.append(n)
    del g.node[:]
    g.node.extend(nodes)
    g.input[0].type.tensor_type.shape.dim[0].dim_param = "N"
    g.output[0].type.tensor_type.shape.dim[0].dim_param = "N"
    onnx.checker.check_model(m)
    return m.SerializeToString()


def single_op(op: str, seed: int = 8) -> tuple[onnx.ModelProto, list[int]]:
    """One op on the (quantized) input, to measure that op's agreement with ORT alone; the
    second operand of binary ops is a 1x1 convolution of the input (exact in both)."""
    b, shape = _Builder(seed), [1, 8, 16, 16]
    if op == "AveragePool":  # after a conv: ORT's quantizer leaves a leading pool in float
        y = b.node(op, [b.conv("x", 8, 8, 1)], "avgpool", kernel_shape=[3, 3], strides=[1, 1], pads=[1, 1, 1, 1])
    elif op == "GlobalAveragePool":
        y = b.node(op, [b.conv("x", 8, 8, 1)], "gap")
    elif op == "Concat":
        y = b.node(op, ["x", b.conv("x", 8, 8, 1)], "concat", axis=1)
    else:
        y = b.node(op, ["x", b.conv("x", 8, 8, 1)], op.lower())
    return b.model("x", shape, y), shape


SINGLE_OPS = ["Add", "Mul", "AveragePool", "GlobalAveragePool", "Concat"]

FLOAT_MODELS: dict[str, Callable[[], tuple[onnx.ModelProto, list[int]]]] = {
    "conv_bn_relu": conv_bn_relu,
    "depthwise": depthwise,
    "residual": residual,
    "pools": pools,
    "small_cnn": small_cnn,
    "branches": branches,
    "flatten_fc": flatten_fc,
    "movement": movement,
    "slicing": slicing,
}


@dataclass(frozen=True)
class QConfig:
    """One way to run ORT's quantizer."""

    fmt: str  # "qoperator" or "qdq"
    act: str  # "uint8" or "int8"
    weight: str  # "uint8" or "int8"
    per_channel: bool
    # 7-bit weights: ORT's own remedy for the int16 saturation of its U8S8 kernels on x86
    # without AVX-VNNI (vpmaddubsw); with it ORT's integer results are exact.
    reduce_range: bool = False

    @property
    def name(self) -> str:
        return f"{self.fmt}-{self.act[0]}{self.act[-1]}{self.weight[0]}{self.weight[-1]}-" + (
            "perchannel" if self.per_channel else "pertensor") + ("-rr" if self.reduce_range else "")


QCONFIGS = [
    QConfig(fmt, act, w, pc)
    for fmt in ("qoperator", "qdq")
    for act, w in (("uint8", "uint8"), ("int8", "int8"), ("uint8", "int8"))
    for pc in (False, True)
    if not (pc and w == "uint8")  # ORT quantizes weights per channel as int8 in practice
]

# The same with 7-bit weights where the weights are int8 (see QConfig.reduce_range).
QCONFIGS_RR = [QConfig(c.fmt, c.act, c.weight, c.per_channel, True) for c in QCONFIGS if c.weight == "int8"]


def inputs(shape: list[int], n: int, seed: int) -> np.ndarray:
    """n random float32 NCHW inputs (a batch dimension of 1 each)."""
    rng = np.random.default_rng(seed)
    return rng.normal(0, 1, [n] + list(shape)).astype(np.float32)


class _Reader:
    def __init__(self, name: str, xs: np.ndarray) -> None:
        self.it: Iterator[np.ndarray] = iter(xs)
        self.name = name

    def get_next(self):
        x = next(self.it, None)
        return None if x is None else {self.name: x}

    def rewind(self):  # pragma: no cover - not used by MinMax calibration
        pass


def quantize(model: onnx.ModelProto, shape: list[int], cfg: QConfig, seed: int = 0) -> bytes:
    """Quantize a float model with ORT's quantize_static; returns the model's bytes."""
    from onnxruntime.quantization import QuantFormat, QuantType, quantize_static
    from onnxruntime.quantization.shape_inference import quant_pre_process

    qt = {"uint8": QuantType.QUInt8, "int8": QuantType.QInt8}
    with tempfile.TemporaryDirectory() as d:
        fp, pre, out = (os.path.join(d, n) for n in ("f.onnx", "pre.onnx", "q.onnx"))
        onnx.save(model, fp)
        # ORT's recommended pre-processing: shape inference and graph optimization, which
        # folds BatchNormalization into Conv.
        quant_pre_process(fp, pre, skip_symbolic_shape=True)
        quantize_static(
            pre, out, _Reader(model.graph.input[0].name, inputs(shape, 16, 1000 + seed)),
            quant_format=QuantFormat.QOperator if cfg.fmt == "qoperator" else QuantFormat.QDQ,
            per_channel=cfg.per_channel, activation_type=qt[cfg.act], weight_type=qt[cfg.weight],
            reduce_range=cfg.reduce_range, extra_options={"ActivationSymmetric": False},
        )
        with open(out, "rb") as f:
            return f.read()


def ort_run(model: bytes, x: np.ndarray) -> np.ndarray:
    """Run a model with ONNX Runtime's CPU provider on one input."""
    import onnxruntime as ort

    so = ort.SessionOptions()
    so.intra_op_num_threads = 1
    s = ort.InferenceSession(model, so, providers=["CPUExecutionProvider"])
    return s.run(None, {s.get_inputs()[0].name: x})[0]


def all_models(configs: list[QConfig] | None = None) -> Iterator[tuple[str, str, QConfig, bytes, list[int]]]:
    """(float model name, config name, config, quantized bytes, input shape) for all."""
    for name, build in FLOAT_MODELS.items():
        fm, shape = build()
        for cfg in configs if configs is not None else QCONFIGS + QCONFIGS_RR:
            yield name, cfg.name, cfg, quantize(fm, shape, cfg), shape


if __name__ == "__main__":
    outdir = sys.argv[1] if len(sys.argv) > 1 else "tests/_generated/onnx"
    os.makedirs(outdir, exist_ok=True)
    for name, cname, _, data, _ in all_models():
        p = os.path.join(outdir, f"{name}-{cname}.onnx")
        with open(p, "wb") as f:
            f.write(data)
        print(p, len(data))
