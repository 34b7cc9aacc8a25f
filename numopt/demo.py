"""Run every numopt method and solver on a small problem and check it against a reference.

Run with ``python -m numopt.demo`` (``--help`` for the options). Every method
registered with :func:`numopt.minimize` and every solver of every subpackage
solves a generated problem; each result is checked against an independent
reference: SciPy, a closed form, a plain NumPy implementation written here,
or POT / scikit-learn / CVXPY when they are installed. The table doubles as a
smoke test of the install.

Each case runs twice: the first call pays for imports and for Numba
compilation (or loading Numba's on-disk cache), the second is the solve time.
The ``compile`` column is their difference, ``solve`` the second call.
"""
import argparse
import sys
import time
import warnings

import numpy as np

__all__ = ["main", "cases", "AREAS", "WIDTH"]

#: Longest line the demo prints.
WIDTH = 100
#: Subpackages with demo cases, in the order they are shown.
AREAS = ("newton", "constrained", "coordinate", "optim", "ot", "linalg", "sampling", "tensor",
         "convex_nn")


class Case:
    """One row of the demo: ``run()`` solves, ``check(out)`` returns ``(ok, text)``."""

    def __init__(self, area, method, problem, run, check):
        self.area, self.method, self.problem = area, method, problem
        self.run, self.check = run, check


def _gap(f, fstar, f0):
    """Relative suboptimality ``(f - f*) / (f0 - f*)``."""
    return float((f - fstar) / (f0 - fstar))


def _gap_check(tol):
    def check(out):
        f, fstar, f0 = out
        g = _gap(f, fstar, f0)
        return g <= tol, f"(f-f*)/(f0-f*) {g:.1e}"
    return check


def _err_check(label, tol):
    def check(err):
        return bool(err <= tol), f"{label} {float(err):.1e}"
    return check


# -- minimize: numopt's registered methods ------------------------------------------------------
#: Options of the first-order methods on the demo problems (learning rates tuned for them).
_VECTOR_OPTIONS = {
    "sgd": {"learning_rate": 0.5, "momentum": 0.9, "maxiter": 1000},
    "adam": {"learning_rate": 0.05, "maxiter": 1000},
    "adamw": {"learning_rate": 0.05, "weight_decay": 0.0, "maxiter": 1000},
    "amsgrad": {"learning_rate": 0.05, "maxiter": 1000},
    "lion": {"learning_rate": 0.003, "maxiter": 3000},
    "adabelief": {"learning_rate": 0.05, "maxiter": 1000},
    "diffgrad": {"learning_rate": 0.05, "maxiter": 1000},
    "adamomentum": {"learning_rate": 0.05, "maxiter": 1000},
    "dog": {"maxiter": 1000},
    "ldog": {"maxiter": 1000},
    "sophia-g": {"learning_rate": 0.1, "rho": 1.0, "weight_decay": 0.0, "k": 1, "b2": 0.9,
                 "maxiter": 1000},
    "sophia-h": {"learning_rate": 0.1, "rho": 1.0, "weight_decay": 0.0, "k": 1, "b2": 0.9,
                 "maxiter": 1000},
    "adahessian": {"learning_rate": 0.1, "maxiter": 1000},
    "mfac": {"learning_rate": 0.5, "ngrads": 8, "damping": 1.0, "maxiter": 1000},
    "econtrol": {"learning_rate": 0.5, "k": 4, "maxiter": 1000},
}
#: SANIA's Polyak-type steps assume ``f* = 0``: it gets an interpolation problem.
_INTERPOLATION_OPTIONS = {"sania": {"preconditioner": "adam", "learning_rate": 0.5,
                                   "maxiter": 1000, "gtol": 1e-12}}
_MATRIX_SHAPE = (6, 4)
_MATRIX_OPTIONS = {
    "muon": {"learning_rate": 0.02},
    "namo": {"learning_rate": 0.05},
    "namo-d": {"learning_rate": 0.05},
    "auon": {"learning_rate": 0.02},
    "hybrid-auon": {"learning_rate": 0.02},
    "drop-muon": {"learning_rate": 0.02},
    "frugal": {"learning_rate": 0.02, "weight_decay": 0.0},
}


