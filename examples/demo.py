"""qmpc demo: classify handwritten digits with a quantized CNN, securely.

Loads the bundled int8 model (examples/digits/digits_cnn_int8.tflite, made by
examples/digits/train.py) and classifies the 300 held-out test images under three-party
secure computation (rep3: replicated secret sharing, honest majority, semi-honest; all
three parties run in this process). Party 0 is the model owner, party 1 the client who
alone learns each prediction. It prints a few predictions, the accuracy, that every secure
output equals the cleartext one bit for bit, and what the parties sent. Run it with ``scripts/demo.sh`` (or ``.venv/bin/python
examples/demo.py`` once set up).
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

import numpy as np

import qmpc

DIGITS = Path(__file__).resolve().parent / "digits"


def classify(model: qmpc.Model, image: np.ndarray) -> qmpc.SecureResult:
    """Classify one image [1, 8, 8, 1] (int8) under MPC: three local parties."""
    return qmpc.secure_run(model, image, protocol="rep3", progress=False)


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

    from tqdm import tqdm  # disable=None: no bar (no redraws) when stderr is not a terminal

    t0 = time.perf_counter()
    results = [classify(model, img[np.newaxis]) for img in tqdm(images, desc="secure inference (rep3)", disable=None)]
    elapsed = time.perf_counter() - t0
    predictions = np.array([int(np.argmax(r.output)) for r in results])
    exact = sum(np.array_equal(r.output, model.run(img[np.newaxis])) for r, img in zip(results, images))

    print("A few held-out digits and the model's answers:\n")
    shown = [0, 1, 2, 3]
    pictures = [ascii_digit(images[i]) for i in shown]
    for row in range(8):
        print("   ".join(p[row] for p in pictures))
    print("   ".join(f"label {labels[i]} -> {predictions[i]}".ljust(16) for i in shown))

    correct = int(np.sum(predictions == labels))
    print(
        f"\naccuracy of the int8 model under MPC on {len(labels)} held-out images: "
        f"{correct}/{len(labels)} = {correct / len(labels):.2%} "
        f"({elapsed * 1e3 / len(labels):.1f} ms per image, all three parties on this machine)"
    )
    print(f"secure outputs equal to the cleartext outputs bit for bit: {exact}/{len(labels)}")
    stats = results[0].stats
    per_party = ", ".join(f"P{i} {b / 1e3:.1f} kB" for i, b in enumerate(stats.total.bytes_sent))
    print(f"cost of one inference: {per_party} sent, {stats.total.rounds} rounds\n")
    print(stats.table())
    return 0 if exact == len(labels) else 1


if __name__ == "__main__":
    sys.exit(main())
