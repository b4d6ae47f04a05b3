"""Measure how LiteRT's kernel sets differ from qmpc's oracle on the same inputs.

The oracle is BUILTIN_WITHOUT_DEFAULT_DELEGATES with one thread. For every model
(../shared/models and tests/gen_models.py) and a few random inputs over the full integer
range, prints the fraction of output elements that differ and the largest difference
for: the same resolver with the default thread count, the default resolver (XNNPACK
delegate), and BUILTIN_REF (TFLite's reference kernels).

Usage: python tools/refdump/compare_resolvers.py [--seeds 3] [--no-generated]
"""
import argparse
import os
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import refdump  # noqa: E402


def outputs(data, resolver, threads, xs):
    it = refdump.interpreter(data, resolver, threads)
    return refdump.run(it, xs)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--seeds", type=int, default=3)
    ap.add_argument("--no-generated", action="store_true")
    a = ap.parse_args()
    models = []
    shared = os.path.join(refdump.ROOT, "..", "shared", "models")
    for rel in refdump.SHARED:
        p = os.path.join(shared, rel)
        if os.path.exists(p):
            models.append((rel, open(p, "rb").read()))
    if not a.no_generated:
        sys.path.insert(0, os.path.join(refdump.ROOT, "tests"))
        import gen_models

        models += gen_models.generate()
    variants = [("builtin,threads=default", "builtin", None), ("xnnpack(default)", "default", 1),
                ("builtin_ref", "ref", 1)]
    tot = {v[0]: [0, 0, 0] for v in variants}
    print(f"{'model':55s} " + " ".join(f"{v[0]:>28s}" for v in variants))
    for name, data in models:
        it = refdump.interpreter(data, "builtin", 1)
        cols = []
        for vname, res, th in variants:
            nd = n = md = 0
            for seed in range(a.seeds):
                rng = np.random.default_rng(seed)
                xs = [refdump.random_input(d, rng) for d in it.get_input_details()]
                want = refdump.run(it, xs)
                got = outputs(data, res, th, xs)
                for w, g in zip(want, got):
                    n += w.size
                    if w.dtype.kind == "f":
                        nd += int((w != g).sum())
                        md = max(md, float(np.abs(w - g).max()))
                    else:
                        diff = np.abs(w.astype(np.int64) - g.astype(np.int64))
                        nd += int((diff != 0).sum())
                        md = max(md, int(diff.max()))
            tot[vname][0] += nd
            tot[vname][1] += n
            tot[vname][2] = max(tot[vname][2], md)
            cols.append(f"{100 * nd / n:7.3f}% max {md:<8g}")
        print(f"{name:55s} " + " ".join(f"{c:>28s}" for c in cols), flush=True)
    print(f"{'TOTAL':55s} " + " ".join(f"{100 * t[0] / t[1]:7.3f}% max {t[2]:<8g}".rjust(28) for t in tot.values()))


if __name__ == "__main__":
    main()
