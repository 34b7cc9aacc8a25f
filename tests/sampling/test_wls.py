"""weighted_least_squares against closed forms, numpy.polynomial, lstsq and brute-force LOO."""
import math
import warnings

import numpy as np
import pytest
from numpy.polynomial import legendre
from scipy import integrate

from numopt import OptimizeWarning
from numopt.sampling import finite_basis, polynomial_basis, weighted_least_squares


def runge(x):
    return 1.0 / (1.0 + 25.0 * x ** 2)


def test_acceptance_repeated_dpp_median_ratio():
    """n = 2m, m = 20, Runge: repeated DPP median error <= 1.5 x best; i.i.d. clearly worse."""
    rng = np.random.default_rng(0)
    B = polynomial_basis("legendre", 20)
    ratios = {s: [weighted_least_squares(runge, B, n=40, sampling=s, rng=rng).error_ratio
                  for _ in range(60)] for s in ["repeated-dpp", "iid"]}
    med = {s: np.median(r) for s, r in ratios.items()}
    assert med["repeated-dpp"] <= 1.5
    assert med["iid"] > med["repeated-dpp"]


def test_best_error_matches_independent_projection():
    m = 12
    res = weighted_least_squares(runge, "legendre", dim=m, n=60, rng=0)
    # independent projection: Legendre series by Gauss-Legendre quadrature, error by scipy quad
    t, w = legendre.leggauss(200)
    c = np.array([(2 * k + 1) / 2 * np.sum(w * runge(t) * legendre.legval(t, np.eye(m)[k]))
                  for k in range(m)])
    err2 = integrate.quad(lambda x: (runge(x) - legendre.legval(x, c)) ** 2 / 2, -1, 1,
                          limit=200, epsabs=1e-14)[0]
    assert res.best_error == pytest.approx(math.sqrt(err2), rel=1e-6)
    # res.coef are coefficients in the orthonormal basis sqrt(2k+1) P_k
    approx = lambda x: res.basis(x) @ res.coef  # noqa: E731
    e2 = integrate.quad(lambda x: (runge(x) - approx(np.array([x]))[0]) ** 2 / 2, -1, 1,
                        limit=200, epsabs=1e-14)[0]
    assert res.error == pytest.approx(math.sqrt(e2), rel=1e-6)
    assert res.error_ratio == pytest.approx(res.error / res.best_error)
    assert res.error_ratio >= 1.0


@pytest.mark.parametrize("family", ["legendre", "hermite", "chebyshev"])
@pytest.mark.parametrize("sampling", ["iid", "dpp", "volume", "generalized-volume",
                                      "repeated-dpp"])
def test_polynomial_in_space_is_recovered_exactly(family, sampling):
    """f in V_m: every scheme interpolates/fits it exactly; best error ~ 0."""
    B = polynomial_basis(family, 10, 2, index_set="total-degree")  # degree <= 3
    f = lambda X: 1 + X[:, 0] ** 3 - 2 * X[:, 0] * X[:, 1] + 0.5 * X[:, 1] ** 2  # noqa: E731
    n = 10 if sampling == "dpp" else 20
    res = weighted_least_squares(f, B, n=n, sampling=sampling, rng=1)
    assert res.success and res.status == 0
    np.testing.assert_allclose(res.basis(res.points) @ res.coef, res.fvals, atol=1e-9)
    assert res.error < 1e-9 and res.best_error < 1e-9
    # exact coefficients: project on the orthonormal basis by the Gauss rule
    nodes, wq = B.quadrature(10)
    np.testing.assert_allclose(res.coef, B(nodes).T @ (wq * f(nodes)), atol=1e-9)


def test_solution_matches_lstsq_and_fields():
    B = polynomial_basis("chebyshev", 8)
    res = weighted_least_squares(np.cos, B, n=30, sampling="generalized-volume", rng=3)
    F = B(res.points)
    w = 8 / np.sum(F ** 2, axis=1)
    np.testing.assert_allclose(res.weights, w)
    sw = np.sqrt(w)
    ref = np.linalg.lstsq(F * sw[:, None], np.cos(res.points[:, 0]) * sw, rcond=None)[0]
    np.testing.assert_allclose(res.coef, ref, rtol=1e-10, atol=1e-12)
    G = (F * w[:, None]).T @ F / 30
    np.testing.assert_allclose(res.gram, G, atol=1e-12)
    assert res.stability == pytest.approx(np.linalg.norm(G - np.eye(8), 2))
    assert res.nfev == 30 and res.nit == 1 and res.x is res.coef


