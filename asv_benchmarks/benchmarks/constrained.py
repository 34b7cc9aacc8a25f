"""numopt.minimize('sketch-alm') against SciPy's trust-constr and SLSQP.

* Hock-Schittkowski equality set (17 problems, standard starts): success,
  outer iterations, function evaluations, time, final KKT residual.
* PDE-constrained tracking (5-point Laplacian) at growing sizes: time to the
  KKT tolerance 1e-8 (sketch-alm with the direct sparse KKT solve and with the
  Gaussian block sketch vs trust-constr).

* Without any derivative (``fun`` and ``c`` only: finite differences): every HS
  equality problem and random equality-constrained QPs / nonlinear problems
  (n = 5 to 60, 3 seeds), sketch-alm against trust-constr and SLSQP given the same
  callables, run one after the other on each problem; success, the exact KKT
  residual (recomputed with the problems' derivatives), |f - f_ref| and time.

Run as a script for side-by-side tables (sections ``hs``, ``logreg``, ``pde``,
``noderiv``; all by default)::

    python asv_benchmarks/benchmarks/constrained.py [hs] [logreg] [pde] [noderiv]
"""
import time
import warnings

import numpy as np
import scipy.optimize as so

import numopt
from numopt.problems import (HS_EQUALITY, constrained_logistic_regression, hs_problem,
                             pde_tracking, random_equality_nonlinear, random_equality_qp)

try:
    from . import pick   # quick / full profile (see __init__.py)
except ImportError:  # run as a script: the full profile
    def pick(full, quick):
        return full

TOL = 1e-8
HS_METHODS = ["sketch-alm", "sketch-alm-direct", "trust-constr", "slsqp"]


def _kkt(p, x, v):
    return p.kkt_residual(x, v)


def solve(p, method, tol=TOL):
    """Run ``method`` on problem ``p``; return a dict of figures."""
    t = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        if method.startswith("sketch-alm"):
            solver = "direct" if method.endswith("direct") else "gaussian"
            r = numopt.minimize(p.fun, p.x0, method="sketch-alm", jac=p.jac, hess=p.hess,
                                constraints=p.constraints(), tol=tol,
                                options={"solver": solver, "maxiter": 1000}, rng=0)
            v, extra = r.multipliers, r.sketch_steps
        elif method == "trust-constr":
            r = so.minimize(p.fun, p.x0, method="trust-constr", jac=p.jac, hess=p.hess,
                            constraints=p.constraints("scipy"),
                            options={"gtol": tol, "xtol": 1e-14, "maxiter": 3000})
            v, extra = r.v[0], r.cg_niter
        else:
            r = so.minimize(p.fun, p.x0, method="SLSQP", jac=p.jac,
                            constraints=[{"type": "eq", "fun": p.cons, "jac": p.cons_jac}],
                            options={"ftol": 1e-14, "maxiter": 1000})
            J = np.atleast_2d(p.cons_jac(r.x))
            v = np.linalg.lstsq(J.T, -p.jac(r.x), rcond=None)[0]  # SLSQP keeps none
            extra = 0
    elapsed = time.perf_counter() - t
    kkt = _kkt(p, r.x, v)
    ferr = abs(r.fun - p.f_opt) if p.f_opt is not None else np.nan
    ok = bool(r.success and kkt <= 10 * tol and (p.f_opt is None or ferr <= 1e-6))
    return dict(ok=ok, nit=int(r.nit), nfev=int(r.nfev), time=elapsed, kkt=kkt, ferr=ferr,
                extra=extra)


class HockSchittkowski:
    params = pick(([6, 27, 40, 47, 56, 61, 77, 79], HS_METHODS), ([27, 77], HS_METHODS))
    param_names = ["problem", "method"]
    timeout = 120

    def setup(self, problem, method):
        self.p = hs_problem(problem)
        solve(hs_problem(28), method)  # warm imports / JIT

    def time_solve(self, problem, method):
        solve(self.p, method)

    def track_iterations(self, problem, method):
        return solve(self.p, method)["nit"]

    track_iterations.unit = "iterations"

    def track_kkt_residual(self, problem, method):
        return solve(self.p, method)["kkt"]

    track_kkt_residual.unit = "KKT residual"


