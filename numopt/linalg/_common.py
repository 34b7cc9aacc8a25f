"""Argument checks and CSR preparation shared by the linalg solvers."""
import numpy as np
import scipy.sparse as sp
from scipy.sparse.linalg import LinearOperator

from .._validation import check_array

__all__ = ["CSRSystem", "prepare_matrix", "check_rhs", "OMEGA_RANGE"]


class CSRSystem:
    """A square matrix as uint32 (uint64 when huge)/float64 CSR arrays plus its diagonal.

    Build it once with :func:`prepare_matrix` and reuse it across solves
    (the tuners do).
    """

    __slots__ = ("indptr", "indices", "data", "diag", "n", "dtype", "nnz", "_split")

    def __init__(self, indptr, indices, data, diag, dtype):
        self._split = None
        self.indptr = indptr
        self.indices = indices
        self.data = data
        self.diag = diag
        self.n = diag.shape[0]
        self.dtype = dtype
        self.nnz = data.shape[0]

    @property
    def split(self):
        """(2, n) array: end of each row's strictly lower part, start of its upper part."""
        if self._split is None:
            from ._kernels import csr_split
            split = np.empty((2, self.n), dtype=self.indptr.dtype)
            csr_split(self.indptr, self.indices, split)
            self._split = split
        return self._split

    def scaled_data(self, wdiag):
        """``data`` with row ``i`` multiplied by ``wdiag[i]`` (for the SSOR sweeps)."""
        from ._kernels import scale_rows
        out = np.empty_like(self.data)
        scale_rows(self.indptr, self.data, np.ascontiguousarray(wdiag, dtype=np.float64), out)
        return out

    def wdiag(self, omega):
        """``omega / diag`` for the kernels."""
        return omega / self.diag

    def matvec(self, x):
        from ._kernels import matvec
        out = np.empty(self.n)
        matvec(self.indptr, self.indices, self.data, np.ascontiguousarray(x, np.float64), out)
        return out


def prepare_matrix(A, name="A", require_diag=True):
    """Validate ``A`` (dense array or SciPy sparse) and return a :class:`CSRSystem`.

    Raises ``TypeError`` for operators without entries and ``ValueError``
    for non-square matrices, NaN/inf entries or a zero diagonal entry.
    """
    if isinstance(A, CSRSystem):
        return A
    if isinstance(A, LinearOperator):
        raise TypeError(f"`{name}` must be a dense array or a SciPy sparse matrix: SOR and "
                        "SSOR need the matrix entries, a LinearOperator only gives products")
    if sp.issparse(A):
        if A.ndim != 2:
            raise ValueError(f"`{name}` must be a 2-D matrix, got shape {A.shape}")
        if A.dtype.kind not in "biuf":
            raise TypeError(f"`{name}` must be real, got dtype {A.dtype}")
        dtype = A.dtype if A.dtype in (np.float32, np.float64) else np.dtype(np.float64)
        M = sp.csr_array(A, dtype=np.float64, copy=True)
    else:
        arr = check_array(A, name, ndim=2, finite=False)
        dtype = arr.dtype
        M = sp.csr_array(arr.astype(np.float64, copy=False))
    if M.shape[0] != M.shape[1]:
        raise ValueError(f"`{name}` must be square, got shape {M.shape}")
    if M.shape[0] == 0:
        raise ValueError(f"`{name}` must have at least one row, got shape {M.shape}")
    M.sum_duplicates()
    M.sort_indices()
    if not np.all(np.isfinite(M.data)):
        raise ValueError(f"`{name}` must contain only finite values (found NaN or inf)")
    diag = np.ascontiguousarray(M.diagonal(), dtype=np.float64)
    if require_diag:
        zero = np.flatnonzero(diag == 0)
        if zero.size:
            raise ValueError(f"`{name}` has a zero on its diagonal (row {int(zero[0])}"
                             f"{' and others' if zero.size > 1 else ''}); SOR and SSOR divide "
                             "by the diagonal entries")
    # unsigned indices: Numba then skips the negative-index wraparound test on every
    # gather x[indices[k]] (about 2x faster CSR loops)
    itype = np.uint32 if max(M.nnz, M.shape[0]) < 2 ** 32 - 1 else np.uint64
    return CSRSystem(np.ascontiguousarray(M.indptr, dtype=itype),
                     np.ascontiguousarray(M.indices, dtype=itype),
                     np.ascontiguousarray(M.data, dtype=np.float64), diag, np.dtype(dtype))


def check_rhs(b, n, name="b"):
    """``b`` as a finite float64 vector of length ``n`` (a copy is never needed: read only)."""
    arr = check_array(b, name, ndim=(1, 2))
    if arr.ndim == 2:
        if arr.shape[1] != 1:
            raise ValueError(f"`{name}` must have shape ({n},) or ({n}, 1), got {arr.shape}")
        arr = arr[:, 0]
    if arr.shape[0] != n:
        raise ValueError(f"`{name}` must have shape ({n},) to match A of shape ({n}, {n}), "
                         f"got {arr.shape}")
    return arr


def check_x0(x0, n):
    """A fresh float64 copy of ``x0`` (zeros when None); the caller's array is untouched."""
    if x0 is None:
        return np.zeros(n)
    arr = check_rhs(x0, n, "x0")
    return np.array(arr, dtype=np.float64, copy=True, order="C")


#: ``check_scalar(omega, "omega", **OMEGA_RANGE)``: the open interval (0, 2)
OMEGA_RANGE = dict(lower=0.0, upper=2.0, lower_inclusive=False, upper_inclusive=False)
