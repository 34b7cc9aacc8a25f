"""numopt.linalg's NumPy path timed against a baseline checkout, interleaved (issue #18).

The Array API change must leave NumPy input on its Numba path, bit for bit and
without slowdown. Usage::

    python asv_benchmarks/numpy_path_linalg.py BASELINE_CHECKOUT [ROUNDS]

Each round starts one subprocess per checkout (``PYTHONPATH`` set to it; the
first in the round alternates), which runs every workload once to warm up and
then at least ``REPEATS`` times and for at least ``MIN_SECONDS``, timing
batches of calls of about ``BATCH_SECONDS`` (per-call figures). Times are
CPU times of the process (``time.process_time``: the workloads are
single-threaded; run with ``OPENBLAS_NUM_THREADS=1``), which a loaded, shared
machine disturbs far less than wall-clock times. Reported: the least time
over all rounds for each checkout, the ratio branch / baseline, and whether
the outputs are identical byte for byte.
"""
import hashlib
import json
import os
import subprocess
import sys
import time

REPEATS = 5
MIN_SECONDS = 0.3
BATCH_SECONDS = 0.02  # calls timed together (tiny workloads: clock resolution)


def workloads():
    """``{name: callable returning a tuple of arrays}`` on the NumPy path."""
    import numpy as np

    from numopt.linalg import (SORSmoother, randomized_kaczmarz, sketch_and_project,
                               solve_sequence, sor, ssor_pcg, ssor_preconditioner)
    from numopt.problems import poisson_2d, shifted_laplacian_sequence

    A = poisson_2d(60)
    b = np.random.default_rng(0).standard_normal(A.shape[0])
    small = poisson_2d(10)
    bs = np.ones(small.shape[0])
    smoother = SORSmoother(A, 1.5, "symmetric")
    small_smoother = SORSmoother(small, 1.5)
    prec = ssor_preconditioner(A, 1.6)
    seq = shifted_laplacian_sequence(60, rng=0)
    rng = np.random.default_rng(1)
    K = rng.standard_normal((400, 100))
    k = K @ rng.standard_normal(100)

    def smooth(s, rhs, its):
        def run():
            return (s(np.zeros(rhs.shape[0]), rhs, its),)
        return run

    return {
        "sor poisson 3600 w=1.9": lambda: (sor(A, b, 1.9, tol=1e-8).x,),
        "sor poisson 100 w=1.5": lambda: (sor(small, bs, 1.5).x,),
        "sor symmetric 3600": lambda: (sor(A, b, 1.8, tol=1e-6, sweep="symmetric").x,),
        "ssor_pcg 3600 w=1.6": lambda: (ssor_pcg(A, b, 1.6).x,),
        "cg 3600": lambda: (ssor_pcg(A, b, None).x,),
        "ssor_pcg 100": lambda: (ssor_pcg(small, bs, 1.5).x,),
        "SORSmoother 3600 x3": smooth(smoother, b, 3),
        "SORSmoother 100 x1": smooth(small_smoother, bs, 1),
        "ssor_preconditioner matvec": lambda: (prec.matvec(b),),
        "solve_sequence 60 tsallis": lambda: (solve_sequence(seq, rng=0).nit,),
        "kaczmarz 400x100": lambda: (randomized_kaczmarz(K, k, tol=1e-6, rng=0).x,),
        "sketch_and_project 400x100": lambda: (sketch_and_project(K, k, tol=1e-6, rng=0).x,),
    }


def child():
    """Print JSON ``{name: [least seconds, sha1 of the outputs]}`` for this checkout."""
    import numpy as np
    out = {}
    for name, run in workloads().items():
        run()
        t0 = time.process_time()
        arrays = run()
        inner = max(1, int(BATCH_SECONDS / max(time.process_time() - t0, 1e-6)))
        best, spent, count = float("inf"), 0.0, 0
        while count < REPEATS or spent < MIN_SECONDS:
            t0 = time.process_time()
            for _ in range(inner):
                arrays = run()
            t = time.process_time() - t0
            best, spent, count = min(best, t / inner), spent + t, count + 1
        h = hashlib.sha1()
        for a in arrays:
            h.update(np.ascontiguousarray(a).tobytes())
        out[name] = [best, h.hexdigest()]
    print(json.dumps(out))


def main(base, rounds):
    branch = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    checkouts = {"baseline": os.path.abspath(base), "branch": branch}
    times = {label: {} for label in checkouts}
    digests = {label: {} for label in checkouts}
    for r in range(rounds):
        labels = ["baseline", "branch"] if r % 2 == 0 else ["branch", "baseline"]
        for label in labels:
            proc = subprocess.run([sys.executable, os.path.abspath(__file__), "--child"],
                                  env=dict(os.environ, PYTHONPATH=checkouts[label]),
                                  cwd=checkouts[label], capture_output=True, text=True,
                                  check=True)
            for name, (t, h) in json.loads(proc.stdout.strip().splitlines()[-1]).items():
                times[label][name] = min(times[label].get(name, float("inf")), t)
                digests[label][name] = h
    print(f"{'workload (CPU time)':30s} {'baseline ms':>12s} {'branch ms':>10s} {'ratio':>6s} "
          "same bytes")
    for name, tb in times["baseline"].items():
        tn = times["branch"][name]
        same = digests["baseline"][name] == digests["branch"][name]
        print(f"{name:30s} {1e3 * tb:12.3f} {1e3 * tn:10.3f} {tn / tb:6.3f} {same}")


if __name__ == "__main__":
    if sys.argv[1:2] == ["--child"]:
        child()
    else:
        main(sys.argv[1], int(sys.argv[2]) if len(sys.argv) > 2 else 3)
