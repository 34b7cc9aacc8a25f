"""HS, constrained logistic regression and PDE tracking: derivatives vs finite
differences, published optima vs SLSQP, closed-form PDE solution."""
import warnings

import numpy as np
import pytest
import scipy.optimize as so
import scipy.sparse as sp
from scipy.optimize import approx_fprime

from numopt.problems import (HS_EQUALITY, constrained_logistic_regression, hs_problem,
                             hs_problems, pde_tracking, random_equality_nonlinear,
                             random_equality_qp)


def _dense(A):
    return A.toarray() if sp.issparse(A) else np.asarray(A)


def _check_derivatives(p, x, v):
    eps = 1e-6
    np.testing.assert_allclose(p.jac(x), approx_fprime(x, p.fun, eps), rtol=1e-4, atol=1e-4)
    np.testing.assert_allclose(_dense(p.hess(x)), approx_fprime(x, p.jac, eps), rtol=1e-4,
                               atol=1e-4)
    Jx = _dense(p.cons_jac(x))
    np.testing.assert_allclose(Jx, approx_fprime(x, p.cons, eps).reshape(Jx.shape),
                               rtol=1e-4, atol=1e-4)
    vJ = lambda z: _dense(p.cons_jac(z)).T @ v  # noqa: E731
    np.testing.assert_allclose(_dense(p.cons_hess(x, v)), approx_fprime(x, vJ, eps),
                               rtol=1e-4, atol=1e-4)
    d = np.linspace(-1, 1, x.size)
    np.testing.assert_allclose(p.hessp(x, d), _dense(p.hess(x)) @ d, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("number", HS_EQUALITY)
def test_hs_derivatives(number):
    p = hs_problem(number)
    rng = np.random.default_rng(number)
    x = p.x0 + 0.1 * rng.standard_normal(p.n)
    _check_derivatives(p, x, rng.standard_normal(p.m))


@pytest.mark.parametrize("number", [k for k in HS_EQUALITY if k != 61])
def test_hs_published_optima_vs_slsqp(number):
    p = hs_problem(number)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        r = so.minimize(p.fun, p.x0, jac=p.jac, method="SLSQP",
                        constraints=[{"type": "eq", "fun": p.cons, "jac": p.cons_jac}],
                        options={"ftol": 1e-14, "maxiter": 500})
    assert np.abs(p.cons(r.x)).max() < 1e-8
    if p.f_opt is not None:
        assert abs(r.fun - p.f_opt) < 1e-6


def test_hs_table_and_errors():
    assert [p.name for p in hs_problems()] == [f"HS{k}" for k in HS_EQUALITY]
    assert len(HS_EQUALITY) == 17
    with pytest.raises(ValueError, match="`number` must be one of"):
        hs_problem(1)
    with pytest.raises(ValueError, match="`kind`"):
        hs_problem(6).constraints("cvxpy")


def test_constrained_logistic_derivatives_and_feasibility():
    p = constrained_logistic_regression(50, 15, n_linear=4, rng=3)
    rng = np.random.default_rng(0)
    _check_derivatives(p, rng.standard_normal(15) * 0.3, rng.standard_normal(5))
    A, b = p["A"], p["b"]
    assert A.shape == (4, 15) and p.m == 5
    # the feasible set is non-empty: the minimum-norm solution of Aw = b has norm <= 1
    assert np.linalg.norm(np.linalg.pinv(A) @ b) <= 1.0 + 1e-12
    with pytest.raises(ValueError, match="n_linear"):
        constrained_logistic_regression(10, 5, n_linear=4)
    q1 = constrained_logistic_regression(30, 8, n_linear=2, rng=5)
    q2 = constrained_logistic_regression(30, 8, n_linear=2, rng=5)
    np.testing.assert_array_equal(q1["X"], q2["X"])


def test_pde_tracking_solution_is_kkt_point():
    p = pde_tracking(6, alpha=0.3)
    rng = np.random.default_rng(1)
    _check_derivatives(p, rng.standard_normal(p.n), rng.standard_normal(p.m))
    x = p.x_opt
    J = p.cons_jac(x).toarray()
    v = np.linalg.lstsq(J.T, -p.jac(x), rcond=None)[0]
    assert p.kkt_residual(x, v) < 1e-10
    assert p.n == 72 and p.m == 36 and np.isclose(p.fun(x), p.f_opt)
    L = p["L"].toarray()  # 5-point stencil: -4 on the diagonal, 1 for grid neighbours
    assert np.all(np.diag(L) == -4) and np.allclose(L, L.T) and L[0, 1] == 1 and L[0, 6] == 1


@pytest.mark.parametrize("make", [random_equality_qp, random_equality_nonlinear])
def test_random_equality_problems_derivatives(make):
    p = make(9, rng=2)
    x = np.random.default_rng(1).standard_normal(9)
    np.testing.assert_allclose(p.jac(x), approx_fprime(x, p.fun, 1e-7), atol=1e-5)
    np.testing.assert_allclose(p.hess(x), approx_fprime(x, p.jac, 1e-7), atol=1e-5)
    np.testing.assert_allclose(p.hessp(x, x), p.hess(x) @ x, atol=1e-12)
    J = np.array([approx_fprime(x, lambda z, i=i: p.cons(z)[i], 1e-7) for i in range(p.m)])
    np.testing.assert_allclose(p.cons_jac(x), J, atol=1e-5)
    v = np.arange(1.0, p.m + 1)
    np.testing.assert_allclose(p.cons_hess(x, v),
                               approx_fprime(x, lambda z: p.cons_jac(z).T @ v, 1e-7), atol=1e-5)


def test_random_equality_qp_optimum_against_slsqp():
    p = random_equality_qp(15, m=4, rng=3)
    assert p.m == 4
    ref = so.minimize(p.fun, p.x0, jac=p.jac, method="SLSQP",
                      constraints={"type": "eq", "fun": p.cons, "jac": p.cons_jac},
                      options={"ftol": 1e-14, "maxiter": 500})
    np.testing.assert_allclose(p.x_opt, ref.x, atol=1e-6)
    assert abs(p.f_opt - ref.fun) <= 1e-9 * max(1.0, abs(ref.fun))
    with pytest.raises(ValueError, match="`m`"):
        random_equality_qp(5, m=5)

