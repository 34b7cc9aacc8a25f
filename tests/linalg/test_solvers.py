"""sor, ssor_pcg and ssor_preconditioner against SciPy and textbook references."""
import numpy as np
import pytest
import scipy.sparse as sp
from scipy.sparse.linalg import aslinearoperator, cg, spsolve

from numopt.linalg import sor, ssor_pcg, ssor_preconditioner
from numopt.problems import convection_diffusion_sequence, poisson_2d

from . import _naive


def _system(nx=10, shift=0.0, seed=0):
    A = sp.csr_array(poisson_2d(nx) + shift * sp.eye_array(nx * nx))
    b = np.random.default_rng(seed).standard_normal(nx * nx)
    return A, b


def _relres(A, x, b):
    return np.linalg.norm(A @ x - b) / np.linalg.norm(b)


@pytest.mark.parametrize("sweep", ["forward", "backward", "symmetric"])
@pytest.mark.parametrize("omega", [0.8, 1.0, 1.5, 1.9])
def test_sor_agrees_with_spsolve(sweep, omega):
    A, b = _system(8, 0.1)
    res = sor(A, b, omega, tol=1e-10, sweep=sweep)
    assert res.success and res.status == 0
    ref = spsolve(A.tocsc(), b)
    assert _relres(A, res.x, b) <= 1e-10
    assert np.allclose(res.x, ref, atol=1e-8 * np.abs(ref).max())
    assert res.residuals.shape == (res.nit + 1,)
    assert np.isclose(res.residuals[0], np.linalg.norm(b))
    assert np.isclose(res.residuals[-1], np.linalg.norm(b - A @ res.x), rtol=1e-6)


@pytest.mark.parametrize("omega", [1.0, 1.4])
def test_iteration_counts_equal_textbook_gauss_seidel(omega):
    A, b = _system(7, 0.2, seed=3)
    res = sor(A.toarray(), b, omega, tol=1e-8)
    x_ref, it_ref = _naive.gauss_seidel(A.toarray(), b, 1e-8, 5000, omega=omega)
    assert res.nit == it_ref
    assert np.allclose(res.x, x_ref, rtol=1e-10, atol=1e-12)


def test_sor_nonsymmetric_convection_diffusion():
    A, b, _ = convection_diffusion_sequence(1, nx=12, max_velocity=40.0, rng=2)[0]
    res = sor(A, b, 1.2)
    assert res.success
    assert np.allclose(res.x, spsolve(A.tocsc(), b), atol=1e-7)


def test_dense_sparse_formats_and_dtypes():
    A, b = _system(5, 0.1)
    r_csr = sor(A, b, 1.3)
    for M in (A.toarray(), sp.coo_array(A), sp.csc_matrix(A), A.toarray().tolist()):
        r = sor(M, b, 1.3)
        assert r.nit == r_csr.nit and np.array_equal(r.x, r_csr.x)
    r32 = sor(A.astype(np.float32), b.astype(np.float32), 1.3, tol=1e-5)
    assert r32.x.dtype == np.float32 and r32.success
    assert sor(A, b.astype(np.float32), 1.3).x.dtype == np.float64
    p32 = ssor_pcg(A.toarray().astype(np.float32), b.astype(np.float32), 1.3, tol=1e-5)
    assert p32.x.dtype == np.float32 and _relres(A, p32.x, b) < 1e-4


def test_noncontiguous_and_column_inputs_not_mutated():
    A, b = _system(5, 0.1)
    big = np.zeros((A.shape[0], 2))
    big[:, 0] = b
    x0 = np.ones(2 * A.shape[0])[::2]
    b_view, x0_copy, data_copy = big[:, 0], x0.copy(), A.data.copy()
    r1 = sor(A, b_view, 1.2, x0=x0)
    r2 = sor(A, b, 1.2, x0=np.ones(A.shape[0]))
    assert np.array_equal(r1.x, r2.x)
    assert np.array_equal(x0, x0_copy) and np.array_equal(A.data, data_copy)
    r3 = ssor_pcg(A, b[:, None], 1.2, x0=x0)
    assert r3.success and np.array_equal(x0, x0_copy)
    assert np.array_equal(big[:, 0], b)


def test_warm_start_and_zero_rhs():
    A, b = _system(6, 0.1)
    ref = spsolve(A.tocsc(), b)
    assert sor(A, b, 1.4, x0=ref).nit == 0
    assert ssor_pcg(A, b, 1.4, x0=ref).nit == 0
    r = sor(A, np.zeros(36), 1.4)
    assert r.success and r.nit == 0 and not r.x.any()


