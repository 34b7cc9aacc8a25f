"""The convex ReLU program, standard and ℓ∞-robust, stated in CVXPY (small problems)."""
import numpy as np

from .._result import MAXITER, SUCCESS, make_result

__all__ = ["cvxpy_solve"]


def cvxpy_solve(X, y, D, beta, loss="squared", *, eps=0.0, n_features=None, solver=None,
                verbose=False, **solver_options):
    """Solve the convex (optionally ℓ∞-robust) program with CVXPY.

    Robust version (radius ``eps`` on the first ``n_features`` columns): every
    pattern is kept fixed over the ball, ``(2D_i − I) X v_i >= eps ‖v_i‖₁``, and
    the loss is taken at the worst case over the ball, which is exact for the
    resulting network because it is linear on each ball:
    ``f(x_k + δ) = f_k + δᵀ g_k`` with ``g_k = sum_i d_ik (v_i − w_i)``. For
    labels ±1 (hinge, bce) the worst margin is ``y_k f_k − eps ‖g_k‖₁``; for the
    squared loss the worst residual is ``|f_k − y_k| + eps ‖g_k‖₁``.
    """
    try:
        import cvxpy as cp
    except ImportError:  # pragma: no cover - exercised only without cvxpy
        raise ImportError("solver='cvxpy' needs the optional dependency cvxpy "
                          "(pip install cvxpy)") from None
    n, d = X.shape
    P = D.shape[1]
    k = d if n_features is None else n_features
    V = cp.Variable((d, P))
    W = cp.Variable((d, P))
    E = 2.0 * D - 1.0
    pred = cp.sum(cp.multiply(D, X @ (V - W)), axis=1)
    cons = []
    if eps > 0:
        g = (V - W)[:k, :] @ D.T  # column k: sum_i d_ik (v_i - w_i) over the features
        gl1 = cp.norm1(g, axis=0)
        nv = cp.norm1(V[:k, :], axis=0)
        nw = cp.norm1(W[:k, :], axis=0)
        cons = [cp.multiply(E, X @ V) >= eps * np.ones((n, 1)) @ cp.reshape(nv, (1, P), order="C"),
                cp.multiply(E, X @ W) >= eps * np.ones((n, 1)) @ cp.reshape(nw, (1, P), order="C")]
    else:
        gl1 = 0.0
        cons = [cp.multiply(E, X @ V) >= 0, cp.multiply(E, X @ W) >= 0]
    if loss == "squared":
        if eps > 0:
            L = 0.5 * cp.sum_squares(cp.abs(pred - y) + eps * gl1)
        else:
            L = 0.5 * cp.sum_squares(pred - y)
    elif loss == "bce":
        s = 2.0 * y - 1.0  # labels {0,1} -> ±1: log(1+e^f) − y f = log(1 + e^{−s f})
        L = cp.sum(cp.logistic(-cp.multiply(s, pred) + eps * gl1))
    else:
        L = cp.sum(cp.pos(1.0 - cp.multiply(y, pred) + eps * gl1))
    reg = cp.sum(cp.norm(V, 2, axis=0)) + cp.sum(cp.norm(W, 2, axis=0))
    prob = cp.Problem(cp.Minimize(L + beta * reg), cons)
    if solver is None:
        solver = "CLARABEL" if "CLARABEL" in cp.installed_solvers() else None
    prob.solve(solver=solver, verbose=verbose, **solver_options)
    ok = prob.status == cp.OPTIMAL
    if V.value is None:
        raise RuntimeError(f"CVXPY could not solve the convex program: status {prob.status!r}")
    status = SUCCESS if ok else MAXITER
    detail = None if ok else f"CVXPY status {prob.status!r}."
    Vv, Wv = np.asarray(V.value), np.asarray(W.value)
    return make_result(np.concatenate([Vv.ravel(), Wv.ravel()]), status, detail=detail,
                       V=Vv, W=Wv, fun=float(prob.value), cvxpy_status=prob.status,
                       nit=int(prob.solver_stats.num_iters or 0))
