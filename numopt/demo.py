"""Solve a small problem with each numopt method and print a table.

Run with ``python -m numopt.demo``. Each row solves a generated problem with
a numopt solver and checks it against an independent reference (SciPy, POT,
CVXPY, a closed form), so the table doubles as a smoke test of the install.
"""
import sys
import time
import warnings

import numpy as np

__all__ = ["main", "DEMOS"]


def _timed(fn):
    t = time.perf_counter()
    out = fn()
    return out, time.perf_counter() - t


def demo_gn_newton():
    """gn-newton on logistic regression vs SciPy trust-exact."""
    import scipy.optimize as so

    import numopt
    from numopt.problems import logistic_regression
    p = logistic_regression(2000, 50, rng=0)
    res, t = _timed(lambda: numopt.minimize(p.fun, p.x0, method="gn-newton", jac=p.jac,
                                            hess=p.hess, tol=1e-10))
    ref = so.minimize(p.fun, p.x0, method="trust-exact", jac=p.jac, hess=p.hess,
                      options={"gtol": 1e-10})
    err = float(np.max(np.abs(res.x - ref.x)))
    return ("minimize", "gn-newton", "logistic regression 2000x50", res.success,
            f"{res.nhev} Hessians", f"|x - trust-exact|max = {err:.1e}", t)


def demo_ssor_pcg():
    """ssor_pcg on a 2-D Poisson problem vs SciPy spsolve, with omega learned online."""
    from scipy.sparse.linalg import spsolve

    from numopt.linalg import RelaxationTuner
    from numopt.problems import poisson_2d
    A = poisson_2d(50)
    rng = np.random.default_rng(0)
    tuner = RelaxationTuner(solver="ssor-pcg", policy="ucb")

    def run():
        for _ in range(30):
            b = rng.standard_normal(A.shape[0])
            res = tuner.solve(A, b, x0=np.zeros(A.shape[0]))
        return res, b

    (res, b), t = _timed(run)
    ref = spsolve(A.tocsc(), b)
    err = float(np.max(np.abs(res.x - ref)))
    return ("linalg", "ssor-pcg + ucb", "2-D Poisson 50x50, 30 rhs", res.success,
            f"{tuner.history['nit'].sum()} CG its", f"|x - spsolve|max = {err:.1e}", t)


#: (name, function) pairs; each function returns one table row.
DEMOS = [
    ("gn-newton", demo_gn_newton),
    ("ssor-pcg", demo_ssor_pcg),
]


def main(argv=None):
    """Run every demo and print the table; return 0 when all succeeded."""
    header = ("area", "method", "problem", "ok", "work", "check vs reference", "time [s]")
    rows, failed = [], []
    for name, fn in DEMOS:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            try:
                rows.append(fn())
            except Exception as exc:  # report and continue: the demo is a smoke test
                failed.append(name)
                rows.append(("?", name, "-", False, "-", f"error: {exc}", 0.0))
    widths = [max(len(str(r[i])) if i != 6 else 8 for r in rows + [header])
              for i in range(len(header))]
    fmt = "  ".join(f"{{:<{w}}}" for w in widths[:-1]) + "  {:>8}"
    print(fmt.format(*header))
    print("  ".join("-" * w for w in widths))
    for r in rows:
        print(fmt.format(*[str(v) for v in r[:-1]], f"{r[-1]:.3f}"))
    if failed:
        print(f"\n{len(failed)} demo(s) failed: {', '.join(failed)}")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
