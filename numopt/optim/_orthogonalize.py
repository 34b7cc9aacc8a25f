"""Orthogonalization of gradient matrices: Newton–Schulz quintic and exact polar factor.

The map ``G -> U V^T`` (``G = U S V^T``, the orthogonal polar factor) is the
steepest-descent direction under the spectral norm; Muon and its successors
approximate it with a few Newton–Schulz iterations run in low precision.
"""
import numpy as np

from .._array_api import get_namespace, is_array, is_numpy
from ._xp import astype, xp_dtype

__all__ = ["orthogonalize", "NS_COEFFICIENTS", "as_matrix"]

#: Muon's quintic Newton–Schulz coefficients (a, b, c): X <- aX + (bA + cA^2)X, A = XX^T.
NS_COEFFICIENTS = (3.4445, -4.7750, 2.0315)

_METHODS = ("newton-schulz", "polar")


def as_matrix(G, name="G"):
    """View ``G`` as a matrix or a stack of matrices for orthogonalization.

    2-D arrays are matrices, 3-D arrays are stacks of matrices, and arrays with
    four or more dimensions are convolution kernels flattened to
    ``(shape[0], -1)`` (the convention of Muon's reference code).
    """
    G = np.asarray(G)
    if G.ndim < 2:
        raise ValueError(f"{name} must have at least 2 dimensions to be orthogonalized, "
                         f"got shape {G.shape}")
    if G.ndim >= 4:
        return G.reshape(G.shape[0], -1)
    return G


def orthogonalize(G, method="newton-schulz", steps=5, *, coefficients=NS_COEFFICIENTS,
                  eps=1e-7, dtype=np.float32):
    """Approximately (or exactly) orthogonalize a matrix, as Muon does.

    Parameters
    ----------
    G : array_like, shape (m, n), (batch, m, n) or (out, ...)
        The matrix. A 3-D array is a stack of matrices processed independently;
        arrays with 4 or more dimensions (convolution kernels) are flattened to
        ``(out, -1)`` and the result is reshaped back.
    method : {'newton-schulz', 'polar'}
        ``'newton-schulz'``: ``steps`` iterations of the quintic
        ``X <- aX + (bA + cA^2)X`` with ``A = XX^T`` on ``X = G/(||G||_F + eps)``,
        run on the wide orientation (tall inputs are transposed), with BLAS
        GEMMs in ``dtype``. Its singular values land in roughly [0.5, 1.5]: the
        quintic trades exactness for speed. ``'polar'``: the exact polar factor
        ``U V^T`` from an SVD in float64.
    steps : int
        Number of Newton–Schulz iterations (ignored by ``'polar'``).
    coefficients : tuple of 3 floats
        ``(a, b, c)``; the default is Muon's ``(3.4445, -4.7750, 2.0315)``.
        ``(1.875, -1.25, 0.375)`` is the classical cubic-free quintic that
        converges to the exact polar factor.
    eps : float
        Added to the Frobenius norm before normalization.
    dtype : numpy dtype
        Working precision of the Newton–Schulz iteration (float32 by default;
        float64 for reference comparisons).

    Returns
    -------
    O : ndarray
        Same shape as ``G``, in ``G``'s floating dtype (float64 for integer input).

    Notes
    -----
    A PyTorch, CuPy or other Array API array is orthogonalized on its device
    by the same iteration in Array API code (``matmul``, ``linalg.svd``) and
    returned in its namespace; nothing moves to the host.

    Examples
    --------
    >>> import numpy as np
    >>> from numopt.optim import orthogonalize
    >>> G = np.random.default_rng(0).standard_normal((6, 4))
    >>> Q = orthogonalize(G, method='polar')
    >>> bool(np.allclose(Q.T @ Q, np.eye(4)))
    True
    >>> s = np.linalg.svd(orthogonalize(G), compute_uv=False)
    >>> bool(np.all((s > 0.5) & (s < 1.5)))
    True
    """
    if method not in _METHODS:
        raise ValueError(f"method must be one of {_METHODS}, got {method!r}")
    if is_array(G) and not isinstance(G, np.ndarray):
        xp = get_namespace(G)
        if not is_numpy(xp):
            return _orthogonalize_xp(G, xp, method, steps, coefficients, eps, dtype)
    G = np.asarray(G)
    if not np.issubdtype(G.dtype, np.number) or np.iscomplexobj(G):
        raise TypeError(f"G must be a real numeric array, got dtype {G.dtype}")
    out_dtype = G.dtype if np.issubdtype(G.dtype, np.floating) else np.float64
    shape = G.shape
    M = as_matrix(G)
    if not np.all(np.isfinite(M)):
        raise ValueError("G contains NaN or inf")
    if method == "polar":
        O = _polar(M)
    else:
        steps, coefficients = _check_steps(steps, coefficients)
        O = _newton_schulz(M, steps, coefficients, float(eps), np.dtype(dtype))
    return O.reshape(shape).astype(out_dtype, copy=False)


