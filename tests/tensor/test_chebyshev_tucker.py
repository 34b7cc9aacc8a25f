"""chebyshev_tucker / ChebyshevTucker against exact values, closed forms and tensorly."""
import numpy as np
import pytest
from numpy.polynomial import chebyshev as npcheb
from scipy.special import erf

from numopt.problems import (erf_newton, lattice_potential, random_charges_potential, runge, slater)
from numopt.tensor import ChebyshevTucker, chebyshev_tucker

CUBE = [[-1.0, 1.0]] * 3


def max_rel_err(ct, f, n=4000, seed=0):
    x = np.random.default_rng(seed).uniform(ct.domain[:, 0], ct.domain[:, 1],
                                            size=(n, ct.ndim))
    fx = f(x)
    return float(np.max(np.abs(ct(x) - fx)) / np.max(np.abs(fx)))


# ----------------------------------------------------------------- acceptance floors
def test_runge_1e7():
    f = runge(25.0)
    ct = chebyshev_tucker(f, CUBE, degree=128, tol=1e-7)
    err = max_rel_err(ct, f)
    assert err <= 1e-7, (ct.ranks, err)
    assert max(ct.ranks) <= 12  # the notes' reproduction: ranks 11 at m = 129
    assert ct.info["nfev"] == 129 ** 3


def test_erf_newton_1e7():
    f = erf_newton(0.3)
    ct = chebyshev_tucker(f, CUBE, degree=32, tol=1e-8)
    assert max_rel_err(ct, f) <= 1e-7
    assert max(ct.ranks) <= 8


def test_random_charges_long_range_cp_route():
    V = random_charges_potential(50, rng=0)
    ct = chebyshev_tucker(V.cp_tensor(), CUBE, degree=40, tol=1e-8)
    assert ct.info["route"] == "cp" and ct.info["cp_rank"] == V.cp_rank
    assert max_rel_err(ct, V) <= 1e-7, ct.ranks
    assert max(ct.ranks) <= 25


def test_ranks_not_larger_than_tensorly_on_grid():
    tl = pytest.importorskip("tensorly")
    from tensorly.decomposition import tucker
    tl.set_backend("numpy")
    f = erf_newton(0.3)
    ct = chebyshev_tucker(f, CUBE, degree=32, tol=1e-8)
    ours = max_rel_err(ct, f)
    n = 49  # the benchmark does 129^3; same conclusion, much cheaper
    x = np.linspace(-1, 1, n)
    X = np.stack(np.meshgrid(x, x, x, indexing="ij"), axis=-1).reshape(-1, 3)
    G = f(X).reshape(n, n, n)
    # one rank less in every mode: tensorly's Tucker of the grid is less accurate than ours
    smaller = [r - 1 for r in ct.ranks]
    tk = tucker(G, rank=smaller, init="svd", n_iter_max=1, tol=0)
    err_tl = np.max(np.abs(tl.tucker_to_tensor(tk) - G)) / np.max(np.abs(G))
    assert err_tl > ours


# ----------------------------------------------------------------- routes agree
def test_grid_route_matches_function_route():
    V = runge(4.0)
    domain = [[-1.0, 1.0], [-0.5, 1.5], [-1.0, 0.5]]
    n = 65
    axes = [np.linspace(a, b, n) for a, b in domain]
    X = np.stack(np.meshgrid(*axes, indexing="ij"), axis=-1).reshape(-1, 3)
    grid = V(X).reshape(n, n, n)
    keep = grid.copy()
    ct_g = chebyshev_tucker(grid, domain, degree=40, tol=1e-8)
    np.testing.assert_array_equal(grid, keep)
    assert ct_g.info["route"] == "grid"
    # cubic splines on 65 points: error O(h^4)
    assert max_rel_err(ct_g, V) <= 1e-4
    # a finer grid shrinks the spline error like h^4: the route converges
    n2 = 97
    axes2 = [np.linspace(a, b, n2) for a, b in domain]
    X2 = np.stack(np.meshgrid(*axes2, indexing="ij"), axis=-1).reshape(-1, 3)
    ct_g2 = chebyshev_tucker(V(X2).reshape(n2, n2, n2), domain, degree=40, tol=1e-8)
    assert max_rel_err(ct_g2, V) <= max_rel_err(ct_g, V) / 3  # (96/64)^4 ~ 5
    ct_f = chebyshev_tucker(V, domain, degree=40, tol=1e-8)
    assert max_rel_err(ct_f, V) <= 1e-7


def test_cp_grid_factors_and_tensorly_cptensor():
    tl = pytest.importorskip("tensorly")
    V = lattice_potential((2, 2, 2))
    w, U = V.cp_grid(257, CUBE)
    keep = [u.copy() for u in U]
    ct = chebyshev_tucker((w, U), CUBE, degree=30, tol=1e-8)
    for u, k in zip(U, keep):
        np.testing.assert_array_equal(u, k)
    assert max_rel_err(ct, V) <= 1e-6  # spline error of the factors
    cp = tl.cp_tensor.CPTensor((w, U))
    ct2 = chebyshev_tucker(cp, CUBE, degree=30, tol=1e-8)
    np.testing.assert_allclose(ct2.to_grid(5), ct.to_grid(5), atol=1e-12)


