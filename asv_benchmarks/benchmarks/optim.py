"""numopt.optim: time per optimizer step vs NumPy ufuncs and torch.optim (CPU).

Parameters: one float32 "model" of d parameters split into three arrays
(d/2, d/4, d/4), random gradients. Implementations timed on the same arrays:

* ``numba``: ``Optimizer(opt, params, nonfinite='ignore').step`` — the fused
  Numba kernel, one pass per array, in place;
* ``numba+check``: the same with the default NaN/inf check of the gradients;
* ``numpy``: the same update in vectorised NumPy ufuncs (``impl='xp'``),
  i.e. ``update`` then ``params += updates``;
* ``torch``: ``torch.optim`` with ``foreach=True`` (CPU, one thread, as the
  serial Numba kernels), where torch has the optimizer (SGD, Adam, AdamW).

Tracked: the state memory per parameter (bytes) for numopt and torch.

Run as a script for a side-by-side table::

    python asv_benchmarks/benchmarks/optim.py

and with ``--trees`` for the per-step cost on 200 small leaves vs one big leaf
(``OptimTreeStep``).
"""
import time

import numpy as np

from numopt import optim

try:
    import torch
    # the Numba kernels are serial: compare with torch on one thread (on a shared
    # machine torch's thread pool otherwise measures contention, not the update)
    torch.set_num_threads(1)
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


if __name__ == "__main__":
    import sys
    tree_main() if "--trees" in sys.argv else main()
