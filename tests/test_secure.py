"""Secure inference (qmpc.secure_run) equals the cleartext evaluator bit for bit.

Every model that tests/gen_models.py generates (each op, uint8 / int8 / float edges) and
the real models of ../shared/models run under rep3 (three local parties) and under plain
(the same code path in the clear); the outputs must equal ``Model.run``'s exactly, which
is itself bit-exact with LiteRT (test_cleartext_vs_litert.py). Also: argmax reveal,
estimates, statistics, and the errors a user can cause.
"""
from __future__ import annotations

import numpy as np
import pytest

qmpc = pytest.importorskip("qmpc")

import gen_models  # noqa: E402
from test_cleartext_vs_litert import GENERATED  # noqa: E402  (generated once, cached)


def random_inputs(m, seed):
    rng = np.random.default_rng(seed)
    xs = []
    for t in m.inputs:
        dt = np.dtype(t.dtype)
        if dt.kind in "iu":
            info = np.iinfo(dt)
            xs.append(rng.integers(info.min, int(info.max) + 1, size=t.shape, dtype=np.int64).astype(dt))
        else:
            scale = t.scale or 0.05
            xs.append(rng.uniform(-130 * scale, 130 * scale, size=t.shape).astype(dt))
    return xs


def as_list(y):
    return y if isinstance(y, list) else [y]


def check_secure(m, xs, protocol="rep3"):
    want = as_list(m.run(xs if len(xs) > 1 else xs[0]))
    r = qmpc.secure_run(m, xs if len(xs) > 1 else xs[0], protocol=protocol, progress=False)
    got = as_list(r.output)
    assert len(got) == len(want)
    for k, (g, w) in enumerate(zip(got, want)):
        assert g.dtype == w.dtype and g.shape == w.shape
        if not np.array_equal(g, w):
            n = int((g != w).sum())
            pytest.fail(f"{protocol} output {k}: {n} of {w.size} elements differ from the cleartext evaluator")
    return r


@pytest.mark.parametrize("name,data", GENERATED, ids=[n for n, _ in GENERATED])
def test_generated_model_secure(name, data):
    if isinstance(data, Exception):
        pytest.skip(f"cannot generate models: {data}")
    m = qmpc.load(data)
    for seed in (0, 1):
        check_secure(m, random_inputs(m, seed), "rep3")
    check_secure(m, random_inputs(m, 2), "plain")


SHARED = [
    "tflm/hello_world_int8.tflite",
    "tflm/person_detect.tflite",
    "coral/mobilenet_v1_0.25_128_quant.tflite",
    "coral_2020/mobilenet_v1_0.25_128_quant.tflite",
    "coral/tf2_mobilenet_v2_1.0_224_ptq.tflite",
]


@pytest.mark.parametrize("rel", SHARED)
def test_shared_model_secure(shared_model, rel):
    m = qmpc.load(shared_model(rel))
    r = check_secure(m, random_inputs(m, 0))
    # Costs are reported per layer and per party.
    assert r.stats.parties == 3
    assert all(len(layer.bytes_sent) == 3 for layer in r.stats.layers)
    assert r.stats.total.rounds == sum(layer.rounds for layer in r.stats.layers)
    assert r.stats.total.bytes_sent == tuple(
        sum(layer.bytes_sent[i] for layer in r.stats.layers) for i in range(3))
    assert sum(r.stats.total.bytes_sent) > 0


def test_cat_secure_top1(shared_model):
    import images

    m = qmpc.load(shared_model("coral/mobilenet_v1_0.25_128_quant.tflite"))
    _, h, w, _ = m.inputs[0].shape
    x = images.coral_input(shared_model("coral/cat.bmp"), h, w)
    r = qmpc.secure_run(m, x, progress=False)
    assert np.array_equal(r.output, m.run(x))
    top3 = np.argsort(r.output.reshape(-1))[::-1][:3]
    assert 283 in top3  # tiger cat (EXPECTED_OUTPUTS.md, section A)
    a = qmpc.secure_run(m, x, reveal="argmax", progress=False)
    assert a.output.dtype == np.int32 and a.output.shape == (1,)
    assert int(a.output[0]) == int(np.argmax(m.run(x)))


def test_argmax_reveal_digits(digits_model):
    m = qmpc.load(digits_model)
    for seed in range(5):
        x = random_inputs(m, seed)[0]
        r = qmpc.secure_run(m, x, reveal="argmax", progress=False)
        assert r.output.shape == (1,)
        assert int(r.output[0]) == int(np.argmax(m.run(x).reshape(-1)))


def test_estimate_matches_a_run(digits_model):
    m = qmpc.load(digits_model)
    est = qmpc.estimate(m, "rep3")
    r = qmpc.secure_run(m, random_inputs(m, 0)[0], progress=False)
    # Communication does not depend on the values: bytes and rounds are exact.
    assert est.total.bytes_sent == r.stats.total.bytes_sent
    assert est.total.rounds == r.stats.total.rounds
    assert [l.kind for l in est.layers] == [l.kind for l in r.stats.layers]
    assert "CONV_2D" in r.stats.by_kind()
    assert "TOTAL" in r.stats.table()


def test_protocols_listed():
    assert {"rep3", "plain"} <= set(qmpc.protocols())


def test_float_input_is_quantized_with_warning(digits_model):
    m = qmpc.load(digits_model)
    t = m.inputs[0]
    x = np.random.default_rng(0).uniform(-1, 1, size=t.shape).astype(np.float32)
    with pytest.warns(UserWarning):
        r = qmpc.secure_run(m, x, progress=False)
    with pytest.warns(UserWarning):
        assert np.array_equal(r.output, m.run(x))


