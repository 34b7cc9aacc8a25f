"""Bases and index sets against numpy.polynomial Gauss rules and closed-form counts."""
import math

import numpy as np
import pytest
from numpy.polynomial import chebyshev, hermite_e, legendre

from numopt.sampling import finite_basis, multi_indices, polynomial_basis


def _gauss(family, q):
    """Independent Gauss rules from numpy.polynomial, normalised to probability measures."""
    t, w = {"legendre": legendre.leggauss, "hermite": hermite_e.hermegauss,
            "chebyshev": chebyshev.chebgauss}[family](q)
    return t, w / w.sum()


@pytest.mark.parametrize("family", ["legendre", "hermite", "chebyshev"])
@pytest.mark.parametrize("d,kind", [(1, "total-degree"), (2, "hyperbolic-cross"), (2, "tensor"),
                                    (3, "total-degree")])
def test_orthonormal(family, d, kind):
    B = polynomial_basis(family, 12, d, index_set=kind)
    t, w = _gauss(family, 30)
    grids = np.meshgrid(*([t] * d), indexing="ij")
    X = np.stack([g.ravel() for g in grids], axis=1)
    W = np.prod(np.stack([g.ravel() for g in np.meshgrid(*([w] * d), indexing="ij")], 1), 1)
    F = B(X)
    np.testing.assert_allclose((F * W[:, None]).T @ F, np.eye(12), atol=1e-10)


def test_own_quadrature_moments():
    """Gauss rules of the reference measures: closed-form moments."""
    for family, m2, m4 in [("legendre", 1 / 3, 1 / 5), ("hermite", 1.0, 3.0),
                           ("chebyshev", 0.5, 3 / 8)]:
        x, w = polynomial_basis(family, 3).quadrature(10)
        assert w.sum() == pytest.approx(1.0)
        assert np.sum(w * x[:, 0] ** 2) == pytest.approx(m2)
        assert np.sum(w * x[:, 0] ** 4) == pytest.approx(m4)
    x, w = polynomial_basis("legendre", 3, 2).quadrature(5)
    assert x.shape == (25, 2) and np.sum(w * x[:, 0] ** 2 * x[:, 1] ** 2) == pytest.approx(1 / 9)


def test_index_set_counts_and_downward_closed():
    for p, d in [(3, 2), (4, 3), (2, 5)]:
        assert len(multi_indices(d, degree=p)) == math.comb(p + d, d)
        assert len(multi_indices(d, degree=p, kind="tensor")) == (p + 1) ** d
    # hyperbolic cross prod(a+1) <= 4 in d=2: (0,0),(1,0),(0,1),(2,0),(0,2),(3,0),(0,3),(1,1)
    assert len(multi_indices(2, degree=3, kind="hyperbolic-cross")) == 8
    for kind in ["total-degree", "hyperbolic-cross", "tensor"]:
        for m in [1, 2, 7, 20]:
            idx = multi_indices(3, m, kind=kind)
            assert idx.shape == (m, 3) and len({tuple(a) for a in idx}) == m
            rows = {tuple(a) for a in idx}
            for a in idx:  # downward closed
                for c in range(3):
                    if a[c] > 0:
                        b = a.copy()
                        b[c] -= 1
                        assert tuple(b) in rows
    np.testing.assert_array_equal(multi_indices(1, 5, kind="tensor")[:, 0], np.arange(5))


def test_features_dtype_shapes_and_no_mutation():
    B = polynomial_basis("legendre", 4)
    x = np.linspace(-1, 1, 9)
    x0 = x.copy()
    F = B(x)
    np.testing.assert_array_equal(x, x0)
    assert F.shape == (9, 4) and F.dtype == np.float64
    F32 = B(x.astype(np.float32))
    assert F32.dtype == np.float32
    np.testing.assert_allclose(F32, F, rtol=1e-6, atol=1e-6)
    np.testing.assert_allclose(B(x[::2]), F[::2])
    B2 = polynomial_basis("hermite", 3, 2)
    assert B2(np.array([0.5, -1.0])).shape == (1, 3)
    np.testing.assert_allclose(B.christoffel(x), np.sum(F ** 2, 1))
    np.testing.assert_allclose(B.optimal_weights(x) * B.optimal_density(x), 1.0)


def test_finite_basis_orthonormal_and_extends_phi():
    rng = np.random.default_rng(0)
    C = rng.standard_normal((50, 2))
    p = rng.uniform(0, 1, 50)
    phi = lambda X: np.stack([np.ones(len(X)), X[:, 0], X[:, 0] * X[:, 1]], 1)  # noqa: E731
    B = finite_basis(phi, C, p)
    pn = p / p.sum()
    F = B(C)
    np.testing.assert_allclose((F * pn[:, None]).T @ F, np.eye(3), atol=1e-12)
    np.testing.assert_allclose(B.feature_rows(np.arange(50)), F, atol=1e-12)
    # same span as phi: phi = F T for some T
    T = np.linalg.lstsq(F, phi(C), rcond=None)[0]
    np.testing.assert_allclose(F @ T, phi(C), atol=1e-10)


def test_basis_bad_input():
    with pytest.raises(ValueError, match="basis"):
        polynomial_basis("laguerre", 3)
    with pytest.raises(ValueError, match="exactly one"):
        multi_indices(2)
    with pytest.raises(ValueError, match="kind"):
        multi_indices(2, 3, kind="simplex")
    with pytest.raises(TypeError, match="dim"):
        polynomial_basis("legendre", 2.5)
    with pytest.raises(ValueError, match="shape"):
        polynomial_basis("legendre", 3, 2)(np.zeros((4, 3)))
    with pytest.raises(ValueError, match="finite"):
        polynomial_basis("legendre", 3)(np.array([0.0, np.nan]))
    with pytest.raises(ValueError, match="only 2 candidates"):
        finite_basis(lambda x: np.hstack([x ** 0, x, x ** 2]), [0.0, 1.0])
