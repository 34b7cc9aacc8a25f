"""Slow pure-Python references for numopt.linalg._kernels_sketching."""
import numpy as np


def kaczmarz_sweep(A, b, x, idx):
    """Row projections x <- x + (b_i - a_i.x)/|a_i|^2 a_i, one row at a time."""
    A = np.asarray(A, dtype=float)
    x = np.array(x, dtype=float)
    for i in idx:
        a = A[i]
        nrm = float(sum(v * v for v in a))
        if nrm == 0.0:
            continue
        t = (b[i] - float(sum(a[j] * x[j] for j in range(len(x))))) / nrm
        for j in range(len(x)):
            x[j] += t * a[j]
    return x


def row_norms2(A):
    A = np.asarray(A, dtype=float)
    return np.array([sum(v * v for v in row) for row in A])
