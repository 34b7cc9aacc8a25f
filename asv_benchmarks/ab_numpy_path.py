"""Interleaved A/B of asv benchmarks between two checkouts (is the NumPy path unchanged?).

``asv run --quick`` takes one sample per benchmark: on a shared machine two
runs minutes apart differ by up to 2x in either direction, for the reference
libraries as much as for numopt. This script times the same benchmark
methods in fresh subprocesses of each checkout (its own ``numopt`` and its own
benchmark files, one BLAS thread), alternating the order every round, and
prints the best time of each side::

    python asv_benchmarks/ab_numpy_path.py --base /path/to/old/checkout --rounds 4
    python asv_benchmarks/ab_numpy_path.py --base OLD --case tensor.Evaluate.time_numba:10000

The default cases are the NumPy-path benchmarks whose quick asv figures moved
most between df99af3 and the Array API change (#18).
"""
import json
import os
import subprocess
import sys
import time

CASES = [
    ("sampling", "ProjectionDPP", "time_sample", (1, 25, "numopt")),
    ("sampling", "WeightedLeastSquares", "time_fit", ("generalized-volume",)),
    ("sampling", "FiniteDPP", "time_sample", (1000, 20, "numopt")),
    ("tensor", "Evaluate", "time_numba", (10000,)),
    ("tensor", "Evaluate", "time_exact_function", (10000,)),
    ("ot", "OTVariants", "time_solve", (500, 0.01, "sinkhorn_epsilon_scaling", "numopt")),
    ("ot", "OTVariants", "time_solve", (500, 0.01, "sinkhorn_stabilized", "numopt")),
    ("ot", "OTVariants", "time_solve", (500, 0.01, "sinkhorn", "numopt")),
    ("ot", "OTVariants", "time_solve", (500, 0.01, "sinkhorn", "pot")),
    ("ot_sample", "SolveSample", "time_lazy", (2000,)),
]


def child(tree):
    sys.path.insert(0, os.path.join(tree, "asv_benchmarks"))
    import importlib
    out = {}
    for mod, cls, meth, params in CASES:
        m = importlib.import_module("benchmarks." + mod)
        obj = getattr(m, cls)()
        if hasattr(obj, "setup"):
            obj.setup(*params)
        f = getattr(obj, meth)
        f(*params)
        best = float("inf")
        t_end = time.perf_counter() + 2.0
        n = 0
        while n < 3 or (time.perf_counter() < t_end and n < 50):
            t = time.perf_counter()
            f(*params)
            best = min(best, time.perf_counter() - t)
            n += 1
        out[f"{mod}.{cls}.{meth}{tuple(params)}"] = best
    print(json.dumps(out))
def _parse_case(text):
    name, _, params = text.partition(":")
    mod, cls, meth = name.rsplit(".", 2)
    vals = []
    for p in filter(None, params.split(",")):
        try:
            vals.append(json.loads(p))
        except ValueError:
            vals.append(p)
    return mod, cls, meth, tuple(vals)




if __name__ == "__main__":
    import argparse
    if len(sys.argv) > 1 and sys.argv[1] == "child":
        if len(sys.argv) > 3:
            CASES[:] = json.loads(sys.argv[3])
        child(sys.argv[2])
        sys.exit()
    ap = argparse.ArgumentParser(description="interleaved A/B of asv benchmark methods")
    ap.add_argument("--base", required=True, help="checkout of the old commit")
    ap.add_argument("--head", default=os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    ap.add_argument("--rounds", type=int, default=4)
    ap.add_argument("--case", action="append", default=None,
                    help="module.Class.method:param1,param2 (repeatable)")
    args = ap.parse_args()
    cases = [_parse_case(c) for c in args.case] if args.case else CASES
    trees = {"base": args.base, "head": args.head}
    res = {k: [] for k in trees}
    for r in range(args.rounds):
        for k, tree in (trees.items() if r % 2 == 0 else reversed(list(trees.items()))):
            env = dict(os.environ, PYTHONPATH=tree, OPENBLAS_NUM_THREADS="1")
            o = subprocess.run([sys.executable, os.path.abspath(__file__), "child", tree,
                                json.dumps(cases)], env=env, cwd=os.path.expanduser("~"),
                               capture_output=True, text=True, check=True)
            res[k].append(json.loads(o.stdout.strip().splitlines()[-1]))
    for key in res["base"][0]:
        b = min(x[key] for x in res["base"])
        h = min(x[key] for x in res["head"])
        print(f"{key:<85} base {b*1e3:9.3f} ms  head {h*1e3:9.3f} ms  head/base {h/b:5.2f}")
    print(f"load average at the end: {os.getloadavg()[0]:.1f}")
