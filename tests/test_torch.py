"""qmpc.from_torch against PyTorch (the oracle) on quantized models made here with fixed
seeds: FX graph mode and eager mode (QuantStub/DeQuantStub), x86, fbgemm and qnnpack
configurations, and a torchvision quantizable MobileNetV2 built without downloading weights.

PyTorch requantizes with a float32 multiplier and adds a float bias; qmpc uses the same
multiplier exactly, the bias rounded to int32 at scale s_x*s_w, and exact round-half-even.
The outputs differ by one LSB on a small fraction, measured here and asserted as a bound
(BOUNDS). The exported ONNX (qmpc.torch.to_onnx) is also run by ONNX Runtime, which must
agree with qmpc bit for bit where its U8S8 kernels cannot saturate (x86/fbgemm configs use
7-bit activations).
"""

from __future__ import annotations

import numpy as np
import pytest

torch = pytest.importorskip("torch")
nn = torch.nn

import qmpc  # noqa: E402
from qmpc.torch import to_onnx  # noqa: E402

# torch.ao.quantization warns that it is deprecated (in favour of torchao's pt2e flow).
pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning", "ignore::UserWarning")

SHAPE = (1, 3, 16, 16)


class Net(nn.Module):
    """conv+BN+ReLU, depthwise + functional relu, pointwise, residual add, max pool,
    global average pool, flatten, linear."""

    def __init__(self, eager: bool = False) -> None:
        super().__init__()
        self.eager = eager
        self.quant = torch.ao.quantization.QuantStub()
        self.dequant = torch.ao.quantization.DeQuantStub()
        self.c1 = nn.Conv2d(3, 8, 3, padding=1)
        self.bn = nn.BatchNorm2d(8)
        self.r1 = nn.ReLU()
        self.dw = nn.Conv2d(8, 8, 3, padding=1, groups=8)
        self.r2 = nn.ReLU()
        self.pw = nn.Conv2d(8, 8, 1)
        self.add = torch.ao.nn.quantized.FloatFunctional()
        self.mp = nn.MaxPool2d(2)
        self.gap = nn.AdaptiveAvgPool2d(1)
        self.fc = nn.Linear(8, 10)

    def forward(self, x):
        if self.eager:
            x = self.quant(x)
        y = self.r1(self.bn(self.c1(x)))
        z = self.pw(self.r2(self.dw(y)) if self.eager else torch.relu(self.dw(y)))
        y = self.add.add(y, z) if self.eager else y + z
        y = torch.flatten(self.gap(self.mp(y)), 1)
        y = self.fc(y)
        return self.dequant(y) if self.eager else y


def make_net(eager: bool, seed: int = 0) -> Net:
    torch.manual_seed(seed)
    m = Net(eager).eval()
    with torch.no_grad():
        m.bn.running_mean.uniform_(-0.2, 0.2)
        m.bn.running_var.uniform_(0.5, 1.5)
        m.bn.weight.uniform_(0.5, 1.5)
        m.bn.bias.uniform_(-0.2, 0.2)
    return m


def calib(n: int, seed: int, shape=SHAPE):
    g = torch.Generator().manual_seed(seed)
    return [torch.randn(shape, generator=g) for _ in range(n)]


def quantize_fx(m, engine: str):
    from torch.ao.quantization import get_default_qconfig_mapping
    from torch.ao.quantization.quantize_fx import convert_fx, prepare_fx

    torch.backends.quantized.engine = engine
    p = prepare_fx(m, get_default_qconfig_mapping(engine), (torch.zeros(SHAPE),))
    with torch.no_grad():
        for x in calib(16, 1):
            p(x)
    return convert_fx(p)


def quantize_eager(m, engine: str, fuse: list[list[str]]):
    torch.backends.quantized.engine = engine
    m.qconfig = torch.ao.quantization.get_default_qconfig(engine)
    m = torch.ao.quantization.fuse_modules(m, fuse)
    p = torch.ao.quantization.prepare(m)
    with torch.no_grad():
        for x in calib(16, 1, SHAPE):
            p(x)
    return torch.ao.quantization.convert(p)


def compare(qm, shape, n: int, out_scale: float):
    """(fraction of outputs that differ, max difference in LSB) qmpc vs PyTorch."""
    m = qmpc.from_torch(qm, torch.zeros(shape))
    d = []
    with torch.no_grad():
        for x in calib(n, 7, shape):
            ref = qm(x)
            got = m.run(x.numpy())
            assert got.shape == tuple(ref.shape) and got.dtype == np.float32
            d.append(np.rint(np.abs(got - ref.numpy()) / out_scale).ravel())
    d = np.concatenate(d)
    return float(np.mean(d > 0)), float(d.max())


