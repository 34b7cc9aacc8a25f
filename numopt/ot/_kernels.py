"""Numba kernels of :mod:`numopt.ot`.

All kernels take C-contiguous float64 arrays (the callers cast once), so
each compiles a single signature. Row-parallel kernels split the rows into
``nchunk`` contiguous blocks (one per thread); column sums are accumulated
in a private row of ``part`` per block and reduced at the end, so no n x n
temporary is ever created.

The chunk loop (block bounds, zeroing the block's row of ``part``, the final
reduction over blocks) is written out in every kernel on purpose: each kernel
fuses it with its own row pass so that ``K`` (or ``M``) is read once per call;
a shared helper would need a second pass or an n x m temporary. ``duplicates``
lists these repeated lines; they stay.

Slow pure-Python references live in ``tests/ot/_naive.py``.
"""
import math

import numpy as np

from numopt._jit import njit, prange

__all__ = ["vexp", "work_buffers", "scaling_sweep", "scaling_sweep_relaxed", "relaxed_error",
           "scale_plan", "relaxed_column", "log_sweep", "col_lse", "plan_sweep", "sparsify",
           "sparsify_rows", "schur_matvec", "schur_diag", "n_chunks"]

LOG2E = 1.4426950408889634
LN2_HI = 6.93147180369123816490e-01
LN2_LO = 1.90821492927058770002e-10
#: 1.5 * 2**52: adding it rounds to an integer kept in the low mantissa bits
MAGIC = 6755399441055744.0
MAGIC_BITS_M1023 = 4843621399236968448 - 1023
#: below this the exponential is returned as 0 (exp(-708) ~ 3e-308)
EXP_MIN = -708.0
EXP_MAX = 709.0


@njit(fastmath={"contract"})
def vexp(x, out, fb, fbi, sc, scf):
    """``out[j] = exp(x[j])`` for ``x <= 709``, in loops that vectorise.

    Cody-Waite reduction ``x = k ln2 + r`` (``|r| <= ln2/2``), degree-12
    Taylor polynomial (truncation ~2e-16 relative) and ``2**k`` built from
    its IEEE bits. ``fb``/``fbi`` and ``sc``/``scf`` are float64/int64 views
    of two work buffers. Arguments below ``EXP_MIN`` give 0, above
    ``EXP_MAX`` give ``exp(EXP_MAX)``. Compiled without ``reassoc`` (it would
    cancel the rounding trick). ``out`` must not overlap ``x`` (aliasing
    would stop the loops from vectorising). Accuracy: a few ulp (tested
    against ``numpy.exp``).
    """
    n = x.shape[0]
    for j in range(n):
        xj = x[j]
        t = min(max(xj, EXP_MIN), EXP_MAX)
        y = t * LOG2E + MAGIC
        fb[j] = y
        kf = y - MAGIC
        r = t - kf * LN2_HI - kf * LN2_LO
        p = 1.0 / 479001600.0
        p = p * r + 1.0 / 39916800.0
        p = p * r + 1.0 / 3628800.0
        p = p * r + 1.0 / 362880.0
        p = p * r + 1.0 / 40320.0
        p = p * r + 1.0 / 5040.0
        p = p * r + 1.0 / 720.0
        p = p * r + 1.0 / 120.0
        p = p * r + 1.0 / 24.0
        p = p * r + 1.0 / 6.0
        p = p * r + 0.5
        p = p * r + 1.0
        p = p * r + 1.0
        out[j] = p if xj >= EXP_MIN else 0.0
    for j in range(n):
        sc[j] = (fbi[j] - MAGIC_BITS_M1023) << 52
    for j in range(n):
        out[j] *= scf[j]


def work_buffers(nchunk, m):
    """Per-thread buffers: ``(t, e, fb, fbi, sc, scf)`` (exp input, output, vexp work)."""
    t = np.empty((nchunk, m))
    e = np.empty((nchunk, m))
    fb = np.empty((nchunk, m))
    sc = np.empty((nchunk, m), dtype=np.int64)
    return t, e, fb, fb.view(np.int64), sc, sc.view(np.float64)


#: histogram bins of log(P_ij) used to choose the sparsity threshold
NBINS = 81
#: bins per unit of natural log
BIN_SCALE = 2.0


