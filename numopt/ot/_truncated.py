"""The truncated kernel: sparse scaling iterations where the absorbed kernel is mostly
negligible (small ``reg`` against the cost's spread).

Schmitzer ("Stabilized sparse scaling algorithms for entropy regularized transport
problems", SIAM J. Sci. Comput. 41, 2019) keeps, of the kernel with the potentials
absorbed, ``K_ij = exp((f_i + g_j - M_ij) / reg)``, only the entries above a
threshold ``kappa``; the scaling iterations then cost ``O(nnz)`` instead of
``O(n m)``. Here:

* The start is the double c-transform of the cost, ``f_i = min_j M_ij`` and
  ``g_j = min_i (M_ij - f_i)``: every row and every column of ``K`` has an entry 1,
  so no scaling can underflow, and the reduced costs ``M - f - g`` are >= 0.
* ``kappa = exp(-TRUNC_MARGIN) TRUNC_SAFETY tol / (n sqrt(m))``. A dropped entry is
  below ``kappa``, so with scalings ``(u, v)`` the mass the sparse plan misses is at
  most ``kappa ||u||_1 ||v||_2`` in a column error's norm (``kappa ||v||_1 ||u||_2``
  in a row error's): :func:`truncation_bound`. The engine rebuilds the truncation
  from the current potentials (an absorption, one pass over ``M``) whenever that
  bound exceeds ``TRUNC_SAFETY * tol`` (at a rebuild the scalings are 1 and the bound
  is ``exp(TRUNC_MARGIN)`` below that), so the sparse iterates stay within a tenth of
  ``tol`` of the dense ones: the sparse run stops at ``(1 - TRUNC_SAFETY) tol``.
* Where the rebuilds come more often than every ``REBUILD_EVERY`` sweeps (beyond
  ``REBUILD_FREE``), the scalings are far from their limit and move by large factors
  each sweep (small ``reg`` on point clouds: a truncation rebuilt every sweep would
  cost a pass over ``M`` each). Within the first ``EARLY_SWEEPS`` sweeps the run then
  starts over on the dense kernel, so that it takes the dense engine's path (its
  start, the row minima, differs from the c-transform's); later the kernel is made
  dense at the current potentials (one exp pass) for the rest of the run.
* At the end one dense pass computes the plan ``exp((f + g - M) / reg)`` and both of
  its marginals (:func:`gibbs_sums`): the error reported is the dense plan's, and
  where it is above ``tol`` (rounding at the margin) the iterations go on.

A sweep costs about ``SPARSE_ENTRY_SECONDS`` per kept entry against the dense sweep's
``ENTRY_SECONDS`` (:mod:`._monitor`) per entry: truncation is used where a sample of rows
predicts at most ``TRUNC_DENSITY`` of the entries kept, on problems of at least
``TRUNC_MIN_ENTRIES`` entries (below that, the dense sweeps take microseconds).
"""
import math

import numpy as np

from numopt._jit import njit, prange

from . import _kernels as kern
from ._monitor import ITER_SECONDS

#: the dropped mass is kept below TRUNC_SAFETY * tol
TRUNC_SAFETY = 0.1
#: the bound on the dropped mass may grow by exp(TRUNC_MARGIN) from its value at a
#: rebuild (scalings 1) before the truncation is rebuilt
TRUNC_MARGIN = 5.0
#: the largest predicted fraction of kept entries for which the sparse sweeps pay
TRUNC_DENSITY = 0.1
#: the smallest problem (n * m) truncated
TRUNC_MIN_ENTRIES = 2**20
#: rows sampled to predict the density
SAMPLE_ROWS = 32
#: modelled seconds of a sparse iteration: per kept entry (a gather and a scatter),
#: and per row and column (the scaling updates, powers when over-relaxed)
SPARSE_ENTRY_SECONDS = 2.6e-9
SPARSE_LINE_SECONDS = 4e-8
#: failed dense checks after which the iterations go on with the dense kernel
MAX_CHECKS = 2
#: rebuilds of the truncation allowed beyond one per REBUILD_EVERY sweeps; past
#: that the scalings move too fast for a truncation (far from the solution, small
#: reg) and the kernel is made dense
REBUILD_FREE = 2
REBUILD_EVERY = 16
#: where that happens within the first EARLY_SWEEPS sweeps the run starts over on the
#: dense kernel (the sweeps done cost a few passes over M)
EARLY_SWEEPS = 64


def log_threshold(tol, n, m):
    """``log(kappa)``: entries of the absorbed kernel below ``kappa`` are dropped."""
    return math.log(TRUNC_SAFETY * tol / (n * math.sqrt(m))) - TRUNC_MARGIN