# (fraction of outputs differing, largest difference in LSB). Measured over 200 inputs x 10
# logits: FX x86/fbgemm 0.5 %, eager x86/fbgemm 1.05 %, qnnpack 0 (bit-exact), all within
# one LSB; the bounds leave room for the smaller sample the test draws.
BOUNDS = {
    ("fx", "x86"): (0.02, 1), ("fx", "fbgemm"): (0.02, 1), ("fx", "qnnpack"): (0.0, 0),
    ("eager", "x86"): (0.03, 1), ("eager", "fbgemm"): (0.03, 1), ("eager", "qnnpack"): (0.0, 0),
}


@pytest.mark.parametrize("engine", ["x86", "fbgemm", "qnnpack"])
@pytest.mark.parametrize("mode", ["fx", "eager"])
def test_matches_pytorch(mode, engine):
    if mode == "fx":
        qm = quantize_fx(make_net(False), engine)
        s = qm.fc.scale
    else:
        qm = quantize_eager(make_net(True), engine, [["c1", "bn", "r1"], ["dw", "r2"]])
        s = qm.fc.scale
    frac, mx = compare(qm, SHAPE, 40, s)
    bf, bm = BOUNDS[(mode, engine)]
    assert mx <= bm and frac <= bf, f"{frac:.4f} of outputs differ, max {mx} LSB"


@pytest.mark.parametrize("engine", ["x86", "fbgemm"])
def test_exported_onnx_runs_bit_exact_in_onnxruntime(engine):
    ort = pytest.importorskip("onnxruntime")
    qm = quantize_fx(make_net(False), engine)
    data = to_onnx(qm, torch.zeros(SHAPE))
    s = ort.InferenceSession(data, providers=["CPUExecutionProvider"])
    m = qmpc.load(data)
    for x in calib(10, 9):
        ref = s.run(None, {s.get_inputs()[0].name: x.numpy()})[0]
        np.testing.assert_array_equal(m.run(x.numpy()), ref)


class CatPool(nn.Module):
    """torch.cat of a conv+relu and a conv branch, AvgPool2d, conv, reshape of a 6x8x8 map
    (the NCHW flatten order folds into the linear layer's weights), linear."""

    def __init__(self) -> None:
        super().__init__()
        self.a = nn.Conv2d(3, 4, 3, padding=1)
        self.b = nn.Conv2d(3, 4, 1)
        self.ap = nn.AvgPool2d(2)
        self.c = nn.Conv2d(8, 6, 3, padding=1)
        self.fc = nn.Linear(6 * 8 * 8, 5)

    def forward(self, x):
        y = torch.cat([torch.relu(self.a(x)), self.b(x)], 1)
        y = self.c(self.ap(y))
        return self.fc(y.reshape(y.shape[0], -1))


# Measured over 100 inputs x 5 logits: x86 9 % (one LSB; each requantizing layer adds
# about 1-3 %: PyTorch's fbgemm adds the bias in float and requantizes cat/relu through
# float32 reciprocals), qnnpack 0.
@pytest.mark.parametrize("engine,bound", [("x86", 0.15), ("qnnpack", 0.0)])
def test_cat_avgpool_reshape(engine, bound):
    torch.manual_seed(1)
    qm = quantize_fx(CatPool().eval(), engine)
    frac, mx = compare(qm, SHAPE, 40, qm.fc.scale)
    assert mx <= 1 and frac <= bound, f"{frac:.4f} of outputs differ, max {mx} LSB"


def test_nchw_output_and_int_layout():
    """A model that returns a 4-D map: NCHW out, as PyTorch."""

    class ConvOnly(nn.Module):
        def __init__(self):
            super().__init__()
            self.c = nn.Conv2d(3, 5, 3, stride=2, padding=1)

        def forward(self, x):
            return self.c(x)

    torch.manual_seed(3)
    qm = quantize_fx(ConvOnly().eval(), "x86")
    m = qmpc.from_torch(qm, torch.zeros(SHAPE))
    assert m.inputs[0].shape == SHAPE
    x = calib(1, 4)[0]
    ref = qm(x).numpy()
    got = m.run(x.numpy())
    assert got.shape == ref.shape == (1, 5, 8, 8)
    # Measured over 20 inputs x 320 outputs: at most 1 output of an input differs, by one
    # LSB (PyTorch's float bias and multiplier, the module docstring).
    d = np.rint(np.abs(got - ref) / qm.c.scale)
    assert d.max() <= 1 and np.mean(d > 0) <= 0.02, f"{np.mean(d > 0):.4f} of outputs differ, max {d.max()} LSB"


def test_unsupported_reported_at_once():
    class Odd(nn.Module):
        def __init__(self):
            super().__init__()
            self.c = nn.Conv2d(3, 4, 3)
            self.up = nn.Upsample(scale_factor=2)

        def forward(self, x):
            y = self.up(self.c(x))
            return torch.sigmoid(y) * 2

    torch.manual_seed(0)
    qm = quantize_fx(Odd().eval(), "x86")
    with pytest.raises(qmpc.UnsupportedOpError):
        qmpc.from_torch(qm, torch.zeros(SHAPE))


