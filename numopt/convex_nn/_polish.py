"""Solution polishing for ADMM on the convex ReLU program (a certified host step).

ADMM identifies the structure of the solution long before it resolves its
values: which neurons are zero (its group-soft-thresholded ``v`` iterate is
exactly sparse) and which cone rows are active (its projected slack ``s`` is
exactly zero there, with a positive multiplier estimate). On that structure the
program is smooth, as in OSQP's solution polishing: with ``N_c`` an orthonormal
basis of the null space of the active rows ``A_c`` of neuron ``c``,

    min_t  loss(sum_c F_c N_c t_c) + beta * sum_c ‖t_c‖     (all ‖t_c‖ > 0)

has at most ``2dP`` variables and is solved by a few damped Newton steps.
A primal active-set iteration corrects ADMM's guess: a ratio test keeps the
other rows feasible and a row that blocks a step joins the set; when the
Newton point does not certify, per neuron the row of most negative
least-squares multiplier leaves it (a repeated set ends the attempt).

The polished point is accepted only with a certificate: it is primal
feasible (to ``tol`` relative to the size of the slacks), and with the loss
gradient ``z`` and multipliers ``lambda >= 0`` re-fitted by NNLS on the active
rows (on all rows for a zero neuron whose dual constraint is violated),
weak duality gives a lower bound ``p* >= −loss*(z / kappa)`` (the IPM's bound,
``kappa`` scaling ``(z, lambda)`` to dual feasibility). The point is accepted
when its objective is within ``tol`` (relative) of that bound, so it is then
within ``tol`` of the optimum and no worse than any feasible point, ADMM's
included, by more than that. Smooth losses only (squared, bce); the hinge
loss is not smooth on the active set and is not polished.
"""
import numpy as np
import scipy.linalg as sla
from scipy.optimize import nnls

from ._core import loss_value
from ._ipm import _loss_d1_d2, _Problem

__all__ = ["polish"]

POLISH_LOSSES = ("squared", "bce")

#: largest reduced problem (variables K) that is polished: an O(n K² + K³) Newton step
MAX_POLISH_VARIABLES = 4000

#: largest ``n K²`` (flops of one active-set round's Gauss-Newton matrix) that is polished
MAX_POLISH_FLOPS = 2e9


def _null_basis(A, d):
    """Orthonormal basis (d x k) of the null space of the rows ``A`` (rows scaled to 1)."""
    if A.shape[0] == 0:
        return np.eye(d)
    nrm = np.linalg.norm(A, axis=1)
    A = A[nrm > 0] / nrm[nrm > 0, None]
    if A.shape[0] == 0:
        return np.eye(d)
    _, s, Vt = np.linalg.svd(A, full_matrices=True)
    rank = int(np.sum(s > 1e-10 * s[0]))
    return Vt[rank:].T


class _Reduced:
    """The smooth program on active neurons ``cols`` with bases ``N_c``."""

    def __init__(self, prob, cols, bases, blocks):
        self.prob, self.cols, self.bases = prob, cols, bases
        sizes = [N.shape[1] for N in bases]
        self.offs = np.concatenate([[0], np.cumsum(sizes)]).astype(int)
        self.J = np.hstack(blocks) if blocks else np.zeros((prob.X.shape[0], 0))
        self.JTJ = self.J.T @ self.J if prob.loss == "squared" else None

    def parts(self, t):
        return [t[a:b] for a, b in zip(self.offs[:-1], self.offs[1:])]

    def fun(self, t):
        prob = self.prob
        reg = sum(np.linalg.norm(tb) for tb in self.parts(t))
        return loss_value(self.J @ t, prob.y, prob.loss) + prob.beta * reg

    def newton(self, t, slack_dir, maxiter=30):
        """Damped Newton from ``t``, kept inside the inactive rows' half-spaces.

        ``slack_dir(t, dt)`` returns the largest step in ``[0, 1]`` that keeps the
        inactive rows feasible and the row that blocks it (or ``None``). Returns
        ``(t, blocking_row)``; ``t`` is ``None`` when a neuron shrinks to zero.
        """
        prob = self.prob
        f = self.fun(t)
        for _ in range(maxiter):
            g1, h1 = _loss_d1_d2(self.J @ t, prob.y, prob.loss)
            g = self.J.T @ g1
            H = self.JTJ.copy() if h1 is None else self.J.T @ (h1[:, None] * self.J)
            for a, b in zip(self.offs[:-1], self.offs[1:]):
                tb = t[a:b]
                nb = np.linalg.norm(tb)
                if nb <= 1e-300:
                    return None, None
                g[a:b] += prob.beta * tb / nb
                H[a:b, a:b] += prob.beta / nb * (np.eye(b - a) - np.outer(tb, tb) / nb ** 2)
            try:
                dt = -sla.cho_solve(sla.cho_factor(H), g)
            except np.linalg.LinAlgError:
                dt = -np.linalg.lstsq(H, g, rcond=None)[0]
            dec = float(-g @ dt)
            if not dec > 1e-28 * max(1.0, abs(f)):
                break
            a_max, row = slack_dir(t, dt)
            if row is not None and a_max <= 1e-14:
                return t, row           # a row at zero slack blocks the direction
            a = min(1.0, a_max)
            while a > 1e-14:
                f_new = self.fun(t + a * dt)
                if f_new <= f - 1e-4 * a * dec:
                    break
                a *= 0.5
            else:
                break
            t, f = t + a * dt, f_new
            if row is not None and a == a_max:
                return t, row
            if dec <= 1e-24 * max(1.0, abs(f)):
                break
        return t, None

    def weights(self, t, shape):
        U = np.zeros(shape)
        for c, N, tb in zip(self.cols, self.bases, self.parts(t)):
            U[:, c] = N @ tb
        return U


