"""Conjugate gradients preconditioned by SSOR, and the SSOR preconditioner as an operator."""
import numpy as np
from scipy.sparse.linalg import LinearOperator

from .._array_api import float_dtype as out_dtype, is_numpy
from .._result import MAXITER, NAN_ENCOUNTERED, PRECISION_LOSS, SUCCESS, make_result
from .._validation import check_scalar
from . import _device as G
from . import _kernels as K
from ._common import OMEGA_RANGE, check_rhs, check_x0, prepare_matrix

__all__ = ["ssor_pcg", "ssor_preconditioner"]


def ssor_pcg(A, b, omega=1.0, x0=None, tol=1e-8, maxiter=None):
    r"""Solve a symmetric positive definite system by SSOR-preconditioned CG.

    Conjugate gradients with the symmetric SOR preconditioner

    .. math::

       M_\omega = \frac{1}{\omega(2-\omega)} (D + \omega L)\, D^{-1} (D + \omega U),
       \qquad A = L + D + U,

    applied as a forward and a backward triangular sweep (``M`` is never
    formed). ``omega=None`` runs plain (unpreconditioned) CG with the same
    kernel, for comparisons.

    Parameters
    ----------
    A : (n, n) array_like or sparse matrix
        Symmetric positive definite; dense or any SciPy sparse format, or a
        PyTorch / CuPy sparse CSR matrix.
    b : (n,) array_like
        Right-hand side.
    omega : float or None
        Relaxation parameter in (0, 2); ``None`` for no preconditioner.
    x0 : (n,) array_like, optional
        Starting point (default zeros); warm starts pay off in sequences
        of nearby systems. Not modified.
    tol : float
        Stop when ``‖r_k‖ <= tol ‖b‖`` (SciPy's ``rtol`` convention), with
        ``r_k`` the CG recurrence residual.
    maxiter : int, optional
        Maximum number of CG iterations (default ``10 n``).

    Returns
    -------
    OptimizeResult
        ``x``, ``nit``, ``residuals`` (``‖r_k‖`` for ``k = 0..nit``),
        ``omega``, ``success``, ``status`` and ``message``. Status 0:
        converged; 1: iteration limit; 2: breakdown, ``pᵀAp <= 0`` or
        ``rᵀM⁻¹r <= 0`` (``A`` is not positive definite), or the final true
        residual is far above the recurrence residual (``A`` not symmetric);
        3: NaN or overflow. ``x`` is always the last finite iterate.

    Notes
    -----
    Array namespaces: NumPy and SciPy input runs the compiled kernels. Arrays
    of another library (PyTorch, CuPy, any Array API namespace) run CG on
    their device, with ``x`` and ``residuals`` returned there: a dense ``A``
    uses the same (natural-order) SSOR preconditioner, applied by two
    triangular solves; a device-sparse CSR ``A`` uses the *multicolour* SSOR
    preconditioner (the SSOR preconditioner of the colour-permuted matrix
    ``P A Pᵀ``, see :func:`sor`), a different preconditioner with its own
    iteration counts. The stopping test is read on the host every 10
    iterations. Computed in float64; float32 ``A`` and ``b`` give float32 ``x``.

    See Also
    --------
    sor, ssor_preconditioner, scipy.sparse.linalg.cg

    Examples
    --------
    >>> import numpy as np
    >>> from numopt.linalg import ssor_pcg
    >>> from numopt.problems import poisson_2d
    >>> A = poisson_2d(30)
    >>> b = np.ones(A.shape[0])
    >>> cg, pcg = ssor_pcg(A, b, omega=None), ssor_pcg(A, b, omega=1.7)
    >>> cg.nit, pcg.nit
    (55, 21)
    >>> bool(np.linalg.norm(A @ pcg.x - b) <= 1e-8 * np.linalg.norm(b))
    True
    """
    xp, dev = G.resolve_system(A, b, x0)
    device = not is_numpy(xp)
    if device:
        sys = G.prepare_device_matrix(A, xp, dev)
        dtype = G.out_dtype(sys, b)
        b = G.device_rhs(b, sys, "b")
    else:
        sys = prepare_matrix(A)
        b = check_rhs(b, sys.n)
    if omega is not None:
        omega = check_scalar(omega, "omega", **OMEGA_RANGE)
    tol = check_scalar(tol, "tol", lower=0.0)
    maxiter = check_scalar(10 * sys.n if maxiter is None else maxiter, "maxiter", lower=0,
                           integer=True)
    if device:
        x = xp.zeros_like(b) if x0 is None else G.device_rhs(x0, sys, "x0")
        return _pcg_device(sys, b, omega, x, tol, maxiter, dtype)
    dtype = out_dtype(sys, b)
    x = check_x0(x0, sys.n)
    return _pcg_prepared(sys, np.ascontiguousarray(b, dtype=np.float64), omega, x, tol,
                         maxiter, dtype)


