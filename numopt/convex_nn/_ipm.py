"""Structured barrier interior-point method for the convex two-layer ReLU program.

The program (squared or logistic loss; ``u_c`` the 2P columns of ``(V, W)``)

    min  loss(F u) + beta * sum_c ‖u_c‖₂   s.t.  G_c u_c >= 0,
    F u = sum_j D_j X (v_j − w_j),   G_c = (2 D_j − I) X,

is a second-order cone program with ``2nP`` linear inequalities. A generic
interior-point solver (Clarabel through CVXPY) factors a KKT matrix with
``O(n d P)`` non-zeros and a Schur complement coupling all ``d P`` weights,
which at ``n = 2000, d = 50, P = 200`` takes hours. Here the barrier problem

    f_mu(u) = loss(F u) + sum_c phi_mu(u_c) − mu sum_{c,k} log (G_c u_c)_k,
    phi_mu(u) = min_{t > ‖u‖} beta t − mu log(t² − ‖u‖²)
              = beta t(u) − mu log(2 mu t(u) / beta),
    t(u) = (mu + sqrt(mu² + beta² ‖u‖²)) / beta,

(the cone variable ``t`` eliminated in closed form) is followed along the
central path by damped Newton steps. Its Hessian is block-diagonal plus the
rank-``<= n`` loss term, ``H = B + Fᵀ Λ F`` with ``d x d`` blocks
``B_c = ∇²phi_mu(u_c) + mu Xᵀ diag(1/s_c²) X``, so every Newton system is
solved by Woodbury through one ``n x n`` Cholesky factor,

    S = I + Λ^½ (sum_j D_j X (B_{v_j}⁻¹ + B_{w_j}⁻¹) Xᵀ D_j) Λ^½,

(or directly in the ``2dP`` weights when that is smaller): ``O(n² d P)``
flops in a few large BLAS-3 calls, about 40 times per solve.

The slacks ``s = G u`` are variables of their own (infeasible start; the
residual ``G u − s`` shrinks by the primal step length each iteration), and
every iterate carries a certified lower bound from Lagrange duality: for ``z = loss'(F u)`` and
``lambda_c = mu / s_c`` (scaled by ``1/kappa`` so that
``‖F_cᵀ z − G_cᵀ lambda_c‖ <= beta`` holds for every block), weak duality
gives ``p* >= −loss*(z / kappa)``. The method stops when the objective is
within ``tol`` (relative) of that bound, so the reported accuracy is a
guarantee rather than a residual heuristic.
"""
import numpy as np
import scipy.linalg as sla
from scipy.special import expit, xlogy

from .._callback import make_callback
from .._result import CALLBACK_STOP, MAXITER, NAN_ENCOUNTERED, PRECISION_LOSS, SUCCESS, make_result
from .._threads import with_blas_threads
from ._core import loss_value, restore_feasibility

__all__ = ["ipm_solve"]

_LOSSES = ("squared", "bce")


def _loss_d1_d2(p, y, loss):
    if loss == "squared":
        return p - y, None
    s = expit(p)
    return s - y, s * (1.0 - s)


def _loss_conj(z, y, loss):
    """Convex conjugate ``loss*(z)`` (``+inf`` outside its domain)."""
    if loss == "squared":
        return 0.5 * float(z @ z) + float(z @ y)
    q = z + y
    if np.any(q < 0.0) or np.any(q > 1.0):
        return np.inf
    return float(np.sum(xlogy(q, q) + xlogy(1.0 - q, 1.0 - q)))


def _bmul(B, x):
    """Blockwise products ``B_c x_c`` for ``B`` of shape (m, d, d) and ``x`` (d, m)."""
    return np.matmul(B, x.T[:, :, None])[:, :, 0].T


