"""The Python API: loading, metadata, cleartext runs, errors, CLI.

Oracles: LiteRT's interpreter with the builtin kernels (OpResolverType
BUILTIN_WITHOUT_DEFAULT_DELEGATES, so no XNNPACK delegate) for outputs and metadata; the
TFLite QUANTIZE formula written out in numpy for float inputs.
"""

from __future__ import annotations

import importlib.util
import json
import subprocess
import sys
import textwrap
import threading
import warnings
from pathlib import Path

import numpy as np
import pytest

import qmpc
from qmpc import _bridge, errors

litert = pytest.importorskip("ai_edge_litert.interpreter")


def litert_interpreter(model: bytes | Path):
    kw = {"model_content": model} if isinstance(model, bytes) else {"model_path": str(model)}
    interp = litert.Interpreter(
        **kw, experimental_op_resolver_type=litert.OpResolverType.BUILTIN_WITHOUT_DEFAULT_DELEGATES
    )
    interp.allocate_tensors()
    return interp


def litert_run(interp, inputs: list[np.ndarray]) -> list[np.ndarray]:
    for d, x in zip(interp.get_input_details(), inputs):
        interp.set_tensor(d["index"], x)
    interp.invoke()
    return [interp.get_tensor(d["index"]).copy() for d in interp.get_output_details()]


def assert_info_matches(info: qmpc.TensorInfo, detail: dict) -> None:
    assert info.name == detail["name"]
    assert info.shape == tuple(int(x) for x in detail["shape"])
    assert info.dtype == detail["dtype"]
    scale, zero_point = detail["quantization"]
    assert np.float32(info.scale) == np.float32(scale)
    assert info.zero_point == zero_point


@pytest.fixture(scope="module")
def digits(digits_model: Path) -> qmpc.Model:
    return qmpc.load(digits_model)


@pytest.fixture(scope="module")
def digits_data(repo_root: Path) -> tuple[np.ndarray, np.ndarray]:
    d = repo_root / "examples" / "digits"
    return np.load(d / "test_images.npy"), np.load(d / "test_labels.npy")


# Tiny models made with Keras + the TFLite converter, in a subprocess (TensorFlow stays out
# of the test process), cached in tests/_generated.
GENERATOR = textwrap.dedent(
    """
    import os, sys
    os.environ["TF_CPP_MIN_LOG_LEVEL"] = "3"
    import numpy as np, tensorflow as tf

    out = sys.argv[1]
    tf.keras.utils.set_random_seed(0)

    def convert(model, shapes):
        def rep():
            rng = np.random.default_rng(0)
            for _ in range(32):
                yield [rng.uniform(-1, 1, s).astype(np.float32) for s in shapes]
        c = tf.lite.TFLiteConverter.from_keras_model(model)
        c.optimizations = [tf.lite.Optimize.DEFAULT]
        c.representative_dataset = rep
        c.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS_INT8]
        c.inference_input_type = tf.int8
        c.inference_output_type = tf.int8
        return c.convert()

    # Unsupported ops: ELU (twice) and EXP, around supported FULLY_CONNECTED layers.
    x = tf.keras.Input(shape=(4,), batch_size=1)
    h = tf.keras.layers.Dense(8)(x)
    h = tf.keras.layers.Activation("elu")(h)
    h = tf.keras.layers.Dense(4)(h)
    h = tf.keras.layers.Lambda(lambda t: tf.math.exp(t))(h)
    h = tf.keras.layers.Dense(3)(h)
    h = tf.keras.layers.Activation("elu")(h)
    data = convert(tf.keras.Model(x, h), [(1, 4)])
    open(os.path.join(out, "api_v2_unsupported.tflite"), "wb").write(data)

    # Two inputs, two outputs: ADD and FULLY_CONNECTED.
    a = tf.keras.Input(shape=(6,), batch_size=1, name="a")
    b = tf.keras.Input(shape=(6,), batch_size=1, name="b")
    s = tf.keras.layers.Add()([a, b])
    y1 = tf.keras.layers.Dense(5, activation="relu", name="dense")(s)
    y2 = tf.keras.layers.Dense(2, name="head")(y1)
    data = convert(tf.keras.Model([a, b], [y1, y2]), [(1, 6), (1, 6)])
    open(os.path.join(out, "api_v1_two_in_two_out.tflite"), "wb").write(data)
    """
)


