"""numopt.ot.solve_sample (online cost) against POT's ot.solve_sample and ott-jax.

Problem: two clouds of n points in 3-D (source standard normal, target
``0.8 * normal + 0.5``, seed 0), squared Euclidean cost, uniform weights,
``reg = 0.1 x`` the mean cost, tolerance 1e-9 on the column-marginal 2-norm
error (POT and ott-jax: their own marginal-error tests, 2-norm, at the same
tolerance). ott-jax runs in float64 (``jax_enable_x64``) with its
``PointCloud`` geometry (online cost, ``batch_size`` rows at a time).

Run as a script for a side-by-side table; every large case runs in a fresh
subprocess so its peak memory (``ru_maxrss`` and the tracemalloc peak of the
solve) is its own::

    python asv_benchmarks/benchmarks/ot_sample.py --n 4000          # vs POT
    python asv_benchmarks/benchmarks/ot_sample.py --n 20000 50000   # vs ott-jax
    # ott-jax for a fixed number of iterations (its time per iteration):
    python asv_benchmarks/benchmarks/ot_sample.py --n 50000 \
        --solvers numopt-lazy ott-jax-iters --ott-iters 5

The machine's load average is printed with every figure.

Measured 2026-12-06 on the shared 2-core development machine (CPU seconds of
each solver's process; wall times depend on the load, given last):

======  ==========================  ========  =======  ===  ==============  =========  =======  ====
n       solver                      wall (s)  cpu (s)  nit  value           marg. err  max RSS  load
======  ==========================  ========  =======  ===  ==============  =========  =======  ====
20,000  numopt solve_sample lazy    46.1      36.1     40   2.671845764142  8.0e-10    201 MB   2.8
20,000  ott-jax PointCloud          2,364.3   493.5    50   2.671845818265  1.5e-10    1.2 GB   6.0
50,000  numopt solve_sample lazy    726.9     208.5    38   2.690588848912  7.7e-10    208 MB   6.5
50,000  ott-jax, EXTRAPOLATED (*)   7,566     5,054    50   n/a             n/a        2.5 GB   5.4
======  ==========================  ========  =======  ===  ==============  =========  =======  ====

ott-jax compile time (excluded): 2.2 s at n = 20,000. (*) ott-jax timed for 5
iterations (``ott-jax-iters``), its time per iteration (101.1 CPU s, 151.3 s wall)
times the 50 iterations it needed at n = 2,000 and 20,000: not a measured
solve. See ``docs/user_guide/ot_sample.rst``.
"""
import argparse
import json
import os
import resource
import subprocess
import sys
import time
import tracemalloc
import warnings

# run as a script, this file's folder comes first on sys.path and would shadow POT's `ot`
if sys.path and os.path.abspath(sys.path[0] or os.curdir) == os.path.dirname(
        os.path.abspath(__file__)):
    sys.path.pop(0)

import numpy as np

try:
    from . import pick   # quick / full profile (see __init__.py)
except ImportError:  # run as a script: the full profile
    def pick(full, quick):
        return full

TOL = 1e-9
REG_FRACTION = 0.1


def problem(n, d=3):
    """Points, weights, and reg = 0.1 x mean squared Euclidean cost."""
    rng = np.random.default_rng(0)
    X = rng.normal(size=(n, d))
    Y = 0.8 * rng.normal(size=(n, d)) + 0.5
    # mean of |x - y|^2 over all pairs, in closed form (uniform weights)
    mean_cost = float((X * X).sum(1).mean() + (Y * Y).sum(1).mean()
                      - 2 * X.mean(0) @ Y.mean(0))
    return X, Y, REG_FRACTION * mean_cost


class SolveSample:
    """asv: the online solver at n = 2000 and 4000 (JIT warmed in setup)."""

    params = [pick([2000, 4000], [2000])]
    param_names = ["n"]
    timeout = 600

    def setup(self, n):
        from numopt.ot import solve_sample
        self.solve_sample = solve_sample
        self.X, self.Y, self.reg = problem(n)
        solve_sample(self.X[:50], self.Y[:50], reg=self.reg, lazy=True)

    def time_lazy(self, n):
        self.solve_sample(self.X, self.Y, reg=self.reg, lazy=True, tol=TOL)

    def track_nit(self, n):
        return self.solve_sample(self.X, self.Y, reg=self.reg, lazy=True, tol=TOL).nit

    def peakmem_lazy(self, n):
        self.solve_sample(self.X, self.Y, reg=self.reg, lazy=True, tol=TOL)


