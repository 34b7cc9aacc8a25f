"""``method='auto'``: Sinkhorn while it converges fast, Sinkhorn-Newton-Sparse when it slows.

The Sinkhorn run is its own probe. Scaling Sinkhorn (or, where ``exp(-M/reg)``
underflows, scaling stabilized by absorption) starts as usual; from iteration
``MIN_PROBE`` on, every ``WINDOW`` iterations the linear rate ``r`` of the
marginal error over the last window predicts the iterations still needed,
``R = log(err / tol) / -log(r)``, and a model of the time per iteration
(:func:`iteration_seconds`, proportional to the cost entries) turns that into
seconds. Once those seconds exceed the predicted cost of a Newton phase
(``NEWTON_STEPS`` steps, each an exp pass over the plan plus a sparse solve:
``STEP_ITERS`` Sinkhorn iterations and ``STEP_OVERHEAD`` seconds), the
potentials are handed to SNS as its warm start. The model, not a clock,
decides, so the same inputs always take the same path. No work is thrown away: the
Sinkhorn iterations done are SNS's warm-up, and a problem Sinkhorn solves in
a few hundred iterations (large ``reg`` relative to the cost range) never
leaves it. Sinkhorn's rate only slows as it runs (its transient is faster than
its asymptotic rate), so the prediction errs towards staying and is revised
each window.
"""
import math
import time

import numpy as np

from numopt._result import MAXITER

from . import _engines as eng
from . import _kernels as kern
from . import _sns
from ._stabilized import gibbs_kernel, stabilized_numba

#: the absorbed-kernel probe absorbs its scalings into the potentials once one
#: leaves [1/SCALE_LIMIT, SCALE_LIMIT]
SCALE_LIMIT = 1e50

#: iterations before the first rate estimate (SNS's default warm-up length)
MIN_PROBE = 20
#: iterations over which the rate is measured, and between two decisions
WINDOW = 10
#: predicted Newton phase: steps, Sinkhorn iterations per step, seconds per step
NEWTON_STEPS = 12
STEP_ITERS = 4.0
STEP_OVERHEAD = 2e-4
#: modelled seconds of one scaling iteration: per cost entry, and per iteration
ENTRY_SECONDS = 6e-10
ITER_SECONDS = 5e-6


def iteration_seconds(n, m):
    """Modelled seconds of one scaling Sinkhorn iteration on an ``n x m`` cost.

    A model, not a clock: the hand-over then depends on the inputs only, so
    the same problem always takes the same path and gives the same plan.
    """
    return n * m * ENTRY_SECONDS + ITER_SECONDS


class RateMonitor:
    """The hand-over test, called by the Sinkhorn engines after each iteration.

    ``monitor(it, err)`` returns True when the predicted time of the remaining
    Sinkhorn iterations (``t_iter`` seconds each) exceeds the predicted time of
    a Newton phase.
    """

    def __init__(self, tol, t_iter, min_probe=MIN_PROBE, window=WINDOW):
        self.tol = tol
        self.t_iter = t_iter
        self.min_probe = max(int(min_probe), window + 1)
        self.window = window
        self.errs = []
        self.predicted = None   # (remaining Sinkhorn seconds, Newton seconds) at hand-over

    def newton_seconds(self):
        """Predicted seconds of a Newton phase."""
        return NEWTON_STEPS * (STEP_ITERS * self.t_iter + STEP_OVERHEAD)

    def __call__(self, it, err):
        if it == 1:   # a fresh run (also after a restart)
            self.errs = []
        self.errs.append(err)
        if it < self.min_probe or it % self.window or len(self.errs) <= self.window:
            return False
        e_now, e_then = self.errs[-1], self.errs[-1 - self.window]
        rate = (e_now / e_then) ** (1.0 / self.window) if e_then > 0 else 1.0
        if 0.0 < rate < 1.0 and self.tol > 0:
            remaining = math.log(e_now / self.tol) / -math.log(rate) * self.t_iter
        else:   # no measurable progress (or tol = 0): Sinkhorn would not finish
            remaining = math.inf
        newton = self.newton_seconds()
        if remaining > newton:
            self.predicted = (remaining, newton)
            return True
        return False


def _merge(probe, newton, t_probe):
    """One state for the whole run: Newton's result, counts and histories of both."""
    newton.errs = list(probe.errs) + list(newton.errs)
    newton.times = list(probe.times) + [t + t_probe for t in newton.times]
    nit_sink = probe.nit + int(newton.extra.get("nit_sinkhorn", 0))
    newton.nit = probe.nit + newton.nit
    newton.extra["nit_sinkhorn"] = nit_sink
    timings = dict(newton.extra.get("timings", {}))
    timings["probe"] = t_probe
    newton.extra["timings"] = timings
    return newton