@pytest.fixture(scope="session")
def generated_models(generated_dir: Path) -> dict[str, Path]:
    names = {
        "unsupported": generated_dir / "api_v2_unsupported.tflite",
        "multi": generated_dir / "api_v1_two_in_two_out.tflite",
    }
    if not all(p.is_file() for p in names.values()):
        if importlib.util.find_spec("tensorflow") is None:  # not importorskip: keep TF out
            pytest.skip("tensorflow is not installed")
        subprocess.run(
            [sys.executable, "-c", GENERATOR, str(generated_dir)], check=True, timeout=600
        )
    return names


# --- loading and metadata ---


def test_version_matches_core() -> None:
    assert qmpc.__version__ == _bridge.core.Version()


@pytest.mark.parametrize("kind", ["str", "path", "bytes", "bytearray", "memoryview"])
def test_load_from_path_and_bytes(digits_model: Path, kind: str) -> None:
    data = digits_model.read_bytes()
    arg = {
        "str": str(digits_model),
        "path": digits_model,
        "bytes": data,
        "bytearray": bytearray(data),
        "memoryview": memoryview(data),
    }[kind]
    m = qmpc.load(arg)
    assert m.format == "tflite"
    assert m.source == (str(digits_model) if kind in ("str", "path") else None)
    assert [t.name for t in m.inputs] == ["serving_default_image:0"]
    assert "tflite" in repr(m)


def test_metadata_matches_litert(digits: qmpc.Model, digits_model: Path) -> None:
    interp = litert_interpreter(digits_model)
    ins, outs = interp.get_input_details(), interp.get_output_details()
    assert len(digits.inputs) == len(ins) and len(digits.outputs) == len(outs)
    for info, d in zip(digits.inputs, ins):
        assert_info_matches(info, d)
    for info, d in zip(digits.outputs, outs):
        assert_info_matches(info, d)
    t = digits.inputs[0]
    assert t.dtype == np.int8 and t.shape == (1, 8, 8, 1) and t.zero_point == -128
    with pytest.raises(AttributeError):
        t.scale = 1.0  # type: ignore[misc]  # frozen


def test_metadata_matches_litert_mobilenet(shared_model) -> None:
    path = shared_model("coral/mobilenet_v1_0.25_128_quant.tflite")
    m = qmpc.load(path)
    interp = litert_interpreter(path)
    for info, d in zip(m.inputs, interp.get_input_details()):
        assert_info_matches(info, d)
    for info, d in zip(m.outputs, interp.get_output_details()):
        assert_info_matches(info, d)
    assert m.inputs[0].dtype == np.uint8 and m.inputs[0].shape == (1, 128, 128, 3)


def test_summary(digits: qmpc.Model) -> None:
    s = digits.summary()
    for want in ["tflite model, 5 ops", "CONV_2D", "MAX_POOL_2D", "RESHAPE", "FULLY_CONNECTED",
                 "serving_default_image:0", "[1,8,8,1]", "zp=-128", "MACs"]:
        assert want in s, s


# --- running ---


def test_run_equals_litert(digits: qmpc.Model, digits_model: Path, digits_data) -> None:
    images, labels = digits_data
    interp = litert_interpreter(digits_model)
    preds = []
    for img in images:
        x = img[np.newaxis]
        got = digits.run(x)
        (want,) = litert_run(interp, [x])
        assert got.dtype == want.dtype and got.shape == want.shape
        np.testing.assert_array_equal(got, want)
        preds.append(int(np.argmax(got)))
    assert np.mean(np.array(preds) == labels) > 0.9


def test_run_output_is_writable_and_independent(digits: qmpc.Model, digits_data) -> None:
    x = digits_data[0][:1]
    y1 = digits.run(x)
    y1[...] = 0
    y2 = digits.run(x)
    assert y2.flags.writeable and y2.any()


def test_run_non_contiguous(digits: qmpc.Model, digits_data) -> None:
    x = digits_data[0][5:6]
    fortran = np.asfortranarray(x)
    strided = np.repeat(x, 2, axis=3)[..., ::2]
    assert not strided.flags.c_contiguous
    want = digits.run(x)
    np.testing.assert_array_equal(digits.run(fortran), want)
    np.testing.assert_array_equal(digits.run(strided), want)
    np.testing.assert_array_equal(digits.run([x]), want)  # a one-element list of arrays


