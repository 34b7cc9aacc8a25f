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


def demo_convex_nn():
    """Convex ReLU network by ADMM vs the same convex program in CVXPY (Clarabel)."""
    from numopt.convex_nn import fit_convex_relu
    from numopt.problems import teacher_student_relu
    X, y = teacher_student_relu(60, 3, rng=0)
    res, t = _timed(lambda: fit_convex_relu(X, y, n_patterns=10, beta=0.05, rng=0, tol=1e-7,
                                            maxiter=20000))
    ref = fit_convex_relu(X, y, beta=0.05, solver="cvxpy", patterns=(res.patterns, res.gates))
    rel = abs(res.objective - ref.objective) / abs(ref.objective)
    eq = float(np.max(np.abs(res.network.predict(X) - res.predictions)))
    return ("convex_nn", "admm", "teacher-student 60x3, P=10", res.success and rel < 1e-4,
            f"{res.nit} iterations", f"rel. obj. gap vs Clarabel {rel:.1e}, net = convex "
            f"{eq:.0e}", t)


#: (name, function) pairs; each function returns one table row.
DEMOS = [
    ("gn-newton", demo_gn_newton),
    ("convex_nn", demo_convex_nn),
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
