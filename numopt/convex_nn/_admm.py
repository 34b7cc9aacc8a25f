"""ADMM for the convex two-layer ReLU program (Bai, Gautam & Sojoudi 2023, Alg. 3.1 style).

Splitting. With ``u = (V, W)`` (``d x 2P``), ``F u = rowsum(D * X (V − W))`` and
``G u = (E * X V, E * X W)`` the program reads

    min  loss(z) + beta * sum_j ‖v_j‖ + 1{s >= 0}
    s.t. F u = z,  u = v,  G u = s.

Scaled ADMM with one penalty ``rho`` on the three constraint blocks:

    u <- A^{-1} (F^T (z − mu) + (v − lam) + G^T (s − nu)),  A = I + F^T F + G^T G
    z <- prox_{loss/rho}(F u + mu)      (closed form: squared, hinge; Newton: bce)
    v <- group soft-threshold(u + lam, beta/rho)
    s <- max(G u + nu, 0)
    mu, lam, nu += residuals.

``A`` does not depend on ``rho``, so residual balancing changes ``rho`` for
free. ``G_i^T G_i = X^T X`` for every pattern, so ``A = I_{2P} ⊗ M + F^T F``
with ``M = I + X^T X``; ``F^T F`` has rank <= n, and Woodbury gives

    A^{-1} = B^{-1} − B^{-1} F^T S^{-1} F B^{-1},   S = I_n + 2 K ∘ (D D^T),
    K = X M^{-1} X^T,

so the set-up costs O(n d^2 + n^2 (d + P) + n^3) (one d x d and one n x n
Cholesky factor) instead of O((dP)^3), and every iteration costs O(n d P + n^2).
Compared with the paper, the loss is split off through ``z`` (the paper keeps
the squared loss in the u-step, which makes ``A`` depend on ``rho``); this one
factorisation then serves the squared, logistic (bce) and hinge losses.
"""
import math

import numpy as np

from .._array_api import from_host, get_namespace, to_host
from .._callback import make_callback
from .._threads import with_blas_threads
from .._result import CALLBACK_STOP, MAXITER, NAN_ENCOUNTERED, SUCCESS, make_result
from ._polish import POLISH_LOSSES, polish as _polish_host
from ._xp import (add_diag, amax0, cho_factor, cho_solve, colnorm, copy, expit, eye_like,
                  hstack, ravel, rowdot)

__all__ = ["admm_solve"]


def _prox_loss(w, y, rho, loss, z0, xp=np):
    """``argmin_z loss(z)/rho + ½‖z − w‖²``, elementwise."""
    if loss == "squared":
        return (rho * w + y) / (rho + 1.0)
    if loss == "hinge":
        m = y * w
        z = w + y / rho
        z = xp.where(m >= 1.0, w, z)
        return xp.where((m < 1.0) & (m > 1.0 - 1.0 / rho), y, z)
    # bce: loss(z) = log(1 + e^z) − y z, Newton from z0 (the objective is 1-strongly convex)
    z = z0
    w_max = amax0(xp.abs(w), xp)
    for _ in range(50):
        p = expit(z, xp)
        g = (p - y) / rho + z - w
        h = p * (1.0 - p) / rho + 1.0
        z = z - g / h
        if amax0(xp.abs(g), xp) <= 1e-13 * (1.0 + w_max):
            break
    return z


class _Operators:
    """F, G, their adjoints and the Woodbury solve with A = I + F^T F + G^T G."""

    def __init__(self, X, D, eta=1.0, xp=np):
        self.X, self.D, self.xp = X, D, xp
        self.E = eta * (2.0 * D - 1.0)
        n, d = X.shape
        M = eye_like(d, X, xp) + eta ** 2 * (X.T @ X)
        self.cM = cho_factor(M, xp)
        K = X @ cho_solve(self.cM, X.T, xp)
        S = 2.0 * K * (D @ D.T)
        S = add_diag(S, 1.0, xp)
        self.cS = cho_factor(S, xp, overwrite=True)

    def F(self, Uv, Uw):
        return rowdot(self.D, self.X @ (Uv - Uw), self.xp)

    def FT(self, r):
        a = self.X.T @ (self.D * r[:, None])
        return a, -a

    def G(self, Uv, Uw):
        return self.E * (self.X @ Uv), self.E * (self.X @ Uw)

    def GT(self, Sv, Sw):
        return self.X.T @ (self.E * Sv), self.X.T @ (self.E * Sw)

    def solve(self, bv, bw):
        xp = self.xp
        P = bv.shape[1]
        t = cho_solve(self.cM, hstack([bv, bw], xp), xp)
        tv, tw = t[:, :P], t[:, P:]
        q = cho_solve(self.cS, self.F(tv, tw), xp)
        g = cho_solve(self.cM, self.X.T @ (self.D * q[:, None]), xp)
        return tv - g, tw + g