def _logistic():
    """Logistic regression (300 x 6) and its L-BFGS-B optimum (the reference)."""
    import scipy.optimize as so

    from numopt.problems import logistic_regression
    p = logistic_regression(300, 6, rng=0)
    ref = so.minimize(p.fun, p.x0, method="l-bfgs-b", jac=p.jac,
                      options={"gtol": 1e-12, "ftol": 1e-15, "maxiter": 10_000})
    return p, float(ref.fun)


def _matrix_lstsq():
    """Matrix least squares 0.5/n ||A X - B||^2 with X of shape (6, 4); lstsq optimum."""
    rng = np.random.default_rng(0)
    A, B = rng.standard_normal((60, 6)), rng.standard_normal((60, 4))
    X = np.linalg.lstsq(A, B, rcond=None)[0]

    def fun(x):
        return 0.5 * float(np.sum((A @ x.reshape(_MATRIX_SHAPE) - B) ** 2)) / 60

    def jac(x):
        return (A.T @ (A @ x.reshape(_MATRIX_SHAPE) - B)).ravel() / 60
    return fun, jac, fun(X.ravel())


def _minimize_cases():
    import numopt
    from numopt import MINIMIZE_METHODS
    out = []
    p, fstar = None, None
    mfun = mjac = mstar = None
    for name in sorted(MINIMIZE_METHODS):
        spec = MINIMIZE_METHODS[name]
        area = spec.package.rsplit(".", 1)[-1]
        if name in _MATRIX_OPTIONS:
            if mfun is None:
                mfun, mjac, mstar = _matrix_lstsq()
            opts = dict(_MATRIX_OPTIONS[name], shape=_MATRIX_SHAPE, maxiter=2000)
            opts["learning_rate"] = numopt.optim.cosine_decay_schedule(opts["learning_rate"],
                                                                       2000)

            def run(name=name, opts=opts, f=mfun, g=mjac, fs=mstar):
                x0 = np.zeros(24)
                res = numopt.minimize(f, x0, method=name, jac=g, options=opts, rng=0)
                return res.fun, fs, f(x0)
            out.append(Case(area, name, "matrix lstsq 60x(6x4)", run, _gap_check(1e-3)))
        elif name in _VECTOR_OPTIONS:
            if p is None:
                p, fstar = _logistic()
            kw = {"jac": p.jac}
            if spec.uses_hessp:
                kw["hessp"] = p.hessp

            def run(name=name, kw=kw, p=p, fs=fstar):
                res = numopt.minimize(p.fun, p.x0, method=name, options=_VECTOR_OPTIONS[name],
                                      rng=0, **kw)
                return res.fun, fs, p.fun(p.x0)
            out.append(Case(area, name, "logistic regr. 300x6", run, _gap_check(1e-3)))
        elif name in _INTERPOLATION_OPTIONS:
            out.append(Case(area, name, "consistent lstsq 60x6",
                            _interpolation(name, _INTERPOLATION_OPTIONS[name]),
                            _err_check("|x - x_true|max", 1e-6)))
        elif name == "bcd":
            out.append(Case(area, name, "SPD quadratic n=50", _bcd_quadratic,
                            _err_check("|x - solve(A, b)|max", 1e-8)))
        else:  # gn-newton, sketch-alm: in their subpackage's cases
            continue
    return out


def _interpolation(name, options):
    """Consistent least squares ``A x = b`` (``f* = 0``); error to the true solution."""
    import numopt
    rng = np.random.default_rng(0)
    A = rng.standard_normal((60, 6))
    xt = rng.standard_normal(6)
    b = A @ xt

    def run():
        res = numopt.minimize(lambda x: 0.5 * float(np.sum((A @ x - b) ** 2)) / 60,
                              np.zeros(6), method=name, jac=lambda x: A.T @ (A @ x - b) / 60,
                              options=options, rng=0)
        return float(np.max(np.abs(res.x - xt)))
    return run


def _raise(exc):
    raise exc


