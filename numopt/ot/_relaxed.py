"""Over-relaxed scaling Sinkhorn on the absorbed kernel (SNS's warm-up, ``'auto'``'s probe).

Sinkhorn's block-coordinate update of the dual, ``f <- f_S(g)``, becomes
``f <- (1 - omega) f + omega f_S(g)`` (in scalings ``u <- u**(1 - omega)
(a / K v)**omega``; the same for ``g``). Near the solution the iteration is
linear, and with the over-relaxation parameter

    omega = 2 / (1 + sqrt(1 - r))

(``r`` plain Sinkhorn's linear rate) its rate drops from ``r`` to about
``omega - 1``, as for successive over-relaxation on a linear system: Thibault,
Chizat, Dossal and Papadakis, "Overrelaxed Sinkhorn-Knopp algorithm for
regularized optimal transport" (Algorithms 14, 2021), and Lehmann, von Renesse,
Sambale and Uschmajew, "A note on overrelaxation in the Sinkhorn algorithm"
(Optimization Letters 16, 2022), which gives this ``omega`` from ``r``. At
``r = 0.96`` (a few hundred plain iterations) ``omega = 1.67`` and the rate is
about 0.67: 4-5x fewer iterations, each the cost of a plain one (the powers are
``O(n + m)``).

Far from the solution the map is not linear and a large ``omega`` can diverge.
The safeguard is a restart from a checkpoint (the scalings, and the potentials
of the kernel they scale, so that it survives an absorption): a checkpoint is
taken at the end of every ``WINDOW`` relaxed iterations whose error is below the
last checkpoint's; the iterations since are undone and ``omega - 1`` halved when
the error is not finite, or at a window's end when it exceeds ``GROWTH`` times
the checkpoint's or ``PATIENCE`` windows passed without a new checkpoint (the
error of an over-relaxed iteration is not monotone, so one window's growth is
not divergence). With a rate monitor (SNS's warm-up, ``'auto'``) a restart
hands over to the Newton phase instead: the iterates are far from the linear
regime, where Newton with epsilon scaling does better. The iterates are those
of a convergent scheme (``omega`` tends to 1, plain Sinkhorn).

With ``omega != 1`` the row marginals are not exact after the row update, so
the error tested is the larger of the row and column marginal errors of the
plan ``diag(u) K diag(v)`` (plain iterations keep POT's column error: rows are
exact there).

Without a start, a large problem whose absorbed kernel is mostly negligible runs
on the truncated kernel of :mod:`._truncated` (the same loop; its sweeps go over
the kept entries only, an absorption rebuilds the truncation, and a dense pass at
the end gives the plan and its exact error).
"""
import math
import time

import numpy as np

from numopt._result import MAXITER

from . import _engines as eng
from . import _kernels as kern
from . import _truncated as trunc
from ._monitor import iteration_seconds
from ._stabilized import gibbs_kernel

#: scalings outside [1/SCALE_LIMIT, SCALE_LIMIT] are absorbed into the potentials
SCALE_LIMIT = 1e50
#: iterations of the rate's window; a checkpoint is taken every WINDOW relaxed
#: iterations that end below the last checkpoint's error
WINDOW = 10
#: the relaxed iterations are undone when, at the end of a window, the error exceeds
#: GROWTH times the checkpoint's, or PATIENCE windows passed without a new checkpoint
#: (or at once when it is not finite): the error of an over-relaxed iteration need not
#: decrease monotonically, its iteration matrix is not normal
GROWTH = 10.0
PATIENCE = 10
#: the largest omega used (the optimal one tends to 2 as the rate tends to 1)
OMEGA_MAX = 1.95
#: below 1 + OMEGA_MIN_EXCESS the iteration is plain Sinkhorn
OMEGA_MIN_EXCESS = 0.02


def omega_from_rate(rate):
    """The over-relaxation parameter for plain Sinkhorn's linear rate ``rate`` (per
    iteration): ``2 / (1 + sqrt(1 - rate))`` (Lehmann et al. 2022), at most
    ``OMEGA_MAX``; 1 (plain) when ``rate`` is not in (0, 1).

    >>> round(omega_from_rate(0.96), 3)
    1.667
    """
    if not 0.0 < rate < 1.0:
        return 1.0
    return min(OMEGA_MAX, 2.0 / (1.0 + math.sqrt(1.0 - rate)))


