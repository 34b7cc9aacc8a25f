"""Randomized Kaczmarz and sketch-and-project: kernels vs slow references, solutions vs
LAPACK, and the properties a wrong projection breaks."""
import numpy as np
import pytest
import scipy.sparse as sp
from scipy.sparse.linalg import aslinearoperator

from numopt.linalg import randomized_kaczmarz, sketch_and_project
from numopt.linalg._kernels_sketching import (csr_row_norms2, kaczmarz_csr_sweep,
                                              kaczmarz_dense_sweep)

from ._naive_sketching import kaczmarz_sweep, row_norms2


def _system(m, n, seed=0, consistent=True):
    rng = np.random.default_rng(seed)
    A = rng.standard_normal((m, n))
    x = rng.standard_normal(n)
    b = A @ x if consistent else rng.standard_normal(m)
    return A, b, x


# -- kernels vs naive ---------------------------------------------------------------
@pytest.mark.parametrize("m,n", [(1, 1), (1, 5), (7, 3), (20, 20)])
def test_dense_kernel_matches_naive(m, n):
    A, b, _ = _system(m, n, seed=m + n)
    A[0, 0] = 0.0 if n > 1 else A[0, 0]
    rng = np.random.default_rng(1)
    idx = rng.integers(0, m, size=3 * m).astype(np.int64)
    x0 = rng.standard_normal(n)
    x = x0.copy()
    kaczmarz_dense_sweep(A, b, x, idx, np.einsum("ij,ij->i", A, A))
    np.testing.assert_allclose(x, kaczmarz_sweep(A, b, x0, idx), rtol=1e-12, atol=1e-12)


def test_csr_kernel_matches_naive_with_zero_row():
    A, b, _ = _system(9, 6, seed=3)
    A[4] = 0.0
    A[A < -1.0] = 0.0
    S = sp.csr_matrix(A)
    rn2 = csr_row_norms2(S.indptr.astype(np.int64), S.data)
    np.testing.assert_allclose(rn2, row_norms2(A), rtol=1e-13)
    idx = np.random.default_rng(2).integers(0, 9, size=40).astype(np.int64)
    x = np.zeros(6)
    kaczmarz_csr_sweep(S.indptr.astype(np.int64), S.indices.astype(np.int64), S.data, b, x,
                       idx, rn2)
    np.testing.assert_allclose(x, kaczmarz_sweep(A, b, np.zeros(6), idx), atol=1e-12)


# -- Kaczmarz -------------------------------------------------------------------------
@pytest.mark.parametrize("sampling", ["row-norm", "uniform"])
@pytest.mark.parametrize("fmt", ["dense", "csr", "noncontig", "float32"])
def test_kaczmarz_solves_overdetermined_consistent(sampling, fmt):
    A, b, x_true = _system(40, 8, seed=5)
    A[:, 0] *= 5.0  # unequal row norms matter for the sampling
    b = A @ x_true
    if fmt == "csr":
        A_in = sp.csr_matrix(A)
    elif fmt == "noncontig":
        big = np.zeros((40, 16))
        big[:, ::2] = A
        A_in = big[:, ::2]
        assert not A_in.flags.c_contiguous
    elif fmt == "float32":
        A_in = A.astype(np.float32)  # float32 matrix, computed in float64
        b = A_in.astype(float) @ x_true
    else:
        A_in = A
    res = randomized_kaczmarz(A_in, b, sampling=sampling, tol=1e-11, rng=0)
    assert res.success and res.status == 0
    np.testing.assert_allclose(res.x, x_true, atol=1e-8)
    assert res.residual_norm <= 1e-11 * np.linalg.norm(b)


def test_kaczmarz_minimum_norm_solution_from_zero():
    # underdetermined: projections from 0 stay in range(Aᵀ) -> pseudo-inverse solution
    A, b, _ = _system(5, 12, seed=7)
    res = randomized_kaczmarz(A, b, tol=1e-12, rng=3)
    np.testing.assert_allclose(res.x, np.linalg.pinv(A) @ b, atol=1e-9)


def test_kaczmarz_row_norm_sampling_frequencies():
    # a row with 9x the squared norm must be picked about 9x as often: checked through
    # the iterate of a 1-step-per-check run on a diagonal system
    A = np.diag([3.0, 1.0])
    b = np.array([3.0, 1.0])
    hits = np.zeros(2)
    rng = np.random.default_rng(0)
    for _ in range(2000):
        r = randomized_kaczmarz(A, b, maxiter=1, check_every=1, rng=rng)
        hits += np.isclose(r.x, 1.0)
    assert abs(hits[0] / hits.sum() - 0.9) < 0.03


def test_kaczmarz_inconsistent_reports_maxiter_not_nan():
    A, b, _ = _system(30, 5, consistent=False)
    res = randomized_kaczmarz(A, b, maxiter=3000, rng=0)
    assert not res.success and res.status == 1 and np.isfinite(res.residual_norm)


