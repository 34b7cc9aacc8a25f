"""numopt.tensor (Chebyshev-Tucker) against the grid-tensor route with tensorly.

Grid-tensor route: sample ``f`` on the uniform ``n^3`` grid and compress the
full tensor with ``tensorly.decomposition.tucker`` (HOSVD init, one HOOI
sweep) at the ranks ChebTuck found. ChebTuck route: sample ``f`` at the
``(degree + 1)^3`` Chebyshev nodes, DCT-I, truncated HOSVD (or the RHOSVD of
a CP tensor, which never forms a full tensor).

Tracked: build time, peak traced memory (``tracemalloc``, NumPy buffers),
storage, Tucker ranks, maximum relative error (ChebTuck: 4000 random points;
grid route: its own grid points), evaluation time for 10^6 points.

Run as a script for a side-by-side table::

    python asv_benchmarks/benchmarks/tensor.py
"""
import time
import tracemalloc

import numpy as np

from numopt.problems import erf_newton, random_charges_potential, runge
from numopt.tensor import chebyshev_tucker

try:
    from . import pick   # quick / full profile (see __init__.py)
except ImportError:  # run as a script: the full profile
    def pick(full, quick):
        return full

CUBE = [[-1.0, 1.0]] * 3
#: name -> (function, Chebyshev degree, tol)
PROBLEMS = {
    "runge": (lambda: runge(25.0), 128, 1e-7),
    "erf_newton": (lambda: erf_newton(0.3), 32, 1e-8),
}


def _points(n=4000, seed=0):
    return np.random.default_rng(seed).uniform(-1, 1, (n, 3))


def max_rel_error(ct, f, x=None):
    x = _points() if x is None else x
    fx = f(x)
    return float(np.max(np.abs(ct(x) - fx)) / np.max(np.abs(fx)))


def grid_tensor(f, n):
    """``f`` on the uniform n^3 grid of [-1, 1]^3, slab by slab."""
    g = np.linspace(-1, 1, n)
    Y, Z = np.meshgrid(g, g, indexing="ij")
    G = np.empty((n, n, n))
    for i in range(n):
        pts = np.stack([np.full(n * n, g[i]), Y.ravel(), Z.ravel()], axis=1)
        G[i] = f(pts).reshape(n, n)
    return G


def grid_route(f, n, ranks):
    """Sample on n^3 and run tensorly's Tucker; returns (tucker, grid)."""
    import tensorly as tl
    from tensorly.decomposition import tucker
    tl.set_backend("numpy")
    G = grid_tensor(f, n)
    tk = tucker(G, rank=list(ranks), init="svd", n_iter_max=1, tol=0)
    return tk, G


def measured(fn, *args, **kwargs):
    """(result, seconds, peak traced MB) of ``fn(*args, **kwargs)``."""
    tracemalloc.start()
    t = time.perf_counter()
    out = fn(*args, **kwargs)
    el = time.perf_counter() - t
    peak = tracemalloc.get_traced_memory()[1] / 2 ** 20
    tracemalloc.stop()
    return out, el, peak


def _warm():
    ct = chebyshev_tucker(runge(), CUBE, degree=4, tol=1e-3)
    ct(_points(10))


class ChebTuckBuild:
    params = list(PROBLEMS)
    param_names = ["problem"]
    timeout = 300

    def setup(self, problem):
        _warm()
        make, self.degree, self.tol = PROBLEMS[problem]
        self.f = make()
        self.ct = chebyshev_tucker(self.f, CUBE, degree=self.degree, tol=self.tol)

    def time_build(self, problem):
        chebyshev_tucker(self.f, CUBE, degree=self.degree, tol=self.tol)

    def track_max_rank(self, problem):
        return max(self.ct.ranks)

    track_max_rank.unit = "rank"

    def track_max_rel_error(self, problem):
        return max_rel_error(self.ct, self.f)

    track_max_rel_error.unit = "relative error"

    def track_storage_kib(self, problem):
        return self.ct.nbytes / 1024

    track_storage_kib.unit = "KiB"


class GridTuckerTensorly:
    """The reference: tensorly Tucker of the full grid tensor."""
    params = pick((list(PROBLEMS), [129, 256]), (["erf_newton"], [129]))
    param_names = ["problem", "n"]
    timeout = 600

    def setup(self, problem, n):
        make, degree, tol = PROBLEMS[problem]
        self.f = make()
        self.ranks = chebyshev_tucker(self.f, CUBE, degree=degree, tol=tol).ranks

    def time_grid_route(self, problem, n):
        grid_route(self.f, n, self.ranks)


