"""Stabilized scaling Sinkhorn (absorption), epsilon scaling and Greenkhorn.

Stabilized scaling (Schmitzer, "Stabilized sparse scaling algorithms for
entropy regularized transport problems", SIAM J. Sci. Comput. 2019) keeps the
plan as ``P = diag(u) K~ diag(v)`` with the *stabilized* kernel
``K~_ij = exp((alpha_i + beta_j - M_ij) / reg)``. Each iteration is one fused
scaling pass over ``K~`` (:func:`._kernels.scaling_sweep`, as cheap as the
plain scaling iteration); when a scaling leaves ``[1/tau, tau]`` it is
*absorbed* into the potentials (``alpha += reg log u``, ``u = 1``, same for
``v``) and ``K~`` is rebuilt (one exp pass). The start is an exact
log-domain half-step, so ``K~`` never underflows where the plan has mass:
this is the engine ``method='sinkhorn'`` uses when ``exp(-M/reg)``
underflows.

Epsilon scaling runs the stabilized engine on a decreasing sequence of
regularizations ``reg_k = (epsilon0 - reg) exp(-k) + reg`` (POT's schedule),
warm-starting each stage from the previous potentials.

Greenkhorn (Altschuler, Weed and Rigollet, NeurIPS 2017) updates one row or
column scaling per step, the one with the largest marginal violation; the
whole loop is one compiled kernel (:func:`greenkhorn_loop`).

Every engine returns an ``_engines._State`` in POT units
(``P_ij = exp((f_i + g_j - M_ij) / reg)``). The ``*_xp`` engines are the same
iterations in Array API code (the device path); Greenkhorn, sequential by
nature, is NumPy-only.
"""
import math
import time

import numpy as np

from numopt._array_api import logsumexp
from numopt._jit import njit, prange
from numopt._result import MAXITER, NAN_ENCOUNTERED, SUCCESS

from . import _engines as eng
from . import _kernels as kern

__all__ = ["gibbs_kernel", "greenkhorn_loop", "stabilized_numba", "epsilon_scaling_numba",
           "greenkhorn_numba", "stabilized_xp", "epsilon_scaling_xp"]

#: POT's default absorption threshold
TAU = 1e3


@njit(parallel=True, fastmath={"contract"})
def gibbs_kernel(M, alpha, beta, reg, K, tb, fb, fbi, sc, scf, rowmin=False):
    """``K_ij = exp((alpha_i + beta_j - M_ij) / reg)`` (row-parallel, vectorised exp).

    ``tb``, ``fb``/``fbi``, ``sc``/``scf`` are ``(nchunk, m)`` work buffers
    (:func:`._kernels.work_buffers`). ``rowmin=True`` first sets ``alpha_i`` to
    ``min_j (M_ij - beta_j)`` (in place), in the same pass over ``M``: every row of
    ``K`` then has an entry 1.
    """
    # the row-block loop has the shape of the kernels in _kernels.py (``duplicates``
    # lists it): each compiled kernel keeps its own loop so Numba fuses and vectorises it
    n, m = M.shape
    nchunk = tb.shape[0]
    inv = 1.0 / reg
    for c in prange(nchunk):
        lo = c * n // nchunk
        hi = (c + 1) * n // nchunk
        tc = tb[c]
        for i in range(lo, hi):
            if rowmin:
                lo_i = np.inf
                for j in range(m):
                    lo_i = min(lo_i, M[i, j] - beta[j])
                alpha[i] = lo_i
            ai = alpha[i]
            for j in range(m):
                tc[j] = (ai + beta[j] - M[i, j]) * inv
            kern.vexp(tc, K[i], fb[c], fbi[c], sc[c], scf[c])


class _Stab:
    """Stabilized-kernel state: potentials, scalings, kernel and work buffers."""

    def __init__(self, M, reg):
        n, m = M.shape
        self.M, self.reg = M, reg
        self.work = eng._Work(n, m)
        self.K = np.empty((n, m))
        self.part = np.empty((self.work.nchunk, m))
        self.w = np.empty(m)
        self.s = np.empty(n)   # K v, written by the sweep
        self.u = np.ones(n)
        self.v = np.ones(m)
        self.n_absorb = 0

    def rebuild(self, alpha, beta):
        """Set the potentials, reset the scalings to 1 and rebuild ``K~``."""
        self.alpha, self.beta = alpha, beta
        self.u = np.ones(self.M.shape[0])
        self.v = np.ones(self.M.shape[1])
        tb, _e, fb, fbi, sc, scf = self.work.vbuf
        gibbs_kernel(self.M, alpha, beta, self.reg, self.K, tb, fb, fbi, sc, scf)

    def exact_step(self, f, g, loga, logb):
        """One exact log-domain iteration from ``g`` (``f``: stabilizer), then rebuild."""
        f = np.array(f, dtype=np.float64)
        s = self.work.log_sweep(self.M, loga, g, self.reg, f)
        g = eng._g_update(np.array(g, dtype=np.float64), s, logb, self.reg, self.M, f,
                          self.work)
        self.rebuild(f, g)

    def potentials(self, u=None, v=None):
        u = self.u if u is None else u
        v = self.v if v is None else v
        with np.errstate(divide="ignore"):
            return self.alpha + self.reg * np.log(u), self.beta + self.reg * np.log(v)

    def absorb(self):
        f, g = self.potentials()
        self.n_absorb += 1
        self.rebuild(f, g)


