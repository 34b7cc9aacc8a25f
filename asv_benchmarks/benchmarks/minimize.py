"""numopt.minimize('gn-newton') against SciPy's Newton-type methods.

Problems: L2-regularized logistic regression (n = 10,000 samples, d = 200)
and Rosenbrock. Tracked: wall time, Hessian evaluations needed to reach
``‖∇f‖ <= 1e-8`` (NaN when a method stops before reaching it) and the final
gradient norm.

Run as a script for a side-by-side table::

    python asv_benchmarks/benchmarks/minimize.py
"""
import time

import numpy as np
import scipy.optimize as so

import numopt
from numopt.problems import logistic_regression, rosenbrock

GTOL = 1e-8
METHODS = ["gn-newton", "newton-cg", "trust-exact"]


def _problem(name):
    if name == "logistic":
        return logistic_regression(10_000, 200, l2=1e-3, rng=0)
    return rosenbrock(2)


def solve(problem, method):
    """Run ``method``; return (seconds, Hessians to reach GTOL or nan, final ‖∇f‖)."""
    nhev = [0]
    reached = [np.nan]

    def hess(x):
        nhev[0] += 1
        return problem.hess(x)

    def cb(intermediate_result):
        if np.isnan(reached[0]) and np.linalg.norm(problem.jac(intermediate_result.x)) <= GTOL:
            reached[0] = nhev[0]
            raise StopIteration

    t = time.perf_counter()
    if method == "gn-newton":
        res = numopt.minimize(problem.fun, problem.x0, method=method, jac=problem.jac,
                              hess=hess, options={"gtol": GTOL, "maxiter": 500})
        if res.success:
            reached[0] = nhev[0]
    else:
        opts = {"xtol": 1e-14} if method == "newton-cg" else {"gtol": GTOL}
        res = so.minimize(problem.fun, problem.x0, method=method, jac=problem.jac, hess=hess,
                          callback=cb, options=dict(opts, maxiter=500))
    elapsed = time.perf_counter() - t
    return elapsed, reached[0], float(np.linalg.norm(problem.jac(res.x)))


class Minimize:
    params = (["logistic", "rosenbrock"], METHODS)
    param_names = ["problem", "method"]
    timeout = 300

    def setup(self, problem, method):
        self.problem = _problem(problem)

    def time_solve(self, problem, method):
        solve(self.problem, method)

    def track_hessians_to_gtol(self, problem, method):
        return solve(self.problem, method)[1]

    track_hessians_to_gtol.unit = "Hessian evaluations"

    def track_final_gradient_norm(self, problem, method):
        return solve(self.problem, method)[2]

    track_final_gradient_norm.unit = "norm"


def main():
    print(f"Hessian evaluations to reach ||grad f|| <= {GTOL:g} "
          "(nan: the method stopped before reaching it)\n")
    print(f"{'problem':<12}{'method':<14}{'time [s]':>10}{'Hessians':>10}{'final |g|':>12}")
    for name in ["logistic", "rosenbrock"]:
        p = _problem(name)
        rows = {m: solve(p, m) for m in METHODS}
        for m, (t, h, g) in rows.items():
            print(f"{name:<12}{m:<14}{t:>10.3f}{h:>10.0f}{g:>12.2e}")
        ours = rows["gn-newton"]
        for m in METHODS[1:]:
            print(f"{'':<12}time ratio {m} / gn-newton: {rows[m][0] / ours[0]:.2f}")
        print()


if __name__ == "__main__":
    main()