def tflite_quantize(x: np.ndarray, scale: float, zero_point: int, dtype) -> np.ndarray:
    """TFLite's QUANTIZE: round(x / scale) half away from zero, in float32, then clamp."""
    r = x.astype(np.float32) / np.float32(scale)
    r = np.sign(r) * np.floor(np.abs(r) + np.float32(0.5))
    info = np.iinfo(dtype)
    return np.clip(r + zero_point, info.min, info.max).astype(dtype)


def test_float_input_warns_and_quantizes(digits: qmpc.Model) -> None:
    t = digits.inputs[0]
    rng = np.random.default_rng(1)
    x = rng.uniform(-0.1, 1.1, t.shape).astype(np.float32)
    # Values exactly half-way between two steps check the rounding direction.
    x.flat[:4] = np.float32(t.scale) * np.array([0.5, 1.5, 2.5, -0.5], np.float32)
    with pytest.warns(UserWarning, match=r"float32 input quantized to int8 .*zero_point=-128"):
        got = digits.run(x)
    want = digits.run(tflite_quantize(x, t.scale, t.zero_point, np.int8))
    np.testing.assert_array_equal(got, want)
    with pytest.warns(UserWarning):  # float64 is taken as float32
        np.testing.assert_array_equal(digits.run(x.astype(np.float64)), want)


def test_exact_input_does_not_warn(digits: qmpc.Model, digits_data) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        digits.run(digits_data[0][:1])


def test_multi_input_multi_output(generated_models) -> None:
    path = generated_models["multi"]
    m = qmpc.load(path)
    interp = litert_interpreter(path)
    assert len(m.inputs) == 2 and len(m.outputs) == 2
    for info, d in zip(m.inputs, interp.get_input_details()):
        assert_info_matches(info, d)
    for info, d in zip(m.outputs, interp.get_output_details()):
        assert_info_matches(info, d)
    rng = np.random.default_rng(2)
    xs = [rng.integers(-128, 128, t.shape, dtype=np.int8) for t in m.inputs]
    want = litert_run(interp, xs)
    got = m.run(xs)
    assert isinstance(got, list) and len(got) == 2
    for g, w in zip(got, want):
        np.testing.assert_array_equal(g, w)
    by_name = m.run({t.name: x for t, x in zip(m.inputs, xs)})
    for g, w in zip(by_name, want):
        np.testing.assert_array_equal(g, w)
    with pytest.raises(ValueError, match="missing"):
        m.run({m.inputs[0].name: xs[0]})
    with pytest.raises(qmpc.ShapeError, match="2 input"):
        m.run([xs[0]])