def _group_shrink(U, thresh, xp=np):
    nrm = colnorm(U, xp)
    scale = xp.maximum(1.0 - thresh / xp.maximum(nrm, 1e-300), 0.0)
    return U * scale


_PARTS = ("z", "Vv", "Vw", "Sv", "Sw", "mu", "lv", "lw", "nv", "nw")


class _State:
    """Views into one flat vector ``(z, Vv, Vw, Sv, Sw, mu, lv, lw, nv, nw)`` (NumPy)."""

    def __init__(self, x, n, d, P):
        self.x = x
        sizes = [n, d * P, d * P, n * P, n * P]
        shapes = [(n,), (d, P), (d, P), (n, P), (n, P)]
        views, o = [], 0
        for size, shape in zip(sizes + sizes, shapes + shapes):
            views.append(x[o:o + size].reshape(shape))
            o += size
        (self.z, self.Vv, self.Vw, self.Sv, self.Sw,
         self.mu, self.lv, self.lw, self.nv, self.nw) = views
        self.half = o // 2

    def scale_duals(self, f):
        self.x[self.half:] *= f

    def flat(self):
        return self.x

    def set_flat(self, v):
        self.x[:] = v

    def assign(self, other):
        self.x[:] = other.x

    def finite(self):
        return np.isfinite(self.x).all()


class _StateXP:
    """The ADMM state as ten separate arrays (device path: no views, no in-place writes)."""

    def __init__(self, n, d, P, xp, like):
        self.xp, self.shapes = xp, [(n,), (d, P), (d, P), (n, P), (n, P)] * 2
        for name, shape in zip(_PARTS, self.shapes):
            setattr(self, name, xp.zeros(shape, dtype=like.dtype, device=like.device))

    def parts(self):
        return [getattr(self, name) for name in _PARTS]

    def scale_duals(self, f):
        for name in _PARTS[5:]:
            setattr(self, name, getattr(self, name) * f)

    def flat(self):
        return self.xp.concat([ravel(p, self.xp) for p in self.parts()])

    def set_flat(self, v):
        o = 0
        for name, shape in zip(_PARTS, self.shapes):
            size = math.prod(shape)
            setattr(self, name, self.xp.reshape(v[o:o + size], shape))
            o += size

    def assign(self, other):
        for name in _PARTS:
            setattr(self, name, getattr(other, name))

    def finite(self):
        xp = self.xp
        return bool(xp.all(xp.stack([xp.all(xp.isfinite(p)) for p in self.parts()])))


def _admm_step(op, st, out, y, beta, rho, relax, loss):
    """One relaxed ADMM iteration from ``st`` into ``out``; returns (Fu, Uv, Uw, Gv, Gw)."""
    xp = op.xp
    a, b = op.FT(st.z - st.mu)
    c, e = op.GT(st.Sv - st.nv, st.Sw - st.nw)
    Uv, Uw = op.solve(a + st.Vv - st.lv + c, b + st.Vw - st.lw + e)
    Fu = op.F(Uv, Uw)
    Gv, Gw = op.G(Uv, Uw)
    hF = relax * Fu + (1.0 - relax) * st.z
    hUv = relax * Uv + (1.0 - relax) * st.Vv
    hUw = relax * Uw + (1.0 - relax) * st.Vw
    hGv = relax * Gv + (1.0 - relax) * st.Sv
    hGw = relax * Gw + (1.0 - relax) * st.Sw
    thr = beta / rho
    if xp is np:
        out.z[:] = _prox_loss(hF + st.mu, y, rho, loss, st.z)
        out.Vv[:] = _group_shrink(hUv + st.lv, thr)
        out.Vw[:] = _group_shrink(hUw + st.lw, thr)
        np.maximum(hGv + st.nv, 0.0, out=out.Sv)
        np.maximum(hGw + st.nw, 0.0, out=out.Sw)
        out.mu[:] = st.mu + hF - out.z
        out.lv[:] = st.lv + hUv - out.Vv
        out.lw[:] = st.lw + hUw - out.Vw
        out.nv[:] = st.nv + hGv - out.Sv
        out.nw[:] = st.nw + hGw - out.Sw
        return Fu, Uv, Uw, Gv, Gw
    out.z = _prox_loss(hF + st.mu, y, rho, loss, st.z, xp)
    out.Vv = _group_shrink(hUv + st.lv, thr, xp)
    out.Vw = _group_shrink(hUw + st.lw, thr, xp)
    out.Sv = xp.maximum(hGv + st.nv, 0.0)
    out.Sw = xp.maximum(hGw + st.nw, 0.0)
    out.mu = st.mu + hF - out.z
    out.lv = st.lv + hUv - out.Vv
    out.lw = st.lw + hUw - out.Vw
    out.nv = st.nv + hGv - out.Sv
    out.nw = st.nw + hGw - out.Sw
    return Fu, Uv, Uw, Gv, Gw