def n_chunks(n_rows):
    """Number of row blocks for the parallel kernels (one per thread)."""
    import numba
    return max(1, min(int(n_rows), numba.get_num_threads()))


@njit(fastmath=True)
def scaling_sweep(K, a, v, u, part, w, s):
    """One fused Sinkhorn iteration in a single pass over ``K``.

    ``u = a / (K v)`` and ``w = K^T u`` (the column sums needed by the next
    ``v``-update and by the marginal error ``v * w - b``); ``s`` (length ``n``)
    receives ``K v``. ``part`` is a ``(nchunk, m)`` work array.
    :func:`scaling_sweep_relaxed` with ``omega = 1``.
    """
    scaling_sweep_relaxed(K, a, v, 1.0, u, s, part, w)


# The fused sweeps go over the rows in blocks of 8: the block's ``K v`` entries are
# summed in one pass over its rows, and its ``K^T u`` contribution is added to the
# column sums in one more (from cache), so the column sums are loaded and stored once
# per block instead of once per row (1.5-2x faster than row by row at n = 500-3000,
# one core). The block's two passes are written out (:func:`_dot8`, :func:`_axpy8`) so
# that Numba keeps the eight sums in registers; SNS's Schur product uses them too.


@njit(fastmath=True, error_model="numpy")
def _relaxed_row(ui, ai, t, omega):
    if omega == 1.0:
        return ai / t
    return ui ** (1.0 - omega) * (ai / t) ** omega


@njit(fastmath=True)
def _dot8(K, i, v):
    """The dot products of rows ``i, ..., i + 7`` of ``K`` with ``v``, in one pass (the
    eight sums stay in registers)."""
    t0 = t1 = t2 = t3 = t4 = t5 = t6 = t7 = 0.0
    for j in range(K.shape[1]):
        vj = v[j]
        t0 += K[i, j] * vj
        t1 += K[i + 1, j] * vj
        t2 += K[i + 2, j] * vj
        t3 += K[i + 3, j] * vj
        t4 += K[i + 4, j] * vj
        t5 += K[i + 5, j] * vj
        t6 += K[i + 6, j] * vj
        t7 += K[i + 7, j] * vj
    return t0, t1, t2, t3, t4, t5, t6, t7


@njit(fastmath=True)
def _axpy8(w, K, i, c0, c1, c2, c3, c4, c5, c6, c7):
    """``w += c0 K[i] + ... + c7 K[i + 7]``, one load and store of ``w`` for the 8 rows."""
    for j in range(K.shape[1]):
        w[j] += (c0 * K[i, j] + c1 * K[i + 1, j] + c2 * K[i + 2, j] + c3 * K[i + 3, j]
                 + c4 * K[i + 4, j] + c5 * K[i + 5, j] + c6 * K[i + 6, j]
                 + c7 * K[i + 7, j])


@njit(parallel=True, fastmath=True, error_model="numpy")
def scaling_sweep_relaxed(K, a, v, omega, u, s, part, w):
    """One fused over-relaxed Sinkhorn row update in a single pass over ``K``.

    ``s = K v``, ``u <- u**(1 - omega) * (a / s)**omega`` (``u`` in place;
    ``omega = 1``: ``u = a / s``, plain Sinkhorn) and ``w = K^T u``: the plan
    ``diag(u) K diag(v)`` has row sums ``u * s`` and column sums ``v * w``.
    ``part`` is a ``(nchunk, m)`` work array. Rows go in blocks of 8 (see
    above).
    """
    n, m = K.shape
    nchunk = part.shape[0]
    for c in prange(nchunk):
        lo = c * n // nchunk
        hi = (c + 1) * n // nchunk
        wc = part[c]
        for j in range(m):
            wc[j] = 0.0
        i = lo
        while i + 8 <= hi:
            t0, t1, t2, t3, t4, t5, t6, t7 = _dot8(K, i, v)
            s[i], s[i + 1], s[i + 2], s[i + 3] = t0, t1, t2, t3
            s[i + 4], s[i + 5], s[i + 6], s[i + 7] = t4, t5, t6, t7
            u0 = _relaxed_row(u[i], a[i], t0, omega)
            u1 = _relaxed_row(u[i + 1], a[i + 1], t1, omega)
            u2 = _relaxed_row(u[i + 2], a[i + 2], t2, omega)
            u3 = _relaxed_row(u[i + 3], a[i + 3], t3, omega)
            u4 = _relaxed_row(u[i + 4], a[i + 4], t4, omega)
            u5 = _relaxed_row(u[i + 5], a[i + 5], t5, omega)
            u6 = _relaxed_row(u[i + 6], a[i + 6], t6, omega)
            u7 = _relaxed_row(u[i + 7], a[i + 7], t7, omega)
            u[i], u[i + 1], u[i + 2], u[i + 3] = u0, u1, u2, u3
            u[i + 4], u[i + 5], u[i + 6], u[i + 7] = u4, u5, u6, u7
            _axpy8(wc, K, i, u0, u1, u2, u3, u4, u5, u6, u7)
            i += 8
        while i < hi:
            t = 0.0
            for j in range(m):
                t += K[i, j] * v[j]
            s[i] = t
            ui = _relaxed_row(u[i], a[i], t, omega)
            u[i] = ui
            for j in range(m):
                wc[j] += ui * K[i, j]
            i += 1
    for j in prange(m):
        t = 0.0
        for c in range(nchunk):
            t += part[c, j]
        w[j] = t