def test_kaczmarz_rng_reproducible_and_no_mutation():
    A, b, _ = _system(30, 10)
    A0, b0, x0 = A.copy(), b.copy(), np.ones(10)
    r1 = randomized_kaczmarz(A, b, x0, maxiter=200, rng=42)
    r2 = randomized_kaczmarz(A, b, x0, maxiter=200, rng=np.random.default_rng(42))
    r3 = randomized_kaczmarz(A, b, x0, maxiter=200, rng=43)
    np.testing.assert_array_equal(r1.x, r2.x)
    assert not np.array_equal(r1.x, r3.x)
    np.testing.assert_array_equal(A, A0)
    np.testing.assert_array_equal(b, b0)
    np.testing.assert_array_equal(x0, np.ones(10))


def test_kaczmarz_bad_input():
    A, b, _ = _system(4, 3)
    with pytest.raises(ValueError, match="`b` must have shape"):
        randomized_kaczmarz(A, b[:3])
    with pytest.raises(ValueError, match="sampling"):
        randomized_kaczmarz(A, b, sampling="norm")
    with pytest.raises(TypeError, match="LinearOperator"):
        randomized_kaczmarz(aslinearoperator(A), b)
    A[0, 0] = np.nan
    with pytest.raises(ValueError, match="`A` must contain only finite"):
        randomized_kaczmarz(A, b)
    with pytest.raises(ValueError, match="`x0` must have shape"):
        randomized_kaczmarz(np.eye(3), np.ones(3), np.ones(2))


# -- sketch-and-project ---------------------------------------------------------------
@pytest.mark.parametrize("sketch", ["gaussian", "countsketch"])
@pytest.mark.parametrize("fmt", ["dense", "csr", "operator"])
def test_sketch_and_project_square_indefinite(sketch, fmt):
    # a symmetric indefinite (KKT-like) system
    rng = np.random.default_rng(4)
    Q = np.linalg.qr(rng.standard_normal((6, 6)))[0]
    B = Q @ np.diag([2.0, 1.5, 1.0, -1.0, 1.2, 2.5]) @ Q.T
    J = np.linalg.qr(rng.standard_normal((6, 3)))[0].T * 1.5
    K = np.block([[B, J.T], [J, np.zeros((3, 3))]])
    z = rng.standard_normal(9)
    b = K @ z
    A_in = {"dense": K, "csr": sp.csr_matrix(K), "operator": aslinearoperator(K)}[fmt]
    res = sketch_and_project(A_in, b, sketch=sketch, block_size=4, tol=1e-10,
                             maxiter=5000, rng=1)
    assert res.success, res.message
    np.testing.assert_allclose(res.x, np.linalg.solve(K, b), atol=1e-7)


def test_sketch_full_gaussian_block_is_one_exact_step():
    A, b, x = _system(12, 12, seed=2)
    res = sketch_and_project(A, b, block_size=12, tol=1e-10, rng=0)
    assert res.nit == 1
    np.testing.assert_allclose(res.x, x, atol=1e-8)


def test_sketch_operator_and_dense_give_same_iterates():
    A, b, _ = _system(15, 10, seed=9)
    r1 = sketch_and_project(A, b, block_size=3, maxiter=25, rng=5)
    r2 = sketch_and_project(aslinearoperator(A), b, block_size=3, maxiter=25, rng=5)
    np.testing.assert_allclose(r1.x, r2.x, rtol=1e-10, atol=1e-12)


def test_sketch_block_one_residual_projection_property():
    # after each step the sketched equations hold: Sᵀ(b - A x) = 0 -> residual history
    # of a consistent system is nonincreasing in the A-norm of the error
    A, b, x_true = _system(20, 20, seed=11)
    res = sketch_and_project(A, b, block_size=5, maxiter=50, rng=0)
    errs = []
    for k in range(1, 30):
        r = sketch_and_project(A, b, block_size=5, maxiter=k, rng=0)
        errs.append(np.linalg.norm(r.x - x_true))
    assert np.all(np.diff(errs) <= 1e-12)  # projections never increase the error
    assert res.history.size == res.nit + 1


def test_sketch_bad_input():
    A, b, _ = _system(5, 4)
    with pytest.raises(ValueError, match="block_size"):
        sketch_and_project(A, b, block_size=6)
    with pytest.raises(ValueError, match="sketch"):
        sketch_and_project(A, b, sketch="srht")
    with pytest.raises(ValueError, match="at least one row"):
        sketch_and_project(np.zeros((0, 3)), np.zeros(0))


def test_countsketch_with_empty_buckets_still_projects():
    # k = m buckets for m rows: some buckets are empty, so SᵀA has zero rows and the
    # Gram matrix is singular; the pseudo-inverse projection must still converge
    A, b, x = _system(10, 10, seed=13)
    res = sketch_and_project(A, b, sketch="countsketch", block_size=10, tol=1e-10,
                             maxiter=5000, rng=0)
    assert res.success
    np.testing.assert_allclose(res.x, x, atol=1e-7)
