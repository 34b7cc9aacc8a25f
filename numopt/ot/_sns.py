"""Sinkhorn-Newton-Sparse (Tang et al., ICLR 2024) with adaptive sparsity.

Warm-up (:func:`sns_numba`): ``n_warmup`` scaling Sinkhorn iterations on the
kernel with the potentials absorbed (:func:`._stabilized.gibbs_kernel`, one exp pass;
the stabilized scaling engine where that kernel underflows a column); then, with
``overrelax=True`` (default), over-relaxed iterations (:mod:`._relaxed`, ``omega``
from the plain iterations' rate) while the rate monitor predicts them cheaper
than a Newton phase; they may converge on their own (no Newton step), and a
window that diverges is undone and ends the warm-up. On large problems whose
absorbed kernel is mostly negligible the warm-up runs on a truncated sparse
kernel (:mod:`._truncated`). When
the Newton phase's first row update finds the columns far off
(``sqrt(m) ||P^T 1 - b||_2 > EPS_IF``; also from a caller's ``f0, g0`` with
``n_warmup=0``; not when its iterations exceed ``maxiter``), epsilon scaling
comes first: ``EPS_ITS`` iterations at each ``reg * 4**k`` up to
a tenth of the cost range (:func:`eps_levels`), then ``EPS_FINAL`` at
``reg``. From a far start Newton's quadratic model of the exponential dual is
poor and the steps are damped for tens of iterations; from the larger reg's
potentials a few full steps converge.

Each Newton iteration then

1. does an exact row update of the log-domain Sinkhorn that also stores the
   plan ``P`` (:func:`._kernels.plan_sweep`, one exp per entry), so the row
   marginals are exact and the column-marginal error is POT's;
2. solves the Newton system of the dual in the column potential after
   eliminating the row block (Schur complement
   ``S = diag(c) - P~^T diag(1/a) P~``, a weighted graph Laplacian, with
   the last potential fixed to remove the null direction) by Jacobi-
   preconditioned CG to a relative tolerance ``sqrt(sqrt(m) err)``
   (inexact Newton), with ``P~``

   * the dense plan itself (exact Hessian, one fused pass per product:
     :func:`._kernels.schur_matvec`) unless a sparse copy pays for its
     build (:func:`_dense_pays`: the expected CG products, the kept fraction);
   * else every row's largest entries holding ``1 - drop`` of its mass and at
     least ``KMIN`` of them (:func:`._kernels.sparsify_rows`; ``drop``
     starts at ``DROP0``, x0.1 after a full step that divides the error by
     less than 10, x2 back after one that divides it by 100);
   * with a fixed ``density``: the entries within one factor of their row
     maximum, the factor set from a sampled histogram so that a fraction
     ``density`` is kept; with ``solver='cholesky'`` the sparse matrix is
     factored (CHOLMOD when scikit-sparse imports, SuperLU otherwise);
3. line-searches the dual ``D(f, g) = <f,a> + <g,b> - reg sum P`` along
   ``(dx, dy)`` with ``dx = -P~ dy / a``, from the step that moves no
   potential by more than ``STEP_MAX * reg``: a trial costs one mat-vec with
   the stored ``P`` (``D(z + t d) - D(z)`` is evaluated with ``expm1`` so it
   stays accurate when the step is tiny). A failed search is followed by
   ``FALLBACK_ITS`` Sinkhorn iterations.

:func:`sns_xp` (any Array API namespace) has the same warm-up rule with the
namespace's engines, the same forcing term and line search, and the fixed or
global-threshold density rule.
"""
import math
import time
import warnings

import numpy as np
import scipy.sparse as sp
import scipy.sparse.linalg as spla

from numopt import _sparse
from numopt._array_api import device as _device
from numopt._array_api import is_cupy, is_torch
from numopt._krylov import conjugate_gradient
from numopt._result import MAXITER, NAN_ENCOUNTERED, SUCCESS

from . import _engines as eng
from . import _kernels as kern
from ._monitor import WINDOW, RateMonitor, iteration_seconds
from ._relaxed import relaxed_numba


