"""Sinkhorn on a GPU: numopt (PyTorch CUDA, CuPy) vs numopt's CPU path vs POT's GPU backends.

Problem: two clouds of n uniform points in [0, 1]^2, squared Euclidean cost
divided by its maximum, uniform weights (``numopt.problems.ot_point_clouds``),
float64. Every solver runs to the column-marginal error ``TOL = 1e-9``
(numopt checks it every iteration, POT every 10) with the same method
(``'sinkhorn'``: scaling iterations; ``'sinkhorn_log'``: log domain):

* ``numopt-torch-cuda`` / ``numopt-cupy``: :func:`numopt.ot.sinkhorn` on
  PyTorch CUDA tensors / CuPy arrays (numopt's generic Array API path);
* ``numopt-cpu``: the same call on NumPy arrays (the Numba kernels, all
  threads);
* ``pot-torch-cuda`` / ``pot-cupy``: ``ot.sinkhorn(a, b, M, reg)`` on the same
  device arrays (POT's backends).

The time includes the device synchronisation at the end (the plan is
complete); the inputs are already on the device (transfers are not timed).
Tracked: wall time and the final marginal error of the returned plan.

Without a CUDA device every benchmark's ``setup`` raises
``NotImplementedError`` (asv's way of skipping). Run as a script for the
side-by-side table (it prints ``no GPU: nothing measured`` without one)::

    python asv_benchmarks/benchmarks/ot_gpu.py --n 1000 2000 5000 10000 --reg 1e-2 1e-3
"""
import argparse
import os
import sys
import time
import warnings

# run as a script, this file's folder comes first on sys.path and would shadow POT's `ot`
if sys.path and os.path.abspath(sys.path[0] or os.curdir) == os.path.dirname(
        os.path.abspath(__file__)):
    sys.path.pop(0)

import numpy as np

import numopt.ot
from numopt.problems import ot_point_clouds

try:
    from . import pick   # quick / full profile (see __init__.py)
except ImportError:  # run as a script: the full profile
    def pick(full, quick):
        return full

try:
    import ot as pot
except ImportError:  # pragma: no cover
    pot = None

TOL = 1e-9
MAXITER = 100_000
SOLVERS = ["numopt-torch-cuda", "numopt-cupy", "numopt-cpu", "pot-torch-cuda", "pot-cupy"]
METHODS = ["sinkhorn", "sinkhorn_log"]


def _torch_cuda():
    try:
        import torch
    except ImportError:
        return None
    return torch if torch.cuda.is_available() else None


def _cupy():
    try:
        import cupy
        if cupy.cuda.runtime.getDeviceCount() > 0:
            return cupy
    except Exception:   # noqa: BLE001 -- CuPy raises its own error types without a driver
        pass
    return None


def gpu_available():
    """True when PyTorch or CuPy sees a CUDA device."""
    return _torch_cuda() is not None or _cupy() is not None


def _library(solver):
    """``(module, kind)`` of a solver's arrays; ``(None, ...)`` when unavailable."""
    if solver.endswith("torch-cuda"):
        return _torch_cuda(), "torch"
    if solver.endswith("cupy"):
        return _cupy(), "cupy"
    return np, "numpy"


def available(solver):
    """Why ``solver`` cannot run here (a string), or None."""
    if not gpu_available():
        return "no CUDA device"
    if solver.startswith("pot-") and pot is None:
        return "POT is not installed"
    if _library(solver)[0] is None:
        return f"{solver.split('-', 1)[1]} is not available"
    return None


def problem(n, solver):
    """The problem of size ``n`` as ``solver``'s arrays (copied to the device once)."""
    p = ot_point_clouds(n, rng=0)
    lib, kind = _library(solver)
    if kind == "torch":
        return [lib.from_numpy(x).cuda() for x in (p.a, p.b, p.M)]
    if kind == "cupy":
        return [lib.asarray(x) for x in (p.a, p.b, p.M)]
    return [p.a, p.b, p.M]


def _sync(solver):
    lib, kind = _library(solver)
    if kind == "torch":
        lib.cuda.synchronize()
    elif kind == "cupy":
        lib.cuda.Stream.null.synchronize()


