"""Numba kernels of numopt.tensor.

``eval_tucker_cheb`` evaluates a Chebyshev-Tucker function at scattered
points: per point and mode, the factor row ``u_k = sum_j T_j(t_k) V_k[j, :]``
by the three-term recurrence, then the core is contracted with ``u_d``,
``u_{d-1}``, ... ``u_1`` (last mode first, matching the C-order core).
``prange`` runs over independent blocks of 32 points; the innermost loops
run over the points of a block so that they vectorise.
"""
import numpy as np

from .._jit import njit, prange

__all__ = ["eval_tucker_cheb"]

_B = 32


@njit(parallel=True, fastmath=True)
def eval_tucker_cheb(points, lo, hi, fac, fac_off, m, r, core, out):
    """Fill ``out[i]`` with the Chebyshev-Tucker value at ``points[i]``.

    Parameters (all float64/int64, C-contiguous)
    ----------
    points : (N, d)
    lo, hi : (d,) domain bounds
    fac : flat concatenation of the factor matrices ``V_k`` (m_k x r_k, C order)
    fac_off : (d,) offsets of each ``V_k`` in ``fac``
    m, r : (d,) numbers of coefficients and ranks
    core : flat C-order core of shape (r_1, ..., r_d)
    out : (N,)

    The inner loops run over a block of 32 points (SIMD lanes).
    """
    N = points.shape[0]
    d = points.shape[1]
    P = core.shape[0]
    maxr = 1
    for k in range(d):
        if r[k] > maxr:
            maxr = r[k]
    nblocks = (N + _B - 1) // _B
    for blk in prange(nblocks):
        u = np.zeros((d, maxr, _B))
        bufa = np.empty((P, _B))
        bufb = np.empty((P, _B))
        t = np.zeros(_B)
        tm1 = np.empty(_B)
        tj = np.empty(_B)
        start = blk * _B
        nb = min(start + _B, N) - start
        for k in range(d):
            rk = r[k]
            off = fac_off[k]
            scale = 1.0 / (hi[k] - lo[k])
            for b in range(_B):
                if b < nb:
                    t[b] = (2.0 * points[start + b, k] - lo[k] - hi[k]) * scale
                else:
                    t[b] = 0.0
            for c in range(rk):
                v0 = fac[off + c]
                for b in range(_B):
                    u[k, c, b] = v0
            if m[k] > 1:
                for c in range(rk):
                    v1 = fac[off + rk + c]
                    for b in range(_B):
                        u[k, c, b] += v1 * t[b]
            for b in range(_B):
                tm1[b] = 1.0
                tj[b] = t[b]
            for j in range(2, m[k]):
                for b in range(_B):
                    tn = 2.0 * t[b] * tj[b] - tm1[b]
                    tm1[b] = tj[b]
                    tj[b] = tn
                base = off + j * rk
                for c in range(rk):
                    v = fac[base + c]
                    for b in range(_B):
                        u[k, c, b] += v * tj[b]
        rk = r[d - 1]
        size = P // rk
        for p in range(size):
            for b in range(_B):
                bufa[p, b] = 0.0
            for c in range(rk):
                g = core[p * rk + c]
                for b in range(_B):
                    bufa[p, b] += g * u[d - 1, c, b]
        for k in range(d - 2, -1, -1):
            rk = r[k]
            size = size // rk
            for p in range(size):
                for b in range(_B):
                    bufb[p, b] = 0.0
                for c in range(rk):
                    for b in range(_B):
                        bufb[p, b] += bufa[p * rk + c, b] * u[k, c, b]
            for p in range(size):
                for b in range(_B):
                    bufa[p, b] = bufb[p, b]
        for b in range(nb):
            out[start + b] = bufa[0, b]
    return out