def window_rate(errs, window=WINDOW):
    """The linear rate of ``errs`` over its last ``window`` entries (1.0 when it cannot be
    measured)."""
    if len(errs) <= window or not errs[-1 - window] > 0:
        return 1.0
    r = (errs[-1] / errs[-1 - window]) ** (1.0 / window)
    return r if math.isfinite(r) else 1.0


class _Relax:
    """The absorbed kernel, the scalings, the relaxation state and the safeguard's
    checkpoint.

    ``K = exp((f + g - M) / reg)``; the plan is ``diag(u) K diag(v)``. A checkpoint
    keeps the scalings and the kernel's version: a restore after an absorption
    rebuilds the kernel from the checkpoint's potentials.
    """

    def __init__(self, M, reg, f, g, omega, cut=None):
        n, m = M.shape
        self.M, self.reg, self.f, self.g = M, reg, f, g
        self.work = eng._Work(n, m)
        self.K = self.tk = self.P = None
        self.version = 0
        self.checks = 0     # failed dense checks of the truncated kernel
        self.rebuilds = self.sweeps = 0
        self.discard = False
        if cut is not None:   # truncated, from the double c-transform of M
            self.f, self.g = np.empty(n), np.empty(m)
            trunc.c_transform(M, self.f, self.g, self.work.part)
            self.tk = trunc.Truncated(M, reg, cut, self.work)
            self.tk.build(self.f, self.g)
            if self.tk.density() > 2 * trunc.TRUNC_DENSITY:   # the prediction was off
                self.tk = None
        if self.tk is None:
            self.K = np.empty((n, m))
        if self.tk is None and self.f is None:   # the row minima of M, in the kernel's pass
            self.f = np.empty(n)
            gibbs_kernel(M, self.f, self.g, reg, self.K, self.work.vbuf[0],
                         *self.work.vbuf[2:], rowmin=True)
        elif self.tk is None:
            self._build()
        self.u, self.v = np.ones(n), np.ones(m)
        self.s, self.w = np.empty(n), np.empty(m)
        self.omega = 1.0 if omega is None else float(omega)
        self.relaxed = omega is not None   # past the plain stage
        self.since = 0      # relaxed iterations since the last checkpoint
        self.ck = None      # (u, v, f, g, version, err) at the last checkpoint
        self.restarts = 0

    def _build(self):
        if self.tk is not None:
            self.tk.build(self.f, self.g)
            return
        gibbs_kernel(self.M, self.f, self.g, self.reg, self.K, self.work.vbuf[0],
                     *self.work.vbuf[2:])

    def sweep(self, a):
        """One (over-relaxed) row update with the column sums of the new plan."""
        self.sweeps += 1
        if self.tk is None:
            kern.scaling_sweep_relaxed(self.K, a, self.v, self.omega, self.u, self.s,
                                       self.work.part, self.w)
        else:
            self.tk.sweep(a, self.v, self.omega, self.u, self.s, self.work.part, self.w)

    def truncation_grew(self, tol):
        """True when the entries the truncation dropped could carry more than
        ``TRUNC_SAFETY * tol`` of marginal error at the current scalings."""
        return self.tk is not None and math.exp(self.tk.cut) * trunc.truncation_bound(
            self.u, self.v) > trunc.TRUNC_SAFETY * tol

    def dense_check(self, a, b, tol):
        """The dense plan of the truncated run (``self.P``) and its error. Returns
        ``(err, densified)``: after ``MAX_CHECKS`` errors above ``tol`` the run goes on
        with the dense kernel (the plan just computed, its potentials absorbed)."""
        f, g = self.potentials()
        self.P, err = self.tk.dense(f, g, a, b)
        if err <= tol or not math.isfinite(err):
            return err, False
        self.checks += 1
        if self.checks < trunc.MAX_CHECKS:
            self.P = None
            return err, False
        self.tk, self.K, self.P = None, self.P, None
        self.f, self.g = f, g
        self.version += 1
        self.u[:], self.v[:] = 1.0, 1.0
        return err, True

    def potentials(self, u=None, v=None, f=None, g=None):
        u, v = (self.u, self.v) if u is None else (u, v)
        f, g = (self.f, self.g) if f is None else (f, g)
        with np.errstate(divide="ignore"):
            return f + self.reg * np.log(u), g + self.reg * np.log(v)

    def absorb(self):
        """Move the scalings into the potentials (one exp pass). A truncated kernel is
        rebuilt; once rebuilds come more often than every ``trunc.REBUILD_EVERY``
        sweeps (the scalings far from their limit) it is made dense, or, within the
        first ``trunc.EARLY_SWEEPS`` sweeps, marked ``discard``: the caller then starts
        over on the dense kernel, on the path the dense engine takes from the start."""
        self.f, self.g = self.potentials()
        if self.tk is not None:
            self.rebuilds += 1
            if self.rebuilds > trunc.REBUILD_FREE + self.sweeps / trunc.REBUILD_EVERY:
                if self.sweeps <= trunc.EARLY_SWEEPS:
                    self.discard = True
                    return
                self.tk = None
                self.K = np.empty(self.M.shape)
        self._build()
        self.version += 1
        self.u[:], self.v[:] = 1.0, 1.0

    def checkpoint(self, err):
        self.ck = (self.u.copy(), self.v.copy(), self.f, self.g, self.version, err)
        self.since = 0

    def relax(self, omega, err):
        self.omega, self.relaxed = omega, True
        self.checkpoint(err)

    def restore(self):
        """Undo the window; halve ``omega - 1``. Returns the checkpoint's error."""
        u, v, f, g, version, err = self.ck
        if version == self.version:
            self.u[:], self.v[:] = u, v
        else:   # absorbed since: the checkpoint's potentials, a fresh kernel
            self.f, self.g = self.potentials(u, v, f, g)
            self._build()
            self.version += 1
            self.u[:], self.v[:] = 1.0, 1.0
            self.ck = (self.u.copy(), self.v.copy(), self.f, self.g, self.version, err)
        self.omega = 1.0 + 0.5 * (self.omega - 1.0)
        if self.omega - 1.0 < OMEGA_MIN_EXCESS:
            self.omega = 1.0
        self.restarts += 1
        self.since = 0
        return err


