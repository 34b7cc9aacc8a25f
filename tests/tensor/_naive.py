"""Slow pure-Python references for the numopt.tensor kernels."""
import numpy as np
from numpy.polynomial import chebyshev as npcheb


def eval_tucker_cheb_naive(ct, points):
    """Evaluate a ChebyshevTucker point by point with numpy.polynomial.chebyshev.chebval."""
    points = np.asarray(points, dtype=np.float64)
    out = np.empty(points.shape[0])
    for i, x in enumerate(points):
        T = ct.core
        for k in range(ct.ndim - 1, -1, -1):
            a, b = ct.domain[k]
            t = (2.0 * x[k] - a - b) / (b - a)
            u = np.array([npcheb.chebval(t, ct.factors[k][:, c])
                          for c in range(ct.factors[k].shape[1])])
            T = np.tensordot(T, u, axes=([k], [0]))
        out[i] = float(T)
    return out
