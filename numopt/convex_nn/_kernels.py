"""Numba kernels of numopt.convex_nn."""
import numpy as np

from .._jit import njit, prange

__all__ = ["project_cones"]


@njit(parallel=True)
def project_cones(X, E, U, row_sq, max_sweeps, atol):
    """Project each column ``u_i`` onto the cone ``{u : E[:, i] * (X u) >= 0}``.

    Hildreth's method (cyclic coordinate ascent on the dual of the projection
    QP): with multipliers ``lam_k >= 0`` the iterate is ``u0 + sum_k lam_k g_k``,
    ``g_k = E[k, i] x_k``; a sweep updates every ``lam_k`` in turn. Columns
    already feasible are left unchanged. Stops a column after a sweep whose
    largest violation is ``<= atol`` or after ``max_sweeps`` sweeps.

    Parameters
    ----------
    X : float64 (n, d) C-contiguous
    E : float64 (n, P) C-contiguous, entries ±1
    U : float64 (d, P), overwritten column by column with the projections
    row_sq : float64 (n,)
        ``‖x_k‖²``.
    max_sweeps : int64
    atol : float64

    Returns
    -------
    sweeps : int64 (P,)
        Sweeps used per column.
    """
    n, d = X.shape
    P = U.shape[1]
    sweeps = np.zeros(P, dtype=np.int64)
    for i in prange(P):
        u = U[:, i].copy()
        lam = np.zeros(n)
        for it in range(max_sweeps):
            worst = 0.0
            for k in range(n):
                if row_sq[k] == 0.0:
                    continue
                g = 0.0
                for j in range(d):
                    g += X[k, j] * u[j]
                g *= E[k, i]
                if -g > worst:
                    worst = -g
                new = lam[k] - g / row_sq[k]
                if new < 0.0:
                    new = 0.0
                step = new - lam[k]
                if step != 0.0:
                    lam[k] = new
                    s = step * E[k, i]
                    for j in range(d):
                        u[j] += s * X[k, j]
            sweeps[i] = it + 1
            if worst <= atol:
                break
        for j in range(d):
            U[j, i] = u[j]
    return sweeps
