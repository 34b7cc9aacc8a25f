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


def demo_bcd():
    """bcd (compiled cyclic CD) on a sparse Lasso vs scikit-learn's Lasso objective."""
    from numopt.coordinate import Lasso, bcd
    from numopt.problems import bcd_least_squares
    d = bcd_least_squares(300, 2000, rng=0)
    alpha = float(np.max(np.abs(d.X.T @ d.y))) / 300 / 20
    res, t = _timed(lambda: bcd(Lasso(d.X, d.y, alpha), tol=1e-8))
    try:
        from sklearn.linear_model import Lasso as SkLasso
        w = SkLasso(alpha=alpha, fit_intercept=False, tol=1e-10,
                    max_iter=100000).fit(d.X, d.y).coef_
        ref = 0.5 / 300 * float(np.sum((d.X @ w - d.y) ** 2)) + alpha * np.abs(w).sum()
        check = f"F - F_sklearn = {res.fun - ref:.1e}"
    except ImportError:  # pragma: no cover - sklearn is a test-only peer
        check = "sklearn not installed"
    return ("coordinate", "bcd", "sparse Lasso 300x2000", res.success,
            f"{res.n_epochs} epochs", check, t)


#: (name, function) pairs; each function returns one table row.
DEMOS = [
    ("gn-newton", demo_gn_newton),
    ("bcd", demo_bcd),
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
