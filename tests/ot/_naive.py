"""Slow pure-Python references of the kernels in numopt/ot/_kernels.py."""
import math

import numpy as np


def exp(x):
    """Reference of ``vexp``: math.exp, 0 below -708, clipped at 709."""
    return np.array([0.0 if t < -708.0 else math.exp(min(t, 709.0)) for t in x])


def scaling_sweep(K, a, v):
    """u = a / (K v); w = K^T u."""
    n, m = K.shape
    u = np.empty(n)
    for i in range(n):
        u[i] = a[i] / sum(K[i, j] * v[j] for j in range(m))
    w = np.array([sum(K[i, j] * u[i] for i in range(n)) for j in range(m)])
    return u, w


def _lse(vals):
    mx = max(vals)
    if mx == -math.inf:
        return -math.inf
    return mx + math.log(sum(math.exp(v - mx) for v in vals))


def log_sweep(M, loga, g, reg):
    """f_i = reg (log a_i - lse_j((g_j - M_ij)/reg)); s_j = sum_i exp((f_i+g_j-M_ij)/reg)."""
    n, m = M.shape
    f = np.array([reg * (loga[i] - _lse([(g[j] - M[i, j]) / reg for j in range(m)]))
                  for i in range(n)])
    s = np.array([sum(math.exp((f[i] + g[j] - M[i, j]) / reg) for i in range(n))
                  for j in range(m)])
    return f, s


def col_lse(M, f, reg):
    n, m = M.shape
    return np.array([_lse([(f[i] - M[i, j]) / reg for i in range(n)]) for j in range(m)])


def plan_sweep(M, loga, g, reg, nbins, bin_scale, hstride):
    """Row update + plan + row maxima + sampled histogram of log(P_ij / rowmax_i)."""
    n, m = M.shape
    f, s = log_sweep(M, loga, g, reg)
    P = np.array([[math.exp((f[i] + g[j] - M[i, j]) / reg) for j in range(m)]
                  for i in range(n)])
    rowmax = P.max(axis=1)
    hist = np.zeros(nbins, dtype=np.int64)
    for i in range(n):
        mx = max((g[j] - M[i, j]) / reg for j in range(m))
        for j in range(0, m, hstride):
            z = (mx - (g[j] - M[i, j]) / reg) * bin_scale
            hist[min(int(z), nbins - 1) if z < nbins - 1 else nbins - 1] += hstride
    return f, P, rowmax, hist, s


def sparsify(P, rowmax, thr):
    """Row-wise CSR of entries >= rowmax_i * thr."""
    indptr, indices, data = [0], [], []
    for i in range(P.shape[0]):
        for j in range(P.shape[1]):
            if P[i, j] >= rowmax[i] * thr:
                indices.append(j)
                data.append(P[i, j])
        indptr.append(len(indices))
    return np.array(indptr), np.array(indices, dtype=np.int64), np.array(data)


def matvec(A, x):
    return np.array([sum(A[i, j] * x[j] for j in range(A.shape[1])) for i in range(A.shape[0])])
