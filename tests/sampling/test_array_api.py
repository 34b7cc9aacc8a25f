"""numopt.sampling on the generic (Array API) path, against the NumPy path.

Bases: the same recurrences in float64, so features agree to rounding
(1e-12 relative). Samplers: random choices come from the same host
Generator in the same order, so designs are *equal* to the NumPy ones
(finite sets: the same indices). Weighted least squares: a linear solve,
compared at 1e-7 relative (the issue's tolerance); the error figures are
sums of squares on the same nodes, compared at 1e-9.
"""
import array_api_compat
import numpy as np
import pytest


from numopt.sampling import (SAMPLINGS, finite_basis, polynomial_basis, sample_optimal,
                             sample_points, sample_projection_dpp, sample_repeated_dpp,
                             sample_volume_rescaled, weighted_least_squares)




def runge(x):
    return 1.0 / (1.0 + 25.0 * x * x)


def features_xp(X):
    """A feature map written against the Array API: 1, x, y, xy, x^2."""
    xp = array_api_compat.array_namespace(X)
    return xp.stack([xp.ones_like(X[:, 0]), X[:, 0], X[:, 1], X[:, 0] * X[:, 1],
                     X[:, 0] ** 2], axis=1)


def cand(N=400, seed=0):
    return np.random.default_rng(seed).uniform(-1, 1, (N, 2))


@pytest.mark.parametrize("family", ["legendre", "hermite", "chebyshev"])
def test_polynomial_features_on_device(xpb, family):
    B = polynomial_basis(family, dim=15, d=2, index_set="hyperbolic-cross")
    x = np.random.default_rng(1).uniform(-1, 1, (50, 2))
    F = xpb.check(B(xpb.asarray(x)))
    ref = B(x)
    np.testing.assert_allclose(xpb.to_numpy(F), ref, rtol=1e-12, atol=1e-12 * abs(ref).max())
    k = xpb.check(B.christoffel(xpb.asarray(x)))
    np.testing.assert_allclose(xpb.to_numpy(k), B.christoffel(x), rtol=1e-12)
    w = xpb.check(B.optimal_weights(xpb.asarray(x)))
    np.testing.assert_allclose(xpb.to_numpy(w), B.optimal_weights(x), rtol=1e-12)
    F32 = xpb.check(B(xpb.asarray(x, dtype=np.float32)))
    assert F32.dtype == xpb.float32
    np.testing.assert_allclose(xpb.to_numpy(F32), B(x.astype(np.float32)), rtol=1e-6)
    one_d = polynomial_basis(family, dim=4)
    t = np.linspace(-0.9, 0.9, 7)
    np.testing.assert_allclose(xpb.to_numpy(xpb.check(one_d(xpb.asarray(t)))), one_d(t),
                               rtol=1e-12, atol=1e-13)


@pytest.mark.parametrize("sampling", SAMPLINGS)
def test_polynomial_designs_equal_the_numpy_designs(xpb, sampling):
    B = polynomial_basis("legendre", dim=6, d=2)
    n = 6 if sampling == "dpp" else 12
    X = xpb.check(sample_points(B, n, sampling, rng=3, xp=xpb.xp, device=xpb.device))
    assert X.dtype == xpb.float64
    np.testing.assert_array_equal(xpb.to_numpy(X), sample_points(B, n, sampling, rng=3))


def test_each_sampler_takes_xp_and_device(xpb):
    B = polynomial_basis("hermite", dim=5)
    where = {"xp": xpb.xp, "device": xpb.device}
    pairs = [(sample_optimal(B, 7, rng=1, **where), sample_optimal(B, 7, rng=1)),
             (sample_projection_dpp(B, rng=1, method="chain", **where),
              sample_projection_dpp(B, rng=1, method="chain")),
             (sample_volume_rescaled(B, 9, rng=1, generalized=False, **where),
              sample_volume_rescaled(B, 9, rng=1, generalized=False)),
             (sample_repeated_dpp(B, 2, rng=1, **where), sample_repeated_dpp(B, 2, rng=1))]
    for got, ref in pairs:
        np.testing.assert_array_equal(xpb.to_numpy(xpb.check(got)), ref)


