"""Sinkhorn-Newton-Sparse (Tang et al., ICLR 2024) with adaptive sparsity.

Each Newton iteration

1. does an exact row update of the log-domain Sinkhorn that also stores the
   plan ``P`` (:func:`._kernels.plan_sweep`, one exp per entry), so the row
   marginals are exact and the column-marginal error is POT's;
2. keeps, in every row, the entries of ``P`` within a factor ``thr`` of the
   row maximum, with ``thr`` chosen from a (sampled) histogram so that the
   kept density is ``density`` (adapted, starting at 16 entries per row:
   x0.9 after a full step that divides the error by 100, x2 after a full
   step that divides it by less than 10); entries below ``exp(-40)`` times
   the row maximum are never kept;
3. solves the Newton system of the dual in the column potential after
   eliminating the row block (Schur complement
   ``S = diag(c) - P~^T diag(1/a) P~``, a weighted graph Laplacian, with
   the last potential fixed to remove the null direction) by sparse
   Cholesky (CHOLMOD when scikit-sparse imports, SuperLU otherwise) or by
   Jacobi-preconditioned CG;
4. line-searches the dual ``D(f, g) = <f,a> + <g,b> - reg sum P`` along
   ``(dx, dy)`` with ``dx = -P~ dy / a``: a trial costs one mat-vec with the
   stored ``P`` (``D(z + t d) - D(z)`` is evaluated with ``expm1`` so it
   stays accurate when the step is tiny).
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
DROP0 = 1e-2
DROP_TIGHTEN = 0.1
DROP_FAIL = 0.01
DROP_MIN = 1e-14
#: every row of the sparsified plan keeps at least this many entries
KMIN = 4
#: the adaptive CG path works on the dense plan when more than DENSE_ABOVE of its entries
#: lie within exp(-DENSE_LOGREL) of their row maximum (a sparse copy would cost more)
DENSE_ABOVE = 0.05
DENSE_LOGREL = 12.0
FORCING = "sqrt"
FORCING_C = 1.0


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
    alpha = 1.0
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


def _forcing(err, err0):
    """Relative CG tolerance of a Newton step at marginal error ``err``."""
    if FORCING == "err":
        return min(0.1, max(1e-12, err))
    return min(0.1, max(1e-12, math.sqrt(err / err0) * FORCING_C))


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


def _dense_pays(hist, size):
    """Whether CG on the dense plan beats building a sparse one: the (sampled) fraction of
    entries within ``exp(-DENSE_LOGREL)`` of their row maximum is above ``DENSE_ABOVE``."""
    kb = int(DENSE_LOGREL * kern.BIN_SCALE)
    return hist[:kb].sum() > DENSE_ABOVE * size


def _dense_direction(P, ia, c, rhs, rtol, maxiter_cg, part):
    """Newton direction with the exact Hessian: Jacobi-preconditioned CG on the Schur
    complement ``diag(c) - P^T diag(ia) P`` (last potential fixed), one fused pass over
    the dense plan per product (:func:`._kernels.schur_matvec`)."""
    m = c.shape[0]
    full = np.zeros(m)
    out = np.empty(m)
    diag = np.empty(m)
    kern.schur_diag(P, ia, c, part, diag)

    def mv(v):
        full[:-1] = v
        kern.schur_matvec(P, ia, c, full, part, out)
        return out[:-1].copy()

    x, k = _pcg(mv, rhs[:-1], np.maximum(diag, 1e-300)[:-1], rtol, maxiter_cg)
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
        diag = np.maximum(c - colsq, 1e-300)[:-1]
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


def sns_numba(a, b, M, reg, maxiter, tol, *, n_warmup=20, density=None, solver="auto",
              f0=None, g0=None, record=False, max_cg=None):
    """SNS on NumPy arrays with Numba kernels. ``maxiter`` bounds Newton steps."""
    n, m = M.shape
    t_start = time.perf_counter()
    timings = {}
    # stage 1: Sinkhorn warm-up
    st = eng.auto_numba(a, b, M, reg, n_warmup, tol, "sinkhorn", f0, g0, record)
    timings["warmup"] = time.perf_counter() - t_start
    errs, times = list(st.errs), list(st.times)
    nit_sink = st.nit
    f, g = st.f, st.g
    if st.status == SUCCESS or st.status == NAN_ENCOUNTERED:
        st.extra.update(nit_sinkhorn=nit_sink, nit_newton=0, timings=timings)
        st.engine = "sns"
        return st
    # stage 2: sparse Newton
    t_newton = time.perf_counter()
    loga, logb = np.log(a), np.log(b)
    work = eng._Work(n, m)
    nchunk, part, s = work.nchunk, work.part, work.s
    vb = work.vbuf[:1] + work.vbuf[2:]
    P = np.empty((n, m))
    rowmax = np.empty(n)
    hist_part = np.zeros((nchunk, kern.NBINS), dtype=np.int64)
    hstride = max(1, min(m // 8, 16))
    sb = _SparseBuffers(n, work)
    dens = 1.0 if density is None else float(density)
    drop = DROP0
    adaptive = density is None
    if solver == "auto":
        solver = "cg"
    max_cg = 10 * m if max_cg is None else max_cg
    status = MAXITER
    err_prev = np.inf
    nit = 0
    nnz_hist, cg_iters, alphas = [], [], []
    alpha = 1.0
    err = st.err
    t_solve = t_sweep = 0.0
    mv_out = np.empty(n)
    ia = 1.0 / a

    def Pmv(v):
        kern.matvec(P, v, mv_out)
        return mv_out

    fresh = False  # P holds the plan of the final (f, g)
    for nit in range(1, maxiter + 1):
        t0 = time.perf_counter()
        kern.plan_sweep(M, loga, g, reg, f, P, rowmax, part, hist_part, hstride, *vb, s)
        t_sweep += time.perf_counter() - t0
        fresh = True
        err = float(np.linalg.norm(s - b))
        if record:
            errs.append(err)
            times.append(time.perf_counter() - t_start)
        stop = eng.stop_status(err, tol)
        if stop is not None:
            status = stop
            break
        if adaptive and nit > 1:
            drop = _adapt_drop(drop, alpha, err, err_prev)
        if nit == 1:
            err0 = err
        err_prev = err
        t0 = time.perf_counter()
        rhs = reg * (b - s)
        rtol = _forcing(err, err0)
        hist = hist_part.sum(axis=0)
        if solver == "cg" and adaptive and _dense_pays(hist, n * m):
            nnz_hist.append(n * m)
            dy, dx, info = _dense_direction(P, ia, s, rhs, rtol, max_cg, part)
        else:
            if adaptive:
                Pt = _sparse_rows(P, rowmax, drop, min(KMIN, m), sb)
            else:
                Pt = _sparse_global(P, rowmax, hist, dens, sb)
            nnz_hist.append(Pt.nnz)
            dy, dx, info = _newton_direction(Pt, a, s, rhs, solver, rtol, max_cg)
        cg_iters.append(info.get("cg_iter", 0))
        t_solve += time.perf_counter() - t0
        alpha = _line_search(dx, dy, a, s, b, Pmv, reg)
        alphas.append(alpha)
        if alpha == 0.0:
            # Newton failed: a few Sinkhorn steps and a denser Hessian
            g = eng._g_update(g, s, logb, reg, M, f, work)
            sub = eng.log_numba(a, b, M, reg, 10, tol, f, g, record, t_start)
            errs.extend(sub.errs)
            times.extend(sub.times)
            f, g = sub.f, sub.g
            nit_sink += sub.nit
            fresh = False
            dens = min(dens * 4.0, 1.0)
            drop = max(drop * DROP_FAIL, DROP_MIN)
            if sub.status == SUCCESS:
                err = sub.err
                status = SUCCESS
                break
            continue
        g = g + alpha * dy
        fresh = False
    else:
        # maxiter Newton steps done: report the error of the final point
        kern.plan_sweep(M, loga, g, reg, f, P, rowmax, part, hist_part, hstride, *vb, s)
        fresh = True
        err = float(np.linalg.norm(s - b))
        status = SUCCESS if err <= tol else MAXITER
    timings["newton"] = time.perf_counter() - t_newton
    timings["newton_sweeps"] = t_sweep
    timings["newton_solves"] = t_solve
    out = eng._State(f=f, g=g, nit=nit_sink + nit, err=err, status=status, engine="sns",
                     errs=errs, times=times)
    out.extra.update(nit_sinkhorn=nit_sink, nit_newton=nit, timings=timings, nnz=nnz_hist,
                     cg_iter=cg_iters, alpha=alphas,
                     P=P if fresh else None)
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
           f0=None, g0=None, max_cg=None):
    """SNS in Array API code (the device path): dense plan, sparse Newton step.

    The loop mirrors :func:`sns_numba`'s (shared steps: ``eng.stop_status``,
    ``_adapt_density``, ``_line_search``, ``_pcg``). Each Newton step keeps
    the entries of the plan within a factor of their row maximum, the factor
    set so that a fraction ``density`` is kept (:class:`_SparsePlan`: a
    sparse CSR matrix on PyTorch and CuPy, a dense masked plan elsewhere) and
    solves the Schur-complement system by Jacobi-preconditioned CG written
    with ``xp`` operations.

    ``solver`` is accepted for a uniform interface; this path always uses CG.
    """
    n, m = M.shape
    t_start = time.perf_counter()
    timings = {}
    st = eng.auto_xp(xp, a, b, M, reg, n_warmup, tol, "sinkhorn", f0, g0)
    timings["warmup"] = time.perf_counter() - t_start
    nit_sink = st.nit
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
        stop = eng.stop_status(err, tol)
        if stop is not None:
            status = stop
            break
        if adaptive and nit > 1:
            drop = _adapt_drop(drop, alpha, err, err_prev)
        if nit == 1:
            err0 = err
        err_prev = err
        rel = P / xp.max(P, axis=1, keepdims=True)
        H = _SparsePlan(P, rel >= _relative_threshold(rel, dens, xp), xp)
        rhs = reg * (b - s)

        def mv(v, H=H, s=s):
            full = xp.concat([v, zero])
            return (s * full - H.rmv(H.mv(full) * ia))[:-1]

        diag = xp.maximum(s - H.rmv_sq(ia), 1e-300)[:-1]
        rtol = min(0.1, max(1e-12, err))
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
