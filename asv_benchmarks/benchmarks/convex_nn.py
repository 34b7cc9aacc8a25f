"""numopt.convex_nn: ADMM / SCP against CVXPY+Clarabel and Adam on the non-convex network.

Problem: teacher-student ReLU regression (``numopt.problems.teacher_student_relu``),
squared loss, ``beta = 1e-2``, ``P`` sampled patterns (with bias). Tracked:

* time for ADMM to reach the Clarabel optimum of the *same* convex program within
  1e-4 relative objective (checked every 25 iterations through the callback);
* the same for the interior-point solver (``solver='ipm'``; its callback's
  ``feasible_fun``, the best objective of an iterate made exactly feasible, is
  checked at every Newton step), wall and CPU seconds;
* Clarabel's own time (CVXPY compile + solve);
* time for Adam (torch, full batch) on the non-convex network with ``2P`` neurons and
  weight decay ``beta/2 (‖U‖² + ‖α‖²)`` — the same objective — to reach the same value
  (NaN if it does not within its iteration budget).

Run as a script for a side-by-side table (sizes from the command line)::

    python asv_benchmarks/benchmarks/convex_nn.py 500 20 50

``defaults`` as the first argument runs the defaults section instead (issue #21):
``fit_convex_relu`` with default solver settings (``solver='auto'``) against
CVXPY+Clarabel on the same patterns, same run, d = 10, P = 40, for the given n
(default 100 300 1000 2000 5000); ``--blas-threads=1`` for a shared machine::

    python asv_benchmarks/benchmarks/convex_nn.py defaults 100 300 1000

``--no-clarabel`` skips CVXPY (which takes most of an hour at n = 2000, d = 50,
P = 200) and takes as target the IPM's own optimum at ``tol=1e-8``, whose
certified lower bound is printed with it; ``--no-adam``/``--no-admm`` skip those
columns; ``--target=F`` takes a known optimum (e.g. Clarabel's from an earlier run)::

    python asv_benchmarks/benchmarks/convex_nn.py 2000 50 200 --no-clarabel --no-admm
"""
import sys
import time

import numpy as np

from numopt.convex_nn import (convex_objective, fit_convex_relu, restore_feasibility,
                              sample_patterns)
from numopt.problems import teacher_student_relu

try:
    from . import pick   # quick / full profile (see __init__.py)
except ImportError:  # run as a script: the full profile
    def pick(full, quick):
        return full

BETA = 1e-2
RTOL = 1e-4


def problem(n, d, P, seed=0):
    X, y = teacher_student_relu(n, d, n_hidden=10, noise=0.1, rng=seed)
    D, gates = sample_patterns(X, P, rng=seed, bias=True)
    return X, y, (D, gates)


def clarabel(X, y, pats, cpu=None):
    """Wall seconds and objective of CVXPY+Clarabel; CPU seconds appended to ``cpu``."""
    t, c = time.perf_counter(), time.process_time()
    res = fit_convex_relu(X, y, beta=BETA, solver="cvxpy", patterns=pats)
    if cpu is not None:
        cpu.append(time.process_time() - c)
    return time.perf_counter() - t, res.objective


def admm_time_to(X, y, pats, target, solver="admm", maxiter=50000):
    """Seconds until the (feasibility-restored) objective is within RTOL of ``target``."""
    D, gates = pats
    Xa = np.column_stack([X, np.ones(X.shape[0])])   # the bias column, as fit_convex_relu
    hit = [np.nan, 0]
    t0 = time.perf_counter()
    paused = [0.0]

    def cb(intermediate_result):
        hit[1] = intermediate_result.nit
        if solver != "admm" or intermediate_result.nit % 25:
            return
        t = time.perf_counter()
        P = D.shape[1]
        V = intermediate_result.x[:Xa.shape[1] * P].reshape(Xa.shape[1], P)
        W = intermediate_result.x[Xa.shape[1] * P:].reshape(Xa.shape[1], P)
        f = convex_objective(Xa, y, D, restore_feasibility(Xa, D, V, gates),
                             restore_feasibility(Xa, D, W, gates), BETA)
        paused[0] += time.perf_counter() - t  # the check itself is not charged
        if f - target <= RTOL * abs(target):
            hit[0] = time.perf_counter() - t0 - paused[0]
            raise StopIteration

    res = fit_convex_relu(X, y, beta=BETA, patterns=pats, solver=solver, tol=1e-9,
                          maxiter=maxiter, callback=cb)
    if np.isnan(hit[0]) and res.objective - target <= RTOL * abs(target):
        # ADMM's polishing step returned a point the callback never saw
        hit[0] = time.perf_counter() - t0 - paused[0]
    return hit[0], res.nit, res.objective


