"""Numba kernels against the slow references of tests/sampling/_naive.py."""
import math

import numpy as np
import pytest
from scipy import stats

from numopt.sampling import _kernels as K
from numopt.sampling import multi_indices as _multi_indices

from . import _naive


def multi_indices(*args, **kw):
    """Read-only, like PolynomialBasis.indices, so the kernels compile one signature."""
    idx = _multi_indices(*args, **kw)
    idx.setflags(write=False)
    return idx


def _readonly(a):
    a = np.ascontiguousarray(a, dtype=np.float64)
    a.setflags(write=False)
    return a


@pytest.mark.parametrize("family", [0, 1, 2])
@pytest.mark.parametrize("kmax", [0, 1, 7, 40])
def test_poly_all_matches_numpy_polynomial(family, kmax):
    t = np.array([-0.97, -0.3, 0.0, 0.55, 1.0]) * (3.0 if family == 1 else 1.0)
    out = np.empty(kmax + 1)
    for ti in t:
        K.poly_all(family, ti, kmax, out)
        ref = [_naive.poly(family, k, ti) for k in range(kmax + 1)]
        np.testing.assert_allclose(out, ref, rtol=1e-10, atol=1e-10)


@pytest.mark.parametrize("family", [0, 1, 2])
def test_features_edge_sizes_and_layouts(family):
    alpha = multi_indices(2, 10, kind="hyperbolic-cross")
    rng = np.random.default_rng(0)
    X = rng.uniform(-1, 1, (7, 4))[:, ::2]  # non-contiguous view
    got = K.features(family, np.ascontiguousarray(X), alpha)
    np.testing.assert_allclose(got, _naive.features(family, X, alpha), rtol=1e-12, atol=1e-12)
    one = K.features(family, np.ascontiguousarray(X[:1]), alpha)
    assert one.shape == (1, 10)
    np.testing.assert_allclose(one[0], got[0])
    assert K.features(family, np.zeros((0, 2)), alpha).shape == (0, 10)


@pytest.mark.parametrize("k", [0, 1, 4, 15])
def test_hermite_cdf_matches_closed_form(k):
    for t in [-4.0, -1.3, 0.0, 0.7, 2.5]:
        F, dens = K.hermite_cdf(k, t)
        assert F == pytest.approx(_naive.hermite_cdf(k, t), abs=1e-10)
        assert dens == pytest.approx(_naive.poly(1, k, t) ** 2 * math.exp(-t * t / 2)
                                     / math.sqrt(2 * math.pi), rel=1e-10, abs=1e-300)
    assert K.hermite_cdf(k, 40.0)[0] == pytest.approx(1.0, abs=1e-12)


def test_legendre_envelope_bound():
    """The arcsine envelope constant 2 of the Legendre rejection sampler holds."""
    t = np.cos(np.linspace(1e-7, np.pi - 1e-7, 20001))
    for k in [0, 1, 2, 3, 10, 57, 200]:
        ratio = (2 * k + 1) * (_naive.poly(0, k, t) ** 2 / (2 * k + 1)) * np.pi / 2 \
            * np.sqrt(1 - t * t)
        assert ratio.max() <= 2.0


@pytest.mark.parametrize("family", [0, 1, 2])
def test_univariate_sampler_same_stream_as_naive(family):
    for k in [0, 3, 9]:
        a = np.random.default_rng(k)
        b = np.random.default_rng(k)
        got = [K.sample_univariate(family, k, a) for _ in range(20)]
        ref = [_naive.sample_univariate(family, k, b) for _ in range(20)]
        np.testing.assert_allclose(got, ref, rtol=1e-10, atol=1e-11)


