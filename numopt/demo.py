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


def demo_sampling():
    """Repeated-DPP weighted least squares vs the L2 projection by numpy.polynomial."""
    from numpy.polynomial import legendre

    from numopt.sampling import weighted_least_squares

    def runge(x):
        return 1.0 / (1.0 + 25.0 * x ** 2)

    m = 20
    res, t = _timed(lambda: weighted_least_squares(runge, "legendre", dim=m, n=2 * m,
                                                   sampling="repeated-dpp", rng=0))
    # reference best approximation: Legendre series by a 400-point Gauss rule
    x, w = legendre.leggauss(400)
    c = np.array([(2 * k + 1) / 2 * np.sum(w * runge(x) * legendre.legval(x, np.eye(m)[k]))
                  for k in range(m)])
    best = float(np.sqrt(np.sum(w / 2 * (runge(x) - legendre.legval(x, c)) ** 2)))
    return ("sampling", "repeated-dpp WLS", f"Runge, Legendre m={m}, n=2m", res.success,
            f"{res.nfev} evaluations", f"err/best {res.error_ratio:.2f}, "
            f"|best - numpy| = {abs(res.best_error - best):.1e}", t)


def demo_optim():
    """numopt.optim Adam (full gradient) on logistic regression vs SciPy L-BFGS-B."""
    import scipy.optimize as so

    import numopt
    from numopt.problems import logistic_regression
    p = logistic_regression(2000, 20, rng=0)
    res, t = _timed(lambda: numopt.minimize(p.fun, p.x0, method="adam", jac=p.jac,
                                            options={"learning_rate": 0.05, "maxiter": 3000,
                                                     "gtol": 1e-7}))
    ref = so.minimize(p.fun, p.x0, method="l-bfgs-b", jac=p.jac, options={"gtol": 1e-10})
    err = float(np.max(np.abs(res.x - ref.x)))
    return ("optim", "adam", "logistic regression 2000x20", res.success and err < 1e-4,
            f"{res.nit} steps", f"|x - L-BFGS-B|max = {err:.1e}", t)


def demo_muon():
    """numopt.optim Muon on matrix least squares vs the closed-form lstsq solution."""
    import numopt
    from numopt import optim
    rng = np.random.default_rng(0)
    A, B = rng.standard_normal((200, 40)), rng.standard_normal((200, 20))
    X = np.linalg.lstsq(A, B, rcond=None)[0]

    def f(x):
        return 0.5 * np.sum((A @ x.reshape(40, 20) - B) ** 2) / 200

    def g(x):
        return (A.T @ (A @ x.reshape(40, 20) - B) / 200).ravel()
    res, t = _timed(lambda: numopt.minimize(
        f, np.zeros(800), method="muon", jac=g,
        options={"shape": (40, 20), "maxiter": 500, "gtol": 1e-4,
                 "learning_rate": optim.cosine_decay_schedule(0.05, 500)}))
    err = float(np.linalg.norm(res.x - X.ravel()) / np.linalg.norm(X))
    return ("optim", "muon", "matrix least squares 40x20", res.success and err < 1e-3,
            f"{res.nit} steps", f"|X - lstsq|/|X| = {err:.1e}", t)


def demo_sketch_alm():
    """sketch-alm on HS77 vs SciPy trust-constr."""
    import scipy.optimize as so

    import numopt
    from numopt.problems import hs_problem
    p = hs_problem(77)
    res, t = _timed(lambda: numopt.minimize(p.fun, p.x0, method="sketch-alm", jac=p.jac,
                                            hess=p.hess, constraints=p.constraints(),
                                            rng=0))
    ref = so.minimize(p.fun, p.x0, method="trust-constr", jac=p.jac, hess=p.hess,
                      constraints=p.constraints("scipy"),
                      options={"gtol": 1e-10, "xtol": 1e-14})
    err = float(np.max(np.abs(res.x - ref.x)))
    return ("constrained", "sketch-alm", "HS77 (n=5, m=2)", res.success,
            f"{res.nit} its, {res.sketch_steps} sketch steps",
            f"|x - trust-constr|max = {err:.1e}", t)


