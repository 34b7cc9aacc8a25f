"""The generic (Array API) path of numopt.sampling: features and finite-set samplers on a device.

The NumPy path (the Numba kernels of ``_kernels.py``) is unchanged. Here the
same quantities are computed with Array API standard calls for any other
namespace ``xp``. Random numbers always come from the caller's
``numpy.random.Generator`` on the host, drawn in the order the Numba kernels
draw them (so a seed gives the same design as with NumPy, up to rounding
ties); only those uniforms are copied to the device, the data stay there.
"""
import math

import numpy as np

from .._array_api import from_host
from . import _kernels as K

__all__ = ["poly_table", "features", "choice", "finite_projection_dpp"]


def poly_table(code, t, kmax, xp):
    """Orthonormal polynomials ``p_0..p_kmax`` of family ``code`` at ``t``: (len(t), kmax + 1).

    The recurrences of ``_kernels.poly_all``, one vectorised column at a time.
    """
    cols = [xp.ones_like(t)]
    if kmax == 0:
        return cols[0][:, None]
    if code == K.LEGENDRE:
        pm, p = xp.ones_like(t), t
        cols.append(math.sqrt(3.0) * t)
        for k in range(1, kmax):
            pn = ((2.0 * k + 1.0) * t * p - k * pm) / (k + 1.0)
            pm, p = p, pn
            cols.append(math.sqrt(2.0 * k + 3.0) * pn)
    elif code == K.HERMITE:
        cols.append(t)
        for k in range(1, kmax):
            cols.append((t * cols[k] - math.sqrt(k) * cols[k - 1]) / math.sqrt(k + 1.0))
    else:
        tm, tk = xp.ones_like(t), t
        cols.append(math.sqrt(2.0) * t)
        for _ in range(1, kmax):
            tn = 2.0 * t * tk - tm
            tm, tk = tk, tn
            cols.append(math.sqrt(2.0) * tn)
    return xp.stack(cols, axis=1)


def features(code, X, indices, xp, device):
    """``Phi[i, j] = prod_c p_{indices[j, c]}(X[i, c])`` for device points ``X`` (n, d).

    ``indices`` (host int array, the basis' multi-indices) is copied to the
    device once per call; one table per coordinate, then a product of
    column gathers (``xp.take``).
    """
    F = None
    for c in range(X.shape[1]):
        col = np.array(indices[:, c], dtype=np.int64)  # a writable copy for the transfer
        tab = poly_table(code, X[:, c], int(col.max()), xp)
        part = xp.take(tab, from_host(col, xp, device), axis=1)
        F = part if F is None else F * part
    return F


def choice(weights, n, rng, xp, device):
    """``n`` indices drawn with probabilities proportional to ``weights`` (device, >= 0).

    The algorithm of ``Generator.choice(N, n, p=p)`` (normalised cumulative
    sum, ``n`` host uniforms, ``searchsorted`` on the right), so the same
    seed picks the same indices as the NumPy path up to rounding ties.
    """
    cdf = xp.cumulative_sum(weights / xp.sum(weights))
    cdf = cdf / cdf[-1]
    u = from_host(rng.random(n), xp, device, dtype=cdf.dtype)
    idx = xp.searchsorted(cdf, u, side="right")
    return xp.astype(idx, xp.int64)


def finite_projection_dpp(Q, rng, xp, device):
    """Projection DPP on the rows of the device matrix ``Q`` (orthonormal columns).

    The chain rule of ``_kernels.finite_projection_dpp`` with one host
    uniform per pick: residuals ``r`` of all ``N`` candidates updated by one
    matrix-vector product per pick (``O(N m)``), Gram-Schmidt with one
    re-orthogonalisation. One host synchronisation at the end.
    """
    N, m = Q.shape
    r = xp.sum(Q * Q, axis=1)
    u = from_host(rng.random(m), xp, device, dtype=Q.dtype)
    rows = xp.arange(N, dtype=xp.int64, device=device)
    E = xp.zeros((0, m), dtype=Q.dtype, device=device)
    picks, ok = [], None
    for i in range(m):
        pos = xp.where(r > 0.0, r, xp.zeros_like(r))
        cum = xp.cumulative_sum(pos)
        tot = cum[-1:]
        good = tot > 0.0
        ok = good if ok is None else ok & good
        pick = xp.searchsorted(cum, u[i:i + 1] * tot, side="right")
        pick = xp.minimum(xp.astype(pick, xp.int64), xp.asarray(N - 1, device=device))
        picks.append(pick)
        v = xp.take(Q, pick, axis=0)[0, :]
        for _ in range(2):
            v = v - xp.matmul(xp.matmul(E, v), E)
        e = v / xp.linalg.vector_norm(v)
        E = xp.concat([E, e[None, :]], axis=0)
        c = xp.matmul(Q, e)
        r = xp.where(rows == pick, xp.zeros_like(r), r - c * c)
    if not bool(xp.all(ok)):
        raise ValueError("finite DPP: no candidate has a positive residual; the "
                         "columns of Q must be orthonormal")
    return xp.concat(picks)