def test_volume_is_unweighted():
    res = weighted_least_squares(np.sin, "legendre", dim=5, n=12, sampling="volume", rng=0)
    np.testing.assert_array_equal(res.weights, np.ones(12))


def test_error_estimate_is_brute_force_leave_one_out():
    B = polynomial_basis("legendre", 6)
    res = weighted_least_squares(runge, B, n=25, rng=4)
    X, y, w = res.points, res.fvals, res.weights
    F = B(X)
    loo = []
    for i in range(25):
        keep = np.arange(25) != i
        sw = np.sqrt(w[keep])
        c = np.linalg.lstsq(F[keep] * sw[:, None], y[keep] * sw, rcond=None)[0]
        loo.append(y[i] - F[i] @ c)
    est = math.sqrt(np.sum(w * np.square(loo)) / 25)
    assert res.error_estimate == pytest.approx(est, rel=1e-9)
    # interpolation (n = m): LOO undefined
    assert np.isnan(weighted_least_squares(runge, B, sampling="dpp", rng=0).error_estimate)


def test_conditioned_variant():
    B = polynomial_basis("legendre", 10)
    res = weighted_least_squares(runge, B, n=50, sampling="repeated-dpp", conditioned=True,
                                 rng=0)
    assert res.success and res.stability <= 0.5 and res.nit >= 1
    plain = [weighted_least_squares(runge, B, n=50, sampling="repeated-dpp", rng=s,
                                    compute_error=False).stability for s in range(20)]
    assert max(plain) > 0.5  # conditioning is not vacuous at this n
    with pytest.warns(OptimizeWarning, match="delta"):
        bad = weighted_least_squares(runge, B, n=10, conditioned=True, delta=0.01,
                                     max_resample=3, rng=0)
    assert bad.status == 1 and not bad.success and bad.nit == 3

    seen = []

    def cb(intermediate_result):
        seen.append(intermediate_result.stability)
        raise StopIteration

    stopped = weighted_least_squares(runge, B, n=10, conditioned=True, delta=0.01,
                                     callback=cb, rng=0)
    assert stopped.status == 99 and len(seen) == 1 and stopped.nit == 1


def test_finite_candidate_set_with_feature_map():
    rng = np.random.default_rng(0)
    C = rng.uniform(-1, 1, (300, 2))
    p = rng.uniform(0.5, 1, 300)
    C0, p0 = C.copy(), p.copy()
    phi = lambda X: np.stack([np.ones(len(X)), X[:, 0], X[:, 1], X[:, 0] * X[:, 1],  # noqa: E731
                              np.sin(3 * X[:, 0])], axis=1)
    f = lambda X: np.exp(X[:, 0] - X[:, 1])  # noqa: E731
    res = weighted_least_squares(f, phi, n=15, sampling="repeated-dpp", candidates=C,
                                 probabilities=p, rng=1)
    np.testing.assert_array_equal(C, C0)
    np.testing.assert_array_equal(p, p0)
    assert res.indices.shape == (15,)
    np.testing.assert_array_equal(res.points, C[res.indices])
    # exact errors over the discrete measure, via an independent weighted lstsq
    pn = p / p.sum()
    A = phi(C)
    cbest = np.linalg.lstsq(A * np.sqrt(pn)[:, None], f(C) * np.sqrt(pn), rcond=None)[0]
    best = math.sqrt(np.sum(pn * (f(C) - A @ cbest) ** 2))
    assert res.best_error == pytest.approx(best, rel=1e-8)
    approx = res.basis(C) @ res.coef
    assert res.error == pytest.approx(math.sqrt(np.sum(pn * (f(C) - approx) ** 2)), rel=1e-8)


def test_same_seed_same_result_and_f_not_mutating():
    calls = []

    def f(x):
        calls.append(x.copy())
        x[:] = 0.0  # f may scribble on its argument: numopt passes a copy
        return np.cos(calls[-1])

    a = weighted_least_squares(f, "hermite", dim=5, n=10, sampling="volume", rng=7,
                               compute_error=False)
    b = weighted_least_squares(np.cos, "hermite", dim=5, n=10, sampling="volume", rng=7,
                               compute_error=False)
    np.testing.assert_array_equal(a.coef, b.coef)
    assert np.isnan(a.error)


