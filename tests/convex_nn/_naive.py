"""Slow pure-Python references of numopt.convex_nn kernels."""
import numpy as np


def project_cones_naive(X, E, U, max_sweeps, atol):
    """Hildreth's method column by column, plain Python loops (mirrors _kernels.project_cones)."""
    n, d = X.shape
    U = np.array(U, dtype=float)
    sweeps = np.zeros(U.shape[1], dtype=np.int64)
    for i in range(U.shape[1]):
        u = U[:, i].copy()
        lam = [0.0] * n
        for it in range(max_sweeps):
            worst = 0.0
            for k in range(n):
                xk = X[k]
                sq = float(sum(v * v for v in xk))
                if sq == 0.0:
                    continue
                g = E[k, i] * float(sum(xk[j] * u[j] for j in range(d)))
                worst = max(worst, -g)
                new = max(lam[k] - g / sq, 0.0)
                step = new - lam[k]
                lam[k] = new
                for j in range(d):
                    u[j] += step * E[k, i] * xk[j]
            sweeps[i] = it + 1
            if worst <= atol:
                break
        U[:, i] = u
    return U, sweeps
