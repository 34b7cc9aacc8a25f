"""Numba kernels of :func:`numopt.ot.solve_sample`: the cost recomputed tile by tile.

Nothing here holds an ``n x m`` array. Every kernel walks the rows of the
point cloud ``X`` (``prange`` over contiguous row blocks, one per thread)
and, for each row, the columns in tiles of :data:`TILE` points: the tile's
costs are computed from the coordinates (``Yt`` is the second cloud stored
``(d, m)`` so a tile reads contiguous memory and the cost loop vectorises),
then exponentiated with the vectorised :func:`numopt.ot._kernels.vexp`.

Metric codes: :data:`SQEUCLIDEAN`, :data:`EUCLIDEAN`, :data:`MINKOWSKI`
(exponent ``p``), :data:`COSINE` (rows of ``X`` and ``Yt`` normalised by the
caller, so the cost is ``1 - x.y``).

Every kernel takes C-contiguous float64 arrays (the caller casts once).

The row-block loop (block bounds, the per-row tile loop over the columns, the
cost-and-exp of a tile) is written out in every kernel on purpose, as in
:mod:`numopt.ot._kernels` and the row-block loop of ``_stabilized.py``: each
kernel fuses it with its own reduction in a single pass over the tiles, with
no ``n x m`` temporary (kept apart for speed, like the kernels of
``_kernels.py``). ``duplicates`` lists these repeated lines (within this file
and against ``_kernels.py``/``_stabilized.py``); they stay.
"""
import math

import numpy as np

from numopt._jit import njit, prange

from ._kernels import vexp

__all__ = ["SQEUCLIDEAN", "EUCLIDEAN", "MINKOWSKI", "COSINE", "TILE", "cost_tile",
           "sweep", "lse_rows", "plan_apply", "plan_rowstats", "plan_block", "plan_topk",
           "buffers"]

SQEUCLIDEAN = 0
EUCLIDEAN = 1
MINKOWSKI = 2
COSINE = 3
#: columns per tile (a tile's work arrays stay in L1)
TILE = 512


def buffers(nblock, m):
    """Per-thread work arrays: ``(e, part, t, fb, fbi, sc, scf)``.

    ``e`` and ``part`` are ``(nblock, m)`` (one row of exponentials and the
    private column sums of each block); the others are ``(nblock, TILE)``.
    """
    e = np.empty((nblock, m))
    part = np.empty((nblock, m))
    t = np.empty((nblock, TILE))
    fb = np.empty((nblock, TILE))
    sc = np.empty((nblock, TILE), dtype=np.int64)
    return e, part, t, fb, fb.view(np.int64), sc, sc.view(np.float64)


@njit(fastmath=True)
def cost_tile(X, i, Yt, j0, L, code, p, out):
    """``out[t] = c(X[i], Y[j0 + t])`` for ``t < L``.

    The loops run over slices starting at 0 (no negative-index wraparound
    test), so LLVM vectorises them.
    """
    d = X.shape[1]
    o = out[:L]
    if code == COSINE:
        for t in range(L):
            o[t] = 1.0
        for k in range(d):
            yk = Yt[k, j0:j0 + L]
            xk = X[i, k]
            for t in range(L):
                o[t] -= xk * yk[t]
    elif code == MINKOWSKI and p == 1.0:
        for t in range(L):
            o[t] = 0.0
        for k in range(d):
            yk = Yt[k, j0:j0 + L]
            xk = X[i, k]
            for t in range(L):
                o[t] += abs(xk - yk[t])
    elif code == MINKOWSKI:  # scalar pow: about 50x slower than the other metrics
        for t in range(L):
            o[t] = 0.0
        for k in range(d):
            yk = Yt[k, j0:j0 + L]
            xk = X[i, k]
            for t in range(L):
                o[t] += abs(xk - yk[t]) ** p
        ip = 1.0 / p
        for t in range(L):
            o[t] = o[t] ** ip
    else:
        y0 = Yt[0, j0:j0 + L]
        x0 = X[i, 0]
        for t in range(L):
            df = x0 - y0[t]
            o[t] = df * df
        for k in range(1, d):
            yk = Yt[k, j0:j0 + L]
            xk = X[i, k]
            for t in range(L):
                df = xk - yk[t]
                o[t] += df * df
        if code == EUCLIDEAN:
            for t in range(L):
                o[t] = math.sqrt(o[t])


@njit(fastmath=True)
def _scaled_tile(X, i, Yt, g, j0, L, code, p, inv, shift, out):
    """``out[t] = (g[j0 + t] - c(X[i], Y[j0 + t])) / reg - shift``."""
    cost_tile(X, i, Yt, j0, L, code, p, out)
    o = out[:L]
    gs = g[j0:j0 + L]
    for t in range(L):
        o[t] = (gs[t] - o[t]) * inv - shift


