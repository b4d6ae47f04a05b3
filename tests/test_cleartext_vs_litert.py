"""qmpc's cleartext evaluator against LiteRT, bit for bit.

The oracle is LiteRT 2.3's builtin kernels without the default XNNPACK delegate
(OpResolverType.BUILTIN_WITHOUT_DEFAULT_DELEGATES), one thread: qmpc reproduces their
integer arithmetic, including the rounding of their x86 vector paths. (XNNPACK rounds
differently; tools/refdump/compare_resolvers.py measures by how much.)

* every model of tests/gen_models.py and every real model in ../shared/models: random
  inputs over the full integer range, several seeds, outputs must be equal (same dtype);
* the published expectations for real images: coral MobileNets on cat.bmp (label in the
  top 3 above a score threshold) and tflm person_detect on person.bmp / no_person.bmp.
"""
from __future__ import annotations

import numpy as np
import pytest

qmpc = pytest.importorskip("qmpc")
interp = pytest.importorskip("ai_edge_litert.interpreter")

import gen_models  # noqa: E402  (tests/ is on sys.path via conftest.py's rootdir)
import images  # noqa: E402

SEEDS = (0, 1, 2)

# Real models (LSTM/SVDF models would be excluded; none of these has them).
SHARED = [
    "coral/mobilenet_v1_0.25_128_quant.tflite",
    "coral/mobilenet_v1_0.5_160_quant.tflite",
    "coral/mobilenet_v1_0.75_192_quant.tflite",
    "coral/mobilenet_v1_1.0_224_quant_embedding_extractor.tflite",
    "coral/mobilenet_quant_v1_224_head_layers.tflite",
    "coral/mobilenet_v2_1.0_224_quant.tflite",
    "coral/tf2_mobilenet_v2_1.0_224_ptq.tflite",
    "coral_2020/mobilenet_v1_0.25_128_quant.tflite",
    "tflm/person_detect.tflite",
    "tflm/hello_world_int8.tflite",
]


def fix_for_litert(data: bytes) -> bytes:
    """LiteRT rejects per-axis quantization whose quantized_dimension is out of range for
    the tensor (tflm/person_detect's 1-D biases say 3); TFLM and qmpc accept it. Reset
    those to 0 for LiteRT only (the bias values are unchanged)."""
    import flatbuffers
    import ai_edge_litert.schema_py_generated as fb

    mt = fb.ModelT.InitFromObj(fb.Model.GetRootAsModel(data, 0))
    changed = False
    for sg in mt.subgraphs:
        for t in sg.tensors:
            q = t.quantization
            if q is not None and t.shape is not None and q.quantizedDimension and q.quantizedDimension >= len(t.shape):
                q.quantizedDimension = 0
                changed = True
    if not changed:
        return data
    b = flatbuffers.Builder(len(data) + 1024)
    b.Finish(mt.Pack(b), file_identifier=b"TFL3")
    return bytes(b.Output())


def litert(data: bytes):
    it = interp.Interpreter(
        model_content=fix_for_litert(data),
        experimental_op_resolver_type=interp.OpResolverType.BUILTIN_WITHOUT_DEFAULT_DELEGATES,
        num_threads=1,
    )
    it.allocate_tensors()
    return it


def litert_run(it, xs):
    for d, x in zip(it.get_input_details(), xs):
        it.set_tensor(d["index"], x)
    it.invoke()
    return [it.get_tensor(d["index"]).copy() for d in it.get_output_details()]


def random_inputs(it, seed):
    rng = np.random.default_rng(seed)
    xs = []
    for d in it.get_input_details():
        dt = np.dtype(d["dtype"])
        shape = tuple(d["shape"])
        if dt.kind in "iu":
            info = np.iinfo(dt)
            xs.append(rng.integers(info.min, int(info.max) + 1, size=shape, dtype=np.int64).astype(dt))
        else:  # float input: span a bit more than the quantized range, to exercise clamping
            scale, zp = d["quantization"]
            scale = scale or 0.05
            xs.append(rng.uniform((-129 - zp) * scale * 1.1, (128 - zp) * scale * 1.1, size=shape).astype(dt))
    return xs


def qmpc_run(m, xs):
    y = m.run(xs if len(xs) > 1 else xs[0])
    return y if isinstance(y, list) else [y]