SOLVERS = ("auto", "cholesky", "cg")
#: initial kept entries per row when the density adapts
DENSITY0 = 16.0
#: a full Newton step contracting the error below GOOD x shrinks the density by
#: 0.9; one contracting by less than POOR x doubles it
GOOD = 0.01
POOR = 0.1
ARMIJO = 1e-4
#: adaptive sparsity (``density=None``): each row drops at most this fraction of its
#: mass at first; a poor full Newton step multiplies it by DROP_TIGHTEN, a failed line
#: search by DROP_FAIL, a good full step by 2 (up to DROP0)
DROP0 = 1e-6
DROP_TIGHTEN = 0.1
DROP_FAIL = 0.01
DROP_MIN = 1e-14
#: every row of the sparsified plan keeps at least this many entries
KMIN = 4
#: the adaptive CG path works on the dense plan unless a sparse copy pays
#: (:func:`_dense_pays`; costs in units of one dense Schur product, measured on one core
#: at n = 1000 and 2000; the CG iterations expected: the last step's, at least CG_GUESS)
SPARSE_BUILD = 4.0
SPARSE_BUILD_NNZ = 30.0
SPARSE_COST = 5.0
DENSE_LOGREL = 12.0
CG_GUESS = 10
#: the Jacobi preconditioner's diagonal c_j - sum_i P_ij^2 / a_i cancels when one row
#: holds a column's whole mass: it is kept above DIAG_FLOOR * c_j
DIAG_FLOOR = 1e-10
#: a failed line search is followed by FALLBACK_ITS scaling Sinkhorn iterations
FALLBACK_ITS = 20
#: epsilon-scaling warm-up: EPS_ITS iterations at reg * EPS_FACTOR**k, k = EPS_LEVELS..1
#: (only the levels up to EPS_TOP times the cost range)
EPS_FACTOR = 4.0
EPS_LEVELS = 5
EPS_TOP = 0.1
#: ... run only when the Newton phase starts at sqrt(m) ||P^T 1 - b||_2 above EPS_IF (the
#: levels cost ~80 scaling iterations; measured at n = 500..2000, one core, they pay on
#: the benchmark families above 0.25 and cost more than they save below)
EPS_IF = 0.25
EPS_FINAL = 20
EPS_ITS = 20
#: the line search starts at the step whose largest potential change is STEP_MAX * reg
STEP_MAX = 30.0
#: what the warm-up reports (``log['omega']``, ``log['relaxed_at']``,
#: ``log['truncated']``)
RELAX_KEYS = ("omega", "relaxed_at", "restarts", "truncated")
#: the over-relaxed warm-up's iterations after the plain ones, at most (the rate
#: monitor ends it earlier when a Newton phase is predicted cheaper)
RELAX_MAXITER = 10_000


def _phi(t, xp=np):
    """``expm1(t) - t``, accurate for small ``|t|``."""
    small = xp.abs(t) < 1e-3
    series = t * t * (0.5 + t * (1.0 / 6.0 + t / 24.0))
    return xp.where(small, series, xp.expm1(t) - t)


def _delta_dual(alpha, dx, dy, a, c, b, Pmv, reg, xp=np):
    """``D(f + alpha dx, g + alpha dy) - D(f, g)`` after an exact row update.

    ``Pmv(v) = P @ v``. With row sums ``r = a``:
    ``dD = alpha dy.(b - c) - reg [sum a phi(tx) + sum c phi(ty) + Ex^T P Ey]``
    where ``t = alpha d / reg``, ``E = expm1(t)``, ``phi(t) = expm1(t) - t``.
    """
    tx, ty = alpha * dx / reg, alpha * dy / reg
    if float(xp.maximum(xp.max(xp.abs(tx)), xp.max(xp.abs(ty)))) > 600:
        return -np.inf
    with np.errstate(over="ignore", invalid="ignore"):   # an overflow means: reject alpha
        ex, ey = xp.expm1(tx), xp.expm1(ty)
        quad = float(ex @ Pmv(ey))
        val = alpha * float(dy @ (b - c)) - reg * (float(a @ _phi(tx, xp))
                                                   + float(c @ _phi(ty, xp)) + quad)
    return val if math.isfinite(val) else -np.inf


def _line_search(dx, dy, a, c, b, Pmv, reg, xp=np, max_halvings=30):
    slope = float(dy @ (b - c))
    if not slope > 0:
        return 0.0
    big = float(xp.maximum(xp.max(xp.abs(dx)), xp.max(xp.abs(dy))))
    alpha = min(1.0, STEP_MAX * reg / big) if big > 0 else 1.0
    for _ in range(max_halvings):
        d = _delta_dual(alpha, dx, dy, a, c, b, Pmv, reg, xp)
        if d >= ARMIJO * alpha * slope:
            return alpha
        alpha *= 0.5
    return 0.0


