"""The generic (device) path of :mod:`numopt.linalg`: SOR and SSOR-PCG on any array namespace.

NumPy input never comes here (it runs the Numba kernels of ``_kernels.py``).
For PyTorch, CuPy, ``array_api_strict`` ... arrays the matrix is held by a
:class:`DeviceSystem` in one of two forms:

* **dense** ``(n, n)`` arrays: natural-order SOR written with triangular
  solves, ``x <- x + (D/ω + L)⁻¹ (b - A x)`` (forward; ``D/ω + U`` backward):
  the *same* iteration as the NumPy path, one matrix-vector product and one
  triangular solve per sweep (``torch.linalg.solve_triangular``,
  ``cupyx.scipy.linalg.solve_triangular``; a general solve for libraries
  without a triangular solver, such as ``array_api_strict``). The SSOR
  preconditioner is two triangular solves.
* **device-sparse CSR** (``torch.sparse_csr_tensor``,
  ``cupyx.scipy.sparse.csr_matrix``): a *multicolour* ordering. The rows are
  coloured once so that no two rows of one colour are coupled (greedy
  colouring of the symmetrized sparsity pattern in natural order: the
  red-black checkerboard for 5-point stencils). This is a host step on the
  pattern only: ``crow_indices``/``col_indices`` are copied to the host
  explicitly, the values never leave the device. The matrix is permuted into
  colour order once on the device, and a sweep updates each colour class at
  once, ``x_c <- x_c + ω (b_c - A_c x) / d_c``. This is natural-order SOR on
  the permuted matrix ``P A Pᵀ``: a different iteration from natural-order
  SOR on ``A``, with the same fixed point and its own convergence rate (for
  consistently ordered matrices such as the 5-point Laplacian, red-black
  ordering is again consistently ordered and Young's optimal ``ω`` applies
  unchanged). The multicolour SSOR preconditioner is the SSOR
  preconditioner of ``P A Pᵀ``, applied by block substitution over the
  colours.

The iterations keep their scalars on the device and read one flag back to
the host every :data:`CHECK_EVERY` iterations: an iterate is frozen on the
device (``where``) at the iteration that met the stopping test, so ``x``,
``nit`` and the residual history are those of a test at every iteration.
"""
import sys
import warnings

import numpy as np
import scipy.sparse as sp
from scipy.sparse.linalg import LinearOperator

from .._array_api import (asarray, float_dtype, from_host, is_array, is_numpy, is_torch,
                          namespace_and_device, namespace_name, solve_triangular, to_host)
from .._jit import njit
from .._validation import check_array
from ._kernels import K_BREAKDOWN, K_CONVERGED, K_DIVERGED, K_MAXITER

__all__ = ["DeviceSystem", "prepare_device_matrix", "resolve_system", "is_device_sparse",
           "sor_device", "pcg_device", "CHECK_EVERY"]

#: iterations between two host reads of the stopping flag
CHECK_EVERY = 10


# -- namespaces ---------------------------------------------------------------------------
def _is_torch_sparse(A):
    torch = sys.modules.get("torch")
    return torch is not None and isinstance(A, torch.Tensor) and A.layout != torch.strided


def _is_cupy_sparse(A):
    if "cupyx" not in sys.modules:
        return False
    import cupyx.scipy.sparse as csp
    return bool(csp.issparse(A))


def is_device_sparse(A):
    """True for a PyTorch sparse tensor or a ``cupyx.scipy.sparse`` matrix."""
    return _is_torch_sparse(A) or _is_cupy_sparse(A)