def test_finite_basis_on_device(xpb):
    C = cand()
    p = np.random.default_rng(2).random(C.shape[0])
    C0, p0 = C.copy(), p.copy()
    Cd, pd = xpb.asarray(C), xpb.asarray(p)
    B = finite_basis(features_xp, Cd, pd)
    ref = finite_basis(features_xp, C, p)
    xpb.check(B.Q, B.candidates, B.probabilities)
    Q = xpb.to_numpy(B.Q)
    np.testing.assert_allclose(Q.T @ Q, np.eye(5), atol=1e-12)
    # same orthonormal basis up to column signs (QR sign convention)
    np.testing.assert_allclose(np.abs(Q), np.abs(ref.Q), atol=1e-12)
    x = C[:9] * 0.5
    np.testing.assert_allclose(np.abs(xpb.to_numpy(xpb.check(B(xpb.asarray(x))))),
                               np.abs(ref(x)), atol=1e-12)
    for sampling in SAMPLINGS:
        n = 5 if sampling == "dpp" else 10
        idx = xpb.check(sample_points(B, n, sampling, rng=4, return_indices=True))
        np.testing.assert_array_equal(xpb.to_numpy(idx),
                                      sample_points(ref, n, sampling, rng=4,
                                                    return_indices=True))
        pts = xpb.check(sample_points(B, n, sampling, rng=4))
        np.testing.assert_array_equal(xpb.to_numpy(pts), C[xpb.to_numpy(idx)])
    np.testing.assert_array_equal(xpb.to_numpy(B.sample_measure(6, rng=5)),
                                  ref.sample_measure(6, rng=5))
    np.testing.assert_array_equal(xpb.to_numpy(Cd), C0)        # inputs not mutated
    np.testing.assert_array_equal(xpb.to_numpy(pd), p0)


@pytest.mark.parametrize("sampling,conditioned", [("iid", True), ("repeated-dpp", False),
                                                  ("generalized-volume", False),
                                                  ("volume", False)])
def test_weighted_least_squares_on_device(xpb, sampling, conditioned):
    seen = []

    def f(x):
        seen.append(xpb.check(x).shape)
        xp = array_api_compat.array_namespace(x)
        return 1.0 / (1.0 + 25.0 * x * x) + 0.1 * xp.sin(3.0 * x)

    def f_np(x):
        return runge(x) + 0.1 * np.sin(3.0 * x)

    kw = dict(dim=12, n=36, sampling=sampling, conditioned=conditioned, delta=0.9, rng=7)
    ref = weighted_least_squares(f_np, "legendre", **kw)
    res = weighted_least_squares(f, "legendre", xp=xpb.xp, device=xpb.device, **kw)
    xpb.check(res.x, res.coef, res.points, res.fvals, res.weights, res.gram)
    assert seen[0] == (36,)            # one variable: f receives shape (n,)
    np.testing.assert_array_equal(xpb.to_numpy(res.points), ref.points)
    np.testing.assert_allclose(xpb.to_numpy(res.coef), ref.coef, rtol=1e-7,
                               atol=1e-7 * np.abs(ref.coef).max())
    assert (res.nit, res.status, res.success) == (ref.nit, ref.status, ref.success)
    for key in ("stability", "residual", "error", "best_error", "error_ratio",
                "error_estimate"):
        assert isinstance(res[key], float)
        assert res[key] == pytest.approx(ref[key], rel=1e-9), key


def test_weighted_least_squares_on_a_device_finite_set(xpb):
    C = cand(300, seed=3)

    def g(X):
        xp = array_api_compat.array_namespace(X)
        return xp.exp(X[:, 0] - X[:, 1])

    ref = weighted_least_squares(g, features_xp, n=10, sampling="repeated-dpp",
                                 candidates=C, rng=2)
    res = weighted_least_squares(g, features_xp, n=10, sampling="repeated-dpp",
                                 candidates=xpb.asarray(C), rng=2)
    xpb.check(res.coef, res.points, res.indices, res.fvals, res.weights, res.gram)
    np.testing.assert_array_equal(xpb.to_numpy(res.indices), ref.indices)
    # coefficients in the orthonormalised basis: equal up to the QR column signs
    np.testing.assert_allclose(np.abs(xpb.to_numpy(res.coef)), np.abs(ref.coef), rtol=1e-7,
                               atol=1e-7 * np.abs(ref.coef).max())
    for key in ("error", "best_error", "stability", "residual"):
        assert res[key] == pytest.approx(ref[key], rel=1e-9), key


def test_mixed_namespaces_are_type_errors(xpb):
    B = finite_basis(features_xp, xpb.asarray(cand(50)))
    with pytest.raises(TypeError, match="x"):
        B(cand(3))
    with pytest.raises(TypeError, match="candidates|probabilities"):
        finite_basis(features_xp, xpb.asarray(cand(50)), np.full(50, 0.02))
    with pytest.raises(TypeError, match="xp"):
        sample_optimal(B, 3, rng=0, xp=np)
    with pytest.raises(TypeError, match="output of `f`"):
        weighted_least_squares(lambda x: np.ones(x.shape[0]), "legendre", dim=3, n=6,
                               rng=0, xp=xpb.xp, device=xpb.device)
    with pytest.raises(TypeError, match="device"):
        sample_optimal(polynomial_basis("legendre", dim=3), 3, rng=0, device=xpb.device)