@njit(parallel=True, fastmath=True)
def scale_plan(K, u, v):
    """``K <- diag(u) K diag(v)`` in place, one pass (the plan of a scaling engine's
    final state, written over its kernel)."""
    n, m = K.shape
    for i in prange(n):
        ui = u[i]
        for j in range(m):
            K[i, j] *= ui * v[j]


@njit(error_model="numpy")
def relaxed_error(u, s, v, w, a, b, omega):
    """Marginal error of the plan ``diag(u) K diag(v)`` after
    :func:`scaling_sweep_relaxed`: the column error ``||v w - b||`` and, when
    ``omega != 1`` (rows not exact), the larger of it and the row error
    ``||u s - a||``; NaN when a scaling or column sum is not finite and positive."""
    inf = np.inf
    col = 0.0
    for j in range(w.shape[0]):
        wj = w[j]
        if not (wj > 0.0 and wj < inf):
            return np.nan
        d = v[j] * wj - b[j]
        col += d * d
    row = 0.0
    for i in range(u.shape[0]):
        ui = u[i]
        if not (ui > 0.0 and ui < inf):
            return np.nan
        if omega != 1.0:
            d = ui * s[i] - a[i]
            row += d * d
    return math.sqrt(max(col, row))


@njit(error_model="numpy")
def relaxed_column(u, v, w, b, omega):
    """``v <- v**(1 - omega) * (b / w)**omega`` in place; returns the largest of
    ``u``'s and ``v``'s entries and their inverses (inf or NaN when one is not finite
    and positive): the absorption test."""
    keep = 1.0 - omega
    big = 0.0
    for j in range(v.shape[0]):
        vj = b[j] / w[j] if omega == 1.0 else v[j] ** keep * (b[j] / w[j]) ** omega
        v[j] = vj
        big = max(big, vj, 1.0 / vj)
        if not (vj > 0.0 and vj < np.inf):
            return np.nan
    for i in range(u.shape[0]):
        big = max(big, u[i], 1.0 / u[i])
    return big


@njit(parallel=True, fastmath=True)
def log_sweep(M, loga, g, reg, f, part, tb, e, fb, fbi, sc, scf, s):
    """One fused log-domain Sinkhorn iteration in a single pass over ``M``.

    ``f_i = reg * (log a_i - logsumexp_j((g_j - M_ij) / reg))`` and the
    column sums of the new plan ``s_j = sum_i exp((f_i + g_j - M_ij) / reg)``.
    On entry ``f`` holds the previous row potentials: after a column update
    every entry of the previous plan is at most ``b_j``, so ``-f_i / reg``
    stabilises the row's log-sum-exp without a max pass; a row whose sum
    leaves ``[1e-290, 1e290]`` is redone with its exact maximum. Each plan
    entry costs one vectorised ``exp`` (:func:`vexp`). Every new entry is at
    most ``a_i`` so ``s`` cannot overflow; a column far from its target can
    underflow (the caller recomputes it with :func:`col_lse`).
    """
    n, m = M.shape
    nchunk = part.shape[0]
    inv = 1.0 / reg
    for c in prange(nchunk):
        lo = c * n // nchunk
        hi = (c + 1) * n // nchunk
        sc_ = part[c]
        tc = tb[c]
        ec = e[c]
        for j in range(m):
            sc_[j] = 0.0
        for i in range(lo, hi):
            sh = -f[i] * inv
            if not math.isfinite(sh):
                sh = 0.0
            for j in range(m):
                tc[j] = (g[j] - M[i, j]) * inv - sh
            vexp(tc, ec, fb[c], fbi[c], sc[c], scf[c])
            tot = 0.0
            for j in range(m):
                tot += ec[j]
            if not (tot > 1e-290 and tot < 1e290):
                mx = -np.inf
                for j in range(m):
                    mx = max(mx, tc[j])
                for j in range(m):
                    tc[j] -= mx
                vexp(tc, ec, fb[c], fbi[c], sc[c], scf[c])
                tot = 0.0
                for j in range(m):
                    tot += ec[j]
                sh += mx
            f[i] = reg * (loga[i] - sh - math.log(tot))
            coef = math.exp(loga[i]) / tot
            for j in range(m):
                sc_[j] += coef * ec[j]
    for j in prange(m):
        acc = 0.0
        for c in range(nchunk):
            acc += part[c, j]
        s[j] = acc