def test_cp_als_improves_or_keeps_error():
    V = random_charges_potential(10, rng=1)
    a = chebyshev_tucker(V.cp_tensor(), CUBE, degree=24, tol=1e-4)
    b = chebyshev_tucker(V.cp_tensor(), CUBE, degree=24, tol=1e-4, method="als", maxiter=10)
    assert a.ranks == b.ranks
    assert b.info["nit"] >= 1
    assert max_rel_err(b, V) <= 2 * max_rel_err(a, V)


def test_als_frobenius_not_worse():
    f = slater(1.0)
    a = chebyshev_tucker(f, CUBE, degree=16, tol=1e-2)
    b = chebyshev_tucker(f, CUBE, degree=16, tol=1e-2, method="als")
    assert a.ranks == b.ranks
    assert b.info["tucker_error"] <= a.info["tucker_error"] * (1 + 1e-10)
    assert b.info["tucker_error"] <= 1e-2


# ----------------------------------------------------------------- closed forms
def test_integrate_gaussian_and_polynomial():
    f = lambda x: np.exp(-np.sum(x ** 2, axis=1))  # noqa: E731
    ct = chebyshev_tucker(f, [[-1, 1], [0, 2], [-1, 3]], degree=30, tol=1e-12)
    exact = (np.sqrt(np.pi) / 2) ** 3 * (2 * erf(1)) * erf(2) * (erf(1) + erf(3))
    assert ct.integrate() == pytest.approx(exact, rel=1e-12)
    # degree-3 polynomial in 2D: interpolation and integral are exact
    p = lambda x: x[:, 0] ** 3 - 2 * x[:, 0] * x[:, 1] + 1.0  # noqa: E731
    cp_ = chebyshev_tucker(p, [[0, 1], [0, 2]], degree=3, tol=0)
    assert cp_.integrate() == pytest.approx(0.5 - 2.0 + 2.0, rel=1e-13)


def test_one_dimensional_matches_numpy_chebinterpolate():
    ct = chebyshev_tucker(lambda x: np.exp(x[:, 0]), [-1, 1], degree=20, tol=0, chop=False)
    assert ct.ndim == 1 and ct.ranks == (1,)
    coef = ct.factors[0] @ ct.core
    np.testing.assert_allclose(coef, npcheb.chebinterpolate(np.exp, 20), atol=1e-14)


def test_four_dimensional_separable_rank_one():
    f = lambda x: np.prod(np.cos(x), axis=1)  # noqa: E731
    ct = chebyshev_tucker(f, [[-1, 1]] * 4, degree=14, tol=1e-10)
    assert ct.ranks == (1, 1, 1, 1)
    assert ct.integrate() == pytest.approx((2 * np.sin(1.0)) ** 4, rel=1e-12)
    assert max_rel_err(ct, f, n=500) <= 1e-10


def test_to_grid_matches_values():
    f = runge(4.0)
    ct = chebyshev_tucker(f, [[-1, 1], [-2, 0], [0, 1]], degree=40, tol=1e-10)
    G = ct.to_grid((3, 4, 5))
    axes = [np.linspace(a, b, n) for (a, b), n in zip(ct.domain, (3, 4, 5))]
    X = np.stack(np.meshgrid(*axes, indexing="ij"), axis=-1).reshape(-1, 3)
    np.testing.assert_allclose(G.ravel(), ct(X), atol=1e-13)
    np.testing.assert_allclose(G.ravel(), f(X), atol=1e-8)


# ----------------------------------------------------------------- arithmetic
def test_arithmetic_and_recompression():
    f, g = runge(4.0), slater(0.5, center=[0.3, 0.0, -0.2])
    a = chebyshev_tucker(f, CUBE, degree=30, tol=1e-9)
    b = chebyshev_tucker(erf_newton(0.5), CUBE, degree=30, tol=1e-9)
    x = np.random.default_rng(5).uniform(-1, 1, (300, 3))
    s = a + b
    np.testing.assert_allclose(s(x), a(x) + b(x), atol=1e-8)
    assert all(rs <= ra + rb for rs, ra, rb in zip(s.ranks, a.ranks, b.ranks))
    aa = a + a  # recompression: same function, same ranks
    assert aa.ranks == a.ranks
    np.testing.assert_allclose(aa(x), (2 * a)(x), atol=1e-9)
    np.testing.assert_allclose((a - a)(x), 0.0, atol=1e-9)
    np.testing.assert_allclose((3.0 - a / 2)(x), 3.0 - 0.5 * a(x), atol=1e-9)
    np.testing.assert_allclose((-a)(x), -a(x), rtol=1e-15)
    assert (a + 1.0).integrate() == pytest.approx(a.integrate() + 8.0, rel=1e-12)
    r = a.recompress(tol=1e-3)
    assert all(p <= q for p, q in zip(r.ranks, a.ranks))
    assert r.error_estimate >= a.error_estimate
    c = chebyshev_tucker(g, CUBE, degree=12, tol=1e-6)
    mixed = a + c  # different degrees: padded
    np.testing.assert_allclose(mixed(x), a(x) + c(x), atol=1e-5)
    with pytest.raises(ValueError, match="same domain"):
        a + chebyshev_tucker(f, [[-1, 2]] * 3, degree=8, tol=1e-3)
    with pytest.raises(TypeError):
        a * "2"
    with pytest.raises(TypeError):
        a * a


