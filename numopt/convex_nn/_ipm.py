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
import math
import sys

import numpy as np
import scipy.linalg as sla
from scipy.special import xlogy

from .._array_api import from_host, get_namespace, to_host
from .._callback import make_callback
from .._krylov import conjugate_gradient
from .._result import CALLBACK_STOP, MAXITER, NAN_ENCOUNTERED, PRECISION_LOSS, SUCCESS, make_result
from .._threads import with_blas_threads
from ._core import loss_value, restore_feasibility
from ._xp import (add_diag, amax0, cho_factor, cho_solve, colnorm, copy, expit, eye_like,
                  hstack, ravel, rowdot)

__all__ = ["ipm_solve"]

_LOSSES = ("squared", "bce")


def _loss_d1_d2(p, y, loss, xp=np):
    if loss == "squared":
        return p - y, None
    s = expit(p, xp)
    return s - y, s * (1.0 - s)


def _xlogx(q, xp):
    return xp.where(q > 0, q * xp.log(xp.where(q > 0, q, 1.0)), 0.0)


def _loss_conj(z, y, loss, xp=np):
    """Convex conjugate ``loss*(z)`` (``+inf`` outside its domain)."""
    if loss == "squared":
        return 0.5 * float(z @ z) + float(z @ y)
    q = z + y
    if bool(xp.any(q < 0.0)) or bool(xp.any(q > 1.0)):
        return np.inf
    if xp is np:
        return float(np.sum(xlogy(q, q) + xlogy(1.0 - q, 1.0 - q)))
    return float(xp.sum(_xlogx(q, xp) + _xlogx(1.0 - q, xp)))


def _bmul(B, x, xp=np):
    """Blockwise products ``B_c x_c`` for ``B`` of shape (m, d, d) and ``x`` (d, m)."""
    return xp.matmul(B, x.T[:, :, None])[:, :, 0].T