def _to_numpy(x):
    if hasattr(x, "get"):
        return x.get()
    if hasattr(x, "detach"):
        return x.detach().cpu().numpy()
    return np.asarray(x)


def solve(solver, arrays, reg, method):
    """Run ``solver`` once; return ``(seconds, plan)``."""
    a, b, M = arrays
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        _sync(solver)
        t = time.perf_counter()
        if solver.startswith("numopt-"):
            P = numopt.ot.sinkhorn(a, b, M, reg, method=method, numItermax=MAXITER,
                                     stopThr=TOL)
        else:
            P = pot.sinkhorn(a, b, M, reg, method=method, numItermax=MAXITER, stopThr=TOL)
        _sync(solver)
        return time.perf_counter() - t, P


def marginal_error(P, arrays):
    """``max(||P 1 - a||, ||P^T 1 - b||)`` (2-norms), on the host."""
    P = _to_numpy(P)
    a, b = (_to_numpy(x) for x in arrays[:2])
    return float(max(np.linalg.norm(P.sum(1) - a), np.linalg.norm(P.sum(0) - b)))


class SinkhornGPU:
    """Time and final marginal error to TOL, per solver, size and method."""

    params = pick(([1000, 2000, 5000, 10000], [1e-2, 1e-3], METHODS, SOLVERS),
                  ([1000], [1e-2], ["sinkhorn"], SOLVERS))
    param_names = ["n", "reg", "method", "solver"]
    timeout = 900

    def setup(self, n, reg, method, solver):
        why = available(solver)
        if why is not None:
            raise NotImplementedError(why)
        self.arrays = problem(n, solver)
        solve(solver, problem(50, solver), reg, method)   # warm: JIT caches, CUDA context

    def time_solve(self, n, reg, method, solver):
        solve(solver, self.arrays, reg, method)

    def track_marginal_error(self, n, reg, method, solver):
        return marginal_error(solve(solver, self.arrays, reg, method)[1], self.arrays)

    track_marginal_error.unit = "2-norm"


def table(sizes, regs, methods, solvers, repeat):
    """Rows ``(n, reg, method, solver, best seconds, marginal error)``; None without a GPU."""
    if not gpu_available():
        return None
    rows = []
    for n in sizes:
        for reg in regs:
            for method in methods:
                for solver in solvers:
                    if available(solver) is not None:
                        continue
                    arrays = problem(n, solver)
                    solve(solver, problem(50, solver), reg, method)
                    best, P = min((solve(solver, arrays, reg, method)
                                   for _ in range(repeat)), key=lambda r: r[0])
                    rows.append((n, reg, method, solver, best, marginal_error(P, arrays)))
    return rows


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--n", type=int, nargs="+", default=[1000, 2000, 5000, 10000])
    ap.add_argument("--reg", type=float, nargs="+", default=[1e-2])
    ap.add_argument("--method", nargs="+", default=METHODS, choices=METHODS)
    ap.add_argument("--solver", nargs="+", default=SOLVERS, choices=SOLVERS)
    ap.add_argument("--repeat", type=int, default=3, help="runs per cell; the best is shown")
    args = ap.parse_args(argv)
    rows = table(args.n, args.reg, args.method, args.solver, args.repeat)
    if rows is None:
        print("no GPU: nothing measured")
        return
    import platform
    gpu = _torch_cuda().cuda.get_device_name(0) if _torch_cuda() else "CUDA device (CuPy)"
    print(f"# {gpu}; CPU: {platform.processor() or platform.machine()}, {os.cpu_count()} "
          f"cores; tol {TOL:g}, float64")
    print(f"{'n':>6s} {'reg':>7s} {'method':>13s} {'solver':>18s} {'seconds':>9s} "
          f"{'marg. err':>10s}")
    for n, reg, method, solver, sec, err in rows:
        print(f"{n:6d} {reg:7.0e} {method:>13s} {solver:>18s} {sec:9.4f} {err:10.2e}")


if __name__ == "__main__":
    main()
