"""numopt.sampling against DPPy (projection DPPs) and across WLS sampling schemes.

* ``ProjectionDPP``: one draw of the Legendre projection DPP with ``m``
  points in d = 1, 2 (tensor index set, the ordering of DPPy's
  ``MultivariateJacobiOPE`` when ``m`` is a square), numopt (``auto``: the
  tridiagonal model in d = 1, the Numba chain rule in d >= 2; ``chain``) vs
  DPPy (its default: tridiagonal in d = 1, chain rule otherwise; ``chain``).
* ``FiniteDPP``: projection DPP of rank ``m`` on ``N`` candidates, numopt vs
  ``dppy.FiniteDPP(projection=True).sample_exact('GS')``.
* ``WeightedLeastSquares``: Runge function, Legendre, m = 20, n = 2m; time
  per fit and the median ``error / best error`` over 50 fits.

Run as a script for a side-by-side table::

    python asv_benchmarks/benchmarks/sampling.py
"""
import time

import numpy as np

from numopt.sampling import (finite_basis, polynomial_basis, sample_projection_dpp,
                             weighted_least_squares)

try:
    from dppy.finite_dpps import FiniteDPP as _DPPyFinite
    from dppy.multivariate_jacobi_ope import MultivariateJacobiOPE
except ImportError:  # pragma: no cover - DPPy is a benchmark peer only
    MultivariateJacobiOPE = _DPPyFinite = None

try:
    from . import pick   # quick / full profile (see __init__.py)
except ImportError:  # run as a script: the full profile
    def pick(full, quick):
        return full


def runge(x):
    return 1.0 / (1.0 + 25.0 * x ** 2)


def _dpp_sampler(impl, d, m):
    """A zero-argument function drawing one DPP sample with ``impl``."""
    if impl.startswith("numopt"):
        B = polynomial_basis("legendre", m, d, index_set="tensor")
        rng = np.random.default_rng(0)
        method = "chain" if impl == "numopt-chain" else "auto"
        return lambda: sample_projection_dpp(B, rng, method=method)
    if MultivariateJacobiOPE is None:
        raise NotImplementedError("DPPy is not installed")
    dpp = MultivariateJacobiOPE(m, np.zeros((d, 2)))
    rs = np.random.RandomState(0)
    tridiag = impl == "dppy"
    return lambda: dpp.sample(random_state=rs, tridiag_1D=tridiag)


def _finite_sampler(impl, N, m):
    rng = np.random.default_rng(0)
    X = np.linspace(-1, 1, N)
    B = finite_basis(lambda x: np.polynomial.legendre.legvander(x[:, 0], m - 1), X)
    if impl == "numopt":
        return lambda: sample_projection_dpp(B, rng, return_indices=True)
    if _DPPyFinite is None:
        raise NotImplementedError("DPPy is not installed")
    dpp = _DPPyFinite("correlation", projection=True, K_eig_dec=(np.ones(m), np.array(B.Q)))
    rs = np.random.RandomState(0)
    return lambda: dpp.sample_exact(mode="GS", random_state=rs)


def _best_of(fn, repeat=5, number=None):
    """Best mean time per call over ``repeat`` rounds of ``number`` calls."""
    fn()
    if number is None:
        t = time.perf_counter()
        fn()
        number = max(1, int(0.05 / max(time.perf_counter() - t, 1e-6)))
    best = np.inf
    for _ in range(repeat):
        t = time.perf_counter()
        for _ in range(number):
            fn()
        best = min(best, (time.perf_counter() - t) / number)
    return best


def _interleaved(fns, rounds=30):
    """Median time per call of each function, calls interleaved (fair under load)."""
    for f in fns.values():
        f()
    times = {k: [] for k in fns}
    for _ in range(rounds):
        for k, f in fns.items():
            t = time.perf_counter()
            f()
            times[k].append(time.perf_counter() - t)
    return {k: float(np.median(v)) for k, v in times.items()}


