"""numopt.optim part 2: Newton–Schulz orthogonalization and per-step optimizer cost.

* ``NewtonSchulz``: time of ``orthogonalize`` (5 quintic steps, float32) on
  ``n x n`` matrices, its rate in GFLOP/s (nominal ``5 (4 m^2 n + 2 m^3)``
  flops) and that rate as a fraction of the machine's float32 GEMM rate
  measured in the same run; torch's CPU Newton–Schulz in float32 is the peer.
* ``OptimizerStep``: one ``update`` of each optimizer on the parameters of a
  784-512-512-10 MLP, against ``torch.optim`` (Muon, Adam) where it exists.
* ``ElementwiseTail``: one ``update`` of NAMO, NAMO-D and FRUGAL on one
  2048 x 2048 float32 / float64 matrix with the fused, bit-identical Numba
  element-wise kernels (``'kernel'``) and with the array code (``'array'``).

Run as a script for a side-by-side table (``--tail``: only the kernel/array
comparison, interleaved in one run)::

    python asv_benchmarks/benchmarks/optim_matrix.py [--tail]
"""
import contextlib
import sys
import time

import numpy as np

from numopt import optim

try:
    from . import pick   # quick / full profile (see __init__.py)
except ImportError:  # run as a script: the full profile
    def pick(full, quick):
        return full

SIZES = [256, 1024, 2048]
STEP_METHODS = ["muon", "namo", "namo_d", "auon", "hybrid_auon", "drop_muon", "frugal",
                "sophia", "adahessian", "mfac", "adamw"]


def _best(fn, repeat=3):
    fn()
    best = np.inf
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t)
    return best


def gemm_rate(n):
    """float32 GEMM rate (GFLOP/s) of this machine for n x n matrices."""
    a = np.random.default_rng(0).standard_normal((n, n)).astype(np.float32)
    return 2 * n ** 3 / _best(lambda: a @ a) / 1e9


def ns_flops(m, n, steps=5):
    m, n = min(m, n), max(m, n)
    return steps * (4 * m * m * n + 2 * m ** 3)


def _torch_ns(G):
    a, b, c = 3.4445, -4.7750, 2.0315
    X = G / (G.norm() + 1e-7)
    for _ in range(5):
        A = X @ X.T
        X = a * X + (b * A + c * A @ A) @ X
    return X


class NewtonSchulz:
    params = pick(SIZES, [256, 1024])
    param_names = ["n"]
    timeout = 300

    def setup(self, n):
        self.G = np.random.default_rng(0).standard_normal((n, n)).astype(np.float32)
        optim.orthogonalize(self.G)

    def time_orthogonalize(self, n):
        optim.orthogonalize(self.G)

    def track_gflops(self, n):
        return ns_flops(n, n) / _best(lambda: optim.orthogonalize(self.G)) / 1e9

    track_gflops.unit = "GFLOP/s"

    def track_fraction_of_gemm(self, n):
        return self.track_gflops(n) / gemm_rate(n)

    track_fraction_of_gemm.unit = "fraction"


class NewtonSchulzTorch:
    params = pick(SIZES, [256, 1024])
    param_names = ["n"]
    timeout = 300

    def setup(self, n):
        try:
            import torch
        except ImportError:
            raise NotImplementedError("torch is not installed") from None
        self.G = torch.from_numpy(np.random.default_rng(0).standard_normal((n, n))
                                  .astype(np.float32))

    def time_orthogonalize(self, n):
        _torch_ns(self.G)


def mlp_params(rng=0):
    rng = np.random.default_rng(rng)
    sizes = [(512, 784), (512, 512), (10, 512)]
    p = {}
    for i, (o, k) in enumerate(sizes):
        p[f"W{i}"] = (rng.standard_normal((o, k)) / np.sqrt(k)).astype(np.float32)
        p[f"b{i}"] = np.zeros(o, dtype=np.float32)
    return p