@njit(parallel=True, fastmath=True)
def c_transform(M, f, g, part):
    """``f_i = min_j M_ij``, ``g_j = min_i (M_ij - f_i)`` in one pass over ``M`` (the row
    is read twice from cache); ``part`` is ``(nchunk, m)``."""
    n, m = M.shape
    nchunk = part.shape[0]
    for c in prange(nchunk):
        lo = c * n // nchunk
        hi = (c + 1) * n // nchunk
        pc = part[c]
        for j in range(m):
            pc[j] = np.inf
        for i in range(lo, hi):
            t = np.inf
            for j in range(m):
                t = min(t, M[i, j])
            f[i] = t
            for j in range(m):
                pc[j] = min(pc[j], M[i, j] - t)
    for j in prange(m):
        t = np.inf
        for c in range(nchunk):
            t = min(t, part[c, j])
        g[j] = t


@njit
def sample_density(M, rows, reg, cut):
    """The fraction of entries of ``rows`` with ``(f_i - M_ij) / reg >= cut``,
    ``f_i = min_j M_ij`` (each sampled row's own minimum)."""
    m = M.shape[1]
    kept = 0
    for r in range(rows.shape[0]):
        i = rows[r]
        fi = np.inf
        for j in range(m):
            fi = min(fi, M[i, j])
        lim = fi - cut * reg
        for j in range(m):
            if M[i, j] <= lim:
                kept += 1
    return kept / max(1, rows.shape[0] * m)


@njit(parallel=True, fastmath=True)
def truncate(M, f, g, reg, cut, cap, start, end, indices, data, counts):
    """The entries of ``(f_i + g_j - M_ij) / reg`` that are ``>= cut``: row ``i`` at
    ``indices/data[start[i]:end[i]]`` (column, exponent: the caller takes ``exp``).
    Row block ``c`` writes into ``[c * cap, (c + 1) * cap)``; ``counts[c]`` receives
    the entries it kept, ``> cap`` when the block overflowed (its rows then are
    incomplete)."""
    n, m = M.shape
    nchunk = counts.shape[0]
    inv = 1.0 / reg
    for c in prange(nchunk):
        lo = c * n // nchunk
        hi = (c + 1) * n // nchunk
        k = c * cap
        stop = k + cap
        over = 0
        for i in range(lo, hi):
            start[i] = k
            fi = f[i]
            if k + m <= stop:   # room for the whole row: no branch in the loop
                for j in range(m):
                    x = (fi + g[j] - M[i, j]) * inv
                    indices[k] = j
                    data[k] = x
                    k += 1 if x >= cut else 0
            else:
                for j in range(m):
                    x = (fi + g[j] - M[i, j]) * inv
                    if x >= cut:
                        if k < stop:
                            indices[k] = j
                            data[k] = x
                            k += 1
                        else:
                            over += 1
            end[i] = k
        counts[c] = k - c * cap + over


@njit(fastmath=True, error_model="numpy")
def _sparse_rows(lo, hi, start, end, indices, data, a, v, omega, u, s, wc):
    """Rows ``lo:hi`` of :func:`sparse_sweep_relaxed` (column sums added to ``wc``); a
    function of its own, so that the loops compile outside the parallel region."""
    for i in range(lo, hi):
        t = 0.0
        k0, k1 = start[i], end[i]
        for k in range(k0, k1):
            t += data[k] * v[indices[k]]
        s[i] = t
        ui = kern._relaxed_row(u[i], a[i], t, omega)
        u[i] = ui
        for k in range(k0, k1):
            wc[indices[k]] += ui * data[k]


@njit(parallel=True, fastmath=True, error_model="numpy")
def sparse_sweep_relaxed(start, end, indices, data, a, v, omega, u, s, part, w):
    """:func:`._kernels.scaling_sweep_relaxed` on the truncated kernel: ``s = K v``,
    ``u <- u**(1 - omega) * (a / s)**omega``, ``w = K^T u``, one pass over the kept
    entries (rows in ``nchunk`` blocks, column sums in ``part``)."""
    n = start.shape[0]
    m = w.shape[0]
    nchunk = part.shape[0]
    for c in prange(nchunk):
        wc = part[c]
        for j in range(m):
            wc[j] = 0.0
        _sparse_rows(c * n // nchunk, (c + 1) * n // nchunk, start, end, indices, data, a,
                     v, omega, u, s, wc)
    for j in prange(m):
        t = 0.0
        for c in range(nchunk):
            t += part[c, j]
        w[j] = t


@njit(error_model="numpy")
def truncation_bound(u, v):
    """``max(||u||_1 ||v||_2, ||v||_1 ||u||_2)``: times ``kappa``, a bound on the
    marginal errors' norm of the entries the truncation dropped."""
    u1 = u2 = v1 = v2 = 0.0
    for i in range(u.shape[0]):
        u1 += abs(u[i])
        u2 += u[i] * u[i]
    for j in range(v.shape[0]):
        v1 += abs(v[j])
        v2 += v[j] * v[j]
    return max(u1 * math.sqrt(v2), v1 * math.sqrt(u2))


