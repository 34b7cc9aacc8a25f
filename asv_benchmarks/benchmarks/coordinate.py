"""numopt.coordinate.bcd: greedy block rules, message passing and the compiled Lasso path.

Three comparisons, all on data generated as in Nutini, Laradji and Schmidt
(JMLR 2022):

* ``Rules``: least squares (problem A, 1000 x 10000 sparse, with a 1e-3
  ridge) and L2-logistic regression (problem B): relative suboptimality
  ``(F - F*) / (F0 - F*)`` after 500 block updates of size 5, for cyclic,
  random, GSL with sorted blocks and GSL with variable blocks.
* ``LabelPropagation``: the 50 x 50 lattice with 100 labelled nodes; block
  updates to reach relative suboptimality 1e-6 with message passing on the
  two-forest partition vs gradient updates on the same blocks and on small
  greedy blocks.
* ``Lasso``: the 1000 x 10000 sparse Lasso, bcd (compiled cyclic CD with
  working sets) vs scikit-learn ``Lasso`` (and skglm, celer when installed),
  same alpha. The references use their default duality-gap tol 1e-4; bcd
  stops on the gradient mapping (``BCD_TOL``), and the objective each
  reaches is printed next to its time, so "faster at an objective at least
  as low" can be read off one table.

Run as a script for side-by-side tables::

    python asv_benchmarks/benchmarks/coordinate.py
"""
import time
import warnings

import numpy as np
import scipy.optimize as so

from numopt.coordinate import Lasso, LabelPropagation, LeastSquares, Logistic, bcd, \
    forest_partition
from numopt.problems import bcd_least_squares, bcd_logistic, lattice_label_propagation

try:
    from . import pick   # quick / full profile (see __init__.py)
except ImportError:  # run as a script: the full profile
    def pick(full, quick):
        return full

RULES = {
    "cyclic": dict(partition="order", selection="cyclic"),
    "random": dict(partition="order", selection="random"),
    "gsl-sort": dict(partition="sort", selection="gsl"),
    "gsl-variable": dict(partition="variable", selection="gsl"),
}
N_ITER = 500
BLOCK = 5


def _rule_problem(name):
    if name == "least_squares":
        d = bcd_least_squares(1000, 10000, rng=0)
        return LeastSquares(d.X, d.y, l2=1e-3)
    d = bcd_logistic(1000, 10000, rng=0)
    return Logistic(d.X, d.y, l2=1e-4)


def _fstar(p):
    def fg(w):
        st = p.init_state(w)
        return p.value(w, st), p.grad(w, st)
    r = so.minimize(fg, np.zeros(p.n), jac=True, method="L-BFGS-B",
                    options={"maxiter": 20000, "gtol": 1e-12, "ftol": 1e-16, "maxcor": 30})
    # polish with greedy block Newton steps
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        r2 = bcd(p, r.x, partition="variable", block_size=50, selection="gs",
                 update="newton", maxiter=300, tol=0.0)
    return min(r.fun, r2.fun)


def run_rule(p, rule, maxiter=N_ITER):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        t = time.perf_counter()
        r = bcd(p, block_size=BLOCK, update="lb", maxiter=maxiter, tol=0.0, rng=0,
                **RULES[rule])
    return time.perf_counter() - t, r


class Rules:
    params = pick((["least_squares", "logistic"], list(RULES)),
                  (["least_squares"], ["cyclic", "gsl-variable"]))
    param_names = ["problem", "rule"]
    timeout = 600

    def setup_cache(self):
        out = {}
        for name in self.params[0]:
            p = _rule_problem(name)
            out[name] = (p, _fstar(p), p(np.zeros(p.n)))
        return out

    def setup(self, cache, problem, rule):
        self.p, self.fstar, self.f0 = cache[problem]
        run_rule(self.p, rule, maxiter=2)   # warm caches

    def time_500_updates(self, cache, problem, rule):
        run_rule(self.p, rule)

    def track_relative_suboptimality(self, cache, problem, rule):
        r = run_rule(self.p, rule)[1]
        return (r.fun - self.fstar) / (self.f0 - self.fstar)

    track_relative_suboptimality.unit = "(F - F*) / (F0 - F*)"


def _lattice():
    d = lattice_label_propagation(50, n_labelled=100, rng=0)
    p = LabelPropagation(d.W, d.y, d.labelled)
    import scipy.sparse.linalg as spla
    xs = spla.spsolve(p.A.tocsc(), p.b)
    return p, -0.5 * float(p.b @ xs)


LP_METHODS = {
    "mp-trees": lambda p, trees: dict(partition=trees, selection="cyclic", update="mp"),
    "lb-trees": lambda p, trees: dict(partition=trees, selection="cyclic", update="lb"),
    "gsl-5-lb": lambda p, trees: dict(partition="order", block_size=5, selection="gsl",
                                      update="lb"),
    "gsl-5-hb": lambda p, trees: dict(partition="order", block_size=5, selection="gsl",
                                      update="hb"),
}


def run_lp(p, fstar, trees, method, maxiter=5000):
    target = fstar + 1e-6 * abs(fstar)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        t = time.perf_counter()
        r = bcd(p, tol=0.0, maxiter=maxiter, **LP_METHODS[method](p, trees))
        el = time.perf_counter() - t
    hit = np.flatnonzero(r.history["fun"] <= target)
    return el, (float(hit[0]) if hit.size else np.nan), r


