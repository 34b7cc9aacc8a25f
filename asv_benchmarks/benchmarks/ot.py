"""numopt.ot against POT (``ot.sinkhorn``, ``ot.sinkhorn_log``, ``ot.emd2``) and regot.

Problem: two clouds of n uniform points in [0, 1]^2, squared Euclidean cost
divided by its maximum, uniform weights (``numopt.problems.ot_point_clouds``).
Every solver runs to a marginal error of ``TOL = 1e-9`` (numopt and POT: the
column error ``||P^T 1 - b||_2`` after the row update; regot: its own
gradient norm). Tracked: wall time, iterations, final marginal error of the
returned plan (max of the row and column 2-norm errors).

Run as a script for a side-by-side table (single-threaded BLAS/Numba
recommended on a shared machine)::

    OPENBLAS_NUM_THREADS=1 NUMBA_NUM_THREADS=1 python asv_benchmarks/benchmarks/ot.py \
        --n 500 1000 2000 --reg 1e-2 1e-3 1e-4

``--variants`` instead compares POT's other Sinkhorn methods
(``sinkhorn_stabilized``, ``sinkhorn_epsilon_scaling``, ``greenkhorn``, and
``sinkhorn`` where ``exp(-M/reg)`` underflows) with numopt's versions, run
interleaved (numopt, POT, numopt, POT; best of each)::

    OPENBLAS_NUM_THREADS=1 NUMBA_NUM_THREADS=1 python asv_benchmarks/benchmarks/ot.py \
        --variants --n 500 1000 --reg 1e-2 1e-3
"""
import argparse
import os
import sys
import time
import warnings

# run as a script, this file's folder comes first on sys.path and would shadow POT's `ot`
if sys.path and os.path.abspath(sys.path[0] or os.curdir) == os.path.dirname(
        os.path.abspath(__file__)):
    sys.path.pop(0)

import numpy as np

from numopt.ot import sinkhorn as np_sinkhorn
from numopt.ot import solve as np_solve
from numopt.problems import ot_point_clouds

try:
    import ot as pot
except ImportError:  # pragma: no cover
    pot = None
try:
    import regot
except ImportError:  # pragma: no cover
    regot = None

try:
    from . import pick   # quick / full profile (see __init__.py)
except ImportError:  # run as a script: the full profile
    def pick(full, quick):
        return full

TOL = 1e-9
NUMOPT = ["numopt-sinkhorn", "numopt-sinkhorn_log", "numopt-sns"]
REFERENCES = ["pot-sinkhorn", "pot-sinkhorn_log", "pot-emd2", "regot-ssns"]
#: POT's log-domain solver costs ~60-90x a scaling iteration; skip it where it
#: would process more than this many (iterations x cost entries)
POT_LOG_BUDGET = 2e8


def _problem(n):
    return ot_point_clouds(n, rng=0)


def _err(P, a, b):
    return float(max(np.linalg.norm(P.sum(1) - a), np.linalg.norm(P.sum(0) - b)))


def run(name, p, reg, maxiter=200_000):
    """Solve with ``name``; return (seconds, iterations, marginal error)."""
    a, b, M = p.a, p.b, p.M
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        t = time.perf_counter()
        if name.startswith("numopt-"):
            method = name.split("-", 1)[1]
            res = np_solve(M, a, b, reg, method=method, tol=TOL,
                           maxiter=1000 if method == "sns" else maxiter)
            el = time.perf_counter() - t
            return el, res.nit, _err(res.plan, a, b)
        if name == "pot-sinkhorn" or name == "pot-sinkhorn_log":
            method = name.split("-", 1)[1]
            P, log = pot.sinkhorn(a, b, M, reg, method=method, numItermax=maxiter,
                                  stopThr=TOL, log=True)
            el = time.perf_counter() - t
            return el, log["niter"] + 1, _err(P, a, b)
        if name == "pot-emd2":
            G = pot.emd(a, b, M, numItermax=10_000_000)
            el = time.perf_counter() - t
            return el, np.nan, _err(G, a, b)
        if name == "regot-ssns":
            r = regot.sinkhorn_ssns(np.asfortranarray(M), a, b, reg, tol=TOL, max_iter=1000)
            el = time.perf_counter() - t
            return el, r.niter, _err(r.plan, a, b)
    raise ValueError(name)


