"""Successive over-relaxation (SOR, backward SOR, SSOR) on CSR matrices."""
import numpy as np

from .._array_api import float_dtype as out_dtype, is_numpy, namespace_and_device
from .._result import MAXITER, NAN_ENCOUNTERED, SUCCESS, make_result
from .._validation import check_choice, check_finite, check_scalar
from . import _device as G
from . import _kernels as K
from ._common import OMEGA_RANGE, CSRSystem, check_rhs, check_x0, prepare_matrix

__all__ = ["sor", "SORSmoother"]

_SWEEPS = {"forward": K.FORWARD, "backward": K.BACKWARD, "symmetric": K.SYMMETRIC}


def sor(A, b, omega=1.0, x0=None, tol=1e-8, maxiter=10_000, sweep="forward",
        divergence_factor=1e8):
    r"""Solve ``A x = b`` by successive over-relaxation.

    Each iteration updates the unknowns one at a time,
    ``x_i <- x_i + ω (b_i - Σ_j a_ij x_j) / a_ii`` (the newest values of
    ``x`` on the right), i.e. ``x <- x + (D/ω + L)^{-1} (b - A x)`` for the
    splitting ``A = D + L + U``. ``omega = 1`` is Gauss-Seidel. SOR converges
    for every ``ω`` in (0, 2) when ``A`` is symmetric positive definite; the
    best ``ω`` depends on the matrix (see :func:`optimal_jacobi_omega` and
    :class:`RelaxationTuner`).

    Parameters
    ----------
    A : (n, n) array_like or sparse matrix
        Dense array or any SciPy sparse format (converted once to CSR), or
        a PyTorch / CuPy sparse CSR matrix. The diagonal must be nonzero.
    b : (n,) array_like
        Right-hand side.
    omega : float
        Relaxation parameter in the open interval (0, 2).
    x0 : (n,) array_like, optional
        Starting point (default zeros). Not modified.
    tol : float
        Stop when ``‖b - A x‖ <= tol ‖b‖`` (SciPy's ``rtol`` convention).
    maxiter : int
        Maximum number of iterations (sweeps).
    sweep : {'forward', 'backward', 'symmetric'}
        Row order. ``'symmetric'`` (SSOR) does a forward then a backward
        sweep per iteration.
    divergence_factor : float
        Stop with status 3 when the residual exceeds this multiple of the
        initial residual (SOR diverges for ``ω`` outside (0, 2) and may diverge
        for matrices that are neither SPD nor diagonally dominant). The
        returned ``x`` is then the last iterate before the blow-up.

    Returns
    -------
    OptimizeResult
        ``x`` (float32 when ``A`` and ``b`` are float32), ``nit`` (sweeps),
        ``residuals`` (``‖b - A x_k‖`` for ``k = 0..nit``), ``omega``,
        ``success``, ``status`` (0 converged, 1 iteration limit, 3 diverged),
        ``message``.

    Notes
    -----
    Array namespaces: NumPy and SciPy input runs the compiled natural-order
    kernels. Arrays of another library (PyTorch, CuPy, any Array API
    namespace) run the generic path on their device, and ``x`` and
    ``residuals`` come back there. A dense ``A`` runs the same natural-order
    SOR written with triangular solves (the same iterates up to rounding). A
    device-sparse CSR ``A`` runs *multicolour* SOR: the rows of each colour of
    a greedy colouring (red-black for 5-point stencils) are updated at once,
    which is SOR on the colour-permuted matrix ``P A Pᵀ`` -- a different
    iteration from natural-order SOR, with the same solution and its own
    convergence (the result then has ``n_colours``); the colouring is a host
    step on the sparsity pattern only. The stopping test is read on the host
    every 10 sweeps, with the iterate frozen on the device at the sweep that
    met it. All paths compute in float64 and return float32 ``x`` for float32
    ``A`` and ``b``.

    See Also
    --------
    ssor_pcg : conjugate gradients preconditioned by SSOR (SPD matrices).
    RelaxationTuner : learn ``omega`` across a sequence of systems.

    Examples
    --------
    Gauss-Seidel (``omega=1``) against a tuned over-relaxation on the 2-D
    Poisson matrix:

    >>> import numpy as np
    >>> from numopt.linalg import sor
    >>> from numopt.problems import poisson_2d
    >>> A = poisson_2d(10)
    >>> b = np.ones(A.shape[0])
    >>> gs = sor(A, b, omega=1.0)
    >>> fast = sor(A, b, omega=1.56)
    >>> gs.success, gs.nit, fast.nit
    (True, 223, 41)
    >>> bool(np.linalg.norm(A @ fast.x - b) <= 1e-8 * np.linalg.norm(b))
    True
    """
    xp, dev = G.resolve_system(A, b, x0)
    if not is_numpy(xp):
        dsys = G.prepare_device_matrix(A, xp, dev)
        dtype = G.out_dtype(dsys, b)
        b = G.device_rhs(b, dsys, "b")
        omega, tol, maxiter, code, divergence_factor = _options(omega, tol, maxiter, sweep,
                                                                divergence_factor)
        x = dsys.xp.zeros_like(b) if x0 is None else G.device_rhs(x0, dsys, "x0")
        return _sor_device(dsys, b, omega, x, tol, maxiter, code, divergence_factor, dtype)
    sys = prepare_matrix(A)
    b = check_rhs(b, sys.n)
    omega, tol, maxiter, code, divergence_factor = _options(omega, tol, maxiter, sweep,
                                                            divergence_factor)
    dtype = out_dtype(sys, b)
    x = check_x0(x0, sys.n)
    return _sor_prepared(sys, np.ascontiguousarray(b, dtype=np.float64), omega, x, tol,
                         maxiter, code, divergence_factor, dtype)


