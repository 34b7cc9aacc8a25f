"""Randomized iterative solvers for linear systems: Kaczmarz and sketch-and-project.

Both solve a consistent system ``A x = b`` by repeatedly projecting the
iterate onto the solution set of a random sketch of the equations
(Gower and Richtárik, "Randomized iterative methods for linear systems",
SIAM J. Matrix Anal. Appl. 36(4), 2015):

    x <- x + Aᵀ S (Sᵀ A Aᵀ S)⁺ Sᵀ (b - A x).

With ``S = e_i`` this is randomized Kaczmarz (Strohmer and Vershynin, 2009,
row-norm sampling; uniform sampling as in the AdaSketch code of Hong, Na,
Mahoney and Kolar, 2023). With a Gaussian or count-sketch block ``S`` of ``k``
columns each step costs ``k`` products with ``Aᵀ`` and one with ``A``, so
``A`` may be a :class:`~scipy.sparse.linalg.LinearOperator` and is never
formed.
"""
import numpy as np
import scipy.linalg
import scipy.sparse
import scipy.sparse.linalg as spla

from .._array_api import from_host, is_array, is_numpy
from .._result import MAXITER, SUCCESS, make_result
from .._validation import check_array, check_choice, check_rng, check_scalar
from ._device import resolve_system
from ._kernels_sketching import csr_row_norms2, kaczmarz_csr_sweep, kaczmarz_dense_sweep
from ._sketching_device import DeviceMatrix, device_vector, kaczmarz_device, out_dtype, \
    sketch_device

__all__ = ["randomized_kaczmarz", "sketch_and_project"]


def _check_system(A, b, x0, allow_operator):
    if isinstance(A, spla.LinearOperator):
        if not allow_operator:
            raise TypeError("`A` must be a dense array or a sparse matrix for Kaczmarz "
                            "(rows are needed); use sketch_and_project for a "
                            "LinearOperator")
        kind = "operator"
    elif scipy.sparse.issparse(A):
        A = scipy.sparse.csr_matrix(A, dtype=np.float64)
        A.sum_duplicates()
        if A.data.size and not np.all(np.isfinite(A.data)):
            raise ValueError("`A` must contain only finite values (found NaN or inf)")
        kind = "sparse"
    else:
        A = check_array(A, "A", ndim=2, dtype=np.float64)
        A = np.ascontiguousarray(A)
        kind = "dense"
    m, n = A.shape
    if m == 0 or n == 0:
        raise ValueError(f"`A` must have at least one row and one column, got shape "
                         f"{A.shape}")
    b = check_array(b, "b", ndim=1, shape=(m,), dtype=np.float64)
    if x0 is None:
        x = np.zeros(n)
    else:
        x = check_array(x0, "x0", ndim=1, shape=(n,), dtype=np.float64, copy=True)
    return A, kind, np.ascontiguousarray(b), np.ascontiguousarray(x)


def _stop_level(b, tol, atol):
    return max(tol * float(np.linalg.norm(b)), atol)


def _stop_level_xp(b, tol, atol, xp):
    return max(tol * float(xp.linalg.vector_norm(b)), atol)


def _any_system(A, b, x0, allow_operator):
    """``(A, kind, b, x, xp, out_dtype)``: :func:`_check_system` for NumPy/SciPy input
    (``out_dtype`` None), :func:`_device_system` (``kind = 'device'``) otherwise."""
    xp, dev = resolve_system(A, b, x0)
    if is_numpy(xp):
        return _check_system(A, b, x0, allow_operator) + (xp, None)
    M, b, x, dtype = _device_system(A, b, x0, xp, dev)
    return M, "device", b, x, xp, dtype


def _device_system(A, b, x0, xp, dev):
    """The generic path's :func:`_check_system`: ``(M, b, x, out_dtype)`` on the device."""
    M = DeviceMatrix(A, xp, dev)
    m, n = M.shape
    if m == 0 or n == 0:
        raise ValueError(f"`A` must have at least one row and one column, got shape "
                         f"{M.shape}")
    dtype = out_dtype(M, b, xp)
    b = device_vector(b, xp, dev, "b", m)
    x = xp.zeros(n, dtype=xp.float64, device=dev) if x0 is None else \
        device_vector(x0, xp, dev, "x0", n)
    return M, b, x, dtype