def _bcd_quadratic():
    """``minimize(method='bcd')`` on ``0.5 x'Ax - b'x``; error to ``numpy.linalg.solve``."""
    import numopt
    rng = np.random.default_rng(0)
    Q = rng.standard_normal((50, 50))
    A = Q @ Q.T / 50 + np.eye(50)
    b = rng.standard_normal(50)
    res = numopt.minimize(lambda x: 0.5 * x @ A @ x - b @ x, np.zeros(50), method="bcd",
                          jac=lambda x: A @ x - b, tol=1e-12,
                          options={"block_size": 5, "maxiter": 20_000})
    return float(np.max(np.abs(res.x - np.linalg.solve(A, b))))


#: Methods registered with :func:`numopt.minimize` whose demo lives in a subpackage case.
_IN_SUBPACKAGE_CASES = ("gn-newton", "sketch-alm")


# -- newton, constrained -----------------------------------------------------------------------
def _newton_cases():
    import scipy.optimize as so

    import numopt
    from numopt.problems import logistic_regression

    def logistic(n, d, seed, derivative):
        def run():
            p = logistic_regression(n, d, rng=seed)
            res = numopt.minimize(p.fun, p.x0, method="gn-newton", jac=p.jac, tol=1e-10,
                                  **{derivative: getattr(p, derivative)})
            ref = so.minimize(p.fun, p.x0, method="trust-exact", jac=p.jac, hess=p.hess,
                              options={"gtol": 1e-10})
            return float(np.max(np.abs(res.x - ref.x)))
        return run
    check = _err_check("|x - trust-exact|max", 1e-6)
    return [Case("newton", "gn-newton", "logistic regr. 2000x50",
                 logistic(2000, 50, 0, "hess"), check),
            Case("newton", "gn-newton hessp+CG", "logistic regr. 500x20",
                 logistic(500, 20, 1, "hessp"), check)]


def _constrained_cases():
    import scipy.optimize as so

    import numopt
    from numopt.problems import hs_problem

    def hs(number, **options):
        def run():
            p = hs_problem(number)
            res = numopt.minimize(p.fun, p.x0, method="sketch-alm", jac=p.jac, hess=p.hess,
                                  constraints=p.constraints(), rng=0, options=options)
            ref = so.minimize(p.fun, p.x0, method="trust-constr", jac=p.jac, hess=p.hess,
                              constraints=p.constraints("scipy"),
                              options={"gtol": 1e-10, "xtol": 1e-14})
            return float(np.max(np.abs(res.x - ref.x)))
        return run
    check = _err_check("|x - trust-constr|max", 1e-5)
    return [Case("constrained", "sketch-alm", "HS77 (n=5, m=2)", hs(77), check),
            Case("constrained", "sketch-alm direct", "HS77 (n=5, m=2)",
                 hs(77, solver="direct"), check)]


# -- coordinate --------------------------------------------------------------------------------
def _coordinate_cases():
    import scipy.sparse.linalg as spla

    from numopt.coordinate import LabelPropagation, Lasso, LeastSquares, bcd, forest_partition
    from numopt.problems import bcd_least_squares, lattice_label_propagation
    d = bcd_least_squares(300, 2000, rng=0)

    def ridge():
        X = d.X.toarray() if hasattr(d.X, "toarray") else d.X
        X, y = X[:, :200], d.y
        res = bcd(LeastSquares(X, y, l2=1e-1), block_size=20, selection="gsl",
                  update="newton", tol=1e-10, maxiter=5000)
        w = np.linalg.solve(X.T @ X + 1e-1 * np.eye(200), X.T @ y)  # closed form
        return float(np.max(np.abs(res.x - w)))

    def lasso():
        alpha = float(np.max(np.abs(d.X.T @ d.y))) / 300 / 20
        res = bcd(Lasso(d.X, d.y, alpha), tol=1e-8)
        try:
            from sklearn.linear_model import Lasso as SkLasso
        except ImportError:  # sklearn is optional: the certified bound is checked instead
            return "nosk", res
        w = SkLasso(alpha=alpha, fit_intercept=False, tol=1e-12,
                    max_iter=100_000).fit(d.X, d.y).coef_
        ref = 0.5 / 300 * float(np.sum((d.X @ w - d.y) ** 2)) + alpha * np.abs(w).sum()
        return "sk", (res.fun - ref) / abs(ref)

    def lasso_check(out):
        kind, v = out
        if kind == "nosk":
            return bool(v.success), f"KKT {v.message[:30]} (sklearn absent)"
        return bool(abs(v) <= 1e-6), f"(F - F_sklearn)/F {v:.1e}"

    def label_prop():
        lp = lattice_label_propagation(30, n_labelled=60, rng=0)
        p = LabelPropagation(lp.W, lp.y, lp.labelled)
        res = bcd(p, partition=forest_partition(p.A), selection="cyclic", update="mp",
                  tol=1e-10, maxiter=10_000)
        xs = spla.spsolve(p.A.tocsc(), p.b)
        return float(np.max(np.abs(res.x - xs)))
    return [Case("coordinate", "bcd gsl newton", "ridge 300x200", ridge,
                 _err_check("|w - closed form|max", 1e-6)),
            Case("coordinate", "bcd cyclic", "Lasso 300x2000", lasso, lasso_check),
            Case("coordinate", "bcd mp-trees", "label prop. 30x30", label_prop,
                 _err_check("|x - spsolve|max", 1e-6))]


