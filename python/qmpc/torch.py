"""Quantized PyTorch models into qmpc: :func:`from_torch`.

A model quantized with ``torch.ao.quantization`` (FX graph mode, ``convert_fx``, or eager
mode with ``QuantStub``/``DeQuantStub``, ``convert``; fbgemm/x86 or qnnpack configs) is
read directly: the module is traced with :mod:`torch.fx`, run once on the example input
to learn every intermediate tensor's shape and quantization parameters, and each
quantized op is written with its exact integer weights, weight scales and zero points into
an ONNX model in QDQ form (DequantizeLinear -> op -> QuantizeLinear), which qmpc's ONNX
importer turns into its integer IR. Nothing goes through float weights, and
``torch.onnx.export`` is not used (it no longer exports quantized modules).

Layout: like PyTorch, the model takes NCHW tensors and returns what the PyTorch model
returns (NCHW for 4-D outputs, 2-D logits as they are); qmpc's NHWC is internal (TRANSPOSE
ops in the imported graph, so every front end, the cluster's included, takes NCHW).

Arithmetic: PyTorch's kernels requantize with a float32 multiplier and add a float bias;
qmpc uses the same multiplier exactly, the bias rounded to int32 at scale s_x*s_w, and
round-half-even on exact integers, so outputs may differ from PyTorch's by one LSB on a
small, measured fraction (tests/test_torch.py asserts the bound).

Supported modules and functions: quantized Conv2d / ConvReLU2d (any groups = 1 or
depthwise), Linear / LinearReLU, ``torch.ops.quantized.add`` / ``add_relu`` / ``mul`` /
``mul_relu`` (FX add/mul, eager FloatFunctional), ``torch.cat``, MaxPool2d (any padding,
dilation, ceil_mode), AvgPool2d / ``F.avg_pool2d`` (any padding, ceil_mode,
count_include_pad both ways, divisor_override: a depthwise all-ones convolution),
AdaptiveAvgPool2d(1) and ``mean`` over H and W, flatten / view / reshape, transpose /
permute / contiguous, chunk / split, ReLU on quantized tensors, elementwise activations
on quantized tensors (quantized Hardswish, Hardsigmoid, Sigmoid, Tanh, Hardtanh,
LeakyReLU, ELU: exported as qmpc's ``ai.qmpc.Lookup`` node with the 256-entry table
PyTorch's own kernel computes under the current engine), quantize_per_tensor / Quantize
and dequantize / DeQuantize, Identity and Dropout. Anything else is reported, all at
once, as :class:`qmpc.UnsupportedOpError`. torchvision's quantizable models import
(tests/test_torchvision.py). A warning names the engine and the qconfig when
``torch.backends.quantized.engine`` does not match the qnnpack qconfig the model's
per-tensor weights indicate.
"""

from __future__ import annotations

import operator
from typing import Any

import numpy as np

from .errors import UnsupportedOpError
from .model import Model, load

__all__ = ["from_torch", "to_onnx"]

_OPSET = 13
# qmpc's own ONNX op: Lookup(x, x_scale, x_zero_point, table, y_scale, y_zero_point), an
# elementwise function of an 8-bit x as the table of its 256 outputs (gocore/model/onnx).
_LOOKUP_DOMAIN = "ai.qmpc"


def _lookup_modules(torch) -> tuple:
    """Elementwise activation modules that run on quantized tensors and are exported as a
    table (their quantized kernels' outputs for the 256 input values)."""
    nnq = torch.ao.nn.quantized
    return (nnq.Hardswish, nnq.ELU, nnq.LeakyReLU, nnq.Sigmoid, torch.nn.Hardsigmoid, torch.nn.Hardswish,
            torch.nn.Sigmoid, torch.nn.Tanh, torch.nn.Hardtanh, torch.nn.LeakyReLU, torch.nn.ELU)


def _lookup_functions(torch) -> tuple:
    F = torch.nn.functional
    return (F.hardsigmoid, F.hardswish, torch.sigmoid, torch.tanh, F.hardtanh, F.leaky_relu, F.elu,
            "sigmoid", "tanh")


