"""numopt.optim: time per optimizer step vs NumPy ufuncs and torch.optim (CPU).

Both libraries run on 2 threads (``torch.set_num_threads(2)``,
``numba.set_num_threads(2)``; set ``NUMBA_NUM_THREADS=2`` to size Numba's pool).

``OptimStep``: one float32 "model" of d parameters split into three arrays
(d/2, d/4, d/4), random gradients. Implementations timed on the same arrays:

* ``numba``: ``Optimizer(opt, params, nonfinite='ignore').step`` — the fused
  multi-tensor Numba kernel, in place;
* ``numba+check``: the same with the default NaN/inf check of the gradients;
* ``numpy``: the same update in vectorised NumPy ufuncs (``impl='xp'``),
  i.e. ``update`` then ``params += updates``;
* ``torch``: ``torch.optim`` with ``foreach=True`` where torch has the
  optimizer (SGD, Adam, AdamW).

Tracked: the state memory per parameter (bytes) for numopt and torch.

``OptimFused`` (issue #23): 10^7 parameters in one array or in 200 arrays,
float64 and float32: numopt's in-place step (``Optimizer.step``, without and
with the NaN/inf check), the functional ``update`` (new arrays, and into
preallocated ``out=`` arrays) and ``torch.optim``'s fused step
(``fused=True``: Adam, AdamW, SGD with momentum), and the bandwidth each
reaches (bytes moved per step / time) as a fraction of a ``numpy.copyto`` of
10^7 elements measured in the same run.

Run as a script for side-by-side tables::

    python asv_benchmarks/benchmarks/optim.py            # OptimStep
    python asv_benchmarks/benchmarks/optim.py --trees    # OptimTreeStep
    NUMBA_NUM_THREADS=2 python asv_benchmarks/benchmarks/optim.py --fused [--reps N]

``--fused`` interleaves the repetitions of numopt, torch and the copy (one
step each, in turn) and reports the minimum of N.
"""
import time
from functools import partial

import numba
import numpy as np

from numopt import optim

THREADS = 2
numba.set_num_threads(min(THREADS, numba.config.NUMBA_NUM_THREADS))
try:
    import torch
    # the same thread count as Numba's kernels (on a shared machine more threads
    # measure contention, not the update)
    torch.set_num_threads(THREADS)
except ImportError:  # pragma: no cover - optional reference
    torch = None

try:
    from . import pick   # quick / full profile (see __init__.py)
except ImportError:  # run as a script: the full profile
    def pick(full, quick):
        return full

SIZES = [10_000, 1_000_000]
OPTIMIZERS = ["sgd", "adam", "adamw", "lion", "adabelief", "diffgrad"]
IMPLS = ["numba", "numba+check", "numpy", "torch"]


def _factory(name, impl):
    kw = {"impl": "xp" if impl == "numpy" else "numba"}
    return {
        "sgd": lambda: optim.sgd(1e-3, momentum=0.9, **kw),
        "adam": lambda: optim.adam(1e-3, **kw),
        "adamw": lambda: optim.adamw(1e-3, weight_decay=1e-2, **kw),
        "lion": lambda: optim.lion(1e-4, **kw),
        "adabelief": lambda: optim.adabelief(1e-3, **kw),
        "diffgrad": lambda: optim.diffgrad(1e-3, **kw),
    }[name]()


def _torch_factory(name, params):
    if torch is None:
        return None
    return {
        "sgd": lambda: torch.optim.SGD(params, lr=1e-3, momentum=0.9, foreach=True),
        "adam": lambda: torch.optim.Adam(params, lr=1e-3, foreach=True),
        "adamw": lambda: torch.optim.AdamW(params, lr=1e-3, weight_decay=1e-2, foreach=True),
    }.get(name, lambda: None)()


