"""Derivatives of the smooth test problems against finite differences."""
import numpy as np
import pytest
from scipy.optimize import approx_fprime

from numopt.problems import logistic_regression, rosenbrock, softmax_regression


@pytest.mark.parametrize("make", [lambda: rosenbrock(5),
                                  lambda: logistic_regression(50, 4, rng=0),
                                  lambda: softmax_regression(40, 3, 3, rng=0)])
def test_derivatives(make):
    p = make()
    rng = np.random.default_rng(0)
    x = rng.standard_normal(p.x0.size) * 0.3
    g = p.jac(x)
    assert np.allclose(g, approx_fprime(x, p.fun, 1e-7), atol=1e-5)
    H = np.asarray(p.hess(x))
    Hfd = approx_fprime(x, p.jac, 1e-7)
    assert np.allclose(H, Hfd, atol=1e-4) and np.allclose(H, H.T)
    v = rng.standard_normal(x.size)
    assert np.allclose(p.hessp(x, v), H @ v)


def test_generators_are_seeded():
    a, b = logistic_regression(30, 3, rng=5), logistic_regression(30, 3, rng=5)
    assert np.array_equal(a["X"], b["X"]) and np.array_equal(a["y"], b["y"])
    c = logistic_regression(30, 3, rng=6)
    assert not np.array_equal(a["X"], c["X"])
    s = softmax_regression(30, 3, 4, rng=1)
    assert set(np.unique(s["y"])) <= set(range(4))
    with pytest.raises(ValueError, match="`n` must be >= 2"):
        rosenbrock(1)


def test_fisher_is_psd_approximation():
    p = logistic_regression(100, 5, rng=2)
    F = p["hess_fisher"](np.ones(5))
    assert np.linalg.eigvalsh(F).min() > 0