@njit(parallel=True, fastmath=True)
def col_lse(M, f, reg, part, tb, e, fb, fbi, sc, scf, out):
    """``out_j = logsumexp_i((f_i - M_ij) / reg)`` for every column, exactly.

    Two row-major passes: per-column maxima, then the stabilised sums with
    the vectorised exp. ``part`` is ``(nchunk, m)``.
    """
    n, m = M.shape
    nchunk = part.shape[0]
    inv = 1.0 / reg
    for c in prange(nchunk):
        lo = c * n // nchunk
        hi = (c + 1) * n // nchunk
        pc = part[c]
        for j in range(m):
            pc[j] = -np.inf
        for i in range(lo, hi):
            fi = f[i]
            for j in range(m):
                pc[j] = max(pc[j], (fi - M[i, j]) * inv)
    for j in prange(m):
        mx = -np.inf
        for c in range(nchunk):
            mx = max(mx, part[c, j])
        out[j] = mx
    for c in prange(nchunk):
        lo = c * n // nchunk
        hi = (c + 1) * n // nchunk
        pc = part[c]
        tc = tb[c]
        ec = e[c]
        for j in range(m):
            pc[j] = 0.0
        for i in range(lo, hi):
            fi = f[i]
            for j in range(m):
                tc[j] = (fi - M[i, j]) * inv - out[j]
            vexp(tc, ec, fb[c], fbi[c], sc[c], scf[c])
            for j in range(m):
                pc[j] += ec[j]
    for j in prange(m):
        acc = 0.0
        for c in range(nchunk):
            acc += part[c, j]
        out[j] = out[j] + math.log(acc)


@njit(parallel=True, fastmath=True)
def plan_sweep(M, loga, g, reg, f, P, rowmax, part, hist_part, hstride, tb, fb, fbi, sc, scf,
               s):
    """Row update of the log-domain Sinkhorn that also stores the plan.

    As :func:`log_sweep` (new ``f``, column sums ``s``), and writes
    ``P_ij = exp((f_i + g_j - M_ij) / reg)`` into ``P``, the row maxima of
    ``P`` into ``rowmax`` and a histogram of ``log(P_ij / rowmax_i)`` (bin
    ``k`` counts ``-(k+1)/BIN_SCALE < log <= -k/BIN_SCALE``, the last bin
    everything smaller) used to pick a sparsity threshold, over every
    ``hstride``-th column (a sample: counts are scaled by ``hstride``).
    ``hist_part`` is ``(nchunk, NBINS)`` int64; the caller sums it.
    """
    n, m = M.shape
    nchunk = part.shape[0]
    nb = hist_part.shape[1]
    inv = 1.0 / reg
    for c in prange(nchunk):
        lo = c * n // nchunk
        hi = (c + 1) * n // nchunk
        sc_ = part[c]
        hc = hist_part[c]
        for j in range(m):
            sc_[j] = 0.0
        for k in range(nb):
            hc[k] = 0
        tc = tb[c]
        for i in range(lo, hi):
            Pi = P[i]
            mx = -np.inf
            for j in range(m):
                t = (g[j] - M[i, j]) * inv
                tc[j] = t
                mx = max(mx, t)
            for j in range(m):
                tc[j] -= mx
            for j in range(0, m, hstride):
                kz = -tc[j] * BIN_SCALE
                k = nb - 1
                if kz < nb - 1:
                    k = int(kz)
                hc[k] += hstride
            vexp(tc, Pi, fb[c], fbi[c], sc[c], scf[c])
            tot = 0.0
            for j in range(m):
                tot += Pi[j]
            f[i] = reg * (loga[i] - mx - math.log(tot))
            coef = math.exp(loga[i]) / tot
            rowmax[i] = coef
            for j in range(m):
                pij = coef * Pi[j]
                Pi[j] = pij
                sc_[j] += pij
    for j in prange(m):
        acc = 0.0
        for c in range(nchunk):
            acc += part[c, j]
        s[j] = acc


