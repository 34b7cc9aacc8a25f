"""Numba kernels for the randomized Kaczmarz solver (dense and CSR rows)."""
import numpy as np

from .._jit import njit

__all__ = ["kaczmarz_dense_sweep", "kaczmarz_csr_sweep", "csr_row_norms2"]


@njit
def kaczmarz_dense_sweep(A, b, x, idx, rownorm2):
    """Apply ``x <- x + (b_i - a_iᵀx)/‖a_i‖² a_i`` for each ``i`` in ``idx`` (in place).

    Rows with ``rownorm2[i] == 0`` are skipped.
    """
    n = A.shape[1]
    for k in range(idx.shape[0]):
        i = idx[k]
        nrm = rownorm2[i]
        if nrm == 0.0:
            continue
        s = 0.0
        for j in range(n):
            s += A[i, j] * x[j]
        t = (b[i] - s) / nrm
        for j in range(n):
            x[j] += t * A[i, j]


# the CSR twin of kaczmarz_dense_sweep: the row access differs (dense row vs stored
# entries), and each is compiled for its own layout rather than shared through a row view
@njit
def kaczmarz_csr_sweep(indptr, indices, data, b, x, idx, rownorm2):
    """CSR version of :func:`kaczmarz_dense_sweep`."""
    for k in range(idx.shape[0]):
        i = idx[k]
        nrm = rownorm2[i]
        if nrm == 0.0:
            continue
        s = 0.0
        for p in range(indptr[i], indptr[i + 1]):
            s += data[p] * x[indices[p]]
        t = (b[i] - s) / nrm
        for p in range(indptr[i], indptr[i + 1]):
            x[indices[p]] += t * data[p]


@njit
def csr_row_norms2(indptr, data):
    """Squared Euclidean norms of the rows of a CSR matrix."""
    m = indptr.shape[0] - 1
    out = np.zeros(m)
    for i in range(m):
        s = 0.0
        for p in range(indptr[i], indptr[i + 1]):
            s += data[p] * data[p]
        out[i] = s
    return out