class LabelPropagationLattice:
    params = (list(LP_METHODS),)
    param_names = ["method"]
    timeout = 600

    def setup(self, method):
        self.p, self.fstar = _lattice()
        self.trees = forest_partition(self.p.A)

    def time_solve(self, method):
        run_lp(self.p, self.fstar, self.trees, method)

    def track_updates_to_1e6(self, method):
        return run_lp(self.p, self.fstar, self.trees, method)[1]

    track_updates_to_1e6.unit = "block updates"


def _lasso_data():
    d = bcd_least_squares(1000, 10000, rng=0)
    X, y = d.X, d.y
    alpha = float(np.max(np.abs(X.T @ y))) / len(y) / 20.0
    return X, y, alpha


def lasso_objective(X, y, w, alpha):
    r = X @ w - y
    return 0.5 / len(y) * float(r @ r) + alpha * float(np.abs(w).sum())


def run_lasso(lib, X, y, alpha, tol=1e-4, bcd_tol=None):
    t = time.perf_counter()
    if lib == "numopt":
        w = bcd(Lasso(X, y, alpha), tol=bcd_tol, maxiter=10**8).x
    elif lib == "sklearn":
        from sklearn.linear_model import Lasso as SkLasso
        w = SkLasso(alpha=alpha, fit_intercept=False, tol=tol, max_iter=100000).fit(X, y).coef_
    elif lib == "skglm":
        from skglm import Lasso as SgLasso
        w = SgLasso(alpha=alpha, fit_intercept=False, tol=tol).fit(X, y).coef_
    elif lib == "celer":
        from celer import Lasso as CeLasso
        w = CeLasso(alpha=alpha, fit_intercept=False, tol=tol).fit(X, y).coef_
    return time.perf_counter() - t, lasso_objective(X, y, w, alpha)


def _available(lib):
    try:
        __import__(lib)
        return True
    except ImportError:
        return False


LASSO_LIBS = ["numopt", "sklearn", "skglm", "celer"]
BCD_TOL = 1e-6   # gradient-mapping tolerance of bcd for the Lasso comparison


class LassoSparse:
    params = (LASSO_LIBS,)
    param_names = ["library"]
    timeout = 600

    def setup(self, lib):
        if not _available(lib if lib != "numopt" else "numopt"):
            raise NotImplementedError(lib)
        self.X, self.y, self.alpha = _lasso_data()
        run_lasso(lib, self.X, self.y, self.alpha, bcd_tol=BCD_TOL)   # warm JIT

    def time_fit(self, lib):
        run_lasso(lib, self.X, self.y, self.alpha, bcd_tol=BCD_TOL)

    def track_objective(self, lib):
        return run_lasso(lib, self.X, self.y, self.alpha, bcd_tol=BCD_TOL)[1]

    track_objective.unit = "objective"


def main():
    print(f"1) Relative suboptimality after {N_ITER} block updates (block size {BLOCK}, "
          "Lipschitz steps)\n")
    print(f"{'problem':<15}{'rule':<14}{'(F-F*)/(F0-F*)':>16}{'time [s]':>10}")
    for name in ["least_squares", "logistic"]:
        p = _rule_problem(name)
        fstar, f0 = _fstar(p), p(np.zeros(p.n))
        run_rule(p, "gsl-variable", maxiter=2)
        for rule in RULES:
            el, r = run_rule(p, rule)
            print(f"{name:<15}{rule:<14}{(r.fun - fstar) / (f0 - fstar):>16.3e}{el:>10.3f}")
    print("\n2) Lattice label propagation 50x50, 100 labelled: block updates to reach "
          "(F - F*) <= 1e-6 |F*|\n")
    p, fstar = _lattice()
    trees = forest_partition(p.A)
    print(f"forest partition: {len(trees)} blocks of sizes {[len(b) for b in trees]}")
    print(f"{'method':<12}{'updates':>10}{'time [s]':>10}")
    for m in LP_METHODS:
        el, hit, _ = run_lp(p, fstar, trees, m)
        print(f"{m:<12}{hit:>10.0f}{el:>10.3f}")
    print("\n3) Lasso, 1000 x 10000 sparse (problem A), alpha = alpha_max / 20, tol = 1e-4 "
          f"for the references, bcd tol = {BCD_TOL:g} (gradient mapping)\n")
    X, y, alpha = _lasso_data()
    rows = {}
    for lib in LASSO_LIBS:
        if not _available(lib):
            continue
        run_lasso(lib, X, y, alpha, bcd_tol=BCD_TOL)  # warm-up (JIT, imports)
        best = min((run_lasso(lib, X, y, alpha, bcd_tol=BCD_TOL) for _ in range(3)),
                   key=lambda v: v[0])
        rows[lib] = best
    fmin = min(v[1] for v in rows.values())
    print(f"{'library':<10}{'time [s]':>10}{'objective':>20}{'F - min F':>12}{'time/numopt':>13}")
    for lib, (el, f) in rows.items():
        print(f"{lib:<10}{el:>10.4f}{f:>20.12f}{f - fmin:>12.2e}"
              f"{el / rows['numopt'][0]:>13.2f}")


if __name__ == "__main__":
    main()