def test_error_estimate_tracks_true_error():
    f = runge(25.0)
    prev = np.inf
    for deg in (16, 32, 64):
        ct = chebyshev_tucker(f, CUBE, degree=deg, tol=1e-10)
        err = max_rel_err(ct, f, n=2000)
        # the resolution check is of the order of the true error
        assert err / 30 <= ct.error_estimate <= 30 * err
        assert ct.error_estimate < prev
        prev = ct.error_estimate


def test_deterministic_and_memory():
    f = erf_newton(0.3)
    a = chebyshev_tucker(f, CUBE, degree=24, tol=1e-8)
    b = chebyshev_tucker(f, CUBE, degree=24, tol=1e-8)
    np.testing.assert_array_equal(a.core, b.core)
    assert a.nbytes == a.core.nbytes + sum(V.nbytes for V in a.factors)
    assert a.nbytes < 25 ** 3 * 8 / 10
    assert "ranks" in repr(a)


# ----------------------------------------------------------------- bad input
def test_bad_input():
    f = runge()
    with pytest.raises(TypeError, match="`f`"):
        chebyshev_tucker("sin", CUBE)
    with pytest.raises(TypeError, match="`f`"):
        chebyshev_tucker(3.0, CUBE)
    with pytest.raises(ValueError, match="a < b"):
        chebyshev_tucker(f, [[-1, 1], [1, 1], [0, 1]])
    with pytest.raises(ValueError, match="a < b"):
        chebyshev_tucker(f, [[-1, 1], [2, 1], [0, 1]])
    with pytest.raises(ValueError, match="shape"):
        chebyshev_tucker(f, [[-1, 1, 2]])
    with pytest.raises(ValueError, match="finite"):
        chebyshev_tucker(f, [[-1, np.inf]] * 3)
    with pytest.raises(ValueError, match="degree"):
        chebyshev_tucker(f, CUBE, degree=0)
    with pytest.raises(ValueError, match="degree"):
        chebyshev_tucker(f, CUBE, degree=[4, 4])
    with pytest.raises(ValueError, match="non-finite"), np.errstate(divide="ignore"):
        chebyshev_tucker(lambda x: np.log1p(x[:, 0]), CUBE, degree=4)
    with pytest.raises(ValueError, match="non-finite"):
        chebyshev_tucker(lambda x: np.full(len(x), np.nan), CUBE, degree=4)
    with pytest.raises(ValueError, match="shape"):
        chebyshev_tucker(lambda x: x, CUBE, degree=4)
    with pytest.raises(ValueError, match="`f` failed"):
        chebyshev_tucker(lambda x: x[:, 5], CUBE, degree=4)
    with pytest.raises(ValueError, match="method"):
        chebyshev_tucker(f, CUBE, degree=4, method="cp")
    with pytest.raises(ValueError, match="tol"):
        chebyshev_tucker(f, CUBE, degree=4, tol=-1.0)
    with pytest.raises(ValueError, match="rank"):
        chebyshev_tucker(f, CUBE, degree=4, rank=0)
    with pytest.raises(ValueError, match="finite"):
        chebyshev_tucker(np.full((5, 5), np.nan), [-1, 1])
    with pytest.raises(ValueError, match="4 points"):
        chebyshev_tucker(np.ones((3, 5)), [-1, 1])
    with pytest.raises(ValueError, match="share the rank"):
        chebyshev_tucker([np.ones((5, 2)), np.ones((5, 3))], [-1, 1])
    with pytest.raises(ValueError, match="modes"):
        chebyshev_tucker([np.ones((5, 2))] * 2, CUBE)
    ct = chebyshev_tucker(f, CUBE, degree=4, tol=1e-3)
    with pytest.raises(ValueError, match="domain"):
        ct(np.array([[0.0, 0.0, 1.5]]))
    with pytest.raises(ValueError, match="shape"):
        ct(np.zeros((4, 2)))
    with pytest.raises(ValueError, match="finite"):
        ct(np.array([[0.0, np.nan, 0.0]]))
    with pytest.raises(ValueError, match="factors"):
        ChebyshevTucker(np.ones((2, 2)), [np.ones((3, 2)), np.ones((3, 3))], [-1, 1])


def test_rank_cap_and_fixed_rank():
    f = runge(25.0)
    ct = chebyshev_tucker(f, CUBE, degree=32, tol=0, rank=(3, 4, 5))
    assert ct.ranks == (3, 4, 5)
    ct2 = chebyshev_tucker(f, CUBE, degree=32, tol=1e-12, rank=2)
    assert ct2.ranks == (2, 2, 2)