@pytest.mark.parametrize("omega", [None, 0.5, 1.0, 1.5, 1.8])
def test_ssor_pcg_agrees_with_spsolve(omega):
    A, b = _system(15, 0.02, seed=5)
    res = ssor_pcg(A, b, omega, tol=1e-10)
    assert res.success
    ref = spsolve(A.tocsc(), b)
    assert _relres(A, res.x, b) <= 1e-9
    assert np.allclose(res.x, ref, atol=1e-8 * np.abs(ref).max())


def test_cg_and_pcg_iteration_counts_match_scipy():
    A, b = _system(20, 0.0, seed=2)
    for omega, M in [(None, None), (1.6, ssor_preconditioner(A, 1.6))]:
        count = [0]

        def cb(xk, count=count):
            count[0] += 1

        x_sp, info = cg(A, b, rtol=1e-8, atol=0.0, M=M, callback=cb, maxiter=1000)
        ours = ssor_pcg(A, b, omega, tol=1e-8)
        assert info == 0 and ours.success
        assert abs(ours.nit - count[0]) <= 1
        assert np.allclose(ours.x, x_sp, atol=1e-6)
    # SSOR makes CG cheaper in iterations on the Poisson problem
    assert ssor_pcg(A, b, 1.6).nit < 0.6 * ssor_pcg(A, b, None).nit


def test_ssor_preconditioner_operator():
    A, b = _system(4, 0.3)
    M = ssor_preconditioner(A, 1.2)
    assert M.shape == A.shape
    Mdense = _naive.ssor_matrix(A.toarray(), 1.2)
    assert np.allclose(M @ b, np.linalg.solve(Mdense, b))
    X = np.random.default_rng(0).standard_normal((16, 3))
    assert np.allclose(M @ X, np.linalg.solve(Mdense, X))


def test_maxiter_status():
    A, b = _system(10, 0.0)
    r = sor(A, b, 1.0, maxiter=5)
    assert r.status == 1 and not r.success and r.nit == 5 and "tol" in r.message
    p = ssor_pcg(A, b, 1.0, maxiter=2)
    assert p.status == 1 and not p.success and p.nit == 2


def test_sor_divergence_reported_without_nan():
    # Jacobi/SOR diverge for this symmetric indefinite matrix with a positive diagonal.
    A = np.array([[1.0, 3.0], [3.0, 1.0]])
    r = sor(A, np.ones(2), 1.0)
    assert r.status == 3 and not r.success and "diverged" in r.message
    assert np.all(np.isfinite(r.x)) and np.all(np.isfinite(r.residuals))


def test_pcg_non_spd_reported_without_nan():
    A = np.array([[1.0, 3.0], [3.0, 1.0]])  # indefinite, positive diagonal
    r = ssor_pcg(A, np.array([1.0, 0.0]), None)
    assert r.status == 2 and "positive definite" in r.message
    assert np.all(np.isfinite(r.x))
    r = ssor_pcg(A, np.array([1.0, 0.0]), 1.0)
    assert not r.success and np.all(np.isfinite(r.x))
    neg = ssor_pcg(-poisson_2d(3), np.ones(9), 1.0)
    assert neg.status == 2 and "negative diagonal" in neg.message
    # a non-symmetric matrix is caught by the final true-residual check or a breakdown
    A, b, _ = convection_diffusion_sequence(1, nx=10, max_velocity=200.0, rng=0)[0]
    ns = ssor_pcg(A, b, 1.0)
    assert not ns.success or _relres(A, ns.x, b) < 1e-6
    assert np.all(np.isfinite(ns.x))