# -- ot ----------------------------------------------------------------------------------------
def _numpy_sinkhorn_log(a, b, M, reg, iters=100_000, tol=1e-12):
    """Log-domain Sinkhorn in plain NumPy/SciPy: the reference when POT is absent."""
    from scipy.special import logsumexp
    f, g = np.zeros(len(a)), np.zeros(len(b))
    la, lb = np.log(a), np.log(b)
    for _ in range(iters):
        f = reg * (la - logsumexp((g[None, :] - M) / reg, axis=1))
        g = reg * (lb - logsumexp((f[:, None] - M) / reg, axis=0))
        P = np.exp((f[:, None] + g[None, :] - M) / reg)
        if np.abs(P.sum(1) - a).sum() < tol:
            break
    return P


def _ot_cases():
    from numopt import ot
    from numopt.problems import ot_point_clouds
    p = ot_point_clouds(200, rng=0)
    reg = 5e-2

    def reference():
        try:
            import ot as pot
        except ImportError:
            return _numpy_sinkhorn_log(p.a, p.b, p.M, reg), "NumPy"
        return pot.sinkhorn(p.a, p.b, p.M, reg, method="sinkhorn_log", numItermax=100_000,
                            stopThr=1e-12), "POT"

    def plan(fn):
        def run():
            P = fn()
            ref, who = reference()
            return float(np.max(np.abs(P - ref)) / np.max(ref)), who
        return run

    def check(out):
        err, who = out
        return bool(err <= 1e-6), f"|P - {who}|max/max P {err:.1e}"

    def cost():
        c = float(ot.sinkhorn2(p.a, p.b, p.M, reg, stopThr=1e-12, numItermax=100_000))
        ref, who = reference()
        return abs(c - float(np.sum(ref * p.M))) / abs(c), who

    def cost_check(out):
        err, who = out
        return bool(err <= 1e-6), f"|<P,M> - {who}|/<P,M> {err:.1e}"
    kw = {"stopThr": 1e-12, "numItermax": 100_000}
    return [
        Case("ot", "sinkhorn", "clouds 200x200, reg .05",
             plan(lambda: ot.sinkhorn(p.a, p.b, p.M, reg, **kw)), check),
        Case("ot", "sinkhorn_log", "clouds 200x200, reg .05",
             plan(lambda: ot.sinkhorn_log(p.a, p.b, p.M, reg, **kw)), check),
        Case("ot", "sns", "clouds 200x200, reg .05",
             plan(lambda: ot.sinkhorn_newton_sparse(p.a, p.b, p.M, reg, stopThr=1e-12)), check),
        Case("ot", "solve (sns)", "clouds 200x200, reg .05",
             plan(lambda: ot.solve(p.M, p.a, p.b, reg, tol=1e-12).plan), check),
        Case("ot", "sinkhorn2", "clouds 200x200, reg .05", cost, cost_check),
    ]