def _sampler(sampling, m, rng):
    """``draw(rn2, total)`` -> ``sample(k)``: ``k`` row indices from ``rng``."""
    def draw(rn2, total):
        if sampling == "row-norm":
            cdf = np.cumsum(rn2) / total
            cdf[-1] = 1.0

            def sample(k):
                idx = np.searchsorted(cdf, rng.random(k), side="right").astype(np.int64)
                return np.minimum(idx, m - 1, out=idx)
        else:
            nonzero = np.flatnonzero(rn2 > 0).astype(np.int64)

            def sample(k):
                return nonzero[rng.integers(0, nonzero.size, size=k)]
        return sample
    return draw


def _finish(x, nit, rnorm, level, history, **fields):
    status = SUCCESS if rnorm <= level else MAXITER
    return make_result(x, status, nit=nit, residual_norm=float(rnorm),
                       history=history if is_array(history) else np.asarray(history), **fields)


def randomized_kaczmarz(A, b, x0=None, *, sampling="row-norm", tol=1e-8, atol=0.0,
                        maxiter=None, check_every=None, rng=None):
    """Solve a consistent linear system ``A x = b`` by randomized Kaczmarz.

    Each step picks one equation ``i`` and projects the iterate onto it:
    ``x <- x + (b_i - a_iᵀx) / ‖a_i‖² · a_i``. From ``x0 = 0`` the iterates
    converge to the minimum-norm solution of a consistent system.

    Parameters
    ----------
    A : array_like or sparse matrix, shape (m, n)
    b : array_like, shape (m,)
    x0 : array_like, shape (n,), optional
        Starting point (zeros by default). Never modified.
    sampling : {'row-norm', 'uniform'}
        ``'row-norm'``: row ``i`` with probability ``‖a_i‖²/‖A‖_F²``
        (Strohmer-Vershynin, linear rate ``1 - σ_min²/‖A‖_F²``);
        ``'uniform'``: every nonzero row equally likely.
    tol, atol : float
        Stop when ``‖b - A x‖₂ <= max(tol ‖b‖₂, atol)``.
    maxiter : int, optional
        Maximum number of row projections (default ``100 * max(m, n)``).
    check_every : int, optional
        Steps between residual checks (default ``m``; each check costs one
        product with ``A``).
    rng : {None, int, numpy.random.Generator}
        Source of the row indices.

    Returns
    -------
    OptimizeResult
        ``x``, ``success``, ``status`` (0 converged, 1 step limit),
        ``message``, ``nit`` (row projections), ``residual_norm`` and
        ``history`` (residual norm at each check).

    Notes
    -----
    Array namespaces: a dense or device-sparse CSR ``A`` of PyTorch, CuPy or
    any Array API library is solved on its device, ``x`` and ``history``
    returned there (float32 for float32 ``A`` and ``b``; the NumPy path
    returns float64). The row indices are drawn on the host from ``rng``
    exactly as for NumPy input, so for the same seed the iterates equal the
    NumPy ones up to rounding; the ``m`` squared row norms that define the
    sampling distribution are copied to the host once (explicitly). The row
    projections are sequential: on a GPU each is a few small kernels, so
    prefer :func:`sketch_and_project`'s blocks there.

    Examples
    --------
    >>> import numpy as np
    >>> from numopt.linalg import randomized_kaczmarz
    >>> A = np.array([[2.0, 1.0], [1.0, 3.0], [1.0, -1.0]])
    >>> b = A @ np.array([1.0, -2.0])
    >>> res = randomized_kaczmarz(A, b, tol=1e-12, rng=0)
    >>> res.success, np.round(res.x, 8)
    (True, array([ 1., -2.]))
    """
    A, kind, b, x, xp, dtype = _any_system(A, b, x0, allow_operator=False)
    m, n = A.shape
    device = kind == "device"
    sampling = check_choice(sampling, "sampling", ("row-norm", "uniform"))
    tol = check_scalar(tol, "tol", lower=0)
    atol = check_scalar(atol, "atol", lower=0)
    maxiter = 100 * max(m, n) if maxiter is None else check_scalar(
        maxiter, "maxiter", lower=0, integer=True)
    check_every = m if check_every is None else check_scalar(
        check_every, "check_every", lower=1, integer=True)
    rng = check_rng(rng)
    if device:
        level = _stop_level_xp(b, tol, atol, xp)
        x, nit, rnorm, history, _ = kaczmarz_device(A, b, x, sampling, level, maxiter,
                                                     check_every, rng, _sampler(sampling, m, rng))
        return _finish(xp.astype(x, dtype), nit, rnorm, level,
                       from_host(np.asarray(history), xp, A.device), sampling=sampling)

    if kind == "dense":
        rn2 = np.einsum("ij,ij->i", A, A)
    else:
        indptr = A.indptr.astype(np.int64)
        indices = A.indices.astype(np.int64)
        rn2 = csr_row_norms2(indptr, A.data)
    total = float(rn2.sum())
    level = _stop_level(b, tol, atol)
    rnorm = float(np.linalg.norm(b - A @ x))
    history = [rnorm]
    if total == 0.0:
        return _finish(x, 0, rnorm, level, history, sampling=sampling)
    sample = _sampler(sampling, m, rng)(rn2, total)
    nit = 0
    while rnorm > level and nit < maxiter:
        k = min(check_every, maxiter - nit)
        idx = sample(k)
        if kind == "dense":
            kaczmarz_dense_sweep(A, b, x, idx, rn2)
        else:
            kaczmarz_csr_sweep(indptr, indices, A.data, b, x, idx, rn2)
        nit += k
        rnorm = float(np.linalg.norm(b - A @ x))
        history.append(rnorm)
        if not np.isfinite(rnorm):
            break
    return _finish(x, nit, rnorm, level, history, sampling=sampling)


