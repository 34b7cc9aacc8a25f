"""Sinkhorn engines (scaling and log domain) on float64 arrays.

Every engine works on validated float64 inputs with positive masses and
returns a :class:`_State`: the dual potentials ``f, g`` in POT units
(``P_ij = exp((f_i + g_j - M_ij) / reg)``), the iteration count, the final
column-marginal error ``||P^T 1 - b||_2`` measured after the row update
(POT's convention), a status code and the engine that produced them.

Two families:

* ``*_numba``: NumPy arrays, Numba kernels from :mod:`._kernels`
  (one fused pass over ``K`` or ``M`` per iteration, error for free).
* ``*_xp``: vectorised Array API standard code for any namespace ``xp``
  (PyTorch, CuPy, ``array_api_strict``, NumPy with ``engine='xp'``): the
  device path, also used for a batched ``b``. Large array expressions and
  matrix products, one host synchronisation per iteration (the stopping
  test), computed in the inputs' float dtype.
"""
import math
import time
from dataclasses import dataclass, field

import numpy as np

from numopt._array_api import device as _device
from numopt._array_api import logsumexp
from numopt._result import MAXITER, NAN_ENCOUNTERED, SUCCESS

from . import _kernels as kern

#: exponent range above which exp(-M / reg) underflows (float64)
UNDERFLOW_RANGE = 700.0
#: the same for float32 (the generic path computes in the inputs' dtype)
UNDERFLOW_RANGE_32 = 80.0
#: column sums below this are recomputed with an exact log-sum-exp
TINY = 1e-200


@dataclass
class _State:
    f: object
    g: object
    nit: int = 0
    err: float = np.inf
    status: int = MAXITER
    engine: str = ""
    errs: list = field(default_factory=list)
    times: list = field(default_factory=list)
    K: object = None      # scaling kernel (shifted), when the scaling engine ran
    shift: float = 0.0    # K = exp(-(M - shift) / reg)
    extra: dict = field(default_factory=dict)


def stop_status(err, tol):
    """``NAN_ENCOUNTERED`` for a non-finite marginal error, ``SUCCESS`` once it is at most
    ``tol``, else None (iterate on): the stopping test of every Sinkhorn and SNS loop."""
    if not math.isfinite(err):
        return NAN_ENCOUNTERED
    if err <= tol:
        return SUCCESS
    return None


def _loop_status(err, tol, it, maxiter):
    """:func:`stop_status`, or ``MAXITER`` once iteration ``it`` is the last one (None:
    do the next update)."""
    stop = stop_status(err, tol)
    if stop is None and it == maxiter:
        return MAXITER
    return stop


def record_and_stop(st, err, it, maxiter, tol, record, t0, monitor):
    """The common tail of the scaling loops (plain, stabilized, ``'auto'``'s probe), after
    an iteration with a finite error: record it, then ``SUCCESS`` at ``tol``,
    ``MAXITER`` at the last iteration or when ``monitor(it, err)`` asks to hand over
    (``st.extra['handover']``), None to go on."""
    if record:
        st.errs.append(err)
        st.times.append(time.perf_counter() - t0)
    if err <= tol:
        return SUCCESS
    if it == maxiter:  # keep the (u, v) pair of the last iterate (as POT)
        return MAXITER
    if monitor is not None and monitor(it, err):
        st.extra["handover"] = True
        return MAXITER
    return None


def kernel_underflows(M, reg, xp=np):
    """True when ``exp(-(M - min M) / reg)`` has entries below the range of ``M``'s dtype."""
    rng = float(xp.max(M) - xp.min(M))
    limit = UNDERFLOW_RANGE_32 if M.dtype == xp.float32 else UNDERFLOW_RANGE
    return rng / reg > limit


# --------------------------------------------------------------------------
# Numba engines
# --------------------------------------------------------------------------