class PDETracking:
    params = pick(([16, 32, 71], ["sketch-alm-direct", "trust-constr"]),
                  ([16], ["sketch-alm-direct", "trust-constr"]))
    param_names = ["N", "method"]
    timeout = 300

    def setup(self, N, method):
        self.p = pde_tracking(N)

    def time_solve(self, N, method):
        solve(self.p, method)

    def track_kkt_residual(self, N, method):
        return solve(self.p, method)["kkt"]

    track_kkt_residual.unit = "KKT residual"


def solve_no_derivatives(p, method):
    """Run ``method`` on ``p`` given ``fun`` and ``c`` only; ``(result, x, v, seconds)``."""
    cons = {"type": "eq", "fun": p.cons}
    t = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        if method == "sketch-alm":
            r = numopt.minimize(p.fun, p.x0, method="sketch-alm", constraints=cons, rng=0)
            v = r.multipliers
        elif method == "trust-constr":
            r = so.minimize(p.fun, p.x0, method="trust-constr",
                            constraints=so.NonlinearConstraint(p.cons, 0.0, 0.0))
            v = r.v[0]
        else:
            r = so.minimize(p.fun, p.x0, method="SLSQP", constraints=cons,
                            options={"maxiter": 1000})
            v = None
    elapsed = time.perf_counter() - t
    if v is None:  # SLSQP keeps no multipliers: least squares at its x
        v = np.linalg.lstsq(np.atleast_2d(p.cons_jac(r.x)).T, -p.jac(r.x), rcond=None)[0]
    return r, r.x, v, elapsed


def no_derivative_problems():
    """The HS equality set, then random QPs and nonlinear problems (n = 5..60, seeds 0-2)."""
    probs = [hs_problem(k) for k in HS_EQUALITY]
    for n in (5, 20, 40, 60):
        for seed in range(3):
            probs += [random_equality_qp(n, rng=seed), random_equality_nonlinear(n, rng=seed)]
    return probs


def main_no_derivatives():
    methods = ["sketch-alm", "trust-constr", "slsqp"]
    print("\nWithout derivatives (finite differences), default options. st: status; kkt: "
          "exact KKT residual at the returned x and multipliers; df: f - f_ref with f_ref "
          "the published / closed-form optimum or trust-constr with exact derivatives\n")
    print(f"{'problem':<24}" + "".join(f"{m:>34}" for m in methods))
    print(f"{'':<24}" + "".join(f"{'st     kkt       df  time[s]':>34}" for _ in methods))
    totals = dict.fromkeys(methods, 0.0)
    ok = dict.fromkeys(methods, 0)
    probs = no_derivative_problems()
    for p in probs:
        f_ref = p.f_opt
        if f_ref is None:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                f_ref = so.minimize(p.fun, p.x0, method="trust-constr", jac=p.jac,
                                    hess=p.hess, constraints=p.constraints("scipy"),
                                    options={"gtol": 1e-12, "xtol": 1e-15,
                                             "maxiter": 3000}).fun
        line = f"{p.name:<24}"
        for m in methods:
            r, x, v, sec = solve_no_derivatives(p, m)
            totals[m] += sec
            ok[m] += bool(r.success)  # trust-constr: status 1 (gtol) or 2 (xtol)
            line += (f"{r.status:>8}{p.kkt_residual(x, v):>9.1e}{r.fun - f_ref:>9.1e}"
                     f"{sec:>8.3f}")
        print(line)
    print("\nsuccess on: " + ", ".join(f"{m} {ok[m]}/{len(probs)}" for m in methods))
    print("total time [s]: " + ", ".join(f"{m} {t:.2f}" for m, t in totals.items()))