def test_bad_input_messages():
    A, b = _system(3)
    with pytest.raises(ValueError, match="`A` must be square"):
        sor(np.ones((3, 4)), np.ones(3))
    with pytest.raises(ValueError, match="zero on its diagonal"):
        sor(np.array([[0.0, 1.0], [1.0, 2.0]]), np.ones(2))
    with pytest.raises(ValueError, match="zero on its diagonal"):
        ssor_pcg(sp.csr_array(np.array([[1.0, 1.0], [1.0, 0.0]])), np.ones(2))
    for bad in (0.0, 2.0, -1.0, 2.5):
        with pytest.raises(ValueError, match="`omega` must be"):
            sor(A, b, bad)
        with pytest.raises(ValueError, match="`omega` must be"):
            ssor_pcg(A, b, bad)
    with pytest.raises(TypeError, match="`omega`"):
        sor(A, b, "1.5")
    with pytest.raises(ValueError, match=r"`b` must have shape \(9,\)"):
        sor(A, np.ones(8))
    with pytest.raises(ValueError, match="`x0` must have shape"):
        ssor_pcg(A, b, x0=np.ones(4))
    with pytest.raises(ValueError, match="finite"):
        sor(A, np.full(9, np.nan))
    bad = A.copy()
    bad.data[0] = np.inf
    with pytest.raises(ValueError, match="`A` must contain only finite"):
        sor(bad, b)
    with pytest.raises(TypeError, match="LinearOperator"):
        sor(aslinearoperator(A), b)
    with pytest.raises(ValueError, match="`sweep` must be one of"):
        sor(A, b, sweep="diagonal")
    with pytest.raises(ValueError, match="`tol`"):
        sor(A, b, tol=-1.0)
    with pytest.raises(TypeError, match="complex"):
        sor(A.toarray() * 1j, b)


def test_one_by_one_system():
    # n = 1: one SOR sweep with omega = 1 is exact; CG converges in one step.
    r = sor(np.array([[4.0]]), np.array([2.0]), 1.0)
    assert r.success and r.nit == 1 and r.x[0] == 0.5
    r = sor(np.array([[4.0]]), np.array([2.0]), 1.5, tol=1e-12)
    assert r.success and np.isclose(r.x[0], 0.5) and r.nit > 1
    p = ssor_pcg(sp.csr_array(np.array([[4.0]])), np.array([2.0]), 1.3)
    assert p.success and p.nit == 1 and np.isclose(p.x[0], 0.5)


@pytest.mark.parametrize("sweep", ["forward", "backward", "symmetric"])
def test_sor_smoother_matches_naive_sweeps_and_sor(sweep):
    from numopt.linalg import SORSmoother
    rng = np.random.default_rng(11)
    A = sp.random(40, 40, density=0.15, random_state=3, format="csr")
    A = (A + A.T + 8.0 * sp.eye(40)).tocsr()
    A.sort_indices()
    b = rng.standard_normal(40)
    x0 = rng.standard_normal(40)
    smooth = SORSmoother(A, omega=1.3, sweep=sweep)
    assert (smooth.n, smooth.nnz) == (40, A.nnz)
    x = x0.copy()
    out = smooth(x, b, iterations=3)
    assert out is x
    ref = x0.copy()
    for _ in range(3):
        ref = _naive.sor_sweep(A.indptr, A.indices, A.data, A.diagonal(), b, ref, 1.3,
                               ["forward", "backward", "symmetric"].index(sweep))
    np.testing.assert_allclose(x, ref, rtol=1e-12, atol=1e-14)
    np.testing.assert_array_equal(x, sor(A, b, omega=1.3, x0=x0, tol=0.0, maxiter=3,
                                         sweep=sweep).x)
    # zero iterations leave x alone; A was not modified
    np.testing.assert_array_equal(smooth(x0.copy(), b, iterations=0), x0)


def test_sor_smoother_bad_input():
    from numopt.linalg import SORSmoother
    A = poisson_2d(4)
    smooth = SORSmoother(A, omega=1.5)
    b = np.ones(16)
    with pytest.raises(TypeError, match="`x` must be a writeable C-contiguous float64"):
        smooth(np.zeros(16, dtype=np.float32), b)
    with pytest.raises(TypeError, match="`x` must be"):
        smooth(np.zeros(32)[::2], b)
    with pytest.raises(TypeError, match="`x` must be"):
        smooth([0.0] * 16, b)
    with pytest.raises(ValueError, match="`b` must have shape"):
        smooth(np.zeros(16), np.ones(15))
    with pytest.raises(ValueError, match="`x` must contain only finite"):
        smooth(np.full(16, np.nan), b)
    with pytest.raises(ValueError, match="`omega` must be < 2"):
        SORSmoother(A, omega=2.0)
    with pytest.raises(TypeError, match=r"`omega` must be a real number in \(0, 2\)"):
        SORSmoother(A, omega="1.5")
    with pytest.raises(ValueError, match="`sweep` must be one of"):
        SORSmoother(A, sweep="sideways")
