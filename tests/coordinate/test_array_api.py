"""Coordinate descent is host-only: device arrays raise a clear TypeError naming the
alternative, and that alternative (``minimize(method='gn-newton')``) runs on them.

Cyclic / random block coordinate descent updates one block after another, each
update reading the previous one's result: there is no vectorised form for a
device. Every entry point (problem classes, :func:`bcd`, ``minimize(method='bcd')``,
the scikit-learn estimators) refuses ``array_api_strict`` / PyTorch / CuPy arrays.
"""
import numpy as np
import pytest

from numopt import minimize
from numopt.coordinate import (L1LogisticRegressionBCD, Lasso, LassoBCD, LeastSquares,
                               Quadratic, bcd)

ALTERNATIVE = "For arrays on a device use numopt.minimize.*method='gn-newton'"


def _data():
    rng = np.random.default_rng(0)
    return rng.standard_normal((20, 5)), rng.standard_normal(20)


def test_problem_classes_refuse_device_arrays(xpb):
    A, b = _data()
    with pytest.raises(TypeError, match="host-only.*" + ALTERNATIVE):
        LeastSquares(xpb.asarray(A), xpb.asarray(b))
    with pytest.raises(TypeError, match="host-only.*" + ALTERNATIVE):
        Lasso(A, xpb.asarray(b), 0.1)   # NumPy matrix, device targets
    with pytest.raises(TypeError, match="host-only"):
        Quadratic(np.eye(3), xpb.asarray(np.ones(3)))


def test_bcd_and_minimize_refuse_device_x0(xpb):
    A, b = _data()
    x0 = xpb.asarray(np.zeros(5))
    with pytest.raises(TypeError, match=r"bcd \(block coordinate descent\).*" + ALTERNATIVE):
        bcd(LeastSquares(A, b), x0)

    def f(x):
        r = A_ @ x - b_
        return 0.5 * (r @ r)
    A_, b_ = xpb.asarray(A), xpb.asarray(b)
    with pytest.raises(TypeError, match="method='bcd'.*" + ALTERNATIVE):
        minimize(f, x0, method="bcd", jac=lambda x: A_.T @ (A_ @ x - b_))
    np.testing.assert_array_equal(xpb.to_numpy(x0), 0.0)


def test_estimators_refuse_device_arrays(xpb):
    A, b = _data()
    with pytest.raises(TypeError, match="LassoBCD.fit.*host-only"):
        LassoBCD(alpha=0.1).fit(xpb.asarray(A), xpb.asarray(b))
    with pytest.raises(TypeError, match="L1LogisticRegressionBCD.fit.*host-only"):
        L1LogisticRegressionBCD().fit(xpb.asarray(A), xpb.asarray(np.sign(b)))
    est = LassoBCD(alpha=0.1).fit(A, b)
    with pytest.raises(TypeError, match="LassoBCD.*host-only"):
        est.predict(xpb.asarray(A))
    # NumPy input keeps working after the refusals
    np.testing.assert_allclose(est.predict(A), A @ est.coef_ + est.intercept_)


def test_named_alternative_solves_least_squares_on_the_device(xpb):
    # the error names gn-newton: it solves the smooth problems of numopt.coordinate on
    # device arrays; compared with the host-only BCD and with NumPy's lstsq (1e-7)
    A, b = _data()
    ref = bcd(LeastSquares(A, b), tol=1e-12).x
    np.testing.assert_allclose(ref, np.linalg.lstsq(A, b, rcond=None)[0], rtol=1e-7)
    A_, b_ = xpb.asarray(A), xpb.asarray(b)

    def f(x):
        r = A_ @ x - b_
        return 0.5 * (r @ r)
    res = minimize(f, xpb.asarray(np.zeros(5)), method="gn-newton",
                   jac=lambda x: A_.T @ (A_ @ x - b_), hess=lambda x: A_.T @ A_,
                   options={"gtol": 1e-12})
    xpb.check(res.x)
    np.testing.assert_allclose(xpb.to_numpy(res.x), ref, rtol=1e-7)