def _available(name, n, reg):
    if name.startswith("pot") and pot is None:
        return False
    if name.startswith("regot") and regot is None:
        return False
    if name == "pot-sinkhorn_log":
        # iterations grow like 1/reg; estimate from 171 iterations at reg = 1e-2
        return 171 * (1e-2 / reg) * n * n <= POT_LOG_BUDGET
    return True


def _warm(regs=(1e-2, 1e-4), names=NUMOPT):
    """Compile (or load from Numba's cache) the kernels ``names`` use at ``regs``."""
    p = _problem(50)
    for name in names:
        for reg in regs:
            run(name, p, reg)


class OTSolvers:
    """Time / iterations / error to TOL for each solver."""

    params = pick(([500, 1000], [1e-2, 1e-3, 1e-4], NUMOPT + REFERENCES),
                  ([500], [1e-2], NUMOPT + REFERENCES))
    param_names = ["n", "reg", "solver"]
    timeout = 600

    def setup(self, n, reg, solver):
        if not _available(solver, n, reg):
            raise NotImplementedError("solver not installed or too slow here")
        if solver.startswith("numopt-"):  # warm what is timed: this solver, this reg
            _warm(regs=(reg,), names=(solver,))
        self.p = _problem(n)

    def time_solve(self, n, reg, solver):
        run(solver, self.p, reg)

    def track_iterations(self, n, reg, solver):
        return run(solver, self.p, reg)[1]

    track_iterations.unit = "iterations"

    def track_marginal_error(self, n, reg, solver):
        return run(solver, self.p, reg)[2]

    track_marginal_error.unit = "L2 error"


def _best(fn, r):
    fn()
    out = np.inf
    for _ in range(r):
        t = time.perf_counter()
        fn()
        out = min(out, time.perf_counter() - t)
    return out


def _per_iteration(solve_k, k1, k2, r):
    """Seconds per iteration of ``solve_k(k)`` (``k`` iterations plus a fixed setup):
    the best-of-``r`` difference between ``k2`` and ``k1`` iterations, over ``k2 - k1``."""
    return max(_best(lambda: solve_k(k2), r) - _best(lambda: solve_k(k1), r), 0.0) / (k2 - k1)


def sweep_rates(n):
    """Seconds per fused scaling sweep, log-domain sweep, 2 BLAS gemv, one read of K.

    The sweeps are timed through the public ``numopt.ot.sinkhorn`` with a fixed
    iteration count (``stopThr=0``) on Numba's full thread count: the difference of
    two counts cancels the setup (the kernel ``exp(-M / reg)``, the plan).
    The read of ``K`` (``K.sum()``, SIMD, memory bound) is the bandwidth floor
    of an iteration: the fused sweep reads ``K`` exactly once.
    """
    import numba
    p = _problem(n)
    reg = 1e-2
    K = np.exp(-p.M / reg)
    v, u = np.ones(n), np.full(n, 1.0 / n)
    kw = dict(stopThr=0.0, warn=False, n_threads=numba.get_num_threads())

    def scaling(k):
        np_sinkhorn(p.a, p.b, p.M, reg, method="sinkhorn", numItermax=k, **kw)

    def log_domain(k):
        np_sinkhorn(p.a, p.b, p.M, reg, method="sinkhorn_log", numItermax=k, **kw)

    ts = _per_iteration(scaling, 2, 22, 7)
    tl = _per_iteration(log_domain, 1, 6, 5)
    tg = _best(lambda: (K @ v, K.T @ u), 20)
    tr = _best(lambda: K.sum(), 20)
    return ts, tl, tg, tr


