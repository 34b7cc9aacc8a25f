"""Randomized Kaczmarz and sketch-and-project on any array namespace (the generic path).

The random choices (row indices, Gaussian and count sketches) are drawn on
the host from the caller's :class:`numpy.random.Generator`, exactly as the
NumPy path draws them, and sent to the device (random numbers, not the
caller's data): for the same seed the device iterates equal the NumPy ones
up to rounding. The one device-to-host copy of derived data is Kaczmarz's
``m`` squared row norms, which define the sampling distribution (an explicit
:func:`~numopt._array_api.to_host`).
"""
import numpy as np

from .._array_api import from_host, is_array, is_torch, matmul_t, to_host
from .._array_api import asarray as xp_asarray, cho_solve
from .._validation import check_array
from ._device import _csr, _sparse_parts, is_device_sparse

__all__ = ["DeviceMatrix", "kaczmarz_device", "sketch_device"]


class DeviceMatrix:
    """A rectangular device matrix (dense, or PyTorch / CuPy CSR) for the sketching solvers."""

    def __init__(self, A, xp, device, name="A"):
        self.xp, self.device = xp, device
        if is_device_sparse(A):
            shape, crow, col, vals = _sparse_parts(A, xp, name)
            if len(shape) != 2:
                raise ValueError(f"`{name}` must be a 2-D matrix, got shape {tuple(shape)}")
            if not xp.isdtype(vals.dtype, ("real floating", "integral", "bool")):
                raise TypeError(f"`{name}` must be real, got dtype {vals.dtype}")
            self.dtype = vals.dtype
            vals = xp.astype(vals, xp.float64) if vals.dtype != xp.float64 else vals
            if not bool(xp.all(xp.isfinite(vals))):
                raise ValueError(f"`{name}` must contain only finite values (found NaN or inf)")
            self.kind, self.shape = "sparse", (int(shape[0]), int(shape[1]))
            self.crow, self.col, self.vals = crow, col, vals
            self.A = _csr(crow, col, vals, self.shape, xp)
            self._AT = None
        else:
            A = check_array(A, name, ndim=2, xp=xp)
            self.dtype = A.dtype
            self.kind, self.shape = "dense", (int(A.shape[0]), int(A.shape[1]))
            self.A = A if A.dtype == xp.float64 else xp.astype(A, xp.float64)

    def matvec(self, x):
        return self.xp.matmul(self.A, x) if self.kind == "dense" else self.A @ x

    def rmatmat(self, S):
        """``Aᵀ S`` for a dense ``(m, k)`` block ``S``."""
        if self.kind == "dense":
            return matmul_t(self.A, S, self.xp)
        if self._AT is None:
            if is_torch(self.xp):
                self._AT = self.A.transpose(0, 1).to_sparse_csr()
            else:  # pragma: no cover - CuPy needs a GPU
                self._AT = self.A.T.tocsr()
        return self._AT @ S

    def row_norms2(self):
        """Squared Euclidean row norms (on the device)."""
        xp = self.xp
        if self.kind == "dense":
            return xp.sum(self.A * self.A, axis=1)
        sq = _csr(self.crow, self.col, self.vals * self.vals, self.shape, xp)
        return sq @ xp.ones(self.shape[1], dtype=xp.float64, device=self.device)


def device_vector(v, xp, device, name, length):
    """``v`` as a finite float64 vector of ``length`` on ``device`` (a new array)."""
    if not is_array(v):
        v = xp_asarray(v, xp, device=device)
    v = check_array(v, name, ndim=1, shape=(length,), xp=xp)
    return xp.astype(v, xp.float64) if v.dtype != xp.float64 else xp.asarray(v, copy=True)


def out_dtype(M, b, xp):
    """float32 when the matrix and ``b`` are float32 (then ``x`` is returned as float32)."""
    f32 = M.dtype == xp.float32 and getattr(b, "dtype", None) == xp.float32
    return xp.float32 if f32 else xp.float64


