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
from .._krylov import conjugate_gradient
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

        shape = r.shape
        res = conjugate_gradient(lambda v: hmul(v.reshape(shape)).ravel(), r.ravel(),
                                 rtol=rtol, maxiter=maxiter,
                                 psolve=lambda v: self.solve(v.reshape(shape)).ravel(),
                                 x0=self.solve(r).ravel())
        return res.x.reshape(shape)

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


def _check_args(loss, beta):
    if loss not in _LOSSES:
        raise ValueError(f"solver='ipm' supports loss='squared' or 'bce', got {loss!r}")
    if not beta > 0:
        raise ValueError(f"solver='ipm' needs beta > 0 (its stopping rule is a certified "
                         f"duality gap), got beta={beta}; use solver='admm' or 'cvxpy'")


def _check_gates(prob, gates):
    G0 = prob.E2m[:, :prob.P] * (prob.Xm @ gates)
    if G0.size and G0.min() <= 0.0:
        bad = np.flatnonzero(G0.min(axis=0) <= 0.0)
        raise ValueError("solver='ipm' needs every gate strictly inside its cone "
                         f"((2D_j - I) X h_j > 0 on nonzero rows); patterns {bad[:5].tolist()} "
                         "violate it: pass the gates returned by sample_patterns")


def _starting_point(prob, gates):
    """``(U, S, Lam)``: ``v_j = w_j ∝ h_j`` (the model predicts 0), at the data's scale.

    The multipliers are centred for a complementarity 1e-3 of the starting objective.
    """
    X, y, beta, loss, P = prob.X, prob.y, prob.beta, prob.loss, prob.P
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
    return U, S, Lam


