"""Dump LiteRT reference outputs for qmpc's Go tests.

For each model, writes a directory OUT/<name>/ with
  model.path          absolute path of the .tflite file Go must read (models are not copied)
  in_<seed>_<k>.npy   input k for run <seed> (random over the full integer range)
  out_<seed>_<k>.npy  output k of LiteRT for that input
  trace_0/t<i>.npy    (--trace) tensor i as LiteRT computed it for seed 0

The oracle is LiteRT's builtin kernels without the default XNNPACK delegate
(OpResolverType.BUILTIN_WITHOUT_DEFAULT_DELEGATES), one thread.

Models whose files LiteRT refuses but qmpc accepts (tflm/person_detect.tflite: its bias
tensors carry quantized_dimension 3 on a 1-D tensor) are patched in memory for LiteRT
only (quantized_dimension set to 0 on those tensors; the values are unchanged).

Usage:
  python tools/refdump/refdump.py [--out tests/_generated/ref] [--seeds 3] [--shared ../shared/models]
                                  [--generated] [--no-shared] [MODEL.tflite ...]
"""
import argparse
import hashlib
import os
import sys

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))

# Shared models used as references (LSTM/SVDF models are not qmpc's business).
SHARED = [
    "coral/mobilenet_v1_0.25_128_quant.tflite",
    "coral/mobilenet_v1_0.5_160_quant.tflite",
    "coral/mobilenet_v1_0.75_192_quant.tflite",
    "coral/mobilenet_v1_1.0_224_quant_embedding_extractor.tflite",
    "coral/mobilenet_quant_v1_224_head_layers.tflite",
    "coral/mobilenet_v2_1.0_224_quant.tflite",
    "coral/tf2_mobilenet_v2_1.0_224_ptq.tflite",
    "coral_2020/mobilenet_v1_0.25_128_quant.tflite",
    "tflm/person_detect.tflite",
    "tflm/hello_world_int8.tflite",
]


def fix_for_litert(data):
    """Returns model bytes LiteRT accepts: per-axis quantization parameters whose
    quantized_dimension is out of range for the tensor's rank are reset to 0."""
    import flatbuffers
    import ai_edge_litert.schema_py_generated as fb

    mt = fb.ModelT.InitFromObj(fb.Model.GetRootAsModel(data, 0))
    changed = False
    for sg in mt.subgraphs:
        for t in sg.tensors:
            q = t.quantization
            if q is None or t.shape is None:
                continue
            if q.quantizedDimension and q.quantizedDimension >= len(t.shape):
                q.quantizedDimension = 0
                changed = True
    if not changed:
        return data
    b = flatbuffers.Builder(len(data) + 1024)
    b.Finish(mt.Pack(b), file_identifier=b"TFL3")
    return bytes(b.Output())


def interpreter(data, resolver="builtin", threads=1, preserve=False):
    from ai_edge_litert.interpreter import Interpreter, OpResolverType

    res = {
        "builtin": OpResolverType.BUILTIN_WITHOUT_DEFAULT_DELEGATES,
        "default": OpResolverType.AUTO,
        "ref": OpResolverType.BUILTIN_REF,
    }[resolver]
    it = Interpreter(model_content=fix_for_litert(data), experimental_op_resolver_type=res,
                     num_threads=threads, experimental_preserve_all_tensors=preserve)
    it.allocate_tensors()
    return it


def random_input(detail, rng):
    shape, dtype = tuple(detail["shape"]), np.dtype(detail["dtype"])
    if dtype.kind in "iu":
        info = np.iinfo(dtype)
        return rng.integers(info.min, int(info.max) + 1, size=shape, dtype=np.int64).astype(dtype)
    scale, zp = detail["quantization"]
    if not scale:
        scale, zp = 0.05, 0
    # Floats spanning a bit more than the quantized range, so clamping is exercised.
    lo, hi = (-128 - zp) * scale * 1.1, (127 - zp) * scale * 1.1
    return rng.uniform(lo, hi, size=shape).astype(dtype)


def run(it, xs):
    for d, x in zip(it.get_input_details(), xs):
        it.set_tensor(d["index"], x)
    it.invoke()
    return [it.get_tensor(d["index"]).copy() for d in it.get_output_details()]


def dump(path, name, out_dir, seeds, data=None, trace=False):
    if data is None:
        data = open(path, "rb").read()
    d = os.path.join(out_dir, name)
    os.makedirs(d, exist_ok=True)
    if path is None:
        path = os.path.join(d, "model.tflite")
        with open(path, "wb") as f:
            f.write(data)
    with open(os.path.join(d, "model.path"), "w") as f:
        f.write(os.path.abspath(path) + "\n")
    it = interpreter(data, preserve=trace)
    for seed in range(seeds):
        rng = np.random.default_rng(seed)
        xs = [random_input(det, rng) for det in it.get_input_details()]
        ys = run(it, xs)
        for k, x in enumerate(xs):
            np.save(os.path.join(d, f"in_{seed}_{k}.npy"), x)
        for k, y in enumerate(ys):
            np.save(os.path.join(d, f"out_{seed}_{k}.npy"), y)
        if trace and seed == 0:
            # Every tensor LiteRT computed (op outputs), by tensor index, for layer-by-layer
            # comparison with qnn.RunTrace.
            td = os.path.join(d, "trace_0")
            os.makedirs(td, exist_ok=True)
            outs = set()
            for op in it._get_ops_details():
                outs.update(int(i) for i in op["outputs"])
            for ti in sorted(outs):
                try:
                    np.save(os.path.join(td, f"t{ti}.npy"), it.get_tensor(ti))
                except ValueError:
                    pass
    print(f"{name}: {seeds} runs", file=sys.stderr)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", default=os.path.join(ROOT, "tests", "_generated", "ref"))
    ap.add_argument("--seeds", type=int, default=3)
    ap.add_argument("--shared", default=os.path.join(ROOT, "..", "shared", "models"))
    ap.add_argument("--generated", action="store_true", help="also dump tests/gen_models.py models")
    ap.add_argument("--no-shared", action="store_true", help="skip the ../shared/models files")
    ap.add_argument("--trace", action="store_true", help="also dump every intermediate tensor of seed 0")
    ap.add_argument("models", nargs="*")
    a = ap.parse_args()
    for m in a.models:
        dump(m, os.path.splitext(os.path.basename(m))[0], a.out, a.seeds, trace=a.trace)
    if not a.models and not a.no_shared:
        for rel in SHARED:
            p = os.path.join(a.shared, rel)
            if os.path.exists(p):
                dump(p, rel.replace("/", "__").removesuffix(".tflite"), a.out, a.seeds, trace=a.trace)
            else:
                print(f"skip {rel}: not found", file=sys.stderr)
    if a.generated:
        sys.path.insert(0, os.path.join(ROOT, "tests"))
        import gen_models

        for name, data in gen_models.generate():
            dump(None, "gen__" + name, a.out, a.seeds, data=data, trace=a.trace)


if __name__ == "__main__":
    main()
