"""Image preprocessing for the tests: the helpers of examples/images.py (BMP reading and
the model authors' preprocessing, see ../shared/models/EXPECTED_OUTPUTS.md), which the
notebooks and demos use too, plus LiteRT's own RESIZE_BILINEAR as the oracle that checks
their NumPy resize.
"""
from __future__ import annotations

import importlib.util
from pathlib import Path

import numpy as np

_spec = importlib.util.spec_from_file_location(
    "qmpc_examples_images", Path(__file__).resolve().parent.parent / "examples" / "images.py")
_examples = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(_examples)

read_rgb = _examples.read_rgb
resize_bilinear = _examples.resize_bilinear
coral_input = _examples.coral_input
person_detect_input = _examples.person_detect_input


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


def resize_bilinear_litert(img: np.ndarray, out_h: int, out_w: int) -> np.ndarray:
    """Resizes an [H, W, C] image with TFLite's float RESIZE_BILINEAR (half_pixel_centers)
    run by LiteRT's builtin kernel: float32 [out_h, out_w, C]."""
    from ai_edge_litert.interpreter import Interpreter, OpResolverType

    h, w, c = img.shape
    it = Interpreter(model_content=_resize_model(h, w, out_h, out_w, c),
                     experimental_op_resolver_type=OpResolverType.BUILTIN_WITHOUT_DEFAULT_DELEGATES)
    it.allocate_tensors()
    it.set_tensor(it.get_input_details()[0]["index"], img[None].astype(np.float32))
    it.invoke()
    return it.get_tensor(it.get_output_details()[0]["index"])[0]