class Sweeps:
    """Cost of one Sinkhorn iteration: fused scaling, fused log domain, 2 BLAS gemv."""

    params = pick([1000, 2000], [1000])
    param_names = ["n"]

    def setup(self, n):
        self.rates = sweep_rates(n)

    def track_scaling_sweep_gbps(self, n):
        return 8.0 * n * n / self.rates[0] / 1e9

    track_scaling_sweep_gbps.unit = "GB/s"

    def track_log_over_scaling(self, n):
        return self.rates[1] / self.rates[0]

    track_log_over_scaling.unit = "ratio"

    def track_scaling_over_read_floor(self, n):
        return self.rates[0] / self.rates[3]

    track_scaling_over_read_floor.unit = "ratio"


#: POT's Sinkhorn variants timed against numopt's (``--variants``, ``OTVariants``)
VARIANTS = ["sinkhorn", "sinkhorn_stabilized", "sinkhorn_epsilon_scaling", "greenkhorn"]
#: Greenkhorn updates one row or column per step: a step budget instead of a
#: tolerance (POT's Python loop costs ~20 us a step)
GREENKHORN_STEPS = 20_000


def run_variant(lib, method, p, reg, maxiter=100_000):
    """``lib`` ('numopt' or 'pot') solves with ``method``; (seconds, iterations, error).

    Both stop at ``TOL`` (POT's own error measure for each method); Greenkhorn
    runs exactly ``GREENKHORN_STEPS`` steps (tolerance 0). Iterations: POT's
    count is known to its error-check period (10 or 20 iterations); epsilon
    scaling reports stages for POT and inner iterations for numopt.
    """
    a, b, M = p.a, p.b, p.M
    kw = dict(numItermax=maxiter, stopThr=TOL, log=True, warn=False)
    if method == "greenkhorn":
        kw.update(numItermax=GREENKHORN_STEPS, stopThr=0.0)
    if method == "sinkhorn_epsilon_scaling":  # POT's defaults: 100 stages of <= 100 iterations
        kw.update(numItermax=100, numInnerItermax=100)
    fn = np_sinkhorn if lib == "numopt" else pot.sinkhorn
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        t = time.perf_counter()
        P, log = fn(a, b, M, reg, method=method, **kw)
        el = time.perf_counter() - t
    if lib == "numopt":
        it = log["niter"]
    else:
        it = log.get("niter", log.get("n_iter", np.nan)) + 1
    return el, it, _err(P, a, b)


def _variant_available(lib, method, n):
    if lib == "pot" and pot is None:
        return False
    return not (method == "greenkhorn" and n > 1000)


class OTVariants:
    """POT's other Sinkhorn methods: numopt's compiled versions vs POT's, to TOL."""

    params = (pick([500, 1000], [500]), pick([1e-2, 1e-3], [1e-2]), VARIANTS,
              ["numopt", "pot"])
    param_names = ["n", "reg", "method", "lib"]
    timeout = 900

    def setup(self, n, reg, method, lib):
        if not _variant_available(lib, method, n):
            raise NotImplementedError("POT not installed or too slow here")
        if lib == "numopt":
            run_variant("numopt", method, _problem(50), reg)  # compile
        self.p = _problem(n)

    def time_solve(self, n, reg, method, lib):
        run_variant(lib, method, self.p, reg)

    def track_seconds_per_iteration(self, n, reg, method, lib):
        el, it, _ = run_variant(lib, method, self.p, reg)
        return el / it

    track_seconds_per_iteration.unit = "seconds"

    def track_marginal_error(self, n, reg, method, lib):
        return run_variant(lib, method, self.p, reg)[2]

    track_marginal_error.unit = "L2 error"


