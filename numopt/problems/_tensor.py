"""Test functions for numopt.tensor: Newton kernel, Slater, Runge, multi-particle potentials.

The Newton kernel ``1/r`` is written as a sum of Gaussians by sinc quadrature
of ``1/r = 2/sqrt(pi) int_R exp(-r^2 e^{2s} + s) ds`` (step ``h``), i.e.
``1/r ~ sum_k c_k exp(-t_k^2 r^2)`` with ``t_k = e^{k h}`` and
``c_k = 2 h t_k / sqrt(pi)``. Each Gaussian is separable, so the kernel
centred anywhere is a CP tensor of rank = number of terms. The range-separated
(RS) splitting keeps the terms with ``t_k <= t_max`` as the smooth long-range
part (close to ``erf(t_max r) / r``); the others are short-range.
"""
from typing import NamedTuple

import numpy as np
from scipy.special import erf

from .._validation import check_array, check_rng, check_scalar
from ._base import TestFunction

__all__ = ["SincQuadrature", "newton_sinc_quadrature", "GaussianSumPotential", "newton_long_range",
           "random_charges_potential", "lattice_potential", "slater", "runge",
           "erf_newton"]


class SincQuadrature(NamedTuple):
    """Gaussian-sum weights ``1/r ≈ Σ_k c_k exp(-t_k² r²)`` (unpacks as ``t, c``)."""

    t: np.ndarray
    c: np.ndarray


def newton_sinc_quadrature(r_min=1e-3, r_max=None, eps=1e-10, h=0.2):
    """Sinc-quadrature Gaussian sum for the Newton kernel ``1/r``.

    Parameters
    ----------
    r_min, r_max : float
        Range of ``r`` (default ``r_max``: ``2 sqrt(3)``, the diameter of
        ``[-1, 1]^3``) on which ``|sum_k c_k exp(-t_k^2 r^2) - 1/r| <= eps / r``
        (about; the lower and upper cut-offs are chosen from ``eps``).
    eps : float
        Relative accuracy target.
    h : float
        Quadrature step (the discretisation error decays like ``exp(-pi^2 / (2 h))``:
        ``h = 0.2`` gives about 1e-10).

    Returns
    -------
    SincQuadrature
        Named tuple ``(t, c)``: exponent scales ``t_k`` (increasing) and
        weights ``c_k``.

    Examples
    --------
    >>> import numpy as np
    >>> from numopt.problems import newton_sinc_quadrature
    >>> t, c = newton_sinc_quadrature()
    >>> r = np.array([0.01, 0.5, 3.0])
    >>> bool(np.all(np.abs(np.exp(-np.outer(r**2, t**2)) @ c * r - 1) < 1e-9))
    True
    """
    r_min = check_scalar(r_min, "r_min", lower=0.0, lower_inclusive=False)
    r_max = 2.0 * np.sqrt(3.0) if r_max is None else r_max
    r_max = check_scalar(r_max, "r_max", lower=r_min, lower_inclusive=False)
    eps = check_scalar(eps, "eps", lower=0.0, upper=1.0, lower_inclusive=False)
    h = check_scalar(h, "h", lower=0.0, upper=1.0, lower_inclusive=False)
    # lower tail: sum over s < s_lo is about 2/sqrt(pi) e^{s_lo}; relative to 1/r_max
    s_lo = np.log(eps / r_max) - 1.0
    # upper tail: exp(-r_min^2 e^{2 s}) negligible once r_min^2 e^{2 s} > log(1/eps) + 5
    s_hi = 0.5 * np.log((np.log(1.0 / eps) + 5.0) / r_min ** 2)
    k = np.arange(int(np.floor(s_lo / h)), int(np.ceil(s_hi / h)) + 1)
    t = np.exp(k * h)
    c = 2.0 * h * t / np.sqrt(np.pi)
    return SincQuadrature(t, c)