# -- linalg ------------------------------------------------------------------------------------
def _linalg_cases():
    from scipy.sparse.linalg import spsolve

    from numopt import linalg
    from numopt.problems import heat_equation_sequence, poisson_2d
    A = poisson_2d(30)
    b = np.random.default_rng(0).standard_normal(A.shape[0])
    xs = spsolve(A.tocsc(), b)

    def err(fn):
        return lambda: float(np.max(np.abs(fn().x - xs)) / np.max(np.abs(xs)))
    check = _err_check("|x - spsolve|/|x|", 1e-6)

    def tuner():
        t = linalg.RelaxationTuner(solver="ssor-pcg", policy="ucb", tol=1e-10)
        rng = np.random.default_rng(1)
        worst = 0.0
        for _ in range(10):
            rhs = rng.standard_normal(A.shape[0])
            r = t.solve(A, rhs)
            x = spsolve(A.tocsc(), rhs)
            worst = max(worst, float(np.max(np.abs(r.x - x)) / np.max(np.abs(x))))
        return worst

    def sequence():
        r = linalg.solve_sequence(heat_equation_sequence(nx=20, n_steps=10), solver="ssor-pcg",
                                  policy="tsallis-inf", rng=0, tol=1e-10)
        # the same time steps with spsolve (each right-hand side depends on the last solution)
        it = iter(heat_equation_sequence(nx=20, n_steps=10))
        item, worst = next(it), 0.0
        for rk in r.results:
            Ak, bk, _ = item
            xk = spsolve(Ak.tocsc(), bk)
            worst = max(worst, float(np.max(np.abs(rk.x - xk)) / np.max(np.abs(xk))))
            try:
                item = it.send(xk)
            except StopIteration:
                break
        return worst
    rng = np.random.default_rng(2)
    D = rng.standard_normal((300, 40))
    xt = rng.standard_normal(40)
    rhs = D @ xt
    return [
        Case("linalg", "sor", "Poisson 30x30", err(lambda: linalg.sor(
            A, b, linalg.optimal_jacobi_omega(A), tol=1e-10)), check),
        Case("linalg", "ssor_pcg", "Poisson 30x30", err(lambda: linalg.ssor_pcg(
            A, b, 1.5, tol=1e-10)), check),
        Case("linalg", "tuner ssor-pcg+ucb", "Poisson 30x30, 10 rhs", tuner, check),
        Case("linalg", "solve_sequence", "heat eq. 20x20, 10 steps", sequence, check),
        Case("linalg", "randomized_kaczmarz", "consistent 300x40",
             lambda: float(np.max(np.abs(linalg.randomized_kaczmarz(
                 D, rhs, tol=1e-10, rng=0).x - xt))), _err_check("|x - x_true|max", 1e-6)),
        Case("linalg", "sketch_and_project", "consistent 300x40",
             lambda: float(np.max(np.abs(linalg.sketch_and_project(
                 D, rhs, tol=1e-10, rng=0).x - xt))), _err_check("|x - x_true|max", 1e-6)),
    ]


# -- sampling ----------------------------------------------------------------------------------
def _sampling_cases():
    from numpy.polynomial import legendre

    from numopt.sampling import SAMPLINGS, weighted_least_squares

    def f(x):  # Runge's function on [-1, 1]
        return 1.0 / (1.0 + 25.0 * np.asarray(x) ** 2)
    m = 15
    x, w = legendre.leggauss(400)
    c = np.array([(2 * k + 1) / 2 * np.sum(w * f(x) * legendre.legval(x, np.eye(m)[k]))
                  for k in range(m)])
    best = float(np.sqrt(np.sum(w / 2 * (f(x) - legendre.legval(x, c)) ** 2)))

    def wls(sampling):
        def run():
            n = m if sampling == "dpp" else 4 * m   # a projection DPP draws exactly m points
            res = weighted_least_squares(f, "legendre", dim=m, n=n, sampling=sampling, rng=0)
            return res.error / best
        return run

    def check(ratio):
        return bool(ratio <= 3.0), f"L2 err/best (Gauss-Legendre) {ratio:.2f}"
    return [Case("sampling", f"wls {s}", f"Runge, Legendre m={m}", wls(s), check)
            for s in SAMPLINGS]