def resolve_system(A, *others, names=("A", "b", "x0")):
    """``(xp, device)`` of a system whose matrix may be sparse (SciPy, PyTorch, CuPy).

    A SciPy sparse matrix or LinearOperator lives in host memory: with
    arrays of another library among ``others`` this is a ``TypeError``.
    """
    if (isinstance(A, np.ndarray) or sp.issparse(A) or isinstance(A, LinearOperator)) and \
            all(x is None or isinstance(x, np.ndarray) for x in others):
        return np, "cpu"  # the common NumPy/SciPy call, resolved without array-api-compat
    if _is_cupy_sparse(A):
        lead = A.data
    elif sp.issparse(A) or isinstance(A, LinearOperator):
        lead = None
    else:
        lead = A
    xp, dev = namespace_and_device(lead, *others, names=names)
    if lead is None and not is_numpy(xp):
        kind = "LinearOperator" if isinstance(A, LinearOperator) else "sparse matrix"
        arg = next(n for n, x in zip(names[1:], others) if x is not None
                   and not isinstance(x, (int, float, list, tuple)))
        raise TypeError(f"`{names[0]}` is a SciPy {kind} (host memory) but `{arg}` is a "
                        f"{namespace_name(xp)} array; pass `{names[0]}` as a "
                        f"{namespace_name(xp)} array (dense or sparse CSR) on the same device, "
                        "or convert the other arrays with numpy.asarray(...) explicitly")
    return xp, dev


def same_space(x, y):
    """True when arrays ``x`` and ``y`` share their library and device."""
    try:
        namespace_and_device(x, y)
    except TypeError:
        return False
    return True


# -- colouring (host step on the sparsity pattern) ------------------------------------------
@njit
def greedy_colouring(indptr, indices):
    """Colour the rows of a symmetric pattern greedily in natural order (smallest free colour).

    Returns an int64 colour per row; no two coupled rows share a colour.
    """
    n = indptr.shape[0] - 1
    colour = np.full(n, -1, np.int64)
    mark = np.full(n + 1, -1, np.int64)  # mark[c] == i: colour c is taken by a neighbour of i
    for i in range(n):
        for p in range(indptr[i], indptr[i + 1]):
            j = indices[p]
            if j != i and colour[j] >= 0:
                mark[colour[j]] = i
        c = 0
        while mark[c] == i:
            c += 1
        colour[i] = c
    return colour


def colour_classes(indptr, indices, n):
    """``(perm, counts)``: rows sorted by colour (natural order inside a colour)."""
    P = sp.csr_array((np.ones(indices.shape[0], dtype=np.int8), indices, indptr), shape=(n, n))
    S = (P + P.T).tocsr()
    S.sort_indices()
    colour = greedy_colouring(S.indptr.astype(np.int64), S.indices.astype(np.int64))
    perm = np.argsort(colour, kind="stable")
    counts = np.bincount(colour)
    return perm, counts


# -- the system ---------------------------------------------------------------------------
def _csr(crow, col, vals, shape, xp):
    """A device CSR matrix of ``xp`` (PyTorch or CuPy)."""
    if is_torch(xp):
        import torch
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", message=".*[Ss]parse CSR tensor support")
            # the pattern was built here (valid by construction): no invariant checks
            return torch.sparse_csr_tensor(crow, col, vals, size=shape, check_invariants=False)
    import cupy  # pragma: no cover - needs a GPU (untested mirror of the PyTorch branch)
    import cupyx.scipy.sparse as csp  # pragma: no cover
    idx = cupy.int32 if max(int(col.shape[0]), shape[0]) < 2 ** 31 - 1 else cupy.int64
    return csp.csr_matrix((vals, col.astype(idx), crow.astype(idx)),  # pragma: no cover
                          shape=shape)


