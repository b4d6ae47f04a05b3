"""Time LiteRT on the MobileNetV1 models qmpc benchmarks (for comparison with
`go test ./gocore/qnn -bench MobileNetV1`).

Prints the median wall time and process CPU time of set_tensor + invoke + get_tensor
over --runs runs (after warm-up) for
each model, with one thread, for the builtin kernels (BUILTIN_WITHOUT_DEFAULT_DELEGATES,
qmpc's oracle) and the default resolver (XNNPACK delegate). "1.0_224_chain" is the
embedding extractor followed by the head layers (two invokes).

Usage: python tools/refdump/bench_litert.py [--runs 20] [--threads 1]
"""
import argparse
import os
import statistics
import sys
import time

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import refdump  # noqa: E402

MODELS = {
    "0.25_128": ["coral/mobilenet_v1_0.25_128_quant.tflite"],
    "0.5_160": ["coral/mobilenet_v1_0.5_160_quant.tflite"],
    "0.75_192": ["coral/mobilenet_v1_0.75_192_quant.tflite"],
    "1.0_224_chain": ["coral/mobilenet_v1_1.0_224_quant_embedding_extractor.tflite",
                      "coral/mobilenet_quant_v1_224_head_layers.tflite"],
}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=20)
    ap.add_argument("--threads", type=int, default=1)
    a = ap.parse_args()
    shared = os.path.join(refdump.ROOT, "..", "shared", "models")
    for name, files in MODELS.items():
        paths = [os.path.join(shared, f) for f in files]
        if not all(os.path.exists(p) for p in paths):
            print(f"{name}: skipped (models absent)")
            continue
        for res in ("builtin", "default"):
            its = [refdump.interpreter(open(p, "rb").read(), res, a.threads) for p in paths]
            rng = np.random.default_rng(0)
            x = refdump.random_input(its[0].get_input_details()[0], rng)
            times, cpu = [], []
            for r in range(a.runs + 3):
                t0, c0 = time.perf_counter(), time.process_time()
                v = x
                for it in its:
                    v = refdump.run(it, [v.reshape(it.get_input_details()[0]["shape"])])[0]
                if r >= 3:
                    times.append(time.perf_counter() - t0)
                    cpu.append(time.process_time() - c0)
            print(f"{name:14s} {res:8s} threads={a.threads}: {1000 * statistics.median(times):8.2f} ms wall, "
                  f"{1000 * statistics.median(cpu):8.2f} cpu-ms", flush=True)


if __name__ == "__main__":
    main()