# -- tensor ------------------------------------------------------------------------------------
def _tensor_cases():
    from numopt.problems import erf_newton, runge
    from numopt.tensor import chebyshev_tucker
    x = np.random.default_rng(0).uniform(-1.0, 1.0, (4000, 3))

    def make(f, degree, tol):
        def run():
            ct = chebyshev_tucker(f, [[-1.0, 1.0]] * 3, degree=degree, tol=tol)
            fx = f(x)
            return float(np.max(np.abs(ct(x) - fx)) / np.max(np.abs(fx)))
        return run
    return [Case("tensor", "chebyshev_tucker", "erf(r/0.3)/r on [-1,1]^3",
                 make(erf_newton(0.3), 32, 1e-8), _err_check("max rel err vs exact", 1e-6)),
            Case("tensor", "chebyshev_tucker", "Runge 1/(1+25|x|^2), 3-D",
                 make(runge(25.0), 96, 1e-7), _err_check("max rel err vs exact", 1e-5))]


# -- convex_nn ---------------------------------------------------------------------------------
def _convex_nn_cases():
    from numopt.convex_nn import ConvexReLURegressor, fit_convex_relu, sample_patterns
    from numopt.problems import teacher_student_relu
    X, y = teacher_student_relu(60, 3, rng=0)
    pats = sample_patterns(X, 10, rng=0, bias=True)
    beta = 0.05
    opts = {"admm": {"tol": 1e-8, "maxiter": 20_000}, "scp": {"tol": 1e-8}, "ipm": {"tol": 1e-9}}

    def reference():
        try:
            import cvxpy  # noqa: F401
        except ImportError:  # no CVXPY: the IPM's certified duality-gap bound instead
            r = fit_convex_relu(X, y, beta=beta, solver="ipm", patterns=pats, tol=1e-10)
            return r.lower_bound, "IPM bound"
        r = fit_convex_relu(X, y, beta=beta, solver="cvxpy", patterns=pats)
        return r.objective, "CVXPY"

    def solver(name):
        def run():
            res = fit_convex_relu(X, y, beta=beta, solver=name, patterns=pats, **opts[name])
            ref, who = reference()
            return (res.objective - ref) / abs(ref), who
        return run

    def estimator():
        est = ConvexReLURegressor(n_patterns=10, beta=beta, tol=1e-8, maxiter=20_000,
                                  random_state=0).fit(X, y)
        res = fit_convex_relu(X, y, n_patterns=10, beta=beta, tol=1e-8, maxiter=20_000, rng=0)
        return float(np.max(np.abs(est.predict(X) - res.predictions))), "fit_convex_relu"

    def check(out):
        gap, who = out
        return bool(abs(gap) <= 1e-4), f"rel. obj. gap vs {who} {gap:.1e}"

    def est_check(out):
        err, who = out
        return bool(err <= 1e-8), f"|pred - {who}| {err:.1e}"
    def scp():
        # SCP solves the gated-ReLU relaxation (no cone constraints), whose optimum CVXPY's
        # constrained program does not give; checked instead: the recovered ReLU network
        # reproduces the program's predictions exactly (the cone decomposition)
        res = fit_convex_relu(X, y, beta=beta, solver="scp", patterns=pats, **opts["scp"])
        return float(np.max(np.abs(res.network.predict(X) - res.predictions))), "program"
    return [Case("convex_nn", f"fit_convex_relu {s}", "teacher-stud. 60x3, P=10",
                 solver(s), check) for s in ("admm", "ipm")] + [
        Case("convex_nn", "fit_convex_relu scp", "teacher-stud. 60x3, P=10", scp,
             est_check)] + [
        Case("convex_nn", "ConvexReLURegressor", "teacher-student 60x3", estimator, est_check)]


_BUILDERS = {"newton": _newton_cases, "constrained": _constrained_cases,
             "coordinate": _coordinate_cases, "ot": _ot_cases, "linalg": _linalg_cases,
             "sampling": _sampling_cases, "tensor": _tensor_cases,
             "convex_nn": _convex_nn_cases}


