"""Keras models as a TensorFlow user first writes them, converted with the converter's defaults.

Unlike tests/gen_models.py, no model here fixes ``batch_size=1``: the batch dimension is
dynamic, so the converter computes RESHAPE's shape with SHAPE -> STRIDED_SLICE -> PACK
(Keras' Flatten and Reshape), which qmpc folds at import. The converter settings are the
defaults plus what full-integer quantization needs: ``optimizations=[DEFAULT]`` and a
representative dataset; no ``supported_ops``. Two flavours:

  i8   inference_input_type = inference_output_type = tf.int8
  f32  float inputs and outputs (the converter adds QUANTIZE / DEQUANTIZE)

Cases (random weights, fixed seeds):

  seq        Sequential: Conv2D, ReLU, MaxPooling2D, Flatten, Dense (12x12x3 input)
  mobilenet  keras.applications.MobileNet(alpha=0.25, input_shape=(96, 96, 3),
             weights=None, classifier_activation=None) with random BatchNormalization
             statistics: the smallest input the application accepts keeps CI fast; the
             logits are the output (a SOFTMAX over 1000 classes of a random network, and
             identity BatchNormalization, gave one constant output value)
  nchw       a PyTorch-style NCHW input transposed to NHWC (TRANSPOSE), then slices with
             strides (STRIDED_SLICE), a channel split (SPLIT), a stack and unstack
             (PACK/UNPACK), a channel gather with constant indices (GATHER),
             SPACE_TO_DEPTH and DEPTH_TO_SPACE around a 1x1 convolution, and a transpose
             back to NCHW at the output

generate() returns [(name, tflite_bytes)], cached in tests/_generated/keras_defaults/<key>/
(key: this file's source and the TensorFlow version).
"""
from __future__ import annotations

import hashlib
import os
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
CACHE_ROOT = os.path.join(HERE, "_generated", "keras_defaults")
FLAVOURS = ("i8", "f32")


def _cases():
    import keras
    import tensorflow as tf
    from keras import layers as L
    from keras import ops as K

    def rnd():
        return dict(kernel_initializer="glorot_uniform",
                    bias_initializer=keras.initializers.RandomNormal(stddev=0.3))

    def seq():
        return keras.Sequential([
            keras.Input((12, 12, 3)),
            L.Conv2D(8, 3, **rnd()),
            L.ReLU(),
            L.MaxPooling2D(2),
            L.Flatten(),
            L.Dense(10, **rnd()),
        ])

    def mobilenet():
        return randomize_batchnorm(keras.applications.MobileNet(
            alpha=0.25, input_shape=(96, 96, 3), weights=None, classifier_activation=None), seed=7)

    def nchw():
        inp = keras.Input((3, 10, 12))
        x = L.Lambda(lambda t: K.transpose(t, (0, 2, 3, 1)))(inp)  # NCHW -> NHWC
        x = L.Conv2D(8, 3, padding="same", activation="relu", **rnd())(x)
        x = L.Lambda(lambda t: t[:, 1:9, ::2, :])(x)  # [N, 8, 6, 8]
        a, b = L.Lambda(lambda t: K.split(t, 2, axis=-1))(x)
        x = L.Lambda(lambda ts: K.stack(ts, axis=1))([a, b])  # [N, 2, 8, 6, 4]
        u, v = L.Lambda(lambda t: K.unstack(t, axis=1))(x)
        x = L.Concatenate()([v, u])
        x = L.Lambda(lambda t: K.take(t, [5, 0, 7, 2, 2, 1], axis=-1))(x)  # [N, 8, 6, 6]
        x = L.Lambda(lambda t: tf.nn.space_to_depth(t, 2))(x)  # [N, 4, 3, 24]
        x = L.Conv2D(8, 1, **rnd())(x)
        x = L.Lambda(lambda t: tf.nn.depth_to_space(t, 2))(x)  # [N, 8, 6, 2]
        x = L.Conv2D(6, 3, **rnd())(x)
        return keras.Model(inp, L.Lambda(lambda t: K.transpose(t, (0, 3, 1, 2)))(x))  # -> NCHW

    return [("keras_seq", seq), ("keras_mobilenet_025_96", mobilenet), ("keras_nchw_transpose", nchw)]


def randomize_batchnorm(model, seed):
    """Gives every BatchNormalization layer random statistics, as a trained network has
    (with weights=None they are the identity, and deep applications' outputs come out
    nearly constant)."""
    import keras
    import numpy as np

    rng = np.random.default_rng(seed)
    for layer in model.layers:
        if isinstance(layer, keras.layers.BatchNormalization):
            c = layer.get_weights()[0].shape
            layer.set_weights([rng.uniform(0.5, 1.5, c).astype(np.float32),  # gamma
                               rng.normal(0, 0.2, c).astype(np.float32),  # beta
                               rng.normal(0, 0.2, c).astype(np.float32),  # moving mean
                               rng.uniform(0.5, 2.0, c).astype(np.float32)])  # moving variance
    return model


def _key():
    from importlib import metadata

    h = hashlib.sha256(open(__file__, "rb").read())
    for dist in ("tensorflow-cpu", "tensorflow"):
        try:
            h.update(metadata.version(dist).encode())
            break
        except metadata.PackageNotFoundError:
            pass
    return h.hexdigest()[:16]


def _convert(model, flavour, seed, amplitude=1.0):
    import numpy as np
    import tensorflow as tf

    shape = (1,) + tuple(model.inputs[0].shape[1:])

    def rep():
        rng = np.random.default_rng(seed)
        for _ in range(16):
            yield [rng.normal(0, amplitude, size=shape).astype(np.float32)]

    c = tf.lite.TFLiteConverter.from_keras_model(model)
    c.optimizations = [tf.lite.Optimize.DEFAULT]
    c.representative_dataset = rep
    if flavour == "i8":
        c.inference_input_type = c.inference_output_type = tf.int8
    return c.convert()


def generate(verbose=False):
    """Returns [(name, tflite_bytes)] for every case and flavour, converting what is not
    cached yet."""
    d = os.path.join(CACHE_ROOT, _key())
    index = os.path.join(d, "INDEX")
    if os.path.exists(index):
        names = open(index).read().split()
        return [(n, open(os.path.join(d, n + ".tflite"), "rb").read()) for n in names]
    if os.path.isdir(CACHE_ROOT):
        import shutil

        for old in os.listdir(CACHE_ROOT):
            shutil.rmtree(os.path.join(CACHE_ROOT, old), ignore_errors=True)
    os.makedirs(d, exist_ok=True)
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    import keras

    out = []
    for i, (base, build) in enumerate(_cases()):
        keras.utils.set_random_seed(2000 + i)
        model = build()
        for fl in FLAVOURS:
            t0 = time.time()
            data = _convert(model, fl, seed=i)
            name = f"{base}_{fl}"
            if verbose:
                print(f"{name}: {len(data)} bytes, {time.time() - t0:.1f}s", file=sys.stderr)
            with open(os.path.join(d, name + ".tflite"), "wb") as f:
                f.write(data)
            out.append((name, data))
    with open(index, "w") as f:
        f.write("\n".join(n for n, _ in out) + "\n")
    return out


if __name__ == "__main__":
    t0 = time.time()
    ms = generate(verbose=True)
    print(f"{len(ms)} models in {time.time() - t0:.1f}s", file=sys.stderr)