class SolveSampleDevice:
    """asv: the device (Array API) path with PyTorch tensors, on the CPU and, where
    PyTorch sees one, on a CUDA GPU (skipped otherwise), beside the NumPy path in
    :class:`SolveSample` (same problem; n = 1000 in the quick profile: on the CPU
    the tiled PyTorch path costs about 50x the CPU time of the Numba kernels, 26 s
    against 0.5 s at n = 2000 on the loaded 2-core development machine, so NumPy
    arrays remain the way to run on a CPU). No GPU figure has been measured."""

    params = [pick([2000, 4000], [1000]), ["cpu", "cuda"]]
    param_names = ["n", "device"]
    timeout = 600

    def setup(self, n, device):
        try:
            import torch
        except ImportError:
            raise NotImplementedError("torch is not installed") from None
        if device == "cuda" and not torch.cuda.is_available():
            raise NotImplementedError("no CUDA device")
        from numopt.ot import solve_sample
        self.solve_sample = solve_sample
        X, Y, self.reg = problem(n)
        self.X, self.Y = torch.from_numpy(X).to(device), torch.from_numpy(Y).to(device)
        self.sync = torch.cuda.synchronize if device == "cuda" else (lambda: None)
        solve_sample(self.X[:50], self.Y[:50], reg=self.reg, lazy=True)

    def time_lazy(self, n, device):
        self.solve_sample(self.X, self.Y, reg=self.reg, lazy=True, tol=TOL)
        self.sync()

    def track_nit(self, n, device):
        return self.solve_sample(self.X, self.Y, reg=self.reg, lazy=True, tol=TOL).nit


# ---------------------------------------------------------------------------------------
# script: one solver per call, in a fresh process for the large sizes
# ---------------------------------------------------------------------------------------
def _run_numopt(X, Y, reg, lazy):
    from numopt.ot import solve_sample
    solve_sample(X[:50], Y[:50], reg=reg, lazy=lazy)  # JIT warm-up (cached kernels load)
    tracemalloc.start()
    t0, c0 = time.perf_counter(), time.process_time()
    r = solve_sample(X, Y, reg=reg, lazy=lazy, tol=TOL, warn=False)
    sec, cpu = time.perf_counter() - t0, time.process_time() - c0
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    return dict(sec=sec, cpu=cpu, value=r.value, value_linear=r.value_linear, nit=r.nit,
                err=max(r.marginal_error), status=r.status, traced=peak)


def _run_pot(X, Y, reg, lazy):
    import ot as pot
    t0, c0 = time.perf_counter(), time.process_time()
    r = pot.solve_sample(X, Y, reg=reg, lazy=lazy, max_iter=100_000, tol=TOL)
    sec, cpu = time.perf_counter() - t0, time.process_time() - c0
    out = dict(sec=sec, cpu=cpu, value_linear=float(r.value_linear))
    if r.value is not None:
        out["value"] = float(r.value)
    if not lazy:
        P = np.asarray(r.plan)
        out["err"] = float(max(np.linalg.norm(P.sum(1) - 1 / len(X)),
                               np.linalg.norm(P.sum(0) - 1 / len(Y))))
    return out


#: sweeps of the fixed-length ott-jax run (``ott-jax-iters``): its time per iteration
OTT_FIXED_ITERS = 20


def _run_ott_fixed(X, Y, reg, lazy=True):
    """ott-jax for exactly ``--ott-iters`` (default :data:`OTT_FIXED_ITERS`) iterations:
    its time per iteration."""
    iters = int(os.environ.get("OT_SAMPLE_OTT_ITERS", OTT_FIXED_ITERS))
    return _run_ott(X, Y, reg, lazy, iters=iters)