def _polar(M):
    M = np.asarray(M, dtype=np.float64)
    if M.size == 0:
        return np.zeros_like(M)
    U, _, Vt = np.linalg.svd(M, full_matrices=False)
    return U @ Vt


def _newton_schulz(M, steps, coefficients, eps, dtype):
    a, b, c = coefficients
    X = np.array(M, dtype=dtype, order="C", copy=True)
    if X.size == 0:
        return X
    tall = X.shape[-2] > X.shape[-1]
    if tall:
        X = np.ascontiguousarray(np.swapaxes(X, -1, -2))
    norm = np.sqrt(np.einsum("...ij,...ij->...", X, X, dtype=np.float64))
    X /= (norm + eps).astype(dtype)[..., None, None]
    m = X.shape[-2]
    A = np.empty(X.shape[:-2] + (m, m), dtype=dtype)
    B = np.empty_like(A)
    Y = np.empty_like(X)
    for _ in range(steps):
        np.matmul(X, np.swapaxes(X, -1, -2), out=A)   # A = X X^T (syrk in BLAS)
        np.matmul(A, A, out=B)                        # B = c A^2 + b A
        B *= c
        B += b * A
        np.matmul(B, X, out=Y)                        # X = a X + B X
        X *= a
        X += Y
    if tall:
        X = np.swapaxes(X, -1, -2)
    return X


def _check_steps(steps, coefficients):
    steps = int(steps)
    if steps < 0:
        raise ValueError(f"steps must be >= 0, got {steps}")
    if len(coefficients) != 3:
        raise ValueError(f"coefficients must be (a, b, c), got {coefficients!r}")
    return steps, tuple(float(c) for c in coefficients)


def _orthogonalize_xp(G, xp, method, steps, coefficients, eps, dtype):
    """:func:`orthogonalize` in Array API code, on ``G``'s device."""
    if xp.isdtype(G.dtype, ("complex floating", "bool")) or not xp.isdtype(G.dtype, "numeric"):
        raise TypeError(f"G must be a real numeric array, got dtype {G.dtype}")
    out_dtype = G.dtype if xp.isdtype(G.dtype, "real floating") else xp.float64
    shape = tuple(G.shape)
    if G.ndim < 2:
        raise ValueError(f"G must have at least 2 dimensions to be orthogonalized, got "
                         f"shape {shape}")
    M = xp.reshape(G, (shape[0], -1)) if G.ndim >= 4 else G
    if not bool(xp.all(xp.isfinite(M))):
        raise ValueError("G contains NaN or inf")
    if method == "polar":
        M = astype(M, xp.float64, xp)
        if M.shape[-1] * M.shape[-2] == 0:
            O = xp.zeros_like(M)
        else:
            U, _, Vt = xp.linalg.svd(M, full_matrices=False)
            O = xp.matmul(U, Vt)
    else:
        steps, (a, b, c) = _check_steps(steps, coefficients)
        X = astype(M, xp_dtype(dtype, xp), xp)
        if X.shape[-1] * X.shape[-2] == 0:
            O = X
        else:
            tall = X.shape[-2] > X.shape[-1]
            if tall:
                X = xp.matrix_transpose(X)
            X64 = astype(X, xp.float64, xp)
            norm = xp.sqrt(xp.sum(X64 * X64, axis=(-2, -1), keepdims=True))
            X = X / astype(norm + eps, X.dtype, xp)
            for _ in range(steps):
                A = xp.matmul(X, xp.matrix_transpose(X))
                B = c * xp.matmul(A, A) + b * A
                X = a * X + xp.matmul(B, X)
            O = xp.matrix_transpose(X) if tall else X
    return astype(xp.reshape(O, shape), out_dtype, xp)