@njit(parallel=True)
def sparsify(P, rowmax, thr, counts, indptr, indices, data):
    """CSR of the entries with ``P_ij >= rowmax_i * thr`` (two passes: count, fill).

    Call with ``indices``/``data`` of length 0 to get the row counts in
    ``counts`` and ``indptr``; call again with arrays of length
    ``indptr[-1]`` to fill them.
    """
    n, m = P.shape
    if indices.shape[0] == 0:
        for i in prange(n):
            lim = rowmax[i] * thr
            c = 0
            for j in range(m):
                if P[i, j] >= lim:
                    c += 1
            counts[i] = c
        indptr[0] = 0
        for i in range(n):
            indptr[i + 1] = indptr[i] + counts[i]
        return
    for i in prange(n):
        lim = rowmax[i] * thr
        p = indptr[i]
        for j in range(m):
            if P[i, j] >= lim:
                indices[p] = j
                data[p] = P[i, j]
                p += 1


@njit(parallel=True, fastmath=True)
def matvec(A, x, out):
    """``out = A @ x`` (row-parallel; avoids BLAS thread oversubscription)."""
    n, m = A.shape
    for i in prange(n):
        acc = 0.0
        for j in range(m):
            acc += A[i, j] * x[j]
        out[i] = acc


# the chunked column sums of scaling_sweep, written out (see the module docstring)
@njit(parallel=True, fastmath=True)
def rmatvec(A, y, part, out):
    """``out = A.T @ y`` with per-thread partial sums (``part`` is ``(nchunk, m)``)."""
    n, m = A.shape
    nchunk = part.shape[0]
    for c in prange(nchunk):
        lo = c * n // nchunk
        hi = (c + 1) * n // nchunk
        pc = part[c]
        for j in range(m):
            pc[j] = 0.0
        for i in range(lo, hi):
            yi = y[i]
            for j in range(m):
                pc[j] += yi * A[i, j]
    for j in prange(m):
        acc = 0.0
        for c in range(nchunk):
            acc += part[c, j]
        out[j] = acc


#: bins of the per-row mass histogram of :func:`sparsify_rows`: bin ``k`` holds the
#: entries with ``2**-k <= P_ij / rowmax_i < 2**(1-k)``; the last bin (ratios below
#: ``2**-(ROW_BINS - 2)``, about ``exp(-43)``) is never kept
ROW_BINS = 64