def _run_ott(X, Y, reg, lazy=True, iters=None):
    import jax
    jax.config.update("jax_enable_x64", True)
    import jax.numpy as jnp
    from jax.interpreters import batching
    if not hasattr(batching, "is_vmappable"):
        # ott-jax 0.6.0 (the latest release) calls this helper, which newer JAX
        # removed; it only flags custom vmappable types, so False is exact for arrays
        batching.is_vmappable = lambda x: False
    from ott.geometry import pointcloud
    from ott.problems.linear import linear_problem
    from ott.solvers.linear import sinkhorn

    x, y = jnp.asarray(X), jnp.asarray(Y)
    if iters is None:
        solver = sinkhorn.Sinkhorn(threshold=TOL, norm_error=2, max_iterations=100_000,
                                   lse_mode=True)
    else:  # a fixed number of iterations (min = max), for the time per iteration
        solver = sinkhorn.Sinkhorn(threshold=TOL, norm_error=2, min_iterations=iters,
                                   max_iterations=iters, inner_iterations=min(10, iters),
                                   lse_mode=True)

    @jax.jit
    def solve(x, y):
        geom = pointcloud.PointCloud(x, y, epsilon=reg, batch_size=1024)
        out = solver(linear_problem.LinearProblem(geom))
        return out.reg_ot_cost, out.n_iters, out.errors, out.converged, out.f, out.g

    t_c = time.perf_counter()
    compiled = solve.lower(x, y).compile()  # compile time reported apart
    compile_sec = time.perf_counter() - t_c
    t0, c0 = time.perf_counter(), time.process_time()
    cost, nit, errors, conv, f, g = jax.block_until_ready(compiled(x, y))
    sec, cpu = time.perf_counter() - t0, time.process_time() - c0
    errs = np.asarray(errors)
    errs = errs[errs >= 0]
    return dict(sec=sec, cpu=cpu, compile_sec=compile_sec, nit=int(nit), converged=bool(conv),
                value=float(cost), sec_per_iter=sec / int(nit), cpu_per_iter=cpu / int(nit),
                err=float(errs[-1]) if errs.size else float("nan"))


def throughput(n=4000, reps=5, sweeps=20):
    """Single-thread CPU-time rates (million per second): ``np.exp`` on in-cache blocks
    (the floor to compare against), a scalar libm ``exp`` loop in Numba, and whole
    online Sinkhorn sweeps of the public ``solve_sample`` (point pairs per second:
    cost + exp + row sum + column sums, ``sweeps`` sweeps of ``n x n`` pairs)."""
    import numba

    from numopt.ot import solve_sample

    old = numba.get_num_threads()
    numba.set_num_threads(1)
    X, Y, reg = problem(n)
    z = -np.random.default_rng(0).random(4096) * 20
    out = np.empty_like(z)
    blocks = n * n // z.size

    @numba.njit(cache=True)
    def libm(z, blocks):
        acc = 0.0
        for _ in range(blocks):
            for j in range(z.size):
                acc += np.exp(z[j])
        return acc

    def np_blocks():
        for _ in range(blocks):
            np.exp(z, out=out)

    def solver():
        with warnings.catch_warnings():  # stopped by max_iter on purpose
            warnings.simplefilter("ignore")
            res = solve_sample(X, Y, reg=reg, lazy=True, n_threads=1, max_iter=sweeps,
                               tol=1e-15)
        return res.nit

    def best(fn, pairs_per_unit):
        fn()
        rate = 0.0
        for _ in range(reps):
            t0 = time.process_time()
            units = fn()
            t = time.process_time() - t0
            rate = max(rate, pairs_per_unit * (units if isinstance(units, int) else 1) / t)
        return rate / 1e6

    rates = {"np.exp": best(np_blocks, n * n),
             "numba libm exp": best(lambda: libm(z, blocks), n * n),
             "solve_sample sweeps (pairs)": best(solver, n * n)}
    numba.set_num_threads(old)
    return rates


RUNNERS = {"numopt-lazy": (_run_numopt, True), "numopt-dense": (_run_numopt, False),
           "pot-dense": (_run_pot, False), "pot-lazy": (_run_pot, True),
           "ott-jax": (_run_ott, True), "ott-jax-iters": (_run_ott_fixed, True)}


