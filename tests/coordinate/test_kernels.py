"""Numba kernels of numopt.coordinate vs the slow references in _naive.py."""
import numpy as np
import pytest
import scipy.sparse as sp

from numopt.coordinate import _kernels as K
from numopt.coordinate._partition import forest_structure

from . import _naive


@pytest.mark.parametrize("m,n", [(1, 1), (7, 1), (1, 5), (30, 12)])
@pytest.mark.parametrize("alpha,l2,positive", [(0.0, 0.0, False), (0.3, 0.0, False),
                                               (0.1, 0.2, True)])
def test_cd_epoch_dense_and_csc_match_naive(m, n, alpha, l2, positive):
    rng = np.random.default_rng(m * 100 + n)
    X = rng.standard_normal((m, n))
    X[rng.random((m, n)) < 0.4] = 0.0
    y = rng.standard_normal(m)
    w0 = rng.standard_normal(n) * (rng.random(n) < 0.5)
    scale = 1.0 / m
    L = scale * (X ** 2).sum(0) + l2
    coords = rng.permutation(n).astype(np.int64)
    w_ref, r_ref = _naive.cd_epoch(X, w0, X @ w0 - y, coords, L, scale, alpha, l2, positive)
    w, r = w0.copy(), X @ w0 - y
    K.cd_epoch_dense(np.asfortranarray(X), w, r, coords, L, scale, alpha, l2, positive)
    np.testing.assert_allclose(w, w_ref, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(r, r_ref, rtol=1e-12, atol=1e-12)
    S = sp.csc_matrix(X)
    w, r = w0.copy(), X @ w0 - y
    K.cd_epoch_csc(S.data, S.indices.astype(np.int64), S.indptr.astype(np.int64), w, r,
                   coords, L, scale, alpha, l2, positive)
    np.testing.assert_allclose(w, w_ref, rtol=1e-12, atol=1e-12)


def _random_forest_matrix(n, rng):
    A = np.zeros((n, n))
    for i in range(1, n):
        if rng.random() < 0.85:  # some nodes start a new tree
            p = rng.integers(i)
            A[i, p] = A[p, i] = rng.uniform(-1, 1)
    A[np.diag_indices(n)] = np.abs(A).sum(1) + rng.uniform(0.1, 1.0, n)
    return A


@pytest.mark.parametrize("n", [1, 2, 9, 40])
def test_tree_solve_matches_naive_and_dense_solve(n):
    rng = np.random.default_rng(n)
    A = _random_forest_matrix(n, rng)
    rhs = rng.standard_normal(n)
    idx = np.arange(n, dtype=np.int64)
    order, parent, weight, diag = forest_structure(sp.csr_matrix(A), idx)
    x = K.tree_solve(order, parent, weight, diag, rhs)
    np.testing.assert_allclose(x, np.linalg.solve(A, rhs), rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(x, _naive.tree_solve(A, rhs), rtol=1e-10, atol=1e-12)


def test_forest_structure_rejects_cycles():
    A = np.eye(3) * 3 + (np.ones((3, 3)) - np.eye(3))  # triangle
    with pytest.raises(ValueError, match="cycle"):
        forest_structure(sp.csr_matrix(A), np.arange(3))


@pytest.mark.parametrize("n", [1, 6])
@pytest.mark.parametrize("alpha,positive", [(0.0, True), (0.5, False), (0.2, True)])
def test_block_prox_cd_matches_naive_and_optimality(n, alpha, positive):
    rng = np.random.default_rng(n + 10)
    B = rng.standard_normal((n + 3, n))
    H = B.T @ B + 0.1 * np.eye(n)
    g = rng.standard_normal(n)
    xb = rng.standard_normal(n)
    if positive:
        xb = np.abs(xb)
    d = K.block_prox_cd(H, g, xb, alpha, positive, 5, 0.0)
    np.testing.assert_allclose(d, _naive.block_prox_cd(H, g, xb, alpha, positive, 5),
                               rtol=1e-12, atol=1e-12)
    # converged solution satisfies the subproblem's optimality conditions
    d = K.block_prox_cd(H, g, xb, alpha, positive, 10000, 1e-14)
    z = xb + d
    grad = g + H @ d
    for i in range(n):
        if z[i] > 0:
            assert abs(grad[i] + alpha) < 1e-8
        elif z[i] < 0:
            assert abs(grad[i] - alpha) < 1e-8
        else:
            lo = -alpha if not positive else -np.inf
            assert lo - 1e-8 <= -grad[i] <= alpha + 1e-8


def test_soft_threshold():
    assert K.soft_threshold(3.0, 1.0) == 2.0
    assert K.soft_threshold(-3.0, 1.0) == -2.0
    assert K.soft_threshold(0.5, 1.0) == 0.0