def scaling_numba(a, b, M, reg, maxiter, tol, f0=None, g0=None, record=False):
    """Scaling (Sinkhorn-Knopp) iterations with the fused kernel.

    Returns ``None`` when the scaling vectors stop being finite and positive
    (the caller then switches to the log domain); the last good potentials
    are in ``state.extra['last']``.
    """
    from ._stabilized import gibbs_kernel
    n, m = M.shape
    shift = float(M.min())
    # K = exp(-(M - shift) / reg) in one fused pass with the vectorised exp (no n x m
    # temporaries; NumPy's exp costs a pass per operation and one allocation each)
    K = np.empty((n, m))
    vb = kern.work_buffers(kern.n_chunks(n), m)
    gibbs_kernel(M, np.full(n, shift), np.zeros(m), reg, K, vb[0], *vb[2:])
    if f0 is not None:
        with np.errstate(over="ignore"):
            u = np.exp((f0 - shift) / reg)
            v = np.exp(g0 / reg)
        w = np.empty(m)
        kern.rmatvec(K, u, np.empty((kern.n_chunks(n), m)), w)
    else:
        u = np.full(n, 1.0 / n)
        w = np.empty(m)
        kern.rmatvec(K, u, np.empty((kern.n_chunks(n), m)), w)
        with np.errstate(divide="ignore", over="ignore"):
            v = b / w
    st = _State(f=None, g=None, engine="sinkhorn", K=K, shift=shift)
    if not (np.all(np.isfinite(v)) and np.all(v > 0)):
        return None
    part = np.empty((kern.n_chunks(n), m))
    s = np.empty(n)   # K v, written by the sweep
    last = (u.copy(), v.copy())
    t0 = time.perf_counter()
    status = MAXITER
    it = 0
    err = np.inf
    with np.errstate(divide="ignore", over="ignore", invalid="ignore"):
        for it in range(1, maxiter + 1):
            kern.scaling_sweep(K, a, v, u, part, w, s)
            err = float(np.linalg.norm(v * w - b))
            if not (math.isfinite(err) and np.all(w > 0) and np.all(u > 0)
                    and np.all(np.isfinite(u))):
                st.extra["last"] = last
                return None
            stop = record_and_stop(st, err, it, maxiter, tol, record, t0, None)
            if stop is not None:
                status = stop
                break
            last = (u, v)
            v = b / w
            if not np.all(np.isfinite(v)):
                st.extra["last"] = last
                return None
    st.f = reg * np.log(u) + shift
    st.g = reg * np.log(v)
    st.nit, st.err, st.status = it, err, status
    st.extra["uv"] = (u, v)
    return st


class _Work:
    """Work buffers of the row-parallel log-domain kernels."""

    def __init__(self, n, m):
        self.nchunk = kern.n_chunks(n)
        self.part = np.empty((self.nchunk, m))
        self.vbuf = kern.work_buffers(self.nchunk, m)  # e, fb, fbi, sc, scf
        self.s = np.empty(m)

    def col_lse(self, M, f, reg):
        out = np.empty(M.shape[1])
        kern.col_lse(M, f, reg, self.part, *self.vbuf, out)
        return out

    def log_sweep(self, M, loga, g, reg, f):
        kern.log_sweep(M, loga, g, reg, f, self.part, *self.vbuf, self.s)
        return self.s


def _g_update(g, s, logb, reg, M, f, work):
    """``g += reg (log b - log s)``; exact log-sum-exp for underflowed columns."""
    bad = ~(s > TINY)
    if np.any(bad):
        lse = work.col_lse(M, f, reg)
        good = ~bad
        g[good] += reg * (logb[good] - np.log(s[good]))
        g[bad] = reg * (logb[bad] - lse[bad])
    else:
        g += reg * (logb - np.log(s))
    return g


def log_numba(a, b, M, reg, maxiter, tol, f0=None, g0=None, record=False, t_start=None):
    """Log-domain Sinkhorn with the fused kernel (one exp per entry per iteration)."""
    import time
    n, m = M.shape
    loga, logb = np.log(a), np.log(b)
    work = _Work(n, m)
    f = np.zeros(n) if f0 is None else np.array(f0, dtype=np.float64)
    if g0 is None:
        g = reg * (logb - work.col_lse(M, f, reg))
    else:
        g = np.array(g0, dtype=np.float64)
    st = _State(f=f, g=g, engine="sinkhorn_log")
    t0 = time.perf_counter() if t_start is None else t_start
    status = MAXITER
    it = 0
    err = np.inf
    for it in range(1, maxiter + 1):
        s = work.log_sweep(M, loga, g, reg, f)
        err = float(np.linalg.norm(s - b))
        if record:
            st.errs.append(err)
            st.times.append(time.perf_counter() - t0)
        stop = _loop_status(err, tol, it, maxiter)
        if stop is not None:
            status = stop
            break
        g = _g_update(g, s, logb, reg, M, f, work)
    st.f, st.g, st.nit, st.err, st.status = f, g, it, err, status
    return st


def auto_numba(a, b, M, reg, maxiter, tol, method, f0=None, g0=None, record=False):
    """``method='sinkhorn'``: scaling unless the kernel underflows or the
    scaling breaks down, then stabilized scaling (absorption into the
    potentials: the same fused pass per iteration, not the log domain's
    exp per entry); ``'sinkhorn_log'``: the log domain."""
    if method == "sinkhorn":
        if not kernel_underflows(M, reg):
            st = scaling_numba(a, b, M, reg, maxiter, tol, f0, g0, record)
            if st is not None:
                return st
        from ._stabilized import stabilized_numba
        return stabilized_numba(a, b, M, reg, maxiter, tol, f0, g0, record=record)
    return log_numba(a, b, M, reg, maxiter, tol, f0, g0, record)


# --------------------------------------------------------------------------
# Vectorised engines (any Array API namespace: the device path)
#
# Their loops mirror the Numba engines' above step for step (same stopping test; where
# the kernel underflows both 'sinkhorn' engines stabilize by absorption, _stabilized.py)
# while each iteration is array expressions instead of fused kernels: the two loop
# skeletons stay apart on purpose (``duplicates`` lists them), and the shared parts are
# functions (stop_status, kernel_underflows).
# --------------------------------------------------------------------------

