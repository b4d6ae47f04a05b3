"""qmpc demo: classify handwritten digits with a quantized CNN.

Loads the bundled int8 model (examples/digits/digits_cnn_int8.tflite, made by
examples/digits/train.py), classifies the 300 held-out test images and prints a few
predictions and the accuracy. Run it with ``scripts/demo.sh`` (or ``.venv/bin/python
examples/demo.py`` once set up).
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

import numpy as np

import qmpc

DIGITS = Path(__file__).resolve().parent / "digits"


def classify(model: qmpc.Model, image: np.ndarray) -> np.ndarray:
    """Return the model's logits for one image [1, 8, 8, 1] (int8)."""
    return model.run(image)  # cleartext evaluation, bit-exact with TFLite


def ascii_digit(image: np.ndarray) -> list[str]:
    """An 8x8 int8 image (q = pixel - 128) as 8 lines of text."""
    shades = " .:-=+*#%@"
    pixels = image.reshape(8, 8).astype(np.int32) + 128  # back to 0..255
    return ["".join(shades[p * (len(shades) - 1) // 255] * 2 for p in row) for row in pixels]


def main() -> int:
    model = qmpc.load(DIGITS / "digits_cnn_int8.tflite")
    images = np.load(DIGITS / "test_images.npy")  # int8 [N, 8, 8, 1], already quantized
    labels = np.load(DIGITS / "test_labels.npy")
    print(f"qmpc {qmpc.__version__}: {model!r}\n")
    print(model.summary())

    t0 = time.perf_counter()
    predictions = np.array([int(np.argmax(classify(model, img[np.newaxis]))) for img in images])
    elapsed = time.perf_counter() - t0

    print("A few held-out digits and the model's answers:\n")
    shown = [0, 1, 2, 3]
    pictures = [ascii_digit(images[i]) for i in shown]
    for row in range(8):
        print("   ".join(p[row] for p in pictures))
    print("   ".join(f"label {labels[i]} -> {predictions[i]}".ljust(16) for i in shown))

    correct = int(np.sum(predictions == labels))
    print(
        f"\naccuracy of the int8 model on {len(labels)} held-out images: "
        f"{correct}/{len(labels)} = {correct / len(labels):.2%} "
        f"({elapsed * 1e3 / len(labels):.2f} ms per image)"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