class DeviceSystem:
    """A square matrix on a device, prepared once for SOR sweeps and SSOR.

    ``kind`` is ``'dense'`` (natural order) or ``'csr'`` (multicolour order:
    vectors are kept permuted into colour order inside the solvers, see
    :meth:`to_work` / :meth:`from_work`).
    """

    def __init__(self, xp, device, kind, A, diag, in_dtype, perm=None, inv=None, blocks=None):
        self.xp, self.device, self.kind = xp, device, kind
        self.A, self.diag, self.dtype = A, diag, in_dtype
        self.n = int(diag.shape[0])
        self.perm, self.inv, self.blocks = perm, inv, blocks
        self.n_colours = None if blocks is None else len(blocks)
        self._tri = {}

    # vectors in the working order (colour order for CSR)
    def to_work(self, v):
        return v if self.perm is None else self.xp.take(v, self.perm, axis=0)

    def from_work(self, v):
        return v if self.inv is None else self.xp.take(v, self.inv, axis=0)

    def matvec(self, v):
        return self.xp.matmul(self.A, v) if self.kind == "dense" else self.A @ v

    def _triangles(self, omega):
        """``(D/ω + L, D/ω + U)`` of a dense matrix (cached for the last ω)."""
        if omega not in self._tri:
            xp = self.xp
            D = xp.eye(self.n, dtype=self.A.dtype, device=self.device) * self.diag[None, :]
            off = D * (1.0 / omega - 1.0)
            self._tri = {omega: (xp.tril(self.A) + off, xp.triu(self.A) + off)}
        return self._tri[omega]

    def sor_sweep(self, x, r, b, omega, sweep):
        """One SOR sweep from ``x`` (residual ``r = b - A x``); returns the new iterate.

        ``sweep``: 0 forward, 1 backward, 2 symmetric (as in ``_kernels``).
        """
        if self.kind == "dense":
            low, up = self._triangles(omega)
            xp = self.xp
            if sweep == 1:
                return x + solve_triangular(up, r, xp, lower=False)
            x = x + solve_triangular(low, r, xp, lower=True)
            if sweep == 0:
                return x
            return x + solve_triangular(up, b - self.matvec(x), xp, lower=False)
        x = self.xp.asarray(x, copy=True)
        order = range(len(self.blocks))
        colours = (list(order) if sweep == 0 else list(order)[::-1] if sweep == 1
                   else list(order) + list(order)[::-1])
        for c in colours:
            s, e, Ac = self.blocks[c]
            x[s:e] = x[s:e] + (omega * (b[s:e] - Ac @ x)) / self.diag[s:e]
        return x

    def ssor_apply(self, r, omega):
        """``M⁻¹ r`` for the SSOR preconditioner ``M = (D + ωL) D⁻¹ (D + ωU) / (ω(2-ω))``.

        ``r`` is a vector or an ``(n, k)`` block of vectors (working order).
        """
        xp = self.xp
        d = self.diag if r.ndim == 1 else self.diag[:, None]
        if self.kind == "dense":
            low, up = self._triangles(omega)
            y = solve_triangular(low, r, xp, lower=True)
            z = solve_triangular(up, d * y, xp, lower=False)
            return z * ((2.0 - omega) / omega)
        y = xp.zeros_like(r)
        for s, e, Ac in self.blocks:       # (D/ω + L) y = r, colour by colour
            y[s:e] = omega * (r[s:e] - Ac @ y) / d[s:e]
        z = xp.zeros_like(r)
        for s, e, Ac in self.blocks[::-1]:  # (D/ω + U) z = D y
            z[s:e] = omega * (d[s:e] * y[s:e] - Ac @ z) / d[s:e]
        return z * ((2.0 - omega) / omega)

    def host_csr(self):
        """The matrix as a SciPy CSR array in the working order (explicit device-to-host copy)."""
        if self.kind == "dense":
            return sp.csr_array(to_host(self.A))
        A = self.A
        if is_torch(self.xp):
            parts = (A.values(), A.col_indices(), A.crow_indices())
        else:  # pragma: no cover - CuPy needs a GPU
            parts = (A.data, A.indices, A.indptr)
        return sp.csr_array(tuple(to_host(p) for p in parts), shape=(self.n, self.n))


def _check_square(shape, name):
    if len(shape) != 2:
        raise ValueError(f"`{name}` must be a 2-D matrix, got shape {tuple(shape)}")
    if shape[0] != shape[1]:
        raise ValueError(f"`{name}` must be square, got shape {tuple(shape)}")
    if shape[0] == 0:
        raise ValueError(f"`{name}` must have at least one row, got shape {tuple(shape)}")


def _check_diag(diag, xp, name):
    zero = diag == 0
    if bool(xp.any(zero)):
        i = int(xp.argmax(xp.astype(zero, xp.int8)))
        many = int(xp.sum(xp.astype(zero, xp.int64))) > 1
        raise ValueError(f"`{name}` has a zero on its diagonal (row {i}"
                         f"{' and others' if many else ''}); SOR and SSOR divide by the "
                         "diagonal entries")