@with_blas_threads(1)
def admm_solve(X, y, D, beta, loss="squared", *, rho=1.0, relax=1.6, tol=1e-6, maxiter=10000,
               adapt_rho=True, check_every=5, adapt_every=10, adapt_threshold=1.5,
               eta=1.0, anderson=0, max_rho_updates=20, polish=True, polish_every=1000,
               callback=None, objective=None):
    """Run ADMM on the convex ReLU program with fixed patterns ``D``.

    Runs with one BLAS thread unless ``blas_threads=`` says otherwise (the
    loop makes many small triangular solves and thin products, for which
    BLAS threading costs far more than it saves: 70x on a 2-core machine;
    ``None`` leaves the pool alone).

    ``X`` is used as given (the caller appends the bias column). ``anderson``
    is the memory of type-II Anderson acceleration of the ADMM fixed-point map
    (0 disables it), safeguarded: a step whose fixed-point residual grows is
    replaced by the plain ADMM step and the memory is cleared. ``rho`` is
    rebalanced (``rho *= sqrt(r_pri / r_dual)``, clipped to [0.1, 10]) every
    ``adapt_every`` iterations when that factor exceeds ``adapt_threshold``, at
    most ``max_rho_updates`` times, so the iteration ends as a fixed-``rho``
    ADMM and keeps its convergence guarantee. Returns an
    :class:`OptimizeResult` with ``V``, ``W`` (the group-sparse ``v`` iterate),
    ``nit``, ``rho``, ``primal_residual``, ``dual_residual``.
    ``objective(V, W)``, when given, is evaluated for the callback's ``fun``.

    ``polish`` (default True; squared and bce losses): every ``polish_every``
    iterations and when ``maxiter`` ends the run, ADMM's active set (its nonzero
    neurons, the cone rows its projected slack holds at zero) is handed to a
    host-side polishing step (:mod:`numopt.convex_nn._polish`): Newton on the
    smooth program of that active set with a primal active-set correction, then
    multipliers by NNLS and a weak-duality lower bound. The polished point is
    returned, with status 0 and a message saying so, only when it is feasible
    and its objective is within ``tol`` (relative) of that certified bound
    (result fields ``polished``, ``gap``, ``lower_bound``, ``kkt_residual``);
    otherwise the iteration goes on and ADMM's own iterate and status stand.
    The hinge loss is not polished (not smooth on its active set), nor are
    problems whose reduced Newton matrix would be too costly (more than 4000
    active weights ``K``, or ``n K²`` above 2e9).
    ``polish=False`` runs the raw ADMM. On the device path the polishing step
    copies the data and state to the host and the polished weights back.

    Array namespaces: ``X, y, D`` of one non-NumPy namespace run the same
    iteration there, on their device (Cholesky factors of the namespace, the
    state as separate arrays, one host synchronisation per residual check).
    """
    cb = make_callback(callback)
    if not (isinstance(polish_every, (int, np.integer)) and polish_every >= 1):
        raise ValueError(f"`polish_every` must be an integer >= 1, got {polish_every!r}")
    polish = polish and loss in POLISH_LOSSES and beta > 0
    xp = get_namespace(X, y, D)
    n, d = X.shape
    P = D.shape[1]
    op = _Operators(X, D, eta, xp)
    N = 2 * (n + 2 * d * P + 2 * n * P)
    if xp is np:
        st = _State(np.zeros(N), n, d, P)
        nxt = _State(np.zeros(N), n, d, P)
    else:
        st, nxt = _StateXP(n, d, P, xp, X), _StateXP(n, d, P, xp, X)
    m_con = n + 2 * d * P + 2 * n * P
    n_var = 2 * d * P
    status = MAXITER
    r_pri = r_dual = np.inf
    dX, dG = [], []
    x_prev = g_prev = None
    plain_next = None      # T(x) of the last accepted base point (safeguard fallback)
    g_norm_base = np.inf
    aa_taken = False
    n_aa = 0
    n_rho = 0
    k = 0
    pol, polished_at, next_polish = None, 0, polish_every
    for k in range(1, maxiter + 1):
        Fu, Uv, Uw, Gv, Gw = _admm_step(op, st, nxt, y, beta, rho, relax, loss)
        if anderson:
            g = nxt.flat() - st.flat()
            g_norm = float(np.linalg.norm(g)) if xp is np else float(xp.linalg.vector_norm(g))
        if aa_taken and not g_norm <= 2.0 * g_norm_base:
            # safeguard: the extrapolated point is worse; fall back to the plain step
            st.set_flat(plain_next)
            dX, dG, x_prev, g_prev, aa_taken = [], [], None, None, False
            continue
        z_old, Vv_old, Vw_old, Sv_old, Sw_old = st.z, st.Vv, st.Vw, st.Sv, st.Sw
        last = k == maxiter
        check = k % check_every == 0 or last
        if check and xp is np:
            z_old, Vv_old, Vw_old = st.z.copy(), st.Vv.copy(), st.Vw.copy()
            Sv_old, Sw_old = st.Sv.copy(), st.Sw.copy()
        if anderson:
            if x_prev is not None:
                dX.append(st.flat() - x_prev)
                dG.append(g - g_prev)
                if len(dX) > anderson:
                    dX.pop(0)
                    dG.pop(0)
            x_prev, g_prev = copy(st.flat(), xp), g
        plain_next = copy(nxt.flat(), xp) if anderson else None
        if anderson and dX:
            Gm = xp.stack(dG, axis=1)
            Xm = xp.stack(dX, axis=1)
            H = Gm.T @ Gm
            if xp is np:
                H[np.diag_indices_from(H)] += 1e-10 * np.trace(H) + 1e-300
                gam = np.linalg.solve(H, Gm.T @ g)
            else:
                H = add_diag(H, 1e-10 * float(xp.linalg.trace(H)) + 1e-300, xp)
                gam = xp.linalg.solve(H, (Gm.T @ g)[:, None])[:, 0]
            st.set_flat(nxt.flat() - (Xm + Gm) @ gam)
            g_norm_base = g_norm
            aa_taken = True
            n_aa += 1
        else:
            st.assign(nxt)
            aa_taken = False
        if not check:
            continue
        # residuals of the plain step (nxt holds T(x))
        Vv, Vw = nxt.Vv, nxt.Vw
        if not nxt.finite():
            status = NAN_ENCOUNTERED
            break
        r_pri, r_dual, eps_pri, eps_dual = _residuals(
            op, nxt, (Fu, Uv, Uw, Gv, Gw), (z_old, Vv_old, Vw_old, Sv_old, Sw_old), rho, tol,
            m_con, n_var, xp)
        fun = objective(Vv, Vw) if objective is not None else None
        if cb(hstack([ravel(Vv, xp), ravel(Vw, xp)], xp), fun=fun, nit=k, rho=rho,
              primal_residual=r_pri, dual_residual=r_dual):
            status = CALLBACK_STOP
            break
        if r_pri <= eps_pri and r_dual <= eps_dual:
            status = SUCCESS
            break
        if polish and (k >= next_polish or (last and k > polished_at)):
            polished_at, next_polish = k, k + polish_every
            pol = _try_polish(X, y, D, beta, loss, nxt, rho, eta, tol, xp)
            if pol is not None:
                status = SUCCESS
                break
        if adapt_rho and k % adapt_every == 0 and n_rho < max_rho_updates:
            tau = float(np.clip(np.sqrt(r_pri / max(r_dual, 1e-300)), 0.1, 10.0))
            if tau > adapt_threshold or tau < 1.0 / adapt_threshold:
                rho *= tau
                n_rho += 1
                st.scale_duals(1.0 / tau)
                nxt.scale_duals(1.0 / tau)
                dX, dG, x_prev, g_prev, aa_taken = [], [], None, None, False
    return _admm_result(status, k, nxt, pol, polished_at, rho, r_pri, r_dual, tol, n_aa, xp)


