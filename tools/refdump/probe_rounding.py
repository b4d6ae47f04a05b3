"""Dev probe: which requantization rounding does LiteRT use per op on this machine?

For every CONV_2D / DEPTHWISE_CONV_2D / FULLY_CONNECTED op of a model, runs LiteRT with
all intermediate tensors preserved, recomputes the int32 accumulators in numpy from the
op's actual input, applies several candidate requantization formulas and counts the
outputs each formula gets wrong.

Usage: python tools/refdump/probe_rounding.py MODEL.tflite [builtin|default|ref] [seeds]
(PERCH=1 in the environment also lists the channels where each formula is wrong.)
"""
import os
import sys
import numpy as np
import ai_edge_litert.schema_py_generated as fb
from ai_edge_litert.interpreter import Interpreter, OpResolverType

CONV, DW, FC = 3, 4, 9


def quantize_multiplier(real):
    if real == 0:
        return 0, 0
    q, e = np.frexp(real)
    qf = int(np.floor(abs(q) * (1 << 31) + 0.5))  # multipliers are positive
    if qf == 1 << 31:
        qf //= 2
        e += 1
    if e < -31:
        return 0, 0
    return qf, int(e)


def srdhm(a, b):
    ab = a.astype(np.int64) * np.int64(b)
    return (ab + (1 << 30)) >> 31  # floor((ab + 2^30) / 2^31); equals gemmlowp


def rdbpot_away(x, e):
    if e == 0:
        return x
    mask = (1 << e) - 1
    rem = x & mask
    thr = (mask >> 1) + (x < 0)
    return (x >> e) + (rem > thr)


def rshift_up(x, e):
    if e == 0:
        return x
    return (x + (1 << (e - 1))) >> e


def requant(acc, m, shift, mode):
    l, r = max(shift, 0), max(-shift, 0)
    x = acc.astype(np.int64) << l
    if mode == "double_away":
        return rdbpot_away(srdhm(x, m), r)
    if mode == "double_up":
        return rshift_up(srdhm(x, m), r)
    if mode == "single_up":
        return (x * m + (1 << (30 + r))) >> (31 + r)
    raise ValueError(mode)


def same_pad(in_size, k, stride, dil):
    eff = (k - 1) * dil + 1
    out = (in_size + stride - 1) // stride
    total = max((out - 1) * stride + eff - in_size, 0)
    return out, total // 2


def conv_acc(x, zx, w, zw, bias, sh, sw, dh, dw, padding, depthwise, mult):
    n, H, W, C = x.shape
    _, KH, KW, O = w.shape if depthwise else (None,) + w.shape[1:3] + (w.shape[0],)
    if padding == 0:  # SAME
        OH, ph = same_pad(H, KH, sh, dh)
        OW, pw = same_pad(W, KW, sw, dw)
    else:
        OH = (H - ((KH - 1) * dh + 1)) // sh + 1
        OW = (W - ((KW - 1) * dw + 1)) // sw + 1
        ph = pw = 0
    xs = x.astype(np.int64) - zx
    xp = np.zeros((n, H + 2 * KH * dh + 2 * ph, W + 2 * KW * dw + 2 * pw, C), np.int64)
    xp[:, ph:ph + H, pw:pw + W, :] = xs
    ws = w.astype(np.int64) - zw
    out = np.zeros((n, OH, OW, O), np.int64)
    for ky in range(KH):
        for kx in range(KW):
            patch = xp[:, ky * dh: ky * dh + sh * (OH - 1) + 1: sh, kx * dw: kx * dw + sw * (OW - 1) + 1: sw, :]
            if depthwise:
                out += np.repeat(patch, mult, axis=3) * ws[0, ky, kx, :]
            else:
                out += patch @ ws[:, ky, kx, :].T
    if bias is not None:
        out += bias.astype(np.int64)
    return out


