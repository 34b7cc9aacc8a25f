"""The shared conjugate gradients (numopt._krylov) against SciPy's cg and direct solves."""
import numpy as np
import pytest
import scipy.sparse.linalg as spla

from numopt._krylov import CONVERGED, INDEFINITE, MAXITER, NONFINITE, conjugate_gradient


def _spd(n, cond, rng):
    Q, _ = np.linalg.qr(rng.standard_normal((n, n)))
    return (Q * np.geomspace(1.0, cond, n)) @ Q.T


@pytest.mark.parametrize("precondition", [False, True])
def test_matches_direct_solve_and_scipy_cg(precondition):
    rng = np.random.default_rng(0)
    n = 40
    # badly scaled rows and columns: Jacobi preconditioning pays off
    s = np.geomspace(1.0, 1e3, n)
    A = s[:, None] * _spd(n, 1e2, rng) * s[None, :]
    b = rng.standard_normal(n)
    d = np.diag(A).copy()
    psolve = (lambda r: r / d) if precondition else None
    res = conjugate_gradient(lambda v: A @ v, b, rtol=1e-10, maxiter=10 * n, psolve=psolve)
    assert res.converged and res.status == CONVERGED
    x_ref = np.linalg.solve(A, b)
    np.testing.assert_allclose(res.x, x_ref, rtol=1e-5, atol=0)
    assert np.linalg.norm(A @ res.x - b) <= 1e-9 * np.linalg.norm(b)
    M = spla.LinearOperator((n, n), matvec=psolve) if precondition else None
    x_sp, info = spla.cg(A, b, rtol=1e-10, maxiter=10 * n, M=M)
    assert info == 0
    np.testing.assert_allclose(res.x, x_sp, rtol=1e-6, atol=1e-12 * np.abs(x_ref).max())
    if precondition:
        plain = conjugate_gradient(lambda v: A @ v, b, rtol=1e-10, maxiter=10 * n)
        assert res.nit < plain.nit


def test_iterates_follow_scipy_cg_step_by_step():
    """The k-th iterate is SciPy's k-th (same Krylov space, same recurrences)."""
    rng = np.random.default_rng(1)
    n = 30
    A = _spd(n, 1e3, rng)
    b = rng.standard_normal(n)
    d = np.diag(A).copy()
    for k in (1, 3, 7):
        res = conjugate_gradient(lambda v: A @ v, b, rtol=0.0, maxiter=k,
                                 psolve=lambda r: r / d)
        assert res.nit == k and res.status == MAXITER and not res.converged
        x_sp, info = spla.cg(A, b, rtol=0.0, atol=0.0, maxiter=k,
                             M=spla.LinearOperator((n, n), matvec=lambda r: r / d))
        assert info == k
        np.testing.assert_allclose(res.x, x_sp, rtol=1e-10, atol=1e-12)


def test_not_converged_reports_maxiter_and_keeps_the_best_so_far():
    rng = np.random.default_rng(2)
    n = 100
    A = _spd(n, 1e6, rng)
    b = rng.standard_normal(n)
    res = conjugate_gradient(lambda v: A @ v, b, rtol=1e-12, maxiter=5)
    assert not res.converged and res.status == MAXITER and res.nit == 5
    # CG minimizes the A-norm of the error over the Krylov space: better than x = 0
    e = res.x - np.linalg.solve(A, b)
    e0 = np.linalg.solve(A, b)
    assert e @ A @ e < e0 @ A @ e0


def test_x0_is_used_and_not_modified():
    rng = np.random.default_rng(3)
    n = 20
    A = _spd(n, 10.0, rng)
    b = rng.standard_normal(n)
    x_ref = np.linalg.solve(A, b)
    x0 = x_ref + 1e-3 * rng.standard_normal(n)
    keep = x0.copy()
    res = conjugate_gradient(lambda v: A @ v, b, rtol=1e-10, maxiter=100, x0=x0)
    np.testing.assert_array_equal(x0, keep)
    assert res.converged
    np.testing.assert_allclose(res.x, x_ref, rtol=1e-8)
    # an exact x0 needs no iteration
    exact = conjugate_gradient(lambda v: A @ v, A @ x0, rtol=1e-10, maxiter=100, x0=x0)
    assert exact.nit == 0 and exact.converged
    np.testing.assert_array_equal(exact.x, x0)


def test_zero_rhs_and_breakdowns():
    A = np.diag([1.0, 2.0, 3.0])
    zero = conjugate_gradient(lambda v: A @ v, np.zeros(3), rtol=1e-8, maxiter=10)
    assert zero.converged and zero.nit == 0 and not np.any(zero.x)
    # indefinite operator: stops at the first non-positive curvature with a finite iterate
    B = np.diag([1.0, -1.0, 2.0])
    ind = conjugate_gradient(lambda v: B @ v, np.array([1.0, 1.0, 0.0]), rtol=1e-8,
                             maxiter=10)
    assert ind.status == INDEFINITE and not ind.converged and ind.nit == 1
    assert np.all(np.isfinite(ind.x))
    # an overflowing operator: the last finite iterate comes back
    calls = []

    def blowup(v):
        calls.append(1)
        return A @ v if len(calls) < 2 else np.full(3, np.inf)

    nf = conjugate_gradient(blowup, np.array([1.0, 1.0, 1.0]), rtol=1e-12, maxiter=10)
    assert nf.status == NONFINITE and not nf.converged
    assert np.all(np.isfinite(nf.x)) and np.any(nf.x)