def _pcg(matvec, rhs, diag, rtol, maxiter, xp=np):
    """Jacobi-preconditioned CG; returns ``(x, iterations)``.

    A nearly singular Schur complement (tiny column masses) can make the
    recurrences overflow: the shared CG then stops at the last finite iterate.
    """
    res = conjugate_gradient(matvec, rhs, rtol=rtol, maxiter=maxiter,
                             psolve=lambda r: r / diag, xp=xp)
    return res.x, res.nit


def _adapt_density(dens, alpha, err, err_prev, size):
    """The kept density after a Newton step of length ``alpha`` took the error from
    ``err_prev`` to ``err``: x0.9 after a good full step, x2 after a poor one."""
    if alpha == 1.0 and err <= GOOD * err_prev:
        return max(dens * 0.9, 1.0 / size)
    if alpha == 1.0 and err > POOR * err_prev:
        return min(dens * 2.0, 1.0)
    return dens


def _stop_or_adapt(eng, err, tol, adaptive, nit, dens, alpha, err_prev, size):
    """Stopping status of the Newton loop (None: go on) and the next density.

    The density adapts (:func:`_adapt_density`) only when the loop goes on,
    from the second step, and when the caller gave no fixed ``density``.
    """
    stop = eng.stop_status(err, tol)
    if stop is None and adaptive and nit > 1:
        dens = _adapt_density(dens, alpha, err, err_prev, size)
    return stop, dens


def _adapt_drop(drop, alpha, err, err_prev):
    """The dropped row-mass fraction after a Newton step of length ``alpha`` took the
    error from ``err_prev`` to ``err``: x ``DROP_TIGHTEN`` after a poor full step (the
    sparsified Hessian is too coarse), x 2 after a good one (up to ``DROP0``)."""
    if alpha == 1.0 and err > POOR * err_prev:
        return max(drop * DROP_TIGHTEN, DROP_MIN)
    if alpha == 1.0 and err <= GOOD * err_prev:
        return min(drop * 2.0, DROP0)
    return drop


def _forcing(err, m):
    """Relative CG tolerance of a Newton step at marginal error ``err`` (inexact Newton):
    ``sqrt(err sqrt(m))`` (``err sqrt(m)`` bounds the l1 marginal error, a scale-free
    size), between 1e-12 and 0.1: loose while far off, superlinear convergence near."""
    return min(0.1, max(1e-12, math.sqrt(err * math.sqrt(m))))


class _SparseBuffers:
    """Work arrays of the two sparsification kernels."""

    def __init__(self, n, work):
        self.counts = np.empty(n, dtype=np.int64)
        self.indptr = np.empty(n + 1, dtype=np.int64)
        self.lim = np.empty(n)
        self.fb, self.fbi = work.vbuf[2], work.vbuf[3]
        self.empty_i = np.empty(0, dtype=np.int64)
        self.empty_d = np.empty(0)


def _csr(P, fill, sb):
    nnz = int(sb.indptr[-1])
    indices = np.empty(nnz, dtype=np.int64)
    data = np.empty(nnz)
    fill(indices, data)
    return sp.csr_matrix((data, indices, sb.indptr.copy()), shape=P.shape)


def _sparse_rows(P, rowmax, drop, kmin, sb):
    """``P~``: every row keeps its largest entries, a fraction ``1 - drop`` of its mass and
    at least ``kmin`` entries (:func:`._kernels.sparsify_rows`)."""
    def call(indices, data):
        kern.sparsify_rows(P, rowmax, drop, kmin, sb.lim, sb.counts, sb.indptr, sb.fb, sb.fbi,
                           indices, data)
    call(sb.empty_i, sb.empty_d)
    return _csr(P, call, sb)


def _sparse_global(P, rowmax, hist, dens, sb):
    """``P~``: the entries within one factor of their row maximum, the factor chosen from
    the sampled histogram so that a fraction ``dens`` of all entries is kept."""
    thr = _threshold_from_hist(hist, dens * P.size)

    def call(indices, data):
        kern.sparsify(P, rowmax, thr, sb.counts, sb.indptr, indices, data)
    call(sb.empty_i, sb.empty_d)
    return _csr(P, call, sb)


def _threshold_from_hist(hist, target):
    """Relative threshold keeping at least ``target`` entries (row-max relative)."""
    cum = np.cumsum(hist)
    kb = int(np.searchsorted(cum, target))
    kb = min(kb, hist.shape[0] - 2)  # entries below exp(-40) x row max: never kept
    return math.exp(-(kb + 1) / kern.BIN_SCALE)