def _multipliers(prob, U, active, lam_est):
    """Loss gradient ``z`` and multipliers ``lambda >= 0`` (rows x 2P) re-fitted by NNLS.

    Active neuron ``c``: ``G_cᵀ lambda_c = F_cᵀ z + beta u_c/‖u_c‖`` on its active
    rows. Zero neuron with ``‖F_cᵀ z‖ > beta``: the ``lambda_c`` of least
    ``‖F_cᵀ z − G_cᵀ lambda_c‖`` on the rows ADMM estimates active (all rows when that
    does not reach ``beta``).
    """
    beta, Xm, E2m = prob.beta, prob.Xm, prob.E2m
    z = _loss_d1_d2(prob.predict(U), prob.y, prob.loss)[0]
    FTz = prob.FT(z)
    Lam = np.zeros(E2m.shape)
    nrm = np.linalg.norm(U, axis=0)
    for c in range(U.shape[1]):
        if nrm[c] > 0:
            rows = np.flatnonzero(active[:, c])
            target = FTz[:, c] + beta * U[:, c] / nrm[c]
        elif np.linalg.norm(FTz[:, c]) > beta:
            rows = np.flatnonzero(lam_est[:, c] > 0)
            target = FTz[:, c]
        else:
            continue
        for rows_try in (rows, np.arange(Xm.shape[0])):
            if rows_try.size == 0:
                continue
            G = E2m[rows_try, c][:, None] * Xm[rows_try]
            lam, res = nnls(G.T, target, maxiter=50 * max(rows_try.size, 10))
            Lam[:, c] = 0.0
            Lam[rows_try, c] = lam
            if nrm[c] > 0 or res <= beta:
                break
    return z, Lam


def _kkt_errors(prob, U, z, Lam):
    """Stationarity error of every neuron (column), relative to ``beta``.

    ``‖F_cᵀ z − G_cᵀ lambda_c + beta u_c/‖u_c‖‖`` for a nonzero neuron and
    ``max(0, ‖F_cᵀ z − G_cᵀ lambda_c‖ − beta)`` for a zero one.
    """
    C = prob.FT(z) - prob.Xm.T @ (prob.E2m * Lam)
    nrm = np.linalg.norm(U, axis=0)
    act = nrm > 0
    out = np.maximum(np.linalg.norm(C, axis=0) - prob.beta, 0.0)
    out[act] = np.linalg.norm(C[:, act] + prob.beta * U[:, act] / nrm[act], axis=0)
    return out / prob.beta


def _rows_to_release(prob, U, z, active):
    """``(rows, cols)`` of the most negative least-squares multiplier of each nonzero
    neuron (``G_cᵀ lambda_c = F_cᵀ z + beta u_c/‖u_c‖`` on its active rows); ``None``
    when no multiplier is negative."""
    FTz = prob.FT(z)
    nrm = np.linalg.norm(U, axis=0)
    rows, cols = [], []
    for c in np.flatnonzero(nrm > 0):
        act = np.flatnonzero(active[:, c])
        if act.size == 0:
            continue
        G = prob.E2m[act, c][:, None] * prob.Xm[act]
        lam = np.linalg.lstsq(G.T, FTz[:, c] + prob.beta * U[:, c] / nrm[c], rcond=None)[0]
        k = int(np.argmin(lam))
        if lam[k] < 0:
            rows.append(act[k])
            cols.append(c)
    return (np.array(rows), np.array(cols)) if rows else None


def _project(prob, U, active, cache):
    """Each nonzero column onto the null space of its active rows; ``(U, bases)``.

    ``cache`` maps a column to ``(its active rows, N_c, its Jacobian block)`` and is
    refreshed for the columns whose active rows changed.
    """
    U = U.copy()
    bases = {}
    for c in np.flatnonzero(np.linalg.norm(U, axis=0) > 0):
        rows = active[:, c]
        key = rows.tobytes()
        if c not in cache or cache[c][0] != key:
            N = _null_basis(prob.E2m[rows, c][:, None] * prob.Xm[rows], U.shape[0])
            sign = 1.0 if c < prob.P else -1.0
            cache[c] = (key, N, sign * (prob.D[:, [c % prob.P]] * (prob.X @ N)))
        N = cache[c][1]
        bases[c] = N
        U[:, c] = N @ (N.T @ U[:, c])
    return U, bases


