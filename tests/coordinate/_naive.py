"""Slow pure-Python references of the numopt.coordinate Numba kernels."""
import numpy as np


def soft_threshold(v, t):
    return np.sign(v) * max(abs(v) - t, 0.0)


def cd_epoch(X, w, r, coords, lipschitz, scale, alpha, l2, positive):
    """One cyclic pass on ``scale/2‖Xw - y‖² + l2/2‖w‖² + alpha‖w‖₁`` (dense X, r = Xw - y)."""
    X = np.asarray(X, dtype=float)
    w = w.copy()
    r = r.copy()
    for j in coords:
        if lipschitz[j] <= 0:
            continue
        g = scale * sum(X[i, j] * r[i] for i in range(X.shape[0])) + l2 * w[j]
        new = soft_threshold(w[j] - g / lipschitz[j], alpha / lipschitz[j])
        if positive:
            new = max(new, 0.0)
        d = new - w[j]
        w[j] = new
        for i in range(X.shape[0]):
            r[i] += d * X[i, j]
    return w, r


def tree_solve(A, rhs):
    """Solve A x = rhs by eliminating leaves one at a time (A's graph a forest)."""
    A = np.array(A, dtype=float)
    n = A.shape[0]
    J = A.diagonal().copy()
    h = np.array(rhs, dtype=float)
    alive = set(range(n))
    elim = []  # (leaf, neighbour or None)
    while alive:
        for i in sorted(alive):
            nbrs = [j for j in alive if j != i and A[i, j] != 0]
            if len(nbrs) <= 1:
                break
        p = nbrs[0] if nbrs else None
        if p is not None:
            J[p] -= A[i, p] ** 2 / J[i]
            h[p] -= A[i, p] * h[i] / J[i]
        elim.append((i, p))
        alive.remove(i)
    x = np.zeros(n)
    for i, p in reversed(elim):
        x[i] = (h[i] - (A[i, p] * x[p] if p is not None else 0.0)) / J[i]
    return x


def block_prox_cd(H, g, xb, alpha, positive, sweeps):
    """Cyclic CD on g·d + ½dᵀHd + alpha‖xb + d‖₁, fixed number of sweeps."""
    n = len(g)
    z = np.array(xb, dtype=float)
    for _ in range(sweeps):
        for i in range(n):
            gi = g[i] + H[i] @ (z - xb)
            new = soft_threshold(z[i] - gi / H[i, i], alpha / H[i, i])
            if positive:
                new = max(new, 0.0)
            z[i] = new
    return z - xb