@njit(fastmath=True)
def _row_exact_lse(X, i, Yt, g, code, p, inv, tc, ec, fb, fbi, sc, scf):
    """``logsumexp_j((g_j - c_ij) / reg)`` with one running maximum per tile."""
    m = Yt.shape[1]
    mx = -np.inf
    tot = 0.0
    for j0 in range(0, m, TILE):
        L = min(TILE, m - j0)
        _scaled_tile(X, i, Yt, g, j0, L, code, p, inv, 0.0, tc)
        cm = -np.inf
        for t in range(L):
            cm = max(cm, tc[t])
        if cm == -np.inf:
            continue
        if cm > mx:
            tot *= math.exp(mx - cm) if mx > -np.inf else 0.0
            mx = cm
        for t in range(L):
            tc[t] -= mx
        vexp(tc[:L], ec[:L], fb[:L], fbi[:L], sc[:L], scf[:L])
        for t in range(L):
            tot += ec[t]
    return mx + math.log(tot)


@njit(parallel=True, fastmath=True)
def lse_rows(X, Yt, g, reg, code, p, out, t, fb, fbi, sc, scf):
    """``out_i = logsumexp_j((g_j - c(x_i, y_j)) / reg)`` for every row, exactly.

    One pass over the columns per row (a running maximum per tile).
    """
    n = X.shape[0]
    nblock = t.shape[0]
    inv = 1.0 / reg
    for c in prange(nblock):
        lo = c * n // nblock
        hi = (c + 1) * n // nblock
        ec = np.empty(TILE)
        for i in range(lo, hi):
            out[i] = _row_exact_lse(X, i, Yt, g, code, p, inv, t[c], ec, fb[c], fbi[c],
                                    sc[c], scf[c])


@njit(parallel=True, fastmath=True)
def sweep(X, Yt, loga, g, reg, code, p, f, s, e, part, t, fb, fbi, sc, scf):
    """One fused log-domain Sinkhorn iteration in a single pass over the costs.

    ``f_i = reg * (log a_i - logsumexp_j((g_j - c_ij) / reg))`` and the column
    sums of the new plan ``s_j = sum_i exp((f_i + g_j - c_ij) / reg)``, so the
    caller gets the column marginal error and the exact ``g``-update
    (``g_j += reg * (log b_j - log s_j)``) from the same pass. On entry ``f``
    holds the previous row potentials, which stabilise each row's
    log-sum-exp without a max pass; a row whose sum leaves
    ``[1e-290, 1e290]`` is redone with its exact maximum. One cost and one
    vectorised ``exp`` per pair of points.
    """
    n = X.shape[0]
    m = Yt.shape[1]
    nblock = part.shape[0]
    inv = 1.0 / reg
    for c in prange(nblock):
        lo = c * n // nblock
        hi = (c + 1) * n // nblock
        pc = part[c]
        ecr = e[c]
        tc = t[c]
        for j in range(m):
            pc[j] = 0.0
        for i in range(lo, hi):
            sh = -f[i] * inv
            if not math.isfinite(sh):
                sh = 0.0
            tot = 0.0
            for j0 in range(0, m, TILE):
                L = min(TILE, m - j0)
                _scaled_tile(X, i, Yt, g, j0, L, code, p, inv, sh, tc)
                es = ecr[j0:j0 + L]
                vexp(tc[:L], es, fb[c, :L], fbi[c, :L], sc[c, :L], scf[c, :L])
                for q in range(L):
                    tot += es[q]
            if not (tot > 1e-290 and tot < 1e290):
                lse = _row_exact_lse(X, i, Yt, g, code, p, inv, tc, ecr, fb[c], fbi[c],
                                     sc[c], scf[c])
                # recompute the row's exponentials with the exact shift
                sh = lse
                tot = 0.0
                for j0 in range(0, m, TILE):
                    L = min(TILE, m - j0)
                    _scaled_tile(X, i, Yt, g, j0, L, code, p, inv, sh, tc)
                    es = ecr[j0:j0 + L]
                    vexp(tc[:L], es, fb[c, :L], fbi[c, :L], sc[c, :L], scf[c, :L])
                    for q in range(L):
                        tot += es[q]
            f[i] = reg * (loga[i] - sh - math.log(tot))
            coef = math.exp(loga[i]) / tot
            for j in range(m):
                pc[j] += coef * ecr[j]
    for j in prange(m):
        acc = 0.0
        for c in range(nblock):
            acc += part[c, j]
        s[j] = acc


