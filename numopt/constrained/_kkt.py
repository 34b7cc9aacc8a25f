"""Linear algebra of the sketch-alm iteration: the (regularized) KKT system.

Dense arrays, sparse matrices and :class:`~scipy.sparse.linalg.LinearOperator`
(matrix-free ``hessp``) all pass through the same few helpers.

Arrays of another namespace than NumPy (the generic path of sketch-alm: x0
of PyTorch, CuPy, ``array_api_strict``) are always dense: the helpers below
dispatch on the array type (NumPy code unchanged), and :class:`KKTSystemXP`
forms, solves and sketches the KKT matrix on the device.
"""
import types

import numpy as np
import scipy.linalg
import scipy.sparse
import scipy.sparse.linalg as spla

import array_api_compat

from .._array_api import cho_solve, from_host
from ..linalg._sketching import _count_sketch, randomized_kaczmarz, sketch_and_project

__all__ = ["KKTSystem", "KKTSystemXP", "finite_matrix", "add", "matvec", "rmatvec", "amax",
           "asum", "norm", "all_finite", "same"]


def _xp(a):
    """The namespace of a non-NumPy array ``a``; None for NumPy arrays and scalars."""
    if isinstance(a, (np.ndarray, np.generic, float, int)) or scipy.sparse.issparse(a) \
            or isinstance(a, spla.LinearOperator):
        return None
    return array_api_compat.array_namespace(a)


def amax(v):
    """``max |v_i|`` as a float."""
    xp = _xp(v)
    return float(np.max(np.abs(v))) if xp is None else float(xp.max(xp.abs(v)))


def asum(v):
    """``Σ |v_i|`` as a float."""
    xp = _xp(v)
    return float(np.sum(np.abs(v))) if xp is None else float(xp.sum(xp.abs(v)))


def norm(v):
    """``‖v‖₂`` as a float."""
    xp = _xp(v)
    return float(np.linalg.norm(v)) if xp is None else float(xp.linalg.vector_norm(v))


def all_finite(v):
    """No NaN or inf in the dense array ``v``."""
    xp = _xp(v)
    return bool(np.all(np.isfinite(v))) if xp is None else bool(xp.all(xp.isfinite(v)))


def same(a, b):
    """``a`` and ``b`` are equal arrays (shapes equal)."""
    xp = _xp(a)
    return np.array_equal(a, b) if xp is None else bool(xp.all(a == b))


def finite_matrix(A):
    """No NaN or inf in ``A`` (None and LinearOperators count as finite)."""
    if A is None or isinstance(A, spla.LinearOperator):
        return True
    if _xp(A) is not None:
        return all_finite(A)
    if scipy.sparse.issparse(A):
        return bool(np.all(np.isfinite(A.data)))
    return bool(np.all(np.isfinite(A)))


def add(A, B):
    """A + B for dense arrays, sparse matrices and LinearOperators (None = 0)."""
    if A is None:
        return B
    if B is None:
        return A
    if _xp(A) is not None:
        return A + B
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
    xp = _xp(v)
    if xp is not None:
        return xp.matmul(A, v)
    if isinstance(A, spla.LinearOperator):
        return np.asarray(A.matvec(v), dtype=float).reshape(-1)
    return np.asarray(A @ v, dtype=float).reshape(-1)


def rmatvec(J, v):
    """``Jᵀ @ v`` as a flat float array (J dense or sparse)."""
    xp = _xp(v)
    if xp is not None:
        return xp.matmul(xp.matrix_transpose(J), v) if J.shape[0] else xp.zeros(
            J.shape[1], dtype=v.dtype, device=v.device)
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


class KKTSystemXP:
    """:class:`KKTSystem` on the generic path: the dense KKT matrix in namespace ``xp``.

    ``direct`` solves with ``xp.linalg.solve`` (a pseudo-inverse when it
    fails or is not finite); ``sketch`` runs block sketch-and-project on the
    device. The sketch matrices are drawn from the NumPy ``rng`` on the host
    (the same draws as the NumPy path's :func:`numopt.linalg.sketch_and_project`,
    so a seed gives the same run in every namespace up to rounding) and copied
    to the device, one ``(n + m) x k`` matrix per step. Randomized Kaczmarz
    (sequential row updates) is host-only.
    """

    kind = "dense"

    def __init__(self, H, J, t, mu, xp):
        n, m = J.shape[1], J.shape[0]
        self.n, self.m, self.xp = n, m, xp
        dev, dt = J.device, J.dtype
        top = xp.concat([H + t * xp.eye(n, dtype=dt, device=dev), xp.matrix_transpose(J)],
                        axis=1)
        bot = xp.concat([J, -mu * xp.eye(m, dtype=dt, device=dev)], axis=1)
        self.K = xp.concat([top, bot], axis=0)

    def direct(self, rhs):
        """Solve ``K z = rhs`` (least squares by the pseudo-inverse if singular)."""
        xp = self.xp
        try:
            z = xp.linalg.solve(self.K, rhs[:, None])[:, 0]
            if all_finite(z):
                return z
        except (np.linalg.LinAlgError, RuntimeError, ValueError):
            pass  # (PyTorch raises a RuntimeError subclass for a singular matrix)
        return xp.matmul(xp.linalg.pinv(self.K), rhs)

    def residual(self, z, rhs):
        """``‖rhs - K z‖₂``."""
        return norm(rhs - self.xp.matmul(self.K, z))

    def sketch(self, rhs, z, target, solver, block_size, sketch_maxiter, rng):
        """Block sketch-and-project from ``z`` to ``‖rhs - K z‖ <= target`` (at most
        ``sketch_maxiter`` steps): ``z <- z + W (WᵀW)⁺ Sᵀ r`` with ``W = Kᵀ S``."""
        xp, K = self.xp, self.K
        N = self.n + self.m
        k = block_size
        if solver == "kaczmarz":
            raise TypeError("solver='kaczmarz' (sequential row updates) is host-only: for "
                            "arrays on a device use solver='gaussian', 'countsketch' or "
                            "'direct'")
        r = rhs - xp.matmul(K, z)
        rnorm = norm(r)
        nit = 0
        while rnorm > target and nit < sketch_maxiter:
            nit += 1
            S = rng.standard_normal((N, k)) if solver == "gaussian" else \
                _count_sketch(N, k, rng).toarray()
            S = from_host(S, xp, device=K.device, dtype=K.dtype)  # explicit host -> device
            W = xp.matmul(xp.matrix_transpose(K), S)
            G = xp.matmul(xp.matrix_transpose(W), W)
            rhs_s = xp.matmul(xp.matrix_transpose(S), r)
            y = _spd_solve(G, rhs_s, xp)
            z = z + xp.matmul(W, y)
            r = rhs - xp.matmul(K, z)
            rnorm = norm(r)
            if not np.isfinite(rnorm):
                break
        return types.SimpleNamespace(x=z, nit=nit, success=bool(rnorm <= target))


def _spd_solve(G, b, xp):
    """``G⁻¹ b`` for a Gram matrix ``G`` (Cholesky; the pseudo-inverse when it fails, e.g.
    for a rank-deficient sketch with an empty count-sketch bucket)."""
    try:
        L = xp.linalg.cholesky(G)
    except (np.linalg.LinAlgError, RuntimeError, ValueError):
        L = None
    if L is not None and all_finite(L):
        return cho_solve(L, b, xp)
    return xp.matmul(xp.linalg.pinv(G), b)