def _residuals(op, nxt, images, old, rho, tol, m_con, n_var, xp):
    """Primal and dual residuals of the plain step (``nxt`` holds ``T(x)``; ``images`` the
    operator images ``F u, u_v, u_w, G v, G w``; ``old`` the previous ``z, V, S``) and
    their thresholds ``eps_pri``, ``eps_dual`` (Boyd et al. 2011, sec. 3.3.1)."""
    Fu, Uv, Uw, Gv, Gw = images
    z_old, Vv_old, Vw_old, Sv_old, Sw_old = old
    z, Vv, Vw, Sv, Sw = nxt.z, nxt.Vv, nxt.Vw, nxt.Sv, nxt.Sw
    r_pri = math.sqrt(float(xp.sum((Fu - z) ** 2) + xp.sum((Uv - Vv) ** 2)
                            + xp.sum((Uw - Vw) ** 2) + xp.sum((Gv - Sv) ** 2)
                            + xp.sum((Gw - Sw) ** 2)))
    a, b = op.FT(z - z_old)
    c, e = op.GT(Sv - Sv_old, Sw - Sw_old)
    r_dual = rho * math.sqrt(float(xp.sum((a + Vv - Vv_old + c) ** 2)
                                   + xp.sum((b + Vw - Vw_old + e) ** 2)))
    nrm_a = math.sqrt(float(Fu @ Fu + xp.sum(Uv ** 2) + xp.sum(Uw ** 2) + xp.sum(Gv ** 2)
                            + xp.sum(Gw ** 2)))
    nrm_b = math.sqrt(float(z @ z + xp.sum(Vv ** 2) + xp.sum(Vw ** 2) + xp.sum(Sv ** 2)
                            + xp.sum(Sw ** 2)))
    a, b = op.FT(nxt.mu)
    c, e = op.GT(nxt.nv, nxt.nw)
    # F^T y_z + y_v + G^T y_s -> 0 at a solution (u carries no objective), so the
    # dual scale is the size of its three terms
    nrm_y = rho * max(math.sqrt(float(2.0 * xp.sum(a ** 2))),
                      math.sqrt(float(xp.sum(nxt.lv ** 2) + xp.sum(nxt.lw ** 2))),
                      math.sqrt(float(xp.sum(c ** 2) + xp.sum(e ** 2))))
    eps_pri = np.sqrt(m_con) * tol * 1e-2 + tol * max(nrm_a, nrm_b)
    eps_dual = np.sqrt(n_var) * tol * 1e-2 + tol * nrm_y
    return r_pri, r_dual, eps_pri, eps_dual