def _dense_pays(hist, size, cg_iter):
    """Whether ``cg_iter`` CG products with the dense plan cost less than building a sparse
    copy and as many sparse products. In units of one dense Schur product, with ``frac``
    the kept fraction: the build costs ``SPARSE_BUILD + SPARSE_BUILD_NNZ * frac``, a sparse
    product ``SPARSE_COST * frac``; ``frac`` is estimated as the (sampled) fraction of
    entries within ``exp(-DENSE_LOGREL)`` of their row maximum."""
    frac = hist[:int(DENSE_LOGREL * kern.BIN_SCALE)].sum() / size
    return cg_iter * (1.0 - SPARSE_COST * frac) <= SPARSE_BUILD + SPARSE_BUILD_NNZ * frac


def _dense_direction(P, ia, c, rhs, rtol, maxiter_cg, part):
    """Newton direction with the exact Hessian: Jacobi-preconditioned CG on the Schur
    complement ``diag(c) - P^T diag(ia) P`` (last potential fixed), one fused pass over
    the dense plan per product (:func:`._kernels.schur_matvec`)."""
    m = c.shape[0]
    if m == 1:
        return np.zeros(1), np.zeros(P.shape[0]), {"cg_iter": 0}
    full = np.zeros(m)
    out = np.empty(m)
    diag = np.empty(m)
    kern.schur_diag(P, ia, c, part, diag)

    def mv(v):
        full[:-1] = v
        kern.schur_matvec(P, ia, c, full, part, out)
        return out[:-1].copy()

    x, k = _pcg(mv, rhs[:-1], np.maximum(diag, DIAG_FLOOR * c)[:-1], rtol, maxiter_cg)
    dy = np.append(x, 0.0)
    dx = np.empty(P.shape[0])
    kern.matvec(P, dy, dx)
    return dy, -dx * ia, {"cg_iter": k}


def _newton_direction(Pt, a, c, rhs, solver, rtol, maxiter_cg):
    """Solve ``S dy = rhs`` (last entry fixed to 0); return dy, dx, info."""
    m = c.shape[0]
    ia = 1.0 / a
    info = {}
    if m == 1:
        dy = np.zeros(1)
        return dy, -(Pt @ dy) * ia, info
    if solver == "cg":
        PtT = Pt.T.tocsr()

        def mv(v):
            full = np.append(v, 0.0)
            return (c * full - PtT @ ((Pt @ full) * ia))[:-1]

        colsq = np.asarray(Pt.multiply(Pt).T @ ia).ravel()
        diag = np.maximum(c - colsq, DIAG_FLOOR * c)[:-1]
        x, k = _pcg(mv, rhs[:-1], diag, rtol, maxiter_cg)
        info["cg_iter"] = k
        dy = np.append(x, 0.0)
    else:
        B = sp.diags(np.sqrt(ia)) @ Pt
        S = (sp.diags(c) - (B.T @ B)).tocsc()[:-1, :-1]
        S.sort_indices()
        dy = None
        if _sparse.cholmod_available:
            try:
                dy = np.append(_sparse.cholesky(S)(rhs[:-1]), 0.0)
                info["factor"] = "cholmod"
            except _sparse.CholmodError:
                dy = None
        if dy is None:
            dy = np.append(spla.spsolve(S, rhs[:-1]), 0.0)
            info["factor"] = "superlu"
        info["nnz_schur"] = int(S.nnz)
    dx = -(Pt @ dy) * ia
    return dy, dx, info