def main_variants(args):
    """Side-by-side table of ``run_variant`` for numopt and POT, interleaved."""
    for method in VARIANTS:
        run_variant("numopt", method, _problem(50), 1e-2)
    print(f"POT's Sinkhorn variants vs numopt (2-D point clouds, stopThr {TOL:g}; Greenkhorn: "
          f"{GREENKHORN_STEPS} steps); best of 2 interleaved runs")
    hdr = (f"{'n':>6} {'reg':>7} {'method':<26} {'lib':<7} {'time [s]':>9} {'iters':>7} "
           f"{'ms/iter':>8} {'error':>9} {'pot/numopt':>11}")
    print(hdr)
    print("-" * len(hdr))
    for n in args.n:
        p = _problem(n)
        for reg in args.reg:
            for method in VARIANTS:
                rows = {}
                for _ in range(2):
                    for lib in ("numopt", "pot"):
                        if not _variant_available(lib, method, n):
                            continue
                        r = run_variant(lib, method, p, reg)
                        if lib not in rows or r[0] < rows[lib][0]:
                            rows[lib] = r
                for lib, (el, it, err) in rows.items():
                    ratio = (f"{rows['pot'][0] / el:.2f}" if lib == "numopt" and "pot" in rows
                             else "")
                    print(f"{n:>6} {reg:>7.0e} {method:<26} {lib:<7} {el:>9.3f} {int(it):>7} "
                          f"{el / it * 1e3:>8.3f} {err:>9.1e} {ratio:>11}")
            print()


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, nargs="+", default=[500, 1000, 2000])
    ap.add_argument("--reg", type=float, nargs="+", default=[1e-2, 1e-3, 1e-4])
    ap.add_argument("--solvers", nargs="+", default=NUMOPT + REFERENCES)
    ap.add_argument("--variants", action="store_true",
                    help="compare POT's Sinkhorn variants with numopt's instead")
    args = ap.parse_args(argv)
    if args.variants:
        return main_variants(args)
    _warm()
    print("Per-iteration cost (best of 20):")
    print(f"{'n':>6} {'scaling [ms]':>13} {'GB/s':>7} {'read K [ms]':>12} {'sweep/read':>11} "
          f"{'log [ms]':>9} {'log/scaling':>12} {'2x BLAS gemv [ms]':>18}")
    for n in args.n:
        ts, tl, tg, tr = sweep_rates(n)
        gbs = 8.0 * n * n / ts / 1e9
        print(f"{n:>6} {ts * 1e3:>13.3f} {gbs:>7.1f} {tr * 1e3:>12.3f} {ts / tr:>11.2f} "
              f"{tl * 1e3:>9.3f} {tl / ts:>12.1f} {tg * 1e3:>18.3f}")
    print(f"\nTime to marginal error {TOL:g} (2-D point clouds, squared Euclidean / max):")
    hdr = (f"{'n':>6} {'reg':>7} {'solver':<20} {'time [s]':>9} {'iters':>8} {'error':>9} "
           f"{'pot-sinkhorn/this':>18} {'regot/this':>11}")
    print(hdr)
    print("-" * len(hdr))
    for n in args.n:
        p = _problem(n)
        for reg in args.reg:
            rows = {}
            for name in args.solvers:
                if not _available(name, n, reg):
                    rows[name] = None
                    continue
                rows[name] = run(name, p, reg)
            ref = rows.get("pot-sinkhorn")
            rg = rows.get("regot-ssns")
            for name, r in rows.items():
                if r is None:
                    print(f"{n:>6} {reg:>7.0e} {name:<20} {'skipped':>9}")
                    continue
                el, it, err = r
                ratio = f"{ref[0] / el:.2f}" if ref else "-"
                ratio2 = f"{rg[0] / el:.2f}" if rg else "-"
                its = "-" if not np.isfinite(it) else str(int(it))
                print(f"{n:>6} {reg:>7.0e} {name:<20} {el:>9.3f} {its:>8} {err:>9.1e} "
                      f"{ratio:>18} {ratio2:>11}")
            print()


if __name__ == "__main__":
    main()