@pytest.mark.parametrize("kwargs,exc,text", [
    ({"protocol": "spdz9"}, qmpc.ConfigError, "spdz9"),
    ({"reveal": "everything"}, qmpc.ConfigError, "everything"),
    ({"client": 7}, qmpc.ConfigError, "client"),
])
def test_bad_configuration(digits_model, kwargs, exc, text):
    m = qmpc.load(digits_model)
    with pytest.raises(exc, match=text):
        qmpc.secure_run(m, random_inputs(m, 0)[0], progress=False, **kwargs)


def test_bad_input(digits_model):
    m = qmpc.load(digits_model)
    t = m.inputs[0]
    with pytest.raises(qmpc.ShapeError, match="shape"):
        qmpc.secure_run(m, np.zeros((2, 3), dtype=t.dtype), progress=False)
    with pytest.raises(qmpc.DTypeError):
        qmpc.secure_run(m, np.zeros(t.shape, dtype=np.int32), progress=False)


# --- ONNX Runtime and PyTorch models (round-half-even requantization, NCHW) -----------

def _onnx_cases():
    try:
        import onnx_models as om
    except ImportError as e:  # onnx / onnxruntime absent
        return [("unavailable", e)]
    cases = []
    for name, build in om.FLOAT_MODELS.items():
        for cfg in (om.QCONFIGS[0], om.QCONFIGS[-1]):
            cases.append((f"{name}-{cfg.name}", (build, cfg)))
    return cases


ONNX_CASES = _onnx_cases()


@pytest.mark.parametrize("name,case", ONNX_CASES, ids=[n for n, _ in ONNX_CASES])
def test_onnx_model_secure(name, case):
    if isinstance(case, Exception):
        pytest.skip(f"cannot build ONNX models: {case}")
    import onnx_models as om

    build, cfg = case
    fm, shape = build()
    m = qmpc.load(om.quantize(fm, shape, cfg))
    for x in om.inputs(shape, 2, seed=11):
        want = m.run(x)
        r = qmpc.secure_run(m, x, progress=False)
        assert r.output.dtype == want.dtype and r.output.shape == want.shape
        assert np.array_equal(r.output, want), f"{name}: secure differs from the cleartext evaluator"


@pytest.mark.filterwarnings("ignore::DeprecationWarning", "ignore::UserWarning")
def test_torch_model_secure():
    torch = pytest.importorskip("torch")
    import test_torch as tt

    qm = tt.quantize_fx(tt.make_net(False, seed=3), "x86")
    x = tt.calib(1, seed=5)[0]
    m = qmpc.from_torch(qm, x)
    want = m.run(x.numpy())
    r = qmpc.secure_run(m, x.numpy(), progress=False)
    assert np.array_equal(r.output, want)


def test_readme_threat_model_table_matches_the_registry():
    """The README's threat-model table lists exactly the registry's protocols (plain
    excepted), in order, with the same parties, threat model, domain and availability."""
    import pathlib
    import re

    readme = (pathlib.Path(__file__).resolve().parents[1] / "README.md").read_text()
    section = readme.split("## Threat models", 1)[1]
    rows = [r for r in section.splitlines() if r.startswith("| ") and "`" in r]
    table = []
    for r in rows:
        cells = [c.strip() for c in r.strip("|").split("|")]
        paper, parties, corruption, security, domain, name, status = cells
        table.append((paper, parties, corruption, security, domain,
                      name.strip("`"), status.startswith("available")))
    registry = []
    for p in qmpc.protocols(all=True):
        if p.security == "none":
            continue  # plain: described below the table
        parties = f"{p.parties} (n)" if p.max_parties == 0 else str(p.parties)
        registry.append((p.paper, parties, p.corruption, p.security, p.domain, p.name, p.available))
    assert table == registry
    assert re.search(r"\| `rep3` \| available", readme)


def test_protocols_are_rich_entries(digits_model):
    rep3 = next(p for p in qmpc.protocols() if p.name == "rep3")
    assert rep3 == "rep3" and str(rep3) == "rep3"
    assert (rep3.parties, rep3.corruption, rep3.security, rep3.domain, rep3.available) == (
        3, "honest majority", "semi-honest", "Z_2^64", True)
    assert all(p.available for p in qmpc.protocols())
    planned = [p.name for p in qmpc.protocols(all=True) if not p.available]
    assert "cowgear" in planned and "spdz2k" not in planned
    with pytest.raises(qmpc.ConfigError, match="planned"):
        qmpc.secure_run(qmpc.load(digits_model), np.zeros((1, 8, 8, 1), np.int8), protocol="cowgear")


def test_offline_online_split_and_demand(digits_model):
    m = qmpc.load(digits_model)
    x = np.load(digits_model.parent / "test_images.npy")[:1]
    r = qmpc.secure_run(m, x, protocol="rep3")
    # rep3 has no offline phase: everything is online, and the split adds up.
    assert r.stats.offline.bytes_sent == (0, 0, 0)
    assert r.stats.online.bytes_sent == r.stats.total.bytes_sent
    assert r.stats.online.rounds == r.stats.total.rounds
    e = qmpc.estimate(m, protocol="rep3")
    assert e.demand == r.stats.demand
    assert e.demand["and"] > 0 and e.demand["macs_one_sided"] > 0