def _sketch_cols(kind, A, AT, S_dense, S_sparse):
    """W = Aᵀ S for the current sketch."""
    if S_sparse is not None and kind != "operator":
        return np.asarray((S_sparse.T @ A).T.todense() if kind == "sparse"
                          else (S_sparse.T @ A).T)
    S = S_dense if S_dense is not None else S_sparse.toarray()
    return np.asarray(AT.matmat(S) if kind == "operator" else A.T @ S)


def _count_sketch(m, k, rng):
    """A count-sketch ``S`` (m x k): one ±1 per row, in a random column."""
    cols = rng.integers(0, k, size=m)
    signs = rng.choice(np.array([-1.0, 1.0]), size=m)
    return scipy.sparse.csr_matrix((signs, (np.arange(m), cols)), shape=(m, k))


def sketch_and_project(A, b, x0=None, *, sketch="gaussian", block_size=None, tol=1e-8,
                       atol=0.0, maxiter=None, rng=None):
    """Solve a consistent linear system ``A x = b`` by block sketch-and-project.

    Each step draws a sketch ``S`` with ``k = block_size`` columns and sets
    ``x <- x + W (WᵀW)⁺ Sᵀ(b - A x)`` with ``W = Aᵀ S``: the projection of
    ``x`` onto the solutions of ``SᵀA x = Sᵀb``. The cost per step is ``k``
    products with ``Aᵀ`` and one with ``A``; ``A`` is never formed when it is
    a :class:`~scipy.sparse.linalg.LinearOperator` (its ``rmatmat`` is used).

    Parameters
    ----------
    A : array_like, sparse matrix or LinearOperator, shape (m, n)
    b : array_like, shape (m,)
    x0 : array_like, shape (n,), optional
        Starting point (zeros by default). Never modified.
    sketch : {'gaussian', 'countsketch'}
        ``'gaussian'``: i.i.d. standard normal ``S``; ``'countsketch'``:
        each equation is added, with a random sign, into one of ``k``
        random buckets (for dense and sparse ``A`` the sketch ``SᵀA`` is
        formed by row additions, without products).
    block_size : int, optional
        Number of sketch columns ``k`` (default ``min(m, max(1, ⌈√m⌉))``).
        ``k = m`` with a Gaussian sketch solves the system in one step.
    tol, atol : float
        Stop when ``‖b - A x‖₂ <= max(tol ‖b‖₂, atol)``.
    maxiter : int, optional
        Maximum number of sketch steps (default ``100 * max(m, n)``).
    rng : {None, int, numpy.random.Generator}

    Returns
    -------
    OptimizeResult
        ``x``, ``success``, ``status`` (0 converged, 1 step limit),
        ``message``, ``nit`` (sketch steps), ``residual_norm``, ``history``
        (residual after each step) and ``block_size``.

    Notes
    -----
    Array namespaces: a dense or device-sparse CSR ``A`` of PyTorch, CuPy or
    any Array API library is solved on its device (matrix products, a
    Cholesky factorization of ``WᵀW``, a pseudo-inverse when it fails), with
    ``x`` and ``history`` returned there (float32 for float32 ``A`` and
    ``b``; the NumPy path returns float64). The sketches are drawn on the
    host from ``rng`` exactly as for NumPy input and copied to the device
    (``m k`` random numbers per step), so for the same seed the iterates
    equal the NumPy ones up to rounding. A LinearOperator ``A`` is
    host-only.

    Examples
    --------
    >>> import numpy as np
    >>> from numopt.linalg import sketch_and_project
    >>> rng = np.random.default_rng(0)
    >>> A = rng.standard_normal((30, 20)); b = A @ np.ones(20)
    >>> res = sketch_and_project(A, b, block_size=5, tol=1e-10, rng=1)
    >>> res.success, bool(np.allclose(res.x, 1.0))
    (True, True)
    """
    A, kind, b, x, xp, dtype = _any_system(A, b, x0, allow_operator=True)
    m, n = A.shape
    device = kind == "device"
    sketch = check_choice(sketch, "sketch", ("gaussian", "countsketch"))
    k = min(m, max(1, int(np.ceil(np.sqrt(m))))) if block_size is None else check_scalar(
        block_size, "block_size", lower=1, upper=m, integer=True)
    tol = check_scalar(tol, "tol", lower=0)
    atol = check_scalar(atol, "atol", lower=0)
    maxiter = 100 * max(m, n) if maxiter is None else check_scalar(
        maxiter, "maxiter", lower=0, integer=True)
    rng = check_rng(rng)
    if device:
        level = _stop_level_xp(b, tol, atol, xp)
        x, nit, rnorm, history = sketch_device(A, b, x, sketch, k, level, maxiter, rng)
        return _finish(xp.astype(x, dtype), nit, rnorm, level,
                       from_host(np.asarray(history), xp, A.device), block_size=k, sketch=sketch)
    AT = A.adjoint() if kind == "operator" else None

    level = _stop_level(b, tol, atol)
    r = b - A @ x
    rnorm = float(np.linalg.norm(r))
    history = [rnorm]
    nit = 0
    while rnorm > level and nit < maxiter:
        nit += 1
        if sketch == "gaussian":
            S, Ssp = rng.standard_normal((m, k)), None
        else:
            S, Ssp = None, _count_sketch(m, k, rng)
        W = _sketch_cols(kind, A, AT, S, Ssp)
        rhs = S.T @ r if S is not None else Ssp.T @ r
        G = W.T @ W
        try:
            y = scipy.linalg.cho_solve(scipy.linalg.cho_factor(G, check_finite=False), rhs,
                                       check_finite=False)
        except np.linalg.LinAlgError:
            # rank-deficient sketch (e.g. an empty count-sketch bucket): pseudo-inverse
            y = scipy.linalg.lstsq(G, rhs, check_finite=False, lapack_driver="gelsy")[0]
        x += W @ y
        r = b - A @ x
        rnorm = float(np.linalg.norm(r))
        history.append(rnorm)
        if not np.isfinite(rnorm):
            break
    return _finish(x, nit, rnorm, level, history, block_size=k, sketch=sketch)
