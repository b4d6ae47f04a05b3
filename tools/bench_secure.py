"""Secure-inference benchmark of the paper's MobileNetV1 models (BENCHMARKS.md).

For each model in ../shared/models: one cleartext run (qnn), then `--runs` secure runs
(all parties in this process, exact mode), and prints Markdown tables: per model the median
seconds, MB sent per party and rounds; per layer class (of the median run) seconds, MB and
rounds. Bytes and rounds do not depend on the data; seconds do depend on the machine's load.

Usage: .venv/bin/python tools/bench_secure.py [--protocol rep3] [--runs 3] [--models 0.25_128,...]
"""
from __future__ import annotations

import argparse
import os
import platform
import statistics
import sys
import time
from pathlib import Path

import numpy as np

import qmpc

ROOT = Path(__file__).resolve().parent.parent
SHARED = Path(os.environ.get("QMPC_SHARED_MODELS", ROOT.parent / "shared" / "models"))
MODELS = {
    "0.25_128": "coral/mobilenet_v1_0.25_128_quant.tflite",
    "0.5_160": "coral/mobilenet_v1_0.5_160_quant.tflite",
    "0.75_192": "coral/mobilenet_v1_0.75_192_quant.tflite",
}


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--protocol", default="rep3")
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--models", default=",".join(MODELS))
    args = ap.parse_args()
    print(f"machine: {platform.machine()}, {os.cpu_count()} cores, load average "
          f"{' '.join(f'{x:.1f}' for x in os.getloadavg())}; protocol {args.protocol}, exact mode\n")
    print("| model | s/inference (median) | MB sent per party | MB total | rounds | set-up MB |")
    print("|---|---|---|---|---|---|")
    kinds = {}
    for name in args.models.split(","):
        path = SHARED / MODELS[name]
        if not path.exists():
            print(f"| {name} | (model not available: {path}) | | | | |")
            continue
        m = qmpc.load(path)
        t = m.inputs[0]
        x = np.random.default_rng(0).integers(0, 256, size=t.shape, dtype=np.uint8)
        clear = m.run(x)
        runs = []
        for _ in range(args.runs):
            t0 = time.perf_counter()
            r = qmpc.secure_run(m, x, protocol=args.protocol, progress=False)
            runs.append((r.stats.total.seconds, time.perf_counter() - t0, r))
            assert np.array_equal(r.output, clear), "secure output differs from cleartext"
        runs.sort(key=lambda v: v[0])
        sec, _, r = runs[len(runs) // 2]
        tot = r.stats.total
        per = " / ".join(f"{b / 1e6:.1f}" for b in tot.bytes_sent)
        print(f"| {name} | {sec:.3f} | {per} | {sum(tot.bytes_sent) / 1e6:.1f} | {tot.rounds} | "
              f"{sum(r.stats.setup.bytes_sent) / 1e6:.1f} |")
        kinds[name] = r.stats.by_kind()
    for name, bk in kinds.items():
        print(f"\nper layer class, {name}:\n")
        print("| layer class | layers' outputs (elements) | s | MB total | rounds |")
        print("|---|---|---|---|---|")
        for kind, c in sorted(bk.items(), key=lambda kv: -kv[1].seconds):
            print(f"| {kind} | {c.elements} | {c.seconds:.3f} | {sum(c.bytes_sent) / 1e6:.1f} | {c.rounds} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