def _scalings_ok(u, w):
    return bool(np.all(np.isfinite(u)) and np.all(u > 0) and np.all(w > 0)
                and np.all(np.isfinite(w)))


def stabilized_numba(a, b, M, reg, maxiter, tol, f0=None, g0=None, tau=TAU, record=False,
                     t_start=None, monitor=None):
    """Scaling Sinkhorn with absorption into the potentials (see the module docstring).

    ``f0``/``g0``: starting potentials (POT units); the first step is an exact
    log-domain iteration from ``g0`` (``f0`` only stabilizes it). Returns an
    ``_engines._State`` with ``K`` (the stabilized kernel) and
    ``extra['uv']`` so that ``P = diag(u) K diag(v)``. ``monitor``: see
    :func:`._engines.scaling_xp`.
    """
    n, m = M.shape
    loga, logb = np.log(a), np.log(b)
    S = _Stab(M, reg)
    logtau = math.log(tau)
    f = np.zeros(n) if f0 is None else np.asarray(f0, dtype=np.float64)
    if g0 is None:
        g = reg * (logb - S.work.col_lse(M, f, reg))
    else:
        g = np.asarray(g0, dtype=np.float64)
    S.exact_step(f, g, loga, logb)
    st = eng._State(f=None, g=None, engine="sinkhorn_stabilized")
    t0 = time.perf_counter() if t_start is None else t_start
    status, it, err = MAXITER, 0, np.inf
    fresh = True  # no scaling sweep since the last exact step
    with np.errstate(divide="ignore", over="ignore", invalid="ignore"):
        for it in range(1, maxiter + 1):
            u_prev, v_prev = S.u.copy(), S.v
            kern.scaling_sweep(S.K, a, S.v, S.u, S.part, S.w, S.s)
            err = float(np.linalg.norm(S.v * S.w - b))
            if not (math.isfinite(err) and _scalings_ok(S.u, S.w)):
                if fresh:  # broke down right after an exact step: give up here
                    status = NAN_ENCOUNTERED
                    S.u, S.v = u_prev, v_prev
                    break
                # resynchronise: exact log-domain step from the last good iterate
                f, g = S.potentials(u_prev, v_prev)
                S.exact_step(f, g, loga, logb)
                fresh = True
                continue
            fresh = False
            stop = eng.record_and_stop(st, err, it, maxiter, tol, record, t0, monitor)
            if stop is not None:
                status = stop
                break
            S.v = b / S.w
            if (abs(math.log(S.u.max())) > logtau or abs(math.log(S.u.min())) > logtau
                    or abs(math.log(S.v.max())) > logtau
                    or abs(math.log(S.v.min())) > logtau):
                S.absorb()
    st.f, st.g = S.potentials()
    st.nit, st.err, st.status = it, err, status
    st.K = S.K
    st.extra["uv"] = (S.u, S.v)
    st.extra["alpha_beta"] = (S.alpha, S.beta)
    st.extra["n_absorb"] = S.n_absorb
    return st