def _sparse_parts(A, xp, name):
    """``(crow, col, values)`` of a device-sparse matrix (torch COO is converted to CSR)."""
    if is_torch(xp):
        import torch
        if A.layout == torch.sparse_coo:
            A = A.coalesce().to_sparse_csr()
        if A.layout != torch.sparse_csr:
            raise TypeError(f"`{name}` must be a dense tensor or a sparse CSR (or COO) tensor, "
                            f"got layout {A.layout}")
        return A.shape, A.crow_indices(), A.col_indices(), A.values()
    A = A.tocsr()  # pragma: no cover - CuPy needs a GPU
    return A.shape, A.indptr, A.indices, A.data  # pragma: no cover


def prepare_device_matrix(A, xp, device, name="A", require_diag=True):
    """Validate a device matrix (dense or sparse CSR) and build a :class:`DeviceSystem`.

    Work in float64 (as the NumPy path does); the input's float dtype is
    kept in ``dtype`` for the result.
    """
    if isinstance(A, DeviceSystem):
        return A
    work = xp.float64
    if not is_device_sparse(A):
        A = check_array(A, name, ndim=2, xp=xp)
        _check_square(A.shape, name)
        in_dtype = A.dtype
        W = A if A.dtype == work else xp.astype(A, work)
        diag = xp.linalg.diagonal(W)
        if require_diag:
            _check_diag(diag, xp, name)
        return DeviceSystem(xp, device, "dense", W, diag, in_dtype)
    shape, crow, col, vals = _sparse_parts(A, xp, name)
    _check_square(shape, name)
    if xp.isdtype(vals.dtype, "complex floating") or not xp.isdtype(
            vals.dtype, ("real floating", "integral", "bool")):
        raise TypeError(f"`{name}` must be real, got dtype {vals.dtype}")
    in_dtype = vals.dtype if vals.dtype in (xp.float32, xp.float64) else xp.float64
    vals = vals if vals.dtype == work else xp.astype(vals, work)
    if not bool(xp.all(xp.isfinite(vals))):
        raise ValueError(f"`{name}` must contain only finite values (found NaN or inf)")
    n = int(shape[0])
    # host step on the pattern only: row pointers and column indices, never the values
    indptr = to_host(crow).astype(np.int64)
    indices = to_host(col).astype(np.int64)
    lens = np.diff(indptr)
    rows = np.repeat(np.arange(n), lens)
    if indices.size and np.unique(rows * n + indices).size != indices.size:
        raise ValueError(f"`{name}` has duplicate entries in its sparsity pattern; coalesce it "
                         "first (torch: A.to_sparse_coo().coalesce().to_sparse_csr())")
    perm, counts = colour_classes(indptr, indices, n)
    inv = np.empty(n, np.int64)
    inv[perm] = np.arange(n)
    plen = lens[perm]
    pptr = np.concatenate(([0], np.cumsum(plen))).astype(np.int64)
    eperm = np.repeat(indptr[perm] - pptr[:-1], plen) + np.arange(indices.size, dtype=np.int64)
    pcol = inv[indices[eperm]]
    prow = np.repeat(np.arange(n), plen)
    dmask = pcol == prow
    dpos = np.full(n, -1, np.int64)
    dpos[prow[dmask]] = np.flatnonzero(dmask)
    has_diag = dpos >= 0

    def dev(a):
        return from_host(a, xp, device)

    pvals = xp.take(vals, dev(eperm)) if indices.size else vals
    pcol_d = dev(pcol)
    diag = xp.take(pvals, dev(np.maximum(dpos, 0))) if indices.size else \
        xp.zeros(n, dtype=work, device=device)
    if not has_diag.all():
        diag = xp.where(dev(has_diag), diag, xp.zeros_like(diag))
    inv_d = dev(inv)
    if require_diag:
        _check_diag(xp.take(diag, inv_d), xp, name)  # rows numbered as the caller's
    full = _csr(dev(pptr), pcol_d, pvals, (n, n), xp)
    blocks, s = [], 0
    for cnt in counts:
        e = s + int(cnt)
        lo, hi = int(pptr[s]), int(pptr[e])
        blocks.append((s, e, _csr(dev(pptr[s:e + 1] - lo), pcol_d[lo:hi], pvals[lo:hi],
                                  (e - s, n), xp)))
        s = e
    return DeviceSystem(xp, device, "csr", full, diag, in_dtype, perm=dev(perm), inv=inv_d,
                        blocks=blocks)