@njit(parallel=True, fastmath=True)
def plan_apply(X, Yt, f, g, reg, code, p, Vt, out, t, ec, fb, fbi, sc, scf):
    """``out = P @ Vt.T`` with ``P_ij = exp((f_i + g_j - c_ij) / reg)``; ``Vt`` is ``(k, m)``."""
    n = X.shape[0]
    m = Yt.shape[1]
    k = Vt.shape[0]
    nblock = t.shape[0]
    inv = 1.0 / reg
    for c in prange(nblock):
        lo = c * n // nblock
        hi = (c + 1) * n // nblock
        tc = t[c]
        eb = ec[c]
        for i in range(lo, hi):
            for q in range(k):
                out[i, q] = 0.0
            for j0 in range(0, m, TILE):
                L = min(TILE, m - j0)
                _scaled_tile(X, i, Yt, g, j0, L, code, p, inv, -f[i] * inv, tc)
                vexp(tc[:L], eb[:L], fb[c, :L], fbi[c, :L], sc[c, :L], scf[c, :L])
                for q in range(k):
                    vq = Vt[q, j0:j0 + L]
                    acc = 0.0
                    for u in range(L):
                        acc += eb[u] * vq[u]
                    out[i, q] += acc


@njit(parallel=True, fastmath=True)
def plan_rowstats(X, Yt, f, g, reg, code, p, rowsum, rowcost, t, ec, cb, fb, fbi, sc, scf):
    """Row sums of ``P`` and of ``P * C`` (the linear cost), one pass."""
    n = X.shape[0]
    m = Yt.shape[1]
    nblock = t.shape[0]
    inv = 1.0 / reg
    for c in prange(nblock):
        lo = c * n // nblock
        hi = (c + 1) * n // nblock
        tc = t[c]
        eb = ec[c]
        cc = cb[c]
        for i in range(lo, hi):
            s0 = 0.0
            s1 = 0.0
            fi = f[i]
            for j0 in range(0, m, TILE):
                L = min(TILE, m - j0)
                cost_tile(X, i, Yt, j0, L, code, p, cc)
                gs = g[j0:j0 + L]
                for u in range(L):
                    tc[u] = (fi + gs[u] - cc[u]) * inv
                vexp(tc[:L], eb[:L], fb[c, :L], fbi[c, :L], sc[c, :L], scf[c, :L])
                for u in range(L):
                    s0 += eb[u]
                    s1 += eb[u] * cc[u]
            rowsum[i] = s0
            rowcost[i] = s1


@njit(parallel=True)
def plan_block(X, Yt, f, g, reg, code, p, rows, cols, out):
    """``out[r, q] = P[rows[r], cols[q]]`` (outer indexing)."""
    d = X.shape[1]
    inv = 1.0 / reg
    for r in prange(rows.shape[0]):
        i = rows[r]
        for q in range(cols.shape[0]):
            j = cols[q]
            cst = _pair_cost(X, i, Yt, j, d, code, p)
            out[r, q] = math.exp((f[i] + g[j] - cst) * inv)


@njit
def _pair_cost(X, i, Yt, j, d, code, p):
    acc = 0.0
    if code == COSINE:
        for k in range(d):
            acc += X[i, k] * Yt[k, j]
        return 1.0 - acc
    if code == MINKOWSKI:
        if p == 1.0:
            for k in range(d):
                acc += abs(X[i, k] - Yt[k, j])
            return acc
        for k in range(d):
            acc += abs(X[i, k] - Yt[k, j]) ** p
        return acc ** (1.0 / p)
    for k in range(d):
        df = X[i, k] - Yt[k, j]
        acc += df * df
    if code == EUCLIDEAN:
        return math.sqrt(acc)
    return acc


@njit(parallel=True, fastmath=True)
def plan_topk(X, Yt, f, g, reg, code, p, idx, val, t, cb):
    """The ``k`` largest entries of each row of ``P``, largest first.

    ``idx``/``val`` are ``(n, k)``; ties keep the smaller column index.
    """
    n = X.shape[0]
    m = Yt.shape[1]
    k = idx.shape[1]
    nblock = t.shape[0]
    inv = 1.0 / reg
    for c in prange(nblock):
        lo = c * n // nblock
        hi = (c + 1) * n // nblock
        tc = t[c]
        cc = cb[c]
        for i in range(lo, hi):
            # z = (g_j - c_ij) / reg, kept sorted in descending order
            best = np.full(k, -np.inf)
            bidx = np.full(k, -1, dtype=np.int64)
            for j0 in range(0, m, TILE):
                L = min(TILE, m - j0)
                cost_tile(X, i, Yt, j0, L, code, p, cc)
                gs = g[j0:j0 + L]
                for u in range(L):
                    tc[u] = (gs[u] - cc[u]) * inv
                for u in range(L):
                    z = tc[u]
                    if z > best[k - 1]:
                        pos = k - 1
                        while pos > 0 and best[pos - 1] < z:
                            best[pos] = best[pos - 1]
                            bidx[pos] = bidx[pos - 1]
                            pos -= 1
                        best[pos] = z
                        bidx[pos] = j0 + u
            for q in range(k):
                idx[i, q] = bidx[q]
                val[i, q] = math.exp(best[q] + f[i] * inv) if bidx[q] >= 0 else 0.0