def ipm_time_to(X, y, pats, target, maxiter=200):
    """Wall and CPU seconds until the IPM's best feasible objective is within RTOL of ``target``."""
    hit = [np.nan, np.nan, 0]
    t0, c0 = time.perf_counter(), time.process_time()

    def cb(intermediate_result):
        hit[2] = intermediate_result.nit
        # the IPM's iterates may be slightly outside the cones: its best *feasible* value
        if intermediate_result.feasible_fun - target <= RTOL * abs(target):
            hit[0] = time.perf_counter() - t0
            hit[1] = time.process_time() - c0
            raise StopIteration

    res = fit_convex_relu(X, y, beta=BETA, patterns=pats, solver="ipm", tol=1e-9,
                          maxiter=maxiter, callback=cb)
    return hit[0], hit[1], hit[2], res.objective


def adam_time_to(X, y, P, target, seed=0, max_steps=20000, lr=1e-2):
    """Full-batch Adam on the non-convex network with 2P neurons (torch, CPU)."""
    import torch
    torch.manual_seed(seed)
    Xt = torch.tensor(X)
    yt = torch.tensor(y)
    m = 2 * P
    U = torch.nn.Parameter(torch.randn(X.shape[1], m, dtype=torch.float64) / np.sqrt(X.shape[1]))
    b = torch.nn.Parameter(torch.zeros(m, dtype=torch.float64))
    a = torch.nn.Parameter(torch.randn(m, dtype=torch.float64) / np.sqrt(m))
    opt = torch.optim.Adam([U, b, a], lr=lr)
    t0 = time.perf_counter()
    best = np.inf
    for k in range(max_steps):
        opt.zero_grad()
        pred = torch.relu(Xt @ U + b) @ a
        loss = 0.5 * ((pred - yt) ** 2).sum() + BETA / 2 * (U.pow(2).sum() + b.pow(2).sum()
                                                            + a.pow(2).sum())
        val = float(loss.detach())
        best = min(best, val)
        if val - target <= RTOL * abs(target):
            return time.perf_counter() - t0, k, best
        loss.backward()
        opt.step()
    return np.nan, max_steps, best


class ConvexReLU:
    params = pick(([500, 2000], [20, 50], [50, 200]), ([200], [10], [20]))
    param_names = ["n", "d", "P"]
    timeout = 1800

    def setup(self, n, d, P):
        if n * P > 500 * 50:
            # Clarabel on the larger grid points takes hours on a small machine
            raise NotImplementedError("reference too slow at this size")
        self.X, self.y, self.pats = problem(n, d, P)
        self.t_ref, self.f_ref = clarabel(self.X, self.y, self.pats)

    def time_admm_to_clarabel_1e4(self, n, d, P):
        admm_time_to(self.X, self.y, self.pats, self.f_ref)

    def time_ipm_to_clarabel_1e4(self, n, d, P):
        ipm_time_to(self.X, self.y, self.pats, self.f_ref)

    def track_ipm_speedup_vs_clarabel(self, n, d, P):
        return self.t_ref / ipm_time_to(self.X, self.y, self.pats, self.f_ref)[0]

    track_ipm_speedup_vs_clarabel.unit = "ratio"

    def time_clarabel(self, n, d, P):
        clarabel(self.X, self.y, self.pats)

    def track_admm_iterations_to_1e4(self, n, d, P):
        return admm_time_to(self.X, self.y, self.pats, self.f_ref)[1]

    track_admm_iterations_to_1e4.unit = "iterations"

    def track_speedup_vs_clarabel(self, n, d, P):
        return self.t_ref / admm_time_to(self.X, self.y, self.pats, self.f_ref)[0]

    track_speedup_vs_clarabel.unit = "ratio"