def make(name, params):
    if name in ("sophia", "adahessian"):
        opt = getattr(optim, name)(rng=0)
        extra = {"hess_diag": {k: np.abs(v) + 1 for k, v in params.items()}}
    elif name == "mfac":
        opt = optim.mfac(ngrads=64)
        extra = {}
    elif name == "drop_muon":
        mats = {k: v for k, v in params.items() if v.ndim == 2}
        return optim.drop_muon(rng=0), {}, mats
    else:
        opt = getattr(optim, name)()
        extra = {}
    return opt, extra, params


class OptimizerStep:
    params = STEP_METHODS
    param_names = ["optimizer"]
    timeout = 300

    def setup(self, name):
        base = mlp_params()
        self.opt, self.extra, self.params = make(name, base)
        rng = np.random.default_rng(1)
        self.grads = {k: rng.standard_normal(v.shape).astype(v.dtype)
                      for k, v in self.params.items()}
        self.state = self.opt.init(self.params)
        self.time_step(name)

    def time_step(self, name):
        # keep the returned state: step counters advance (FRUGAL's subspace
        # is recomputed every update_gap steps, not every step)
        _, self.state = self.opt.update(self.grads, self.state, self.params, **self.extra)


def _torch_step_time(kind):
    import torch
    p = {k: torch.nn.Parameter(torch.from_numpy(v.copy())) for k, v in mlp_params().items()}
    mats = [v for v in p.values() if v.ndim == 2]
    if kind == "muon":
        opt = torch.optim.Muon(mats, lr=0.02, weight_decay=0.0, adjust_lr_fn="original")
        params = mats
    else:
        opt = torch.optim.AdamW(list(p.values()), lr=1e-3, foreach=False)
        params = list(p.values())
    rng = np.random.default_rng(1)
    for q in params:
        q.grad = torch.from_numpy(rng.standard_normal(tuple(q.shape)).astype(np.float32))
    return _best(opt.step)


TAIL_METHODS = ["namo", "namo_d", "frugal"]


@contextlib.contextmanager
def _path(kind):
    """``'array'``: the array code of NAMO / FRUGAL (their kernel condition says no)."""
    from numopt.optim import _frugal, _matrix
    saved = _matrix.exact_leaf_ok, _frugal.exact_leaf_ok
    if kind == "array":
        _matrix.exact_leaf_ok = _frugal.exact_leaf_ok = lambda *a, **k: False
    try:
        yield
    finally:
        _matrix.exact_leaf_ok, _frugal.exact_leaf_ok = saved


class ElementwiseTail:
    params = (TAIL_METHODS, ["float32", "float64"], ["kernel", "array"])
    param_names = ["optimizer", "dtype", "path"]
    timeout = 600

    def setup(self, name, dtype, path):
        n = pick(2048, 512)
        rng = np.random.default_rng(0)
        self.params_ = {"w": rng.standard_normal((n, n)).astype(dtype)}
        self.grads = {"w": rng.standard_normal((n, n)).astype(dtype)}
        kw = {"update_gap": 10 ** 9} if name == "frugal" else {}   # one SVD, in setup
        self.opt = getattr(optim, name)(aux=None, **kw)
        self.state = self.opt.init(self.params_)
        self.time_step(name, dtype, path)

    def time_step(self, name, dtype, path):
        with _path(path):
            _, self.state = self.opt.update(self.grads, self.state, self.params_)


def tail_main(repeat=3):
    """Kernel vs array code per update, interleaved (best of ``repeat`` each)."""
    print("One update on a 2048 x 2048 matrix: fused element-wise kernels vs array code "
          "(interleaved)")
    print(f"{'optimizer':>10} {'dtype':>8} {'kernel [ms]':>12} {'array [ms]':>11} "
          f"{'array/kernel':>13}")
    for name in TAIL_METHODS:
        for dtype in ("float32", "float64"):
            benches = {}
            for path in ("kernel", "array"):
                b = ElementwiseTail()
                b.setup(name, dtype, path)
                benches[path] = b
            best = {"kernel": np.inf, "array": np.inf}
            for _ in range(repeat):
                for path, b in benches.items():
                    t = time.perf_counter()
                    b.time_step(name, dtype, path)
                    best[path] = min(best[path], time.perf_counter() - t)
            tk, ta = best["kernel"], best["array"]
            print(f"{name:>10} {dtype:>8} {tk * 1e3:12.1f} {ta * 1e3:11.1f} {ta / tk:13.2f}")