class _KaczmarzState:
    """Iterate and row access of the device Kaczmarz loop (rows read one at a time)."""

    def __init__(self, M, b, x):
        self.M, self.b, self.x = M, b, x
        if M.kind == "sparse":
            # host step on the pattern only: the row pointers locate each row's entries
            self.indptr = to_host(M.crow).astype(np.int64)

    def sweep(self, idx, inv_rn2):
        """``x <- x + (b_i - a_iᵀx)/‖a_i‖² a_i`` for each ``i`` of ``idx`` (host indices)."""
        xp, M, b, x = self.M.xp, self.M, self.b, self.x
        for i in idx.tolist():
            w = float(inv_rn2[i])
            if w == 0.0:
                continue
            if M.kind == "dense":
                a = M.A[i, :]
                x = x + ((b[i] - xp.vecdot(a, x)) * w) * a
            else:  # PyTorch / CuPy only (no sparse arrays in the standard)
                s, e = int(self.indptr[i]), int(self.indptr[i + 1])
                cols, vals = M.col[s:e], M.vals[s:e]
                t = (b[i] - xp.vecdot(vals, xp.take(x, cols))) * w
                x[cols] = xp.take(x, cols) + t * vals  # a row's columns are distinct
        self.x = x

    def residual_norm(self):
        return float(self.M.xp.linalg.vector_norm(self.b - self.M.matvec(self.x)))


def kaczmarz_device(M, b, x, sampling, level, maxiter, check_every, rng, draw):
    """Randomized Kaczmarz on a :class:`DeviceMatrix`; returns ``(x, nit, rnorm, history,
    empty)`` with ``empty`` True when ``A`` is zero. ``draw(k)`` returns ``k`` host
    indices from ``rng`` exactly as the NumPy path draws them."""
    rn2 = to_host(M.row_norms2())  # explicit: m numbers define the sampling distribution
    state = _KaczmarzState(M, b, x)
    rnorm = state.residual_norm()
    history = [rnorm]
    total = float(rn2.sum())
    if total == 0.0:
        return state.x, 0, rnorm, history, True
    with np.errstate(divide="ignore"):
        inv_rn2 = np.where(rn2 > 0, 1.0 / rn2, 0.0)
    sampler = draw(rn2, total)
    nit = 0
    while rnorm > level and nit < maxiter:
        k = min(check_every, maxiter - nit)
        state.sweep(sampler(k), inv_rn2)
        nit += k
        rnorm = state.residual_norm()
        history.append(rnorm)
        if not np.isfinite(rnorm):
            break
    return state.x, nit, rnorm, history, False


def _project(W, rhs, xp):
    """``(WᵀW)⁺ rhs``: Cholesky, or the pseudo-inverse for a rank-deficient sketch."""
    G = matmul_t(W, W, xp)
    try:
        L = xp.linalg.cholesky(G)
        ok = bool(xp.all(xp.isfinite(L)))  # CuPy returns NaN instead of raising
    except (ValueError, RuntimeError):  # NumPy-based LinAlgError, torch's LinAlgError
        ok = False
    if ok:
        return cho_solve(L, rhs, xp)
    return xp.matmul(xp.linalg.pinv(G), rhs)


def sketch_device(M, b, x, sketch, k, level, maxiter, rng):
    """Block sketch-and-project on a :class:`DeviceMatrix`: ``(x, nit, rnorm, history)``."""
    xp, dev = M.xp, M.device
    m = M.shape[0]
    norm = xp.linalg.vector_norm
    r = b - M.matvec(x)
    rnorm = float(norm(r))
    history = [rnorm]
    nit = 0
    buckets = xp.arange(k, device=dev)
    while rnorm > level and nit < maxiter:
        nit += 1
        if sketch == "gaussian":  # drawn on the host from the caller's Generator
            S = from_host(rng.standard_normal((m, k)), xp, dev)
        else:  # one ±1 per equation, in a random bucket (drawn as the NumPy path does)
            cols = from_host(rng.integers(0, k, size=m), xp, dev)
            signs = from_host(rng.choice(np.array([-1.0, 1.0]), size=m), xp, dev)
            S = xp.astype(cols[:, None] == buckets[None, :], xp.float64) * signs[:, None]
        W = M.rmatmat(S)
        y = _project(W, matmul_t(S, r, xp), xp)
        x = x + xp.matmul(W, y)
        r = b - M.matvec(x)
        rnorm = float(norm(r))
        history.append(rnorm)
        if not np.isfinite(rnorm):
            break
    return x, nit, rnorm, history