def _cdf_phi_k_squared(family, k):
    """CDF of phi_k^2 dmu from numpy.polynomial antiderivatives (independent of the kernel)."""
    from numpy.polynomial import Chebyshev, Legendre
    if family == 0:
        c = np.zeros(k + 1)
        c[k] = 1.0
        P2 = (Legendre(c) ** 2) * ((2 * k + 1) / 2)
        anti = P2.integ(lbnd=-1)
        return lambda t: anti(np.clip(t, -1, 1))
    if family == 2:  # theta = arccos t uniform-ish: F(t) = 1 - (theta + sin(2k theta)/(2k))/pi
        def cdf(t):
            th = np.arccos(np.clip(t, -1, 1))
            s = th if k == 0 else th + np.sin(2 * k * th) / (2 * k)
            return 1 - s / np.pi
        del Chebyshev
        return cdf
    return lambda t: _naive.hermite_cdf(k, t)


@pytest.mark.parametrize("family,k", [(0, 0), (0, 5), (0, 30), (2, 0), (2, 7), (1, 0), (1, 6)])
def test_univariate_sampler_ks(family, k):
    rng = np.random.default_rng(123)
    n = 20000
    x = np.array([K.sample_univariate(family, k, rng) for _ in range(n)])
    p = stats.kstest(x, _cdf_phi_k_squared(family, k)).pvalue
    assert p > 1e-3


@pytest.mark.parametrize("family", [0, 1, 2])
def test_sample_optimal_same_stream_as_naive(family):
    alpha = multi_indices(2, 6)
    got = K.sample_optimal(family, alpha, 15, np.random.default_rng(1))
    ref = _naive.sample_optimal(family, alpha, 15, np.random.default_rng(1))
    np.testing.assert_allclose(got, ref, rtol=1e-10, atol=1e-11)


@pytest.mark.parametrize("family,d,m", [(0, 1, 1), (0, 1, 8), (2, 2, 6), (1, 1, 5)])
def test_projection_dpp_same_stream_as_naive(family, d, m):
    alpha = multi_indices(d, m)
    X, nprop = K.projection_dpp(family, alpha, np.random.default_rng(7))
    Xr, nr = _naive.projection_dpp(family, alpha, np.random.default_rng(7))
    assert nprop == nr
    np.testing.assert_allclose(X, Xr, rtol=1e-9, atol=1e-10)


@pytest.mark.parametrize("N,m", [(1, 1), (12, 1), (25, 6)])
def test_finite_projection_dpp_same_stream_as_naive(N, m):
    rng = np.random.default_rng(3)
    Q = np.linalg.qr(rng.standard_normal((N, m)))[0]
    for seed in range(5):
        got = K.finite_projection_dpp(_readonly(Q), np.random.default_rng(seed))
        ref = _naive.finite_projection_dpp(Q, np.random.default_rng(seed))
        np.testing.assert_array_equal(got, ref)


def test_finite_projection_dpp_rejects_degenerate_kernel():
    with pytest.raises(ValueError, match="orthonormal"):
        K.finite_projection_dpp(_readonly(np.zeros((5, 2))), np.random.default_rng(0))


def test_hermite_cdf_large_degree_is_stable():
    """k = 300: finite, monotone, symmetric CDF whose derivative is the returned density."""
    k = 300
    t = np.linspace(-45, 45, 3001)
    F = np.array([K.hermite_cdf(k, ti)[0] for ti in t])
    dens = np.array([K.hermite_cdf(k, ti)[1] for ti in t])
    assert np.all(np.isfinite(F)) and np.all(np.isfinite(dens))
    assert F[0] == pytest.approx(0.0, abs=1e-12) and F[-1] == pytest.approx(1.0, abs=1e-12)
    assert np.all(np.diff(F) >= -1e-12)
    np.testing.assert_allclose(F + F[::-1], 1.0, atol=1e-10)
    trap = np.concatenate([[0.0], np.cumsum((dens[1:] + dens[:-1]) / 2 * np.diff(t))])
    np.testing.assert_allclose(F, trap, atol=2e-4)
    x = K.sample_univariate(1, k, np.random.default_rng(0))
    assert abs(x) < math.sqrt(4 * k + 2) + 12
