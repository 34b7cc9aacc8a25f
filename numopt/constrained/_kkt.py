"""Linear algebra of the sketch-alm iteration: the (regularized) KKT system.

Dense arrays, sparse matrices and :class:`~scipy.sparse.linalg.LinearOperator`
(matrix-free ``hessp``) all pass through the same few helpers.
"""
import numpy as np
import scipy.linalg
import scipy.sparse
import scipy.sparse.linalg as spla

from ..linalg._sketching import randomized_kaczmarz, sketch_and_project

__all__ = ["KKTSystem", "finite_matrix", "add", "matvec", "rmatvec"]


def finite_matrix(A):
    """No NaN or inf in ``A`` (None and LinearOperators count as finite)."""
    if A is None or isinstance(A, spla.LinearOperator):
        return True
    if scipy.sparse.issparse(A):
        return bool(np.all(np.isfinite(A.data)))
    return bool(np.all(np.isfinite(A)))


def add(A, B):
    """A + B for dense arrays, sparse matrices and LinearOperators (None = 0)."""
    if A is None:
        return B
    if B is None:
        return A
    if isinstance(A, spla.LinearOperator) or isinstance(B, spla.LinearOperator):
        return spla.aslinearoperator(A) + spla.aslinearoperator(B)
    if scipy.sparse.issparse(A) and scipy.sparse.issparse(B):
        return (A + B).tocsr()
    if scipy.sparse.issparse(A):
        A = A.toarray()
    if scipy.sparse.issparse(B):
        B = B.toarray()
    return np.asarray(A) + np.asarray(B)


def matvec(A, v):
    """``A @ v`` as a flat float array (A dense, sparse or a LinearOperator)."""
    if isinstance(A, spla.LinearOperator):
        return np.asarray(A.matvec(v), dtype=float).reshape(-1)
    return np.asarray(A @ v, dtype=float).reshape(-1)


def rmatvec(J, v):
    """``Jᵀ @ v`` as a flat float array (J dense or sparse)."""
    return np.asarray(J.T @ v, dtype=float).reshape(-1)


class KKTSystem:
    """The (possibly regularized) KKT matrix [[H + tI, Jᵀ], [J, -μI]]."""

    def __init__(self, H, J, t, mu):
        n = J.shape[1]
        m = J.shape[0]
        self.n, self.m = n, m
        if isinstance(H, spla.LinearOperator):
            Jm = J

            def mv(z):
                z = np.ravel(z)
                u, w = z[:n], z[n:]
                top = np.ravel(H.matvec(u)) + t * u + rmatvec(Jm, w)
                bot = np.asarray(Jm @ u, dtype=float).reshape(-1) - mu * w
                return np.concatenate([top, bot])

            self.K = spla.LinearOperator((n + m, n + m), matvec=mv, rmatvec=mv,
                                         dtype=float)
            self.kind = "operator"
        elif scipy.sparse.issparse(H) or scipy.sparse.issparse(J):
            Hs = scipy.sparse.csr_matrix(H) + t * scipy.sparse.identity(n, format="csr")
            Js = scipy.sparse.csr_matrix(J)
            C = -mu * scipy.sparse.identity(m, format="csr") if mu > 0 else None
            self.K = scipy.sparse.bmat([[Hs, Js.T], [Js, C]], format="csr")
            self.kind = "sparse"
        else:
            K = np.zeros((n + m, n + m))
            K[:n, :n] = H
            K[:n, :n] += t * np.eye(n)
            K[:n, n:] = J.T
            K[n:, :n] = J
            K[n:, n:] -= mu * np.eye(m)
            self.K = K
            self.kind = "dense"
        self._lu = None

    def direct(self, rhs):
        """Solve ``K z = rhs`` by dense LAPACK (least squares if singular) or sparse LU."""
        if self.kind == "operator":
            raise ValueError("solver='direct' needs the Hessian as a matrix (`hess`); with "
                             "`hessp` only use solver='gaussian' or 'countsketch'")
        if self.kind == "dense":
            try:
                return scipy.linalg.solve(self.K, rhs, assume_a="sym", check_finite=False)
            except (np.linalg.LinAlgError, scipy.linalg.LinAlgWarning):
                return scipy.linalg.lstsq(self.K, rhs, check_finite=False)[0]
        if self._lu is None:
            self._lu = spla.splu(self.K.tocsc())
        return self._lu.solve(rhs)

    def residual(self, z, rhs):
        """``‖rhs - K z‖₂``."""
        return float(np.linalg.norm(rhs - matvec(self.K, z)))

    def sketch(self, rhs, z, target, solver, block_size, sketch_maxiter, rng):
        """Improve ``z`` by randomized Kaczmarz or block sketch-and-project to
        ``‖rhs - K z‖ <= target``; returns the solver's OptimizeResult."""
        N = self.n + self.m
        if solver == "kaczmarz":
            if self.kind == "operator":
                raise ValueError("solver='kaczmarz' needs the Hessian as a "
                                 "matrix (`hess`); with `hessp` use 'gaussian' "
                                 "or 'countsketch'")
            return randomized_kaczmarz(self.K, rhs, z, tol=0.0, atol=target,
                                       maxiter=500 * sketch_maxiter * N, rng=rng)
        return sketch_and_project(self.K, rhs, z, sketch=solver, block_size=block_size,
                                  tol=0.0, atol=target, maxiter=sketch_maxiter, rng=rng)
