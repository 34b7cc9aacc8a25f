"""gn-newton against SciPy references, closed forms and its own acceptance rule."""
import numpy as np
import pytest
import scipy.optimize as so
import scipy.sparse as sp
from scipy.optimize import rosen, rosen_der, rosen_hess, rosen_hess_prod
from scipy.sparse.linalg import LinearOperator

import numopt._sparse
from numopt import minimize
from numopt.newton import gn_newton
from numopt.problems import logistic_regression, rosenbrock, softmax_regression


def test_rosenbrock_acceptance():
    res = minimize(rosen, x0=[-1.2, 1], method="gn-newton", jac=rosen_der, hess=rosen_hess)
    assert res.success and np.linalg.norm(res.x - 1) < 1e-8
    assert res.nhev == res.nit and res.njev >= res.nit


@pytest.fixture(scope="module")
def logreg():
    return logistic_regression(2000, 200, l2=1e-3, rng=0)


@pytest.fixture(scope="module")
def logreg_ref(logreg):
    p = logreg
    return so.minimize(p.fun, p.x0, method="trust-exact", jac=p.jac, hess=p.hess,
                       options={"gtol": 1e-11}).x


@pytest.mark.parametrize("which", ["hess", "hess_fisher", "hessp", "operator", "sparse",
                                   "cg", "fd-hessp"])
def test_logistic_converges_with_any_hessian_model(logreg, logreg_ref, which):
    p = logreg
    kw = {}
    if which == "hess":
        kw = dict(hess=p.hess)
    elif which == "hess_fisher":  # empirical Fisher: a crude approximation
        kw = dict(hess=p["hess_fisher"])
    elif which == "hessp":
        kw = dict(hessp=p.hessp)
    elif which == "operator":
        kw = dict(hess=lambda w: LinearOperator((200, 200), matvec=lambda v: p.hessp(w, v)))
    elif which == "sparse":
        kw = dict(hess=lambda w: sp.csr_matrix(p.hess(w)))
    elif which == "cg":
        kw = dict(hess=p.hess, options={"solver": "cg"})
    res = minimize(p.fun, p.x0, method="gn-newton", jac=p.jac, **kw)
    assert res.success, res.message
    assert np.linalg.norm(p.jac(res.x)) <= 1e-8
    assert np.allclose(res.x, logreg_ref, atol=1e-7)
    assert np.all(np.diff(res.history["fun"]) <= 0)  # monotone by the acceptance test


def test_exact_hessian_fewer_hessians_than_approximations(logreg):
    p = logreg
    exact = minimize(p.fun, p.x0, method="gn-newton", jac=p.jac, hess=p.hess)
    fisher = minimize(p.fun, p.x0, method="gn-newton", jac=p.jac, hess=p["hess_fisher"])
    assert exact.nhev < fisher.nhev


def test_sparse_without_cholmod(monkeypatch):
    p = rosenbrock(10)
    monkeypatch.setattr(numopt._sparse, "cholmod_available", False)
    res = minimize(p.fun, p.x0, method="gn-newton", jac=p.jac,
                   hess=lambda x: sp.csr_matrix(p.hess(x)))
    dense = minimize(p.fun, p.x0, method="gn-newton", jac=p.jac, hess=p.hess)
    assert res.success and np.linalg.norm(res.jac) <= 1e-8
    assert np.allclose(res.x, dense.x, atol=1e-9) and res.nit == dense.nit


def test_nonconvex_indefinite_hessian_globally_convergent():
    # Rosenbrock in 10-D: the Hessian is indefinite on the way; the regularization
    # must reject the non-PD trial systems and still converge to the minimizer.
    p = rosenbrock(10)
    x0 = np.linspace(-0.5, 1.5, 10)
    assert np.linalg.eigvalsh(p.hess(x0)).min() < 0
    for kw in (dict(hess=p.hess), dict(hessp=rosen_hess_prod)):
        res = minimize(p.fun, x0, method="gn-newton", jac=p.jac, **kw)
        # a local minimizer: first-order stationary, positive definite Hessian
        # (the 10-D Rosenbrock has a second minimizer near (-1, 1, ..., 1))
        assert res.success and np.linalg.norm(rosen_der(res.x)) <= 1e-8
        assert np.linalg.eigvalsh(p.hess(res.x)).min() > 0
        assert res.fun < p.fun(x0)


def test_acceptance_rule_holds_for_every_step():
    p = softmax_regression(300, 6, 3, rng=1)
    steps = []

    def cb(intermediate_result):
        steps.append((intermediate_result.x, intermediate_result.fun))

    res = minimize(p.fun, p.x0, method="gn-newton", jac=p.jac, hess=p.hess, callback=cb)
    assert res.success
    fs = [p.fun(p.x0)] + [f for _, f in steps]
    gam = res.history["gamma"]
    gn = res.history["gnorm"]
    for k in range(len(steps)):
        lam_used = gn[k] / (gam[k + 1] / 2.0 + 1e-8)  # γ doubled after acceptance
        assert fs[k] - fs[k + 1] >= gn[k + 1] ** 2 / (8 * lam_used) * (1 - 1e-12)


def test_quadratic_one_newton_step_limit():
    rng = np.random.default_rng(3)
    Q = rng.standard_normal((8, 8))
    A = Q @ Q.T + 8 * np.eye(8)
    b = rng.standard_normal(8)
    res = gn_newton(lambda x: 0.5 * x @ A @ x - b @ x, np.zeros(8), jac=lambda x: A @ x - b,
                    hess=lambda x: A, gtol=1e-12)
    assert np.allclose(res.x, np.linalg.solve(A, b), atol=1e-12)


def test_finite_difference_gradient():
    res = minimize(rosen, [-1.2, 1.0], method="gn-newton", hess=rosen_hess,
                   options={"gtol": 1e-6})
    assert res.success and np.allclose(res.x, 1.0, atol=1e-5)
    assert res.njev == 0 and res.nfev > 3 * res.nit  # gradients came from differences


@pytest.mark.parametrize("cholmod", [True, False], ids=["cholmod", "superlu"])
def test_sparse_system_rejects_indefinite_and_matches_dense(monkeypatch, cholmod):
    """H + λI indefinite must fail the step on the sparse paths as on the dense one
    (CHOLMOD's simplicial LDLᵀ alone would not stop at a negative pivot)."""
    from numopt.newton._gn_newton import _StepFailed, _System
    if cholmod and not numopt._sparse.cholmod_available:
        pytest.skip("scikit-sparse not installed")
    monkeypatch.setattr(numopt._sparse, "cholmod_available", cholmod)
    H = np.diag([1.0, -3.0, 2.0])
    g = np.array([0.1, 1.0, 0.1])
    system = _System(sp.csr_matrix(H), None, 3, "auto", 10)
    with pytest.raises(_StepFailed):
        system.solve(g, 0.5, forcing=0.1)
    d = system.solve(g, 4.0, forcing=0.1)
    np.testing.assert_allclose(d, -np.linalg.solve(H + 4.0 * np.eye(3), g), rtol=1e-13)
