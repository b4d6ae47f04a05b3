"""Quantized test models for qmpc, generated with Keras and the official TFLite converter.

Every case is a small Keras model built with fixed seeds (random weights and biases, so
that every term of the integer arithmetic matters), converted by tf.lite.TFLiteConverter
with a representative dataset to full-integer quantization, in up to three flavours:

  i8   int8 inputs and outputs (per-channel int8 weights, the converter's default)
  u8   uint8 inputs and outputs (inference_input_type/inference_output_type = tf.uint8;
       the converter keeps int8 internals and adds QUANTIZE ops at the edges)
  f32  float32 inputs and outputs (QUANTIZE float->int8 and DEQUANTIZE at the edges)

Cases named hm_* are written directly as flatbuffers (see _handmade) for kernels the
converter no longer emits (uint8 internals, uint8 rescaling CONCATENATION, SQUEEZE, ...).

generate() returns [(name, tflite_bytes)], names like "conv_same_i8". Converted files are
cached in tests/_generated/models/<key>/ where key hashes this file's source and the
TensorFlow version, so repeated runs do not reconvert (TensorFlow is then not even
imported). Run this file directly to (re)build the cache and print timings.
"""
import hashlib
import os
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
CACHE_ROOT = os.path.join(HERE, "_generated", "models")

ALL = ("i8", "u8", "f32")


