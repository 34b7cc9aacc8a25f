"""1-D Chebyshev tools against numpy.polynomial.chebyshev."""
import numpy as np
import pytest
from numpy.polynomial import chebyshev as npcheb

from numopt.tensor._chebyshev import (cheb_integrals, cheb_points, cheb_vander, coeffs2vals,
                                      vals2coeffs)


@pytest.mark.parametrize("n", [1, 2, 7, 64])
def test_vals2coeffs_recovers_polynomial(n):
    c = np.random.default_rng(n).standard_normal(n + 1)
    x = cheb_points(n)
    np.testing.assert_allclose(x, np.cos(np.pi * np.arange(n + 1) / n))
    np.testing.assert_allclose(np.sort(x), npcheb.chebpts2(n + 1), atol=1e-15)
    vals = npcheb.chebval(x, c)
    np.testing.assert_allclose(vals2coeffs(vals), c, atol=1e-13)
    np.testing.assert_allclose(coeffs2vals(c), vals, atol=1e-13)


def test_vals2coeffs_axis_and_no_mutation():
    rng = np.random.default_rng(0)
    C = rng.standard_normal((4, 6, 3))
    V = coeffs2vals(C, axis=1)
    keep = V.copy()
    np.testing.assert_allclose(vals2coeffs(V, axis=1), C, atol=1e-13)
    np.testing.assert_array_equal(V, keep)


def test_interpolant_matches_numpy_chebinterpolate():
    # first- and second-kind interpolants of exp converge to the same series
    ours = vals2coeffs(np.exp(cheb_points(20)))
    ref = npcheb.chebinterpolate(np.exp, 20)
    np.testing.assert_allclose(ours, ref, atol=1e-14)


def test_integrals_and_vander():
    n = 9
    q = cheb_integrals(n)
    for j in range(n + 1):
        e = np.zeros(j + 1)
        e[j] = 1.0
        anti = npcheb.chebint(e)
        assert q[j] == pytest.approx(npcheb.chebval(1.0, anti) - npcheb.chebval(-1.0, anti),
                                     abs=1e-14)
    t = np.linspace(-1, 1, 11)
    np.testing.assert_allclose(cheb_vander(t, n), npcheb.chebvander(t, n), atol=1e-13)