def _options(omega, tol, maxiter, sweep, divergence_factor):
    """The scalar arguments of :func:`sor`, checked."""
    omega = check_scalar(omega, "omega", **OMEGA_RANGE)
    tol = check_scalar(tol, "tol", lower=0.0)
    maxiter = check_scalar(10_000 if maxiter is None else maxiter, "maxiter", lower=0,
                           integer=True)
    code = _SWEEPS[check_choice(sweep, "sweep", tuple(_SWEEPS))]
    divergence_factor = check_scalar(divergence_factor, "divergence_factor", lower=1.0,
                                     lower_inclusive=False)
    return omega, tol, maxiter, code, divergence_factor


def _sor_prepared(sys, b, omega, x, tol, maxiter, code=K.FORWARD, divergence_factor=1e8,
                  dtype=np.float64):
    """SOR on a prepared :class:`CSRSystem`; ``x`` is overwritten (pass a copy)."""
    bnorm = float(np.linalg.norm(b))
    hist = np.empty(maxiter + 1)
    nit, kcode = K.sor_solve(sys.indptr, sys.indices, sys.data, sys.split, sys.wdiag(omega), b,
                             x, code,
                             tol * bnorm, maxiter, hist, divergence_factor)
    residuals = hist[:nit + 1].copy()
    return _sor_result(x.astype(dtype, copy=False), nit, kcode, residuals, bnorm, omega, tol,
                       divergence_factor)


def _sor_device(dsys, b, omega, x, tol, maxiter, code=K.FORWARD, divergence_factor=1e8,
                dtype=None):
    """SOR on a prepared :class:`~numopt.linalg._device.DeviceSystem` (``b``, ``x``: device
    vectors in the working dtype, original order; ``x`` is not modified)."""
    xp = dsys.xp
    bw = dsys.to_work(b)
    xw, nit, kcode, residuals = G.sor_device(dsys, bw, dsys.to_work(x), omega, tol, maxiter,
                                             code, divergence_factor)
    x = dsys.from_work(xw)
    x = xp.astype(x, dsys.diag.dtype if dtype is None else dtype)
    fields = {} if dsys.n_colours is None else {"n_colours": dsys.n_colours}
    return _sor_result(x, nit, kcode, residuals, float(xp.linalg.vector_norm(b)), omega, tol,
                       divergence_factor, **fields)


def _sor_result(x, nit, kcode, residuals, bnorm, omega, tol, divergence_factor, **fields):
    """The OptimizeResult of an SOR solve from the kernel's ``(nit, code)``."""
    if kcode == K.K_CONVERGED:
        status, detail = SUCCESS, None
    elif kcode == K.K_MAXITER:
        status = MAXITER
        detail = (f"Relative residual {float(residuals[-1]) / max(bnorm, 1e-300):.2e} > tol = "
                  f"{tol:g} after {nit} sweeps.")
    else:
        status = NAN_ENCOUNTERED
        detail = (f"SOR diverged at sweep {nit}: the residual grew by more than "
                  f"{divergence_factor:g} (omega = {omega:g}; SOR converges for every omega in "
                  "(0, 2) only when A is symmetric positive definite). x is the last iterate "
                  "before the blow-up.")
        residuals = residuals[:-1]
        nit = max(nit - 1, 0)
    return make_result(x, status, detail=detail, nit=nit, nfev=nit, residuals=residuals,
                       omega=omega, **fields)