def _cases():
    """Returns [(name, build, input_shapes, flavours)]. build() returns a keras.Model;
    it is called with keras' global seed already set."""
    import keras
    from keras import layers as L

    def rnd(depthwise=False):
        bias = keras.initializers.RandomNormal(stddev=0.3)
        if depthwise:
            return dict(depthwise_initializer="glorot_uniform", bias_initializer=bias)
        return dict(kernel_initializer="glorot_uniform", bias_initializer=bias)

    def seq(shape, *ls):
        x = inp = keras.Input(shape, batch_size=1)
        for layer in ls:
            x = layer(x)
        return keras.Model(inp, x)

    def conv_same():
        return seq((9, 11, 5), L.Conv2D(8, 3, padding="same", **rnd()))

    def conv_valid_s2_relu():
        return seq((12, 9, 4), L.Conv2D(6, (3, 2), strides=2, padding="valid", activation="relu", **rnd()))

    def conv_same_s2_odd():
        return seq((13, 10, 3), L.Conv2D(4, 5, strides=(2, 1), padding="same", **rnd()))

    def conv_dilation2_relu6():
        return seq((12, 12, 6), L.Conv2D(7, 3, dilation_rate=2, padding="same", **rnd()), L.ReLU(6.0))

    def conv_1x1_wide():
        return seq((6, 7, 40), L.Conv2D(48, 1, **rnd()))

    def depthwise_m1():
        return seq((10, 10, 13), L.DepthwiseConv2D(3, padding="same", **rnd(True)))

    def depthwise_m3_s2():
        return seq((11, 9, 5), L.DepthwiseConv2D(3, strides=2, depth_multiplier=3, padding="valid", **rnd(True)))

    def depthwise_dilation_relu6():
        return seq((12, 12, 20), L.DepthwiseConv2D(3, dilation_rate=2, padding="same", **rnd(True)), L.ReLU(6.0))

    def dense():
        return seq((4, 4, 3), L.Flatten(), L.Dense(37, **rnd()), L.Dense(10, **rnd()))

    def dense_relu_3d():
        return seq((5, 16), L.Dense(24, activation="relu", **rnd()))

    def avgpool():
        return seq((11, 9, 6), L.AveragePooling2D(3, strides=2, padding="same"),
                   L.AveragePooling2D(2, padding="valid"))

    def maxpool():
        return seq((11, 9, 6), L.MaxPooling2D(3, strides=2, padding="same"), L.MaxPooling2D(2))

    def add_residual():
        inp = keras.Input((7, 6, 7), batch_size=1)
        y = L.Conv2D(7, 3, padding="same", **rnd())(inp)
        z = L.Add()([inp, y])
        z = L.Conv2D(9, 1, **rnd())(z)
        w = L.Conv2D(9, 1, activation="relu", **rnd())(z)
        return keras.Model(inp, L.Add()([z, w]))

    def add_broadcast():
        a = keras.Input((6, 5, 8), batch_size=1)
        b = keras.Input((1, 1, 8), batch_size=1)
        return keras.Model([a, b], L.Add()([a, b]))

    def add_broadcast_runs():
        a = keras.Input((4, 4, 40), batch_size=1)
        b = keras.Input((1, 1, 40), batch_size=1)
        c = keras.Input((4, 4, 1), batch_size=1)
        x = L.Add()([a, b])            # runs of 40 (five-fold, shared inner dimension)
        return keras.Model([a, b, c], L.Add()([c, x]))  # runs of 40 along which c is a scalar

    def mul():
        a = keras.Input((6, 5, 8), batch_size=1)
        b = keras.Input((6, 5, 8), batch_size=1)
        c = keras.Input((1, 1, 8), batch_size=1)
        m = L.Multiply()([a, b])
        return keras.Model([a, b, c], L.Multiply()([m, c]))

    def mean_global():
        return seq((7, 5, 40), L.Conv2D(40, 1, **rnd()), L.GlobalAveragePooling2D())

    def mean_keepdims():
        return seq((7, 5, 37), L.Conv2D(37, 1, **rnd()), L.GlobalAveragePooling2D(keepdims=True))

    def pad():
        return seq((5, 6, 3), L.ZeroPadding2D(((1, 2), (3, 0))), L.Conv2D(4, 3, **rnd()))

    def reshape_squeeze():
        inp = keras.Input((1, 6, 4), batch_size=1)
        x = L.Conv2D(5, 1, **rnd())(inp)
        x = L.Lambda(lambda t: keras.ops.squeeze(t, axis=1))(x)
        x = L.Reshape((3, 10))(x)
        return keras.Model(inp, L.Dense(6, **rnd())(x))

    def concat():
        inp = keras.Input((6, 6, 4), batch_size=1)
        a = L.Conv2D(5, 3, padding="same", **rnd())(inp)
        b = L.Conv2D(3, 1, activation="relu", **rnd())(inp)
        c = L.DepthwiseConv2D(3, padding="same", **rnd(True))(inp)
        return keras.Model(inp, L.Concatenate()([a, b, c]))

    def softmax():
        return seq((24,), L.Dense(10, **rnd()), L.Softmax())

    def softmax_wide():
        return seq((3, 40), L.Dense(40, **rnd()), L.Softmax())

    def sigmoid():
        return seq((5, 5, 3), L.Conv2D(6, 3, activation="sigmoid", **rnd()))

    def mini_net():
        inp = keras.Input((16, 16, 3), batch_size=1)
        x = L.Conv2D(8, 3, strides=2, padding="same", activation="relu6", **rnd())(inp)
        y = L.DepthwiseConv2D(3, padding="same", activation="relu6", **rnd(True))(x)
        y = L.Conv2D(8, 1, **rnd())(y)
        x = L.Add()([x, y])
        x = L.MaxPooling2D(2)(x)
        x = L.Conv2D(12, 3, padding="valid", activation="relu", **rnd())(x)
        x = L.GlobalAveragePooling2D()(x)
        x = L.Dense(5, **rnd())(x)
        return keras.Model(inp, L.Softmax()(x))

    return [
        ("conv_same", conv_same, ALL),
        ("conv_valid_s2_relu", conv_valid_s2_relu, ("i8",)),
        ("conv_same_s2_odd", conv_same_s2_odd, ("i8",)),
        ("conv_dilation2_relu6", conv_dilation2_relu6, ("i8",)),
        ("conv_1x1_wide", conv_1x1_wide, ("i8",)),
        ("depthwise_m1", depthwise_m1, ("i8", "u8")),
        ("depthwise_m3_s2", depthwise_m3_s2, ("i8",)),
        ("depthwise_dilation_relu6", depthwise_dilation_relu6, ("i8",)),
        ("dense", dense, ("i8", "u8")),
        ("dense_relu_3d", dense_relu_3d, ("i8",)),
        ("avgpool", avgpool, ("i8", "u8")),
        ("maxpool", maxpool, ("i8",)),
        ("add_residual", add_residual, ("i8", "u8")),
        ("add_broadcast", add_broadcast, ("i8",)),
        ("add_broadcast_runs", add_broadcast_runs, ("i8", "u8")),
        ("mul", mul, ("i8",)),
        ("mean_global", mean_global, ("i8",)),
        ("mean_keepdims", mean_keepdims, ("i8",)),
        ("pad", pad, ("i8",)),
        ("reshape_squeeze", reshape_squeeze, ("i8",)),
        ("concat", concat, ("i8", "u8")),
        ("softmax", softmax, ("i8", "u8")),
        ("softmax_wide", softmax_wide, ("i8",)),
        ("sigmoid", sigmoid, ("i8", "u8")),
        ("mini_net", mini_net, ALL),
    ]


