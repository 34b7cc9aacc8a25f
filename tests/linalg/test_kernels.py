"""Numba kernels of numopt.linalg against the slow references in _naive.py."""
import numpy as np
import pytest
import scipy.sparse as sp

from numopt.linalg import _kernels as K
from numopt.linalg._common import prepare_matrix
from numopt.problems import convection_diffusion_sequence, poisson_2d

from . import _naive


def _random_matrix(n, rng, density=0.4, symmetric=False):
    """Random sparse matrix with a dominant positive diagonal and unsorted-ish pattern."""
    M = sp.random_array((n, n), density=density, rng=rng, format="csr")
    M = M - sp.diags_array(M.diagonal())
    if symmetric:
        M = M + M.T
    d = np.asarray(abs(M).sum(axis=1)).ravel() + 1.0 + rng.random(n)
    return sp.csr_array(M + sp.diags_array(d))


@pytest.mark.parametrize("n", [1, 2, 7, 30])
@pytest.mark.parametrize("sweep", [K.FORWARD, K.BACKWARD, K.SYMMETRIC])
def test_sor_sweep_bit_for_bit(n, sweep):
    rng = np.random.default_rng(n)
    sys = prepare_matrix(_random_matrix(n, rng))
    b = rng.standard_normal(n)
    x0 = rng.standard_normal(n)
    for omega in (1.0, 1.37, 0.6):
        x = x0.copy()
        K.sor_sweep(sys.indptr, sys.indices, sys.data, sys.split, sys.wdiag(omega), b, x, sweep)
        ref = _naive.sor_sweep(sys.indptr, sys.indices, sys.data, sys.diag, b, x0, omega,
                               sweep)
        assert np.array_equal(x, ref)


@pytest.mark.parametrize("density", [0.03, 0.08, 0.15])
def test_sor_sweep_short_rows_bit_for_bit(density):
    # rows with 0-8 entries on each side of the diagonal: every written-out run length
    # (1-4) and the general loop, with and without the neighbour i -/+ 1
    rng = np.random.default_rng(int(100 * density))
    A = _random_matrix(60, rng, density=density)
    P = poisson_2d(8) + sp.diags_array(rng.random(64))  # 5-point rows, boundary rows
    for M in (A, sp.csr_array(P.multiply(1 + rng.random(P.shape)))):
        sys = prepare_matrix(M)
        counts = np.diff(sys.indptr.astype(np.int64))
        assert counts.min() <= 3 and counts.max() >= 5
        n = sys.n
        b, x0 = rng.standard_normal(n), rng.standard_normal(n)
        for sweep in (K.FORWARD, K.BACKWARD, K.SYMMETRIC):
            x = x0.copy()
            K.sor_sweep(sys.indptr, sys.indices, sys.data, sys.split, sys.wdiag(1.3), b, x,
                        sweep)
            ref = _naive.sor_sweep(sys.indptr, sys.indices, sys.data, sys.diag, b, x0, 1.3,
                                   sweep)
            assert np.array_equal(x, ref)


def test_sor_sweep_nonsymmetric_bit_for_bit():
    A, b, _ = convection_diffusion_sequence(2, nx=5, rng=3)[1]
    sys = prepare_matrix(A)
    x = np.zeros(sys.n)
    K.sor_sweep(sys.indptr, sys.indices, sys.data, sys.split, sys.wdiag(1.2), b, x, K.SYMMETRIC)
    ref = _naive.sor_sweep(sys.indptr, sys.indices, sys.data, sys.diag, b, np.zeros(sys.n),
                           1.2, K.SYMMETRIC)
    assert np.array_equal(x, ref)


@pytest.mark.parametrize("n", [1, 5, 40])
def test_ssor_apply_matches_dense_inverse(n):
    rng = np.random.default_rng(10 + n)
    A = _random_matrix(n, rng, symmetric=True)
    sys = prepare_matrix(A)
    r = rng.standard_normal(n)
    for omega in (1.0, 1.6):
        z = np.empty(n)
        w = sys.wdiag(omega)
        K.ssor_apply(sys.indptr, sys.indices, sys.scaled_data(w), sys.split, w, r, omega, z)
        assert np.allclose(z, _naive.ssor_apply(A.toarray(), r, omega), rtol=1e-12, atol=1e-14)
        assert np.allclose(z, np.linalg.solve(_naive.ssor_matrix(A.toarray(), omega), r),
                           rtol=1e-10, atol=1e-12)