@njit(parallel=True, fastmath=True)
def gibbs_sums(M, f, g, reg, P, rows, part, cols, tb, fb, fbi, sc, scf):
    """``P_ij = exp((f_i + g_j - M_ij) / reg)`` with its row sums ``rows`` and column
    sums ``cols``, one pass over ``M`` (``part`` and the :func:`._kernels.vexp` work
    buffers are ``(nchunk, m)``)."""
    n, m = M.shape
    nchunk = part.shape[0]
    inv = 1.0 / reg
    for c in prange(nchunk):
        lo = c * n // nchunk
        hi = (c + 1) * n // nchunk
        tc = tb[c]
        pc = part[c]
        for j in range(m):
            pc[j] = 0.0
        for i in range(lo, hi):
            fi = f[i]
            for j in range(m):
                tc[j] = (fi + g[j] - M[i, j]) * inv
            Pi = P[i]
            kern.vexp(tc, Pi, fb[c], fbi[c], sc[c], scf[c])
            t = 0.0
            for j in range(m):
                t += Pi[j]
                pc[j] += Pi[j]
            rows[i] = t
    for j in prange(m):
        t = 0.0
        for c in range(nchunk):
            t += part[c, j]
        cols[j] = t


def predicted_density(M, reg, cut):
    """The fraction of the absorbed kernel's entries kept, from ``SAMPLE_ROWS`` evenly
    spaced rows with ``g = 0`` (a lower bound: the c-transform's ``g`` is >= 0 and
    only adds entries)."""
    n, m = M.shape
    rows = np.unique(np.linspace(0, n - 1, min(n, SAMPLE_ROWS)).astype(np.int64))
    return sample_density(M, rows, reg, cut)


def use_truncation(M, reg, tol):
    """``log(kappa)`` when the truncated kernel should be used for ``M`` at ``reg`` and
    ``tol``, else None."""
    n, m = M.shape
    if not (tol > 0 and n * m >= TRUNC_MIN_ENTRIES and math.isfinite(tol)):
        return None
    cut = log_threshold(tol, n, m)
    if predicted_density(M, reg, cut) > TRUNC_DENSITY:
        return None
    return cut


class Truncated:
    """The truncated absorbed kernel of ``M`` at ``reg`` (kept entries ``>= exp(cut)``),
    rebuilt by :meth:`build` from potentials ``(f, g)``. The buffers hold 1.5 times
    ``density`` of the entries (a prediction) and grow when a build needs more."""

    def __init__(self, M, reg, cut, work, density=TRUNC_DENSITY):
        n, m = M.shape
        self.M, self.reg, self.cut, self.work = M, reg, cut, work
        self.nchunk = work.nchunk
        self.start = np.empty(n, dtype=np.int64)
        self.end = np.empty(n, dtype=np.int64)
        self.counts = np.empty(self.nchunk, dtype=np.int64)
        rows = -(-n // self.nchunk)
        self._alloc(min(rows * m, int(1.5 * density * rows * m) + 2 * m))
        self.nnz = 0

    def _alloc(self, per_block):
        self.cap = int(per_block)
        size = self.cap * self.nchunk
        self.indices = np.empty(size, dtype=np.int32)
        self.data = np.empty(size)

    def build(self, f, g):
        """Keep the entries of ``exp((f + g - M) / reg)`` above ``kappa``."""
        m = self.M.shape[1]
        while True:
            truncate(self.M, f, g, self.reg, self.cut, self.cap, self.start, self.end,
                     self.indices, self.data, self.counts)
            need = int(self.counts.max())
            if need <= self.cap:
                break
            self._alloc(need + 2 * m)
        self.nnz = int((self.end - self.start).sum())
        for c in range(self.nchunk):   # the exponentials of the kept entries only
            lo = c * self.cap
            seg = self.data[lo:lo + int(self.counts[c])]
            np.exp(seg, out=seg)

    def density(self):
        n, m = self.M.shape
        return self.nnz / (n * m)

    def sweep(self, a, v, omega, u, s, part, w):
        sparse_sweep_relaxed(self.start, self.end, self.indices, self.data, a, v, omega, u,
                             s, part, w)

    def dense(self, f, g, a, b):
        """The dense plan at ``(f, g)`` and the larger of its marginal errors (the
        Euclidean norms of ``rows - a`` and ``cols - b``)."""
        n, m = self.M.shape
        P = np.empty((n, m))
        rows, cols = np.empty(n), np.empty(m)
        gibbs_sums(self.M, f, g, self.reg, P, rows, self.work.part, cols,
                   *self.work.vbuf[:1], *self.work.vbuf[2:])
        err = max(float(np.linalg.norm(rows - a)), float(np.linalg.norm(cols - b)))
        return P, (err if math.isfinite(err) else np.nan)


def iteration_seconds(nnz, n, m):
    """Modelled seconds of one sparse iteration over ``nnz`` kept entries of an
    ``n x m`` kernel (see :func:`._monitor.iteration_seconds`)."""
    return nnz * SPARSE_ENTRY_SECONDS + (n + m) * SPARSE_LINE_SECONDS + ITER_SECONDS