def _child(name, n):
    fn, lazy = RUNNERS[name]
    X, Y, reg = problem(n)
    out = fn(X, Y, reg, lazy)
    out["maxrss"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    print("RESULT " + json.dumps(out))


def run_case(name, n, timeout=3600, ott_iters=OTT_FIXED_ITERS):
    """Run one solver in a fresh interpreter; return its result dict (and the load)."""
    load = os.getloadavg()[0]
    env = dict(os.environ)
    env["OT_SAMPLE_OTT_ITERS"] = str(ott_iters)
    root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    env["PYTHONPATH"] = root + os.pathsep + env.get("PYTHONPATH", "")
    try:
        proc = subprocess.run([sys.executable, os.path.abspath(__file__), "--child", name,
                               str(n)], capture_output=True, text=True, env=env,
                              timeout=timeout)
    except subprocess.TimeoutExpired:
        return {"error": f"not finished after {timeout} s wall", "load": load}
    line = [ln for ln in proc.stdout.splitlines() if ln.startswith("RESULT ")]
    if proc.returncode or not line:
        return {"error": (proc.stderr or proc.stdout)[-400:], "load": load}
    out = json.loads(line[0][7:])
    out["load"] = (load + os.getloadavg()[0]) / 2
    return out


def _fmt(x, spec):
    return format(x, spec) if isinstance(x, (int, float)) else "-"


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, nargs="+", default=[4000])
    ap.add_argument("--solvers", nargs="+", default=None,
                    help="default: numopt-lazy, numopt-dense, pot-dense, pot-lazy at "
                         "n <= 4000; numopt-lazy, ott-jax above")
    ap.add_argument("--ott-iters", type=int, default=OTT_FIXED_ITERS,
                    help="iterations of the fixed-length ott-jax run (solver 'ott-jax-iters')")
    ap.add_argument("--timeout", type=float, default=3600,
                    help="wall seconds allowed to each solver run")
    ap.add_argument("--throughput", action="store_true",
                    help="only the single-thread exp / sweep throughput table")
    ap.add_argument("--child", nargs=2, help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.child:
        _child(args.child[0], int(args.child[1]))
        return
    if args.throughput:
        load = os.getloadavg()[0]
        rates = throughput()
        for k, v in rates.items():
            print(f"{k:<22} {v:8.0f} M/s   ({v / rates['np.exp']:.0%} of np.exp)")
        print(f"(one thread, CPU time, best of 5; load average {load:.1f} -> "
              f"{os.getloadavg()[0]:.1f})")
        return
    print(f"{os.cpu_count()} CPUs; tol {TOL:g}; reg = {REG_FRACTION} x mean cost; "
          "time: wall seconds, cpu: CPU seconds of the process (all threads), memory in MB")
    print(f"{'n':>6} {'solver':<13} {'time':>8} {'cpu':>8} {'nit':>6} {'value':>18} "
          f"{'value_linear':>18} {'rel diff*':>9} {'marg err':>9} {'traced':>7} "
          f"{'maxrss':>7} {'load':>5}")
    print("* relative difference of `value` to the first solver's (of `value_linear` where "
          "a solver reports no `value`)")
    for n in args.n:
        names = args.solvers or (["numopt-lazy", "numopt-dense", "pot-dense", "pot-lazy"]
                                 if n <= 4000 else ["numopt-lazy", "ott-jax"])
        ref = None
        for name in names:
            r = run_case(name, n, timeout=args.timeout, ott_iters=args.ott_iters)
            if "error" in r:
                print(f"{n:>6} {name:<13} failed: {r['error']!r}")
                continue
            if ref is None:
                ref = r
            key = "value" if "value" in r else "value_linear"
            rel = abs(r[key] - ref[key]) / abs(ref[key]) if key in ref else None
            print(f"{n:>6} {name:<13} {r['sec']:8.2f} {_fmt(r.get('cpu'), '8.2f')} "
                  f"{_fmt(r.get('nit'), '6d')} "
                  f"{_fmt(r.get('value'), '18.12f')} {_fmt(r.get('value_linear'), '18.12f')} "
                  f"{_fmt(rel, '9.1e')} {_fmt(r.get('err'), '9.1e')} "
                  f"{_fmt(r.get('traced', None) and r['traced'] / 2**20, '7.1f')} "
                  f"{r['maxrss'] / 2**20:7.0f} {r['load']:5.1f}", flush=True)
            if name.startswith("ott-jax"):
                print(f"{'':>6} {'':<13} (ott-jax compile {r['compile_sec']:.1f} s, not "
                      f"included; converged={r['converged']}; per iteration "
                      f"{r['sec_per_iter']:.2f} s wall, {r['cpu_per_iter']:.2f} s CPU)",
                      flush=True)
            elif "nit" in r:
                print(f"{'':>6} {'':<13} (per sweep {r['sec'] / r['nit']:.2f} s wall, "
                      f"{r['cpu'] / r['nit']:.2f} s CPU)", flush=True)


if __name__ == "__main__":
    main()