def _absorbed_probe(a, b, M, reg, maxiter, tol, mon, record):
    """Scaling iterations on SNS's warm-up kernel, watched by ``mon``.

    Where ``exp(-M / reg)`` underflows, the kernel with the row minima of ``M``
    absorbed, ``exp((min_j M_ij - M_ij) / reg)``, keeps an entry 1 in every row
    (one exp pass, as SNS's warm-up), where the stabilized engine starts with
    exact log-domain steps. Scalings that leave ``[1/SCALE_LIMIT, SCALE_LIMIT]``
    are absorbed into the potentials (the kernel is recomputed). Returns
    ``(state, None)``, or ``(None, (f, g, iterations))`` with the last good
    potentials when a scaling stops being finite and positive (a column
    underflowed): the caller then runs the stabilized engine from there.
    """
    n, m = M.shape
    f, g = M.min(axis=1), np.zeros(m)
    work = eng._Work(n, m)
    K = np.empty((n, m))
    gibbs_kernel(M, f, g, reg, K, work.vbuf[0], *work.vbuf[2:])
    u, w, v = np.empty(n), np.empty(m), np.ones(m)
    st = eng._State(f=None, g=None, engine="sinkhorn")
    t0 = time.perf_counter()
    status, it, err = MAXITER, 0, np.inf
    last = (f, g, 0)
    with np.errstate(divide="ignore", over="ignore", invalid="ignore"):
        for it in range(1, maxiter + 1):
            kern.scaling_sweep(K, a, v, u, work.part, w)
            err = float(np.linalg.norm(v * w - b))
            if not (math.isfinite(err) and np.all(w > 0) and np.all(u > 0)
                    and np.all(np.isfinite(u))):
                return None, last
            stop = eng.record_and_stop(st, err, it, maxiter, tol, record, t0, mon)
            if stop is not None:
                status = stop
                break
            v = b / w
            if not np.all(np.isfinite(v)):
                return None, last
            last = (f + reg * np.log(u), g + reg * np.log(v), it)
            if max(u.max(), v.max(), 1.0 / u.min(), 1.0 / v.min()) > SCALE_LIMIT:
                # absorb the scalings into the potentials (one exp pass), as the
                # stabilized engine does
                f, g = last[0], last[1]
                gibbs_kernel(M, f, g, reg, K, work.vbuf[0], *work.vbuf[2:])
                v = np.ones(m)
                st.extra["n_absorb"] = st.extra.get("n_absorb", 0) + 1
    st.f, st.g = f + reg * np.log(u), g + reg * np.log(v)
    st.nit, st.err, st.status, st.K = it, err, status, K
    st.extra["uv"] = (u, v)
    return st, None


def _probe_numba(a, b, M, reg, maxiter, tol, f0, g0, record, mon):
    """The Sinkhorn phase: plain scaling, or where the kernel underflows (and no warm
    start is given) the absorbed-kernel probe, the stabilized engine as the fallback."""
    if f0 is not None or not eng.kernel_underflows(M, reg):
        return eng.auto_numba(a, b, M, reg, maxiter, tol, "sinkhorn", f0, g0, record,
                              monitor=mon)
    st, last = _absorbed_probe(a, b, M, reg, maxiter, tol, mon, record)
    if st is not None:
        return st
    f, g, done = last
    st = stabilized_numba(a, b, M, reg, max(1, maxiter - done), tol, f, g, record=record,
                          monitor=mon)
    st.nit += done
    return st


def _probe_then_newton(probe, newton, tol, shape, maxiter):
    """Run ``probe(monitor)`` (a Sinkhorn engine watched by a :class:`RateMonitor`); when
    it hands over, ``newton(maxiter_left, f, g)`` (SNS) from its potentials, one state
    for both."""
    mon = RateMonitor(tol, iteration_seconds(*shape))
    t0 = time.perf_counter()
    st = probe(mon)
    if not st.extra.get("handover"):
        return st
    t_probe = time.perf_counter() - t0
    out = _merge(st, newton(max(1, maxiter - st.nit), st.f, st.g), t_probe)
    out.extra["predicted"] = mon.predicted
    return out


def auto_numba(a, b, M, reg, maxiter, tol, f0=None, g0=None, record=False, **sns_opts):
    """``method='auto'`` with the compiled engines (NumPy input).

    ``maxiter`` bounds Sinkhorn iterations and Newton steps together.
    """
    sns_opts.setdefault("n_warmup", 0)
    return _probe_then_newton(
        lambda mon: _probe_numba(a, b, M, reg, maxiter, tol, f0, g0, record, mon),
        lambda left, f, g: _sns.sns_numba(a, b, M, reg, left, tol, f0=f, g0=g, record=record,
                                          **sns_opts),
        tol, M.shape, maxiter)


def auto_xp(xp, a, b, M, reg, maxiter, tol, f0=None, g0=None, **sns_opts):
    """``method='auto'`` on the generic path (any Array API namespace)."""
    sns_opts.setdefault("n_warmup", 0)
    return _probe_then_newton(
        lambda mon: eng.auto_xp(xp, a, b, M, reg, maxiter, tol, "sinkhorn", f0, g0,
                                monitor=mon),
        lambda left, f, g: _sns.sns_xp(xp, a, b, M, reg, left, tol, f0=f, g0=g, **sns_opts),
        tol, M.shape, maxiter)
