"""NumPy path of constrained / newton / coordinate before and after the Array API change.

Issue #18 asks that NumPy input keep its code path exactly (same results bit for bit, no
slowdown). This script times the same workloads with two numopt checkouts, interleaved
(round r runs the baseline, then the branch, alternating which goes first), each in its
own subprocess with ``PYTHONPATH`` pointing at the checkout, and compares the result
bytes::

    python asv_benchmarks/numpy_path_solvers.py BASELINE_CHECKOUT [ROUNDS]

Prints, per workload, the best wall time and the best CPU time (``time.process_time``,
less sensitive to waiting for a core on a loaded machine) of each checkout, their ratios
(branch / baseline) and whether the results are identical bit for bit. The children run
with one BLAS / OpenMP thread so that the CPU times compare like with like.
"""
import hashlib
import json
import os
import subprocess
import sys
import time


def _workloads():
    import warnings

    import numpy as np

    import numopt
    from numopt.coordinate import LassoBCD, LeastSquares, bcd
    from numopt.problems import hs_problem, logistic_regression, rosenbrock

    def alm(number, solver="gaussian", noderiv=False):
        p = hs_problem(number)

        def run():
            kw = {} if noderiv else dict(jac=p.jac, hess=p.hess)
            cons = p.constraints()
            if noderiv:
                cons = [{"type": "eq", "fun": c["fun"]} for c in (
                    cons if isinstance(cons, list) else [cons])]
            r = numopt.minimize(p.fun, p.x0, method="sketch-alm", constraints=cons,
                                options={"solver": solver, "maxiter": 1000}, rng=0, **kw)
            return r.x, r.multipliers
        return run

    logreg = logistic_regression(2000, 50, l2=1e-3, rng=0)
    ros = rosenbrock(2)
    rng = np.random.default_rng(0)
    A, b = rng.standard_normal((200, 60)), rng.standard_normal(200)
    X, y = rng.standard_normal((300, 40)), rng.standard_normal(300)

    def gn(problem, jac=True):
        def run():
            kw = dict(jac=problem.jac, hess=problem.hess) if jac else {}
            return (numopt.minimize(problem.fun, problem.x0, method="gn-newton",
                                    options={"gtol": 1e-8}, **kw).x,)
        return run

    def gn_fd():
        return (numopt.minimize(ros.fun, ros.x0, method="gn-newton", jac="3-point",
                                hessp=lambda x, p: ros.hess(x) @ p).x,)

    out = {
        "sketch-alm HS27 gaussian": alm(27),
        "sketch-alm HS77 gaussian": alm(77),
        "sketch-alm HS77 direct": alm(77, "direct"),
        "sketch-alm HS47 no derivatives": alm(47, noderiv=True),
        "gn-newton logistic 2000x50": gn(logreg),
        "gn-newton rosenbrock": gn(ros),
        "gn-newton rosenbrock fd-gradient": gn_fd,
        "bcd least squares gsl/newton": lambda: (bcd(LeastSquares(A, b), block_size=4,
                                                     selection="gsl", update="newton",
                                                     tol=1e-10).x,),
        "LassoBCD fit": lambda: (LassoBCD(alpha=0.05).fit(X, y).coef_,),
    }

    def quiet(f):
        def g():
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                return f()
        return g
    return {k: quiet(v) for k, v in out.items()}


def child(repeats):
    """Run every workload ``repeats`` times; print JSON {name: [wall s, cpu s, sha1]}."""
    import numpy as np
    res = {}
    for name, run in _workloads().items():
        run()  # warm-up (imports, Numba caches)
        wall = cpu = float("inf")
        for _ in range(repeats):
            t, c = time.perf_counter(), time.process_time()
            out = run()
            wall = min(wall, time.perf_counter() - t)
            cpu = min(cpu, time.process_time() - c)
        digest = hashlib.sha1(b"".join(np.ascontiguousarray(a).tobytes() for a in out))
        res[name] = [wall, cpu, digest.hexdigest()]
    print(json.dumps(res))


def main():
    base = os.path.abspath(sys.argv[1])
    rounds = int(sys.argv[2]) if len(sys.argv) > 2 else 3
    here = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    wall = {"baseline": {}, "branch": {}}
    cpu = {"baseline": {}, "branch": {}}
    hashes = {"baseline": {}, "branch": {}}
    threads = {k: "1" for k in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS",
                                "NUMBA_NUM_THREADS")}
    for r in range(rounds):
        order = [("baseline", base), ("branch", here)]
        for label, path in (order if r % 2 == 0 else order[::-1]):
            env = dict(os.environ, PYTHONPATH=path, **threads)
            out = subprocess.run([sys.executable, os.path.abspath(__file__), "--child", "5"],
                                 env=env, capture_output=True, text=True, cwd=path,
                                 check=True).stdout
            for name, (t, c, h) in json.loads(out.strip().splitlines()[-1]).items():
                wall[label][name] = min(wall[label].get(name, float("inf")), t)
                cpu[label][name] = min(cpu[label].get(name, float("inf")), c)
                hashes[label][name] = h
    print(f"{'workload':34s} {'wall base':>9s} {'branch':>8s} {'ratio':>6s} "
          f"{'cpu base':>9s} {'branch':>8s} {'ratio':>6s}  identical")
    for name in wall["baseline"]:
        wb, wn = wall["baseline"][name], wall["branch"][name]
        cb, cn = cpu["baseline"][name], cpu["branch"][name]
        same = hashes["baseline"][name] == hashes["branch"][name]
        print(f"{name:34s} {wb:9.4f} {wn:8.4f} {wn / wb:6.2f} {cb:9.4f} {cn:8.4f} "
              f"{cn / cb:6.2f}  {same}")


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "--child":
        child(int(sys.argv[2]))
    else:
        main()