def test_concurrent_runs(digits: qmpc.Model, digits_data) -> None:
    images = digits_data[0][:40]
    want = [digits.run(img[np.newaxis]) for img in images]
    got: dict[int, list[np.ndarray]] = {}

    def work(k: int) -> None:
        got[k] = [digits.run(img[np.newaxis]) for img in images]

    threads = [threading.Thread(target=work, args=(k,)) for k in range(4)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    for k in range(4):
        for g, w in zip(got[k], want):
            np.testing.assert_array_equal(g, w)


# --- errors ---


def test_wrong_shape(digits: qmpc.Model) -> None:
    with pytest.raises(qmpc.ShapeError) as e:
        digits.run(np.zeros((8, 8, 1), np.int8))
    msg = str(e.value)
    assert "expected shape (1, 8, 8, 1)" in msg and "got (8, 8, 1)" in msg, msg
    assert "serving_default_image:0" in msg
    assert isinstance(e.value, ValueError) and isinstance(e.value, qmpc.QmpcError)
    assert not msg.startswith("qmpc:") and "qmpc-details" not in msg


def test_wrong_dtype(digits: qmpc.Model) -> None:
    with pytest.raises(qmpc.DTypeError) as e:
        digits.run(np.zeros((1, 8, 8, 1), np.uint8))
    msg = str(e.value)
    assert "expected dtype int8" in msg and "got uint8" in msg, msg
    assert isinstance(e.value, TypeError)
    with pytest.raises(qmpc.DTypeError, match="got int64"):
        digits.run(np.zeros((1, 8, 8, 1), np.int64).tolist())
    with pytest.raises(qmpc.DTypeError, match="complex64"):
        digits.run(np.zeros((1, 8, 8, 1), np.complex64))


def test_nan_input(digits: qmpc.Model) -> None:
    x = np.zeros((1, 8, 8, 1), np.float32)
    x[0, 3, 3, 0] = np.nan
    with pytest.raises(qmpc.DTypeError, match="NaN"):
        digits.run(x)


def test_truncated_file(digits_model: Path) -> None:
    data = digits_model.read_bytes()
    for n in [8, 16, 100, len(data) // 2, len(data) - 1]:
        with pytest.raises(qmpc.ModelError):
            qmpc.load(data[:n])


def test_garbage_and_empty(tmp_path: Path) -> None:
    rng = np.random.default_rng(3)
    for data in [b"x", b"not a model at all", rng.bytes(5000), b"\0" * 64]:
        with pytest.raises(qmpc.ModelError, match="unrecognized model format|malformed|tflite"):
            qmpc.load(data)
    for empty in [b"", bytearray(), memoryview(b"")]:
        with pytest.raises(qmpc.ModelError, match="empty"):
            qmpc.load(empty)
    p = tmp_path / "empty.tflite"
    p.write_bytes(b"")
    with pytest.raises(qmpc.ModelError, match="empty"):
        qmpc.load(p)
    with pytest.raises(FileNotFoundError):
        qmpc.load(tmp_path / "missing.tflite")
    with pytest.raises(TypeError):
        qmpc.load(123)  # type: ignore[arg-type]


def test_garbage_with_tflite_identifier(digits_model: Path) -> None:
    # Keep the identifier, corrupt everything else: must be an error, never a crash.
    data = bytearray(digits_model.read_bytes())
    rng = np.random.default_rng(4)
    for _ in range(20):
        bad = bytearray(data)
        idx = rng.integers(0, len(bad), 64)
        bad[8:] = bytes(rng.integers(0, 256, len(bad) - 8, dtype=np.uint8)) if _ % 5 == 0 else bad[8:]
        for i in idx:
            if i >= 8:
                bad[i] = int(rng.integers(0, 256))
        try:
            qmpc.load(bytes(bad))
        except qmpc.QmpcError:
            pass


def test_unsupported_ops_listed_all_at_once(generated_models) -> None:
    with pytest.raises(qmpc.UnsupportedOpError) as e:
        qmpc.load(generated_models["unsupported"])
    assert e.value.ops == ["ELU", "EXP"]
    assert "ELU (2)" in str(e.value) and "EXP (1)" in str(e.value)
    assert isinstance(e.value, qmpc.ModelError)


def test_onnx_dispatch_by_contents() -> None:
    """An ONNX file is recognised by its contents and given to the ONNX importer, which
    rejects this float-only graph with a typed error (its own tests cover real models)."""
    pytest.importorskip("onnx")
    import onnx
    from onnx import TensorProto, helper

    g = helper.make_graph(
        [helper.make_node("Relu", ["x"], ["y"])],
        "g",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1])],
    )
    data = helper.make_model(g).SerializeToString()
    with pytest.raises(qmpc.ModelError, match="ONNX|onnx|Relu"):
        qmpc.load(data)
    del onnx


@pytest.mark.parametrize(
    "message, cls, text, details",
    [
        ("qmpc:shape: input 0: bad", qmpc.ShapeError, "input 0: bad", {}),
        ("conv \"c\": qmpc:dtype: x", qmpc.DTypeError, 'conv "c": x', {}),
        ("a: qmpc:party: peer 1: qmpc:cancelled: stop", qmpc.PartyError, "a: peer 1: qmpc:cancelled: stop", {}),
        ("qmpc:config: c\nqmpc-details: {\"kind\": \"config\"}", qmpc.ConfigError, "c", {"kind": "config"}),
        ("qmpc:cancelled: by user", qmpc.CancelledError, "by user", {}),
        ("verify: qmpc:cheating: MAC check failed", qmpc.CheatingDetected, "verify: MAC check failed", {}),
        ("qmpc:model: m", qmpc.ModelError, "m", {}),
        ("plain Go error", qmpc.QmpcError, "plain Go error", {}),
        ("qmpc:internal: panic: boom", qmpc.QmpcError, "panic: boom", {}),
        ("qmpc:some-new-kind: z", qmpc.QmpcError, "z", {}),
        (
            "tflite: qmpc:unsupported-op: unsupported ops: A (1), B(x) (2)\nqmpc-details: "
            '{"kind":"unsupported-op","ops":["A","B(x)"]}',
            qmpc.UnsupportedOpError,
            "tflite: unsupported ops: A (1), B(x) (2)",
            {"kind": "unsupported-op", "ops": ["A", "B(x)"]},
        ),
    ],
)
def test_error_mapping(message: str, cls: type, text: str, details: dict) -> None:
    e = errors.from_go_message(message)
    assert type(e) is cls
    assert str(e) == text
    assert e.details == details
    assert isinstance(e, RuntimeError)