def main():
    path = sys.argv[1]
    mode = sys.argv[2] if len(sys.argv) > 2 else "builtin"
    seeds = int(sys.argv[3]) if len(sys.argv) > 3 else 3
    data = open(path, "rb").read()
    mt = fb.ModelT.InitFromObj(fb.Model.GetRootAsModel(data, 0))
    sg = mt.subgraphs[0]
    res = {"builtin": OpResolverType.BUILTIN_WITHOUT_DEFAULT_DELEGATES,
           "default": OpResolverType.AUTO, "ref": OpResolverType.BUILTIN_REF}[mode]
    it = Interpreter(model_content=data, experimental_op_resolver_type=res,
                     experimental_preserve_all_tensors=True, num_threads=1)
    it.allocate_tensors()
    inp = it.get_input_details()[0]
    modes = ["double_away", "double_up", "single_up"]
    tot = {}
    for seed in range(seeds):
        rng = np.random.default_rng(seed)
        info = np.iinfo(inp["dtype"])
        it.set_tensor(inp["index"], rng.integers(info.min, info.max + 1, inp["shape"]).astype(inp["dtype"]))
        it.invoke()
        for oi, op in enumerate(sg.operators):
            oc = mt.operatorCodes[op.opcodeIndex]
            code = max(oc.builtinCode, oc.deprecatedBuiltinCode)
            if code not in (CONV, DW, FC):
                continue
            t = lambda i: sg.tensors[i]
            xi, wi = op.inputs[0], op.inputs[1]
            bi = op.inputs[2] if len(op.inputs) > 2 else -1
            oi_ = op.outputs[0]
            x, w = it.get_tensor(xi), it.get_tensor(wi)
            b = it.get_tensor(bi) if bi >= 0 else None
            y = it.get_tensor(oi_).astype(np.int64)
            qx, qw, qy = t(xi).quantization, t(wi).quantization, t(oi_).quantization
            zx, zy = int(qx.zeroPoint[0]), int(qy.zeroPoint[0])
            sx, sy = np.float32(qx.scale[0]), np.float32(qy.scale[0])
            sws = np.asarray(qw.scale, np.float32)
            zws = np.asarray(qw.zeroPoint, np.int64)
            o = op.builtinOptions
            if code == FC:
                xs = x.reshape(-1, w.shape[1]).astype(np.int64) - zx
                acc = xs @ (w.astype(np.int64) - zws[0]).T
                if b is not None:
                    acc += b
                nch = w.shape[0]
                act = o.fusedActivationFunction
            else:
                dwm = code == DW
                nch = w.shape[3] if dwm else w.shape[0]
                assert (zws == zws[0]).all()
                zw = zws[0]
                acc = conv_acc(x, zx, w, zw, b, o.strideH, o.strideW,
                               o.dilationHFactor, o.dilationWFactor, o.padding, dwm,
                               getattr(o, "depthMultiplier", 1))
                act = o.fusedActivationFunction
            acc = acc.reshape(-1, nch)
            y = y.reshape(-1, nch)
            info_y = np.iinfo(it.get_tensor(oi_).dtype)
            lo, hi = info_y.min, info_y.max
            if act in (1, 3):
                lo = max(lo, zy + int(np.round(0 / sy)))
            if act == 3:
                hi = min(hi, zy + int(np.round(np.float32(6.0) / sy)))
            for md in modes:
                out = np.zeros_like(acc)
                for c in range(nch):
                    s = sws[c] if len(sws) > 1 else sws[0]
                    real = float(sx) * float(s) / float(sy)
                    m, sh = quantize_multiplier(real)
                    out[:, c] = requant(acc[:, c], m, sh, md)
                out = np.clip(out + zy, lo, hi)
                bad = out != y
                key = (oi, md)
                a = tot.setdefault(key, [0, 0, 0, nch, ["CONV", "DW", "FC"][[CONV, DW, FC].index(code)]])
                a[0] += int(bad.sum())
                a[1] += out.size
                a[2] = max(a[2], int(np.abs(out - y).max()))
                a.append(set(np.nonzero(bad.any(axis=0))[0].tolist()))
    for (oi, md), (nb, n, mx, nch, name, *chs) in sorted(tot.items()):
        print(f"op{oi:3d} {name:5s} ch={nch:5d} {md:12s} wrong={nb:7d}/{n:8d} maxdiff={mx}")
        if os.environ.get("PERCH") and nb:
            print("      channels with errors:", sorted(set().union(*chs)))


if __name__ == "__main__":
    main()