def _namo_passes(dtype, n, rng):
    """(kernel, numpy) callables: NAMO's momentum + Nesterov and final-step passes."""
    from numopt.optim import _kernels as K
    g, p, m = (rng.standard_normal((n, n)).astype(dtype) for _ in range(3))
    o = rng.standard_normal((n, n))
    mu, s1, s2 = 0.95, 0.99, 0.2

    def kernel():
        u, res = np.empty_like(g), np.empty_like(g)
        K.momentum_leaf(g.reshape(-1), m.reshape(-1), u.reshape(-1), np.array([mu]), True)
        K.namo_apply(p, o, res, np.array([s1], dtype), s2, o[0], o[0], False)

    def array():
        m_ = m
        m_ *= mu
        m_ += (1.0 - mu) * g
        _ = (1.0 - mu) * g + mu * m_
        _ = (p * s1 - s2 * o - p).astype(dtype)
    return kernel, array


def tail_passes(n=2048, repeat=5):
    """NAMO's element-wise passes alone (momentum + Nesterov, final step), kernel vs NumPy."""
    print(f"NAMO's element-wise passes alone on {n} x {n} (interleaved, best of {repeat})")
    print(f"{'dtype':>8} {'kernel [ms]':>12} {'numpy [ms]':>11} {'numpy/kernel':>13}")
    rng = np.random.default_rng(0)
    for dtype in (np.float32, np.float64):
        kernel, array = _namo_passes(dtype, n, rng)
        best = {"kernel": np.inf, "numpy": np.inf}
        kernel()
        for _ in range(repeat):
            for key, fn in (("kernel", kernel), ("numpy", array)):
                t = time.perf_counter()
                fn()
                best[key] = min(best[key], time.perf_counter() - t)
        tk, ta = best["kernel"], best["numpy"]
        print(f"{np.dtype(dtype).name:>8} {tk * 1e3:12.1f} {ta * 1e3:11.1f} {ta / tk:13.2f}")


def main():
    if "--tail" in sys.argv[1:]:
        tail_passes()
        tail_main()
        return
    print("Newton-Schulz (5 steps, float32) on n x n Gaussian matrices")
    print(f"{'n':>6} {'numopt [ms]':>12} {'GFLOP/s':>9} {'GEMM GFLOP/s':>13} {'of GEMM':>8} "
          f"{'torch [ms]':>11} {'torch/numopt':>13}")
    try:
        import torch
    except ImportError:
        torch = None
    for n in SIZES:
        G = np.random.default_rng(0).standard_normal((n, n)).astype(np.float32)
        t = _best(lambda G=G: optim.orthogonalize(G))
        rate = ns_flops(n, n) / t / 1e9
        gemm = gemm_rate(n)
        if torch is not None:
            Gt = torch.from_numpy(G)
            tt = _best(lambda Gt=Gt: _torch_ns(Gt))
            tcol = f"{tt * 1e3:11.2f} {tt / t:13.2f}"
        else:
            tcol = f"{'-':>11} {'-':>13}"
        print(f"{n:6d} {t * 1e3:12.2f} {rate:9.1f} {gemm:13.1f} {rate / gemm:8.2f} {tcol}")

    print("\nOne update on a 784-512-512-10 MLP (float32 parameters)")
    print(f"{'optimizer':>12} {'numopt [ms]':>12} {'torch [ms]':>11} {'ratio':>7}")
    for name in STEP_METHODS:
        b = OptimizerStep()
        b.setup(name)
        t = _best(lambda b=b, name=name: b.time_step(name))
        ref = ""
        if torch is not None and name in ("muon", "adamw"):
            tt = _torch_step_time(name)
            ref = f"{tt * 1e3:11.2f} {t / tt:7.2f}"
        print(f"{name:>12} {t * 1e3:12.2f} {ref}")
    print()
    tail_passes()
    tail_main()


if __name__ == "__main__":
    main()
