"""Train the bundled demo model: a small CNN on scikit-learn's 8x8 digits, quantized to int8.

Run from the repository root (takes about a minute on two cores)::

    .venv/bin/python examples/digits/train.py

It writes, next to this file:

* ``digits_cnn_int8.tflite`` - the model, converted by ``tf.lite.TFLiteConverter`` with
  full-integer post-training quantization: int8 input ``[1, 8, 8, 1]`` (scale 1/255,
  zero point -128, so ``q = pixel - 128`` for a pixel in 0..255), int8 per-channel weights,
  int32 biases, int8 output ``[1, 10]`` (the logits; no softmax, so the arg-max is the class).
  Ops: CONV_2D (fused RELU), MAX_POOL_2D, RESHAPE, FULLY_CONNECTED. The input and output
  are int8, as in TFLite Micro models, so the graph has no QUANTIZE/DEQUANTIZE ops.
* ``test_images.npy`` - int8 ``[N, 8, 8, 1]``, the held-out images already quantized with
  the model's input parameters (ready for ``Model.run``), and
* ``test_labels.npy`` - int64 ``[N]``, their labels.

The data set is scikit-learn's bundled copy of the UCI optical digits (1797 images, pixel
values 0..16, scaled here to 0..255); nothing is downloaded. Seeds are fixed, but the
converter's output may still differ by a few bytes between TensorFlow versions.
"""

from __future__ import annotations

import os
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np  # noqa: E402
from ai_edge_litert.interpreter import Interpreter, OpResolverType  # noqa: E402
import tensorflow as tf  # noqa: E402
from sklearn.datasets import load_digits  # noqa: E402
from sklearn.model_selection import train_test_split  # noqa: E402

HERE = Path(__file__).resolve().parent
SEED = 0
N_TEST = 300
BUILTIN_REF = OpResolverType.BUILTIN_WITHOUT_DEFAULT_DELEGATES


def load_data() -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Return (x_train, x_test, y_train, y_test); images are float32 [N,8,8,1] in [0,1]."""
    digits = load_digits()
    pixels = np.round(digits.images * (255.0 / 16.0)).astype(np.uint8)  # 0..16 -> 0..255
    x = (pixels.astype(np.float32) / 255.0)[..., np.newaxis]
    y = digits.target.astype(np.int64)
    return train_test_split(x, y, test_size=N_TEST, random_state=SEED, stratify=y)


def build_model(batch_size: int | None = 1) -> tf.keras.Model:
    return tf.keras.Sequential(
        [
            tf.keras.layers.Input(shape=(8, 8, 1), batch_size=batch_size, name="image"),
            tf.keras.layers.Conv2D(16, 3, padding="same", activation="relu"),
            tf.keras.layers.MaxPooling2D(2),
            tf.keras.layers.Conv2D(32, 3, padding="valid", activation="relu"),
            tf.keras.layers.Flatten(),
            tf.keras.layers.Dense(10, name="logits"),
        ]
    )


def convert(model: tf.keras.Model, calibration: np.ndarray) -> bytes:
    def representative():
        for img in calibration:
            yield [img[np.newaxis]]

    conv = tf.lite.TFLiteConverter.from_keras_model(model)
    conv.optimizations = [tf.lite.Optimize.DEFAULT]
    conv.representative_dataset = representative
    conv.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS_INT8]
    conv.inference_input_type = tf.int8
    conv.inference_output_type = tf.int8
    return conv.convert()


def main() -> None:
    tf.keras.utils.set_random_seed(SEED)
    tf.config.experimental.enable_op_determinism()
    x_train, x_test, y_train, y_test = load_data()

    # Train with batches, then rebuild with batch size 1 for the converter.
    train_model = build_model(batch_size=None)
    train_model.compile(
        optimizer=tf.keras.optimizers.Adam(1e-2),
        loss=tf.keras.losses.SparseCategoricalCrossentropy(from_logits=True),
        metrics=["accuracy"],
    )
    train_model.fit(x_train, y_train, epochs=30, batch_size=64, verbose=0)
    _, acc = train_model.evaluate(x_test, y_test, verbose=0)
    print(f"float model test accuracy: {acc:.4f}")

    infer_model = build_model()  # batch size 1: static shapes, so RESHAPE has a constant shape
    infer_model.set_weights(train_model.get_weights())
    data = convert(infer_model, x_train[:300])
    (HERE / "digits_cnn_int8.tflite").write_bytes(data)

    interp = Interpreter(model_content=data, experimental_op_resolver_type=BUILTIN_REF)
    interp.allocate_tensors()
    inp = interp.get_input_details()[0]
    out = interp.get_output_details()[0]
    scale, zero_point = inp["quantization"]
    q_test = np.clip(np.round(x_test / scale) + zero_point, -128, 127).astype(np.int8)
    correct = 0
    for img, label in zip(q_test, y_test):
        interp.set_tensor(inp["index"], img[np.newaxis])
        interp.invoke()
        correct += int(np.argmax(interp.get_tensor(out["index"])) == label)
    print(f"int8 model test accuracy (TFLite): {correct / len(y_test):.4f}")
    print(f"input quantization: scale={scale!r} zero_point={zero_point}")

    np.save(HERE / "test_images.npy", q_test)
    np.save(HERE / "test_labels.npy", y_test)
    print(f"wrote {len(data)} bytes model and {len(y_test)} test images to {HERE}")


if __name__ == "__main__":
    main()
