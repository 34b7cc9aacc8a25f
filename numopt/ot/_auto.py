"""``method='auto'``: Sinkhorn while it converges fast, over-relaxed Sinkhorn when it
slows, Sinkhorn-Newton-Sparse when that slows too.

The Sinkhorn run is its own probe. Scaling Sinkhorn (or, where ``exp(-M/reg)``
underflows, scaling on the kernel with the row minima absorbed) starts as
usual, watched by a :class:`._monitor.RateMonitor`: from iteration
``MIN_PROBE`` on, every ``WINDOW`` iterations, the linear rate ``r`` of the
marginal error over the last window predicts the iterations still needed,
``R = log(err / tol) / -log(r)``, and a model of the time per iteration
(:func:`iteration_seconds`, proportional to the cost entries) turns that into
seconds.

1. When more than ``RELAX_ITERS`` iterations are predicted, the iteration is
   over-relaxed (:mod:`._relaxed`): ``omega = 2 / (1 + sqrt(1 - r))`` from the
   measured rate, about ``omega - 1`` per iteration instead of ``r`` (4-10x
   fewer iterations at ``reg = 1e-3`` on the benchmark families).
2. When the over-relaxed iterations are predicted to cost more than a Newton
   phase (``NEWTON_STEPS`` steps of ``STEP_ITERS`` iterations and
   ``STEP_OVERHEAD`` seconds each), or when they diverge (the window is undone),
   the potentials warm-start SNS.

The model, not a clock, decides, so the same inputs always take the same path.
No work is thrown away: the iterations done are SNS's warm-up (the NumPy path
runs on SNS's warm-up kernel, the cost with the row minima absorbed, from the
start), and a problem plain Sinkhorn solves in a few dozen iterations never
leaves plain iterations. On large problems whose absorbed kernel is mostly
negligible (small ``reg`` against the cost's spread) the Sinkhorn phase runs on a
truncated sparse kernel (:mod:`._truncated`). The device path (:func:`auto_xp`)
does not over-relax: plain Sinkhorn, then SNS.
"""
import time

from . import _engines as eng
from . import _sns
from ._monitor import RateMonitor, iteration_seconds
from ._relaxed import relaxed_numba
from ._stabilized import stabilized_numba


def _merge(probe, newton, t_probe):
    """One state for the whole run: Newton's result, counts and histories of both."""
    newton.errs = list(probe.errs) + list(newton.errs)
    newton.times = list(probe.times) + [t + t_probe for t in newton.times]
    for key in _sns.RELAX_KEYS:   # the probe's over-relaxation
        if key in probe.extra and key not in newton.extra:
            newton.extra[key] = probe.extra[key]
    nit_sink = probe.nit + int(newton.extra.get("nit_sinkhorn", 0))
    newton.nit = probe.nit + newton.nit
    newton.extra["nit_sinkhorn"] = nit_sink
    timings = dict(newton.extra.get("timings", {}))
    timings["probe"] = t_probe
    newton.extra["timings"] = timings
    return newton


def _probe_numba(a, b, M, reg, maxiter, tol, f0, g0, record, mon):
    """The Sinkhorn phase: scaling on the kernel with the potentials absorbed (the row
    minima of ``M`` without a warm start: an entry 1 in every row, where
    ``exp(-M / reg)`` may underflow), over-relaxed at the monitor's first request
    (:func:`._relaxed.relaxed_numba`); the stabilized engine where a column
    underflows."""
    st, last = relaxed_numba(a, b, M, reg, maxiter, tol, f0, g0, monitor=mon,
                             record=record)
    if st is not None:
        return st
    f, g, done = last
    st = stabilized_numba(a, b, M, reg, max(1, maxiter - done), tol, f, g, record=record,
                          monitor=mon)
    st.nit += done
    return st


def _probe_then_newton(probe, newton, tol, shape, maxiter, relax):
    """Run ``probe(monitor)`` (a Sinkhorn engine watched by a :class:`RateMonitor`, which
    over-relaxes at its first request when ``relax``); when it hands over,
    ``newton(maxiter_left, f, g)`` (SNS) from its potentials, one state for both."""
    mon = RateMonitor(tol, iteration_seconds(*shape), relax=relax)
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
        tol, M.shape, maxiter, relax=True)


def auto_xp(xp, a, b, M, reg, maxiter, tol, f0=None, g0=None, **sns_opts):
    """``method='auto'`` on the generic path (any Array API namespace)."""
    sns_opts.setdefault("n_warmup", 0)
    return _probe_then_newton(
        lambda mon: eng.auto_xp(xp, a, b, M, reg, maxiter, tol, "sinkhorn", f0, g0,
                                monitor=mon),
        lambda left, f, g: _sns.sns_xp(xp, a, b, M, reg, left, tol, f0=f, g0=g, **sns_opts),
        tol, M.shape, maxiter, relax=False)