def _admm_result(status, k, nxt, pol, polished_at, rho, r_pri, r_dual, tol, n_aa, xp):
    """The :class:`OptimizeResult` of :func:`admm_solve`: the polished weights when
    polishing certified a point, ADMM's iterate otherwise."""
    detail = None
    if status == MAXITER:
        detail = (f"ADMM residuals (primal {r_pri:.2e}, dual {r_dual:.2e}) above tol={tol:g} "
                  f"after {k} iterations" + ("; polishing did not certify a point."
                                             if polished_at else "."))
    if pol is not None:
        V, W = pol["V"], pol["W"]
        detail = (f"polished on ADMM's active set after {k} iterations: certified relative "
                  f"duality gap {pol['gap']:.1e} <= tol={tol:g}.")
    else:
        V, W = copy(nxt.Vv, xp), copy(nxt.Vw, xp)
    x = hstack([ravel(V, xp), ravel(W, xp)], xp)
    extra = {} if pol is None else {"gap": pol["gap"], "lower_bound": pol["lower_bound"],
                                     "kkt_residual": pol["kkt"]}
    return make_result(x, status, detail=detail, nit=k, V=V, W=W, rho=rho,
                       primal_residual=float(r_pri), dual_residual=float(r_dual),
                       anderson_steps=n_aa, polished=pol is not None, **extra)


def _try_polish(X, y, D, beta, loss, st, rho, eta, tol, xp):
    """:func:`polish` on ADMM's state ``st`` (host step); ``None`` or the polished point.

    The cone multipliers are ``lambda = −eta rho nu`` (``nu`` the scaled dual of
    ``G u = s``). On the device path the data and state are copied to the host
    and the polished weights back.
    """
    lam = hstack([st.nv, st.nw], xp) * (-eta * rho)
    if xp is np:
        return _polish_host(X, y, D, beta, loss, st.Vv, st.Vw, lam, tol)
    h = [to_host(a) for a in (X, y, D, st.Vv, st.Vw, lam)]
    pol = _polish_host(*h[:3], beta, loss, *h[3:], tol)
    if pol is not None:
        dev, dtype = X.device, X.dtype
        pol["V"], pol["W"] = (from_host(pol[k], xp, dev, dtype=dtype) for k in ("V", "W"))
    return pol
