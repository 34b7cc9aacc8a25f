"""Numba kernels of :mod:`numopt.sampling`.

Every kernel takes float64 / int64 C-contiguous arrays and a
``numpy.random.Generator`` (Numba shares the generator's state with the
caller, so a seed fixes every draw). Slow pure-Python references live in
``tests/sampling/_naive.py``.

Families (integer codes): 0 Legendre (uniform probability on [-1, 1]),
1 Hermite (standard Gaussian), 2 Chebyshev (arcsine law on [-1, 1]); the
univariate polynomials are orthonormal in L^2 of that probability measure.
"""
import math

import numpy as np

from .._jit import njit

LEGENDRE, HERMITE, CHEBYSHEV = 0, 1, 2

_SQRT2 = math.sqrt(2.0)
_INV_SQRT_2PI = 1.0 / math.sqrt(2.0 * math.pi)


@njit
def poly_all(family, t, kmax, out):
    """Fill ``out[0..kmax]`` with the orthonormal polynomials of ``family`` at ``t``."""
    out[0] = 1.0
    if kmax == 0:
        return
    if family == LEGENDRE:
        # P_{k+1} = ((2k+1) t P_k - k P_{k-1}) / (k+1), then scale by sqrt(2k+1)
        pm, p = 1.0, t
        out[1] = math.sqrt(3.0) * t
        for k in range(1, kmax):
            pn = ((2.0 * k + 1.0) * t * p - k * pm) / (k + 1.0)
            pm, p = p, pn
            out[k + 1] = math.sqrt(2.0 * k + 3.0) * pn
    elif family == HERMITE:
        # phi_{k+1} = (t phi_k - sqrt(k) phi_{k-1}) / sqrt(k+1)
        out[1] = t
        for k in range(1, kmax):
            out[k + 1] = (t * out[k] - math.sqrt(k) * out[k - 1]) / math.sqrt(k + 1.0)
    else:
        # T_{k+1} = 2 t T_k - T_{k-1}; phi_k = sqrt(2) T_k for k >= 1
        tm, tk = 1.0, t
        out[1] = _SQRT2 * t
        for k in range(1, kmax):
            tn = 2.0 * t * tk - tm
            tm, tk = tk, tn
            out[k + 1] = _SQRT2 * tn


@njit
def _fill_tables(family, x, kmax, tab):
    for c in range(x.shape[0]):
        poly_all(family, x[c], kmax, tab[c])


@njit
def _features_row(alpha, tab, out):
    m, d = alpha.shape
    for j in range(m):
        v = 1.0
        for c in range(d):
            v *= tab[c, alpha[j, c]]
        out[j] = v


@njit
def features(family, X, alpha):
    """Feature matrix ``Phi[i, j] = prod_c phi_{alpha[j, c]}(X[i, c])``, shape (n, m)."""
    n, d = X.shape
    m = alpha.shape[0]
    kmax = 0
    for j in range(m):
        for c in range(d):
            kmax = max(kmax, alpha[j, c])
    out = np.empty((n, m))
    tab = np.empty((d, kmax + 1))
    for i in range(n):
        _fill_tables(family, X[i], kmax, tab)
        _features_row(alpha, tab, out[i])
    return out


@njit
def hermite_cdf(k, t):
    """CDF of the density ``phi_k(t)^2 gamma(t)`` (gamma: standard normal).

    Uses ``F_k = F_{k-1} - gamma(t) phi_k(t) phi_{k-1}(t) / sqrt(k)``, which
    follows from ``d/dt[gamma phi_k phi_{k-1}] = sqrt(k) gamma (phi_{k-1}^2 - phi_k^2)``.
    Returns ``(F_k(t), phi_k(t)^2 gamma(t))``.
    """
    # run the recurrence on phi_j sqrt(gamma) (Hermite functions, bounded by
    # ~1) instead of phi_j, so that large degrees neither overflow nor lose the tail
    F = 0.5 * math.erfc(-t / _SQRT2)
    pm, p = 0.0, math.sqrt(_INV_SQRT_2PI) * math.exp(-0.25 * t * t)
    for j in range(1, k + 1):
        pn = (t * p - math.sqrt(j - 1.0) * pm) / math.sqrt(float(j))
        pm, p = p, pn
        F -= p * pm / math.sqrt(float(j))
    return F, p * p


@njit
def _hermite_inverse_cdf(k, u):
    """Solve ``F_k(t) = u`` by Newton's method safeguarded by bisection."""
    hi = math.sqrt(4.0 * k + 2.0) + 12.0
    lo = -hi
    t = 0.0
    for _ in range(200):
        F, dens = hermite_cdf(k, t)
        if F < u:
            lo = t
        else:
            hi = t
        if dens > 0.0:
            tn = t - (F - u) / dens
        else:
            tn = 0.5 * (lo + hi)
        if not (lo < tn < hi):
            tn = 0.5 * (lo + hi)
        if abs(tn - t) <= 1e-14 * max(1.0, abs(t)) or hi - lo <= 1e-14 * max(1.0, abs(t)):
            return tn
        t = tn
    return t


