"""Array-namespace helpers of numopt.convex_nn.

Each helper runs the NumPy expression the NumPy path has always used when
``xp is numpy`` (so that path keeps its results bit for bit) and the Array
API expression otherwise (the device path; see :mod:`numopt._array_api`).
"""
import numpy as np
import scipy.linalg as sla
from scipy.special import expit as _expit

from .._array_api import cho_solve as _xp_cho_solve
from .._array_api import device, from_host, is_torch

__all__ = ["rowdot", "colnorm", "hstack", "cho_factor", "cho_solve", "expit", "eye_like",
           "add_diag", "amax0", "ravel", "copy", "relu", "cast", "take_cols",
           "host_normal"]


def rowdot(A, B, xp):
    """Row-wise inner products ``sum_j A_ij B_ij``."""
    if xp is np:
        return np.einsum("ij,ij->i", A, B)
    return xp.sum(A * B, axis=1)


def colnorm(U, xp):
    """Euclidean norms of the columns of ``U``."""
    if xp is np:
        return np.linalg.norm(U, axis=0)
    return xp.linalg.vector_norm(U, axis=0)


def hstack(arrays, xp):
    """Arrays side by side (2-D) or end to end (1-D)."""
    if xp is np:
        return np.hstack(arrays)
    return xp.concat(arrays, axis=1 if arrays[0].ndim > 1 else 0)


def cho_factor(A, xp, overwrite=False):
    """Lower Cholesky factor of SPD ``A`` (SciPy's ``cho_factor`` tuple for NumPy)."""
    if xp is np:
        return sla.cho_factor(A, lower=True, overwrite_a=overwrite)
    return xp.linalg.cholesky(A)


def cho_solve(c, b, xp):
    """Solve with a factor from :func:`cho_factor`."""
    if xp is np:
        return sla.cho_solve(c, b)
    return _xp_cho_solve(c, b, xp)


def expit(x, xp):
    """The logistic function, without overflow."""
    if xp is np:
        return _expit(x)
    if is_torch(xp):
        import torch
        return torch.sigmoid(x)
    e = xp.exp(-xp.abs(x))
    return xp.where(x >= 0, 1.0 / (1.0 + e), e / (1.0 + e))


def eye_like(n, like, xp):
    """``n x n`` identity with the dtype and device of ``like``."""
    if xp is np:
        return np.eye(n)
    return xp.eye(n, dtype=like.dtype, device=device(like))


def add_diag(S, c, xp):
    """``S + c I`` (in place for NumPy)."""
    if xp is np:
        S[np.diag_indices(S.shape[0])] += c
        return S
    return S + c * eye_like(S.shape[0], S, xp)


def amax0(x, xp):
    """``max(0, max(x))`` as a Python float (0 for an empty array)."""
    if xp is np:
        return float(np.max(x, initial=0.0))
    if x.shape[0] == 0 or 0 in x.shape:
        return 0.0
    return max(0.0, float(xp.max(x)))


def ravel(x, xp):
    """Flattened (row-major) array."""
    if xp is np:
        return x.ravel()
    return xp.reshape(x, (-1,))


def copy(x, xp):
    """A copy of ``x``."""
    if xp is np:
        return x.copy()
    return xp.asarray(x, copy=True)


def relu(x, xp):
    """``max(x, 0)`` elementwise."""
    if xp is np:
        return np.maximum(x, 0.0)
    return xp.maximum(x, 0.0)


def cast(x, dtype, xp):
    """``x`` as ``dtype`` (no copy when it already is)."""
    return x if x.dtype == dtype else xp.astype(x, dtype)


def take_cols(A, keep, xp):
    """Columns of ``A`` where the boolean vector ``keep`` is True."""
    if xp is np:
        return A[:, keep]
    return xp.take(A, xp.nonzero(keep)[0], axis=1)


def host_normal(rng, shape, xp, dev, dtype):
    """Standard normal numbers from the NumPy ``rng``, copied to ``dev`` explicitly.

    Randomness comes only from the caller's ``rng`` (a NumPy Generator), so the
    draws are made on the host and moved once; the device path then sees the
    same numbers as the NumPy path.
    """
    return from_host(rng.standard_normal(shape), xp, dev, dtype=dtype)
