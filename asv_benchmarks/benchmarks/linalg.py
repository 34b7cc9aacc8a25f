"""numopt.linalg: SOR sweep throughput, online relaxation tuning, SSOR-PCG vs SciPy/PyAMG.

* ``SORSweep``: one forward SOR sweep on a 2-D 5-point Laplacian (nnz up to 5e6),
  as GB/s and as a fraction of the machine's copy bandwidth (measured in the same
  process), next to PyAMG's ``sor`` on the same matrix when PyAMG is installed.
* ``ShiftedLaplacianSequence``: total SOR iterations over 2000 shifted Laplacians
  (Khodak et al.'s high-variance setup) for ω = 1, the best fixed ω in hindsight,
  every policy, and the instance-optimal ω.
* ``HeatSequence``: Crank-Nicolson heat steps (κ(t) varying), wall time and total
  iterations of tuned SSOR-PCG against SciPy ``cg`` and ``spsolve``.
* ``SORSolve``: one SOR solve, numopt against PyAMG's ``sor`` sweeps.

Run as a script for side-by-side tables (timings on a shared machine are noisy;
compare the ratios measured in the same run); optional section names
``sweep``, ``sequence``, ``heat`` select parts, and ``seeds`` (not run by
default) repeats the sequence comparison over 4 sequences x 4 policy seeds for
three kinds of sequences (shifted, anisotropic and variable-coefficient
Laplacians), after 300 and after 2000 instances. ``seeds`` replays the policies
on cost tables (SOR iterations of every grid ω on every instance, from a zero
start); the tables are measured once (about 1-5 minutes each) and cached under
``$TMPDIR/numopt-sor-cost-tables``::

    python asv_benchmarks/benchmarks/linalg.py [sweep] [sequence] [seeds] [heat]
"""
import time

import numpy as np
from scipy.sparse.linalg import cg, spsolve

from numopt.linalg import RelaxationTuner, SORSmoother, solve_sequence, sor, ssor_pcg
from numopt.problems import (anisotropic_laplacian_sequence, heat_equation_sequence, poisson_2d,
                             shifted_laplacian_sequence, variable_coefficient_sequence)

try:
    import pyamg.relaxation.relaxation as pyamg_relax
except ImportError:  # pragma: no cover - optional
    pyamg_relax = None

try:
    from . import pick   # quick / full profile (see __init__.py)
except ImportError:  # run as a script: the full profile
    def pick(full, quick):
        return full

N_INSTANCES = 2000
CONTEXT_RANGE = (-0.15, 0.45)
POLICIES = ["hybrid", "tsallis-inf", "exp3", "ucb", "binned", "chebcb"]
SEQUENCES = {"shifted": shifted_laplacian_sequence,
             "anisotropic": anisotropic_laplacian_sequence,
             "variable-coefficient": variable_coefficient_sequence}
SHORT = 300  # the short-sequence figures: the first SHORT instances


