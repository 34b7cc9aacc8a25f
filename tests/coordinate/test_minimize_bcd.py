"""numopt.minimize(method='bcd') on generic smooth objectives vs SciPy."""
import warnings

import numpy as np
import pytest
import scipy.optimize as so

import numopt
from numopt.problems import logistic_regression


def _quadratic(n=8, seed=0):
    rng = np.random.default_rng(seed)
    B = rng.standard_normal((2 * n, n))
    A = B.T @ B / (2 * n) + 0.2 * np.eye(n)
    b = rng.standard_normal(n)
    return A, b, np.linalg.solve(A, b)


@pytest.mark.parametrize("options", [
    {},                                                        # adaptive steps ('la')
    {"lipschitz": None, "selection": "gs", "block_size": 2},
    {"selection": "random", "block_size": 3},
    {"selection": "gsl", "partition": "variable", "block_size": 3},
])
def test_bcd_quadratic_matches_closed_form(options):
    A, b, xs = _quadratic()
    options = {k: v for k, v in options.items() if v is not None}
    res = numopt.minimize(lambda x: 0.5 * x @ A @ x - b @ x, np.zeros(8), method="bcd",
                          jac=lambda x: A @ x - b, tol=1e-10, options=options, rng=0)
    assert res.success, res.message
    np.testing.assert_allclose(res.x, xs, rtol=1e-7, atol=1e-8)
    assert np.max(np.abs(res.jac)) <= 1e-10
    assert res.njev > 0 and res.nfev > 0


def test_bcd_with_lipschitz_constants():
    A, b, xs = _quadratic()
    L = np.linalg.eigvalsh(A)[-1]
    for lip in (L, np.diag(A).copy()):
        res = numopt.minimize(lambda x: 0.5 * x @ A @ x - b @ x, np.zeros(8), method="bcd",
                              jac=lambda x: A @ x - b, tol=1e-10,
                              options={"lipschitz": lip})
        assert res.success
        np.testing.assert_allclose(res.x, xs, rtol=1e-7, atol=1e-8)


def test_bcd_logistic_matches_lbfgsb():
    p = logistic_regression(200, 6, l2=1e-2, rng=0)
    res = numopt.minimize(p.fun, p.x0, method="bcd", jac=p.jac, tol=1e-9,
                          options={"selection": "gs", "block_size": 2})
    ref = so.minimize(p.fun, p.x0, jac=p.jac, method="L-BFGS-B",
                      options={"gtol": 1e-12, "ftol": 1e-16})
    assert res.success
    assert abs(res.fun - ref.fun) <= 1e-8 * abs(ref.fun)


def test_bcd_errors_and_nan():
    A, b, _ = _quadratic()

    def f(x):
        return 0.5 * x @ A @ x - b @ x

    with pytest.raises(ValueError, match="lipschitz"):
        numopt.minimize(f, np.zeros(8), method="bcd", options={"lipschitz": -1.0})
    with pytest.raises(ValueError, match="shape"):
        numopt.minimize(f, np.zeros(8), method="bcd", options={"lipschitz": np.ones(3)})
    with pytest.raises(ValueError, match="generic objective"):
        numopt.minimize(f, np.zeros(8), method="bcd", options={"update": "newton"})
    with pytest.warns(numopt.OptimizeWarning, match="Unknown solver options"), \
            pytest.warns(numopt.OptimizeWarning, match="Maximum number"):
        numopt.minimize(f, np.zeros(8), method="bcd", options={"foo": 1, "maxiter": 3})
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        res = numopt.minimize(lambda x: np.nan, np.zeros(2), method="bcd",
                              jac=lambda x: np.zeros(2))
    assert res.status == 3 and not res.success
    x0 = np.ones(8)
    with pytest.warns(numopt.OptimizeWarning, match="Maximum number"):
        numopt.minimize(f, x0, method="bcd", jac=lambda x: A @ x - b,
                        options={"maxiter": 5}, tol=0.0)
    np.testing.assert_array_equal(x0, np.ones(8))
    assert "bcd" in numopt.show_options(disp=False)
    assert "lipschitz" in numopt.show_options("bcd", disp=False)


def test_coordinate_problem_object_is_refused_with_pointer_to_bcd():
    # a structured problem passed as `fun` used to be finite-differenced silently (wrong for
    # its non-smooth L1 term); minimize now refuses and names the structured solver
    from numopt.coordinate import Lasso, bcd
    rng = np.random.default_rng(0)
    X, y = rng.standard_normal((30, 6)), rng.standard_normal(30)
    p = Lasso(X, y, alpha=0.1)
    with pytest.raises(TypeError, match=r"`fun` is a numopt.coordinate problem \(Lasso\).*"
                                        r"numopt.coordinate.bcd"):
        numopt.minimize(p, np.zeros(6), method="bcd")
    # the pointed-to route works and is the Lasso optimum (KKT: |X^T r / n| <= alpha)
    res = bcd(p, np.zeros(6), tol=1e-10)
    g = X.T @ (X @ res.x - y) / 30
    assert res.success
    assert np.all(np.abs(g[res.x == 0]) <= 0.1 + 1e-9)
    np.testing.assert_allclose(g[res.x != 0], -0.1 * np.sign(res.x[res.x != 0]), atol=1e-9)
