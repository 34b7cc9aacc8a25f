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
import time

from . import _engines as eng
from . import _sns
from ._monitor import (ENTRY_SECONDS, ITER_SECONDS, MIN_PROBE, NEWTON_STEPS,  # noqa: F401
                       RELAX_ITERS, STEP_ITERS, STEP_OVERHEAD, WINDOW, RateMonitor,
                       iteration_seconds, newton_seconds)
from ._relaxed import omega_from_rate, relaxed_numba
from ._stabilized import stabilized_numba


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


def _probe_numba(a, b, M, reg, maxiter, tol, f0, g0, record, mon):
    """The Sinkhorn phase: plain scaling, or where the kernel underflows (and no warm
    start is given) scaling on the kernel with the row minima absorbed, over-relaxed
    at the monitor's first request (:func:`._relaxed.relaxed_numba`), the stabilized
    engine as the fallback."""
    if f0 is not None or not eng.kernel_underflows(M, reg):
        return eng.auto_numba(a, b, M, reg, maxiter, tol, "sinkhorn", f0, g0, record,
                              monitor=mon)
    st, last = relaxed_numba(a, b, M, reg, maxiter, tol, monitor=mon, record=record)
    if st is not None:
        return st
    f, g, done = last
    st = stabilized_numba(a, b, M, reg, max(1, maxiter - done), tol, f, g, record=record,
                          monitor=mon)
    st.nit += done
    return st


def _relaxed_phase(a, b, M, reg, tol, record):
    """Over-relaxed iterations from a plain probe's potentials (NumPy path): the relaxed
    engine with ``omega`` from the probe's last rate, or None where it cannot run (a
    column underflows: the Newton phase takes over)."""
    def run(left, f, g, mon):
        st, _ = relaxed_numba(a, b, M, reg, left, tol, f, g, monitor=mon, record=record,
                              omega=omega_from_rate(mon.rate))
        return st
    return run


def _chain(first, second, t_first):
    """``second`` continuing ``first`` (two Sinkhorn phases): counts and histories of both."""
    second.errs = list(first.errs) + list(second.errs)
    second.times = list(first.times) + [t + t_first for t in second.times]
    second.nit = first.nit + second.nit
    return second


def _probe_then_newton(probe, newton, tol, shape, maxiter, relaxed=None):
    """Run ``probe(monitor)`` (a Sinkhorn engine watched by a :class:`RateMonitor`); when
    it asks to over-relax, ``relaxed(maxiter_left, f, g, monitor)`` from its potentials;
    when that (or the probe) hands over, ``newton(maxiter_left, f, g)`` (SNS), one
    state for all."""
    mon = RateMonitor(tol, iteration_seconds(*shape), relax=relaxed is not None)
    t0 = time.perf_counter()
    st = probe(mon)
    if st.extra.get("handover") and mon.relaxes_next:
        mon.next_stage()
        t1 = time.perf_counter() - t0
        sub = relaxed(max(1, maxiter - st.nit), st.f, st.g, mon)
        if sub is not None:
            st = _chain(st, sub, t1)
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
        tol, M.shape, maxiter, relaxed=_relaxed_phase(a, b, M, reg, tol, record))


def auto_xp(xp, a, b, M, reg, maxiter, tol, f0=None, g0=None, **sns_opts):
    """``method='auto'`` on the generic path (any Array API namespace)."""
    sns_opts.setdefault("n_warmup", 0)
    return _probe_then_newton(
        lambda mon: eng.auto_xp(xp, a, b, M, reg, maxiter, tol, "sinkhorn", f0, g0,
                                monitor=mon),
        lambda left, f, g: _sns.sns_xp(xp, a, b, M, reg, left, tol, f0=f, g0=g, **sns_opts),
        tol, M.shape, maxiter)