def _handmade():
    """Small models written directly as TFLite flatbuffers (no TensorFlow needed), for
    what the converter does not produce any more: uint8 kernels end to end (the converter
    keeps int8 internals), uint8 CONCATENATION of inputs with different scales, SQUEEZE,
    int8->int8 QUANTIZE, fused RELU_N1_TO_1, int8 per-tensor weights, softmax with
    beta != 1, several outputs. Returns [(name, bytes)]."""
    import flatbuffers
    import numpy as np
    import ai_edge_litert.schema_py_generated as fb

    TT = {"u8": fb.TensorType.UINT8, "i8": fb.TensorType.INT8, "i32": fb.TensorType.INT32,
          "f32": fb.TensorType.FLOAT32}
    BO, OPT = fb.BuiltinOperator, fb.BuiltinOptions

    class M:
        def __init__(self, seed):
            self.rng = np.random.default_rng(seed)
            self.tensors, self.buffers, self.ops, self.codes = [], [fb.BufferT()], [], []

        def t(self, shape, dt, scale=None, zp=0, data=None, axis=0):
            t = fb.TensorT()
            t.shape, t.type, t.name = list(shape), TT[dt], f"t{len(self.tensors)}"
            t.buffer = 0
            if data is not None:
                b = fb.BufferT()
                b.data = list(np.ascontiguousarray(data).tobytes())
                self.buffers.append(b)
                t.buffer = len(self.buffers) - 1
            if scale is not None:
                q = fb.QuantizationParametersT()
                q.scale = [float(v) for v in np.atleast_1d(scale)]
                q.zeroPoint = [int(v) for v in np.broadcast_to(zp, len(q.scale))]
                q.quantizedDimension = axis
                t.quantization = q
            self.tensors.append(t)
            return len(self.tensors) - 1

        def rand(self, shape, dt):
            info = np.iinfo({"u8": np.uint8, "i8": np.int8}[dt])
            return self.rng.integers(info.min, int(info.max) + 1, size=shape).astype(info.dtype)

        def op(self, code, ins, outs, opt_type=0, opt=None, version=1):
            if code not in [c.builtinCode for c in self.codes]:
                c = fb.OperatorCodeT()
                c.builtinCode, c.version = code, version
                c.deprecatedBuiltinCode = min(code, 127)
                self.codes.append(c)
            o = fb.OperatorT()
            o.opcodeIndex = [c.builtinCode for c in self.codes].index(code)
            o.inputs, o.outputs = list(ins), list(outs)
            o.builtinOptionsType, o.builtinOptions = opt_type, opt
            self.ops.append(o)

        def bytes(self, inputs, outputs):
            m = fb.ModelT()
            m.version, m.operatorCodes, m.buffers = 3, self.codes, self.buffers
            sg = fb.SubGraphT()
            sg.tensors, sg.inputs, sg.outputs, sg.operators = self.tensors, list(inputs), list(outputs), self.ops
            m.subgraphs = [sg]
            b = flatbuffers.Builder(1024)
            b.Finish(m.Pack(b), file_identifier=b"TFL3")
            return bytes(b.Output())

    def opts(cls, **kw):
        o = getattr(fb, cls)()
        for k, v in kw.items():
            setattr(o, k, v)
        return o

    def conv_opts(padding=0, stride=1, act=0, dil=1):
        return opts("Conv2DOptionsT", padding=padding, strideW=stride, strideH=stride,
                    fusedActivationFunction=act, dilationWFactor=dil, dilationHFactor=dil)

    out = []

    # uint8 CONCATENATION whose inputs have different scales and zero points.
    m = M(1)
    a = m.t([1, 4, 4, 3], "u8", 0.05, 100)
    b = m.t([1, 4, 4, 5], "u8", 0.11, 30)
    c = m.t([1, 4, 4, 2], "u8", 0.07, 90)
    y = m.t([1, 4, 4, 10], "u8", 0.07, 90)
    m.op(BO.CONCATENATION, [a, b, c], [y], OPT.ConcatenationOptions, opts("ConcatenationOptionsT", axis=-1))
    out.append(("hm_concat_rescale_u8", m.bytes([a, b, c], [y])))

    # uint8 CONV_2D, DEPTHWISE_CONV_2D (depth multiplier 2) and FULLY_CONNECTED without
    # activation and with output zero points far from 0 (negative ties are not clamped),
    # then SQUEEZE and a fused RELU_N1_TO_1.
    m = M(2)
    x = m.t([1, 7, 6, 3], "u8", 0.02, 128)
    w = m.t([5, 3, 3, 3], "u8", 0.013, 120, m.rand([5, 3, 3, 3], "u8"))
    bias = m.t([5], "i32", 0.02 * 0.013, 0, m.rng.integers(-3000, 3000, 5).astype(np.int32))
    h = m.t([1, 7, 6, 5], "u8", 0.03, 131)
    m.op(BO.CONV_2D, [x, w, bias], [h], OPT.Conv2DOptions, conv_opts(padding=0))
    dw = m.t([1, 3, 3, 10], "u8", 0.02, 110, m.rand([1, 3, 3, 10], "u8"))
    db = m.t([10], "i32", 0.03 * 0.02, 0, m.rng.integers(-2000, 2000, 10).astype(np.int32))
    h2 = m.t([1, 1, 2, 10], "u8", 0.04, 125)
    m.op(BO.DEPTHWISE_CONV_2D, [h, dw, db], [h2], OPT.DepthwiseConv2DOptions,
         opts("DepthwiseConv2DOptionsT", padding=1, strideW=3, strideH=3, depthMultiplier=2,
              fusedActivationFunction=0, dilationWFactor=1, dilationHFactor=2), version=2)
    sq = m.t([2, 10], "u8", 0.04, 125)
    m.op(BO.SQUEEZE, [h2], [sq], OPT.SqueezeOptions, opts("SqueezeOptionsT", squeezeDims=[0, 1]))
    fw = m.t([7, 10], "u8", 0.01, 127, m.rand([7, 10], "u8"))
    fbias = m.t([7], "i32", 0.04 * 0.01, 0, m.rng.integers(-500, 500, 7).astype(np.int32))
    y = m.t([2, 7], "u8", 0.008, 128)
    m.op(BO.FULLY_CONNECTED, [sq, fw, fbias], [y], OPT.FullyConnectedOptions,
         opts("FullyConnectedOptionsT", fusedActivationFunction=2))
    out.append(("hm_conv_dw_fc_u8", m.bytes([x], [y, h])))

    # uint8 ADD (broadcast), MUL (broadcast) and two MEANs (fast and general) of one input.
    m = M(3)
    a = m.t([1, 5, 7, 20], "u8", 0.05, 120)
    b = m.t([1, 1, 1, 20], "u8", 0.09, 100)
    s = m.t([1, 5, 7, 20], "u8", 0.08, 110)
    m.op(BO.ADD, [a, b], [s], OPT.AddOptions, opts("AddOptionsT", fusedActivationFunction=0))
    c = m.t([1, 5, 7, 1], "u8", 0.03, 10)
    p = m.t([1, 5, 7, 20], "u8", 0.06, 128)
    m.op(BO.MUL, [s, c], [p], OPT.MulOptions, opts("MulOptionsT", fusedActivationFunction=0))
    ax12 = m.t([2], "i32", data=np.array([1, 2], np.int32))
    ax2 = m.t([1], "i32", data=np.array([-2], np.int32))
    m1 = m.t([1, 1, 1, 20], "u8", 0.03, 125)
    m2 = m.t([1, 5, 20], "u8", 0.04, 120)
    m.op(BO.MEAN, [p, ax12], [m1], OPT.ReducerOptions, opts("ReducerOptionsT", keepDims=True))
    m.op(BO.MEAN, [p, ax2], [m2], OPT.ReducerOptions, opts("ReducerOptionsT", keepDims=False))
    out.append(("hm_add_mul_mean_u8", m.bytes([a, b, c], [m1, m2])))

    # int8 -> int8 and uint8 -> uint8 QUANTIZE (requantization), int8 CONV_2D with
    # per-tensor weights, int8 LOGISTIC with an unusual input scale, uint8 SOFTMAX with
    # beta 0.7, uint8 PAD.
    m = M(4)
    x = m.t([1, 6, 6, 4], "i8", 0.1, 3)
    r = m.t([1, 6, 6, 4], "i8", 0.037, -7)
    m.op(BO.QUANTIZE, [x], [r])
    w = m.t([3, 2, 2, 4], "i8", 0.02, 0, m.rand([3, 2, 2, 4], "i8"))
    bias = m.t([3], "i32", 0.037 * 0.02, 0, m.rng.integers(-4000, 4000, 3).astype(np.int32))
    h = m.t([1, 3, 3, 3], "i8", 0.06, -5)
    m.op(BO.CONV_2D, [r, w, bias], [h], OPT.Conv2DOptions, conv_opts(padding=0, stride=2))
    y1 = m.t([1, 3, 3, 3], "i8", 1 / 256, -128)
    m.op(BO.LOGISTIC, [h], [y1])
    u = m.t([3, 20], "u8", 0.3, 100)
    u2 = m.t([3, 20], "u8", 0.25, 90)
    m.op(BO.QUANTIZE, [u], [u2])
    pads = m.t([2, 2], "i32", data=np.array([[1, 0], [2, 3]], np.int32))
    u3 = m.t([4, 25], "u8", 0.25, 90)
    m.op(BO.PAD, [u2, pads], [u3])
    y2 = m.t([4, 25], "u8", 1 / 256, 0)
    m.op(BO.SOFTMAX, [u3], [y2], OPT.SoftmaxOptions, opts("SoftmaxOptionsT", beta=0.7))
    out.append(("hm_requant_logistic_softmax", m.bytes([x, u], [y1, y2])))
    return out