def cases(only=None):
    """The demo cases, in display order; ``only``: a collection of subpackage names."""
    unknown = set(only or ()) - set(AREAS)
    if unknown:
        raise ValueError(f"`only`: unknown subpackage(s) {', '.join(sorted(unknown))}; "
                         f"choose from {', '.join(AREAS)}")
    areas = [a for a in AREAS if not only or a in set(only)]
    minimize_cases = _minimize_cases() if set(areas) & {"optim", "coordinate"} else []
    out = []
    for area in areas:
        out += [c for c in minimize_cases if c.area == area]
        try:
            out += _BUILDERS[area]() if area in _BUILDERS else []
        except Exception as exc:  # a broken setup is reported as a failed row, not a crash
            out.append(Case(area, "(setup)", "-", lambda exc=exc: exc, _raise))
    return out


# -- table -------------------------------------------------------------------------------------
#: (title, width) of the columns; widths sum with separators to WIDTH at most.
_COLUMNS = (("method", 22), ("problem", 24), ("check vs reference", 33), ("ok", 2),
            ("compile", 7), ("solve", 6))


def _fit(text, width):
    text = str(text)
    return text if len(text) <= width else text[:width - 1] + "~"


def _line(values):
    cells = []
    for (title, w), v in zip(_COLUMNS, values):
        right = title in ("compile", "solve")
        cells.append(f"{_fit(v, w):>{w}}" if right else f"{_fit(v, w):<{w}}")
    return " ".join(cells)[:WIDTH].rstrip()


def _timed(fn):
    t = time.perf_counter()
    out = fn()
    return out, time.perf_counter() - t


def run_case(case):
    """Run ``case`` twice (compile/warm, then timed); return ``(ok, text, compile, solve)``."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            _, first = _timed(case.run)
            out, solve = _timed(case.run)
            ok, text = case.check(out)
        except Exception as exc:  # report and continue: the demo is a smoke test
            return False, f"error: {type(exc).__name__}: {exc}", float("nan"), float("nan")
    return bool(ok), text, max(first - solve, 0.0), solve


def _parser():
    p = argparse.ArgumentParser(
        prog="python -m numopt.demo",
        description="Solve a small problem with every numopt minimize method and every "
                    "subpackage solver, and check each against an independent reference "
                    "(SciPy, closed forms, NumPy; POT, scikit-learn, CVXPY when installed).",
        epilog="Times: 'compile' = first call minus second (imports, Numba compilation or "
               "cache loading), 'solve' = second call, in seconds. Exit status 1 when a "
               "check fails.")
    p.add_argument("--only", nargs="+", metavar="SUBPACKAGE", choices=AREAS,
                   help=f"run only these subpackages: {', '.join(AREAS)}")
    p.add_argument("--list", action="store_true", help="list the cases without running them")
    return p


def main(argv=None):
    """Run the demo (``argv`` as on the command line); return 0 when every check passed."""
    args = _parser().parse_args(argv)
    todo = cases(args.only)
    if args.list:
        for c in todo:
            print(_fit(f"{c.area:<12} {c.method:<22} {c.problem}", WIDTH))
        return 0
    print(_line([t for t, _ in _COLUMNS]))
    print(" ".join("-" * w for _, w in _COLUMNS))
    failed, area = [], None
    t0, c0 = time.perf_counter(), time.process_time()
    for c in todo:
        if c.area != area:
            area = c.area
            print(f"[{area}]")
        ok, text, comp, solve = run_case(c)
        if not ok:
            failed.append(f"{c.area} {c.method}")
        print(_line([c.method, c.problem, text, "ok" if ok else "NO",
                     f"{comp:.2f}", f"{solve:.2f}"]), flush=True)
    print(f"{len(todo) - len(failed)} of {len(todo)} checks passed in "
          f"{time.perf_counter() - t0:.0f} s wall, {time.process_time() - c0:.0f} s CPU")
    if failed:
        print(_fit("failed: " + ", ".join(failed), WIDTH))
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