class GaussianSumPotential:
    """``V(x) = sum_j q_j sum_k c_k exp(-t_k^2 ||x - x_j||^2)``, a CP tensor.

    Parameters
    ----------
    centers : ndarray, shape (N, d)
    charges : ndarray, shape (N,)
    t, c : ndarray, shape (K,)
        Gaussian scales and weights (e.g. the long-range terms of
        :func:`newton_sinc_quadrature`).

    Attributes
    ----------
    centers, charges, t, c, ndim
    cp_rank : int
        ``N * K``.
    """

    def __init__(self, centers, charges, t, c):
        self.centers = check_array(centers, "centers", ndim=2, dtype=np.float64)
        n = self.centers.shape[0]
        self.charges = check_array(charges, "charges", shape=(n,), dtype=np.float64)
        self.t = check_array(t, "t", ndim=1, dtype=np.float64)
        self.c = check_array(c, "c", shape=(self.t.size,), dtype=np.float64)
        self.ndim = self.centers.shape[1]
        self.cp_rank = n * self.t.size

    def __call__(self, points, chunk=256):
        """Exact values at ``points`` of shape ``(n_points, d)``."""
        x = check_array(points, "points", ndim=2, shape=(None, self.ndim), dtype=np.float64)
        out = np.empty(x.shape[0])
        t2 = self.t ** 2
        for s in range(0, x.shape[0], chunk):
            xb = x[s:s + chunk]
            r2 = np.sum((xb[:, None, :] - self.centers[None, :, :]) ** 2, axis=2)  # (b, N)
            out[s:s + chunk] = np.einsum("bn,n->b", np.exp(-r2[:, :, None] * t2) @ self.c,
                                         self.charges)
        return out

    def newton(self, points):
        """The full Coulomb potential ``sum_j q_j / ||x - x_j||`` at ``points``."""
        x = check_array(points, "points", ndim=2, shape=(None, self.ndim), dtype=np.float64)
        r = np.linalg.norm(x[:, None, :] - self.centers[None, :, :], axis=2)
        return (self.charges / r).sum(axis=1)

    def cp_weights(self):
        """CP weights ``q_j c_k`` (length ``N * K``, charge-major)."""
        return np.outer(self.charges, self.c).ravel()

    def cp_factor(self, k):
        """Callable ``x -> exp(-t^2 (x - x_{j,k})^2)`` of shape ``(len(x), N * K)``."""
        ck = self.centers[:, k]
        t2 = self.t ** 2

        def factor(x):
            x = np.asarray(x, dtype=np.float64)
            d2 = (x[:, None] - ck[None, :]) ** 2  # (n, N)
            return np.exp(-d2[:, :, None] * t2[None, None, :]).reshape(x.size, -1)

        return factor

    def cp_tensor(self):
        """``(weights, [factor_1, ..., factor_d])`` with callable factors (mesh-free)."""
        return self.cp_weights(), [self.cp_factor(k) for k in range(self.ndim)]

    def cp_grid(self, n, domain):
        """``(weights, [U_1, ..., U_d])`` with ``U_k`` sampled on ``linspace(a_k, b_k, n)``."""
        n = check_scalar(n, "n", lower=2, integer=True)
        domain = np.asarray(domain, dtype=np.float64).reshape(self.ndim, 2)
        return self.cp_weights(), [self.cp_factor(k)(np.linspace(a, b, n))
                                   for k, (a, b) in enumerate(domain)]

    def full_grid(self, n, domain):
        """The full grid tensor ``V`` on ``linspace(a_k, b_k, n)`` per mode (memory ``n^d``)."""
        w, U = self.cp_grid(n, domain)
        T = np.zeros((n,) * self.ndim)
        for s in range(0, w.size, 64):
            sl = slice(s, s + 64)
            if self.ndim == 3:
                T += np.einsum("r,ir,jr,kr->ijk", w[sl], U[0][:, sl], U[1][:, sl], U[2][:, sl],
                               optimize=True)
            else:
                G = w[sl][None, :] * U[0][:, sl]
                for Uk in U[1:]:
                    G = (G[:, None, :] * Uk[None, :, sl]).reshape(-1, G.shape[1])
                T += G.sum(axis=1).reshape(T.shape)
        return T


def _long_range_terms(t_max, eps):
    t, c = newton_sinc_quadrature(eps=eps)
    keep = t <= t_max
    return t[keep], c[keep]


def newton_long_range(t_max=1.0 / 0.3, d=3, eps=1e-10):
    """Long-range part of the Newton kernel ``1/||x||`` centred at the origin.

    The sinc-quadrature terms with ``t_k <= t_max`` (smooth, close to
    ``erf(t_max r) / r``) as a :class:`GaussianSumPotential`.

    Examples
    --------
    >>> import numpy as np
    >>> from numopt.problems import newton_long_range
    >>> V = newton_long_range()
    >>> V.ndim, V.cp_rank > 0
    (3, True)
    >>> float(np.round(V(np.array([[1.0, 0.0, 0.0]]))[0], 2))   # ~ 1/r far out
    1.0
    """
    t_max = check_scalar(t_max, "t_max", lower=0.0, lower_inclusive=False)
    d = check_scalar(d, "d", lower=1, integer=True)
    t, c = _long_range_terms(t_max, eps)
    return GaussianSumPotential(np.zeros((1, d)), np.ones(1), t, c)