@njit
def sample_univariate(family, k, rng):
    """One draw from the density ``phi_k(t)^2`` with respect to the family's measure.

    Legendre: rejection from the arcsine law; the ratio
    ``(2k+1) P_k(t)^2 (pi/2) sqrt(1-t^2)`` is at most 2 (Bernstein-type bound),
    so two proposals are needed on average. Chebyshev: ``t = cos(theta)`` with
    ``theta`` uniform on [0, pi] accepted with probability ``cos(k theta)^2``.
    Hermite: inverse CDF (exact CDF recurrence, see :func:`hermite_cdf`).
    """
    if family == LEGENDRE:
        while True:
            t = math.cos(math.pi * rng.random())
            pm, p = 1.0, t
            if k == 0:
                p = 1.0
            for j in range(1, k):
                pn = ((2.0 * j + 1.0) * t * p - j * pm) / (j + 1.0)
                pm, p = p, pn
            ratio = (2.0 * k + 1.0) * p * p * (0.25 * math.pi) * math.sqrt(max(0.0, 1.0 - t * t))
            if rng.random() < ratio:
                return t
    elif family == CHEBYSHEV:
        while True:
            theta = math.pi * rng.random()
            c = math.cos(k * theta)
            if rng.random() < c * c:
                return math.cos(theta)
    else:
        u = rng.random()
        while u == 0.0:
            u = rng.random()
        return _hermite_inverse_cdf(k, u)


@njit
def _sample_mixture(family, alpha, rng, x):
    """Draw ``x`` from ``rho_m = (1/m) sum_j phi_j^2 dmu`` (pick j, then each coordinate)."""
    j = rng.integers(0, alpha.shape[0])
    for c in range(alpha.shape[1]):
        x[c] = sample_univariate(family, alpha[j, c], rng)


@njit
def sample_optimal(family, alpha, n, rng):
    """``n`` i.i.d. points from the optimal density ``rho_m = k_m / m``; shape (n, d)."""
    X = np.empty((n, alpha.shape[1]))
    for i in range(n):
        _sample_mixture(family, alpha, rng, X[i])
    return X


@njit
def _append_orthonormal(E, i, v):
    """Gram-Schmidt with one re-orthogonalisation: ``v`` (overwritten) against the
    orthonormal rows ``E[:i]``, normalised into ``E[i]`` (both DPP samplers)."""
    m = v.shape[0]
    for _ in range(2):
        for l_ in range(i):
            c = 0.0
            for j in range(m):
                c += E[l_, j] * v[j]
            for j in range(m):
                v[j] -= c * E[l_, j]
    res = 0.0
    for j in range(m):
        res += v[j] * v[j]
    nrm = math.sqrt(res)
    for j in range(m):
        E[i, j] = v[j] / nrm


@njit
def projection_dpp(family, alpha, rng):
    """Projection DPP with kernel ``K_m(x, y) = phi(x)^T phi(y)`` by the HKPV chain rule.

    Point ``i`` is proposed from ``rho_m`` and accepted with probability
    ``||(I - P_i) phi(x)||^2 / ||phi(x)||^2`` where ``P_i`` projects onto the
    span of the features of the points already taken (kept as orthonormal
    rows of ``E`` by Gram-Schmidt with one re-orthogonalisation). Returns the
    points, shape (m, d), and the number of proposals.
    """
    m, d = alpha.shape
    kmax = 0
    for j in range(m):
        for c in range(d):
            kmax = max(kmax, alpha[j, c])
    X = np.empty((m, d))
    E = np.zeros((m, m))
    tab = np.empty((d, kmax + 1))
    x = np.empty(d)
    v = np.empty(m)
    nprop = 0
    for i in range(m):
        while True:
            nprop += 1
            _sample_mixture(family, alpha, rng, x)
            _fill_tables(family, x, kmax, tab)
            _features_row(alpha, tab, v)
            kxx = 0.0
            for j in range(m):
                kxx += v[j] * v[j]
            # residual ||(I - P_i) v||^2 = kxx - ||E_i v||^2 (one pass); the
            # vector itself is only formed for an accepted proposal
            proj = 0.0
            for l_ in range(i):
                c = 0.0
                for j in range(m):
                    c += E[l_, j] * v[j]
                proj += c * c
            if rng.random() * kxx < kxx - proj:
                break
        _append_orthonormal(E, i, v)
        for c in range(d):
            X[i, c] = x[c]
    return X, nprop


@njit
def finite_projection_dpp(Q, rng):
    """Projection DPP on ``N`` items with marginal kernel ``K = Q Q^T`` (``Q^T Q = I``).

    Chain rule: item ``j`` is drawn with probability proportional to the
    residual ``K_jj - K_{j,S} K_S^{-1} K_{S,j}``, kept as ``r`` and updated
    after each pick with the new Gram-Schmidt direction ``e`` (``r -= (Q e)^2``).
    Returns the ``m`` indices in the order drawn.
    """
    N, m = Q.shape
    r = np.empty(N)
    for a in range(N):
        s = 0.0
        for j in range(m):
            s += Q[a, j] * Q[a, j]
        r[a] = s
    E = np.zeros((m, m))
    idx = np.empty(m, dtype=np.int64)
    v = np.empty(m)
    for i in range(m):
        tot = 0.0
        for a in range(N):
            if r[a] > 0.0:
                tot += r[a]
        u = rng.random() * tot
        pick = -1
        acc = 0.0
        for a in range(N):
            if r[a] > 0.0:
                acc += r[a]
                pick = a
                if acc > u:
                    break
        if pick < 0:
            raise ValueError("finite DPP: no candidate has a positive residual; the "
                             "columns of Q must be orthonormal")
        idx[i] = pick
        for j in range(m):
            v[j] = Q[pick, j]
        _append_orthonormal(E, i, v)
        for a in range(N):
            c = 0.0
            for j in range(m):
                c += Q[a, j] * E[i, j]
            r[a] -= c * c
        r[pick] = 0.0
    return idx

