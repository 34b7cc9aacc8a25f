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


def test_logistic_loss_matches_direct_formula_and_coordinate_logistic():
    # one logistic loss: the test problem, the constrained one and coordinate.Logistic agree
    # with log(1 + exp(-y xᵀw)) written out with logaddexp
    from numopt.coordinate import Logistic
    from numopt.problems import constrained_logistic_regression
    p = logistic_regression(60, 4, l2=0.3, rng=1)
    X, y = p["X"], p["y"]
    w = np.random.default_rng(2).standard_normal(4)
    direct = np.mean(np.logaddexp(0.0, -y * (X @ w)))
    np.testing.assert_allclose(p.fun(w), direct + 0.15 * w @ w, rtol=1e-13)
    np.testing.assert_allclose(Logistic(X, y, l2=0.3)(w), p.fun(w), rtol=1e-13)
    q = constrained_logistic_regression(60, 6, n_linear=2, rng=1)
    wq = np.random.default_rng(3).standard_normal(6)
    np.testing.assert_allclose(
        q.fun(wq), np.mean(np.logaddexp(0.0, -q["y"] * (q["X"] @ wq))), rtol=1e-13)


@pytest.mark.parametrize("make", [logistic_regression,
                                  lambda *a, **k: softmax_regression(*a, n_classes=3, **k)])
def test_reg_keyword_deprecated_alias_of_l2(make):
    new = make(40, 3, l2=0.25, rng=0)
    with pytest.warns(DeprecationWarning, match="`reg` is deprecated, use `l2`"):
        old = make(40, 3, reg=0.25, rng=0)
    w = np.linspace(-1.0, 1.0, new.x0.size)
    assert new["l2"] == 0.25 and old.fun(w) == new.fun(w)
    with pytest.raises(TypeError, match="both `l2` and its deprecated name `reg`"):
        make(40, 3, l2=0.5, reg=0.25, rng=0)