class _Problem:
    """Data, operators and barrier pieces; ``U`` is ``d x 2P`` (columns v_1..v_P, w_1..w_P)."""

    def __init__(self, X, y, D, beta, loss, xp=np):
        self.X, self.y, self.D, self.beta, self.loss, self.xp = X, y, D, beta, loss, xp
        n, d = X.shape
        self.n, self.d, self.P = n, d, D.shape[1]
        E = 2.0 * D - 1.0
        self.E2 = hstack([E, E], xp)
        # rows of X that are zero give the constraint 0 >= 0 for every weight: no barrier
        self.mask = xp.any(X != 0.0, axis=1)
        if xp is np:
            self.Xm = X[self.mask]
            self.E2m = self.E2[self.mask]
        else:
            rows = xp.nonzero(self.mask)[0]
            self.Xm = xp.take(X, rows, axis=0)
            self.E2m = xp.take(self.E2, rows, axis=0)
        self._host = None
        self.nu = self.Xm.shape[0] * 2 * self.P + (2 * 2 * self.P if beta > 0 else 0)
        # batched X_k X_kᵀ products for the barrier Hessian, in row chunks of bounded size
        self.chunk = max(1, int(4_000_000 // max(d * d, 1)))

    def host(self):
        """``(Xm, E2m)`` as NumPy arrays (for the host-only NNLS polish), copied once."""
        if self._host is None:
            self._host = (to_host(self.Xm), to_host(self.E2m))
        return self._host

    def predict(self, U):
        P = self.P
        return rowdot(self.D, self.X @ (U[:, :P] - U[:, P:]), self.xp)

    def FT(self, r):
        a = self.X.T @ (self.D * r[:, None])
        return hstack([a, -a], self.xp)

    def slacks(self, U):
        return self.E2m * (self.Xm @ U)

    def reg_parts(self, U, mu):
        """``t_c(u)`` (the eliminated cone variable) and ``q_c = sqrt(mu² + beta² ‖u_c‖²)``."""
        beta, xp = self.beta, self.xp
        nrm2 = np.einsum("ij,ij->j", U, U) if xp is np else xp.sum(U * U, axis=0)
        q = xp.sqrt(mu * mu + beta * beta * nrm2)
        t = (mu + q) / beta
        return t, q

    def objective(self, U):
        xp = self.xp
        nrm = np.linalg.norm(U, axis=0).sum() if xp is np else xp.sum(colnorm(U, xp))
        return loss_value(self.predict(U), self.y, self.loss, xp) + self.beta * float(nrm)

    def block_hessians(self, U, mu, S, t, q, Wt=None):
        """``B_c`` for every block, shape ``(2P, d, d)``; ``Wt`` the barrier row weights."""
        d, m, xp = self.d, U.shape[1], self.xp
        if Wt is None:
            Wt = mu / (S * S)                  # (n_masked, 2P)
        Xm = self.Xm
        if xp is np:
            # Σ_k w_kc x_k x_kᵀ for all blocks at once, upper triangles only
            iu, ju = np.triu_indices(d)
            Bt = np.zeros((m, iu.size))
            for a in range(0, Xm.shape[0], self.chunk):
                Xc = Xm[a:a + self.chunk]
                Bt += Wt[a:a + self.chunk].T @ (Xc[:, iu] * Xc[:, ju])
            B = np.empty((m, d, d))
            B[:, iu, ju] = Bt
            B[:, ju, iu] = Bt
        else:
            # the whole d x d products (no scatter into triangles): one GEMM per chunk
            B = xp.zeros((m, d * d), dtype=U.dtype, device=U.device)
            for a in range(0, Xm.shape[0], self.chunk):
                b = min(a + self.chunk, Xm.shape[0])     # the standard has no clipped slices
                Xc = Xm[a:b, :]
                XX = xp.reshape(Xc[:, :, None] * Xc[:, None, :], (b - a, d * d))
                B = B + Wt[a:b, :].T @ XX
            B = xp.reshape(B, (m, d, d))
        if self.beta > 0:
            beta = self.beta
            # ∇²phi = (beta/t) [I − (1 − mu/q) û ûᵀ], û = u/‖u‖; written this way the
            # radial curvature beta mu/(t q) carries no cancellation when mu << beta ‖u‖
            nrm = colnorm(U, xp)
            Uh = U / xp.maximum(nrm, 1e-300)
            coef = beta / t * (1.0 - mu / q)
            if xp is np:
                B += (beta / t)[:, None, None] * np.eye(d)
                B -= coef[:, None, None] * np.einsum("ic,jc->cij", Uh, Uh)
            else:
                B = B + (beta / t)[:, None, None] * eye_like(d, U, xp)
                B = B - coef[:, None, None] * (Uh.T[:, :, None] * Uh.T[:, None, :])
        return B

    def lower_bound(self, z, lam):
        """Weak-duality bound from ``z`` and ``lam >= 0``, scaled to be dual feasible."""
        C = self.FT(z) - self.Xm.T @ (self.E2m * lam)
        cn = amax0(colnorm(C, self.xp), self.xp)
        if self.beta > 0:
            kappa = max(1.0, cn / self.beta)
        else:
            kappa = 1.0 if cn == 0.0 else np.inf
        if not np.isfinite(kappa):
            return -np.inf
        return -_loss_conj(z / kappa, self.y, self.loss, self.xp)


class _NewtonSystem:
    """Solve ``(B + Fᵀ Λ F) x = r`` for block-diagonal ``B`` by Woodbury or directly."""

    def __init__(self, prob, B, lam2):
        self.prob = prob
        xp = prob.xp
        n, d, P = prob.n, prob.d, prob.P
        X, D = prob.X, prob.D
        sl = (np.ones(n) if xp is np else xp.ones(n, dtype=X.dtype, device=X.device)) \
            if lam2 is None else xp.sqrt(lam2)
        # The blocks get very ill-conditioned near the end (barrier curvature ~ lambda²/mu
        # across active constraints, radial curvature of phi ~ mu/‖u‖² along u), and
        # Woodbury then cancels B⁻¹ against the loss term. Factor B + delta I instead,
        # delta tiny against the loss curvature, and let CG on the exact H clean up.
        delta = 1e-9 * float(xp.sum((X * sl[:, None]) ** 2)) / d
        B = B + delta * eye_like(d, X, xp)
        # Jacobi-scaled inverses
        diag = np.einsum("cii->ci", B) if xp is np else xp.linalg.diagonal(B)
        sc = 1.0 / xp.sqrt(diag)
        Bs = B * sc[:, :, None] * sc[:, None, :]
        Binv = xp.linalg.inv(Bs) * sc[:, :, None] * sc[:, None, :]
        self.Binv = 0.5 * (Binv + xp.permute_dims(Binv, (0, 2, 1)))
        self.sl = sl
        self.direct = 2 * d * P < n
        if self.direct:
            # H = B + Fᵀ Λ F in the 2dP weights
            DX = (D * sl[:, None])[:, :, None] * X[:, None, :]
            F = xp.reshape(xp.concat([DX, -DX], axis=1), (n, 2 * P * d))
            H = F.T @ F
            if xp is np:
                H += sla.block_diag(*B)
            else:
                m = 2 * P
                I_m = xp.eye(m, dtype=X.dtype, device=X.device)
                H = H + xp.reshape(B[:, :, None, :] * I_m[:, None, :, None], (m * d, m * d))
            self.cH = cho_factor(H, xp, overwrite=True)
        else:
            C = self.Binv[:P, ...] + self.Binv[P:, ...]
            lam, Q = xp.linalg.eigh(C)                          # C_j = L_j L_jᵀ
            L = Q * xp.sqrt(xp.maximum(lam, 0.0))[:, None, :]
            # R_j = diag(D_j Λ^½) X L_j, stacked as n x (P d)
            # R = [diag(D_j Λ^½) X L_j]_j, n x Pd, built by one product with [L_1 ... L_P]
            R = X @ xp.reshape(xp.permute_dims(L, (1, 0, 2)), (d, P * d))
            if xp is np:
                R.reshape(n, P, d)[...] *= (D * sl[:, None])[:, :, None]
            else:
                R = xp.reshape(xp.reshape(R, (n, P, d)) * (D * sl[:, None])[:, :, None],
                               (n, P * d))
            S = R @ R.T   # measured: dgemm beats OpenBLAS's dsyrk and a blocked lower half
            S = add_diag(S, 1.0, xp)
            self.cS = cho_factor(S, xp, overwrite=True)

    def __call__(self, r, B, maxiter=20, rtol=1e-12):
        """Solve ``H x = r`` exactly by conjugate gradients preconditioned by this factor.

        The factor is of ``H + delta I`` (see ``__init__``); the CG iteration on the
        exact ``H`` removes that shift and the rounding of the Woodbury formula.
        """
        prob = self.prob
        xp = prob.xp

        def hmul(x):
            Hx = _bmul(B, x, xp)
            Hx += prob.FT(prob.predict(x) * self.sl ** 2)
            return Hx

        shape = r.shape
        res = conjugate_gradient(lambda v: ravel(hmul(xp.reshape(v, shape)), xp), ravel(r, xp),
                                 rtol=rtol, maxiter=maxiter,
                                 psolve=lambda v: ravel(self.solve(xp.reshape(v, shape)), xp),
                                 x0=ravel(self.solve(r), xp), xp=xp)
        return xp.reshape(res.x, shape)

    def solve(self, r):
        """``r`` has the shape of ``U`` (d x 2P)."""
        prob = self.prob
        xp = prob.xp
        d, P = prob.d, prob.P
        if self.direct:
            x = cho_solve(self.cH, xp.reshape(r.T, (-1,)), xp)
            return xp.reshape(x, (2 * P, d)).T
        t = _bmul(self.Binv, r, xp)               # B⁻¹ r
        Ft = prob.predict(t) * self.sl
        w = cho_solve(self.cS, Ft, xp) * self.sl
        g = prob.FT(w)                                          # Fᵀ Λ^½ S⁻¹ Λ^½ F B⁻¹ r
        return t - _bmul(self.Binv, g, xp)


def _polished_multipliers(prob, z, Lam, S):
    """Multipliers re-fitted by NNLS on each block's active rows (``Lam > S``).

    Near the solution the dual constraint ``‖F_cᵀ z − G_cᵀ λ_c‖ <= beta`` is tight
    for every nonzero neuron, so the interior-point multipliers (off by the
    centring error) certify the gap only to about ``mu``; the best multipliers
    on the active rows certify it to the accuracy of ``z`` itself.

    Host-only step on the device path: SciPy's NNLS has no device version, so
    the violated blocks' data are copied to the host explicitly and the
    re-fitted multipliers copied back (a few times per solve, near its end).
    """
    from scipy.optimize import nnls
    xp = prob.xp
    FTz = prob.FT(z)
    GTl = prob.Xm.T @ (prob.E2m * Lam)
    viol = colnorm(FTz - GTl, xp) > prob.beta
    Xm, E2m = prob.Xm, prob.E2m
    if xp is not np:
        if not bool(xp.any(viol)):
            return Lam
        Xm, E2m = prob.host()
        dev, dtype = Lam.device, Lam.dtype
        FTz, Lam, S, viol = to_host(FTz), to_host(Lam), to_host(S), to_host(viol)
    lam = Lam.copy()
    for c in np.flatnonzero(viol):
        act = np.flatnonzero(Lam[:, c] > S[:, c])
        if act.size == 0:
            continue
        G = E2m[act, c][:, None] * Xm[act]
        sol = nnls(G.T, FTz[:, c], maxiter=50 * max(act.size, 1))[0]
        lam[:, c] = 0.0
        lam[act, c] = sol
    return lam if xp is np else from_host(lam, xp, dev, dtype=dtype)


def _step_to_boundary(x, dx, frac, xp=np):
    neg = dx < 0
    if xp is not np:
        ratio = xp.where(neg, -x / xp.where(neg, dx, -1.0), np.inf)
        return min(1.0, frac * float(xp.min(ratio))) if ratio.shape[0] else 1.0
    if not neg.any():
        return 1.0
    return min(1.0, frac * float(np.min(-x[neg] / dx[neg])))


def _linalg_errors(xp):
    """The exceptions a failed factorisation raises in ``xp``."""
    errs = (np.linalg.LinAlgError, sla.LinAlgError)
    torch = sys.modules.get("torch")   # a torch namespace means torch is imported
    if xp is not np and torch is not None:
        errs += (torch.linalg.LinAlgError,)
    return errs


def _check_args(loss, beta):
    if loss not in _LOSSES:
        raise ValueError(f"solver='ipm' supports loss='squared' or 'bce', got {loss!r}")
    if not beta > 0:
        raise ValueError(f"solver='ipm' needs beta > 0 (its stopping rule is a certified "
                         f"duality gap), got beta={beta}; use solver='admm' or 'cvxpy'")


def _check_gates(prob, gates):
    xp = prob.xp
    G0 = prob.E2m[:, :prob.P] * (prob.Xm @ gates)
    if xp is not np:
        G0 = to_host(xp.min(G0, axis=0))[None, :] if G0.shape[0] else np.zeros((0, 1))
    if G0.size and G0.min() <= 0.0:
        bad = np.flatnonzero(G0.min(axis=0) <= 0.0)
        raise ValueError("solver='ipm' needs every gate strictly inside its cone "
                         f"((2D_j - I) X h_j > 0 on nonzero rows); patterns {bad[:5].tolist()} "
                         "violate it: pass the gates returned by sample_patterns")


def _starting_point(prob, gates):
    """``(U, S, Lam)``: ``v_j = w_j ∝ h_j`` (the model predicts 0), at the data's scale.

    The multipliers are centred for a complementarity 1e-3 of the starting objective.
    """
    X, y, beta, loss, P, xp = prob.X, prob.y, prob.beta, prob.loss, prob.P, prob.xp
    H = gates / colnorm(gates, xp)
    if xp is np:
        scale = max(float(np.linalg.norm(y)) / max(float(np.linalg.norm(X)), 1e-300), 1e-8)
    else:
        scale = max(float(xp.linalg.vector_norm(y))
                    / max(float(xp.linalg.matrix_norm(X)), 1e-300), 1e-8)
    if beta > 0:
        # the start's group norm at most 1% of the loss: a large beta means a small
        # solution, and a start far outside it stalls the method
        loss0 = max(loss_value(xp.zeros_like(y), y, loss, xp), 1e-300)
        scale = min(scale, 0.01 * loss0 / (beta * 2 * P))
    U = hstack([H, H], xp) * scale
    # infeasible start: the slacks are variables of their own (G u − s → 0 along the
    # way), which lets the weights cross cone boundaries early on; at n = 2000,
    # d = 50, P = 200 this halves the iterations against a feasible start
    S = prob.slacks(U)
    S = xp.maximum(S, 1e-2 * float(xp.mean(xp.abs(S))) if S.shape[0] else 1.0)
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
        self.m = math.prod(self.S.shape)
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
        xp = prob.xp
        if xp is np and prob.slacks(U).min(initial=0.0) >= 0.0:
            return U
        if xp is not np and amax0(-prob.slacks(U), xp) <= 0.0:
            return U
        X, D, P, gates = prob.X, prob.D, prob.P, self.gates
        return hstack([restore_feasibility(X, D, U[:, :P], gates),
                       restore_feasibility(X, D, U[:, P:], gates)], xp)

    def measure(self):
        """Residuals, bounds and the callback at the current iterate; True to stop."""
        prob, U, S, Lam, m, tol = self.prob, self.U, self.S, self.Lam, self.m, self.tol
        P, xp = prob.P, prob.xp
        self.mu = mu = float(xp.sum(S * Lam)) / m if m else 0.0
        GU = prob.slacks(U)
        self.Rp = GU - S
        rp = amax0(xp.abs(self.Rp), xp) / max(amax0(xp.abs(GU), xp), 1e-300)
        self.p = prob.predict(U)
        self.z, self.lam2 = _loss_d1_d2(self.p, prob.y, prob.loss, xp)
        self.fval = fval = prob.objective(U)
        if not (np.isfinite(fval) and bool(xp.all(xp.isfinite(Lam)))):
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
                    self.z, _polished_multipliers(prob, self.z, Lam, xp.maximum(GU, 1e-300))))
            if f_feas - self.lower < self.best[0] - self.best[2]:
                self.best = (f_feas, Uf, self.lower)
        if self.cb(hstack([ravel(U[:, :P], xp), ravel(U[:, P:], xp)], xp), fun=fval,
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
        beta, xp = prob.beta, prob.xp
        t, q = prob.reg_parts(U, mu)
        g_phi = beta * U / t
        FTz = prob.FT(self.z)
        B = prob.block_hessians(U, mu, S, t, q, Wt=Lam / S)
        newton = _NewtonSystem(prob, B, self.lam2)
        # predictor (affine scaling): complementarity target 0
        du_a = newton(-(FTz + g_phi) - self.GT(Lam * Rp / S), B)
        ds_a = prob.slacks(du_a) + Rp
        dl_a = -Lam - Lam / S * ds_a
        ap = _step_to_boundary(S, ds_a, 1.0, xp)
        ad = _step_to_boundary(Lam, dl_a, 1.0, xp)
        mu_aff = float(xp.sum((S + ap * ds_a) * (Lam + ad * dl_a))) / self.m
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
        xp = prob.xp
        try:
            du, ds, dl = self.directions()
        except _linalg_errors(xp):
            self.status = PRECISION_LOSS
            self.detail = "the Newton system became numerically singular."
            return False
        # the full step's multipliers and loss gradient give a bound before the step
        # lengths reach 1 (any z and lambda >= 0 do)
        z_full = _loss_d1_d2(self.p + prob.predict(du), prob.y, prob.loss, xp)[0]
        self.lower = max(self.lower, prob.lower_bound(z_full, xp.maximum(Lam + dl, 0.0)))
        a_p = _step_to_boundary(S, ds, 0.99, xp)
        a_d = _step_to_boundary(Lam, dl, 0.99, xp)
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
        P, xp = prob.P, prob.xp
        fval, U = self.best[0], self.best[1]
        if not np.isfinite(fval):
            # never (nearly) feasible: return the last iterate made feasible
            U = self.feasible(self.U)
            fval = prob.objective(U)
        # group sparsity: neurons small against the largest one are set to exactly 0 when
        # that keeps the certified accuracy; the sparsest such cut wins (the zero network
        # first: above the group-lasso threshold every neuron is an interior-point remnant)
        nrm = colnorm(U, xp)
        top = max(amax0(nrm, xp), 1e-300)
        for rel in (np.inf, 1e-2, 1e-4, 1e-6):
            small = nrm <= rel * top
            if not bool(xp.any(small)):
                continue
            if xp is np:
                Up = U.copy()
                Up[:, small] = 0.0
            else:
                Up = xp.where(small[None, :], 0.0, U)
            fp = prob.objective(Up)
            if fp - lower <= max(fval - lower, tol * max(abs(fp), 1e-300)):
                U, fval = Up, fp
                break
        if status not in (SUCCESS, CALLBACK_STOP):
            if fval - lower > tol * max(abs(fval), 1e-300):
                # a last attempt at certifying the best point (e.g. after precision loss)
                # (active rows chosen by the last primal-dual iterate)
                z = _loss_d1_d2(prob.predict(U), prob.y, prob.loss, xp)[0]
                lower = max(lower, prob.lower_bound(
                    z, _polished_multipliers(prob, z, self.Lam, self.S)))
            if fval - lower <= tol * max(abs(fval), 1e-300):
                status, detail = SUCCESS, None
        gap = (fval - lower) / max(abs(fval), 1e-300)
        if status == MAXITER:
            detail = f"relative gap {gap:.2e} above tol={tol:g} after {self.k} iterations."
        elif detail is not None:
            detail += f" Best certified relative gap {gap:.2e} (tol={tol:g})."
        V, W = copy(U[:, :P], xp), copy(U[:, P:], xp)
        return make_result(hstack([ravel(V, xp), ravel(W, xp)], xp), status, detail=detail,
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

    Array namespaces: ``X, y, D, gates`` of one non-NumPy namespace run the same
    method there, on their device (batched inverses and eigendecompositions,
    Cholesky factors and CG of the namespace); the one host step is the NNLS
    polish of the multipliers near the end (see :func:`_polished_multipliers`).
    """
    _check_args(loss, beta)
    prob = _Problem(X, y, D, beta, loss, get_namespace(X, y, D, gates))
    _check_gates(prob, gates)
    state = _IPMState(prob, gates, tol, make_callback(callback))
    for k in range(1, maxiter + 1):
        state.k = k
        if state.measure() or not state.step():
            break
    return state.result()
