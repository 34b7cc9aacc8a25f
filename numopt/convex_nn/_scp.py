"""Sampled convex program (SCP): the unconstrained gated-ReLU convex program.

    min_U  loss(sum_i D_i X u_i, y) + beta * sum_i ‖u_i‖₂

solved by FISTA with backtracking and function-value restart (O'Donoghue &
Candès 2015). Without the cone constraints the program is a group lasso; its
solution is turned into an exactly equivalent ReLU network by the cone
decomposition ``u_i = (u_i + t h_i) − t h_i`` (see :func:`decompose_gated`).
"""
import numpy as np
from scipy.special import expit

from .._callback import make_callback
from .._result import CALLBACK_STOP, MAXITER, NAN_ENCOUNTERED, SUCCESS, make_result
from ._core import loss_value

__all__ = ["fista_gated", "decompose_gated"]


def _loss_grad(pred, y, loss):
    if loss == "squared":
        return pred - y
    return expit(pred) - y  # bce


def fista_gated(X, y, D, beta, loss="squared", *, tol=1e-6, maxiter=10000, step0=None,
                callback=None):
    """FISTA on the gated-ReLU program; returns an OptimizeResult with ``U`` (d x P)."""
    if loss not in ("squared", "bce"):
        raise ValueError(f"`loss` must be 'squared' or 'bce' for solver='scp', got {loss!r}")
    cb = make_callback(callback)
    n, d = X.shape
    P = D.shape[1]

    def fwd(U):
        return np.einsum("ij,ij->i", D, X @ U)

    def adj(r):
        return X.T @ (D * r[:, None])

    def smooth(U):
        p = fwd(U)
        return loss_value(p, y, loss), p

    def reg(U):
        return beta * float(np.linalg.norm(U, axis=0).sum())

    if step0 is None:
        # 1 / (curvature bound x ‖F‖²), ‖F‖² by a few power iterations
        v = np.random.default_rng(0).standard_normal((d, P))
        for _ in range(20):
            v = adj(fwd(v))
            v /= np.linalg.norm(v)
        lip = float(np.linalg.norm(adj(fwd(v)))) * (1.0 if loss == "squared" else 0.25)
        step0 = 1.0 / max(lip, 1e-300)
    step = step0
    U = np.zeros((d, P))
    Yk = U.copy()
    t = 1.0
    f_y, p_y = smooth(Yk)
    F_old = f_y + reg(U)
    status, k, gm = MAXITER, 0, np.inf
    nfev = 1
    for k in range(1, maxiter + 1):
        g = adj(_loss_grad(p_y, y, loss))
        while True:
            Z = Yk - step * g
            nrm = np.linalg.norm(Z, axis=0)
            Un = Z * np.maximum(1.0 - step * beta / np.maximum(nrm, 1e-300), 0.0)
            f_n, p_n = smooth(Un)
            nfev += 1
            diff = Un - Yk
            if f_n <= f_y + np.sum(g * diff) + np.sum(diff ** 2) / (2.0 * step) + 1e-12 * abs(f_y):
                break
            step *= 0.5
        F_new = f_n + reg(Un)
        if not np.isfinite(F_new):
            status = NAN_ENCOUNTERED
            break
        # gradient mapping norm (optimality measure), relative to the gradient scale
        gm = float(np.linalg.norm(diff)) / step
        if F_new > F_old:  # restart momentum
            t = 1.0
        t_new = 0.5 * (1.0 + np.sqrt(1.0 + 4.0 * t * t))
        Yk = Un + ((t - 1.0) / t_new) * (Un - U)
        U, t, F_old = Un, t_new, F_new
        f_y, p_y = smooth(Yk)
        step *= 1.1  # let the step grow back
        if cb(U.ravel(), fun=F_new, nit=k):
            status = CALLBACK_STOP
            break
        if gm <= tol * max(1.0, float(np.linalg.norm(g))):
            status = SUCCESS
            break
    detail = None
    if status == MAXITER:
        detail = f"gradient-mapping norm {gm:.2e} above tol={tol:g}."
    return make_result(U.ravel(), status, detail=detail, nit=k, nfev=nfev, U=U,
                       fun=F_old, gradient_mapping=gm)


def decompose_gated(X, D, U, gates):
    """Write each gated neuron ``u_i`` as ``v_i − w_i`` with both in the cone of ``D_i``.

    ``w_i = t h_i`` and ``v_i = u_i + t h_i`` with the smallest ``t >= 0`` for
    which ``(2D_i − I) X v_i >= 0``; the gate ``h_i`` is inside the cone, so
    ``D_i X (v_i − w_i) = D_i X u_i`` and both pieces are ReLU neurons.
    Zero or already feasible columns get ``w_i = 0``.
    """
    E = 2.0 * D - 1.0
    G = E * (X @ U)
    Gh = E * (X @ gates)
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = np.where((G < 0) & (Gh > 0), -G / Gh, 0.0)
    t = ratio.max(axis=0) * (1.0 + 1e-9)
    W = gates * t
    V = U + W
    return V, W