def random_charges_potential(n_charges=50, d=3, box=0.8, t_max=1.0 / 0.3, rng=None,
                             eps=1e-10):
    """Long-range potential of ``n_charges`` random charges (+1 / -1, uniform in a box).

    Centers are uniform in ``[-box, box]^d``; charges are +1 or -1 with equal
    probability.

    Examples
    --------
    >>> from numopt.problems import random_charges_potential
    >>> V = random_charges_potential(10, rng=0)
    >>> V.centers.shape, sorted(set(V.charges.tolist()))
    ((10, 3), [-1.0, 1.0])
    """
    n_charges = check_scalar(n_charges, "n_charges", lower=1, integer=True)
    d = check_scalar(d, "d", lower=1, integer=True)
    box = check_scalar(box, "box", lower=0.0, lower_inclusive=False)
    rng = check_rng(rng)
    centers = rng.uniform(-box, box, size=(n_charges, d))
    charges = rng.choice([-1.0, 1.0], size=n_charges)
    t, c = _long_range_terms(t_max, eps)
    return GaussianSumPotential(centers, charges, t, c)


def lattice_potential(shape=(4, 4, 4), spacing=0.4, t_max=1.0 / 0.3, eps=1e-10):
    """Long-range potential of a lattice of alternating charges (NaCl-like).

    Charges ``(-1)^(i+j+k)`` sit at ``spacing * (index - (shape - 1) / 2)``,
    centred at the origin.

    Examples
    --------
    >>> from numopt.problems import lattice_potential
    >>> V = lattice_potential((2, 2, 2))
    >>> V.centers.shape, float(V.charges.sum())
    ((8, 3), 0.0)
    """
    shape = tuple(check_scalar(s, "shape", lower=1, integer=True) for s in shape)
    spacing = check_scalar(spacing, "spacing", lower=0.0, lower_inclusive=False)
    idx = np.indices(shape).reshape(len(shape), -1).T
    centers = spacing * (idx - (np.array(shape) - 1) / 2.0)
    charges = (-1.0) ** idx.sum(axis=1)
    t, c = _long_range_terms(t_max, eps)
    return GaussianSumPotential(centers, charges, t, c)


def slater(alpha=1.0, center=None):
    """Slater function ``exp(-alpha ||x - center||)`` (cusp at ``center``).

    Returns a :class:`TestFunction`.

    Examples
    --------
    >>> import numpy as np
    >>> from numopt.problems import slater
    >>> float(slater()(np.array([[0.0, 3.0, 4.0]]))[0]) == float(np.exp(-5.0))
    True
    """
    alpha = check_scalar(alpha, "alpha", lower=0.0)
    c0 = None if center is None else check_array(center, "center", ndim=1, dtype=np.float64)

    def f(x):
        x = np.asarray(x, dtype=np.float64)
        y = x if c0 is None else x - c0
        return np.exp(-alpha * np.sqrt(np.sum(y * y, axis=1)))

    return TestFunction("slater", f, alpha=alpha, center=center)


def runge(alpha=25.0):
    """Runge-type function ``1 / (1 + alpha ||x||^2)`` (a :class:`TestFunction`).

    Examples
    --------
    >>> import numpy as np
    >>> from numopt.problems import runge
    >>> float(runge()(np.array([[0.2, 0.0, 0.0]]))[0])
    0.5
    """
    alpha = check_scalar(alpha, "alpha", lower=0.0)

    def f(x):
        x = np.asarray(x, dtype=np.float64)
        return 1.0 / (1.0 + alpha * np.sum(x * x, axis=1))

    return TestFunction("runge", f, alpha=alpha)


def erf_newton(width=0.3):
    """``erf(||x|| / width) / ||x||`` (value ``2 / (width sqrt(pi))`` at 0).

    The smooth long-range part of the Newton kernel in closed form, as a
    :class:`TestFunction`.

    Examples
    --------
    >>> import numpy as np
    >>> from numopt.problems import erf_newton
    >>> f = erf_newton(0.5)
    >>> bool(np.isclose(f(np.zeros((1, 3)))[0], 2 / (0.5 * np.sqrt(np.pi))))
    True
    """
    width = check_scalar(width, "width", lower=0.0, lower_inclusive=False)
    at0 = 2.0 / (width * np.sqrt(np.pi))

    def f(x):
        x = np.asarray(x, dtype=np.float64)
        r = np.sqrt(np.sum(x * x, axis=1))
        small = r < 1e-6 * width
        rs = np.where(small, 1.0, r)
        # Taylor: erf(z)/z = 2/sqrt(pi) (1 - z^2/3 + ...)
        z = r / width
        return np.where(small, at0 * (1.0 - z * z / 3.0), erf(r / width) / rs)

    return TestFunction("erf_newton", f, width=width)
