"""Keras models whose 8-bit activations run on shares as lookup tables (issue 10): a
HARD_SWISH, a LOGISTIC and a TANH in the middle of the graph. Converted like
tests/gen_keras_defaults.py (the converter's defaults, full-integer quantization, int8
input and output), random weights, fixed seeds. keras.applications.MobileNetV3Small
(HARD_SWISH, squeeze-excitation) moved to tests/gen_keras_apps.py.

  se_block          Conv2D -> Activation("hard_swish") -> squeeze-excitation (global
                    average pool, 1x1 Conv2D with sigmoid: LOGISTIC) -> Multiply (MUL of
                    two activations) -> 1x1 Conv2D, 8x8x3 input
  tanh_mid          Dense -> Activation("tanh") -> Dense: a TANH in the middle (16 inputs)
  tanh_a<amp>       Activation("tanh") on the int8 input itself (256 values, so a test can
                    feed every input value), calibrated on inputs of standard deviation
                    <amp>: input scales from 1/64 to 1/4 or so, where tanh goes from nearly
                    linear to saturated

generate() returns [(name, tflite_bytes)], cached in tests/_generated/keras_lut/<key>/.
"""
from __future__ import annotations

import hashlib
import os

import gen_keras_defaults

HERE = os.path.dirname(os.path.abspath(__file__))
CACHE_ROOT = os.path.join(HERE, "_generated", "keras_lut")


def _cases():
    import keras
    from keras import layers as L

    def se_block():
        inp = keras.Input((8, 8, 3))
        x = L.Conv2D(8, 3, padding="same")(inp)
        x = L.Activation("hard_swish")(x)
        s = L.GlobalAveragePooling2D(keepdims=True)(x)
        s = L.Conv2D(8, 1, activation="sigmoid")(s)
        x = L.Multiply()([x, s])
        return keras.Model(inp, L.Conv2D(4, 1)(x))

    def tanh_mid():
        inp = keras.Input((16,))
        x = L.Dense(24, activation="tanh")(inp)
        return keras.Model(inp, L.Dense(6)(x))

    def tanh_only():
        inp = keras.Input((256,))
        return keras.Model(inp, L.Activation("tanh")(inp))

    cases = [("keras_se_block", se_block, 1.0), ("keras_tanh_mid", tanh_mid, 1.0)]
    cases += [(f"keras_tanh_a{amp:g}", tanh_only, amp) for amp in TANH_AMPLITUDES]
    return cases


# Standard deviations of the representative data of the TANH-only models.
TANH_AMPLITUDES = (0.3, 1.0, 3.0, 10.0)


def _key():
    h = hashlib.sha256(open(__file__, "rb").read())
    h.update(gen_keras_defaults._key().encode())  # the TensorFlow version, the converter settings
    return h.hexdigest()[:16]


def generate():
    """Returns [(name, tflite_bytes)], converting what is not cached yet."""
    d = os.path.join(CACHE_ROOT, _key())
    index = os.path.join(d, "INDEX")
    if os.path.exists(index):
        names = open(index).read().split()
        return [(n, open(os.path.join(d, n + ".tflite"), "rb").read()) for n in names]
    os.makedirs(d, exist_ok=True)
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    import keras

    out = []
    for i, (name, build, amp) in enumerate(_cases()):
        keras.utils.set_random_seed(3000 + i)
        data = gen_keras_defaults._convert(build(), "i8", seed=i, amplitude=amp)
        with open(os.path.join(d, name + ".tflite"), "wb") as f:
            f.write(data)
        out.append((name, data))
    with open(index, "w") as f:
        f.write("\n".join(n for n, _ in out) + "\n")
    return out
