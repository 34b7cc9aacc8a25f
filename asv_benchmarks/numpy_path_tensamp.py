"""NumPy-path timings of numopt.tensor and numopt.sampling: this tree against a baseline tree.

Issue #18 asks that NumPy input keeps its speed after the Array API change.
Runs the same operations, interleaved, in fresh subprocesses importing
numopt from each tree (``PYTHONPATH``), and prints the median time of each
operation per tree and the ratio new / base::

    git -C /work/main worktree add --detach /work/wt/base-xp-tensamp e768c07
    python asv_benchmarks/numpy_path_tensamp.py --base /work/wt/base-xp-tensamp --rounds 5

Each subprocess warms every operation up once (Numba compilation, caches)
and then reports the best of several repeats; the table gives the median and
the minimum of these over the rounds, per tree.
"""
import argparse
import json
import os
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def _ops():
    import numpy as np

    from numopt.problems import erf_newton, random_charges_potential
    from numopt.sampling import (finite_basis, polynomial_basis, sample_points,
                                 weighted_least_squares)
    from numopt.tensor import chebyshev_tucker

    f = erf_newton(0.3)
    cube = [[-1.0, 1.0]] * 3
    ct = chebyshev_tucker(f, cube, degree=32, tol=1e-8)
    cp = random_charges_potential(20, rng=0).cp_tensor()
    x = np.random.default_rng(0).uniform(-1, 1, (200_000, 3))
    B = polynomial_basis("legendre", dim=30, d=2)
    X = np.random.default_rng(1).uniform(-1, 1, (20_000, 2))
    C = np.random.default_rng(2).uniform(-1, 1, (3000, 2))
    phi = lambda Z: np.column_stack([Z[:, 0] ** i * Z[:, 1] ** j  # noqa: E731
                                     for i in range(4) for j in range(4 - i)])
    Bf = finite_basis(phi, C)
    runge = lambda t: 1.0 / (1.0 + 25.0 * t * t)  # noqa: E731
    return {
        "tensor build (function, m=33)": lambda: chebyshev_tucker(f, cube, degree=32,
                                                                  tol=1e-8),
        "tensor build (CP, 20 charges)": lambda: chebyshev_tucker(cp, [-1, 1], degree=30,
                                                                  tol=1e-8),
        "tensor eval 2e5 points (Numba)": lambda: ct(x),
        "tensor 2*ct - 1 + ct": lambda: 2.0 * ct - 1.0 + ct,
        "sampling features 2e4 x 30": lambda: B(X),
        "sampling repeated-dpp d=2 m=30": lambda: sample_points(B, 60, "repeated-dpp",
                                                                rng=0),
        "sampling finite_basis + dpp N=3000": lambda: sample_points(
            finite_basis(phi, C), 10, "dpp", rng=0),
        "sampling finite iid n=500": lambda: sample_points(Bf, 500, "iid", rng=0),
        "wls legendre m=20 repeated-dpp": lambda: weighted_least_squares(
            runge, "legendre", dim=20, n=40, sampling="repeated-dpp", rng=0),
    }


def child(repeat):
    import numopt
    out = {"__file__": numopt.__file__}
    for name, op in _ops().items():
        op()
        best = float("inf")
        for _ in range(repeat):
            t = time.perf_counter()
            op()
            best = min(best, time.perf_counter() - t)
        out[name] = best
    print(json.dumps(out))


def run(tree, repeat):
    # one BLAS thread: on a loaded machine OpenBLAS threads spin and a 3000 x 10 QR
    # takes 1 ms or 300 ms at random; both trees run with the same settings
    env = dict(os.environ, PYTHONPATH=tree, NUMBA_NUM_THREADS="2", OMP_NUM_THREADS="1",
               OPENBLAS_NUM_THREADS="1", MKL_NUM_THREADS="1")
    cmd = [sys.executable, os.path.abspath(__file__), "--child", "--repeat", str(repeat)]
    res = subprocess.run(cmd, env=env, cwd=tree, capture_output=True, text=True, check=True)
    return json.loads(res.stdout.strip().splitlines()[-1])


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--base", help="baseline tree (e.g. a worktree at e768c07)")
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--child", action="store_true")
    args = ap.parse_args()
    if args.child:
        child(args.repeat)
        return
    import statistics
    times = {"base": [], "new": []}
    for r in range(args.rounds):
        order = [("base", args.base), ("new", HERE)]
        if r % 2:
            order.reverse()
        for label, tree in order:
            times[label].append(run(tree, args.repeat))
    for label in times:
        print(f"{label}: numopt from {times[label][0]['__file__']}")
    print(f"{'operation':36s} {'base med':>9s} {'new med':>9s} {'ratio':>6s} "
          f"{'base min':>9s} {'new min':>9s} {'ratio':>6s}   [ms]")
    for name in times["new"][0]:
        if name.startswith("__"):
            continue
        row = []
        for stat in (statistics.median, min):
            b = stat(t[name] for t in times["base"]) * 1e3
            n = stat(t[name] for t in times["new"]) * 1e3
            row.append(f"{b:9.2f} {n:9.2f} {n / b:6.2f}")
        print(f"{name:36s} " + " ".join(row))


if __name__ == "__main__":
    main()
