"""Preconditioned conjugate gradients on a mat-vec, shared by the solvers.

One Python implementation for every solver that needs CG on an operator it
only knows through products: the Newton systems of ``newton`` (gn-newton),
the Schur complement of Sinkhorn-Newton-Sparse (``ot``) and the refinement
of the interior-point Newton steps (``convex_nn``). ``numopt.linalg`` keeps
its own compiled SSOR-PCG kernel: there the preconditioner sweeps and the
CG updates are fused into one Numba loop for speed.
"""
import math
from collections import namedtuple

import numpy as np

__all__ = ["CGResult", "conjugate_gradient", "CONVERGED", "MAXITER", "INDEFINITE",
           "NONFINITE"]

#: ``CGResult.status`` values
CONVERGED = "converged"
MAXITER = "maxiter"
INDEFINITE = "indefinite"    # a curvature pᵀAp or rᵀM⁻¹r was not positive
NONFINITE = "nonfinite"      # an overflow or NaN: ``x`` is the last finite iterate

CGResult = namedtuple("CGResult", ["x", "nit", "converged", "status"])
CGResult.__doc__ = """Result of :func:`conjugate_gradient`.

x : array
    The last finite iterate.
nit : int
    Products with the operator in the iteration loop (the one computing the
    initial residual from ``x0`` not counted); it includes an iteration that
    stopped on a breakdown.
converged : bool
    ``‖r‖ <= rtol ‖b‖`` for the recurrence residual ``r``.
status : str
    ``'converged'``, ``'maxiter'``, ``'indefinite'`` or ``'nonfinite'``.
"""


def _dot(u, v):
    return float(u @ v)


def conjugate_gradient(matvec, b, *, rtol, maxiter, psolve=None, x0=None, xp=np):
    """Solve ``A x = b`` for symmetric positive definite ``A`` given as ``matvec``.

    Parameters
    ----------
    matvec : callable
        ``matvec(v) = A @ v`` for 1-D ``v``.
    b : 1-D array
        Right-hand side (not modified).
    rtol : float
        Stop when the recurrence residual satisfies ``‖r‖ <= rtol ‖b‖``
        (SciPy's ``rtol``).
    maxiter : int
        Maximum number of iterations (products with ``A``).
    psolve : callable, optional
        ``psolve(r) = M⁻¹ r`` for an SPD preconditioner ``M`` (default: none).
    x0 : 1-D array, optional
        Starting point (default zeros; not modified).
    xp : module
        Array namespace of ``b`` (NumPy, or any Array API namespace: CuPy,
        PyTorch, ``array_api_strict``).

    Returns
    -------
    CGResult
        ``(x, nit, converged, status)``. The iteration stops early, keeping
        the last finite iterate, when a curvature ``pᵀAp`` or ``rᵀM⁻¹r`` is
        not positive (``'indefinite'``) or a value overflows (``'nonfinite'``).
    """
    copy = (lambda a: a.copy()) if xp is np else (lambda a: xp.asarray(a, copy=True))
    if x0 is None:
        x = xp.zeros_like(b)
        r = copy(b)
    else:
        x = copy(x0)
        r = b - matvec(x)
    bnorm = math.sqrt(_dot(b, b))
    stop = rtol * bnorm
    rn = bnorm if x0 is None else math.sqrt(_dot(r, r))
    if rn <= stop:
        return CGResult(x, 0, True, CONVERGED)
    z = r if psolve is None else psolve(r)
    rz = _dot(r, z)
    if not rz > 0:
        return CGResult(x, 0, False, INDEFINITE if math.isfinite(rz) else NONFINITE)
    p = copy(z)
    status = MAXITER
    k = 0
    # a nearly singular operator can make the recurrences overflow: stop at the last
    # finite iterate instead
    with np.errstate(over="ignore", invalid="ignore"):
        for k in range(1, maxiter + 1):  # noqa: B007 (k is returned)
            q = matvec(p)
            pq = _dot(p, q)
            if not (pq > 0 and math.isfinite(pq)):
                status = INDEFINITE if math.isfinite(pq) else NONFINITE
                break
            alpha = rz / pq
            x_new = x + alpha * p
            r_new = r - alpha * q
            rn = math.sqrt(_dot(r_new, r_new))
            if not math.isfinite(rn) or not bool(xp.all(xp.isfinite(x_new))):
                status = NONFINITE
                break
            x, r = x_new, r_new
            if rn <= stop:
                status = CONVERGED
                break
            z = r if psolve is None else psolve(r)
            rz_new = _dot(r, z)
            if not rz_new > 0:
                status = INDEFINITE if math.isfinite(rz_new) else NONFINITE
                break
            p = z + (rz_new / rz) * p
            rz = rz_new
    return CGResult(x, k, status == CONVERGED, status)