def test_torchvision_mobilenet_v2():
    tvq = pytest.importorskip("torchvision.models.quantization")
    torch.manual_seed(0)
    torch.backends.quantized.engine = "x86"
    m = tvq.mobilenet_v2(weights=None, quantize=False).eval()  # random init, no download
    m.fuse_model(is_qat=False)
    m.qconfig = torch.ao.quantization.get_default_qconfig("x86")
    p = torch.ao.quantization.prepare(m)
    shape = (1, 3, 64, 64)
    with torch.no_grad():
        for x in calib(4, 1, shape):
            p(x)
    qm = torch.ao.quantization.convert(p)
    frac, mx = compare(qm, shape, 3, qm.classifier[1].scale)
    assert mx <= 1 and frac <= 0.05, f"{frac:.4f} of outputs differ, max {mx} LSB"


@pytest.mark.parametrize("fmt", ["qdq", "qoperator"])
def test_float_export_then_onnxruntime_quantizer(fmt):
    """The other road from PyTorch: export the float model with torch.onnx.export (dynamic
    batch), quantize with ONNX Runtime's quantize_static, load with qmpc.load."""
    import io
    import sys
    from pathlib import Path

    import onnx

    sys.path.insert(0, str(Path(__file__).parent))
    import onnx_models as om

    torch.manual_seed(0)
    m = nn.Sequential(nn.Conv2d(3, 8, 3, padding=1), nn.BatchNorm2d(8), nn.ReLU(),
                      nn.Conv2d(8, 8, 3, stride=2, padding=1, groups=8), nn.ReLU6(),
                      nn.Conv2d(8, 16, 1), nn.ReLU(), nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(16, 10)).eval()
    f = io.BytesIO()
    torch.onnx.export(m, (torch.randn(SHAPE),), f, input_names=["x"], output_names=["y"],
                      dynamic_axes={"x": {0: "batch"}}, dynamo=False, opset_version=17)
    fm = onnx.load_from_string(f.getvalue())
    cfg = om.QConfig(fmt, "uint8", "int8", True, True)  # 7-bit weights: ORT is integer-exact
    data = om.quantize(fm, list(SHAPE), cfg)
    q = qmpc.load(data)
    assert q.inputs[0].shape == SHAPE  # the symbolic batch is fixed to 1
    for x in om.inputs(list(SHAPE), 5, 7):
        np.testing.assert_array_equal(q.run(x), om.ort_run(data, x))


def test_engine_qconfig_mismatch_warns():
    """A qnnpack-prepared model imported while the engine is x86 (PyTorch's outputs then
    saturate): a warning naming both settings; none when they match."""
    import warnings

    qm = quantize_fx(make_net(False), "qnnpack")
    torch.backends.quantized.engine = "x86"
    with pytest.warns(UserWarning, match=r"qnnpack.*engine is 'x86'"):
        qmpc.from_torch(qm, torch.zeros(SHAPE))
    torch.backends.quantized.engine = "qnnpack"
    with warnings.catch_warnings():
        warnings.simplefilter("error", UserWarning)
        qmpc.from_torch(qm, torch.zeros(SHAPE))
    qx = quantize_fx(make_net(False), "x86")
    with warnings.catch_warnings():
        warnings.simplefilter("error", UserWarning)
        qmpc.from_torch(qx, torch.zeros(SHAPE))


class _Contiguous(nn.Module):
    def __init__(self, m: nn.Module) -> None:
        super().__init__()
        self.m = m

    def forward(self, x):
        return self.m(x.contiguous())


def test_fx_qnnpack_relu6_block():
    """The issue's FX qnnpack depthwise Conv2d + BatchNorm2d + ReLU6 block: PyTorch's qnnpack
    clamp (torch.nn.ReLU6 on a quantized tensor) puts the elements of a channels-last input
    (a qnnpack convolution's output) at the wrong positions, 98 % of them here. qmpc warns
    and computes ReLU6: bit-exact with PyTorch once ReLU6 gets a contiguous tensor."""
    torch.manual_seed(0)
    m = nn.Sequential(nn.Conv2d(3, 8, 3, padding=1), nn.BatchNorm2d(8), nn.ReLU(),
                      nn.Conv2d(8, 8, 3, padding=1, groups=8), nn.BatchNorm2d(8), nn.ReLU6(),
                      nn.Conv2d(8, 4, 1)).eval()
    qm = quantize_fx(m, "qnnpack")
    with pytest.warns(UserWarning, match="ReLU6 on a channels-last"):
        q = qmpc.from_torch(qm, torch.zeros(SHAPE))
    relu6 = getattr(qm, "5")
    assert isinstance(relu6, nn.ReLU6)
    setattr(qm, "5", _Contiguous(relu6))  # PyTorch's reference without the layout bug
    with torch.no_grad():
        for x in calib(5, 3):
            np.testing.assert_array_equal(q.run(x.numpy()), qm(x).numpy())
