"""Numba kernels of :mod:`numopt.coordinate`.

All kernels take float64 / int64 contiguous arrays (the callers cast), so
each compiles to a single signature. Slow references live in
``tests/coordinate/_naive.py``.
"""
import numpy as np

from .._jit import njit

__all__ = ["cd_epoch_dense", "cd_epoch_csc", "tree_solve", "block_prox_cd",
           "soft_threshold", "coordinate_prox"]


@njit
def soft_threshold(v, t):
    """Scalar soft-thresholding ``sign(v) * max(|v| - t, 0)``."""
    if v > t:
        return v - t
    if v < -t:
        return v + t
    return 0.0


@njit
def coordinate_prox(z, g, h, alpha, positive):
    """Minimizer over ``t`` of ``g (t - z) + h/2 (t - z)² + alpha |t|`` (and ``t >= 0``)."""
    new = soft_threshold(z - g / h, alpha / h)
    if positive and new < 0.0:
        new = 0.0
    return new


@njit
def cd_epoch_dense(X, w, r, coords, lipschitz, scale, alpha, l2, positive):
    """One cyclic pass of exact coordinate minimization for least squares + L1.

    Objective ``scale/2 ‖X w - y‖² + l2/2 ‖w‖² + alpha ‖w‖₁`` with the
    residual ``r = X w - y`` kept up to date. ``X`` is Fortran-ordered
    (columns contiguous). ``lipschitz[j] = scale ‖X[:, j]‖² + l2``.
    Returns the largest absolute coordinate change.
    """
    m = X.shape[0]
    max_change = 0.0
    for t in range(coords.shape[0]):
        j = coords[t]
        Lj = lipschitz[j]
        if Lj <= 0.0:
            continue
        g = 0.0
        for i in range(m):
            g += X[i, j] * r[i]
        g = scale * g + l2 * w[j]
        old = w[j]
        new = coordinate_prox(old, g, Lj, alpha, positive)
        d = new - old
        if d != 0.0:
            w[j] = new
            for i in range(m):
                r[i] += d * X[i, j]
            if abs(d) > max_change:
                max_change = abs(d)
    return max_change


# Kept apart from cd_epoch_dense on purpose (same loop skeleton): the two innermost column
# loops read a dense column and a CSC pattern, and merging them would need a column
# abstraction inside the hottest loop of the compiled path. The shared arithmetic is in
# coordinate_prox; both kernels are checked against tests/coordinate/_naive.py.
@njit
def cd_epoch_csc(data, indices, indptr, w, r, coords, lipschitz, scale, alpha, l2,
                 positive):
    """:func:`cd_epoch_dense` for a CSC matrix ``(data, indices, indptr)``."""
    max_change = 0.0
    for t in range(coords.shape[0]):
        j = coords[t]
        Lj = lipschitz[j]
        if Lj <= 0.0:
            continue
        g = 0.0
        for p in range(indptr[j], indptr[j + 1]):
            g += data[p] * r[indices[p]]
        g = scale * g + l2 * w[j]
        old = w[j]
        new = coordinate_prox(old, g, Lj, alpha, positive)
        d = new - old
        if d != 0.0:
            w[j] = new
            for p in range(indptr[j], indptr[j + 1]):
                r[indices[p]] += d * data[p]
            if abs(d) > max_change:
                max_change = abs(d)
    return max_change


@njit
def tree_solve(order, parent, weight, diag, rhs):
    """Solve ``A x = rhs`` for a symmetric matrix whose graph is a forest.

    Gaussian belief propagation with the two-pass (leaves-to-roots, then
    roots-to-leaves) schedule, which is exact on trees and costs O(n).

    Parameters
    ----------
    order : int64 array (n,)
        Nodes in breadth-first order (every parent before its children).
    parent : int64 array (n,)
        Parent of each node, -1 for roots.
    weight : float64 array (n,)
        ``A[i, parent[i]]`` (ignored for roots).
    diag : float64 array (n,)
        ``A[i, i]``.
    rhs : float64 array (n,)

    Returns
    -------
    x : float64 array (n,)
        The solution; NaN entries signal a zero pivot (matrix not positive
        definite on a tree component).
    """
    n = order.shape[0]
    J = diag.copy()   # precision after absorbing the subtree messages
    h = rhs.copy()    # potential after absorbing the subtree messages
    for t in range(n - 1, -1, -1):   # leaves to roots
        i = order[t]
        p = parent[i]
        if p >= 0:
            a = weight[i]
            J[p] -= a * a / J[i]
            h[p] -= a * h[i] / J[i]
    x = np.empty(n)
    for t in range(n):               # roots to leaves
        i = order[t]
        p = parent[i]
        if p >= 0:
            x[i] = (h[i] - weight[i] * x[p]) / J[i]
        else:
            x[i] = h[i] / J[i]
    return x


@njit
def block_prox_cd(H, g, xb, alpha, positive, max_sweeps, tol):
    """Minimize ``g·d + ½ dᵀ H d + alpha ‖xb + d‖₁`` over ``d`` by cyclic CD.

    The proximal-Newton (or fixed-metric) block subproblem. ``H`` is
    symmetric positive semi-definite with a positive diagonal; with
    ``positive`` the constraint ``xb + d >= 0`` is added. Stops when a sweep
    changes no coordinate by more than ``tol`` (relative to ``max|xb + d|``)
    or after ``max_sweeps`` sweeps. Returns ``d``.
    """
    n = g.shape[0]
    d = np.zeros(n)
    Hd = np.zeros(n)
    for _ in range(max_sweeps):
        max_change = 0.0
        max_abs = 0.0
        for i in range(n):
            hii = H[i, i]
            if hii <= 0.0:
                continue
            gi = g[i] + Hd[i]
            zi = xb[i] + d[i]
            new = coordinate_prox(zi, gi, hii, alpha, positive)
            delta = new - zi
            if delta != 0.0:
                d[i] += delta
                for k in range(n):
                    Hd[k] += delta * H[k, i]
                if abs(delta) > max_change:
                    max_change = abs(delta)
            if abs(new) > max_abs:
                max_abs = abs(new)
        if max_change <= tol * max(max_abs, 1.0):
            break
    return d
