"""Slow pure-Python references of the kernels in numopt/sampling/_kernels.py.

They consume the random generator in the same order as the kernels, so with
the same seed they must return the same draws.
"""
import math

import numpy as np
from numpy.polynomial import chebyshev, hermite_e, legendre

FAMILIES = {0: "legendre", 1: "hermite", 2: "chebyshev"}


def poly(family, k, t):
    """Orthonormal polynomial of degree k via numpy.polynomial."""
    c = np.zeros(k + 1)
    c[k] = 1.0
    t = np.asarray(t, dtype=float)
    if family == 0:
        return math.sqrt(2 * k + 1) * legendre.legval(t, c)
    if family == 1:
        return hermite_e.hermeval(t, c) / math.sqrt(math.factorial(k))
    return (1.0 if k == 0 else math.sqrt(2.0)) * chebyshev.chebval(t, c)


def features(family, X, alpha):
    X = np.asarray(X, dtype=float)
    out = np.ones((X.shape[0], alpha.shape[0]))
    for j, a in enumerate(alpha):
        for c, k in enumerate(a):
            out[:, j] *= poly(family, int(k), X[:, c])
    return out


def hermite_cdf(k, t):
    """CDF of phi_k^2 dgamma in closed form from numpy.polynomial.hermite_e.

    With phi_k^2 = sum_j c_j He_j (HermiteE series) and
    d/dt[He_{j-1} gamma] = -He_j gamma: F(t) = c_0 Phi(t) - gamma(t) sum_{j>=1} c_j He_{j-1}(t).
    """
    from scipy.special import ndtr
    e = np.zeros(k + 1)
    e[k] = 1.0 / math.sqrt(math.factorial(k))
    c = hermite_e.hermemul(e, e)
    t = np.asarray(t, dtype=float)
    g = np.exp(-0.5 * t * t) / math.sqrt(2 * math.pi)
    tail = hermite_e.hermeval(t, c[1:]) if c.size > 1 else 0.0
    return c[0] * ndtr(t) - g * tail


def sample_univariate(family, k, rng):
    if family == 0:
        while True:
            t = math.cos(math.pi * rng.random())
            ratio = float(poly(0, k, t)) ** 2 * (math.pi / 4) * math.sqrt(max(0.0, 1 - t * t))
            if rng.random() < ratio:
                return t
    if family == 2:
        while True:
            theta = math.pi * rng.random()
            if rng.random() < math.cos(k * theta) ** 2:
                return math.cos(theta)
    u = rng.random()
    from scipy.optimize import brentq
    hi = math.sqrt(4 * k + 2) + 12
    return brentq(lambda t: hermite_cdf(k, t) - u, -hi, hi, xtol=1e-13)


def sample_optimal(family, alpha, n, rng):
    X = np.empty((n, alpha.shape[1]))
    for i in range(n):
        j = rng.integers(0, alpha.shape[0])
        for c in range(alpha.shape[1]):
            X[i, c] = sample_univariate(family, int(alpha[j, c]), rng)
    return X


def projection_dpp(family, alpha, rng):
    """HKPV chain rule with Schur complements of the kernel matrix (no Gram-Schmidt)."""
    m = alpha.shape[0]
    pts = []
    nprop = 0
    for _ in range(m):
        while True:
            nprop += 1
            x = sample_optimal(family, alpha, 1, rng)
            v = features(family, x, alpha)[0]
            kxx = v @ v
            if pts:
                P = features(family, np.array(pts), alpha)
                KS = P @ P.T
                kx = P @ v
                schur = kxx - kx @ np.linalg.solve(KS, kx)
            else:
                schur = kxx
            if rng.random() * kxx < schur:
                pts.append(x[0])
                break
    return np.array(pts), nprop


def finite_projection_dpp(Q, rng):
    """Chain rule on a finite set with explicit Schur complements of K = Q Q^T."""
    Kmat = Q @ Q.T
    N, m = Q.shape
    S = []
    for _ in range(m):
        if S:
            KS = Kmat[np.ix_(S, S)]
            KxS = Kmat[:, S]
            r = np.diag(Kmat) - np.einsum("ij,ji->i", KxS, np.linalg.solve(KS, KxS.T))
        else:
            r = np.diag(Kmat).copy()
        r[S] = 0.0
        r = np.where(r > 0, r, 0.0)
        u = rng.random() * r.sum()
        pick = int(np.searchsorted(np.cumsum(r), u, side="right"))
        S.append(min(pick, N - 1))
    return np.array(S)