def _solve_on(prob, U, active, cache):
    """Newton on the active set from ``U``; ``(U, blocking (rows, cols) or None)``."""
    U, bases = _project(prob, U, active, cache)
    cols = [c for c in bases if bases[c].shape[1] > 0 and np.linalg.norm(U[:, c]) > 0]
    red = _Reduced(prob, np.array(cols, dtype=int), [bases[c] for c in cols],
                   [cache[c][2] for c in cols])
    free = ~active

    def slack_dir(t, dt):
        S = prob.slacks(red.weights(t, U.shape))
        dS = prob.slacks(red.weights(dt, U.shape))
        blk = free & (dS < 0)
        if not blk.any():
            return np.inf, None
        ratio = np.full(S.shape, np.inf)
        ratio[blk] = np.maximum(S[blk], 0.0) / -dS[blk]
        a_max = float(ratio.min())
        # every row that blocks at this step length (ties are common: degenerate rows)
        return a_max, np.nonzero(ratio <= a_max * (1.0 + 1e-9) + 1e-14)

    t0 = np.concatenate([bases[c].T @ U[:, c] for c in cols]) if cols else np.zeros(0)
    t, row = red.newton(t0, slack_dir)
    if t is None:
        return None, None
    return red.weights(t, U.shape), row


def polish(X, y, D, beta, loss, V, W, lam_est, tol, max_rounds=100):
    """Polish ADMM's ``(V, W)`` on its active set; certified result or ``None``.

    ``lam_est`` (``n x 2P``, NumPy) holds ADMM's cone multiplier estimates
    (positive exactly on the rows its projected slack holds at zero). A
    primal active-set iteration: Newton on the current active set with a ratio
    test on the other rows (a blocking row joins the set), then multipliers by
    NNLS; per neuron, the row of most negative least-squares multiplier leaves
    the set when the point does not certify. Returns ``None`` when the loss is
    not smooth, the reduced problem is too large (more than
    ``MAX_POLISH_VARIABLES`` active weights ``K`` or ``n K²`` above
    ``MAX_POLISH_FLOPS``), or no point certifies within ``max_rounds``; else a dict with
    ``V``, ``W``, ``fun``, ``lower_bound``, ``gap`` (relative), ``kkt`` (the
    largest stationarity error relative to ``beta``), ``rounds``.
    """
    if loss not in POLISH_LOSSES or not beta > 0:
        return None
    prob = _Problem(X, y, D, beta, loss)
    U = np.hstack([V, W])
    d, m = U.shape
    lam_est = lam_est[prob.mask]
    K = np.count_nonzero(np.linalg.norm(U, axis=0)) * d
    if K > MAX_POLISH_VARIABLES or X.shape[0] * K * K > MAX_POLISH_FLOPS:
        return None
    cache = {}
    S = prob.slacks(U)
    active = (lam_est > 0) & (S <= 1e-3 * np.abs(S).max(axis=0, initial=0.0))
    for _ in range(10):      # a start on the active set that satisfies the other rows
        U_try, _ = _project(prob, U, active, cache)
        neg = (prob.slacks(U_try) < 0) & ~active & (np.linalg.norm(U_try, axis=0) > 0)
        if not neg.any():
            break
        active |= neg
    else:
        return None
    U = U_try
    released = set()
    for rounds in range(1, max_rounds + 1):
        U_new, row = _solve_on(prob, U, active, cache)
        if U_new is None:
            return None
        U = U_new
        z, Lam = _multipliers(prob, U, active, lam_est)
        fun = prob.objective(U)
        lower = prob.lower_bound(z, Lam)
        gap = (fun - lower) / max(abs(fun), 1e-300)
        S = prob.slacks(U)
        feasible = S.min(initial=0.0) >= -tol * max(float(np.abs(S).max(initial=0.0)), 1e-300)
        kkt = _kkt_errors(prob, U, z, Lam)
        if gap <= tol and feasible:
            P = m // 2
            return {"V": U[:, :P], "W": U[:, P:], "fun": fun, "lower_bound": lower,
                    "gap": gap, "kkt": float(kkt.max(initial=0.0)), "rounds": rounds}
        if row is not None:
            active[row] = True
            continue
        # per neuron, the row of most negative least-squares multiplier leaves the set
        drop = _rows_to_release(prob, U, z, active)
        if drop is None:
            return None
        key = active.tobytes()
        if key in released:         # the same set again: the iteration cycles
            return None
        released.add(key)
        active[drop] = False
    return None