class MultiParticle:
    """Long-range potential of 50 random charges, CP input (RHOSVD route)."""
    timeout = 300

    def setup(self):
        _warm()
        self.V = random_charges_potential(50, rng=0)
        self.ct = chebyshev_tucker(self.V.cp_tensor(), CUBE, degree=40, tol=1e-8)

    def time_build_cp(self):
        chebyshev_tucker(self.V.cp_tensor(), CUBE, degree=40, tol=1e-8)

    def track_max_rank(self):
        return max(self.ct.ranks)

    def track_max_rel_error(self):
        return max_rel_error(self.ct, self.V)


class Evaluate:
    params = pick([10 ** 4, 10 ** 6], [10 ** 4])
    param_names = ["n_points"]

    def setup(self, n_points):
        _warm()
        self.f = runge(25.0)
        self.ct = chebyshev_tucker(self.f, CUBE, degree=128, tol=1e-7)
        self.x = np.random.default_rng(1).uniform(-1, 1, (n_points, 3))
        self.ct(self.x[:10])

    def time_numba(self, n_points):
        self.ct(self.x)

    def time_blas(self, n_points):
        self.ct.evaluate_blas(self.x)

    def time_exact_function(self, n_points):
        self.f(self.x)


def main():
    _warm()
    print("Chebyshev-Tucker (numopt) vs the grid-tensor route (tensorly Tucker, HOSVD init + "
          "1 HOOI sweep)\nat the same Tucker ranks. Times on a shared machine: noisy; "
          "ratios are from the same run.\n")
    hdr = (f"{'problem':<12}{'route':<24}{'ranks':<14}{'time [s]':>9}{'peak MB':>10}"
           f"{'store KB':>10}{'max rel err':>13}")
    print(hdr)
    print("-" * len(hdr))
    for name, (make, degree, tol) in PROBLEMS.items():
        f = make()
        ct, t_ct, m_ct = measured(chebyshev_tucker, f, CUBE, degree=degree, tol=tol)
        err = max_rel_error(ct, f)
        print(f"{name:<12}{'chebtuck m=' + str(degree + 1):<24}{str(ct.ranks):<14}{t_ct:>9.2f}"
              f"{m_ct:>10.1f}{ct.nbytes / 1024:>10.1f}{err:>13.1e}")
        for n in (129, 256):
            (tk, G), t_g, m_g = measured(grid_route, f, n, ct.ranks)
            import tensorly as tl
            R = tl.tucker_to_tensor(tk)
            err_g = float(np.max(np.abs(R - G)) / np.max(np.abs(G)))
            store = (tk.core.nbytes + sum(U.nbytes for U in tk.factors)) / 1024
            print(f"{'':<12}{'grid n=%d + tensorly' % n:<24}{str(ct.ranks):<14}{t_g:>9.2f}"
                  f"{m_g:>10.1f}{store:>10.1f}{err_g:>13.1e}")
            print(f"{'':<12}{'ratio grid/chebtuck':<24}{'':<14}{t_g / t_ct:>9.1f}"
                  f"{m_g / m_ct:>10.1f}")
            del G, R
        print()

    V = random_charges_potential(50, rng=0)
    ct, t_ct, m_ct = measured(chebyshev_tucker, V.cp_tensor(), CUBE, degree=40, tol=1e-8)
    print(f"{'50 charges':<12}{'chebtuck CP (RHOSVD)':<24}{str(ct.ranks):<14}{t_ct:>9.2f}"
          f"{m_ct:>10.1f}{ct.nbytes / 1024:>10.1f}{max_rel_error(ct, V):>13.1e}"
          f"   (CP rank {V.cp_rank})")
    ct2, t2, m2 = measured(chebyshev_tucker, V, CUBE, degree=40, tol=1e-8)
    print(f"{'':<12}{'chebtuck function':<24}{str(ct2.ranks):<14}{t2:>9.2f}"
          f"{m2:>10.1f}{ct2.nbytes / 1024:>10.1f}{max_rel_error(ct2, V):>13.1e}\n")

    f = runge(25.0)
    ct = chebyshev_tucker(f, CUBE, degree=128, tol=1e-7)
    x = np.random.default_rng(1).uniform(-1, 1, (10 ** 6, 3))
    ct(x[:10])
    rows = []
    for label, fn in [("numba kernel", ct), ("numpy/BLAS path", ct.evaluate_blas),
                      ("exact f (numpy)", f)]:
        ts = []
        for _ in range(3):
            t = time.perf_counter()
            fn(x)
            ts.append(time.perf_counter() - t)
        rows.append((label, min(ts)))
    print(f"Evaluation of 10^6 points, runge degrees {ct.degree}, ranks {ct.ranks} "
          "(best of 3):")
    for label, t in rows:
        print(f"  {label:<18}{t:>8.3f} s")


if __name__ == "__main__":
    main()