class _IPMState:
    """The primal-dual iterate ``(U, S, Lam)`` of :func:`ipm_solve` and its certificate.

    ``best`` is ``(objective, feasible U, lower bound)`` of the best certified gap so
    far; ``lower`` the best lower bound. One iteration is :meth:`measure` (duality
    measure, bounds, callback, stopping test) then :meth:`step` (predictor-corrector
    Newton step and step lengths); :meth:`result` polishes the best point.
    """

    def __init__(self, prob, gates, tol, callback):
        self.prob, self.gates, self.tol, self.cb = prob, gates, tol, callback
        self.U, self.S, self.Lam = _starting_point(prob, gates)
        self.m = self.S.size
        self.status, self.detail = MAXITER, None
        self.best = (np.inf, self.U, -np.inf)
        self.lower = -np.inf
        self.mu = 0.0
        self.k = 0

    def GT(self, A):
        prob = self.prob
        return prob.Xm.T @ (prob.E2m * A)

    def feasible(self, U):
        """``U`` if it is feasible, else made feasible with the gates."""
        prob = self.prob
        if prob.slacks(U).min(initial=0.0) >= 0.0:
            return U
        X, D, P, gates = prob.X, prob.D, prob.P, self.gates
        return np.hstack([restore_feasibility(X, D, U[:, :P], gates),
                          restore_feasibility(X, D, U[:, P:], gates)])

    def measure(self):
        """Residuals, bounds and the callback at the current iterate; True to stop."""
        prob, U, S, Lam, m, tol = self.prob, self.U, self.S, self.Lam, self.m, self.tol
        P = prob.P
        self.mu = mu = float(np.sum(S * Lam)) / m if m else 0.0
        GU = prob.slacks(U)
        self.Rp = GU - S
        rp = float(np.abs(self.Rp).max(initial=0.0)) / max(float(np.abs(GU).max(initial=0.0)),
                                                           1e-300)
        self.p = prob.predict(U)
        self.z, self.lam2 = _loss_d1_d2(self.p, prob.y, prob.loss)
        self.fval = fval = prob.objective(U)
        if not (np.isfinite(fval) and np.isfinite(Lam).all()):
            self.status = NAN_ENCOUNTERED
            return True
        self.lower = max(self.lower, prob.lower_bound(self.z, Lam))
        f_feas = np.inf
        if rp <= 1e-6:
            # (nearly) feasible: the objective at the restored point is an upper bound
            Uf = self.feasible(U)
            f_feas = prob.objective(Uf)
            if mu * m <= 10.0 * tol * abs(f_feas):
                # the path's own gap is small: certify it with re-fitted multipliers
                self.lower = max(self.lower, prob.lower_bound(
                    self.z, _polished_multipliers(prob, self.z, Lam, np.maximum(GU, 1e-300))))
            if f_feas - self.lower < self.best[0] - self.best[2]:
                self.best = (f_feas, Uf, self.lower)
        if self.cb(np.concatenate([U[:, :P].ravel(), U[:, P:].ravel()]), fun=fval,
                   nit=self.k - 1, feasible_fun=min(f_feas, self.best[0]),
                   lower_bound=self.lower, mu=mu, primal_infeasibility=rp):
            self.status = CALLBACK_STOP
            return True
        best = self.best[0]
        if np.isfinite(best) and best - self.lower <= tol * max(abs(best), 1e-300):
            self.status = SUCCESS
            return True
        return False

    def directions(self):
        """Mehrotra predictor-corrector directions ``(du, ds, dl)``; both Newton solves
        share one factorisation. Raises ``LinAlgError`` when it fails."""
        prob, U, S, Lam, Rp, mu = self.prob, self.U, self.S, self.Lam, self.Rp, self.mu
        beta = prob.beta
        t, q = prob.reg_parts(U, mu)
        g_phi = beta * U / t
        FTz = prob.FT(self.z)
        B = prob.block_hessians(U, mu, S, t, q, Wt=Lam / S)
        newton = _NewtonSystem(prob, B, self.lam2)
        # predictor (affine scaling): complementarity target 0
        du_a = newton(-(FTz + g_phi) - self.GT(Lam * Rp / S), B)
        ds_a = prob.slacks(du_a) + Rp
        dl_a = -Lam - Lam / S * ds_a
        ap = _step_to_boundary(S, ds_a, 1.0)
        ad = _step_to_boundary(Lam, dl_a, 1.0)
        mu_aff = float(np.sum((S + ap * ds_a) * (Lam + ad * dl_a))) / self.m
        mu_t = min(1.0, (mu_aff / mu) ** 3) * mu
        # corrector with the second-order term; the cone barrier follows the same target
        g_phi = beta * U / prob.reg_parts(U, mu_t)[0]
        comp = (mu_t - Lam * S - ds_a * dl_a) / S
        du = newton(-(FTz + g_phi - self.GT(Lam)) + self.GT(comp - Lam * Rp / S), B)
        ds = prob.slacks(du) + Rp
        dl = comp - Lam / S * ds
        return du, ds, dl

    def step(self):
        """Take the damped primal-dual step; False (status set) when none is possible."""
        prob, S, Lam = self.prob, self.S, self.Lam
        try:
            du, ds, dl = self.directions()
        except (np.linalg.LinAlgError, sla.LinAlgError):
            self.status = PRECISION_LOSS
            self.detail = "the Newton system became numerically singular."
            return False
        # the full step's multipliers and loss gradient give a bound before the step
        # lengths reach 1 (any z and lambda >= 0 do)
        z_full = _loss_d1_d2(self.p + prob.predict(du), prob.y, prob.loss)[0]
        self.lower = max(self.lower, prob.lower_bound(z_full, np.maximum(Lam + dl, 0.0)))
        a_p = _step_to_boundary(S, ds, 0.99)
        a_d = _step_to_boundary(Lam, dl, 0.99)
        if max(a_p, a_d) <= 1e-12:
            self.status, self.detail = PRECISION_LOSS, "the step length vanished."
            return False
        # safeguard against drifting away from the data (there is no merit function):
        # the objective may not grow by more than half in one step
        fval = self.fval
        for _ in range(30):
            if prob.objective(self.U + a_p * du) <= fval + 0.5 * abs(fval):
                break
            a_p *= 0.5
            a_d = min(a_d, a_p)
        self.U = self.U + a_p * du
        self.S = S + a_p * ds
        self.Lam = Lam + a_d * dl
        return True

    def result(self):
        """The best certified point, sparsified and re-certified, as an OptimizeResult."""
        prob, tol, lower, status, detail = self.prob, self.tol, self.lower, self.status, \
            self.detail
        P = prob.P
        fval, U = self.best[0], self.best[1]
        if not np.isfinite(fval):
            # never (nearly) feasible: return the last iterate made feasible
            U = self.feasible(self.U)
            fval = prob.objective(U)
        # group sparsity: neurons small against the largest one are set to exactly 0 when
        # that keeps the certified accuracy; the sparsest such cut wins (the zero network
        # first: above the group-lasso threshold every neuron is an interior-point remnant)
        nrm = np.linalg.norm(U, axis=0)
        top = max(float(nrm.max(initial=0.0)), 1e-300)
        for rel in (np.inf, 1e-2, 1e-4, 1e-6):
            small = nrm <= rel * top
            if not small.any():
                continue
            Up = U.copy()
            Up[:, small] = 0.0
            fp = prob.objective(Up)
            if fp - lower <= max(fval - lower, tol * max(abs(fp), 1e-300)):
                U, fval = Up, fp
                break
        if status not in (SUCCESS, CALLBACK_STOP):
            if fval - lower > tol * max(abs(fval), 1e-300):
                # a last attempt at certifying the best point (e.g. after precision loss)
                # (active rows chosen by the last primal-dual iterate)
                z = _loss_d1_d2(prob.predict(U), prob.y, prob.loss)[0]
                lower = max(lower, prob.lower_bound(
                    z, _polished_multipliers(prob, z, self.Lam, self.S)))
            if fval - lower <= tol * max(abs(fval), 1e-300):
                status, detail = SUCCESS, None
        gap = (fval - lower) / max(abs(fval), 1e-300)
        if status == MAXITER:
            detail = f"relative gap {gap:.2e} above tol={tol:g} after {self.k} iterations."
        elif detail is not None:
            detail += f" Best certified relative gap {gap:.2e} (tol={tol:g})."
        V, W = U[:, :P].copy(), U[:, P:].copy()
        return make_result(np.concatenate([V.ravel(), W.ravel()]), status, detail=detail,
                           nit=self.k, V=V, W=W, fun=fval, lower_bound=lower, gap=fval - lower,
                           mu=self.mu)


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
    _check_args(loss, beta)
    prob = _Problem(X, y, D, beta, loss)
    _check_gates(prob, gates)
    state = _IPMState(prob, gates, tol, make_callback(callback))
    for k in range(1, maxiter + 1):
        state.k = k
        if state.measure() or not state.step():
            break
    return state.result()
