"""numopt._sparse: the CHOLMOD path and the SuperLU fallback against scipy.linalg."""
import numpy as np
import pytest
import scipy.linalg
import scipy.sparse as sp

import numopt._sparse as nsp

PATHS = [pytest.param(True, marks=pytest.mark.skipif(
    not nsp.cholmod_available, reason="scikit-sparse not installed"), id="cholmod"),
    pytest.param(False, id="superlu")]


def _spd(n=8, seed=0):
    rng = np.random.default_rng(seed)
    A = sp.random(n, n, density=0.3, random_state=seed) + sp.identity(n)
    A = (A @ A.T).tocsc()  # SPD, sparse
    return A, rng.standard_normal(n)


@pytest.fixture(params=PATHS)
def path(request, monkeypatch):
    monkeypatch.setattr(nsp, "cholmod_available", request.param)
    return "cholmod" if request.param else "superlu"


def test_solve_and_shift_match_dense_cholesky(path):
    A, b = _spd()
    Ad = A.toarray()
    for beta in (0.0, 0.7):
        F = nsp.cholesky(A, beta=beta)
        assert F.method == path
        ref = scipy.linalg.cho_solve(scipy.linalg.cho_factor(Ad + beta * np.eye(8)), b)
        np.testing.assert_allclose(F(b), ref, rtol=1e-12, atol=1e-12)
    # refactor with another shift reuses the object and gives the new solution
    F.refactor(A, beta=2.5)
    np.testing.assert_allclose(F(b), scipy.linalg.solve(Ad + 2.5 * np.eye(8), b),
                               rtol=1e-12, atol=1e-12)


def test_input_not_mutated(path):
    A, b = _spd(seed=1)
    A0, b0 = A.copy(), b.copy()
    nsp.cholesky(A, beta=1.0)(b)
    assert (A != A0).nnz == 0 and np.array_equal(b, b0)


def test_not_positive_definite(path):
    A, _ = _spd(seed=2)
    if path == "cholmod":  # CHOLMOD detects indefiniteness
        with pytest.raises(nsp.CholmodNotPositiveDefiniteError):
            nsp.cholesky(-A)
    else:  # SuperLU does not, but an exactly singular matrix raises the same error
        with pytest.raises(nsp.CholmodNotPositiveDefiniteError, match="singular"):
            nsp.cholesky(sp.csc_matrix(np.diag([1.0, 0.0, 2.0])))
    assert issubclass(nsp.CholmodNotPositiveDefiniteError, nsp.CholmodError)
