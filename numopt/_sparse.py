"""Sparse Cholesky factorizations: CHOLMOD (scikit-sparse) when it imports, else SuperLU.

The one place numopt imports the optional ``sksparse.cholmod``. Callers test
``cholmod_available`` (read it as ``_sparse.cholmod_available`` at call time, so
tests can switch it off with ``monkeypatch.setattr(numopt._sparse,
"cholmod_available", False)``), factor with :func:`cholesky` and catch
:class:`CholmodError` / :class:`CholmodNotPositiveDefiniteError`.
"""
import numpy as np
import scipy.sparse as sp
import scipy.sparse.linalg as spla

try:  # optional dependency
    from sksparse.cholmod import CholmodError, CholmodNotPositiveDefiniteError
    from sksparse.cholmod import cholesky as _cholmod_cholesky
    cholmod_available = True
except ImportError:  # pragma: no cover - depends on the environment
    cholmod_available = False

    class CholmodError(Exception):
        """Stand-in for ``sksparse.cholmod.CholmodError`` (CHOLMOD not installed)."""

    class CholmodNotPositiveDefiniteError(CholmodError):
        """Stand-in for ``sksparse.cholmod.CholmodNotPositiveDefiniteError``."""

__all__ = ["cholmod_available", "cholesky", "SparseFactor", "CholmodError",
           "CholmodNotPositiveDefiniteError"]


class SparseFactor:
    """A factorization of the sparse symmetric matrix ``A + beta I``; call it to solve.

    ``method`` is ``'cholmod'`` (a Cholesky factor: a matrix that is not
    positive definite raises :class:`CholmodNotPositiveDefiniteError`, in
    CHOLMOD's supernodal and simplicial modes alike) or
    ``'superlu'`` (SciPy's LU with the default COLAMD ordering: an exactly
    singular matrix raises :class:`CholmodNotPositiveDefiniteError`, but
    definiteness is not tested, callers that need it check the solution).
    """

    def __init__(self, A, beta=0.0):
        self.method = "cholmod" if cholmod_available else "superlu"
        self._cholmod = None
        self._lu = None
        self.refactor(A, beta)

    def refactor(self, A, beta=0.0):
        """Factor ``A + beta I`` (same sparsity pattern: CHOLMOD reuses its analysis)."""
        A = sp.csc_matrix(A, dtype=float)
        if self.method == "cholmod":
            if self._cholmod is None:
                self._cholmod = _cholmod_cholesky(A, beta=beta)
            else:
                self._cholmod.cholesky_inplace(A, beta=beta)
            # CHOLMOD's simplicial mode (its choice for small or very sparse matrices)
            # computes LDLᵀ and does not stop at a non-positive pivot: test D here
            if not np.all(self._cholmod.D() > 0):
                self._cholmod = None
                raise CholmodNotPositiveDefiniteError("the matrix is not positive definite")
            return self
        if beta:
            A = (A + beta * sp.identity(A.shape[0], format="csc")).tocsc()
        try:
            self._lu = spla.splu(A)
        except RuntimeError:  # "Factor is exactly singular": not positive definite either
            raise CholmodNotPositiveDefiniteError("the matrix is singular") from None
        return self

    def __call__(self, b):
        """Solve ``(A + beta I) x = b``."""
        if self.method == "cholmod":
            return self._cholmod(b)
        return self._lu.solve(np.asarray(b, dtype=float))


def cholesky(A, beta=0.0):
    """Factor the sparse symmetric matrix ``A + beta I``; returns a :class:`SparseFactor`.

    CHOLMOD when ``cholmod_available``, SciPy's SuperLU otherwise.
    """
    return SparseFactor(A, beta)