def _arrays(d, seed=0):
    rng = np.random.default_rng(seed)
    sizes = [d // 2, d // 4, d - d // 2 - d // 4]
    return [rng.standard_normal(n).astype(np.float32) for n in sizes]


class Stepper:
    """One optimizer/implementation on one problem size; ``step()`` runs one step."""

    def __init__(self, name, impl, d):
        self.params = _arrays(d, 0)
        self.grads = _arrays(d, 1)
        self.available = True
        if impl == "torch":
            self.tp = [torch.from_numpy(p) for p in self.params] if torch else None
            self.topt = _torch_factory(name, self.tp) if torch else None
            if self.topt is None:
                self.available = False
                return
            for t, g in zip(self.tp, self.grads):
                t.grad = torch.from_numpy(g)
            self.step = self.topt.step
        else:
            nonfinite = "raise" if impl == "numba+check" else "ignore"
            self.opt = optim.Optimizer(_factory(name, impl), self.params, nonfinite=nonfinite)
            self.step = lambda: self.opt.step(self.params, self.grads)
        for _ in range(3):  # JIT warm-up, state allocation
            self.step()

    def state_bytes_per_param(self):
        d = sum(p.size for p in self.params)
        if hasattr(self, "topt"):
            st = self.topt.state.values()
            return sum(v.numel() * v.element_size() for s in st for v in s.values()
                       if torch.is_tensor(v) and v.dim() > 0) / d
        return sum(v.nbytes for v in optim.state_dict(self.opt.state).values()) / d


def _measure_step(stepper, min_time=0.2, repeat=5):
    """Best-of-``repeat`` seconds per step."""
    n = 1
    while True:
        t = time.perf_counter()
        for _ in range(n):
            stepper.step()
        dt = time.perf_counter() - t
        if dt >= min_time / repeat or n >= 1 << 16:
            break
        n *= 2
    best = dt / n
    for _ in range(repeat - 1):
        t = time.perf_counter()
        for _ in range(n):
            stepper.step()
        best = min(best, (time.perf_counter() - t) / n)
    return best


class OptimStep:
    params = pick((SIZES, OPTIMIZERS, IMPLS), ([1_000_000], ["adam", "lion"], IMPLS))
    param_names = ["d", "optimizer", "impl"]
    timeout = 300

    def setup(self, d, name, impl):
        self.s = Stepper(name, impl, d)
        if not self.s.available:
            raise NotImplementedError  # asv: skip (torch lacks this optimizer)

    def time_step(self, d, name, impl):
        self.s.step()

    def track_state_bytes_per_param(self, d, name, impl):
        return self.s.state_bytes_per_param()

    track_state_bytes_per_param.unit = "bytes"


def _tree_case(layout, seed):
    """``'200x64'``: a dict of 200 small arrays; ``'1x1e6'``: one array of 10^6."""
    rng = np.random.default_rng(seed)
    shapes = {f"layer{i:03d}": 64 for i in range(200)} if layout == "200x64" \
        else {"w": 1_000_000}
    return {k: rng.standard_normal(n).astype(np.float32) for k, n in shapes.items()}


class OptimTreeStep:
    """Per-step cost of the tree handling: many small leaves vs one big leaf.

    ``step``: :class:`numopt.optim.Optimizer` (fused, in place); ``update``:
    the functional ``update`` (no ``apply_updates``).
    """
    params = pick((["200x64", "1x1e6"], ["adam", "sgd", "scale_by_adam"], ["step", "update"]),
                  (["200x64", "1x1e6"], ["adam"], ["step", "update"]))
    param_names = ["layout", "optimizer", "api"]

    def setup(self, layout, name, api):
        self.p, self.g = _tree_case(layout, 0), _tree_case(layout, 1)
        tx = {"adam": lambda: optim.adam(1e-3), "sgd": lambda: optim.sgd(1e-3, momentum=0.9),
              "scale_by_adam": optim.scale_by_adam}[name]()
        if api == "step":
            if tx.step_inplace is None:
                raise NotImplementedError  # asv: skip (no fused in-place step)
            opt = optim.Optimizer(tx, self.p)
            self.run = lambda: opt.step(self.p, self.g)
        else:
            box = [tx.init(self.p)]

            def run():
                box[0] = tx.update(self.g, box[0], self.p)[1]
            self.run = run
        self.run()

    def time_tree_step(self, layout, name, api):
        self.run()


def tree_main():
    print("numopt.optim: microseconds per step on a tree of 200 x 64 floats and on one "
          "array of 10^6 (float32), best of 5. The machine may be shared.\n")
    b = OptimTreeStep()
    for layout, name, api in ((lo, n, a) for lo in b.params[0] for n in b.params[1]
                              for a in b.params[2]):
        try:
            b.setup(layout, name, api)
        except NotImplementedError:
            continue
        stepper = type("S", (), {"step": staticmethod(b.run)})
        print(f"{layout:>7} {name:<14}{api:<7}{_measure_step(stepper) * 1e6:>10.1f}")


# ------------------------------------------------------------------ issue #23: fused steps
FUSED_LAYOUTS = {"1x10M": (1, 10_000_000), "200x50K": (200, 50_000)}
FUSED_DTYPES = ["float64", "float32"]
FUSED_OPTIMIZERS = ["adam", "adamw", "sgd", "amsgrad", "lion", "adabelief", "adamomentum",
                    "diffgrad"]
FUSED_IMPLS = ["step", "step+check", "update", "update+out", "torch"]

# arrays read + written per element by the in-place step and by the functional update
# (reads g and the state, writes the state and the update; p read only for weight decay)
_STATE = {"adam": 2, "adamw": 2, "sgd": 1, "amsgrad": 3, "lion": 1, "adabelief": 2,
          "adamomentum": 2, "diffgrad": 3}
_READS_P = {"adamw", "lion"}  # with the settings below: decay reads p in `update`


def _fused_factory(name):
    return {
        "adam": lambda: optim.adam(1e-3),
        "adamw": lambda: optim.adamw(1e-3, weight_decay=1e-2),
        "sgd": lambda: optim.sgd(1e-3, momentum=0.9),
        "amsgrad": lambda: optim.amsgrad(1e-3),
        "lion": lambda: optim.lion(1e-4, weight_decay=1e-2),
        "adabelief": lambda: optim.adabelief(1e-3),
        "adamomentum": lambda: optim.adamomentum(1e-3),
        "diffgrad": lambda: optim.diffgrad(1e-3),
    }[name]()


def _torch_fused(name, params):
    """torch.optim's fused CPU step, where torch has the optimizer (else None)."""
    if torch is None:
        return None
    make = {
        "adam": lambda: torch.optim.Adam(params, lr=1e-3, fused=True),
        "adamw": lambda: torch.optim.AdamW(params, lr=1e-3, weight_decay=1e-2, fused=True),
        "sgd": lambda: torch.optim.SGD(params, lr=1e-3, momentum=0.9, fused=True),
        "amsgrad": lambda: torch.optim.Adam(params, lr=1e-3, amsgrad=True, fused=True),
    }.get(name)
    return None if make is None else make()


def bytes_per_step(name, impl, n, itemsize):
    """Bytes moved by one step of ``n`` parameters (each array read or written once)."""
    k = _STATE[name]
    if impl.startswith("update"):
        arrays = 1 + 2 * k + 1 + (1 if name in _READS_P else 0)  # g, state r/w, out, (p)
    else:
        arrays = 2 + 1 + 2 * k  # p r/w, g, state r/w
    return arrays * n * itemsize


def _fused_arrays(layout, dtype, seed):
    k, n = FUSED_LAYOUTS[layout]
    rng = np.random.default_rng(seed)
    return {f"w{i:03d}": rng.standard_normal(n).astype(dtype) for i in range(k)}


class FusedStepper:
    """One (layout, dtype, optimizer, impl); ``step()`` runs one step."""

    def __init__(self, layout, dtype, name, impl):
        self.params = _fused_arrays(layout, dtype, 0)
        self.grads = _fused_arrays(layout, dtype, 1)
        self.n = sum(p.size for p in self.params.values())
        self.itemsize = np.dtype(dtype).itemsize
        self.available = True
        if impl == "torch":
            tp = [torch.from_numpy(p) for p in self.params.values()] if torch else []
            self.topt = _torch_fused(name, tp)
            if self.topt is None:
                self.available = False
                return
            for t, g in zip(tp, self.grads.values()):
                t.grad = torch.from_numpy(g)
            self.step = self.topt.step
        elif impl.startswith("update"):
            tx = _fused_factory(name)
            state = tx.init(self.params)
            out = {k: np.empty_like(p) for k, p in self.params.items()} \
                if impl == "update+out" else None

            def step():  # the state is updated in place
                tx.update(self.grads, state, self.params, out=out)
            self.step = step
        else:
            nonfinite = "raise" if impl == "step+check" else "ignore"
            opt = optim.Optimizer(_fused_factory(name), self.params, nonfinite=nonfinite)
            self.step = lambda: opt.step(self.params, self.grads)
        for _ in range(2):  # JIT warm-up, state allocation
            self.step()


def copy_seconds(n, dtype, repeat=5):
    """Best-of-``repeat`` seconds of ``numpy.copyto`` of ``n`` elements (the floor)."""
    src, dst = np.ones(n, dtype), np.empty(n, dtype)
    np.copyto(dst, src)
    best = float("inf")
    for _ in range(repeat):
        t = time.perf_counter()
        np.copyto(dst, src)
        best = min(best, time.perf_counter() - t)
    return best


class OptimFused:
    """Issue #23: 10^7 parameters, in-place step / functional update / torch fused."""
    params = pick((list(FUSED_LAYOUTS), FUSED_DTYPES, FUSED_OPTIMIZERS, FUSED_IMPLS),
                  (["1x10M", "200x50K"], ["float32"], ["adam"], FUSED_IMPLS))
    param_names = ["layout", "dtype", "optimizer", "impl"]
    timeout = 600
    number = 1
    repeat = 10

    def setup(self, layout, dtype, name, impl):
        self.s = FusedStepper(layout, dtype, name, impl)
        if not self.s.available:
            raise NotImplementedError  # asv: skip (torch lacks this fused optimizer)

    def time_fused_step(self, layout, dtype, name, impl):
        self.s.step()

    def track_fraction_of_copy_bandwidth(self, layout, dtype, name, impl):
        s = self.s
        best = min(_timed(s.step) for _ in range(5))
        gbs = bytes_per_step(name, impl, s.n, s.itemsize) / best
        floor = 2 * s.n * s.itemsize / copy_seconds(s.n, np.dtype(dtype))
        return gbs / floor

    track_fraction_of_copy_bandwidth.unit = "fraction"


def _timed(fn):
    t = time.perf_counter()
    fn()
    return time.perf_counter() - t


def fused_main(reps=15, layouts=None, dtypes=None, names=None):
    """Interleaved min-of-``reps`` table for issue #23 (see the module docstring)."""
    import os
    print(f"numopt.optim vs torch.optim fused, ms per step (min of {reps}, interleaved), "
          f"{numba.get_num_threads()} Numba threads, "
          f"{torch.get_num_threads() if torch else '-'} torch threads; "
          f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs.\n"
          "GB/s: bytes moved / time; floor: numpy.copyto of the same 10^7 elements "
          "(2 arrays) in the same repetitions; '%fl' = GB/s as a fraction of it.\n")
    head = (f"{'layout':<8}{'dtype':<8}{'optimizer':<12}{'step':>8}{'+check':>8}"
            f"{'update':>8}{'upd+out':>8}{'torch':>8}{'step/t':>8}{'upd/t':>8}{'u+o/t':>8}"
            f"{'%fl step':>9}{'%fl u+o':>9}{'copy':>7}")
    print(head)
    for layout in layouts or FUSED_LAYOUTS:
        for dtype in dtypes or FUSED_DTYPES:
            for name in names or FUSED_OPTIMIZERS:
                steppers = {}
                for impl in FUSED_IMPLS:
                    s = FusedStepper(layout, dtype, name, impl)
                    if s.available:
                        steppers[impl] = s
                n, isz = steppers["step"].n, steppers["step"].itemsize
                src, dst = np.ones(n, dtype), np.empty(n, dtype)
                np.copyto(dst, src)
                best = dict.fromkeys(list(steppers) + ["copy"], float("inf"))
                for _ in range(reps):
                    for impl, s in steppers.items():
                        best[impl] = min(best[impl], _timed(s.step))
                    best["copy"] = min(best["copy"], _timed(partial(np.copyto, dst, src)))
                del steppers
                floor = 2 * n * isz / best["copy"]
                ms = {k: v * 1e3 for k, v in best.items()}
                tt = ms.get("torch", float("nan"))
                frac = {impl: bytes_per_step(name, impl, n, isz) / best[impl] / floor
                        for impl in ("step", "update+out")}
                print(f"{layout:<8}{dtype:<8}{name:<12}{ms['step']:>8.1f}"
                      f"{ms['step+check']:>8.1f}{ms['update']:>8.1f}{ms['update+out']:>8.1f}"
                      f"{tt:>8.1f}{ms['step'] / tt:>8.2f}{ms['update'] / tt:>8.2f}"
                      f"{ms['update+out'] / tt:>8.2f}{frac['step']:>9.2f}"
                      f"{frac['update+out']:>9.2f}{ms['copy']:>7.1f}", flush=True)


def main():
    print("numopt.optim: microseconds per step, float32 parameters (3 arrays), best of 5.\n"
          "The machine may be shared: compare ratios from the same run.\n")
    head = (f"{'d':>9} {'optimizer':<10}{'numba':>10}{'+check':>10}{'numpy':>10}{'torch':>10}"
            f"{'numpy/numba':>13}{'torch/numba':>13}{'state B/param':>15}")
    print(head)
    for d in SIZES:
        for name in OPTIMIZERS:
            t, mem = {}, None
            for impl in IMPLS:
                s = Stepper(name, impl, d)
                if not s.available:
                    t[impl] = float("nan")
                    continue
                t[impl] = _measure_step(s) * 1e6
                if impl == "numba":
                    mem = s.state_bytes_per_param()
            print(f"{d:>9} {name:<10}{t['numba']:>10.1f}{t['numba+check']:>10.1f}"
                  f"{t['numpy']:>10.1f}{t['torch']:>10.1f}{t['numpy'] / t['numba']:>13.2f}"
                  f"{t['torch'] / t['numba']:>13.2f}{mem:>15.1f}")


def _arg(argv, flag, default):
    return argv[argv.index(flag) + 1] if flag in argv else default


if __name__ == "__main__":
    import sys
    argv = sys.argv[1:]
    if "--fused" in argv:
        def _list(flag):
            v = _arg(argv, flag, None)
            return None if v is None else v.split(",")
        fused_main(int(_arg(argv, "--reps", 15)), _list("--layouts"), _list("--dtypes"),
                   _list("--optimizers"))
    elif "--trees" in argv:
        tree_main()
    else:
        main()