def _pcg_prepared(sys, b, omega, x, tol, maxiter, dtype=np.float64):
    """PCG on a prepared :class:`CSRSystem`; ``x`` is overwritten (pass a copy)."""
    bnorm = float(np.linalg.norm(b))
    hist = np.empty(maxiter + 1)
    pre = omega is not None
    if pre and np.any(sys.diag < 0):
        # M would be indefinite: A cannot be SPD either.
        i = int(np.flatnonzero(sys.diag < 0)[0])
        residuals = np.array([float(np.linalg.norm(b - sys.matvec(x)))])
        return _negative_diagonal(x.astype(dtype, copy=False), i, residuals, omega)
    w = 1.0 if omega is None else omega
    wdiag = sys.wdiag(w)
    sdata = sys.scaled_data(wdiag) if pre else sys.data
    nit, kcode = K.pcg_solve(sys.indptr, sys.indices, sys.data, sdata, sys.split, wdiag, b, x,
                             w, pre, tol * bnorm, maxiter, hist)
    residuals = hist[:nit + 1].copy()
    true_res = float(np.linalg.norm(b - sys.matvec(x))) if kcode == K.K_CONVERGED else None
    return _pcg_result(x.astype(dtype, copy=False), nit, kcode, residuals, bnorm, true_res,
                       omega, tol)


def _negative_diagonal(x, i, residuals, omega, **fields):
    return make_result(x, PRECISION_LOSS,
                       detail=f"A has a negative diagonal entry (row {i}), so it is not "
                              "positive definite; SSOR-PCG needs an SPD matrix.",
                       nit=0, residuals=residuals, omega=omega, **fields)


def _pcg_device(dsys, b, omega, x, tol, maxiter, dtype=None):
    """PCG on a prepared :class:`~numopt.linalg._device.DeviceSystem` (``b``, ``x``: device
    vectors in the working dtype, original order; ``x`` is not modified)."""
    xp = dsys.xp
    dtype = dsys.diag.dtype if dtype is None else dtype
    fields = {} if dsys.n_colours is None else {"n_colours": dsys.n_colours}
    if omega is not None and bool(xp.any(dsys.diag < 0)):
        neg = dsys.from_work(xp.astype(dsys.diag < 0, xp.int8))
        residuals = xp.stack([xp.linalg.vector_norm(b - dsys.from_work(
            dsys.matvec(dsys.to_work(x))))])
        return _negative_diagonal(xp.astype(x, dtype), int(xp.argmax(neg)), residuals, omega,
                                  **fields)
    bw = dsys.to_work(b)
    xw, nit, kcode, residuals, bnorm = G.pcg_device(dsys, bw, dsys.to_work(x), omega, tol,
                                                    maxiter)
    true_res = (float(xp.linalg.vector_norm(bw - dsys.matvec(xw)))
                if kcode == K.K_CONVERGED else None)
    return _pcg_result(xp.astype(dsys.from_work(xw), dtype), nit, kcode, residuals, bnorm,
                       true_res, omega, tol, **fields)