def from_torch(module: Any, example_input: Any) -> Model:
    """Import a quantized PyTorch model.

    Args:
        module: the quantized model, as returned by
            ``torch.ao.quantization.quantize_fx.convert_fx`` or
            ``torch.ao.quantization.convert`` (in eval mode).
        example_input: a float tensor (or numpy array) with the shape the model takes,
            NCHW for images; the model is run on it once to record every intermediate
            tensor's shape and quantization parameters. The batch size is that of the
            example (use 1).

    Returns:
        A :class:`qmpc.Model` whose ``run(x)`` takes and returns numpy arrays with the
        PyTorch model's input and output shapes (NCHW for images).

    Raises:
        UnsupportedOpError: the model uses modules or functions qmpc cannot evaluate (all
            are listed).
    """
    return load(to_onnx(module, example_input))


def to_onnx(module: Any, example_input: Any) -> bytes:
    """The ONNX (QDQ form) model :func:`from_torch` imports, as bytes."""
    import torch

    x = example_input if isinstance(example_input, torch.Tensor) else torch.as_tensor(np.asarray(example_input))
    x = x.to(torch.float32)
    _check_engine(module)
    gm = module if isinstance(module, torch.fx.GraphModule) else torch.fx.symbolic_trace(module)
    gm.eval()
    values: dict[str, Any] = {}

    class _Recorder(torch.fx.Interpreter):
        def run_node(self, n):  # noqa: D401 - fx API
            r = super().run_node(n)
            values[n.name] = r
            return r

    with torch.no_grad():
        _Recorder(gm).run(x)
    return _Exporter(gm, values).export()


def _check_engine(module: Any) -> None:
    """Warn when torch.backends.quantized.engine does not match the qconfig the model was
    prepared with, as far as the converted model shows it: torch.ao.quantization's qnnpack
    qconfigs quantize weights per tensor with full-range 8-bit activations, its x86/fbgemm
    ones per channel with 7-bit activations. A qnnpack-prepared model run under the x86 or
    fbgemm engine saturates in fbgemm's u8s8 kernels, so PyTorch's own outputs then differ
    from qmpc's (which computes exactly) by tens of LSB."""
    import warnings

    import torch

    engine = torch.backends.quantized.engine
    if engine not in ("x86", "fbgemm", "onednn"):
        return
    nnq = torch.ao.nn.quantized
    schemes = set()
    for mod in module.modules():
        if isinstance(mod, (nnq.Conv2d, nnq.Linear)):
            try:
                schemes.add(mod.weight().qscheme())
            except Exception:  # noqa: BLE001 - a module without packed weights
                continue
    per_tensor = {torch.per_tensor_affine, torch.per_tensor_symmetric}
    if schemes and schemes <= per_tensor:
        warnings.warn(
            "the model's weights are quantized per tensor, as the qnnpack qconfig "
            "(get_default_qconfig('qnnpack') / get_default_qconfig_mapping('qnnpack')) does, but "
            f"torch.backends.quantized.engine is '{engine}': PyTorch's {engine} kernels saturate on "
            "full-range 8-bit activations, so PyTorch's own outputs can differ from qmpc's by tens "
            "of LSB. Run the PyTorch model with torch.backends.quantized.engine = 'qnnpack' to "
            "compare (qmpc's result does not depend on the engine).", UserWarning, stacklevel=3)


class _Q:
    """A quantized tensor in the ONNX graph: its QuantizeLinear output name and params."""

    def __init__(self, name: str, scale: float, zp: int, dtype: str) -> None:
        self.name, self.scale, self.zp, self.dtype = name, scale, zp, dtype


class _F:
    """A float tensor in the ONNX graph."""

    def __init__(self, name: str) -> None:
        self.name = name