def demo_chebyshev_tucker():
    """Chebyshev-Tucker of the long-range Newton part vs its exact values."""
    from numopt.problems import erf_newton
    from numopt.tensor import chebyshev_tucker
    f = erf_newton(0.3)
    ct, t = _timed(lambda: chebyshev_tucker(f, [[-1.0, 1.0]] * 3, degree=32, tol=1e-8))
    x = np.random.default_rng(0).uniform(-1.0, 1.0, (4000, 3))
    fx = f(x)
    err = float(np.max(np.abs(ct(x) - fx)) / np.max(np.abs(fx)))
    return ("tensor", "chebyshev_tucker", "erf(r/0.3)/r on [-1,1]^3", err <= 1e-7,
            f"ranks {ct.ranks}", f"max rel err vs exact = {err:.1e}", t)


def demo_ot_sns():
    """Sinkhorn-Newton-Sparse on 2-D point clouds vs POT's ot.sinkhorn plan."""
    from numopt.ot import sinkhorn_log, solve
    from numopt.problems import ot_point_clouds
    p = ot_point_clouds(300, rng=0)
    res, t = _timed(lambda: solve(p.M, p.a, p.b, 1e-2, method="sns"))
    try:
        import ot
        ref, who = ot.sinkhorn(p.a, p.b, p.M, 1e-2, numItermax=100_000, stopThr=1e-10), "POT"
    except ImportError:  # POT is a test extra: fall back to numopt's own log-domain Sinkhorn
        ref = sinkhorn_log(p.a, p.b, p.M, 1e-2, numItermax=100_000, stopThr=1e-10)
        who = "sinkhorn_log (POT not installed)"
    err = float(np.max(np.abs(res.plan - ref)) / np.max(ref))
    return ("ot", "sns", "point clouds 300x300, reg 1e-2", res.success and err < 1e-6,
            f"{res.nit_sinkhorn}+{res.nit_newton} iterations",
            f"|P - {who}|max/max P = {err:.1e}", t)


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


def demo_convex_nn():
    """Convex ReLU network by ADMM vs the same convex program in CVXPY (Clarabel)."""
    from numopt.convex_nn import fit_convex_relu
    from numopt.problems import teacher_student_relu
    X, y = teacher_student_relu(60, 3, rng=0)
    res, t = _timed(lambda: fit_convex_relu(X, y, n_patterns=10, beta=0.05, rng=0, tol=1e-7,
                                            maxiter=20000, solver="admm"))
    eq = float(np.max(np.abs(res.network.predict(X) - res.predictions)))
    try:
        import cvxpy  # noqa: F401  (test extra)
    except ImportError:
        return ("convex_nn", "admm", "teacher-student 60x3, P=10", res.success and eq < 1e-8,
                f"{res.nit} iterations", f"net = convex {eq:.0e} (cvxpy not installed: no "
                "Clarabel check)", t)
    ref = fit_convex_relu(X, y, beta=0.05, solver="cvxpy", patterns=(res.patterns, res.gates))
    rel = abs(res.objective - ref.objective) / abs(ref.objective)
    return ("convex_nn", "admm", "teacher-student 60x3, P=10", res.success and rel < 1e-4,
            f"{res.nit} iterations", f"rel. obj. gap vs Clarabel {rel:.1e}, net = convex "
            f"{eq:.0e}", t)


#: (name, function) pairs; each function returns one table row.
DEMOS = [
    ("gn-newton", demo_gn_newton),
    ("sampling", demo_sampling),
    ("optim", demo_optim),
    ("muon", demo_muon),
    ("sketch-alm", demo_sketch_alm),
    ("chebyshev_tucker", demo_chebyshev_tucker),
    ("ot-sns", demo_ot_sns),
    ("ssor-pcg", demo_ssor_pcg),
    ("bcd", demo_bcd),
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