def _tf_version():
    from importlib import metadata

    for dist in ("tensorflow-cpu", "tensorflow"):
        try:
            return metadata.version(dist)
        except metadata.PackageNotFoundError:
            pass
    return "unknown"


def _source_key():
    h = hashlib.sha256(open(__file__, "rb").read())
    h.update(_tf_version().encode())
    return h.hexdigest()[:16]


def _convert(model, input_shapes, flavour, seed):
    import numpy as np
    import tensorflow as tf

    def rep():
        rng = np.random.default_rng(seed)
        for _ in range(32):
            yield [rng.normal(0, 1, size=s).astype(np.float32) for s in input_shapes]

    c = tf.lite.TFLiteConverter.from_keras_model(model)
    c.optimizations = [tf.lite.Optimize.DEFAULT]
    c.representative_dataset = rep
    c.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS_INT8]
    if flavour == "i8":
        c.inference_input_type = c.inference_output_type = tf.int8
    elif flavour == "u8":
        c.inference_input_type = c.inference_output_type = tf.uint8
    return c.convert()


def generate(cache_dir=None, only=None, verbose=False):
    """Returns [(name, tflite_bytes)] for every case and flavour (or those whose name is in
    only), converting what is not cached yet."""
    key = _source_key()
    d = cache_dir or os.path.join(CACHE_ROOT, key)
    index = os.path.join(d, "INDEX")
    if os.path.exists(index):
        names = open(index).read().split()
        if only is not None:
            names = [n for n in names if n in only]
        return [(n, open(os.path.join(d, n + ".tflite"), "rb").read()) for n in names]
    if cache_dir is None and os.path.isdir(CACHE_ROOT):  # drop caches of older sources
        import shutil

        for old in os.listdir(CACHE_ROOT):
            shutil.rmtree(os.path.join(CACHE_ROOT, old), ignore_errors=True)
    os.makedirs(d, exist_ok=True)
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    import keras

    out, names = [], []
    for i, (base, build, flavours) in enumerate(_cases()):
        keras.utils.set_random_seed(1000 + i)
        model = build()
        shapes = [tuple(t.shape) for t in model.inputs]
        for fl in flavours:
            name = f"{base}_{fl}"
            t0 = time.time()
            data = _convert(model, shapes, fl, seed=i)
            if verbose:
                print(f"{name}: {len(data)} bytes, {time.time() - t0:.1f}s", file=sys.stderr)
            with open(os.path.join(d, name + ".tflite"), "wb") as f:
                f.write(data)
            out.append((name, data))
            names.append(name)
    for name, data in _handmade():
        with open(os.path.join(d, name + ".tflite"), "wb") as f:
            f.write(data)
        out.append((name, data))
        names.append(name)
    with open(index, "w") as f:
        f.write("\n".join(names) + "\n")
    if only is not None:
        out = [(n, b) for n, b in out if n in only]
    return out


if __name__ == "__main__":
    t0 = time.time()
    ms = generate(verbose=True)
    print(f"{len(ms)} models in {time.time() - t0:.1f}s", file=sys.stderr)