def check_equal(data: bytes, seeds=SEEDS):
    it = litert(data)
    m = qmpc.load(data)
    for seed in seeds:
        xs = random_inputs(it, seed)
        want = litert_run(it, xs)
        got = qmpc_run(m, xs)
        assert len(got) == len(want)
        for k, (g, w) in enumerate(zip(got, want)):
            assert g.dtype == w.dtype, f"seed {seed} output {k}: dtype {g.dtype}, LiteRT {w.dtype}"
            assert g.shape == w.shape, f"seed {seed} output {k}: shape {g.shape}, LiteRT {w.shape}"
            if not np.array_equal(g, w):
                diff = np.abs(g.astype(np.float64) - w.astype(np.float64))
                pytest.fail(f"seed {seed} output {k}: {int((diff != 0).sum())} of {w.size} elements "
                            f"differ from LiteRT (max |diff| {diff.max()})")


def _generated():
    try:
        return gen_models.generate()
    except ImportError as e:  # TensorFlow absent: nothing to convert with
        return [("unavailable", e)]


GENERATED = _generated()


@pytest.mark.parametrize("name,data", GENERATED, ids=[n for n, _ in GENERATED])
def test_generated_model(name, data):
    if isinstance(data, Exception):
        pytest.skip(f"cannot generate models: {data}")
    check_equal(data)


@pytest.mark.parametrize("rel", SHARED)
def test_shared_model(shared_model, rel):
    check_equal(shared_model(rel).read_bytes(), seeds=(0, 1))


def test_chained_mobilenet_v1_1_0_224(shared_model):
    """embedding_extractor followed by head_layers is MobileNetV1 1.0_224; the chain must
    equal LiteRT's chain (the seam tensor has the same scale and zero point)."""
    emb = shared_model("coral/mobilenet_v1_1.0_224_quant_embedding_extractor.tflite").read_bytes()
    head = shared_model("coral/mobilenet_quant_v1_224_head_layers.tflite").read_bytes()
    x = images.coral_input(shared_model("coral/grace_hopper.bmp"), 224, 224)
    e_it, h_it = litert(emb), litert(head)
    want = litert_run(h_it, litert_run(e_it, [x]))[0]
    mid = qmpc.load(emb).run(x)
    got = qmpc.load(head).run(mid.reshape(h_it.get_input_details()[0]["shape"]))
    assert np.array_equal(got, want)
    # Weak label check (EXPECTED_OUTPUTS.md section E): military uniform in the top 5.
    assert 653 in np.argsort(got[0])[::-1][:5]


CORAL_CAT = [
    # model, input size, expected label (top 3), score threshold (libcoral model_test_cases)
    ("coral/mobilenet_v1_0.25_128_quant.tflite", 128, 283, 0.25),
    ("coral/mobilenet_v1_0.5_160_quant.tflite", 160, 286, 0.51),
    ("coral/mobilenet_v1_0.75_192_quant.tflite", 192, 283, 0.35),
]


@pytest.mark.parametrize("rel,size,label,threshold", CORAL_CAT, ids=[c[0].split("/")[1] for c in CORAL_CAT])
def test_coral_mobilenet_on_cat(shared_model, rel, size, label, threshold):
    data = shared_model(rel).read_bytes()
    x = images.coral_input(shared_model("coral/cat.bmp"), size, size)
    m = qmpc.load(data)
    y = m.run(x)
    assert np.array_equal(y, litert_run(litert(data), [x])[0])
    out = m.outputs[0]
    scores = (y[0].astype(np.float64) - out.zero_point) * out.scale
    top3 = [int(i) for i in np.argsort(scores, kind="stable")[::-1][:3] if scores[i] >= threshold]
    assert label in top3, f"top-3 above {threshold}: {[(i, scores[i]) for i in top3]}"


@pytest.mark.parametrize("image,winner", [("tflm/person.bmp", 1), ("tflm/no_person.bmp", 0)])
def test_person_detect(shared_model, image, winner):
    data = shared_model("tflm/person_detect.tflite").read_bytes()
    x = images.person_detect_input(shared_model(image))
    y = qmpc.load(data).run(x)
    assert np.array_equal(y, litert_run(litert(data), [x])[0])
    assert int(np.argmax(y[0])) == winner, f"scores {y[0]}"


def test_resize_numpy_matches_litert(shared_model):
    img = images.read_rgb(shared_model("coral/cat.bmp"))
    for size in (128, 160, 192, 224):
        assert np.array_equal(images.resize_bilinear_litert(img, size, size), images.resize_bilinear(img, size, size))