def test_symmetric_sor_sweep_from_zero_is_ssor_preconditioner():
    # One SSOR iteration from x = 0 equals M⁻¹ b: ties the two kernels together.
    A = poisson_2d(6) + 0.3 * sp.eye_array(36)
    sys = prepare_matrix(A)
    b = np.random.default_rng(0).standard_normal(36)
    x = np.zeros(36)
    K.sor_sweep(sys.indptr, sys.indices, sys.data, sys.split, sys.wdiag(1.3), b, x, K.SYMMETRIC)
    z = np.empty(36)
    w = sys.wdiag(1.3)
    K.ssor_apply(sys.indptr, sys.indices, sys.scaled_data(w), sys.split, w, b, 1.3, z)
    assert np.allclose(x, z, rtol=1e-12, atol=1e-14)


def test_matvec_and_residual_norm():
    rng = np.random.default_rng(4)
    A = _random_matrix(25, rng)
    sys = prepare_matrix(A)
    x, b = rng.standard_normal(25), rng.standard_normal(25)
    out = np.empty(25)
    K.matvec(sys.indptr, sys.indices, sys.data, x, out)
    assert np.allclose(out, A @ x, rtol=1e-14)
    assert np.isclose(K.residual_norm(sys.indptr, sys.indices, sys.data, b, x),
                      np.linalg.norm(b - A @ x), rtol=1e-13)
    # matvec with p^T A p, on rows of every length (written out for 3-5 entries)
    for M in (A, poisson_2d(5) + sp.diags_array(rng.random(25))):
        sm = prepare_matrix(M)
        assert {3, 4, 5} <= set(np.diff(sm.indptr.astype(np.int64))) or M is A
        q = np.empty(25)
        pq = K.matvec_dot(sm.indptr, sm.indices, sm.data, x, q)
        assert np.allclose(q, M @ x, rtol=1e-13) and np.isclose(pq, x @ (M @ x), rtol=1e-12)


@pytest.mark.parametrize("n", [1, 2, 9, 40])
def test_csr_split_and_scaled_data(n):
    rng = np.random.default_rng(20 + n)
    A = _random_matrix(n, rng, density=0.3)
    if n > 2:  # a row with only its diagonal and one with no lower part
        A = sp.lil_array(A)
        A[1, :] = 0
        A[1, 1] = 2.0
        A[n - 1, : n - 1] = 0
        A = sp.csr_array(A)
    sys = prepare_matrix(A)
    assert np.array_equal(sys.split, _naive.csr_split(sys.indptr, sys.indices))
    assert sys.split.dtype == sys.indptr.dtype and sys.split.flags.c_contiguous
    w = rng.random(n)
    rows = np.repeat(np.arange(n), np.diff(sys.indptr).astype(np.int64))
    assert np.array_equal(sys.scaled_data(w), sys.data * w[rows])


@pytest.mark.parametrize("omega", [None, 1.0, 1.5])
def test_pcg_kernel_matches_textbook_pcg(omega):
    A = poisson_2d(12) + 0.05 * sp.eye_array(144)
    sys = prepare_matrix(A)
    b = np.random.default_rng(1).standard_normal(144)
    x = np.zeros(144)
    hist = np.empty(1001)
    w = 1.0 if omega is None else omega
    nit, code = K.pcg_solve(sys.indptr, sys.indices, sys.data, sys.scaled_data(sys.wdiag(w)),
                            sys.split, sys.wdiag(w), b, x,
                            w, omega is not None,
                            1e-10 * np.linalg.norm(b), 1000, hist)
    Minv = None if omega is None else (lambda r: _naive.ssor_apply(A.toarray(), r, omega))
    xr, nr, hr = _naive.pcg(A.toarray(), b, 1e-10, 1000, Minv)
    assert code == K.K_CONVERGED and nit == nr
    assert np.allclose(hist[:nit + 1], hr, rtol=1e-6)
    assert np.allclose(x, xr, rtol=1e-8, atol=1e-10)
