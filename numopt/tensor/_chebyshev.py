"""One-dimensional Chebyshev tools used mode by mode.

Conventions: a degree-``n`` series on ``[a, b]`` is stored as its ``n + 1``
coefficients ``c_j`` of ``T_j(t)``, ``t = (2x - a - b) / (b - a)``; values are
sampled at the ``n + 1`` second-kind (Chebyshev-Lobatto) points
``t_j = cos(pi j / n)``, j = 0..n, i.e. in *descending* order.
"""
import numpy as np
import scipy.fft

__all__ = ["cheb_points", "vals2coeffs", "coeffs2vals", "cheb_integrals",
           "cheb_vander", "to_unit", "from_unit"]


def cheb_points(n, a=-1.0, b=1.0):
    """The ``n + 1`` second-kind Chebyshev points of ``[a, b]``, descending."""
    t = np.cos(np.pi * np.arange(n + 1) / n)
    return from_unit(t, a, b)


def to_unit(x, a, b):
    """Map ``x`` from ``[a, b]`` to ``[-1, 1]``."""
    return (2.0 * x - (a + b)) / (b - a)


def from_unit(t, a, b):
    """Map ``t`` from ``[-1, 1]`` to ``[a, b]``."""
    return 0.5 * (b - a) * t + 0.5 * (a + b)


def vals2coeffs(values, axis=0, overwrite=False):
    """Chebyshev coefficients from values at the second-kind points (DCT-I).

    ``values`` holds ``n + 1 >= 2`` samples along ``axis`` at
    ``cos(pi j / n)``; the result holds the coefficients of the unique
    interpolating polynomial of degree ``n`` along the same axis.
    ``overwrite=True`` lets the transform reuse the memory of ``values``.
    """
    values = np.asarray(values, dtype=np.float64)
    n = values.shape[axis] - 1
    c = scipy.fft.dct(values, type=1, axis=axis, overwrite_x=overwrite)
    c /= n
    idx = [slice(None)] * c.ndim
    idx[axis] = 0
    c[tuple(idx)] *= 0.5
    idx[axis] = n
    c[tuple(idx)] *= 0.5
    return c


def coeffs2vals(coeffs, axis=0):
    """Inverse of :func:`vals2coeffs` (values at ``cos(pi j / n)``)."""
    c = np.array(coeffs, dtype=np.float64)  # copy: scaled in place below
    n = c.shape[axis] - 1
    idx = [slice(None)] * c.ndim
    idx[axis] = slice(1, n)
    c[tuple(idx)] *= 0.5
    return scipy.fft.dct(c, type=1, axis=axis)


def cheb_integrals(n):
    """``q_j = int_{-1}^{1} T_j(t) dt`` for j = 0..n (2/(1-j^2) for even j, else 0)."""
    j = np.arange(n + 1, dtype=np.float64)
    q = np.zeros(n + 1)
    even = (np.arange(n + 1) % 2) == 0
    q[even] = 2.0 / (1.0 - j[even] ** 2)
    return q


def cheb_vander(t, n):
    """``T_j(t)`` for j = 0..n as an array of shape ``(len(t), n + 1)``."""
    t = np.asarray(t, dtype=np.float64)
    T = np.empty((t.shape[0], n + 1))
    T[:, 0] = 1.0
    if n >= 1:
        T[:, 1] = t
    for j in range(2, n + 1):
        T[:, j] = 2.0 * t * T[:, j - 1] - T[:, j - 2]
    return T