class _Exporter:
    def __init__(self, gm, values: dict[str, Any]) -> None:
        import torch
        from onnx import helper  # noqa: F401 - fail early if onnx is missing

        self.torch = torch
        self.gm = gm
        self.values = values
        self.modules = dict(gm.named_modules())
        self.nodes: list = []
        self.inits: list = []
        self.inputs: list = []
        self.outputs: list = []
        self.env: dict[str, Any] = {}
        self.unsupported: list[str] = []
        self.dq_cache: dict[str, str] = {}
        self.n = 0

    # ---- helpers ----
    def uniq(self, base: str) -> str:
        self.n += 1
        return f"{base}__{self.n}"

    def const(self, base: str, arr: np.ndarray) -> str:
        from onnx import numpy_helper

        name = self.uniq(base)
        self.inits.append(numpy_helper.from_array(np.asarray(arr), name))
        return name

    def add(self, op: str, inputs: list[str], base: str, **attrs) -> str:
        from onnx import helper

        out = self.uniq(base)
        self.nodes.append(helper.make_node(op, inputs, [out], name=out, **attrs))
        return out

    def named(self, op: str, inputs: list[str], out: str) -> str:
        """Like add, with the exact output name (graph outputs)."""
        from onnx import helper

        self.nodes.append(helper.make_node(op, inputs, [out], name=out))
        return out

    def qparams(self, t) -> tuple[float, int, str]:
        torch = self.torch
        if t.qscheme() not in (torch.per_tensor_affine, torch.per_tensor_symmetric):
            raise UnsupportedOpError(f"activation quantized with {t.qscheme()}")
        dt = {torch.quint8: "uint8", torch.qint8: "int8"}.get(t.dtype)
        if dt is None:
            raise UnsupportedOpError(f"activation dtype {t.dtype}")
        return float(t.q_scale()), int(t.q_zero_point()), dt

    def scale_zp(self, base: str, scale: float, zp: int, dtype: str) -> tuple[str, str]:
        return (self.const(base + "_scale", np.array(scale, np.float32)),
                self.const(base + "_zero_point", np.array(zp, dtype)))

    def quantize(self, f: str, result, base: str) -> _Q:
        s, z, dt = self.qparams(result)
        sn, zn = self.scale_zp(base, s, z, dt)
        return _Q(self.add("QuantizeLinear", [f, sn, zn], base + "_q"), s, z, dt)

    def dq(self, q: _Q) -> str:
        if q.name not in self.dq_cache:
            sn, zn = self.scale_zp(q.name, q.scale, q.zp, q.dtype)
            self.dq_cache[q.name] = self.add("DequantizeLinear", [q.name, sn, zn], q.name + "_dq")
        return self.dq_cache[q.name]

    def qweight(self, w, base: str) -> tuple[str, float | np.ndarray]:
        """DequantizeLinear of a quantized weight tensor; returns its name and scale(s)."""
        torch = self.torch
        data = w.int_repr().numpy()
        dt = {torch.qint8: "int8", torch.quint8: "uint8"}[w.dtype]
        if w.qscheme() in (torch.per_channel_affine, torch.per_channel_symmetric,
                           torch.per_channel_affine_float_qparams):
            scales = w.q_per_channel_scales().numpy().astype(np.float32)
            zps = w.q_per_channel_zero_points().numpy().astype(dt)
            axis = int(w.q_per_channel_axis())
            sn, zn = self.const(base + "_wscale", scales), self.const(base + "_wzp", zps)
            name = self.add("DequantizeLinear", [self.const(base + "_w", data), sn, zn], base + "_wdq", axis=axis)
            return name, scales
        s = np.float32(w.q_scale())
        sn, zn = self.const(base + "_wscale", np.array(s)), self.const(base + "_wzp", np.array(int(w.q_zero_point()), dt))
        return self.add("DequantizeLinear", [self.const(base + "_w", data), sn, zn], base + "_wdq"), s

    def qbias(self, bias, sx: float, sw, base: str) -> str:
        """int32 bias at scale s_x * s_w (rounded half to even in float32, as fbgemm's
        bias / (s_x * s_w)), with its DequantizeLinear."""
        b = bias.detach().numpy().astype(np.float32)
        s = (np.float32(sx) * np.asarray(sw, np.float32)).astype(np.float32)
        s = np.broadcast_to(s, b.shape).astype(np.float32)
        q = np.rint(b / s).astype(np.int64)
        if np.abs(q).max(initial=0) >= 2**31:
            raise UnsupportedOpError(f"{base}: bias does not fit int32 at scale s_x*s_w")
        return self.add("DequantizeLinear", [self.const(base + "_b", q.astype(np.int32)), self.const(base + "_bscale", s),
                                             self.const(base + "_bzp", np.zeros(b.shape, np.int32))], base + "_bdq", axis=0)

    def arg(self, a):
        torch = self.torch
        if isinstance(a, torch.fx.Node):
            return self.env[a.name]
        if isinstance(a, (list, tuple)):
            return type(a)(self.arg(v) for v in a)
        return a

    # ---- export ----
    def export(self) -> bytes:
        import onnx
        from onnx import TensorProto, helper

        for node in self.gm.graph.nodes:
            try:
                self.visit(node)
            except UnsupportedOpError as e:
                self.unsupported.append(f"{node.name}: {e}")
                self.env[node.name] = None
        if self.unsupported:
            raise UnsupportedOpError("unsupported in the PyTorch model: " + "; ".join(self.unsupported))
        g = helper.make_graph(self.nodes, "qmpc_from_torch", self.inputs, self.outputs, initializer=self.inits)
        opsets = [helper.make_opsetid("", _OPSET)]
        if getattr(self, "lookups", False):
            opsets.append(helper.make_opsetid(_LOOKUP_DOMAIN, 1))
        m = helper.make_model(g, opset_imports=opsets, producer_name="qmpc.from_torch")
        m.ir_version = 8
        return m.SerializeToString()

    def visit(self, node) -> None:  # noqa: C901 - one dispatch
        from onnx import TensorProto, helper

        torch = self.torch
        val = self.values.get(node.name)
        op, tgt = node.op, node.target
        if any(isinstance(a, torch.fx.Node) and self.env.get(a.name, 0) is None for a in node.all_input_nodes):
            self.env[node.name] = None  # downstream of an unsupported node
            return
        if op == "placeholder":
            shape = list(val.shape)
            self.inputs.append(helper.make_tensor_value_info(node.name, TensorProto.FLOAT, shape))
            self.env[node.name] = _F(node.name)
            return
        if op == "get_attr":
            self.env[node.name] = val
            return
        if op == "output":
            outs = node.args[0]
            outs = list(outs) if isinstance(outs, (tuple, list)) else [outs]
            for i, o in enumerate(outs):
                v = self.arg(o)
                oname = "output" if len(outs) == 1 else f"output_{i}"
                if isinstance(v, _F):
                    name = self.named("Identity", [v.name], oname)
                    self.outputs.append(helper.make_tensor_value_info(name, TensorProto.FLOAT, None))
                elif isinstance(v, _Q):
                    name = self.named("Identity", [v.name], oname)
                    et = TensorProto.UINT8 if v.dtype == "uint8" else TensorProto.INT8
                    self.outputs.append(helper.make_tensor_value_info(name, et, None))
                else:
                    raise UnsupportedOpError(f"model output {i} is not a tensor")
            return
        args = [self.arg(a) for a in node.args]
        if op == "call_module":
            mod = self.modules[tgt]
            self.env[node.name] = self.module(node, mod, args, val)
            return
        if op in ("call_function", "call_method"):
            self.env[node.name] = self.function(node, tgt, args, val)
            return
        raise UnsupportedOpError(f"fx node kind {op}")

    # Module handlers.
    def module(self, node, mod, args, val):
        torch = self.torch
        nnq = torch.ao.nn.quantized
        nniq = torch.ao.nn.intrinsic.quantized
        name = node.name
        x = args[0] if args else None
        if isinstance(mod, (torch.nn.Identity, torch.nn.Dropout)) or type(mod).__name__ in ("Identity",):
            return x
        if isinstance(mod, nnq.Quantize):
            return self.quantize(self.need_f(x, name), val, name)
        if isinstance(mod, nnq.DeQuantize):
            return _F(self.dq(self.need_q(x, name)))
        if isinstance(mod, (nniq.ConvReLU2d, nnq.Conv2d)):
            return self.conv(node, mod, self.need_q(x, name), val, relu=isinstance(mod, nniq.ConvReLU2d))
        if isinstance(mod, (nniq.LinearReLU, nnq.Linear)):
            return self.linear(node, mod, self.need_q(x, name), val, relu=isinstance(mod, nniq.LinearReLU))
        if isinstance(mod, torch.nn.MaxPool2d):
            return self.maxpool(name, x, mod.kernel_size, mod.stride, mod.padding, mod.dilation, mod.ceil_mode, val)
        if isinstance(mod, torch.nn.AvgPool2d):
            return self.avgpool(name, x, mod.kernel_size, mod.stride, mod.padding, mod.ceil_mode,
                                mod.count_include_pad, mod.divisor_override, val, self.in_hw(node))
        if isinstance(mod, torch.nn.AdaptiveAvgPool2d):
            return self.adaptive_avgpool(name, x, mod.output_size, val)
        if isinstance(mod, (torch.nn.ReLU, nnq.ReLU6, torch.nn.ReLU6)):
            if isinstance(mod, torch.nn.ReLU6) and isinstance(x, _Q):
                self.check_qnnpack_clamp(node, mod)
            return self.relu(name, x, val, six=not isinstance(mod, torch.nn.ReLU))
        if isinstance(mod, torch.nn.Flatten):
            return self.reshape(name, x, val)
        if isinstance(mod, _lookup_modules(torch)) and isinstance(x, _Q):
            return self.lookup(name, x, mod, val)
        raise UnsupportedOpError(f"module {type(mod).__module__}.{type(mod).__name__}")

    def function(self, node, tgt, args, val):
        torch = self.torch
        name = node.name
        qops = torch.ops.quantized
        if tgt in ("chunk", torch.chunk, "split", torch.split) and isinstance(val, (tuple, list)):
            return self.split(node, name, args, val)
        if tgt is operator.getitem and isinstance(args[0], list) and isinstance(args[1], int):
            return args[0][args[1]]  # an output of a split
        if not isinstance(val, torch.Tensor):
            # Shapes, sizes and other metadata (x.shape, x.size(0), getitem on them): the
            # concrete values of the example run.
            return val
        if tgt is torch.quantize_per_tensor:
            return self.quantize(self.need_f(args[0], name), val, name)
        if tgt == "dequantize" or tgt is torch.dequantize:
            return _F(self.dq(self.need_q(args[0], name)))
        if tgt in (qops.add, qops.add_relu, qops.mul, qops.mul_relu) or str(tgt) in (
                "quantized.add", "quantized.add_relu", "quantized.mul", "quantized.mul_relu"):
            a, b = self.need_q(args[0], name), self.need_q(args[1], name)
            kind = "Mul" if "mul" in str(tgt) else "Add"
            y = self.add(kind, [self.dq(a), self.dq(b)], name)
            if "relu" in str(tgt):
                y = self.add("Relu", [y], name + "_relu")
            return self.quantize(y, val, name)
        if tgt in (torch.cat, torch.concat) or str(tgt) == "quantized.cat":
            xs = args[0]
            axis = args[1] if len(args) > 1 else node.kwargs.get("dim", 0)
            if not isinstance(val, torch.Tensor) or not val.is_quantized:
                raise UnsupportedOpError("torch.cat of float tensors")
            qs = [self.need_q(v, name) for v in xs]
            return self.quantize(self.add("Concat", [self.dq(q) for q in qs], name, axis=int(axis)), val, name)
        if tgt in (torch.flatten, "flatten", "view", "reshape", torch.reshape) or tgt in ("squeeze", "unsqueeze"):
            return self.reshape(name, args[0], val)
        if tgt in ("contiguous", "clone", torch.clone):
            return args[0]
        if tgt in (torch.transpose, "transpose", torch.permute, "permute"):
            return self.transpose(node, name, tgt, args, val)
        if tgt is operator.getitem:
            raise UnsupportedOpError("indexing a tensor")
        if tgt in (torch.relu, torch.nn.functional.relu, "relu", torch.relu_):
            return self.relu(name, args[0], val)
        F = torch.nn.functional
        if tgt in (F.max_pool2d, torch.max_pool2d):
            k = args[1] if len(args) > 1 else node.kwargs["kernel_size"]
            s = args[2] if len(args) > 2 else node.kwargs.get("stride") or k
            p = args[3] if len(args) > 3 else node.kwargs.get("padding", 0)
            d = args[4] if len(args) > 4 else node.kwargs.get("dilation", 1)
            ceil = args[5] if len(args) > 5 else node.kwargs.get("ceil_mode", False)
            return self.maxpool(name, args[0], k, s, p, d, ceil, val)
        if tgt in (F.avg_pool2d, torch._C._nn.avg_pool2d):
            k = args[1] if len(args) > 1 else node.kwargs["kernel_size"]
            s = args[2] if len(args) > 2 else node.kwargs.get("stride") or k
            p = args[3] if len(args) > 3 else node.kwargs.get("padding", 0)
            ceil = args[4] if len(args) > 4 else node.kwargs.get("ceil_mode", False)
            cip = args[5] if len(args) > 5 else node.kwargs.get("count_include_pad", True)
            div = args[6] if len(args) > 6 else node.kwargs.get("divisor_override")
            return self.avgpool(name, args[0], k, s, p, ceil, cip, div, val, self.in_hw(node))
        if tgt is F.adaptive_avg_pool2d:
            return self.adaptive_avgpool(name, args[0], args[1] if len(args) > 1 else node.kwargs["output_size"], val)
        if tgt in (torch.mean, "mean"):
            dims = args[1] if len(args) > 1 else node.kwargs.get("dim")
            keep = len(args) > 2 and bool(args[2]) or bool(node.kwargs.get("keepdim", False))
            if dims is not None and sorted(int(d) % 4 for d in dims) == [2, 3]:
                y = self.adaptive_avgpool(name, args[0], 1, val)
                return y if keep else self.reshape(name + "_squeeze", y, val)
        if (tgt in _lookup_functions(torch) and args and isinstance(args[0], _Q) and val.is_quantized
                and tuple(val.shape) == tuple(self.values[node.args[0].name].shape)):
            kwargs = {k: v for k, v in node.kwargs.items()}
            fn = tgt if callable(tgt) else (lambda t, _m=tgt: getattr(t, _m)())
            return self.lookup(name, args[0], lambda t: fn(t, *args[1:], **kwargs), val)
        if tgt in (torch.add, operator.add, "add", torch.mul, operator.mul, "mul") and not val.is_quantized:
            raise UnsupportedOpError(f"float {getattr(tgt, '__name__', tgt)} (quantize the model so that it runs on quantized tensors)")
        raise UnsupportedOpError(f"function {getattr(tgt, '__name__', tgt)}")

    def _unsupported(self, what: str):
        raise UnsupportedOpError(what)

    def check_qnnpack_clamp(self, node, mod) -> None:
        """PyTorch's qnnpack clamp (quantized hardtanh, behind torch.nn.ReLU6 on a quantized
        tensor) writes the results of a channels-last input in the input's memory order into
        a contiguous output, so its elements land at the wrong positions (PyTorch 2.15; a
        quantized convolution's output is channels-last under qnnpack). qmpc computes ReLU6;
        warn that PyTorch's own output is scrambled."""
        import warnings

        torch = self.torch
        if torch.backends.quantized.engine != "qnnpack":
            return
        x = self.values.get(node.args[0].name) if node.args else None
        if isinstance(x, torch.Tensor) and x.dim() == 4 and not x.is_contiguous():
            warnings.warn(
                f"{node.name}: torch.nn.ReLU6 on a channels-last quantized tensor under "
                "torch.backends.quantized.engine = 'qnnpack' returns its elements in the wrong "
                "positions (PyTorch's qnnpack clamp ignores the input's memory format), so "
                "PyTorch's output differs from qmpc's ReLU6; use torch.nn.ReLU6 on x.contiguous(), "
                "or nn.ReLU, or the x86 engine, for a PyTorch reference.", UserWarning, stacklevel=4)

    def need_q(self, v, where: str) -> _Q:
        if not isinstance(v, _Q):
            raise UnsupportedOpError(f"{where}: expected a quantized tensor")
        return v

    def need_f(self, v, where: str) -> str:
        if isinstance(v, _F):
            return v.name
        raise UnsupportedOpError(f"{where}: expected a float tensor")

    # Op emitters.
    def conv(self, node, mod, x: _Q, val, relu: bool) -> _Q:
        if mod.padding_mode != "zeros":
            raise UnsupportedOpError(f"Conv2d(padding_mode={mod.padding_mode})")
        pad = mod.padding
        if isinstance(pad, str):
            raise UnsupportedOpError(f"Conv2d(padding='{pad}')")
        name = node.name
        w, sw = self.qweight(mod.weight(), name)
        ins = [self.dq(x), w]
        b = mod.bias()
        if b is not None:
            ins.append(self.qbias(b, x.scale, sw, name))
        kh, kw = mod.kernel_size
        y = self.add("Conv", ins, name, kernel_shape=[kh, kw], strides=list(mod.stride), dilations=list(mod.dilation),
                     pads=[pad[0], pad[1], pad[0], pad[1]], group=mod.groups)
        if relu:
            y = self.add("Relu", [y], name + "_relu")
        return self.quantize(y, val, name)

    def linear(self, node, mod, x: _Q, val, relu: bool) -> _Q:
        name = node.name
        w, sw = self.qweight(mod.weight(), name)
        ins = [self.dq(x), w]
        b = mod.bias()
        if b is not None:
            ins.append(self.qbias(b, x.scale, sw, name))
        y = self.add("Gemm", ins, name, transB=1)
        if relu:
            y = self.add("Relu", [y], name + "_relu")
        return self.quantize(y, val, name)

    def maxpool(self, name, x, k, s, p, d, ceil, val) -> _Q:
        x = self.need_q(x, name)
        pair = lambda v: [v, v] if isinstance(v, int) else list(v)  # noqa: E731
        k, s, p, d = pair(k), pair(s if s else k), pair(p), pair(d)
        y = self.add("MaxPool", [self.dq(x)], name, kernel_shape=k, strides=s, pads=p + p, dilations=d,
                     ceil_mode=int(bool(ceil)))
        return self.quantize(y, val, name)

    def in_hw(self, node) -> tuple[int, int] | None:
        """The spatial size (H, W) of node's first input, from the recorded run."""
        x = self.values.get(node.args[0].name) if node.args else None
        return tuple(x.shape[-2:]) if isinstance(x, self.torch.Tensor) and x.dim() == 4 else None

    def avgpool(self, name, x, k, s, p, ceil, count_include_pad, divisor, val, in_hw=None) -> _Q:
        x = self.need_q(x, name)
        pair = lambda v: [v, v] if isinstance(v, int) else list(v)  # noqa: E731
        k, s, p = pair(k), pair(s if s else k), pair(p)
        torch = self.torch
        qnnpack_pool = torch.backends.quantized.engine == "qnnpack" and x.dtype == "uint8" and not ceil
        if divisor is not None and qnnpack_pool:
            import warnings

            warnings.warn(
                f"{name}: AvgPool2d(divisor_override={divisor}) on a quint8 tensor without ceil_mode under "
                "torch.backends.quantized.engine = 'qnnpack' runs qnnpack's average pooling, which ignores "
                "divisor_override and divides by the whole window; qmpc does as PyTorch does here (use the x86 "
                "engine, or ceil_mode, for a PyTorch reference that honours divisor_override).",
                UserWarning, stacklevel=4)
            divisor = None
        if divisor is not None:
            return self.avgpool_divisor(name, x, k, s, p, int(divisor), val, in_hw)
        if qnnpack_pool:
            # PyTorch runs this case with qnnpack's average pooling, which divides by the
            # whole window (padding counted) whatever count_include_pad says.
            count_include_pad = True
        y = self.add("AveragePool", [self.dq(x)], name, kernel_shape=k, strides=s, pads=p + p,
                     ceil_mode=int(bool(ceil)), count_include_pad=int(bool(count_include_pad)))
        return self.quantize(y, val, name)

    def avgpool_divisor(self, name, x: _Q, k, s, p, divisor: int, val, in_hw) -> _Q:
        """AvgPool2d(divisor_override=D): the sum of each window's taps inside the input
        (padding adds zeros), divided by D whatever the window. That is a depthwise
        convolution with an all-ones kernel (int8 weight 1 at scale 1/D, no bias), its
        padding the pool's (ceil_mode's overhang as extra bottom/right padding), requantized
        to the pool's output scale: y = z_y + round(sum(x - z_x) * s_x / (D * s_y)), rounded
        half to even on the exact product as qmpc's other ops (PyTorch rounds the float32
        product, so the two can differ by one LSB at exact ties, D even)."""
        if divisor < 1:
            raise UnsupportedOpError(f"{name}: AvgPool2d(divisor_override={divisor})")
        if in_hw is None or val is None or val.dim() != 4:
            raise UnsupportedOpError(f"{name}: AvgPool2d(divisor_override) needs a 4-D NCHW input")
        c, (oh, ow) = int(val.shape[1]), val.shape[-2:]
        pads = [p[0], p[1]] + [max(0, (o - 1) * st + kk - n - pp) for o, st, kk, n, pp in
                               zip((oh, ow), s, k, in_hw, p)]
        w = self.add("DequantizeLinear", [self.const(name + "_w", np.ones((c, 1, k[0], k[1]), np.int8)),
                                          self.const(name + "_wscale", np.array(np.float32(1.0) / np.float32(divisor))),
                                          self.const(name + "_wzp", np.array(0, np.int8))], name + "_wdq")
        y = self.add("Conv", [self.dq(x), w], name, kernel_shape=list(k), strides=list(s), pads=pads, group=c)
        return self.quantize(y, val, name)

    def adaptive_avgpool(self, name, x, out_size, val) -> _Q:
        x = self.need_q(x, name)
        if out_size not in (1, (1, 1), [1, 1]):
            raise UnsupportedOpError(f"AdaptiveAvgPool2d({out_size})")
        return self.quantize(self.add("GlobalAveragePool", [self.dq(x)], name), val, name)

    def relu(self, name, x, val, six: bool = False):
        if isinstance(x, _F):
            if six:
                return _F(self.add("Clip", [x.name, self.const(name + "_min", np.array(0, np.float32)),
                                           self.const(name + "_max", np.array(6, np.float32))], name))
            return _F(self.add("Relu", [x.name], name))
        x = self.need_q(x, name)
        if six:
            y = self.add("Clip", [self.dq(x), self.const(name + "_min", np.array(0, np.float32)),
                                  self.const(name + "_max", np.array(6, np.float32))], name)
        else:
            y = self.add("Relu", [self.dq(x)], name)
        return self.quantize(y, val, name)

    def lookup(self, name, x: _Q, fn, val) -> _Q:
        """An elementwise function of an 8-bit quantized tensor as qmpc's Lookup: the table
        of its 256 outputs, computed by running PyTorch's own quantized op (fn) on every
        value of the input's type with the input's scale and zero point."""
        from onnx import helper

        torch = self.torch
        dt = torch.quint8 if x.dtype == "uint8" else torch.qint8
        lo = 0 if x.dtype == "uint8" else -128
        raw = torch.arange(lo, lo + 256, dtype=torch.uint8 if x.dtype == "uint8" else torch.int8)
        q = torch._make_per_tensor_quantized_tensor(raw, x.scale, x.zp)
        assert q.dtype == dt
        with torch.no_grad():
            y = fn(q)
        s, z, ydt = self.qparams(val)
        ys, yz, ytype = self.qparams(y)
        if (ys, yz, ytype) != (s, z, ydt):
            raise UnsupportedOpError(f"{name}: output quantization of the tabulated op ({ys}, {yz}) differs from the model's ({s}, {z})")
        table = y.int_repr().numpy().astype(ydt)
        xs, xz = self.scale_zp(name + "_in", x.scale, x.zp, x.dtype)
        sn, zn = self.scale_zp(name, s, z, ydt)
        out = self.uniq(name)
        self.nodes.append(helper.make_node("Lookup", [x.name, xs, xz, self.const(name + "_table", table), sn, zn], [out],
                                           name=out, domain=_LOOKUP_DOMAIN))
        self.lookups = True
        return _Q(out, s, z, ydt)

    def split(self, node, name, args, val) -> list:
        """chunk / split along one dimension: ONNX Split with the sizes of the example run."""
        from onnx import helper

        torch = self.torch
        x = args[0]
        dim = args[2] if len(args) > 2 else node.kwargs.get("dim", 0)
        dim = int(dim) % val[0].dim()
        sizes = np.array([int(v.shape[dim]) for v in val], np.int64)
        outs = [self.uniq(f"{name}_{i}") for i in range(len(val))]
        if isinstance(x, _F):
            inp = x.name
        else:
            inp = self.dq(self.need_q(x, name))
        self.nodes.append(helper.make_node("Split", [inp, self.const(name + "_split", sizes)], outs, name=outs[0], axis=dim))
        if isinstance(x, _F):
            return [_F(o) for o in outs]
        res = []
        for o, v in zip(outs, val):
            assert isinstance(v, torch.Tensor) and v.is_quantized
            res.append(self.quantize(o, v, o))
        return res

    def transpose(self, node, name, tgt, args, val):
        x = args[0]
        r = val.dim()
        if tgt == "transpose" or tgt is self.torch.transpose:
            a, b = int(args[1]) % r, int(args[2]) % r
            perm = list(range(r))
            perm[a], perm[b] = perm[b], perm[a]
        else:
            dims = args[1:] if len(args) > 2 or isinstance(args[1], int) else args[1]
            perm = [int(d) % r for d in dims]
        if isinstance(x, _F):
            return _F(self.add("Transpose", [x.name], name, perm=perm))
        y = self.add("Transpose", [self.dq(self.need_q(x, name))], name, perm=perm)
        return self.quantize(y, val, name)

    def reshape(self, name, x, val):
        torch = self.torch
        shape = np.array(list(val.shape), np.int64)
        if isinstance(x, _F):
            return _F(self.add("Reshape", [x.name, self.const(name + "_shape", shape)], name))
        x = self.need_q(x, name)
        y = self.add("Reshape", [self.dq(x), self.const(name + "_shape", shape)], name)
        assert isinstance(val, torch.Tensor)
        return self.quantize(y, val, name)
