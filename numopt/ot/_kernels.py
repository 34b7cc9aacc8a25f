"""Numba kernels of :mod:`numopt.ot`.

All kernels take C-contiguous float64 arrays (the callers cast once), so
each compiles a single signature. Row-parallel kernels split the rows into
``nchunk`` contiguous blocks (one per thread); column sums are accumulated
in a private row of ``part`` per block and reduced at the end, so no n x n
temporary is ever created.

Slow pure-Python references live in ``tests/ot/_naive.py``.
"""
import math

import numpy as np

from numopt._jit import njit, prange

__all__ = ["scaling_sweep", "log_sweep", "col_lse", "plan_sweep", "sparsify",
           "n_chunks"]

#: histogram bins of log(P_ij) used to choose the sparsity threshold
NBINS = 256
#: bins per unit of natural log
BIN_SCALE = 2.0


def n_chunks(n_rows):
    """Number of row blocks for the parallel kernels (one per thread)."""
    import numba
    return max(1, min(int(n_rows), numba.get_num_threads()))


@njit(parallel=True, fastmath=True)
def scaling_sweep(K, a, v, u, part, w):
    """One fused Sinkhorn iteration in a single pass over ``K``.

    ``u = a / (K v)`` and ``w = K^T u`` (the column sums needed by the next
    ``v``-update and by the marginal error ``v * w - b``). ``part`` is a
    ``(nchunk, m)`` work array.
    """
    n, m = K.shape
    nchunk = part.shape[0]
    for c in prange(nchunk):
        lo = c * n // nchunk
        hi = (c + 1) * n // nchunk
        wc = part[c]
        for j in range(m):
            wc[j] = 0.0
        for i in range(lo, hi):
            s = 0.0
            for j in range(m):
                s += K[i, j] * v[j]
            ui = a[i] / s
            u[i] = ui
            for j in range(m):
                wc[j] += ui * K[i, j]
    for j in prange(m):
        s = 0.0
        for c in range(nchunk):
            s += part[c, j]
        w[j] = s


@njit(parallel=True, fastmath=True)
def log_sweep(M, loga, g, reg, f, part, ebuf, s):
    """One fused log-domain Sinkhorn iteration in a single pass over ``M``.

    ``f_i = reg * (log a_i - logsumexp_j((g_j - M_ij) / reg))`` (stabilised by
    the row maximum) and the column sums of the new plan
    ``s_j = sum_i exp((f_i + g_j - M_ij) / reg)``. Each plan entry costs one
    ``exp``; the row's exponentials are kept in a per-thread buffer ``ebuf``
    of length m. Every plan entry is at most ``a_i`` so ``s`` cannot overflow;
    it can underflow for a column far from its target (see :func:`col_lse`).
    """
    n, m = M.shape
    nchunk = part.shape[0]
    inv = 1.0 / reg
    for c in prange(nchunk):
        lo = c * n // nchunk
        hi = (c + 1) * n // nchunk
        sc = part[c]
        e = ebuf[c]
        for j in range(m):
            sc[j] = 0.0
        for i in range(lo, hi):
            mx = -np.inf
            for j in range(m):
                t = (g[j] - M[i, j]) * inv
                e[j] = t
                if t > mx:
                    mx = t
            tot = 0.0
            for j in range(m):
                ej = math.exp(e[j] - mx)
                e[j] = ej
                tot += ej
            f[i] = reg * (loga[i] - mx - math.log(tot))
            coef = math.exp(loga[i]) / tot
            for j in range(m):
                sc[j] += coef * e[j]
    for j in prange(m):
        acc = 0.0
        for c in range(nchunk):
            acc += part[c, j]
        s[j] = acc


@njit(parallel=True, fastmath=True)
def col_lse(M, f, reg, cols, out):
    """``out[k] = logsumexp_i((f_i - M_i,cols[k]) / reg)``, exactly (max-stabilised)."""
    n = M.shape[0]
    inv = 1.0 / reg
    for k in prange(cols.shape[0]):
        j = cols[k]
        mx = -np.inf
        for i in range(n):
            t = (f[i] - M[i, j]) * inv
            if t > mx:
                mx = t
        if mx == -np.inf:
            out[k] = -np.inf
            continue
        tot = 0.0
        for i in range(n):
            tot += math.exp((f[i] - M[i, j]) * inv - mx)
        out[k] = mx + math.log(tot)


@njit(parallel=True, fastmath=True)
def plan_sweep(M, loga, g, reg, f, P, rowmax, part, hist_part, s):
    """Row update of the log-domain Sinkhorn that also stores the plan.

    As :func:`log_sweep` (new ``f``, column sums ``s``), and writes
    ``P_ij = exp((f_i + g_j - M_ij) / reg)`` into ``P``, the row maxima of
    ``P`` into ``rowmax`` and a histogram of ``log(P_ij / rowmax_i)`` (bin
    ``k`` counts ``-(k+1)/BIN_SCALE < log <= -k/BIN_SCALE``, the last bin
    everything smaller) used to pick a sparsity threshold. ``hist_part`` is
    ``(nchunk, NBINS)`` int64; the caller sums it over chunks.
    """
    n, m = M.shape
    nchunk = part.shape[0]
    nb = hist_part.shape[1]
    inv = 1.0 / reg
    for c in prange(nchunk):
        lo = c * n // nchunk
        hi = (c + 1) * n // nchunk
        sc = part[c]
        hc = hist_part[c]
        for j in range(m):
            sc[j] = 0.0
        for k in range(nb):
            hc[k] = 0
        for i in range(lo, hi):
            mx = -np.inf
            for j in range(m):
                t = (g[j] - M[i, j]) * inv
                P[i, j] = t
                if t > mx:
                    mx = t
            tot = 0.0
            for j in range(m):
                z = mx - P[i, j]
                kz = z * BIN_SCALE
                k = nb - 1
                if kz < nb - 1:
                    k = int(kz)
                hc[k] += 1
                ej = math.exp(-z)
                P[i, j] = ej
                tot += ej
            f[i] = reg * (loga[i] - mx - math.log(tot))
            coef = math.exp(loga[i]) / tot
            rowmax[i] = coef
            for j in range(m):
                pij = coef * P[i, j]
                P[i, j] = pij
                sc[j] += pij
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