def stabilized_xp(xp, a, b, M, reg, maxiter, tol, f0=None, g0=None, tau=TAU, monitor=None):
    """:func:`stabilized_numba` in Array API code (any namespace, the device path).

    Each iteration is two matrix-vector products with the stabilized kernel
    and one host synchronisation (the stopping and breakdown tests); the
    absorption test costs a second one.
    """
    loga, logb = xp.log(a), xp.log(b)
    logtau = math.log(tau)
    f = xp.zeros_like(a) if f0 is None else f0
    g = reg * (logb - logsumexp((f[:, None] - M) / reg, 0, xp)) if g0 is None else g0

    def exact_step(f, g):
        """One exact log-domain iteration from ``g``: potentials and kernel, scalings 1."""
        f = eng.log_row_update(g, M, loga, reg, xp)
        s = xp.sum(xp.exp((f[:, None] + g[None, :] - M) / reg), axis=0)
        g = eng.log_col_update(f, g, s, M, logb, reg, xp)
        return f, g, xp.exp((f[:, None] + g[None, :] - M) / reg), xp.ones_like(a), \
            xp.ones_like(b)

    alpha, beta, K, u, v = exact_step(f, g)
    st = eng._State(f=None, g=None, engine="sinkhorn_stabilized")
    status, it, err, n_absorb = MAXITER, 0, np.inf, 0
    fresh = True  # no scaling sweep since the last exact step
    for it in range(1, maxiter + 1):
        u_prev, v_prev = u, v
        u = a / (K @ v)
        w = K.T @ u
        ok = xp.all(xp.isfinite(u) & (u > 0)) & xp.all(xp.isfinite(w) & (w > 0))
        err = eng._checked_norm(v * w - b, ok, xp)
        if not math.isfinite(err):
            if fresh:  # broke down right after an exact step: give up here
                status = NAN_ENCOUNTERED
                u, v = u_prev, v_prev
                break
            # resynchronise: exact log-domain step from the last good iterate
            alpha, beta, K, u, v = exact_step(alpha + reg * xp.log(u_prev),
                                              beta + reg * xp.log(v_prev))
            fresh = True
            continue
        fresh = False
        stop = eng._loop_status(err, tol, it, maxiter)
        if stop is not None:
            status = stop
            break
        if monitor is not None and monitor(it, err):
            st.extra["handover"] = True
            break
        v = b / w
        big = xp.maximum(xp.max(xp.abs(xp.log(u))), xp.max(xp.abs(xp.log(v))))
        if float(big) > logtau:  # absorb the scalings into the potentials
            alpha, beta = alpha + reg * xp.log(u), beta + reg * xp.log(v)
            K = xp.exp((alpha[:, None] + beta[None, :] - M) / reg)
            u, v = xp.ones_like(a), xp.ones_like(b)
            n_absorb += 1
    with np.errstate(divide="ignore"):
        st.f, st.g = alpha + reg * xp.log(u), beta + reg * xp.log(v)
    st.nit, st.err, st.status = it, err, status
    st.K = K
    st.extra["uv"] = (u, v)
    st.extra["alpha_beta"] = (alpha, beta)
    st.extra["n_absorb"] = n_absorb
    return st


def _epsilon_scaling(stage, reg, maxiter, epsilon0, xp):
    """The stage loop of epsilon scaling; ``stage(reg_k, f, g, t0)`` runs one stage."""
    maxiter = max(35, maxiter)
    f = g = None
    t0 = time.perf_counter()
    st = None
    errs, times = [], []
    total = stages = 0
    epsilon0 = max(float(epsilon0), reg)
    for k in range(maxiter):
        regk = (epsilon0 - reg) * math.exp(-k) + reg
        final = regk <= reg * (1.0 + 1e-12)
        st = stage(reg if final else regk, f, g, t0)
        total += st.nit
        stages += 1
        errs += st.errs
        times += st.times
        if st.status == NAN_ENCOUNTERED:
            break
        # the potentials are defined up to (f + c, g - c): keep them balanced, so
        # exp(f / reg) stays representable when reg shrinks by orders of magnitude
        c = 0.5 * (xp.mean(st.f) - xp.mean(st.g))
        f, g = st.f - c, st.g + c
        if final and st.status == SUCCESS:
            break
    if not final and st.status == SUCCESS:
        st.status = MAXITER  # the schedule did not reach reg
    st.nit, st.errs, st.times = total, errs, times
    st.engine = "sinkhorn_epsilon_scaling"
    st.extra["n_stages"] = stages
    return st


def epsilon_scaling_numba(a, b, M, reg, maxiter, tol, f0=None, g0=None, epsilon0=1e4,
                          inner_maxiter=100, tau=TAU, record=False):
    """Stabilized Sinkhorn over POT's schedule ``reg_k = (epsilon0 - reg) e^{-k} + reg``.

    ``maxiter`` bounds the stages (at least 35 as in POT, so the schedule
    reaches ``reg``), ``inner_maxiter`` the iterations per stage. The stages
    run at ``reg`` itself once the schedule is within 1e-12 of it; the run
    stops when such a stage converges to ``tol``. The first stage starts
    from ``(f0, g0)``.
    """
    def stage(regk, f, g, t0):
        if f is None:
            f, g = f0, g0
        return stabilized_numba(a, b, M, regk, inner_maxiter, tol, f, g, tau, record=record,
                                t_start=t0)
    return _epsilon_scaling(stage, reg, maxiter, epsilon0, np)