def _on_device(v, dsys):
    """Lists and scalars created on the system's device (arrays pass through)."""
    return v if is_array(v) else asarray(v, dsys.xp, device=dsys.device)


def device_rhs(v, dsys, name, copy=False):
    """``v`` as a finite vector of length ``n`` in the system's namespace and working dtype."""
    xp = dsys.xp
    arr = check_array(_on_device(v, dsys), name, ndim=(1, 2), xp=xp)
    n = dsys.n
    if arr.ndim == 2:
        if arr.shape[1] != 1:
            raise ValueError(f"`{name}` must have shape ({n},) or ({n}, 1), got "
                             f"{tuple(arr.shape)}")
        arr = arr[:, 0]
    if arr.shape[0] != n:
        raise ValueError(f"`{name}` must have shape ({n},) to match A of shape ({n}, {n}), "
                         f"got {tuple(arr.shape)}")
    work = dsys.diag.dtype
    if arr.dtype != work:
        return xp.astype(arr, work)
    return xp.asarray(arr, copy=True) if copy else arr


# -- the iterations -----------------------------------------------------------------------
def _flag(value, xp, device):
    return xp.asarray(value, device=device)


def sor_device(dsys, b, x, omega, tol, maxiter, sweep, div_factor):
    """SOR iterations on a :class:`DeviceSystem` (vectors in the working order).

    Returns ``(x, nit, code, residuals)`` with the codes and conventions of
    ``_kernels.sor_solve`` (``residuals`` a device array of length
    ``nit + 1``; on divergence it holds the blown-up residual last and
    ``x`` is the iterate before it).
    """
    xp, dev = dsys.xp, dsys.device
    norm = xp.linalg.vector_norm
    atol = tol * float(norm(b))
    r = b - dsys.matvec(x)
    rn = norm(r)
    norms = [rn]
    r0 = float(rn)
    if r0 <= atol:
        return x, 0, K_CONVERGED, xp.stack(norms)
    if not np.isfinite(r0):
        return x, 0, K_DIVERGED, xp.stack(norms)
    limit = div_factor * r0
    running, conv = _flag(True, xp, dev), _flag(False, xp, dev)
    nit = _flag(0, xp, dev)
    it = 0
    while it < maxiter:
        for _ in range(min(CHECK_EVERY, maxiter - it)):
            xn = dsys.sor_sweep(x, r, b, omega, sweep)
            rnew = b - dsys.matvec(xn)
            rnn = norm(rnew)
            norms.append(rnn)
            ok = rnn <= limit  # False for NaN
            done = rnn <= atol
            nit = nit + xp.astype(running, nit.dtype)
            keep = xp.logical_and(running, ok)
            x = xp.where(keep, xn, x)
            r = xp.where(keep, rnew, r)
            conv = xp.logical_or(conv, xp.logical_and(running, done))
            running = xp.logical_and(keep, xp.logical_not(done))
            it += 1
        if not bool(running):
            break
    nit = int(nit)
    code = K_CONVERGED if bool(conv) else (K_MAXITER if bool(running) else K_DIVERGED)
    return x, nit, code, xp.stack(norms[:nit + 1])