def _norm(x, xp):
    return float(xp.sqrt(xp.sum(x * x)))


def _checked_norm(x, ok, xp):
    """``||x||_2`` as a float, NaN unless every entry of ``ok`` holds: the stopping
    test and the breakdown test in one host synchronisation."""
    return float(xp.sqrt(xp.where(xp.all(ok), xp.sum(x * x), xp.nan)))


def full_like_dev(shape, value, like, xp):
    """``xp.full`` with the dtype and device of the array ``like``."""
    return xp.full(shape, value, dtype=like.dtype, device=_device(like))


def scaling_xp(xp, a, b, M, reg, maxiter, tol, f0=None, g0=None, monitor=None):
    """Vectorised scaling iterations; ``b`` may be ``(m, k)`` (batched).

    Returns ``None`` when the scalings stop being finite and positive (the
    caller then switches to a stabilized engine). ``monitor(it, err)``, when given,
    is called after each unconverged iteration; True stops the loop there (status
    ``MAXITER``, ``extra['handover']``), as ``maxiter`` would.
    """
    n, m = M.shape
    batched = b.ndim == 2
    shift = float(xp.min(M))
    K = xp.exp(-(M - shift) / reg)
    aa = a[:, None] if batched else a
    if f0 is not None:
        u = xp.exp((f0 - shift) / reg)
        v = xp.exp(g0 / reg)
    else:
        u = full_like_dev((n, b.shape[1]) if batched else n, 1.0 / n, M, xp)
        v = b / (K.T @ u)
    if not bool(xp.all(xp.isfinite(v))):
        return None
    status, it, err, handover = MAXITER, 0, np.inf, False
    for it in range(1, maxiter + 1):
        u = aa / (K @ v)
        w = K.T @ u
        err = _checked_norm(v * w - b, w > 0, xp)
        if not math.isfinite(err):
            return None
        stop = _loop_status(err, tol, it, maxiter)
        if stop is not None:  # SUCCESS, or MAXITER keeping the last (u, v) pair
            status = stop
            break
        if monitor is not None and monitor(it, err):
            handover = True
            break
        v = b / w
    st = _State(f=reg * xp.log(u) + shift, g=reg * xp.log(v), nit=it, err=err,
                status=status, engine="sinkhorn", K=K, shift=shift)
    if handover:
        st.extra["handover"] = True
    st.extra["uv"] = (u, v)
    return st


def log_row_update(g, M, loga, reg, xp):
    """Exact row update ``f = reg (log a - lse_j((g_j - M_ij) / reg))``."""
    return reg * (loga - logsumexp((g[None, :] - M) / reg, 1, xp))


def log_col_update(f, g, s, M, logb, reg, xp):
    """``g += reg (log b - log s)``; an exact log-sum-exp when a column sum underflowed."""
    if bool(xp.all(s > TINY)):
        return g + reg * (logb - xp.log(s))
    return reg * (logb - logsumexp((f[:, None] - M) / reg, 0, xp))


def log_xp(xp, a, b, M, reg, maxiter, tol, f0=None, g0=None):
    """Vectorised log-domain iterations (1-D ``b``)."""
    n, m = M.shape
    loga, logb = xp.log(a), xp.log(b)
    f = xp.zeros_like(a) if f0 is None else f0
    g = reg * (logb - logsumexp((f[:, None] - M) / reg, 0, xp)) if g0 is None else g0
    status, it, err = MAXITER, 0, np.inf
    for it in range(1, maxiter + 1):
        f = log_row_update(g, M, loga, reg, xp)
        s = xp.sum(xp.exp((f[:, None] + g[None, :] - M) / reg), axis=0)
        err = _norm(s - b, xp)
        stop = _loop_status(err, tol, it, maxiter)
        if stop is not None:
            status = stop
            break
        g = log_col_update(f, g, s, M, logb, reg, xp)
    return _State(f=f, g=g, nit=it, err=err, status=status, engine="sinkhorn_log")


def auto_xp(xp, a, b, M, reg, maxiter, tol, method, f0=None, g0=None, monitor=None):
    """The vectorised counterpart of :func:`auto_numba`: ``'sinkhorn'`` scales unless
    the kernel underflows or the scalings break down, then runs the stabilized engine;
    every other method here runs the log domain."""
    if method == "sinkhorn":
        if not kernel_underflows(M, reg, xp):
            st = scaling_xp(xp, a, b, M, reg, maxiter, tol, f0, g0, monitor)
            if st is not None:
                return st
        from ._stabilized import stabilized_xp
        return stabilized_xp(xp, a, b, M, reg, maxiter, tol, f0, g0, monitor=monitor)
    return log_xp(xp, a, b, M, reg, maxiter, tol, f0, g0)


def plan_from_potentials(f, g, M, reg, xp=np):
    """``exp((f_i + g_j - M_ij) / reg)``."""
    return xp.exp((f[:, None] + g[None, :] - M) / reg)