def main(sections=("hs", "logreg", "pde", "noderiv")):
    if "hs" in sections:
        main_hs()
    if "logreg" in sections:
        main_logreg()
    if "pde" in sections:
        main_pde()
    if "noderiv" in sections:
        main_no_derivatives()


def main_hs():
    print(f"Hock-Schittkowski equality problems, KKT tolerance {TOL:g} "
          "(ok: success, KKT <= 1e-7 and |f - f*| <= 1e-6; 'work' = sketch steps for "
          "sketch-alm, CG iterations for trust-constr)\n")
    head = f"{'problem':<7}" + "".join(f"{m:>34}" for m in HS_METHODS)
    print(head)
    print(f"{'':<7}" + "".join(f"{'ok  nit  nfev  time[ms]    work':>34}" for _ in HS_METHODS))
    wins = 0
    totals = {m: 0.0 for m in HS_METHODS}
    for k in HS_EQUALITY:
        p = hs_problem(k)
        rows = {m: solve(p, m) for m in HS_METHODS}
        line = f"HS{k:<5}"
        for m in HS_METHODS:
            r = rows[m]
            totals[m] += r["time"]
            line += (f"{'yes' if r['ok'] else 'NO':>8}{r['nit']:>5}{r['nfev']:>6}"
                     f"{1e3 * r['time']:>10.1f}{r['extra']:>8}")
        wins += rows["sketch-alm"]["nit"] < rows["trust-constr"]["nit"]
        print(line)
    print(f"\nsketch-alm (gaussian sketch) needs fewer outer iterations than trust-constr "
          f"on {wins}/{len(HS_EQUALITY)} problems")
    print("total time [s]: " + ", ".join(f"{m} {t:.3f}" for m, t in totals.items()))


def main_logreg():
    print(f"\nConstrained logistic regression (10 linear rows + ||w||^2 = 1), KKT tolerance "
          f"{TOL:g}\n")
    print(f"{'samples x d':>12}{'method':>20}{'ok':>5}{'nit':>6}{'time [s]':>10}{'KKT':>10}"
          f"{'tc/this':>9}")
    for ns, d in [(1000, 30), (5000, 100), (5000, 300)]:
        p = constrained_logistic_regression(ns, d, rng=0)
        methods = ["sketch-alm", "sketch-alm-direct", "trust-constr"]
        rows = {m: solve(p, m) for m in methods}
        for m in methods:
            r = rows[m]
            ratio = rows["trust-constr"]["time"] / r["time"]
            print(f"{f'{ns}x{d}':>12}{m:>20}{'yes' if r['ok'] else 'NO':>5}{r['nit']:>6}"
                  f"{r['time']:>10.3f}{r['kkt']:>10.1e}{ratio:>9.2f}")


def main_pde():
    print(f"\nPDE-constrained tracking, KKT tolerance {TOL:g}\n")
    print(f"{'N':>5}{'n':>8}{'method':>20}{'ok':>5}{'nit':>6}{'time [s]':>10}"
          f"{'KKT':>10}{'tc/this':>9}")
    for N in [4, 16, 32, 71, 100]:
        p = pde_tracking(N)
        methods = ["sketch-alm-direct", "trust-constr"] + (["sketch-alm"] if N <= 4 else [])
        rows = {m: solve(p, m) for m in methods}
        for m in methods:
            r = rows[m]
            ratio = rows["trust-constr"]["time"] / r["time"]
            print(f"{N:>5}{p.n:>8}{m:>20}{'yes' if r['ok'] else 'NO':>5}{r['nit']:>6}"
                  f"{r['time']:>10.3f}{r['kkt']:>10.1e}{ratio:>9.2f}")


if __name__ == "__main__":
    import sys as _sys
    main(tuple(_sys.argv[1:]) or ("hs", "logreg", "pde", "noderiv"))