def epsilon_scaling_xp(xp, a, b, M, reg, maxiter, tol, f0=None, g0=None, epsilon0=1e4,
                       inner_maxiter=100, tau=TAU):
    """:func:`epsilon_scaling_numba` with :func:`stabilized_xp` stages (any namespace)."""
    def stage(regk, f, g, t0):
        if f is None:
            f, g = f0, g0
        return stabilized_xp(xp, a, b, M, regk, inner_maxiter, tol, f, g, tau)
    return _epsilon_scaling(stage, reg, maxiter, epsilon0, xp)


@njit
def _worst(sums, target):
    """Index and size of the largest ``|sums_k - target_k|``."""
    k, worst = 0, -1.0
    for i in range(sums.shape[0]):
        d = abs(sums[i] - target[i])
        if d > worst:
            k, worst = i, d
    return k, worst


@njit
def _rescale(Kk, x, y, target, sums, other, k):
    """Rescale ``x[k]`` so that line ``k`` of the plan sums to ``target[k]``.

    ``Kk`` is line ``k`` of the kernel (a row of ``K`` for a row step, of
    ``K.T`` for a column step) and ``y`` the other scaling; the other
    marginal ``other`` is updated in O(len(y)).
    """
    s = 0.0
    for j in range(Kk.shape[0]):
        s += Kk[j] * y[j]
    xn = target[k] / s
    dx = xn - x[k]
    for j in range(Kk.shape[0]):
        other[j] += dx * Kk[j] * y[j]
    x[k] = xn
    sums[k] = target[k]


@njit
def greenkhorn_loop(K, KT, a, b, u, v, r, c, maxiter, tol):
    """Greenkhorn steps in place on ``u``, ``v`` (row sums ``r``, column sums ``c``).

    Each step finds the row and the column with the largest violation
    ``|r_i - a_i|``, ``|c_j - b_j|``, rescales the worse of the two to its
    target and updates the other marginal in O(n + m) (``KT`` is ``K.T``,
    C-contiguous, for the column steps). Returns ``(steps, violation)``;
    ``steps == maxiter`` and violation > tol when not converged.
    """
    viol = np.inf
    for it in range(maxiter):
        i1, vr = _worst(r, a)
        j1, vc = _worst(c, b)
        viol = max(vr, vc)
        if not viol > tol:  # converged (or NaN: the caller checks)
            return it, viol
        if vr > vc:
            _rescale(K[i1], u, v, a, r, c, i1)
        else:
            _rescale(KT[j1], v, u, b, c, r, j1)
    return maxiter, viol


def greenkhorn_numba(a, b, M, reg, maxiter, tol, f0=None, g0=None, record=False):
    """Greenkhorn on the row-shifted kernel ``exp(-(M_ij - min_j M_ij) / reg)``.

    Stops when the largest violation of either marginal (max norm, POT's
    criterion) is at most ``tol``. ``status`` is ``NAN_ENCOUNTERED`` when
    the kernel has an all-zero column (``reg`` too small for a scaling
    method); the caller then falls back to the log domain.
    """
    n, m = M.shape
    rmin = M.min(axis=1)
    K = np.exp(-(M - rmin[:, None]) / reg)
    st = eng._State(f=None, g=None, engine="greenkhorn")
    if f0 is not None:
        with np.errstate(over="ignore", under="ignore"):
            u = np.exp((f0 - rmin) / reg)
            v = np.exp(g0 / reg)
    else:
        u, v = np.full(n, 1.0 / n), np.full(m, 1.0 / m)
    if not (np.all(K.max(axis=0) > 0) and np.all(np.isfinite(u)) and np.all(u > 0)
            and np.all(np.isfinite(v)) and np.all(v > 0)):
        st.status = NAN_ENCOUNTERED
        return st
    KT = np.ascontiguousarray(K.T)
    r = u * (K @ v)
    c = v * (KT @ u)
    t0 = time.perf_counter()
    steps, viol = greenkhorn_loop(K, KT, a, b, u, v, r, c, maxiter, tol)
    if record:
        st.errs.append(float(viol))
        st.times.append(time.perf_counter() - t0)
    ok = bool(np.all(np.isfinite(u)) and np.all(u > 0) and np.all(np.isfinite(v))
              and np.all(v > 0))
    st.status = (NAN_ENCOUNTERED if not (ok and math.isfinite(viol))
                 else SUCCESS if viol <= tol else MAXITER)
    with np.errstate(divide="ignore"):
        st.f = reg * np.log(u) + rmin
        st.g = reg * np.log(v)
    st.nit, st.err = int(steps), float(viol)
    st.K = K
    st.extra["uv"] = (u, v)
    return st