@njit(parallel=True)
def sparsify_rows(P, rowmax, drop, kmin, lim, counts, indptr, fb, fbi, indices, data):
    """Row-wise CSR of ``P``: each row keeps its largest entries, a mass ``1 - drop`` of it.

    Call with ``indices``/``data`` of length 0 first: for every row a histogram of
    ``P_ij / rowmax_i`` by binary exponent (factor-2 bins, read from the float's bits in
    the work rows ``fb``/``fbi``, ``(nchunk, m)`` float64 and its int64 view) gives the
    smallest bin ``k`` such that bins ``0..k`` hold at least ``(1 - drop)`` of the row's
    mass (the last bin's, below ``2**-62`` of the maximum, left out) and at least
    ``kmin`` entries; ``lim_i = 2**-k`` and the row counts go to ``counts`` and
    ``indptr``. The second call, with arrays of length ``indptr[-1]``, fills them with
    the entries ``P_ij / rowmax_i >= lim_i`` (the ratio computed as in the first call,
    so the counts agree).
    """
    n, m = P.shape
    nchunk = fb.shape[0]
    nb = ROW_BINS
    if indices.shape[0] == 0:
        for c in prange(nchunk):
            lo = c * n // nchunk
            hi = (c + 1) * n // nchunk
            r = fb[c]
            ri = fbi[c]
            hm = np.empty(nb)
            hc = np.empty(nb, dtype=np.int64)
            for i in range(lo, hi):
                inv = 1.0 / rowmax[i]
                for j in range(m):
                    r[j] = P[i, j] * inv
                for k in range(nb):
                    hm[k] = 0.0
                    hc[k] = 0
                tot = 0.0
                for j in range(m):
                    k = 1023 - (ri[j] >> 52)
                    if k < nb - 1:  # the last bin is never kept (nor counted)
                        hm[max(k, 0)] += P[i, j]
                        hc[max(k, 0)] += 1
                for k in range(nb - 1):
                    tot += hm[k]
                need = (1.0 - drop) * tot
                acc = 0.0
                cnt = 0
                kb = nb - 2
                for k in range(nb - 1):
                    acc += hm[k]
                    cnt += hc[k]
                    if acc >= need and cnt >= kmin:
                        kb = k
                        break
                lim[i] = 2.0 ** (-kb)
                cnt = 0
                for k in range(kb + 1):
                    cnt += hc[k]
                counts[i] = cnt
        indptr[0] = 0
        for i in range(n):
            indptr[i + 1] = indptr[i] + counts[i]
        return
    for i in prange(n):
        li = lim[i]
        inv = 1.0 / rowmax[i]
        p = indptr[i]
        for j in range(m):
            if P[i, j] * inv >= li:  # the same product as the count pass: same verdict
                indices[p] = j
                data[p] = P[i, j]
                p += 1


# the chunked column sums of scaling_sweep, written out (see the module docstring)
@njit(parallel=True, fastmath=True)
def schur_matvec(P, ia, c, v, part, out):
    """``out = c * v - P^T (ia * (P v))`` in one pass over ``P`` (each row is read once:
    its dot product with ``v``, then its scaled copy into the block's column sums).

    The Schur complement of the dual Hessian after eliminating the row potentials.
    ``part`` is ``(nchunk, m)``. Rows go in blocks of 8, as in
    :func:`scaling_sweep_relaxed`.
    """
    n, m = P.shape
    nchunk = part.shape[0]
    for ch in prange(nchunk):
        lo = ch * n // nchunk
        hi = (ch + 1) * n // nchunk
        pc = part[ch]
        for j in range(m):
            pc[j] = 0.0
        i = lo
        while i + 8 <= hi:
            t0, t1, t2, t3, t4, t5, t6, t7 = _dot8(P, i, v)
            t0 *= ia[i]
            t1 *= ia[i + 1]
            t2 *= ia[i + 2]
            t3 *= ia[i + 3]
            t4 *= ia[i + 4]
            t5 *= ia[i + 5]
            t6 *= ia[i + 6]
            t7 *= ia[i + 7]
            _axpy8(pc, P, i, t0, t1, t2, t3, t4, t5, t6, t7)
            i += 8
        while i < hi:
            t = 0.0
            for j in range(m):
                t += P[i, j] * v[j]
            t *= ia[i]
            for j in range(m):
                pc[j] += t * P[i, j]
            i += 1
    for j in prange(m):
        acc = 0.0
        for ch in range(nchunk):
            acc += part[ch, j]
        out[j] = c[j] * v[j] - acc


# the chunked column sums of scaling_sweep, written out (see the module docstring)
@njit(parallel=True, fastmath=True)
def schur_diag(P, ia, c, part, out):
    """``out_j = c_j - sum_i P_ij**2 ia_i``: the diagonal of :func:`schur_matvec`'s
    operator (``part`` is ``(nchunk, m)``)."""
    n, m = P.shape
    nchunk = part.shape[0]
    for ch in prange(nchunk):
        lo = ch * n // nchunk
        hi = (ch + 1) * n // nchunk
        pc = part[ch]
        for j in range(m):
            pc[j] = 0.0
        for i in range(lo, hi):
            w = ia[i]
            for j in range(m):
                pc[j] += w * P[i, j] * P[i, j]
    for j in prange(m):
        acc = 0.0
        for ch in range(nchunk):
            acc += part[ch, j]
        out[j] = c[j] - acc

