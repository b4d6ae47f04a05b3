"""keras.applications models as a TensorFlow user has them, converted with the converter's
defaults (issue 10's acceptance): random weights (``weights=None``, nothing downloaded),
fixed seeds, the smallest input each application accepts, dynamic batch, full-integer
quantization with a seeded representative dataset (tests/gen_keras_defaults.py's
``_convert``: ``optimizations=[DEFAULT]``, no ``supported_ops``). Flavours: ``i8`` (int8
input and output) and ``f32`` (float input and output; the converter adds QUANTIZE and
DEQUANTIZE).

Two departures from ``weights=None`` as it comes, so that the outputs say something:
``classifier_activation=None`` (the classifier's logits are the output; with SOFTMAX over
1000 classes and random weights every quantized probability is the same, and a comparison
of outputs would test nothing), and random BatchNormalization statistics (gamma, beta,
moving mean and variance, seeded): with the initial ones (identity) the logits of
MobileNetV2/V3 have a standard deviation of ~1e-11 and quantize to one value. With both,
each model's int8 output takes over 100 distinct values on one random image (the tests
check that it takes at least 20).

  mobilenet_v2_035_32      MobileNetV2(alpha=0.35, input_shape=(32, 32, 3)): ReLU6,
                           residual ADDs, MEAN, FULLY_CONNECTED
  mobilenet_v3_small_32    MobileNetV3Small(input_shape=(32, 32, 3)): HARD_SWISH,
                           squeeze-excitation (MEAN, hard sigmoid as ADD + ReLU6 + MUL by a
                           constant, MUL of two activations)
  mobilenet_v3_large_32    MobileNetV3Large(input_shape=(32, 32, 3))
  resnet50_32              ResNet50(input_shape=(32, 32, 3)): PAD, MAX_POOL_2D, 53
                           CONV_2D, residual ADDs (25.6 M parameters)
  efficientnet_b0_32       EfficientNetB0(input_shape=(32, 32, 3)): swish (LOGISTIC and
                           MUL of two activations), squeeze-excitation; converts to builtin
                           int8 ops only
  efficientnet_lite_32     a hand-built EfficientNet-lite-like net (no such application in
                           Keras): stem conv, MBConv blocks (1x1 expand, 3x3/5x5 depthwise,
                           1x1 project, BatchNormalization, ReLU6, residual ADD, no
                           squeeze-excitation), 1x1 head, global average pool, Dense

CI converts the flavours in DEFAULT (EfficientNetB0 and the float-I/O MobileNetV3Large and
ResNet50 are left out: about 2.5 minutes of conversion on two cores the first time, then
cached); QMPC_KERAS_APPS=all converts every model in both flavours (about 6 minutes).

generate() returns [(name, tflite_bytes)], cached in tests/_generated/keras_apps/<key>/
(key: this file's source, the TensorFlow version and the selection).
"""
from __future__ import annotations

import hashlib
import os
import sys
import time

import gen_keras_defaults

HERE = os.path.dirname(os.path.abspath(__file__))
CACHE_ROOT = os.path.join(HERE, "_generated", "keras_apps")

# Flavours converted by default: float I/O where the conversion is cheap.
DEFAULT = {
    "mobilenet_v2_035_32": ("i8", "f32"),
    "mobilenet_v3_small_32": ("i8", "f32"),
    "mobilenet_v3_large_32": ("i8",),
    "resnet50_32": ("i8",),
    "efficientnet_lite_32": ("i8", "f32"),
}


def _efficientnet_lite():
    import keras
    from keras import layers as L

    def bn_relu6(x):
        return L.ReLU(6.0)(L.BatchNormalization()(x))

    def mbconv(x, cout, k, stride, expand):
        cin = x.shape[-1]
        h = x
        if expand != 1:
            h = bn_relu6(L.Conv2D(cin * expand, 1, use_bias=False)(h))
        h = bn_relu6(L.DepthwiseConv2D(k, stride, padding="same", use_bias=False)(h))
        h = L.BatchNormalization()(L.Conv2D(cout, 1, use_bias=False)(h))
        return L.Add()([h, x]) if stride == 1 and cin == cout else h

    inp = keras.Input((32, 32, 3))
    x = bn_relu6(L.Conv2D(16, 3, 2, padding="same", use_bias=False)(inp))
    x = mbconv(x, 8, 3, 1, 1)
    x = mbconv(x, 12, 3, 2, 6)
    x = mbconv(x, 12, 3, 1, 6)
    x = mbconv(x, 20, 5, 2, 6)
    x = mbconv(x, 20, 5, 1, 6)
    x = mbconv(x, 40, 3, 2, 6)
    x = bn_relu6(L.Conv2D(64, 1, use_bias=False)(x))
    x = L.GlobalAveragePooling2D()(x)
    return keras.Model(inp, L.Dense(10)(x))


