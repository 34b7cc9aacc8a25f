"""The structured interior-point solver (solver='ipm') against CVXPY/Clarabel."""
import numpy as np
import pytest

from numopt import OptimizeWarning
from numopt.convex_nn import fit_convex_relu, sample_patterns
from numopt.convex_nn._core import add_bias, constraint_violation
from numopt.convex_nn._ipm import _NewtonSystem, _Problem, ipm_solve

from .test_convex_nn import _data, cvx_reference


@pytest.mark.parametrize("seed,n,d,P,beta", [(0, 40, 2, 8, 0.05), (1, 60, 3, 12, 1e-3),
                                             (2, 30, 4, 25, 0.5)])
def test_ipm_squared_matches_clarabel_with_certificate(seed, n, d, P, beta):
    X, y = _data(seed, n=n, d=d)
    res = fit_convex_relu(X, y, n_patterns=P, beta=beta, solver="ipm", rng=seed, tol=1e-6)
    assert res.success, res.message
    ref = cvx_reference(add_bias(X), y, res.patterns, beta, "squared")
    # the certificate brackets the independent optimum: lower_bound <= p* <= fun
    tol_ref = 1e-7 * abs(ref)           # Clarabel's own accuracy
    assert res.lower_bound <= ref + tol_ref
    assert res.objective >= ref - tol_ref
    assert res.objective - res.lower_bound <= 1e-6 * abs(res.objective)
    assert abs(res.objective - ref) <= 1.1e-6 * abs(ref)
    # iterates are strictly feasible: nothing to restore
    assert res.constraint_violation == 0.0
    np.testing.assert_allclose(res.network.predict(X), res.predictions, atol=1e-8)


def test_ipm_bce_matches_clarabel():
    X, y = _data(2, n=50, loss="bce")
    res = fit_convex_relu(X, y, n_patterns=10, beta=0.02, loss="bce", solver="ipm", rng=2,
                          tol=1e-5)
    assert res.success, res.message
    ref = cvx_reference(add_bias(X), y, res.patterns, 0.02, "bce")
    assert res.lower_bound <= ref + 1e-6 * abs(ref)
    assert abs(res.objective - ref) <= 2e-5 * abs(ref)


def test_ipm_agrees_with_admm_and_keeps_group_sparsity():
    X, y = _data(3, n=60, d=3)
    kw = dict(n_patterns=15, beta=0.3, rng=3)
    ipm = fit_convex_relu(X, y, solver="ipm", tol=1e-6, **kw)
    admm = fit_convex_relu(X, y, solver="admm", tol=1e-8, maxiter=50000, **kw)
    assert ipm.success
    assert abs(ipm.objective - admm.objective) <= 1e-4 * abs(ipm.objective)
    assert ipm.lower_bound <= admm.objective + 1e-9
    # a large beta switches neurons off; the interior point method returns exact zeros
    n_ipm = int(np.sum(np.linalg.norm(np.hstack([ipm.V, ipm.W]), axis=0) > 0))
    assert n_ipm < 2 * ipm.V.shape[1]
    assert ipm.network.n_hidden == n_ipm


def test_newton_system_woodbury_and_direct_match_dense():
    rng = np.random.default_rng(0)
    for n, d, P in [(30, 3, 20), (200, 3, 4)]:      # Woodbury (2dP > n), direct (2dP < n)
        X = rng.standard_normal((n, d))
        D, _ = sample_patterns(X, P, rng=1)
        P = D.shape[1]
        prob = _Problem(X, rng.standard_normal(n), D, 0.1, "bce")
        A = rng.standard_normal((2 * P, d, d))
        B = A @ A.transpose(0, 2, 1) + 0.1 * np.eye(d)
        lam2 = rng.random(n)
        # dense H = blockdiag(B) + Fᵀ diag(lam2) F in the ordering of U.T.ravel()
        F = np.concatenate([D[:, :, None] * X[:, None, :], -D[:, :, None] * X[:, None, :]],
                           axis=1).reshape(n, 2 * P * d)
        from scipy.linalg import block_diag
        H = block_diag(*B) + F.T @ (lam2[:, None] * F)
        r = rng.standard_normal((d, 2 * P))
        x = _NewtonSystem(prob, B, lam2)(r, B)
        expect = np.linalg.solve(H, r.T.ravel()).reshape(2 * P, d).T
        np.testing.assert_allclose(x, expect, rtol=1e-8, atol=1e-10)


def test_ipm_callback_bounds_and_infeasible_start():
    X, y = _data(4, n=50, d=2)
    Xa = add_bias(X)
    D, gates = sample_patterns(Xa, 10, rng=4)
    ref = cvx_reference(Xa, y, D, 0.05, "squared")
    seen = []

    def cb(intermediate_result):
        r = intermediate_result
        seen.append(r.primal_infeasibility)
        # at every iteration: lower bound <= optimum <= best feasible objective
        assert r.lower_bound <= ref + 1e-7 * ref
        assert r.feasible_fun >= ref - 1e-7 * ref
        if len(seen) == 12:
            raise StopIteration

    res = ipm_solve(Xa, y, D, 0.05, gates=gates, callback=cb)
    assert res.status == 99 and len(seen) == 12
    # the slacks are free at the start and G u - s is driven to zero
    assert seen[-1] < 1e-6 < max(seen)
    # what it returns is feasible, with the objective it reports
    assert constraint_violation(Xa, D, res.V, res.W) == 0.0
    full = ipm_solve(Xa, y, D, 0.05, gates=gates)
    assert full.success and abs(full.fun - ref) <= 1.1e-6 * ref


def test_ipm_bad_input():
    X, y = _data(5)
    Xa = add_bias(X)
    D, gates = sample_patterns(Xa, 6, rng=5)
    with pytest.raises(ValueError, match="hinge"):
        fit_convex_relu(X, np.sign(y - np.median(y)) + (y == np.median(y)), loss="hinge",
                        solver="ipm", n_patterns=4)
    with pytest.raises(ValueError, match="beta > 0"):
        fit_convex_relu(X, y, beta=0.0, solver="ipm", n_patterns=4)
    with pytest.raises(ValueError, match="strictly inside"):
        ipm_solve(Xa, y, D, 0.1, gates=-gates)
    with pytest.warns(OptimizeWarning, match="rho"):     # SciPy's convention
        fit_convex_relu(X, y, solver="ipm", n_patterns=4, rho=2.0)


def test_ipm_iteration_limit_reported_and_inputs_unchanged():
    X, y = _data(6, n=50, d=3)
    X0, y0 = X.copy(), y.copy()
    res = fit_convex_relu(X, y, n_patterns=10, beta=0.01, solver="ipm", rng=6, maxiter=3)
    assert not res.success and res.status == 1 and "gap" in res.message
    assert np.isfinite(res.objective) and res.lower_bound < res.objective
    assert constraint_violation(add_bias(X), res.patterns, res.V, res.W) == 0.0
    np.testing.assert_array_equal(X, X0)
    np.testing.assert_array_equal(y, y0)