def _potentials(last, reg):
    """``(f, g, iterations)`` from a stored ``(f, g, u, v, iterations)``."""
    f, g, u, v, its = last
    with np.errstate(divide="ignore"):
        return f + reg * np.log(u), g + reg * np.log(v), its


def relaxed_numba(a, b, M, reg, maxiter, tol, f0=None, g0=None, *, omega=None,
                  relax_after=None, monitor=None, record=False, truncate=True):
    """Scaling Sinkhorn on the kernel with the potentials absorbed, over-relaxed.

    The kernel is ``exp((f + g - M) / reg)`` with ``(f, g) = (f0, g0)``, or the row
    minima of ``M`` and 0 (one exp pass: an entry 1 in every row where
    ``exp(-M / reg)`` underflows). Plain iterations come first, until
    ``relax_after`` of them or until ``monitor(it, err)`` (a
    :class:`._auto.RateMonitor`) first asks for a hand-over; then over-relaxed ones
    (:func:`omega_from_rate` of the last window's rate; ``omega`` from the start
    when given), and the monitor's next request hands over (``extra['handover']``,
    status ``MAXITER``).

    Returns ``(state, None)``, or ``(None, (f, g, iterations))`` with the last good
    potentials when a scaling stops being finite and positive in a plain iteration
    (a column underflowed): the caller then runs the stabilized engine.

    Without a start, and with ``truncate``, large problems whose absorbed kernel is
    mostly negligible run on the truncated kernel (:mod:`._truncated`): the state
    then carries the dense plan in ``extra['P']`` (no kernel) unless it hands over.
    """
    n, m = M.shape
    cut = None
    relax_after0 = relax_after
    if truncate and f0 is None and g0 is None:
        cut = trunc.use_truncation(M, reg, tol)
    f = None if f0 is None else np.array(f0, dtype=np.float64)
    g = np.zeros(m) if g0 is None else np.array(g0, dtype=np.float64)
    R = _Relax(M, reg, f, g, omega, cut)
    f, g = R.f, R.g
    if R.tk is not None and monitor is not None:
        monitor.set_iteration_seconds(trunc.iteration_seconds(R.tk.nnz, n, m))
    if R.relaxed:
        R.checkpoint(np.inf)
    st = eng._State(f=None, g=None, engine="sinkhorn")
    t0 = time.perf_counter()
    status, it, err = MAXITER, 0, np.inf
    errs = []
    last = (f, g, np.ones(n), np.ones(m), 0)   # (f, g, u, v, its): the last good plain pair
    with np.errstate(divide="ignore", over="ignore", invalid="ignore"):
        for it in range(1, maxiter + 1):
            R.sweep(a)
            err = kern.relaxed_error(R.u, R.s, R.v, R.w, a, b, R.omega)
            if R.omega > 1.0:
                R.since += 1
                window_end = R.since % WINDOW == 0
                if not math.isfinite(err) or (window_end and (
                        err > GROWTH * R.ck[-1] or R.since >= PATIENCE * WINDOW)):
                    err = R.restore()
                    errs = []
                    if monitor is not None:   # far from the linear regime: Newton's turn
                        st.extra["handover"] = True
                        break
                    continue
                if window_end and err <= R.ck[-1]:
                    R.checkpoint(err)
            elif not math.isfinite(err):
                return None, _potentials(last, reg)
            errs.append(err)
            # truncated: the sparse plan within (1 - TRUNC_SAFETY) tol, the dense plan decides
            stop = eng.record_and_stop(st, err, it, maxiter, tol if R.tk is None else
                                       (1.0 - trunc.TRUNC_SAFETY) * tol, record, t0, None)
            if stop is not None and R.tk is not None:
                err, densified = R.dense_check(a, b, tol)
                if err <= tol or not math.isfinite(err) or it == maxiter:
                    status = eng.stop_status(err, tol)
                    status = MAXITER if status is None else status
                    break
                stop = None
                if densified:
                    continue
            if stop is not None:
                status = stop
                break
            if not R.relaxed:
                asked = monitor is not None and monitor(it, err)
                if asked or (relax_after is not None and it >= relax_after):
                    om = omega_from_rate(window_rate(errs))
                    if om > 1.0 or asked:
                        R.relax(om, err)
                        st.extra["relaxed_at"] = it
                        if monitor is not None:
                            monitor.next_stage()
                    else:   # no measurable linear rate yet (a transient): one more window
                        relax_after = it + WINDOW
            elif monitor is not None and monitor(it, err):
                st.extra["handover"] = True
                break
            big = kern.relaxed_column(R.u, R.v, R.w, b, R.omega)
            if not math.isfinite(big):
                if R.omega == 1.0:
                    return None, _potentials(last, reg)
                err = R.restore()
                errs = []
                if monitor is not None:
                    st.extra["handover"] = True
                    break
                continue
            if R.omega == 1.0:
                last = (R.f, R.g, R.u.copy(), R.v.copy(), it)
            if big > SCALE_LIMIT or R.truncation_grew(tol):
                truncated = R.tk is not None
                R.absorb()
                if R.discard:   # the truncation does not pay: the dense run from the start
                    if monitor is not None:
                        monitor.restart(iteration_seconds(n, m))
                    return relaxed_numba(a, b, M, reg, maxiter, tol, f0, g0, omega=omega,
                                         relax_after=relax_after0, monitor=monitor,
                                         record=record, truncate=False)
                if truncated and R.tk is None and monitor is not None:   # made dense
                    monitor.set_iteration_seconds(iteration_seconds(n, m))
                st.extra["n_absorb"] = st.extra.get("n_absorb", 0) + 1
    st.f, st.g = R.potentials()
    st.nit, st.err, st.status, st.K = it, err, status, R.K
    st.extra.update(uv=(R.u, R.v), omega=R.omega, restarts=R.restarts, P=R.P)
    # the truncated kernel's kept entries (None: dense), and its dense checks
    st.extra.update(truncated=None if R.tk is None else R.tk.nnz,
                    dense_checks=R.checks + (R.P is not None))
    st.extra.setdefault("relaxed_at", 0 if omega is not None else None)
    return st, None