def copy_bandwidth(nbytes=2 ** 28, repeat=5):
    """Best-of-``repeat`` GB/s of ``np.copyto`` (read + write bytes counted)."""
    src = np.ones(nbytes // 8)
    dst = np.empty_like(src)
    best = np.inf
    for _ in range(repeat):
        t = time.perf_counter()
        np.copyto(dst, src)
        best = min(best, time.perf_counter() - t)
    return 2 * src.nbytes / best / 1e9


def sweep_bytes(sm):
    """Bytes one forward sweep must move: CSR arrays once, b/diag read, x read+written."""
    ib = sm.index_dtype.itemsize
    return sm.nnz * (8 + ib) + (sm.n + 1) * ib + sm.n * (8 + 8 + 16)


#: sweeps per timed call: the smoother's argument checks (two passes over x and b)
#: are then under 2% of a call
SWEEPS_PER_CALL = 10


def _sweep_setup(nx):
    sm = SORSmoother(poisson_2d(nx), omega=1.5)
    b = np.random.default_rng(0).standard_normal(sm.n)
    x = np.zeros(sm.n)
    sm(x, b)  # JIT compile
    return sm, b, x


def _sweep_seconds(sm, b, x, repeat=30):
    best = np.inf
    for _ in range(repeat):
        t = time.perf_counter()
        sm(x, b, SWEEPS_PER_CALL)
        best = min(best, time.perf_counter() - t)
    return best / SWEEPS_PER_CALL


def _interleaved_bandwidth(sm, b, x, repeat=20, nbytes=2 ** 28):
    """(sweep GB/s, copy GB/s): best of ``repeat`` alternating runs of both.

    Alternating keeps both measurements in the same load conditions on a shared
    machine.
    """
    src = np.ones(nbytes // 8)
    dst = np.empty_like(src)
    best_sweep = best_copy = np.inf
    for _ in range(repeat):
        t = time.perf_counter()
        np.copyto(dst, src)
        best_copy = min(best_copy, time.perf_counter() - t)
        t = time.perf_counter()
        sm(x, b, SWEEPS_PER_CALL)
        best_sweep = min(best_sweep, (time.perf_counter() - t) / SWEEPS_PER_CALL)
    return sweep_bytes(sm) / best_sweep / 1e9, 2 * src.nbytes / best_copy / 1e9


def _pyamg_sweep_seconds(A, b, repeat=10):
    x = np.zeros(A.shape[0])
    best = np.inf
    for _ in range(repeat):
        t = time.perf_counter()
        pyamg_relax.sor(A, x, b, 1.5, iterations=1, sweep="forward")
        best = min(best, time.perf_counter() - t)
    return best


class SORSweep:
    params = pick(([300, 1000],), ([300],))  # nnz 4.5e5 and 5.0e6
    param_names = ["nx"]
    timeout = 300

    def setup(self, nx):
        self.sm, self.b, self.x = _sweep_setup(nx)
        self.A = poisson_2d(nx)

    def time_numopt_sweep(self, nx):
        self.sm(self.x, self.b)

    if pyamg_relax is not None:  # defined only with pyamg installed (asv reports, not fails)
        def time_pyamg_sweep(self, nx):
            pyamg_relax.sor(self.A, self.x, self.b, 1.5, iterations=1, sweep="forward")

    def track_gbytes_per_s(self, nx):
        return sweep_bytes(self.sm) / _sweep_seconds(self.sm, self.b, self.x) / 1e9

    track_gbytes_per_s.unit = "GB/s"

    def track_fraction_of_copy_bandwidth(self, nx):
        sweep, copy = _interleaved_bandwidth(self.sm, self.b, self.x)
        return sweep / copy

    track_fraction_of_copy_bandwidth.unit = "fraction"


def _sequence_runs(variance="high", n=N_INSTANCES, progress=False):
    """Mean SOR iterations per instance for ω = 1, best fixed, each policy, instance-optimal."""
    seq = shifted_laplacian_sequence(n, variance=variance, rng=0)
    out, secs = {}, {}
    t = time.perf_counter()
    ref = solve_sequence(seq, policy=1.0, compare=True, warm_start=False, progress=progress)
    secs["fixed grid"] = time.perf_counter() - t
    out["omega = 1"] = ref.fixed_totals[0] / n
    out[f"best fixed (omega = {ref.best_fixed_omega:.2f})"] = ref.best_fixed_total / n
    for policy in POLICIES:
        t = time.perf_counter()
        r = solve_sequence(seq, policy=policy, rng=0, warm_start=False,
                           context_range=CONTEXT_RANGE, progress=progress)
        secs[policy] = time.perf_counter() - t
        out[policy] = r.total_iterations / n
    out["instance-optimal"] = sum(sor(A, b, w).nit for (A, b, _), w in
                                  zip(seq, seq.omega_opt)) / n
    return out, secs, ref


def _replay(F, contexts, policy, rng, **options):
    """Total iterations of ``policy`` on a sequence whose costs are known.

    ``F[t, i]`` is the iteration count of instance ``t`` with the grid's
    ``i``-th ω from a zero start (``solve_sequence(..., compare=True,
    warm_start=False).fixed_nit``): without warm starts a policy's choices do
    not change any instance's costs, so the tuner's own choose/learn steps can
    be replayed on ``F`` instead of solving again.
    """
    tuner = RelaxationTuner(policy=policy, rng=rng, context_range=CONTEXT_RANGE, **options)
    total = 0
    for t in range(F.shape[0]):
        c = float(contexts[t])
        _, arm, p = tuner._choose(None, c)
        total += int(F[t, arm])
        tuner._learn(arm, p, int(F[t, arm]), c)
    return total


def cost_table(kind="shifted", variance="high", seed=0, n=N_INSTANCES):
    """``(F, contexts)``: SOR iterations ``F[t, i]`` of instance ``t`` of a sequence with
    the default grid's ``i``-th ω from a zero start, cached as .npz in the temp folder."""
    import os
    import tempfile
    folder = os.path.join(tempfile.gettempdir(), "numopt-sor-cost-tables")
    path = os.path.join(folder, f"{kind}-{variance}-{seed}-{n}.npz")
    if os.path.exists(path):
        with np.load(path) as d:
            return d["F"], d["c"]
    seq = SEQUENCES[kind](n, variance=variance, rng=seed)
    ref = solve_sequence(seq, policy=1.0, compare=True, warm_start=False)
    os.makedirs(folder, exist_ok=True)
    np.savez(path, F=ref.fixed_nit, c=seq.contexts)
    return ref.fixed_nit, seq.contexts


def _seed_study(kind="shifted", variance="high", seeds=range(4), policy_seeds=range(4),
                lengths=(SHORT, N_INSTANCES), policies=("hybrid", "tsallis-inf", "ucb", "binned")):
    """Ratio to the best fixed ω of each policy over several sequences and policy seeds,
    after each number of instances in ``lengths``: ``{(policy, length): array}``."""
    ratios = {(p, T): [] for p in policies for T in lengths}
    for seed in seeds:
        F, contexts = cost_table(kind, variance, seed, max(lengths))
        for T in lengths:
            best = F[:T].sum(axis=0).min()
            for p in policies:
                for r in (policy_seeds if p != "ucb" else [0]):  # ucb is deterministic
                    ratios[p, T].append(_replay(F[:T], contexts, p, r) / best)
    return {k: np.array(v) for k, v in ratios.items()}


class ShiftedLaplacianSequence:
    params = (pick([N_INSTANCES], [200]), ["omega=1", "best-fixed", "instance-optimal"] + POLICIES)
    param_names = ["n_instances", "policy"]
    timeout = 600

    def setup_cache(self):
        cache = {}
        for n in self.params[0]:
            out, _, ref = _sequence_runs(n=n)
            cache[n] = {"omega=1": out["omega = 1"], "best-fixed": ref.best_fixed_total / n,
                        "instance-optimal": out["instance-optimal"],
                        **{p: out[p] for p in POLICIES}}
        return cache

    def track_mean_iterations(self, cache, n, policy):
        return cache[n][policy]

    track_mean_iterations.unit = "SOR iterations per instance"

    def track_ratio_to_best_fixed(self, cache, n, policy):
        return cache[n][policy] / cache[n]["best-fixed"]

    track_ratio_to_best_fixed.unit = "ratio"


def _heat_run(seq, solve, cpu=False):
    """Feed a heat sequence through ``solve(A, b, context, x0) -> (x, nit)``.

    Returns (seconds spent in the solves only, total iterations); wall-clock
    seconds, or CPU seconds of this process (all its threads) when ``cpu``.
    """
    clock = time.process_time if cpu else time.perf_counter
    it = iter(seq)
    item = next(it)
    x, secs, total = None, 0.0, 0
    while True:
        A, b, c = item
        t = clock()
        x, k = solve(A, b, c, x)
        secs += clock() - t
        total += k
        try:
            item = it.send(x)
        except StopIteration:
            return secs, total


def _heat_interleaved(seq, makers, repeat=3):
    """Run several methods through ``seq`` in lockstep, timing every solve.

    Each method follows its own trajectory (its solutions are sent back), but
    step ``t`` of every method runs before step ``t + 1`` of any, so all see
    the same load on a shared machine. The whole sequence is run ``repeat``
    times with fresh solvers. Returns ``{name: (iterations, min total wall s,
    min total cpu s)}``.
    """
    best = {name: [0, np.inf, np.inf] for name in makers}
    for _ in range(repeat):
        solvers = {name: make() for name, make in makers.items()}
        iters = {name: iter(seq) for name in makers}
        items = {name: next(it) for name, it in iters.items()}
        wall = dict.fromkeys(makers, 0.0)
        cpu = dict.fromkeys(makers, 0.0)
        total = dict.fromkeys(makers, 0)
        xs = dict.fromkeys(makers)  # warm starts, as in _heat_run
        while items:
            for name in list(items):
                A, b, c = items[name]
                t, tc = time.perf_counter(), time.process_time()
                x, k = solvers[name](A, b, c, xs[name])
                xs[name] = x
                wall[name] += time.perf_counter() - t
                cpu[name] += time.process_time() - tc
                total[name] += k
                try:
                    items[name] = iters[name].send(x)
                except StopIteration:
                    del items[name]
        for name in makers:
            best[name] = [total[name], min(best[name][1], wall[name]),
                          min(best[name][2], cpu[name])]
    return {name: tuple(v) for name, v in best.items()}


def scipy_cg_solver(A, b, c, x0):
    count = [0]

    def cb(xk):
        count[0] += 1

    x, info = cg(A, b, x0=x0, rtol=1e-8, atol=0.0, callback=cb, maxiter=100_000)
    return x, count[0]


def numopt_solver(solver="ssor-pcg", policy="chebcb"):
    if policy is None:
        def solve(A, b, c, x0):
            r = ssor_pcg(A, b, None, x0=x0)
            return r.x, r.nit
        return solve
    tuner = RelaxationTuner(solver=solver, policy=policy, rng=0, context_range=(0.0, 10.0))

    def solve(A, b, c, x0):
        r = tuner.solve(A, b, context=c)
        return r.x, r.nit
    return solve


def heat_large(n_steps=20):
    """The largest grid (nx = 400, n = 1.6e5), Δt = 1/5000, a window of the fast phase."""
    return heat_equation_sequence(nx=400, n_steps=n_steps, t_start=0.6,
                                  t_final=0.6 + n_steps / 5000)


HEAT_METHODS = {
    "scipy cg": lambda: scipy_cg_solver,
    "numopt cg": lambda: numopt_solver(policy=None),
    "ssor-pcg omega=1": lambda: numopt_solver(policy=1.0),
    "ssor-pcg tsallis-inf": lambda: numopt_solver(policy="tsallis-inf"),
    "ssor-pcg chebcb": lambda: numopt_solver(policy="chebcb"),
}


class HeatSequence:
    params = pick((list(HEAT_METHODS),), (["numopt cg", "ssor-pcg chebcb"],))
    param_names = ["method"]
    timeout = 900

    def setup(self, method):
        ssor_pcg(poisson_2d(4), np.ones(16), 1.0)  # JIT
        self.seq = heat_large()

    def time_heat_window(self, method):
        _heat_run(self.seq, HEAT_METHODS[method]())

    def track_total_iterations_nx100(self, method):
        seq = heat_equation_sequence(nx=100, n_steps=1000)
        return _heat_run(seq, HEAT_METHODS[method]())[1]

    track_total_iterations_nx100.unit = "iterations (1000 steps, nx = 100)"


class SORSolve:
    params = (["numopt", "pyamg"],)
    param_names = ["library"]

    def setup(self, library):
        if library == "pyamg" and pyamg_relax is None:
            raise NotImplementedError("pyamg not installed")
        self.A = poisson_2d(30)
        self.b = np.ones(900)
        sor(self.A, self.b, 1.8)

    def time_solve_1e8(self, library):
        if library == "numopt":
            sor(self.A, self.b, 1.8)
        else:
            _pyamg_solve(self.A, self.b, 1.8)


def _pyamg_solve(A, b, omega, tol=1e-8, maxiter=10_000):
    """SOR to ``‖r‖ <= tol ‖b‖`` with PyAMG's in-place sweep (residual checked per sweep)."""
    x = np.zeros_like(b)
    bn = np.linalg.norm(b)
    for it in range(1, maxiter + 1):
        pyamg_relax.sor(A, x, b, omega, iterations=1, sweep="forward")
        if np.linalg.norm(b - A @ x) <= tol * bn:
            return x, it
    return x, maxiter


def _main_seeds():
    for kind in SEQUENCES:
        print(f"\n2b. {kind} sequences (high variance, n = 100): total SOR iterations / best "
              f"fixed omega in hindsight over the first {SHORT} and all {N_INSTANCES} "
              "instances; sequence seeds 0-3 x policy seeds 0-3")
        out = _seed_study(kind)
        for (p, T), r in out.items():
            print(f"   {p:<12} T = {T:<5} mean {r.mean():.3f}  sd {r.std():.3f}  "
                  f"min {r.min():.3f}  max {r.max():.3f}  runs above 1.3: "
                  f"{int(np.sum(r > 1.3))}/{r.size}")


def main(sections=("sweep", "sequence", "heat")):
    print("Timings on a shared 2-core machine are noisy: compare ratios within one run.\n")
    if "sweep" in sections:
        _main_sweep()
    if "sequence" in sections:
        _main_sequence()
    if "seeds" in sections:  # slow (10 sequences x the whole grid); not in the default run
        _main_seeds()
    if "heat" in sections:
        _main_heat()


def _main_sweep():
    print("1. Forward SOR sweep, 5-point Laplacian; np.copyto bandwidth measured alternately")
    print(f"{'nx':>6}{'nnz':>11}{'numopt [ms]':>13}{'GB/s':>8}{'copy GB/s':>11}"
          f"{'of copy bw':>12}{'pyamg [ms]':>12}{'pyamg/numopt':>14}")
    for nx in (300, 1000):
        sm, b, x = _sweep_setup(nx)
        gbs, bw = _interleaved_bandwidth(sm, b, x)
        t = sweep_bytes(sm) / gbs / 1e9
        tp = _pyamg_sweep_seconds(poisson_2d(nx), b) if pyamg_relax is not None else np.nan
        print(f"{nx:>6}{sm.nnz:>11}{1e3 * t:>13.2f}{gbs:>8.2f}{bw:>11.2f}{gbs / bw:>12.2f}"
              f"{1e3 * tp:>12.2f}{tp / t:>14.2f}")

    A, b = poisson_2d(30), np.ones(900)
    sor(A, b, 1.8)
    t0 = time.perf_counter()
    r = sor(A, b, 1.8)
    t_ours = time.perf_counter() - t0
    if pyamg_relax is not None:
        t0 = time.perf_counter()
        _, it = _pyamg_solve(A, b, 1.8)
        t_amg = time.perf_counter() - t0
        print(f"\n   SOR solve to 1e-8 (nx=30, omega=1.8): numopt {1e3 * t_ours:.1f} ms "
              f"({r.nit} sweeps), pyamg sweeps + residual {1e3 * t_amg:.1f} ms ({it} sweeps), "
              f"ratio {t_amg / t_ours:.1f}")


def _main_sequence():
    for variance in ("high", "low"):
        print(f"\n2. Shifted Laplacian ({variance} variance, n = 100, {N_INSTANCES} instances): "
              "mean SOR iterations per instance")
        out, secs, ref = _sequence_runs(variance)
        best = [v for k, v in out.items() if k.startswith("best fixed")][0]
        short = ref.fixed_nit[:SHORT]
        contexts = shifted_laplacian_sequence(N_INSTANCES, variance=variance, rng=0).contexts
        print(f"   {'':<26}{'mean':>9}{'ratio':>8}{'':<14}{f'first {SHORT}: ratio':>22}")
        for k, v in out.items():
            s = f"{secs[k]:8.1f} s" if k in secs else ""
            r = (f"{_replay(short, contexts, k, 0) / short.sum(axis=0).min():>10.2f}"
                 if k in POLICIES else "")
            print(f"   {k:<26}{v:>9.1f}{v / best:>8.2f} x best fixed  {s:<10}{r}")


def _main_heat():
    print("\n3. Heat equation (Crank-Nicolson), warm-started solves to 1e-8")
    print("   total iterations over 1000 steps, nx = 100 (n = 1e4):")
    seq = heat_equation_sequence(nx=100, n_steps=1000)
    for name, make in HEAT_METHODS.items():
        secs_, tot = _heat_run(seq, make())
        print(f"   {name:<24}{tot:>9d} iterations {secs_:>8.2f} s")
    print("   largest size nx = 400 (n = 1.6e5), 20 steps of the fast phase (solve time only;\n"
          "   SciPy's cg also with OpenBLAS limited to 1 thread: its default threads spin on a\n"
          "   loaded 2-core machine):")
    seq = heat_large()
    methods = dict(HEAT_METHODS)
    try:
        from threadpoolctl import threadpool_limits

        def cg_one_thread():
            def solve(A, b, c, x0):
                with threadpool_limits(1):
                    return scipy_cg_solver(A, b, c, x0)
            return solve
        methods = {"scipy cg (1 BLAS thread)": cg_one_thread, **methods}
    except ImportError:  # pragma: no cover
        pass
    rows = _heat_interleaved(seq, methods)
    ref = rows[next(iter(methods))]
    print("   (solves of all methods interleaved step by step, min over 3 runs of the sequence)")
    print(f"   {'method':<26}{'iterations':>11}{'wall [s]':>10}{'cpu [s]':>9}"
          f"{'wall vs first':>15}{'cpu vs first':>14}")
    for name, (tot, wall, cpu) in rows.items():
        print(f"   {name:<26}{tot:>11d}{wall:>10.2f}{cpu:>9.2f}{ref[1] / wall:>14.2f}x"
              f"{ref[2] / cpu:>13.2f}x")
    A, b, _ = next(iter(seq))
    t0 = time.perf_counter()
    spsolve(A.tocsc(), b)
    print(f"   scipy spsolve: {time.perf_counter() - t0:.2f} s per step (SuperLU)")


if __name__ == "__main__":
    import sys as _sys
    main(tuple(_sys.argv[1:]) or ("sweep", "sequence", "heat"))
