"""Float64 re-derivations of the matrix- and curvature-aware update rules, written
from the method notes (../shared/papers/dl_optimizers.md §8-17) independently of
numopt's code: one parameter, one step at a time, plain formulas."""
import numpy as np

A, B, C = 3.4445, -4.7750, 2.0315


def ns5(G, steps=5, eps=1e-7):
    X = np.array(G, dtype=np.float64)
    if X.ndim >= 4:
        X = X.reshape(X.shape[0], -1)
    tall = X.shape[0] > X.shape[1]
    if tall:
        X = X.T
    X = X / (np.linalg.norm(X) + eps)
    for _ in range(steps):
        S = X @ X.T
        X = A * X + (B * S + C * S @ S) @ X
    return X.T if tall else X


def muon_run(W0, grads, lr, beta=0.95, nesterov=True, wd=0.0, steps=5):
    W = W0.copy()
    M = np.zeros_like(W)
    out = []
    for G in grads:
        M = beta * M + (1 - beta) * G
        U = (1 - beta) * G + beta * M if nesterov else M
        O = ns5(U, steps).reshape(W.shape)
        rows = W.shape[0]
        cols = W.size // rows if W.ndim >= 4 else W.shape[-1]
        O = O * max(1.0, rows / cols) ** 0.5
        W = W * (1 - lr * wd) - lr * O
        out.append(W.copy())
    return out


def namo_run(W0, grads, lr, mu1=0.95, mu2=0.99, eps=1e-8, wd=0.1, columnwise=False,
             c=0.75, steps=5):
    W = W0.copy()
    m, n = W.shape
    M = np.zeros_like(W)
    v = 0.0
    V = np.zeros(n)
    out = []
    for t, G in enumerate(grads, start=1):
        M = mu1 * M + (1 - mu1) * G
        U = (1 - mu1) * G + mu1 * M
        O = ns5(U, steps)
        if not columnwise:
            v = mu2 * v + (1 - mu2) * np.sum(G ** 2)
            alpha = lr * np.sqrt(1 - mu2 ** t) / (1 - mu1 ** t + 1e-12) \
                * np.linalg.norm(U) / (np.sqrt(v) + eps)
            W = W * (1 - wd * min(alpha, 1.0))
            W = W - min(alpha * 0.2 * np.sqrt(max(m, n)), 1.0) * O
        else:
            base = lr * np.sqrt(1 - mu2 ** t) / (1 - mu1 ** t)
            Wn = W.copy()
            d = np.zeros(n)
            for j in range(n):
                V[j] = mu2 * V[j] + (1 - mu2) * np.sum(G[:, j] ** 2)
                d[j] = np.linalg.norm(U[:, j]) / (np.sqrt(V[j]) + eps)
            mean = d.mean()
            for j in range(n):
                dj = min(max(d[j], c * mean), mean / c)
                Wn[:, j] = W[:, j] * max(0.0, 1 - wd * min(dj * base, 1.0))
                Wn[:, j] -= O[:, j] * min(dj * base * 0.2 * np.sqrt(max(m, n)), 1.0)
            W = Wn
        out.append(W.copy())
    return out


def auon_run(W0, grads, lr, beta=0.95, hybrid=False):
    W = W0.copy()
    M = np.zeros_like(W)
    out = []
    for G in grads:
        M = beta * M + (1 - beta) * G
        U = (1 - beta) * G + beta * M
        X = U / (np.linalg.norm(U) + 1e-7)
        if hybrid:
            X = ns5(X, 1, eps=0.0)
        r = np.linalg.norm(np.cosh(X)) / np.sqrt(X.size)
        W = W - lr * X / (r + 1e-8)
        out.append(W.copy())
    return out


def sophia_run(x0, grads, hhat, lr, b1, b2, rho, wd, k, eps):
    x = x0.copy()
    m = np.zeros_like(x)
    h = np.zeros_like(x)
    out = []
    for t, g in enumerate(grads):
        if t % k == 0:
            h = b2 * h + (1 - b2) * hhat[t // k]
        x = x * (1 - lr * wd)
        m = b1 * m + (1 - b1) * g
        step = np.array([np.sign(mi) * min(abs(mi) / max(rho * hi, eps), 1.0)
                         for mi, hi in zip(m, h)])
        x = x - lr * step
        out.append(x.copy())
    return out


def mfac_run(x0, grads, lr, m, damping, momentum=0.0):
    """Dense reference: F = damping I + G^T G / m with the zero-initialised window."""
    x = x0.copy()
    d = x.size
    G = np.zeros((m, d))
    v = np.zeros(d)
    out = []
    for t, g in enumerate(grads):
        G[t % m] = g
        F = damping * np.eye(d) + G.T @ G / m
        u = np.linalg.solve(F, g)
        v = momentum * v + (1 - momentum) * u
        x = x - lr * v
        out.append(x.copy())
    return out