def _pcg_result(x, nit, kcode, residuals, bnorm, true_res, omega, tol, **fields):
    """The OptimizeResult of a PCG solve from the kernel's ``(nit, code)``."""
    detail = None
    if kcode == K.K_CONVERGED:
        status = SUCCESS
        if true_res > max(100.0 * tol * bnorm, 1e-13 * bnorm) and nit > 0:
            status = PRECISION_LOSS
            detail = (f"The recurrence residual reached tol but the true residual is "
                      f"{true_res / bnorm:.2e} relative: A is probably not symmetric "
                      "(use sor).")
    elif kcode == K.K_MAXITER:
        status = MAXITER
        detail = (f"Relative residual {float(residuals[-1]) / max(bnorm, 1e-300):.2e} > "
                  f"tol = {tol:g} after {nit} iterations.")
    elif kcode == K.K_BREAKDOWN:
        status = PRECISION_LOSS
        detail = (f"CG broke down at iteration {nit + 1}: a curvature pᵀAp or rᵀM⁻¹r was "
                  "not positive, so A is not symmetric positive definite.")
    else:
        status = NAN_ENCOUNTERED
        detail = f"Non-finite values at iteration {nit + 1}; x is the last finite iterate."
    nmat = nit + 1
    return make_result(x, status, detail=detail, nit=nit, nfev=nmat, residuals=residuals,
                       omega=omega, **fields)


def ssor_preconditioner(A, omega=1.0):
    r"""The SSOR preconditioner ``M⁻¹`` as a SciPy :class:`~scipy.sparse.linalg.LinearOperator`.

    ``M = (D + ωL) D⁻¹ (D + ωU) / (ω(2-ω))``; ``matvec(r)`` applies ``M⁻¹ r``
    by a forward and a backward triangular sweep. Pass it as ``M=`` to
    :func:`scipy.sparse.linalg.cg` (or ``minres``, ``gmres``).

    Parameters
    ----------
    A : (n, n) array_like or sparse matrix
        Nonzero diagonal.
    omega : float
        Relaxation parameter in (0, 2).

    Returns
    -------
    LinearOperator
        Shape ``(n, n)``, float64. For ``A`` of another library (PyTorch,
        CuPy, any Array API namespace) a device operator instead, applied
        with ``M @ r``, ``M(r)`` or ``M.matvec(r)`` to arrays of that library
        on that device (``(n,)`` or ``(n, k)``; the result has ``r``'s float
        dtype): the same SSOR preconditioner for a dense ``A``, the
        multicolour SSOR preconditioner for a device-sparse CSR ``A`` (vectors
        are permuted into colour order and back inside).

    Examples
    --------
    >>> import numpy as np
    >>> from scipy.sparse.linalg import cg
    >>> from numopt.linalg import ssor_preconditioner
    >>> from numopt.problems import poisson_2d
    >>> A = poisson_2d(30)
    >>> b = np.ones(A.shape[0])
    >>> x, info = cg(A, b, rtol=1e-8, M=ssor_preconditioner(A, 1.7))
    >>> info, bool(np.linalg.norm(A @ x - b) <= 1e-8 * np.linalg.norm(b))
    (0, True)
    """
    xp, dev = G.resolve_system(A, names=("A",))
    if not is_numpy(xp):
        dsys = G.prepare_device_matrix(A, xp, dev)
        return G.DeviceOperator(dsys, check_scalar(omega, "omega", **OMEGA_RANGE))
    sys = prepare_matrix(A)
    omega = check_scalar(omega, "omega", **OMEGA_RANGE)
    wdiag = sys.wdiag(omega)
    split = sys.split
    sdata = sys.scaled_data(wdiag)

    def apply(r):
        r = np.ascontiguousarray(np.ravel(r), dtype=np.float64)
        z = np.empty(sys.n)
        K.ssor_apply(sys.indptr, sys.indices, sdata, split, wdiag, r, omega, z)
        return z

    def apply_mat(R):
        return np.column_stack([apply(R[:, j]) for j in range(R.shape[1])])

    return LinearOperator((sys.n, sys.n), matvec=apply, matmat=apply_mat,
                          dtype=np.float64)
