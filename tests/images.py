"""Image preprocessing exactly as the model authors' tests do it (see
../shared/models/EXPECTED_OUTPUTS.md), for tests, notebooks and demos.

* read_bmp(path): decode an uncompressed BMP (24/32-bit, or 8-bit paletted) to an RGB
  (or, for 8-bit grayscale palettes, single-channel) uint8 array, rows top-down. This is
  what libcoral's test utilities do (BGR->RGB swap, bottom-up rows flipped).
* resize_bilinear(img, h, w): TFLite's RESIZE_BILINEAR on float data with
  align_corners=false, half_pixel_centers=true, evaluated by LiteRT's builtin kernel (no
  XNNPACK delegate) on a one-op model built here (no TensorFlow needed), then truncated
  to uint8 as libcoral's std::copy.
  resize_bilinear_numpy is a NumPy transcription of LiteRT's optimized float kernel for
  environments without LiteRT (tested equal on the coral images and sizes).
* coral_input(path, h, w): the uint8 [1, h, w, 3] input of a coral MobileNet.
* person_detect_input(path): the int8 [1, 96, 96, 1] input of tflm/person_detect.
"""
from __future__ import annotations

import struct

import numpy as np


def read_bmp(path) -> np.ndarray:
    """Decodes an uncompressed BMP file to uint8 [H, W, 3] RGB (or [H, W] for 8-bit
    grayscale palettes), top row first."""
    data = open(path, "rb").read()
    if data[:2] != b"BM":
        raise ValueError(f"{path}: not a BMP file")
    offset = struct.unpack_from("<I", data, 10)[0]
    hdr_size = struct.unpack_from("<I", data, 14)[0]
    width, height = struct.unpack_from("<ii", data, 18)
    planes, bpp, compression = struct.unpack_from("<HHI", data, 26)
    if compression not in (0, 3) or planes != 1:
        raise ValueError(f"{path}: compressed BMP (compression {compression}) not supported")
    top_down = height < 0
    h, w = abs(height), width
    stride = ((w * bpp + 31) // 32) * 4
    rows = np.frombuffer(data, np.uint8, count=stride * h, offset=offset).reshape(h, stride)
    if bpp == 24:
        img = rows[:, : 3 * w].reshape(h, w, 3)[:, :, ::-1]
    elif bpp == 32:
        img = rows[:, : 4 * w].reshape(h, w, 4)[:, :, 2::-1]
    elif bpp == 8:
        ncolors = struct.unpack_from("<I", data, 46)[0] or 256
        pal = np.frombuffer(data, np.uint8, count=4 * ncolors, offset=14 + hdr_size).reshape(ncolors, 4)
        idx = rows[:, :w]
        rgb = pal[:, 2::-1]
        if np.array_equal(rgb[:, 0], rgb[:, 1]) and np.array_equal(rgb[:, 1], rgb[:, 2]):
            img = rgb[:, 0][idx]  # grayscale palette: one channel
        else:
            img = rgb[idx]
    else:
        raise ValueError(f"{path}: {bpp}-bit BMP not supported")
    if not top_down:
        img = img[::-1]
    return np.ascontiguousarray(img)


def _resize_model(in_h: int, in_w: int, out_h: int, out_w: int, channels: int) -> bytes:
    """A float32 TFLite model with one RESIZE_BILINEAR op (half_pixel_centers=true)."""
    import flatbuffers
    import ai_edge_litert.schema_py_generated as fb

    def tensor(shape, ttype, buf, name):
        t = fb.TensorT()
        t.shape, t.type, t.buffer, t.name = list(shape), ttype, buf, name
        return t

    m = fb.ModelT()
    m.version = 3
    code = fb.OperatorCodeT()
    code.builtinCode = fb.BuiltinOperator.RESIZE_BILINEAR
    code.deprecatedBuiltinCode = fb.BuiltinOperator.RESIZE_BILINEAR
    code.version = 3
    m.operatorCodes = [code]
    empty, size = fb.BufferT(), fb.BufferT()
    size.data = list(np.array([out_h, out_w], np.int32).tobytes())
    m.buffers = [fb.BufferT(), size, empty, empty]
    sg = fb.SubGraphT()
    sg.tensors = [
        tensor([1, in_h, in_w, channels], fb.TensorType.FLOAT32, 0, "input"),
        tensor([2], fb.TensorType.INT32, 1, "size"),
        tensor([1, out_h, out_w, channels], fb.TensorType.FLOAT32, 0, "output"),
    ]
    sg.inputs, sg.outputs = [0], [2]
    op = fb.OperatorT()
    op.opcodeIndex, op.inputs, op.outputs = 0, [0, 1], [2]
    op.builtinOptionsType = fb.BuiltinOptions.ResizeBilinearOptions
    opt = fb.ResizeBilinearOptionsT()
    opt.alignCorners, opt.halfPixelCenters = False, True
    op.builtinOptions = opt
    sg.operators = [op]
    m.subgraphs = [sg]
    b = flatbuffers.Builder(1024)
    b.Finish(m.Pack(b), file_identifier=b"TFL3")
    return bytes(b.Output())


def resize_bilinear(img: np.ndarray, out_h: int, out_w: int) -> np.ndarray:
    """Resizes an [H, W, C] uint8 image with TFLite's float RESIZE_BILINEAR
    (half_pixel_centers) run by LiteRT, then truncates to uint8."""
    from ai_edge_litert.interpreter import Interpreter, OpResolverType

    h, w, c = img.shape
    it = Interpreter(model_content=_resize_model(h, w, out_h, out_w, c),
                     experimental_op_resolver_type=OpResolverType.BUILTIN_WITHOUT_DEFAULT_DELEGATES)
    it.allocate_tensors()
    it.set_tensor(it.get_input_details()[0]["index"], img[None].astype(np.float32))
    it.invoke()
    out = it.get_tensor(it.get_output_details()[0]["index"])[0]
    return out.astype(np.uint8)  # truncation, as std::copy from float to uint8


def resize_bilinear_numpy(img: np.ndarray, out_h: int, out_w: int) -> np.ndarray:
    """LiteRT's optimized float ResizeBilinear (ResizeBilinearGeneric, half_pixel_centers)
    transcribed to float32 NumPy, truncated to uint8: each output is the sum, in this
    order, of the four corners times products of interpolation weights."""
    h, w, _ = img.shape
    src = img.astype(np.float32)

    def axis(out_size, in_size):
        scale = np.float32(in_size) / np.float32(out_size)
        v = (np.arange(out_size, dtype=np.float32) + np.float32(0.5)) * scale - np.float32(0.5)
        lo = np.maximum(np.floor(v).astype(np.int64), 0)
        hi = np.minimum(np.ceil(v).astype(np.int64), in_size - 1)
        return v - lo.astype(np.float32), lo, hi

    dy, y0, y1 = axis(out_h, h)
    dx, x0, x1 = axis(out_w, w)
    one = np.float32(1)
    dy, dx = dy[:, None, None], dx[None, :, None]
    out = np.zeros((out_h, out_w, img.shape[2]), np.float32)
    out += src[y0][:, x0] * ((one - dy) * (one - dx))
    out += src[y0][:, x1] * ((one - dy) * dx)
    out += src[y1][:, x0] * (dy * (one - dx))
    out += src[y1][:, x1] * (dy * dx)
    return out.astype(np.uint8)


def coral_input(path, height: int, width: int) -> np.ndarray:
    """The uint8 [1, height, width, 3] input libcoral's classification tests feed a
    MobileNet: RGB, resized with RESIZE_BILINEAR (half pixel centers), truncated."""
    return resize_bilinear(read_bmp(path), height, width)[None]


def person_detect_input(path) -> np.ndarray:
    """The int8 [1, 96, 96, 1] input of tflm/person_detect: the BMP's raw 8-bit pixel
    bytes, top row first, reinterpreted as int8 (no -128 shift), as the TFLM test does."""
    img = read_bmp(path)
    if img.ndim != 2:
        raise ValueError(f"{path}: want an 8-bit grayscale BMP")
    return img.view(np.int8).reshape(1, img.shape[0], img.shape[1], 1)
