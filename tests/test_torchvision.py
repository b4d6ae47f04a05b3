"""torchvision's quantizable models (torchvision.models.quantization) in qmpc.

Each model is built with random weights (``weights=None, quantize=False``: nothing is
downloaded) and quantized by torchvision's eager recipe: ``fuse_model()``, the engine's
default qconfig, ``prepare``, calibration on seeded random batches, ``convert``. The
imported model (qmpc.from_torch) must match PyTorch's quantized module run with the
matching ``torch.backends.quantized.engine``, and the secure run (rep3) must equal the
cleartext run bit for bit.

qnnpack requantizes in integers and is matched bit for bit. The x86 (fbgemm) engine adds
the convolution bias in float32 and requantizes through float32 (module docstring of
qmpc.torch), so each requantizing layer moves a small fraction of its outputs by one LSB;
through a deep network these compound, and the logits differ by a few LSB on a fraction
that BOUNDS states and the test asserts (measured as noted there).

Input sizes are small to keep CI time low (the networks are fully convolutional up to a
global average pool): SIZES.
"""

from __future__ import annotations

import numpy as np
import pytest

torch = pytest.importorskip("torch")
tvq = pytest.importorskip("torchvision.models.quantization")
nn = torch.nn

import qmpc  # noqa: E402

# torch.ao.quantization warns that it is deprecated (in favour of torchao's pt2e flow).
pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning", "ignore::UserWarning")

# Input height = width per model (the smallest sizes that keep every stage non-empty are
# smaller still; these keep a few pixels at the last stage).
SIZES = {"resnet18": 64, "shufflenet_v2_x0_5": 64}


def seeded(n: int, seed: int, shape):
    g = torch.Generator().manual_seed(seed)
    return [torch.randn(shape, generator=g) for _ in range(n)]


def build(name: str, engine: str):
    """The model quantized by torchvision's eager recipe for engine, and its input shape."""
    torch.manual_seed(0)
    torch.backends.quantized.engine = engine
    m = getattr(tvq, name)(weights=None, quantize=False).eval()
    m.fuse_model(is_qat=False)
    m.qconfig = torch.ao.quantization.get_default_qconfig(engine)
    p = torch.ao.quantization.prepare(m)
    shape = (1, 3, SIZES[name], SIZES[name])
    with torch.no_grad():
        for x in seeded(4, 1, shape):
            p(x)
    return torch.ao.quantization.convert(p), shape


_CACHE: dict = {}


def imported(name: str, engine: str):
    """(PyTorch quantized model, qmpc model, input shape), built once per session."""
    if (name, engine) not in _CACHE:
        qm, shape = build(name, engine)
        _CACHE[(name, engine)] = (qm, qmpc.from_torch(qm, torch.zeros(shape)), shape)
    torch.backends.quantized.engine = engine
    return _CACHE[(name, engine)]


def out_scale(qm) -> float:
    last = [m for m in qm.modules() if isinstance(m, torch.ao.nn.quantized.Linear)][-1]
    return float(last.scale)


# (fraction of logits that differ, largest difference in LSB) for the x86 engine, where not
# bit-exact; measured with `python tests/test_torchvision.py NAME x86 20` (the fraction
# varies a lot between inputs: the test draws 3). qnnpack is exact.
#   resnet18 x86: 14.8 % of 20 x 1000 logits differ (1 LSB: 2861, 2: 99, 3: 2); 3 inputs: 31 %
BOUNDS = {
    ("resnet18", "x86"): (0.5, 4),
}
CASES = [(n, e) for n in SIZES for e in ("x86", "qnnpack")]


def lsb_diff(qm, m, shape, n: int) -> np.ndarray:
    s = out_scale(qm)
    d = []
    with torch.no_grad():
        for x in seeded(n, 7, shape):
            ref = qm(x).numpy()
            got = m.run(x.numpy())
            assert got.shape == ref.shape
            d.append(np.rint(np.abs(got - ref) / s).ravel())
    return np.concatenate(d)


@pytest.mark.parametrize("name,engine", CASES)
def test_cleartext_matches_pytorch(name, engine):
    qm, m, shape = imported(name, engine)
    d = lsb_diff(qm, m, shape, 3)
    frac, mx = BOUNDS.get((name, engine), (0.0, 0))
    assert d.max() <= mx and np.mean(d > 0) <= frac, f"{np.mean(d > 0):.4f} of logits differ, max {d.max()} LSB"


@pytest.mark.parametrize("name,engine", CASES)
def test_secure_equals_cleartext(name, engine):
    qm, m, shape = imported(name, engine)
    x = seeded(1, 11, shape)[0].numpy()
    np.testing.assert_array_equal(qmpc.secure_run(m, x, protocol="rep3").output, m.run(x))


class Pools(nn.Module):
    """A pool of the quantized input: max and average pools with explicit padding and
    ceil_mode (as in ResNet's stem, GoogLeNet's ceil_mode pools and Inception's padded
    average pools)."""

    def __init__(self, pool: nn.Module) -> None:
        super().__init__()
        self.quant = torch.ao.quantization.QuantStub()
        self.dequant = torch.ao.quantization.DeQuantStub()
        self.pool = pool

    def forward(self, x):
        return self.dequant(self.pool(self.quant(x)))


POOLS = {
    "max_pad": lambda: nn.MaxPool2d(3, 2, 1),
    "max_ceil": lambda: nn.MaxPool2d(3, 2, ceil_mode=True),
    "max_pad_ceil": lambda: nn.MaxPool2d(3, 2, 1, ceil_mode=True),
    "max_2_ceil": lambda: nn.MaxPool2d(2, 2, ceil_mode=True),
}


@pytest.mark.parametrize("engine", ["x86", "qnnpack"])
@pytest.mark.parametrize("pool", list(POOLS))
def test_pools(pool, engine):
    """Bit-exact with PyTorch, secure equal to cleartext; odd sizes so that ceil_mode
    matters."""
    torch.manual_seed(0)
    torch.backends.quantized.engine = engine
    m = Pools(POOLS[pool]()).eval()
    m.qconfig = torch.ao.quantization.get_default_qconfig(engine)
    p = torch.ao.quantization.prepare(m)
    shape = (1, 3, 13, 11)
    with torch.no_grad():
        for x in seeded(3, 1, shape):
            p(x)
    qm = torch.ao.quantization.convert(p)
    q = qmpc.from_torch(qm, torch.zeros(shape))
    with torch.no_grad():
        for x in seeded(3, 5, shape):
            ref = qm(x).numpy()
            got = q.run(x.numpy())
            assert got.shape == ref.shape
            np.testing.assert_array_equal(got, ref)
    x = seeded(1, 9, shape)[0].numpy()
    np.testing.assert_array_equal(qmpc.secure_run(q, x, protocol="rep3").output, q.run(x))


if __name__ == "__main__":  # measure the x86 bounds: python tests/test_torchvision.py NAME ENGINE N
    import sys

    qm, m, shape = imported(sys.argv[1], sys.argv[2])
    d = lsb_diff(qm, m, shape, int(sys.argv[3]))
    print(f"{sys.argv[1]} {sys.argv[2]}: {np.mean(d > 0):.4f} of logits differ, max {d.max():.0f} LSB, "
          f"histogram {np.bincount(d.astype(int))}")
