"""Image helpers for the examples and notebooks: read a BMP, resize it as the Coral tests do.

The Coral classification tests (google-coral/libcoral ``coral/test_utils.cc``) feed the
MobileNet models as follows, and :func:`coral_input` does the same:

1. decode the BMP to RGB (rows top-down);
2. resize with TFLite's RESIZE_BILINEAR on float32 data (``align_corners=False``,
   ``half_pixel_centers=True``);
3. convert float -> uint8 by truncation, and feed the uint8 pixels straight into the
   model's uint8 input (whose scale 1/128 and zero point 128 map them to [-1, 1)).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PIL import Image

__all__ = ["read_rgb", "resize_bilinear", "coral_input", "person_detect_input", "read_labels", "top_k"]


def read_rgb(path: str | Path) -> np.ndarray:
    """Read an image file as uint8 RGB [H, W, 3], rows top-down."""
    with Image.open(path) as im:
        return np.asarray(im.convert("RGB"), dtype=np.uint8)


def _interpolation(out_size: int, in_size: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """TFLite's ComputeInterpolationValues with half-pixel centers, in float32: the
    fractional weights and the two source indices of each output position."""
    scale = np.float32(in_size) / np.float32(out_size)
    v = (np.arange(out_size, dtype=np.float32) + np.float32(0.5)) * scale - np.float32(0.5)
    lo = np.maximum(np.floor(v).astype(np.int64), 0)
    hi = np.minimum(np.ceil(v).astype(np.int64), in_size - 1)
    return v - lo.astype(np.float32), lo, hi


def resize_bilinear(image: np.ndarray, height: int, width: int) -> np.ndarray:
    """Resize [H, W, C] to float32 [height, width, C] exactly as LiteRT's float
    RESIZE_BILINEAR (optimized ResizeBilinearGeneric; align_corners=False,
    half_pixel_centers=True): each output is the sum, in this order, of the four corners
    times products of interpolation weights, in float32. tests/test_cleartext_vs_litert.py
    checks it against LiteRT's own kernel."""
    x = image.astype(np.float32)
    dy, y0, y1 = _interpolation(height, x.shape[0])
    dx, x0, x1 = _interpolation(width, x.shape[1])
    one = np.float32(1)
    dy, dx = dy[:, None, None], dx[None, :, None]
    out = np.zeros((height, width, x.shape[2]), np.float32)
    out += x[y0][:, x0] * ((one - dy) * (one - dx))
    out += x[y0][:, x1] * ((one - dy) * dx)
    out += x[y1][:, x0] * (dy * (one - dx))
    out += x[y1][:, x1] * (dy * dx)
    return out


def coral_input(path: str | Path, height: int, width: int) -> np.ndarray:
    """The uint8 [1, height, width, 3] input the Coral tests give a MobileNet for an image."""
    resized = resize_bilinear(read_rgb(path), height, width)
    return np.clip(resized, 0, 255).astype(np.uint8)[np.newaxis]  # truncates, as std::copy


def person_detect_input(path: str | Path) -> np.ndarray:
    """The int8 [1, H, W, 1] input of tflm/person_detect for an 8-bit grayscale BMP: the raw
    pixel bytes, top row first, reinterpreted as int8 (no -128 shift), as the TFLM test does."""
    with Image.open(path) as im:
        if im.mode not in ("L", "P"):
            raise ValueError(f"{path}: want an 8-bit grayscale BMP, got mode {im.mode}")
        pixels = np.asarray(im, dtype=np.uint8)
    return pixels.view(np.int8).reshape(1, pixels.shape[0], pixels.shape[1], 1)


def read_labels(path: str | Path) -> list[str]:
    """Read a label file: one label per line, or "index label" lines (Coral's format)."""
    labels: dict[int, str] = {}
    lines = Path(path).read_text(encoding="utf-8").splitlines()
    for i, line in enumerate(lines):
        head, _, rest = line.strip().partition(" ")
        if head.isdigit() and rest:
            labels[int(head)] = rest.strip()
        elif line.strip():
            labels[i] = line.strip()
    return [labels.get(i, str(i)) for i in range(max(labels) + 1)] if labels else []


def top_k(scores: np.ndarray, k: int = 5) -> list[tuple[int, float]]:
    """The k largest entries of a 1-D score vector as (index, score), best first; ties go
    to the lower index."""
    s = np.asarray(scores).reshape(-1)
    order = np.lexsort((np.arange(s.size), -s.astype(np.float64)))[:k]
    return [(int(i), float(s[i])) for i in order]