class _Plan:
    """The dense plan of the Newton phase and the work arrays of its kernels."""

    def __init__(self, a, b, M, reg):
        n, m = M.shape
        self.M, self.reg, self.b = M, reg, b
        self.loga = np.log(a)
        self.ia = 1.0 / a
        self.work = eng._Work(n, m)
        self.vb = self.work.vbuf[:1] + self.work.vbuf[2:]
        self.P = np.empty((n, m))
        self.rowmax = np.empty(n)
        self.hist_part = np.zeros((self.work.nchunk, kern.NBINS), dtype=np.int64)
        self.hstride = max(1, min(m // 8, 16))
        self.sb = _SparseBuffers(n, self.work)
        self._mv = np.empty(n)

    def sweep(self, f, g):
        """Exact row update of ``f`` (in place) and the plan; returns the column sums."""
        w = self.work
        kern.plan_sweep(self.M, self.loga, g, self.reg, f, self.P, self.rowmax, w.part,
                        self.hist_part, self.hstride, *self.vb, w.s)
        return w.s

    def mv(self, v):
        kern.matvec(self.P, v, self._mv)
        return self._mv

    def direction(self, s, rhs, rtol, solver, adaptive, dens, drop, max_cg, cg_prev):
        """Newton direction ``(dy, dx)``, the kept entries and the solver's info."""
        n, m = self.P.shape
        hist = self.hist_part.sum(axis=0)
        if solver == "cg" and adaptive and _dense_pays(hist, n * m, cg_prev):
            dy, dx, info = _dense_direction(self.P, self.ia, s, rhs, rtol, max_cg,
                                            self.work.part)
            return dy, dx, n * m, info
        if adaptive:
            Pt = _sparse_rows(self.P, self.rowmax, drop, min(KMIN, m), self.sb)
        else:
            Pt = _sparse_global(self.P, self.rowmax, hist, dens, self.sb)
        dy, dx, info = _newton_direction(Pt, 1.0 / self.ia, s, rhs, solver, rtol, max_cg)
        return dy, dx, Pt.nnz, info


def _sinkhorn_chunk(a, b, M, reg, its, tol, f, g, record, t_start, errs, times):
    """``its`` scaling Sinkhorn iterations (stabilized where the kernel underflows) from
    ``(f, g)``; their errors and times join the record."""
    t0 = time.perf_counter() - t_start
    sub = eng.auto_numba(a, b, M, reg, its, tol, "sinkhorn", f, g, record)
    errs.extend(sub.errs)
    times.extend(t + t0 for t in sub.times)
    return sub


def eps_levels(M, reg, span=None):
    """The larger regularizations of the warm-up, largest first: ``reg * EPS_FACTOR**k``
    for ``k = EPS_LEVELS, ..., 1``, those up to ``EPS_TOP * span`` (``span`` the cost
    range)."""
    if span is None:
        span = float(np.max(M) - np.min(M)) if M.size else 0.0
    if not span > 0:
        return []
    regs = [reg * EPS_FACTOR**k for k in range(EPS_LEVELS, 0, -1)]
    return [r for r in regs if r <= EPS_TOP * span]


def _scaling_levels(a, b, M, plan, f, g):
    """Scaling Sinkhorn iterations, ``its`` at each ``(r, its)`` of ``plan`` in turn, each
    level on the kernel with the current potentials absorbed (plain iterations of
    :func:`._relaxed.relaxed_numba`: its entries are near the plan's, so the scalings
    stay near 1; one exp per entry per level), from ``(f, g)``.

    Returns ``(f, g, iterations, err, ok)``: ``err`` the column-marginal error of the
    last iterate (row marginals exact), ``ok`` False when a level's scalings stopped
    being finite and positive (an underflowed column): that level is dropped and ends
    the run."""
    done, err = 0, np.inf
    for r, its in plan:
        if its <= 0:
            continue
        st, _ = relaxed_numba(a, b, M, r, its, 0.0, f, g)
        if st is None:
            return f, g, done, err, False
        f, g, done, err = st.f, st.g, done + st.nit, st.err
    return f, g, done, err, True


def _eps_warmup(a, b, M, reg, levels, f, g, tol, record, t_start, errs, times):
    """``EPS_ITS`` scaling iterations at each of ``levels``, then ``EPS_FINAL`` at ``reg``
    (:func:`_scaling_levels`; the scaling engine at ``reg`` where a level underflows).
    Returns ``(f, g, iterations)``."""
    f, g, its, _, ok = _scaling_levels(
        a, b, M, [(r, EPS_ITS) for r in levels] + [(reg, EPS_FINAL)], f, g)
    if not ok:
        st = _sinkhorn_chunk(a, b, M, reg, EPS_FINAL, tol, f, g, record, t_start, errs,
                             times)
        f, g, its = np.array(st.f), np.array(st.g), its + st.nit
    return f, g, its


def _warmup(a, b, M, reg, n_warmup, tol, f0, g0, record, overrelax):
    """The warm-up: ``n_warmup`` scaling iterations on the absorbed kernel, then with
    ``overrelax`` over-relaxed ones (:func:`._relaxed.relaxed_numba`) while the rate
    monitor predicts them cheaper than a Newton phase. None where a column underflows."""
    if not overrelax:
        st, _ = relaxed_numba(a, b, M, reg, n_warmup, tol, f0, g0, record=record)
        return st
    mon = RateMonitor(tol, iteration_seconds(*M.shape), min_probe=n_warmup + WINDOW + 1,
                      relax=False)
    st, _ = relaxed_numba(a, b, M, reg, n_warmup + RELAX_MAXITER, tol, f0, g0,
                          relax_after=n_warmup, monitor=mon, record=record)
    return st


def sns_numba(a, b, M, reg, maxiter, tol, *, n_warmup=20, density=None, solver="auto",
              f0=None, g0=None, record=False, max_cg=None, overrelax=True):
    """SNS on NumPy arrays with Numba kernels. ``maxiter`` bounds Newton steps."""
    n, m = M.shape
    t_start = time.perf_counter()
    timings = {}
    # stage 1: Sinkhorn warm-up (the scaling engine where the absorbed kernel underflows)
    errs, times = [], []
    relax_info = {}
    ok = True
    if n_warmup > 0:
        st = _warmup(a, b, M, reg, n_warmup, tol, f0, g0, record, overrelax)
        ok = st is not None
        if ok:
            if overrelax:
                relax_info = {k: st.extra[k] for k in RELAX_KEYS}
            errs.extend(st.errs)
            times.extend(st.times)
            f, g, nit_sink = st.f, st.g, st.nit
            if st.status != MAXITER:   # converged (or NaN) in the warm-up
                timings["warmup"] = time.perf_counter() - t_start
                timings["newton"] = 0.0
                st.engine = "sns"
                st.extra.update(nit_sinkhorn=st.nit, nit_newton=0, timings=timings)
                return st
    else:   # a caller's start ('auto' hands over its potentials)
        f = M.min(axis=1) if f0 is None else np.array(f0, dtype=np.float64)
        g = np.zeros(m) if g0 is None else np.array(g0, dtype=np.float64)
        nit_sink = 0
    if not ok:
        st = _sinkhorn_chunk(a, b, M, reg, n_warmup, tol, f0, g0, record, t_start, errs,
                             times)
        f, g, nit_sink = st.f, st.g, st.nit
    timings["warmup"] = time.perf_counter() - t_start
    if not (np.all(np.isfinite(f)) and np.all(np.isfinite(g))):
        st = eng._State(f=f, g=g, nit=nit_sink, err=np.nan, status=NAN_ENCOUNTERED,
                        engine="sns", errs=errs, times=times)
        st.extra.update(nit_sinkhorn=nit_sink, nit_newton=0, timings=timings)
        return st
    # stage 2: sparse Newton
    t_newton = time.perf_counter()
    pl = _Plan(a, b, M, reg)
    dens = 1.0 if density is None else float(density)
    drop = DROP0
    adaptive = density is None
    solver = "cg" if solver == "auto" else solver
    max_cg = 10 * m if max_cg is None else max_cg
    status, err_prev, alpha = MAXITER, np.inf, 1.0
    nit = 0
    nnz_hist, cg_iters, alphas = [], [], []
    t_solve = t_sweep = 0.0
    f = np.array(f, dtype=np.float64)
    g = np.array(g, dtype=np.float64)
    fresh = False  # pl.P holds the plan of the final (f, g)
    levels = None
    while True:
        t0 = time.perf_counter()
        s = pl.sweep(f, g)
        t_sweep += time.perf_counter() - t0
        fresh = True
        err = float(np.linalg.norm(s - b))
        if record:
            errs.append(err)
            times.append(time.perf_counter() - t_start)
        status = eng.stop_status(err, tol)
        if status is not None or nit == maxiter:
            status = MAXITER if status is None else status
            break
        if levels is None:
            # the start's columns far off: epsilon scaling first (once), when the
            # iteration budget holds its iterations
            levels = eps_levels(M, reg) if err * math.sqrt(m) > EPS_IF else []
            if EPS_ITS * len(levels) + EPS_FINAL > maxiter:
                levels = []
            if levels:
                f, g, its = _eps_warmup(a, b, M, reg, levels, f, g, tol, record, t_start,
                                        errs, times)
                nit_sink += its
                fresh = False
                continue
        nit += 1
        if adaptive and nit > 1:
            drop = _adapt_drop(drop, alpha, err, err_prev)
        err_prev = err
        t0 = time.perf_counter()
        dy, dx, nnz, info = pl.direction(s, reg * (b - s), _forcing(err, m), solver,
                                         adaptive, dens, drop, max_cg,
                                         max(CG_GUESS, cg_iters[-1] if cg_iters else 0))
        nnz_hist.append(nnz)
        cg_iters.append(info.get("cg_iter", 0))
        t_solve += time.perf_counter() - t0
        alpha = _line_search(dx, dy, a, s, b, pl.mv, reg)
        alphas.append(alpha)
        if alpha == 0.0:
            # Newton failed: Sinkhorn iterations and a denser Hessian
            sub = _sinkhorn_chunk(a, b, M, reg, FALLBACK_ITS, tol, f, g, record, t_start,
                                  errs, times)
            f, g, nit_sink = np.array(sub.f), np.array(sub.g), nit_sink + sub.nit
            fresh = False
            dens = min(dens * 4.0, 1.0)
            drop = max(drop * DROP_FAIL, DROP_MIN)
            if sub.status in (SUCCESS, NAN_ENCOUNTERED):
                err, status = sub.err, sub.status
                break
            continue
        g = g + alpha * dy
        fresh = False
    timings["newton"] = time.perf_counter() - t_newton
    timings["newton_sweeps"] = t_sweep
    timings["newton_solves"] = t_solve
    out = eng._State(f=f, g=g, nit=nit_sink + nit, err=err, status=status, engine="sns",
                     errs=errs, times=times)
    out.extra.update(nit_sinkhorn=nit_sink, nit_newton=nit, timings=timings, nnz=nnz_hist,
                     cg_iter=cg_iters, alpha=alphas, P=pl.P if fresh else None)
    out.extra.update(relax_info)
    return out


#: above this many plan entries the sparsification threshold is estimated on a strided
#: sample of the plan's columns (a sort of the whole plan would cost more than the step)
SAMPLE_ABOVE = 2**20


def _relative_threshold(rel, dens, xp):
    """The value of ``rel`` (the plan divided by its row maxima) above which a fraction
    ``dens`` of the entries lies: one global threshold, as the Numba path's histogram.
    """
    n, m = rel.shape
    stride = max(1, (n * m) // SAMPLE_ABOVE)
    sample = xp.reshape(rel[:, ::stride] if stride > 1 else rel, (-1,))
    size = int(sample.shape[0])
    k = int(min(size, max(1, math.ceil(dens * size))))
    return xp.sort(sample)[size - k]


class _SparsePlan:
    """The sparsified plan ``P~`` of the device path (the entries of ``P`` within a
    factor ``thr`` of their row maximum) and its products ``P~ v``, ``P~^T w`` and
    ``(P~ * P~)^T w``.

    PyTorch: a ``torch.sparse_csr_tensor`` (its transpose built once as a CSR
    matrix too); CuPy: ``cupyx.scipy.sparse.csr_matrix`` (untested: no GPU
    here); any other namespace (``array_api_strict``, NumPy with
    ``engine='xp'``): the standard has no sparse arrays, so ``P~`` is the
    dense masked plan and the products are dense.
    """

    def __init__(self, P, keep, xp):
        Pt = xp.where(keep, P, 0.0)
        if is_torch(xp):
            self._torch(Pt)
        elif is_cupy(xp):
            import cupyx.scipy.sparse as csp
            S = csp.csr_matrix(Pt)
            ST = S.T.tocsr()
            ST2 = ST.multiply(ST).tocsr()
            self._set(S, ST, ST2)
        else:
            self._set(Pt, Pt.T, (Pt * Pt).T)

    def _set(self, S, ST, ST2):
        self.mv = lambda v: S @ v
        self.rmv = lambda w: ST @ w
        self.rmv_sq = lambda w: ST2 @ w

    def _torch(self, Pt):
        import torch
        with warnings.catch_warnings():   # "sparse CSR support is in beta state"
            warnings.simplefilter("ignore", UserWarning)
            S = Pt.to_sparse_csr()
            ST = Pt.T.to_sparse_csr()
            ST2 = torch.sparse_csr_tensor(ST.crow_indices(), ST.col_indices(),
                                          ST.values() * ST.values(), size=ST.shape,
                                          check_invariants=False)
        self._set(S, ST, ST2)


def sns_xp(xp, a, b, M, reg, maxiter, tol, *, n_warmup=20, density=None, solver="auto",
           f0=None, g0=None, max_cg=None, overrelax=True):
    """SNS in Array API code (the device path): dense plan, sparse Newton step.

    The loop mirrors :func:`sns_numba`'s (shared steps: ``eng.stop_status``,
    ``_adapt_density``, ``_line_search``, ``_pcg``). Each Newton step keeps
    the entries of the plan within a factor of their row maximum, the factor
    set so that a fraction ``density`` is kept (:class:`_SparsePlan`: a
    sparse CSR matrix on PyTorch and CuPy, a dense masked plan elsewhere) and
    solves the Schur-complement system by Jacobi-preconditioned CG written
    with ``xp`` operations.

    ``solver`` and ``overrelax`` are accepted for a uniform interface; this path
    always uses CG and warms up with plain Sinkhorn iterations.
    """
    n, m = M.shape
    t_start = time.perf_counter()
    timings = {}
    st = eng.auto_xp(xp, a, b, M, reg, n_warmup, tol, "sinkhorn", f0, g0)
    nit_sink = st.nit
    if st.status == MAXITER and st.err * math.sqrt(m) > EPS_IF:
        # epsilon scaling as sns_numba's (_eps_warmup), with the namespace's engines
        levels = eps_levels(M, reg, float(xp.max(M) - xp.min(M)))
        if EPS_ITS * len(levels) + EPS_FINAL > maxiter:
            levels = []
        for r in levels + [reg] if levels else []:
            last = r == reg
            sub = eng.auto_xp(xp, a, b, M, r, EPS_FINAL if last else EPS_ITS,
                              tol if last else 0.0, "sinkhorn", st.f, st.g)
            if sub.status == NAN_ENCOUNTERED:
                break
            nit_sink += sub.nit
            st = sub if last else eng._State(f=sub.f, g=sub.g, nit=0, err=st.err,
                                             status=MAXITER, engine=st.engine)
    timings["warmup"] = time.perf_counter() - t_start
    f, g = st.f, st.g
    if st.status in (SUCCESS, NAN_ENCOUNTERED):
        st.extra.update(nit_sinkhorn=nit_sink, nit_newton=0, timings=timings)
        st.engine = "sns"
        return st
    t_newton = time.perf_counter()
    loga = xp.log(a)
    dens = (DENSITY0 / min(n, m)) if density is None else float(density)
    adaptive = density is None
    max_cg = 10 * m if max_cg is None else max_cg
    status, err_prev, alpha, err, nit = MAXITER, np.inf, 1.0, st.err, 0
    ia = 1.0 / a
    zero = xp.zeros(1, dtype=a.dtype, device=_device(a))
    for nit in range(1, maxiter + 1):
        f = eng.log_row_update(g, M, loga, reg, xp)
        P = xp.exp((f[:, None] + g[None, :] - M) / reg)
        s = xp.sum(P, axis=0)
        err = eng._norm(s - b, xp)
        stop, dens = _stop_or_adapt(eng, err, tol, adaptive, nit, dens, alpha, err_prev, n * m)
        if stop is not None:
            status = stop
            break
        err_prev = err
        rel = P / xp.max(P, axis=1, keepdims=True)
        H = _SparsePlan(P, rel >= _relative_threshold(rel, dens, xp), xp)
        rhs = reg * (b - s)

        def mv(v, H=H, s=s):
            full = xp.concat([v, zero])
            return (s * full - H.rmv(H.mv(full) * ia))[:-1]

        diag = xp.maximum(s - H.rmv_sq(ia), DIAG_FLOOR * s)[:-1]
        rtol = _forcing(err, m)
        x, _ = _pcg(mv, rhs[:-1], diag, rtol, max_cg, xp)
        dy = xp.concat([x, zero])
        dx = -H.mv(dy) * ia
        alpha = _line_search(dx, dy, a, s, b, lambda v, P=P: P @ v, reg, xp)
        if alpha == 0.0:
            sub = eng.log_xp(xp, a, b, M, reg, 10, tol, f, g)
            f, g = sub.f, sub.g
            nit_sink += sub.nit
            dens = min(dens * 4.0, 1.0)
            if sub.status == SUCCESS:
                err, status = sub.err, SUCCESS
                break
            continue
        g = g + alpha * dy
    else:
        f = eng.log_row_update(g, M, loga, reg, xp)
        s = xp.sum(xp.exp((f[:, None] + g[None, :] - M) / reg), axis=0)
        err = eng._norm(s - b, xp)
        status = SUCCESS if err <= tol else MAXITER
    timings["newton"] = time.perf_counter() - t_newton
    out = eng._State(f=f, g=g, nit=nit_sink + nit, err=err, status=status, engine="sns")
    out.extra.update(nit_sinkhorn=nit_sink, nit_newton=nit, timings=timings)
    return out