def test_high_dimension_has_no_quadrature_error():
    res = weighted_least_squares(lambda X: X.sum(axis=1), "legendre", dim=5, d=4, n=10,
                                 rng=0)
    assert np.isnan(res.error) and np.isnan(res.error_ratio)
    assert res.points.shape == (10, 4)


def test_bad_input():
    with pytest.raises(ValueError, match="n.*>= dim"):
        weighted_least_squares(runge, "legendre", dim=10, n=5)
    with pytest.raises(ValueError, match="non-finite"):
        weighted_least_squares(lambda x: np.where(x > 0, np.nan, x), "legendre", dim=3, n=20,
                               rng=0)
    with pytest.raises(ValueError, match="basis"):
        weighted_least_squares(runge, "fourier", dim=3, n=5)
    with pytest.raises(TypeError, match="basis"):
        weighted_least_squares(runge, 3, dim=3, n=5)
    with pytest.raises(ValueError, match="sampling"):
        weighted_least_squares(runge, "legendre", dim=3, n=5, sampling="sobol")
    with pytest.raises(ValueError, match="`n`.*required"):
        weighted_least_squares(runge, "legendre", dim=3)
    with pytest.raises(ValueError, match="`dim`"):
        weighted_least_squares(runge, "legendre", n=5)
    with pytest.raises(ValueError, match="multiple"):
        weighted_least_squares(runge, "legendre", dim=3, n=7, sampling="repeated-dpp")
    with pytest.raises(ValueError, match="delta"):
        weighted_least_squares(runge, "legendre", dim=3, n=7, delta=1.5)
    with pytest.raises(TypeError, match="`f`"):
        weighted_least_squares("runge", "legendre", dim=3, n=7)
    with pytest.raises(ValueError, match="one value per point"):
        weighted_least_squares(lambda x: np.zeros(3), "legendre", dim=3, n=7)
    with pytest.raises(ValueError, match="candidates"):
        weighted_least_squares(runge, lambda x: x, n=7)
    with pytest.raises(ValueError, match="linearly dependent"):
        weighted_least_squares(runge, lambda x: np.hstack([x, 2 * x]), n=7,
                               candidates=np.linspace(0, 1, 10))
    with pytest.raises(ValueError, match="probabilities"):
        finite_basis(lambda x: x, np.linspace(0, 1, 10), probabilities=-np.ones(10))
    with pytest.raises(ValueError, match="shape"):
        finite_basis(lambda x: x, np.linspace(0, 1, 10), probabilities=np.ones(3))
    with pytest.raises(ValueError, match="does not match"):
        weighted_least_squares(runge, polynomial_basis("legendre", 4), dim=5, n=8)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        weighted_least_squares(runge, "legendre", dim=3, n=7, rng=0)  # no warning when fine


def test_error_is_nan_when_f_not_square_integrable_on_the_rule():
    B = polynomial_basis("hermite", 6, 2)
    def f(X):  # not in L2 of the Gaussian; huge but finite on the 200-point rule
        return np.exp(-np.clip(X[:, 0] * X[:, 1], -700, 700))

    with warnings.catch_warnings():
        warnings.simplefilter("error")
        res = weighted_least_squares(f, B, n=30, rng=0, quadrature_points=200)
    assert res.success and np.isnan(res.error) and np.isnan(res.error_ratio)


def test_rank_deficient_design_reports_precision_loss():
    """i.i.d. draws on 3 candidates repeat points: status 2, minimum-norm fit, a warning."""
    phi = lambda x: np.hstack([x ** 0, x, x ** 2])  # noqa: E731
    with pytest.warns(OptimizeWarning, match="rank deficient"):
        res = weighted_least_squares(lambda x: x ** 2, phi, n=3, candidates=[-1.0, 0.0, 1.0],
                                     rng=0)
    assert res.status == 2 and not res.success
    assert len(set(res.indices.tolist())) < 3
    assert np.all(np.isfinite(res.coef))
    # the DPP never repeats a point: same problem, exact interpolation
    ok = weighted_least_squares(lambda x: x ** 2, phi, sampling="dpp",
                                candidates=[-1.0, 0.0, 1.0], rng=0)
    assert ok.success and ok.error < 1e-12