class _Problem:
    """Data, operators and barrier pieces; ``U`` is ``d x 2P`` (columns v_1..v_P, w_1..w_P)."""

    def __init__(self, X, y, D, beta, loss):
        self.X, self.y, self.D, self.beta, self.loss = X, y, D, beta, loss
        n, d = X.shape
        self.n, self.d, self.P = n, d, D.shape[1]
        E = 2.0 * D - 1.0
        self.E2 = np.hstack([E, E])
        # rows of X that are zero give the constraint 0 >= 0 for every weight: no barrier
        self.mask = np.any(X != 0.0, axis=1)
        self.Xm = X[self.mask]
        self.E2m = self.E2[self.mask]
        self.nu = self.Xm.shape[0] * 2 * self.P + (2 * 2 * self.P if beta > 0 else 0)
        # batched X_k X_kᵀ products for the barrier Hessian, in row chunks of bounded size
        self.chunk = max(1, int(4_000_000 // max(d * d, 1)))

    def predict(self, U):
        P = self.P
        return np.einsum("ij,ij->i", self.D, self.X @ (U[:, :P] - U[:, P:]))

    def FT(self, r):
        a = self.X.T @ (self.D * r[:, None])
        return np.hstack([a, -a])

    def slacks(self, U):
        return self.E2m * (self.Xm @ U)

    def reg_parts(self, U, mu):
        """``t_c(u)`` (the eliminated cone variable) and ``q_c = sqrt(mu² + beta² ‖u_c‖²)``."""
        beta = self.beta
        nrm2 = np.einsum("ij,ij->j", U, U)
        q = np.sqrt(mu * mu + beta * beta * nrm2)
        t = (mu + q) / beta
        return t, q

    def objective(self, U):
        nrm = np.linalg.norm(U, axis=0).sum()
        return loss_value(self.predict(U), self.y, self.loss) + self.beta * float(nrm)

    def block_hessians(self, U, mu, S, t, q, Wt=None):
        """``B_c`` for every block, shape ``(2P, d, d)``; ``Wt`` the barrier row weights."""
        d, m = self.d, U.shape[1]
        if Wt is None:
            Wt = mu / (S * S)                  # (n_masked, 2P)
        # Σ_k w_kc x_k x_kᵀ for all blocks at once, upper triangles only
        iu, ju = np.triu_indices(d)
        Bt = np.zeros((m, iu.size))
        Xm = self.Xm
        for a in range(0, Xm.shape[0], self.chunk):
            Xc = Xm[a:a + self.chunk]
            Bt += Wt[a:a + self.chunk].T @ (Xc[:, iu] * Xc[:, ju])
        B = np.empty((m, d, d))
        B[:, iu, ju] = Bt
        B[:, ju, iu] = Bt
        if self.beta > 0:
            beta = self.beta
            # ∇²phi = (beta/t) [I − (1 − mu/q) û ûᵀ], û = u/‖u‖; written this way the
            # radial curvature beta mu/(t q) carries no cancellation when mu << beta ‖u‖
            nrm = np.linalg.norm(U, axis=0)
            Uh = U / np.maximum(nrm, 1e-300)
            B += (beta / t)[:, None, None] * np.eye(d)
            coef = beta / t * (1.0 - mu / q)
            B -= coef[:, None, None] * np.einsum("ic,jc->cij", Uh, Uh)
        return B

    def lower_bound(self, z, lam):
        """Weak-duality bound from ``z`` and ``lam >= 0``, scaled to be dual feasible."""
        C = self.FT(z) - self.Xm.T @ (self.E2m * lam)
        cn = float(np.linalg.norm(C, axis=0).max(initial=0.0))
        if self.beta > 0:
            kappa = max(1.0, cn / self.beta)
        else:
            kappa = 1.0 if cn == 0.0 else np.inf
        if not np.isfinite(kappa):
            return -np.inf
        return -_loss_conj(z / kappa, self.y, self.loss)


class _NewtonSystem:
    """Solve ``(B + Fᵀ Λ F) x = r`` for block-diagonal ``B`` by Woodbury or directly."""

    def __init__(self, prob, B, lam2):
        self.prob = prob
        n, d, P = prob.n, prob.d, prob.P
        X, D = prob.X, prob.D
        sl = np.ones(n) if lam2 is None else np.sqrt(lam2)
        # The blocks get very ill-conditioned near the end (barrier curvature ~ lambda²/mu
        # across active constraints, radial curvature of phi ~ mu/‖u‖² along u), and
        # Woodbury then cancels B⁻¹ against the loss term. Factor B + delta I instead,
        # delta tiny against the loss curvature, and let CG on the exact H clean up.
        delta = 1e-9 * float(np.sum((X * sl[:, None]) ** 2)) / d
        B = B + delta * np.eye(d)
        # Jacobi-scaled inverses
        sc = 1.0 / np.sqrt(np.einsum("cii->ci", B))
        Bs = B * sc[:, :, None] * sc[:, None, :]
        Binv = np.linalg.inv(Bs) * sc[:, :, None] * sc[:, None, :]
        self.Binv = 0.5 * (Binv + Binv.transpose(0, 2, 1))
        self.sl = sl
        self.direct = 2 * d * P < n
        if self.direct:
            # H = B + Fᵀ Λ F in the 2dP weights
            F = np.concatenate([(D * sl[:, None])[:, :, None] * X[:, None, :],
                                -(D * sl[:, None])[:, :, None] * X[:, None, :]],
                               axis=1).reshape(n, 2 * P * d)
            H = F.T @ F
            H += sla.block_diag(*B)
            self.cH = sla.cho_factor(H, lower=True, overwrite_a=True)
        else:
            C = self.Binv[:P] + self.Binv[P:]
            lam, Q = np.linalg.eigh(C)                          # C_j = L_j L_jᵀ
            L = Q * np.sqrt(np.maximum(lam, 0.0))[:, None, :]
            # R_j = diag(D_j Λ^½) X L_j, stacked as n x (P d)
            # R = [diag(D_j Λ^½) X L_j]_j, n x Pd, built by one product with [L_1 ... L_P]
            R = X @ L.transpose(1, 0, 2).reshape(d, P * d)
            R.reshape(n, P, d)[...] *= (D * sl[:, None])[:, :, None]
            S = R @ R.T   # measured: dgemm beats OpenBLAS's dsyrk and a blocked lower half
            S[np.diag_indices(n)] += 1.0
            self.cS = sla.cho_factor(S, lower=True, overwrite_a=True)

    def __call__(self, r, B, maxiter=20, rtol=1e-12):
        """Solve ``H x = r`` exactly by conjugate gradients preconditioned by this factor.

        The factor is of ``H + delta I`` (see ``__init__``); the CG iteration on the
        exact ``H`` removes that shift and the rounding of the Woodbury formula.
        """
        prob = self.prob

        def hmul(x):
            Hx = _bmul(B, x)
            Hx += prob.FT(prob.predict(x) * self.sl ** 2)
            return Hx

        x = self.solve(r)
        res = r - hmul(x)
        rn0 = float(np.linalg.norm(r))
        zr = self.solve(res)
        pdir = zr.copy()
        rz = float(np.sum(res * zr))
        for _ in range(maxiter):
            if float(np.linalg.norm(res)) <= rtol * rn0 or rz <= 0.0:
                break
            Hp = hmul(pdir)
            pHp = float(np.sum(pdir * Hp))
            if not pHp > 0.0:
                break
            alpha = rz / pHp
            x += alpha * pdir
            res -= alpha * Hp
            zr = self.solve(res)
            rz_new = float(np.sum(res * zr))
            pdir = zr + (rz_new / rz) * pdir
            rz = rz_new
        return x

    def solve(self, r):
        """``r`` has the shape of ``U`` (d x 2P)."""
        prob = self.prob
        d, P = prob.d, prob.P
        if self.direct:
            x = sla.cho_solve(self.cH, r.T.reshape(-1))
            return x.reshape(2 * P, d).T
        t = _bmul(self.Binv, r)               # B⁻¹ r
        Ft = prob.predict(t) * self.sl
        w = sla.cho_solve(self.cS, Ft) * self.sl
        g = prob.FT(w)                                          # Fᵀ Λ^½ S⁻¹ Λ^½ F B⁻¹ r
        return t - _bmul(self.Binv, g)


def _polished_multipliers(prob, z, Lam, S):
    """Multipliers re-fitted by NNLS on each block's active rows (``Lam > S``).

    Near the solution the dual constraint ``‖F_cᵀ z − G_cᵀ λ_c‖ <= beta`` is tight
    for every nonzero neuron, so the interior-point multipliers (off by the
    centring error) certify the gap only to about ``mu``; the best multipliers
    on the active rows certify it to the accuracy of ``z`` itself.
    """
    from scipy.optimize import nnls
    lam = Lam.copy()
    FTz = prob.FT(z)
    GTl = prob.Xm.T @ (prob.E2m * Lam)
    viol = np.linalg.norm(FTz - GTl, axis=0) > prob.beta
    for c in np.flatnonzero(viol):
        act = np.flatnonzero(Lam[:, c] > S[:, c])
        if act.size == 0:
            continue
        G = prob.E2m[act, c][:, None] * prob.Xm[act]
        sol = nnls(G.T, FTz[:, c], maxiter=50 * max(act.size, 1))[0]
        lam[:, c] = 0.0
        lam[act, c] = sol
    return lam


def _step_to_boundary(x, dx, frac):
    neg = dx < 0
    if not neg.any():
        return 1.0
    return min(1.0, frac * float(np.min(-x[neg] / dx[neg])))


@with_blas_threads(None)
def ipm_solve(X, y, D, beta, loss="squared", *, gates, tol=1e-6, maxiter=100, callback=None):
    """Primal-dual interior-point method for the convex ReLU program with fixed ``D``.

    Mehrotra predictor-corrector on the ``2nP`` linear inequalities, the cone
    (group-norm) barrier ``phi_mu`` following the same ``mu``; both Newton
    solves of an iteration share one factorisation (see the module docstring).

    ``gates`` (``d x P``) must lie strictly inside their cones
    (``(2D_j − I) X h_j > 0`` on every nonzero row of ``X``); they give the
    starting point ``v_j = w_j ∝ h_j`` and make nearly feasible iterates exactly
    feasible (:func:`restore_feasibility`), whose objective is the upper end of
    the certificate. The callback gets ``fun`` (objective of the current, maybe
    infeasible iterate), ``feasible_fun`` (best feasible objective so far),
    ``lower_bound`` and ``primal_infeasibility``. ``tol`` bounds the relative gap between
    the objective and the certified lower bound; ``beta`` must be positive (without
    the group norm the dual constraint is an equality that rounded multipliers
    never meet, so no gap could be certified). Leaves BLAS threading as configured
    (``blas_threads=None``): an iteration is a few large products, which is what
    BLAS threads are for. Measured at n = 2000, d = 50, P = 200 on 2 cores: 99 s
    with one thread and 79 s with two on the idle machine, but 234 s with two
    while another job kept a core busy (oversubscription); pass
    ``blas_threads=1`` on a shared machine.
    Returns an :class:`OptimizeResult` with ``V``, ``W``, ``fun``,
    ``lower_bound``, ``gap``, ``nit`` and ``mu``.
    """
    if loss not in _LOSSES:
        raise ValueError(f"solver='ipm' supports loss='squared' or 'bce', got {loss!r}")
    if not beta > 0:
        raise ValueError(f"solver='ipm' needs beta > 0 (its stopping rule is a certified "
                         f"duality gap), got beta={beta}; use solver='admm' or 'cvxpy'")
    cb = make_callback(callback)
    prob = _Problem(X, y, D, beta, loss)
    P = prob.P
    G0 = prob.E2m[:, :P] * (prob.Xm @ gates)
    if G0.size and G0.min() <= 0.0:
        bad = np.flatnonzero(G0.min(axis=0) <= 0.0)
        raise ValueError("solver='ipm' needs every gate strictly inside its cone "
                         f"((2D_j - I) X h_j > 0 on nonzero rows); patterns {bad[:5].tolist()} "
                         "violate it: pass the gates returned by sample_patterns")
    # start: v_j = w_j ∝ h_j (the model predicts 0), at the data's scale; multipliers
    # centred for a complementarity 1e-3 of the starting objective
    H = gates / np.linalg.norm(gates, axis=0)
    scale = max(float(np.linalg.norm(y)) / max(float(np.linalg.norm(X)), 1e-300), 1e-8)
    if beta > 0:
        # the start's group norm at most 1% of the loss: a large beta means a small
        # solution, and a start far outside it stalls the method
        loss0 = max(loss_value(np.zeros_like(y), y, loss), 1e-300)
        scale = min(scale, 0.01 * loss0 / (beta * 2 * P))
    U = np.hstack([H, H]) * scale
    # infeasible start: the slacks are variables of their own (G u − s → 0 along the
    # way), which lets the weights cross cone boundaries early on; at n = 2000,
    # d = 50, P = 200 this halves the iterations against a feasible start
    S = prob.slacks(U)
    S = np.maximum(S, 1e-2 * float(np.abs(S).mean()) if S.size else 1.0)
    Lam = 1e-3 * max(prob.objective(U), 1e-12) / prob.nu / S
    m = S.size
    status, detail = MAXITER, None
    best = (np.inf, U, -np.inf)            # (objective, feasible U, lower bound): best gap
    lower = -np.inf
    mu = 0.0
    k = 0

    def GT(A):
        return prob.Xm.T @ (prob.E2m * A)

    def feasible(U):
        if prob.slacks(U).min(initial=0.0) >= 0.0:
            return U
        return np.hstack([restore_feasibility(X, D, U[:, :P], gates),
                          restore_feasibility(X, D, U[:, P:], gates)])

    for k in range(1, maxiter + 1):
        mu = float(np.sum(S * Lam)) / m if m else 0.0
        GU = prob.slacks(U)
        Rp = GU - S
        rp = float(np.abs(Rp).max(initial=0.0)) / max(float(np.abs(GU).max(initial=0.0)), 1e-300)
        p = prob.predict(U)
        z, lam2 = _loss_d1_d2(p, y, loss)
        fval = prob.objective(U)
        if not (np.isfinite(fval) and np.isfinite(Lam).all()):
            status = NAN_ENCOUNTERED
            break
        lower = max(lower, prob.lower_bound(z, Lam))
        f_feas = np.inf
        if rp <= 1e-6:
            # (nearly) feasible: the objective at the restored point is an upper bound
            Uf = feasible(U)
            f_feas = prob.objective(Uf)
            if mu * m <= 10.0 * tol * abs(f_feas):
                # the path's own gap is small: certify it with re-fitted multipliers
                lower = max(lower, prob.lower_bound(
                    z, _polished_multipliers(prob, z, Lam, np.maximum(GU, 1e-300))))
            if f_feas - lower < best[0] - best[2]:
                best = (f_feas, Uf, lower)
        if cb(np.concatenate([U[:, :P].ravel(), U[:, P:].ravel()]), fun=fval, nit=k - 1,
              feasible_fun=min(f_feas, best[0]), lower_bound=lower, mu=mu,
              primal_infeasibility=rp):
            status = CALLBACK_STOP
            break
        if np.isfinite(best[0]) and best[0] - lower <= tol * max(abs(best[0]), 1e-300):
            status = SUCCESS
            break
        t, q = prob.reg_parts(U, mu)
        g_phi = beta * U / t
        FTz = prob.FT(z)
        B = prob.block_hessians(U, mu, S, t, q, Wt=Lam / S)
        try:
            newton = _NewtonSystem(prob, B, lam2)
            # predictor (affine scaling): complementarity target 0
            du_a = newton(-(FTz + g_phi) - GT(Lam * Rp / S), B)
        except (np.linalg.LinAlgError, sla.LinAlgError):
            status, detail = PRECISION_LOSS, "the Newton system became numerically singular."
            break
        ds_a = prob.slacks(du_a) + Rp
        dl_a = -Lam - Lam / S * ds_a
        ap = _step_to_boundary(S, ds_a, 1.0)
        ad = _step_to_boundary(Lam, dl_a, 1.0)
        mu_aff = float(np.sum((S + ap * ds_a) * (Lam + ad * dl_a))) / m
        mu_t = min(1.0, (mu_aff / mu) ** 3) * mu
        # corrector with the second-order term; the cone barrier follows the same target
        g_phi = beta * U / prob.reg_parts(U, mu_t)[0]
        comp = (mu_t - Lam * S - ds_a * dl_a) / S
        du = newton(-(FTz + g_phi - GT(Lam)) + GT(comp - Lam * Rp / S), B)
        ds = prob.slacks(du) + Rp
        dl = comp - Lam / S * ds
        # the full step's multipliers and loss gradient give a bound before the step
        # lengths reach 1 (any z and lambda >= 0 do)
        z_full = _loss_d1_d2(p + prob.predict(du), y, loss)[0]
        lower = max(lower, prob.lower_bound(z_full, np.maximum(Lam + dl, 0.0)))
        a_p = _step_to_boundary(S, ds, 0.99)
        a_d = _step_to_boundary(Lam, dl, 0.99)
        if max(a_p, a_d) <= 1e-12:
            status, detail = PRECISION_LOSS, "the step length vanished."
            break
        # safeguard against drifting away from the data (there is no merit function):
        # the objective may not grow by more than half in one step
        for _ in range(30):
            if prob.objective(U + a_p * du) <= fval + 0.5 * abs(fval):
                break
            a_p *= 0.5
            a_d = min(a_d, a_p)
        U = U + a_p * du
        S = S + a_p * ds
        Lam = Lam + a_d * dl
    U_last = U
    fval, U = best[0], best[1]
    if not np.isfinite(fval):
        # never (nearly) feasible: return the last iterate made feasible
        U = feasible(U_last)
        fval = prob.objective(U)
    # group sparsity: neurons negligible against the largest one are set to exactly 0
    # when that keeps the certified accuracy
    nrm = np.linalg.norm(U, axis=0)
    small = nrm <= 1e-6 * max(float(nrm.max(initial=0.0)), 1e-300)
    if small.any():
        Up = U.copy()
        Up[:, small] = 0.0
        fp = prob.objective(Up)
        if fp - lower <= max(fval - lower, tol * max(abs(fp), 1e-300)):
            U, fval = Up, fp
    if status not in (SUCCESS, CALLBACK_STOP):
        if fval - lower > tol * max(abs(fval), 1e-300):
            # a last attempt at certifying the best point (e.g. after precision loss)
            # (active rows chosen by the last primal-dual iterate)
            z = _loss_d1_d2(prob.predict(U), y, loss)[0]
            lower = max(lower, prob.lower_bound(z, _polished_multipliers(prob, z, Lam, S)))
        if fval - lower <= tol * max(abs(fval), 1e-300):
            status, detail = SUCCESS, None
    if status == MAXITER:
        detail = (f"relative gap {(fval - lower) / max(abs(fval), 1e-300):.2e} above "
                  f"tol={tol:g} after {k} iterations.")
    elif detail is not None:
        detail += (f" Best certified relative gap {(fval - lower) / max(abs(fval), 1e-300):.2e}"
                   f" (tol={tol:g}).")
    V, W = U[:, :P].copy(), U[:, P:].copy()
    return make_result(np.concatenate([V.ravel(), W.ravel()]), status, detail=detail, nit=k,
                       V=V, W=W, fun=fval, lower_bound=lower, gap=fval - lower, mu=mu)