randomize_batchnorm = gen_keras_defaults.randomize_batchnorm


def _cases():
    import keras

    apps = keras.applications
    kw = dict(input_shape=(32, 32, 3), weights=None, classifier_activation=None)
    return [
        ("mobilenet_v2_035_32", lambda: apps.MobileNetV2(alpha=0.35, **kw)),
        ("mobilenet_v3_small_32", lambda: apps.MobileNetV3Small(**kw)),
        ("mobilenet_v3_large_32", lambda: apps.MobileNetV3Large(**kw)),
        ("resnet50_32", lambda: apps.ResNet50(**kw)),
        ("efficientnet_b0_32", lambda: apps.EfficientNetB0(**kw)),
        ("efficientnet_lite_32", _efficientnet_lite),
    ]


ALL = ("mobilenet_v2_035_32", "mobilenet_v3_small_32", "mobilenet_v3_large_32", "resnet50_32",
       "efficientnet_b0_32", "efficientnet_lite_32")


def _selection():
    if os.environ.get("QMPC_KERAS_APPS") == "all":
        return {name: ("i8", "f32") for name in ALL}
    return DEFAULT


def _key(selection):
    h = hashlib.sha256(open(__file__, "rb").read())
    h.update(gen_keras_defaults._key().encode())  # the TensorFlow version, the converter settings
    h.update(repr(sorted(selection.items())).encode())
    return h.hexdigest()[:16]


def generate(verbose=False):
    """Returns [("keras_<case>_<flavour>", tflite_bytes)], converting what is not cached."""
    sel = _selection()
    d = os.path.join(CACHE_ROOT, _key(sel))
    index = os.path.join(d, "INDEX")
    if os.path.exists(index):
        names = open(index).read().split()
        return [(n, open(os.path.join(d, n + ".tflite"), "rb").read()) for n in names]
    os.makedirs(d, exist_ok=True)
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    import keras

    out = []
    for i, (base, build) in enumerate(_cases()):
        if base not in sel:
            continue
        keras.utils.set_random_seed(4000 + i)
        model = randomize_batchnorm(build(), seed=4000 + i)
        for fl in sel[base]:
            t0 = time.time()
            data = gen_keras_defaults._convert(model, fl, seed=i)
            name = f"keras_{base}_{fl}"
            if verbose:
                print(f"{name}: {len(data)} bytes, {time.time() - t0:.1f}s", file=sys.stderr)
            with open(os.path.join(d, name + ".tflite"), "wb") as f:
                f.write(data)
            out.append((name, data))
    with open(index, "w") as f:
        f.write("\n".join(n for n, _ in out) + "\n")
    return out


RESNET50_224 = "keras_resnet50_224_i8"


def resnet50_224(verbose=False):
    """keras.applications.ResNet50 at its full input size, 224x224 (issue 10's benchmark
    model): the same recipe as resnet50_32 (random weights, seed 4003, random BatchNorm
    statistics, logits, converter defaults, int8 I/O), about 1.5 minutes of conversion on two
    cores the first time. Returns the TFLite bytes, cached in
    tests/_generated/keras_apps/<key>/keras_resnet50_224_i8.tflite (written there for
    ``qmpc bench`` too; ``python tests/gen_keras_apps.py resnet50_224`` prints the path)."""
    return open(resnet50_224_path(verbose), "rb").read()


def resnet50_224_path(verbose=False):
    """The cached file's path (converted first if absent)."""
    sel = {"resnet50_224": ("i8",)}
    d = os.path.join(CACHE_ROOT, _key(sel))
    path = os.path.join(d, RESNET50_224 + ".tflite")
    if os.path.exists(path):
        return path
    os.makedirs(d, exist_ok=True)
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    import keras

    i = ALL.index("resnet50_32")
    keras.utils.set_random_seed(4000 + i)
    model = randomize_batchnorm(keras.applications.ResNet50(
        input_shape=(224, 224, 3), weights=None, classifier_activation=None), seed=4000 + i)
    t0 = time.time()
    data = gen_keras_defaults._convert(model, "i8", seed=i)
    if verbose:
        print(f"{RESNET50_224}: {len(data)} bytes, {time.time() - t0:.1f}s", file=sys.stderr)
    with open(path + ".tmp", "wb") as f:
        f.write(data)
    os.replace(path + ".tmp", path)
    return path


if __name__ == "__main__":
    if sys.argv[1:] == ["resnet50_224"]:
        print(resnet50_224_path(verbose=True))
        sys.exit(0)
    t0 = time.time()
    ms = generate(verbose=True)
    print(f"{len(ms)} models in {time.time() - t0:.1f}s", file=sys.stderr)