class ProjectionDPP:
    params = pick(([1, 2], [25, 100], ["numopt", "numopt-chain", "dppy", "dppy-chain"]),
                  ([1], [25], ["numopt", "numopt-chain", "dppy", "dppy-chain"]))
    param_names = ["d", "m", "impl"]
    timeout = 300

    def setup(self, d, m, impl):
        if d == 2 and impl.endswith("chain"):
            raise NotImplementedError("d = 2: 'numopt'/'dppy' already use the chain rule")
        self.draw = _dpp_sampler(impl, d, m)
        self.draw()  # warm the JIT

    def time_sample(self, d, m, impl):
        self.draw()


class FiniteDPP:
    params = pick(([1000, 4000], [20, 80], ["numopt", "dppy"]), ([1000], [20], ["numopt", "dppy"]))
    param_names = ["N", "m", "impl"]
    timeout = 300

    def setup(self, N, m, impl):
        self.draw = _finite_sampler(impl, N, m)
        self.draw()

    def time_sample(self, N, m, impl):
        self.draw()


SCHEMES = ["iid", "repeated-dpp", "volume", "generalized-volume"]


def _ratios(sampling, trials=50, m=20, n=40):
    B = polynomial_basis("legendre", m)
    rng = np.random.default_rng(0)
    return np.array([weighted_least_squares(runge, B, n=n, sampling=sampling, rng=rng)
                     .error_ratio for _ in range(trials)])


class WeightedLeastSquares:
    params = (SCHEMES,)
    param_names = ["sampling"]
    timeout = 300

    def setup(self, sampling):
        self.B = polynomial_basis("legendre", 20)
        self.rng = np.random.default_rng(0)
        weighted_least_squares(runge, self.B, n=40, sampling=sampling, rng=self.rng)

    def time_fit(self, sampling):
        weighted_least_squares(runge, self.B, n=40, sampling=sampling, rng=self.rng,
                               compute_error=False)

    def track_median_error_ratio(self, sampling):
        return float(np.median(_ratios(sampling)))

    track_median_error_ratio.unit = "error / best error"


def main():
    print("Legendre projection DPP, one draw [ms]: median of 30 interleaved rounds\n")
    print(f"{'d':>2}{'m':>5}{'numopt':>10}{'numopt-chain':>14}{'DPPy':>10}{'DPPy-chain':>12}"
          f"{'DPPy/numopt':>13}{'DPPy-chain/numopt-chain':>25}")
    for d in [1, 2]:
        for m in [25, 100]:
            impls = ["numopt", "dppy"] + (["numopt-chain", "dppy-chain"] if d == 1 else [])
            t = _interleaved({i: _dpp_sampler(i, d, m) for i in impls})
            t = {i: t.get(i, np.nan) * 1e3 for i in ["numopt", "numopt-chain", "dppy",
                                                     "dppy-chain"]}
            chain_ratio = t["dppy-chain"] / t["numopt-chain"]
            print(f"{d:>2}{m:>5}{t['numopt']:>10.3f}{t['numopt-chain']:>14.3f}{t['dppy']:>10.3f}"
                  f"{t['dppy-chain']:>12.3f}{t['dppy'] / t['numopt']:>13.1f}{chain_ratio:>25.1f}")
    print("\nFinite projection DPP (rank m on N candidates), one draw [ms]\n")
    print(f"{'N':>6}{'m':>5}{'numopt':>10}{'DPPy':>10}{'ratio':>8}")
    for N in [1000, 4000]:
        for m in [20, 80]:
            a = _best_of(_finite_sampler("numopt", N, m)) * 1e3
            b = _best_of(_finite_sampler("dppy", N, m), repeat=3) * 1e3
            print(f"{N:>6}{m:>5}{a:>10.3f}{b:>10.3f}{b / a:>8.1f}")
    print("\nWeighted least squares, Runge, Legendre m = 20, n = 2m, 50 fits\n")
    print(f"{'sampling':<20}{'ms / fit':>10}{'median err/best':>17}{'90% quantile':>14}")
    B = polynomial_basis("legendre", 20)
    for s in SCHEMES:
        rng = np.random.default_rng(0)
        t = _best_of(lambda s=s, rng=rng: weighted_least_squares(
            runge, B, n=40, sampling=s, rng=rng, compute_error=False)) * 1e3
        r = _ratios(s)
        print(f"{s:<20}{t:>10.3f}{np.median(r):>17.2f}{np.quantile(r, 0.9):>14.2f}")


if __name__ == "__main__":
    main()