def defaults(ns, blas_threads=None):
    """Default settings (``solver='auto'``) vs CVXPY+Clarabel, one line per ``n``."""
    print(f"defaults: fit_convex_relu(X, y, beta={BETA}, patterns=...) with solver='auto', "
          f"tol, maxiter as shipped; d = 10, P = 40; gap = (auto - Clarabel) / |Clarabel|\n")
    print(f"{'n':>6}{'Clarabel [s]':>14}{'auto [s]':>10}{'speedup':>9}{'solver':>8}"
          f"{'status':>8}{'its':>6}{'rel gap':>11}")
    kw = {} if blas_threads is None else {"blas_threads": blas_threads}
    for n in ns:
        X, y, pats = problem(n, 10, 40)
        t_ref, f_ref = clarabel(X, y, pats)
        t = time.perf_counter()
        res = fit_convex_relu(X, y, beta=BETA, patterns=pats, **kw)
        t_auto = time.perf_counter() - t
        print(f"{n:>6}{t_ref:>14.2f}{t_auto:>10.2f}{t_ref / t_auto:>9.1f}{res.solver:>8}"
              f"{res.status:>8}{res.nit:>6}{(res.objective - f_ref) / abs(f_ref):>11.1e}",
              flush=True)


def main(argv=None):
    argv = sys.argv[1:] if argv is None else argv
    if argv and argv[0] == "defaults":
        threads = [int(a.split("=", 1)[1]) for a in argv if a.startswith("--blas-threads=")]
        ns = [int(a) for a in argv[1:] if not a.startswith("--")]
        return defaults(ns or [100, 300, 1000, 2000, 5000], threads[0] if threads else None)
    flags = {a for a in argv if a.startswith("--")}
    nums = [a for a in argv if not a.startswith("--")]
    sizes = [tuple(int(v) for v in nums[:3])] if nums else [(200, 10, 20), (500, 20, 50)]
    print(f"squared loss, beta={BETA}; time to reach the reference objective within {RTOL:g} "
          "relative (nan: not reached); IPM wall and CPU seconds\n")
    print(f"{'n':>6}{'d':>5}{'P':>5}{'ref [s]':>10}{'ref cpu':>9}{'ref objective':>16}"
          f"{'IPM [s]':>9}{'IPM cpu':>9}{'its':>5}{'ratio':>7}{'cpu ratio':>10}{'ADMM [s]':>10}"
          f"{'iters':>7}{'Adam [s]':>10}{'Adam best gap':>15}")
    for n, d, P in sizes:
        X, y, pats = problem(n, d, P)
        cpu = [np.nan]
        given = [a.split("=", 1)[1] for a in flags if a.startswith("--target=")]
        if given:
            t_ref, f_ref = np.nan, float(given[0])
            print(f"  reference: objective {f_ref:.10g} from the command line")
        elif "--no-clarabel" in flags:
            t = time.perf_counter()
            ref = fit_convex_relu(X, y, beta=BETA, solver="ipm", patterns=pats, tol=1e-8,
                                  maxiter=300)
            t_ref, f_ref = np.nan, ref.objective
            print(f"  reference: IPM at tol=1e-8 in {time.perf_counter() - t:.1f} s, "
                  f"objective {ref.objective:.10g}, certified lower bound "
                  f"{ref.lower_bound:.10g} ({ref.message})")
        else:
            t_ref, f_ref = clarabel(X, y, pats, cpu := [])
        t_ipm, c_ipm, it_ipm, _ = ipm_time_to(X, y, pats, f_ref)
        t_admm = it = np.nan
        if "--no-admm" not in flags:
            t_admm, it, _ = admm_time_to(X, y, pats, f_ref)
        t_adam = best = np.nan
        if "--no-adam" not in flags:
            t_adam, _, best = adam_time_to(X, y, pats[0].shape[1], f_ref)
        print(f"{n:>6}{d:>5}{P:>5}{t_ref:>10.2f}{cpu[-1]:>9.2f}{f_ref:>16.10g}{t_ipm:>9.2f}"
              f"{c_ipm:>9.2f}{it_ipm:>5}{t_ref / t_ipm:>7.1f}{cpu[-1] / c_ipm:>10.1f}"
              f"{t_admm:>10.2f}{it:>7}{t_adam:>10.2f}{(best - f_ref) / f_ref:>15.1e}")


if __name__ == "__main__":
    main()