def test_unsupported_ops_parsed_without_details() -> None:
    e = errors.from_go_message("qmpc:unsupported-op: unsupported ops: LSTM (2), EXP (1)")
    assert isinstance(e, qmpc.UnsupportedOpError) and e.ops == ["LSTM", "EXP"]


# --- the gopy boundary ---


def test_bridge_byte_guards() -> None:
    assert _bridge.from_go(_bridge.go.Slice_byte()) == b""
    for data in [b"abc", bytearray(b"abc"), memoryview(b"abc")]:
        assert _bridge.from_go(_bridge.to_go(data)) == b"abc"
    with pytest.raises(ValueError):
        _bridge.to_go(b"")


def test_pack_unpack_round_trip() -> None:
    arrays = [
        np.arange(6, dtype=np.uint8).reshape(2, 3),
        np.array(-5, np.int32),
        np.zeros((0, 3), np.int8),
        np.arange(4, dtype=">i4"),  # big-endian: packed as little-endian
    ]
    got, warns = _bridge.unpack(_bridge.pack(arrays))
    assert warns == []
    for g, a in zip(got, arrays):
        assert g.shape == a.shape and g.dtype == a.dtype.newbyteorder("=")
        np.testing.assert_array_equal(g, a)


def run_python(code: str, cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-c", code], cwd=cwd, capture_output=True, text=True, timeout=120
    )


def test_import_keeps_cwd(tmp_path: Path) -> None:
    r = run_python("import os; b = os.getcwd(); import qmpc; assert os.getcwd() == b, os.getcwd()", tmp_path)
    assert r.returncode == 0, r.stderr
    gone = tmp_path / "gone"
    gone.mkdir()
    code = f"import os; os.chdir({str(gone)!r}); os.rmdir({str(gone)!r}); import qmpc; print(qmpc.__version__)"
    r = run_python(code, tmp_path)
    assert r.returncode == 0 and r.stdout.strip() == qmpc.__version__, r.stderr


# --- command line ---


def test_cli_inspect(digits_model: Path, tmp_path: Path) -> None:
    r = subprocess.run([sys.executable, "-m", "qmpc", "inspect", str(digits_model)],
                       capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    assert "CONV_2D" in r.stdout and "[1,8,8,1]" in r.stdout

    r = subprocess.run([sys.executable, "-m", "qmpc", "inspect", "--json", str(digits_model)],
                       capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    info = json.loads(r.stdout)
    assert info["inputs"][0]["shape"] == [1, 8, 8, 1] and info["inputs"][0]["dtype"] == "int8"

    bad = tmp_path / "bad.tflite"
    bad.write_bytes(b"garbage!")
    r = subprocess.run([sys.executable, "-m", "qmpc", "inspect", str(bad)],
                       capture_output=True, text=True, timeout=120)
    assert r.returncode == 1 and "ModelError" in r.stderr and "Traceback" not in r.stderr


def test_console_script(digits_model: Path) -> None:
    exe = Path(sys.executable).parent / "qmpc"
    if not exe.exists():
        pytest.skip("qmpc console script not installed next to this python")
    r = subprocess.run([str(exe), "inspect", str(digits_model)], capture_output=True, text=True, timeout=120)
    assert r.returncode == 0 and "FULLY_CONNECTED" in r.stdout, r.stderr
    r = subprocess.run([str(exe), "--version"], capture_output=True, text=True, timeout=60)
    assert r.stdout.strip() == f"qmpc {qmpc.__version__}"