class SORSmoother:
    r"""SOR sweeps in place on ``x``, with ``A`` prepared once (a multigrid smoother).

    ``smoother(x, b, iterations)`` does what ``iterations`` SOR sweeps of
    :func:`sor` do, without residual norms or stopping tests: the counterpart
    of PyAMG's ``relaxation.sor``. ``A`` is converted once to the CSR form the
    kernels use (indices stored as uint32, uint64 beyond 2**32 - 2 entries).

    Parameters
    ----------
    A : (n, n) array_like or sparse matrix
        Nonzero diagonal; dense or any SciPy sparse format (not modified).
    omega : float
        Relaxation parameter in the open interval (0, 2).
    sweep : {'forward', 'backward', 'symmetric'}
        Row order of each sweep (``'symmetric'``: forward then backward).

    Attributes
    ----------
    n, nnz : int
        Order and stored entries of ``A``.
    index_dtype : numpy.dtype
        dtype of the stored column indices (uint32 or uint64).

    Notes
    -----
    ``__call__(x, b, iterations=1)`` updates ``x`` (a writeable, C-contiguous
    float64 vector of length ``n``) in place and returns it; ``b`` and ``x``
    must be finite.

    Array namespaces: for ``A`` of another library (PyTorch, CuPy, any Array
    API namespace) the sweeps run on its device, as in :func:`sor` (dense:
    natural order by triangular solves; device-sparse CSR: multicolour
    order, a different iteration), and ``x`` must be a real floating vector
    of that library on that device; it is updated in place (computed in
    float64). ``index_dtype`` is then the CSR column index dtype, or None
    for a dense ``A``.

    Examples
    --------
    >>> import numpy as np
    >>> from numopt.linalg import SORSmoother, sor
    >>> from numopt.problems import poisson_2d
    >>> A = poisson_2d(10)
    >>> b = np.ones(A.shape[0])
    >>> smooth = SORSmoother(A, omega=1.5)
    >>> x = smooth(np.zeros(A.shape[0]), b, iterations=5)
    >>> bool(np.array_equal(x, sor(A, b, omega=1.5, maxiter=5, tol=0.0).x))
    True
    """

    def __init__(self, A, omega=1.0, sweep="forward"):
        xp, dev = G.resolve_system(A, names=("A",))
        if not is_numpy(xp):
            self._sys = G.prepare_device_matrix(A, xp, dev)
            self.omega = check_scalar(omega, "omega", **OMEGA_RANGE)
            self.sweep = check_choice(sweep, "sweep", tuple(_SWEEPS))
            self._code = _SWEEPS[self.sweep]
            self.n = self._sys.n
            M = self._sys.A
            if self._sys.kind == "dense":
                self.nnz = int(xp.sum(xp.astype(M != 0, xp.int64)))
                self.index_dtype = None
            else:
                self.nnz = int(M._nnz() if hasattr(M, "_nnz") else M.nnz)
                self.index_dtype = M.col_indices().dtype if hasattr(M, "col_indices") \
                    else M.indices.dtype
            return
        self._sys = prepare_matrix(A)
        self.omega = check_scalar(omega, "omega", **OMEGA_RANGE)
        self.sweep = check_choice(sweep, "sweep", tuple(_SWEEPS))
        self._code = _SWEEPS[self.sweep]
        self._wdiag = self._sys.wdiag(self.omega)
        self.n, self.nnz = self._sys.n, self._sys.nnz
        self.index_dtype = self._sys.indices.dtype

    def _call_device(self, x, b, iterations):
        """``__call__`` for a device matrix: ``x`` of its namespace, updated in place."""
        dsys = self._sys
        xp = dsys.xp
        namespace_and_device(dsys.diag, x, b, names=("A", "x", "b"))
        n = self.n
        if not (hasattr(x, "shape") and tuple(x.shape) == (n,)
                and xp.isdtype(x.dtype, "real floating")):
            got = (f"{x.dtype} array of shape {tuple(x.shape)}" if hasattr(x, "shape")
                   else type(x).__name__)
            raise TypeError(f"`x` must be a real floating array of shape ({n},) on A's device "
                            f"(updated in place), got {got}")
        check_finite(x, "x")
        b = dsys.to_work(G.device_rhs(b, dsys, "b"))
        iterations = check_scalar(iterations, "iterations", lower=0, integer=True)
        xw = dsys.to_work(x if x.dtype == dsys.diag.dtype else xp.astype(x, dsys.diag.dtype))
        for _ in range(iterations):
            r = b - dsys.matvec(xw) if dsys.kind == "dense" else None
            xw = dsys.sor_sweep(xw, r, b, self.omega, self._code)
        xn = dsys.from_work(xw)
        x[:] = xn if xn.dtype == x.dtype else xp.astype(xn, x.dtype)
        return x

    def __call__(self, x, b, iterations=1):
        if not isinstance(self._sys, CSRSystem):
            return self._call_device(x, b, iterations)
        n = self.n
        if not (isinstance(x, np.ndarray) and x.dtype == np.float64 and x.shape == (n,)
                and x.flags.c_contiguous and x.flags.writeable):
            got = (f"{x.dtype} array of shape {x.shape}" if isinstance(x, np.ndarray)
                   else type(x).__name__)
            raise TypeError(f"`x` must be a writeable C-contiguous float64 array of shape "
                            f"({n},) (updated in place), got {got}")
        check_finite(x, "x")
        b = np.ascontiguousarray(check_rhs(b, n), dtype=np.float64)
        iterations = check_scalar(iterations, "iterations", lower=0, integer=True)
        sys = self._sys
        for _ in range(iterations):
            K.sor_sweep(sys.indptr, sys.indices, sys.data, sys.split, self._wdiag, b, x,
                        self._code)
        return x