def pcg_device(dsys, b, x, omega, tol, maxiter):
    """(SSOR-)preconditioned CG on a :class:`DeviceSystem`; ``omega=None``: plain CG.

    Returns ``(x, nit, code, residuals, bnorm)`` with the codes and
    conventions of ``_kernels.pcg_solve`` (recurrence residual norms).
    """
    xp, dev = dsys.xp, dsys.device
    norm = xp.linalg.vector_norm
    bnorm = float(norm(b))
    atol = tol * bnorm

    def precond(v):
        return v if omega is None else dsys.ssor_apply(v, omega)

    r = b - dsys.matvec(x)
    rn = norm(r)
    norms = [rn]
    r0 = float(rn)
    if r0 <= atol:
        return x, 0, K_CONVERGED, xp.stack(norms), bnorm
    if not np.isfinite(r0):
        return x, 0, K_DIVERGED, xp.stack(norms), bnorm
    z = precond(r)
    rz = xp.vecdot(r, z)
    rz0 = float(rz)
    if not rz0 > 0.0:
        return x, 0, K_BREAKDOWN if np.isfinite(rz0) else K_DIVERGED, xp.stack(norms), bnorm
    p = z
    running = _flag(True, xp, dev)
    conv, brk = _flag(False, xp, dev), _flag(False, xp, dev)
    nit = _flag(0, xp, dev)
    it = 0
    land, lnot = xp.logical_and, xp.logical_not
    while it < maxiter:
        for _ in range(min(CHECK_EVERY, maxiter - it)):
            q = dsys.matvec(p)
            pq = xp.vecdot(p, q)
            ok = pq > 0.0  # False for NaN
            brk = xp.logical_or(brk, land(land(running, lnot(ok)), xp.isfinite(pq)))
            act = land(running, ok)
            alpha = rz / pq
            rnew = r - alpha * q
            rnn = norm(rnew)
            norms.append(rnn)
            acc = land(act, xp.isfinite(rnn))
            nit = nit + xp.astype(acc, nit.dtype)
            x = xp.where(acc, x + alpha * p, x)
            r = xp.where(acc, rnew, r)
            done = rnn <= atol
            conv = xp.logical_or(conv, land(acc, done))
            cont = land(acc, lnot(done))
            z = precond(r)
            rzn = xp.vecdot(r, z)
            ok3 = rzn > 0.0
            brk = xp.logical_or(brk, land(land(cont, lnot(ok3)), xp.isfinite(rzn)))
            running = land(cont, ok3)
            p = xp.where(running, z + (rzn / rz) * p, p)
            rz = xp.where(running, rzn, rz)
            it += 1
        if not bool(running):
            break
    nit = int(nit)
    if bool(conv):
        code = K_CONVERGED
    elif bool(running):
        code = K_MAXITER
    else:
        code = K_BREAKDOWN if bool(brk) else K_DIVERGED
    return x, nit, code, xp.stack(norms[:nit + 1]), bnorm


def out_dtype(dsys, b):
    """float32 when the matrix and the raw ``b`` are float32, float64 otherwise (NumPy's rule)."""
    return float_dtype(_DTypeOnly(dsys.dtype), b, xp=dsys.xp)


class _DTypeOnly:
    __slots__ = ("dtype",)

    def __init__(self, dtype):
        self.dtype = dtype


class DeviceOperator:
    """The SSOR preconditioner ``M⁻¹`` on a device: ``op @ r``, ``op(r)`` or ``op.matvec(r)``.

    ``r`` is an ``(n,)`` vector or an ``(n, k)`` block in the operator's
    namespace and on its device; the result has ``r``'s float dtype
    (float64 for integer ``r``), computed in float64.
    """

    def __init__(self, dsys, omega):
        self._sys, self.omega = dsys, omega
        self.shape = (dsys.n, dsys.n)
        self.dtype = dsys.diag.dtype

    def matvec(self, r):
        dsys = self._sys
        xp = dsys.xp
        namespace_and_device(dsys.diag, r, names=("the operator", "r"))
        r = check_array(_on_device(r, dsys), "r", ndim=(1, 2), xp=xp)
        if r.shape[0] != dsys.n:
            raise ValueError(f"`r` must have {dsys.n} rows to match the operator of shape "
                             f"{self.shape}, got shape {tuple(r.shape)}")
        out = r.dtype
        w = r if r.dtype == self.dtype else xp.astype(r, self.dtype)
        z = dsys.from_work(dsys.ssor_apply(dsys.to_work(w), self.omega))
        return z if out == self.dtype else xp.astype(z, out)

    __call__ = matvec
    matmat = matvec

    def __matmul__(self, r):
        return self.matvec(r)

    def __repr__(self):
        return (f"<{self.shape[0]}x{self.shape[1]} SSOR preconditioner (omega={self.omega:g}, "
                f"{namespace_name(self._sys.xp)} on {self._sys.device})>")
