"""Exact augmented Lagrangian Newton method with randomized iterative sketching.

Hong, Na, Mahoney and Kolar, "Constrained Optimization via Exact Augmented
Lagrangian and Randomized Iterative Sketching", ICML 2023 (AdaSketch-Newton).

For ``min f(x)`` s.t. ``c(x) = 0`` each iteration

1. forms the Newton-KKT system ``[[B, Jᵀ], [J, 0]] (Δx; Δλ) = -(∇ₓL; c)``,
   ``B = ∇²ₓL + tI`` (``t`` makes the reduced Hessian positive definite);
2. solves it inexactly with a randomized sketch-and-project solver
   (:mod:`numopt.linalg`), warm-started, to the relative residual
   ``θ_k = min(θ, ‖∇L‖^{1/2})`` (the superlinear schedule ``θ_k -> 0``);
3. checks that the inexact direction is a descent direction of the exact
   augmented Lagrangian
   ``L_η = f + λᵀc + η₁/2 ‖c‖² + η₂/2 ‖∇ₓL‖²``:
   ``∇L_ηᵀΔ <= -η₂/2 ‖∇L‖²``. If not, the penalties are updated as in the
   authors' code (``η₁ <- ν²η₁``, ``η₂ <- η₂/ν``) and the sketch continues
   with ``θ_k <- θ_k/10``;
4. takes an Armijo backtracking step on ``L_η`` in ``(x, λ)`` jointly.

The merit gradient uses the Hessian of the Lagrangian,
``∇ₓL_η = ∇ₓL + η₁Jᵀc + η₂ ∇²ₓL ∇ₓL`` (the authors' code uses ``∇²f``, which is
right only for linear constraints).
"""
import numpy as np
import scipy.linalg
import scipy.sparse
import scipy.sparse.linalg as spla
from scipy.optimize import BFGS, SR1

from .._options import check_unknown_options as _check_unknown_options
from .._threads import with_blas_threads
from .._result import (CALLBACK_STOP, MAXITER, NAN_ENCOUNTERED, PRECISION_LOSS, SUCCESS,
                       is_finite, make_result)
from .._validation import check_array, check_choice, check_rng, check_scalar
from ..linalg._sketching import randomized_kaczmarz, sketch_and_project
from ._constraints import EqualityConstraints

__all__ = ["_minimize_sketch_alm"]

_SOLVERS = ("gaussian", "countsketch", "kaczmarz", "direct")
_DENSE_FD_MAX = 200  # form finite-difference Hessians densely up to this n
_DENSE_CHECK_MAX = 500  # reduced-Hessian / rank checks on dense matrices up to this size


def _finite_matrix(A):
    if A is None or isinstance(A, spla.LinearOperator):
        return True
    if scipy.sparse.issparse(A):
        return bool(np.all(np.isfinite(A.data)))
    return bool(np.all(np.isfinite(A)))


def _add(A, B):
    """A + B for dense arrays, sparse matrices and LinearOperators (None = 0)."""
    if A is None:
        return B
    if B is None:
        return A
    if isinstance(A, spla.LinearOperator) or isinstance(B, spla.LinearOperator):
        return spla.aslinearoperator(A) + spla.aslinearoperator(B)
    if scipy.sparse.issparse(A) and scipy.sparse.issparse(B):
        return (A + B).tocsr()
    if scipy.sparse.issparse(A):
        A = A.toarray()
    if scipy.sparse.issparse(B):
        B = B.toarray()
    return np.asarray(A) + np.asarray(B)


def _matvec(A, v):
    if isinstance(A, spla.LinearOperator):
        return np.asarray(A.matvec(v), dtype=float).reshape(-1)
    return np.asarray(A @ v, dtype=float).reshape(-1)


def _rmatvec(J, v):
    return np.asarray(J.T @ v, dtype=float).reshape(-1)


class _KKT:
    """The (possibly regularized) KKT matrix [[H + tI, Jᵀ], [J, -μI]]."""

    def __init__(self, H, J, t, mu):
        n = J.shape[1]
        m = J.shape[0]
        self.n, self.m = n, m
        if isinstance(H, spla.LinearOperator):
            Jm = J

            def mv(z):
                z = np.ravel(z)
                u, w = z[:n], z[n:]
                top = np.ravel(H.matvec(u)) + t * u + _rmatvec(Jm, w)
                bot = np.asarray(Jm @ u, dtype=float).reshape(-1) - mu * w
                return np.concatenate([top, bot])

            self.K = spla.LinearOperator((n + m, n + m), matvec=mv, rmatvec=mv,
                                         dtype=float)
            self.kind = "operator"
        elif scipy.sparse.issparse(H) or scipy.sparse.issparse(J):
            Hs = scipy.sparse.csr_matrix(H) + t * scipy.sparse.identity(n, format="csr")
            Js = scipy.sparse.csr_matrix(J)
            C = -mu * scipy.sparse.identity(m, format="csr") if mu > 0 else None
            self.K = scipy.sparse.bmat([[Hs, Js.T], [Js, C]], format="csr")
            self.kind = "sparse"
        else:
            K = np.zeros((n + m, n + m))
            K[:n, :n] = H
            K[:n, :n] += t * np.eye(n)
            K[:n, n:] = J.T
            K[n:, :n] = J
            K[n:, n:] -= mu * np.eye(m)
            self.K = K
            self.kind = "dense"
        self._lu = None

    def direct(self, rhs):
        if self.kind == "operator":
            raise ValueError("solver='direct' needs the Hessian as a matrix (`hess`); with "
                             "`hessp` only use solver='gaussian' or 'countsketch'")
        if self.kind == "dense":
            try:
                return scipy.linalg.solve(self.K, rhs, assume_a="sym", check_finite=False)
            except (np.linalg.LinAlgError, scipy.linalg.LinAlgWarning):
                return scipy.linalg.lstsq(self.K, rhs, check_finite=False)[0]
        if self._lu is None:
            self._lu = spla.splu(self.K.tocsc())
        return self._lu.solve(rhs)

    def residual(self, z, rhs):
        return float(np.linalg.norm(rhs - _matvec(self.K, z)))


@with_blas_threads(1)
def _minimize_sketch_alm(problem, x0, callback=None, rng=None, gtol=1e-8, maxiter=500,
                         solver="gaussian", block_size=None, theta=1e-2,
                         max_block_size=1024,
                         sketch_maxiter=None, eta1=1.0, eta2=0.1, nu=1.5, beta=0.1,
                         xi_B=0.1, max_backtracks=40, hess_update=None, lambda0=None,
                         rank_tol=1e-10, rank_patience=5, disp=False, **unknown_options):
    """Exact augmented Lagrangian Newton method with randomized sketching.

    Hong, Na, Mahoney and Kolar (ICML 2023). Solves ``min f(x)`` subject to
    equality constraints ``c(x) = 0``: Newton-KKT systems are solved
    inexactly by randomized sketch-and-project, the accuracy and the
    penalties adapt so the step is a descent direction of the exact
    augmented Lagrangian, and an Armijo search on that merit function
    globalizes the method. ``constraints`` may be dicts
    ``{'type': 'eq', 'fun', 'jac', 'hess'}`` (``hess(x, v)`` is the Hessian of
    ``vᵀc``), :class:`~scipy.optimize.NonlinearConstraint` or
    :class:`~scipy.optimize.LinearConstraint` with ``lb == ub``. Missing
    constraint Jacobians use finite differences; a missing Hessian uses
    finite differences of the Lagrangian gradient or, with ``hess_update``,
    a quasi-Newton approximation.

    The result has ``x``, ``fun``, ``v`` (multipliers per constraint, SciPy
    ``trust-constr`` sign: ``∇f + Jᵀv = 0``), ``multipliers`` (stacked),
    ``kkt_residual = max(‖∇ₓL‖∞, ‖c‖∞)``, ``optimality``,
    ``constr_violation``, ``nit``, ``sketch_steps`` (total sketch steps),
    ``eta1``, ``eta2`` and ``history`` (per iteration: KKT residual,
    penalties, step size, sketch steps).

    Options
    -------
    gtol : float
        Stop when the KKT residual ``max(‖∇f + Jᵀλ‖∞, ‖c‖∞) <= gtol``
        (default 1e-8; ``tol`` sets it).
    maxiter : int
        Maximum number of Newton iterations (default 500).
    solver : {'gaussian', 'countsketch', 'kaczmarz', 'direct'}
        KKT solver: Gaussian or count-sketch block sketch-and-project
        (matrix-free with ``hessp``), randomized Kaczmarz with row-norm
        sampling (needs the matrix), or a direct solve (dense LAPACK or
        SciPy's sparse LU) for comparison. Default ``'gaussian'``.
    block_size : int, optional
        Sketch size ``k`` for the block solvers (default
        ``max(2, ⌈(n + m)/2⌉)`` up to ``n + m = 50``, then ``⌈√(n+m)⌉ + 24``).
    theta : float
        Largest relative KKT residual ``θ`` of the inexact solve (default
        1e-2); iteration ``k`` solves to ``‖r‖ <= θ_k ‖∇L‖`` with
        ``θ_k = min(θ, ‖∇L‖)`` (locally quadratic convergence).
    sketch_maxiter : int, optional
        Sketch steps allowed per solve before the block size doubles
        (default ``max(20, 2 (n + m))``). The larger block persists for
        the following iterations.
    max_block_size : int
        Largest block size the doubling may reach (default 1024; a block
        of ``n + m`` rows is an exact projection, i.e. a direct solve).
    eta1, eta2 : float
        Initial penalties of the merit function (defaults 1 and 0.1).
    nu : float
        Penalty update factor (default 1.5).
    beta : float
        Armijo constant (default 0.1).
    xi_B : float
        Smallest eigenvalue enforced on the reduced Hessian (default 0.1).
    max_backtracks : int
        Step halvings before reporting a line-search failure (default 40).
    hess_update : {None, 'bfgs', 'sr1'}
        Approximate the Hessian of the Lagrangian by a quasi-Newton update
        (SciPy's ``BFGS``/``SR1``) instead of exact or finite-difference
        second derivatives. Also selected by giving a constraint
        ``hess=BFGS()`` or ``SR1()``.
    lambda0 : array_like or 'lstsq', optional
        Initial multipliers: zeros (default, as in the authors' code), an
        array, or ``'lstsq'`` for the least-squares estimate
        ``argmin ‖∇f + Jᵀλ‖`` (fewer iterations on a few problems, far more
        on others, e.g. HS6 and HS27).
    rank_tol : float
        The constraint Jacobian counts as rank deficient when
        ``σ_min(J)² <= rank_tol · max(1, σ_max(J)²)`` (default 1e-10); the
        KKT system is then regularized. After ``rank_patience`` (default 5)
        consecutive rank-deficient iterations the method stops with status 2.
    disp : bool
        Print a line per iteration.
    blas_threads : int or None
        BLAS threads inside the solve (default 1: the iteration makes many
        small dense solves, for which BLAS threading costs more than it
        saves — 3-6x slower with two threads on a 2-core machine); ``None``
        leaves the BLAS pool alone. Needs ``threadpoolctl`` (else ignored).
    """
    _check_unknown_options(unknown_options, "sketch-alm")
    gtol = check_scalar(gtol, "gtol", lower=0)
    maxiter = check_scalar(maxiter, "maxiter", lower=0, integer=True)
    solver = check_choice(solver, "solver", _SOLVERS)
    theta = check_scalar(theta, "theta", lower=0, upper=1, lower_inclusive=False,
                         upper_inclusive=False)
    eta1 = check_scalar(eta1, "eta1", lower=0, lower_inclusive=False)
    eta2 = check_scalar(eta2, "eta2", lower=0, lower_inclusive=False)
    nu = check_scalar(nu, "nu", lower=1, lower_inclusive=False)
    beta = check_scalar(beta, "beta", lower=0, upper=0.5, lower_inclusive=False,
                        upper_inclusive=False)
    xi_B = check_scalar(xi_B, "xi_B", lower=0, lower_inclusive=False)
    max_backtracks = check_scalar(max_backtracks, "max_backtracks", lower=1, integer=True)
    rank_tol = check_scalar(rank_tol, "rank_tol", lower=0)
    rank_patience = check_scalar(rank_patience, "rank_patience", lower=1, integer=True)
    if hess_update is not None:
        hess_update = check_choice(hess_update, "hess_update", ("bfgs", "sr1"))
    rng = check_rng(rng)

    x = np.asarray(x0, dtype=float).copy()
    n = x.size
    cons = EqualityConstraints(problem.constraints, x)
    m = cons.m
    N = n + m
    if block_size is None:
        block_size = max(2, -(-N // 2)) if N <= 50 else int(np.ceil(np.sqrt(N))) + 24
        block_size = min(block_size, N)
    else:
        block_size = check_scalar(block_size, "block_size", lower=1, upper=N, integer=True)
    max_block_size = check_scalar(max_block_size, "max_block_size", lower=1, integer=True)
    sketch_maxiter = max(20, 2 * N) if sketch_maxiter is None else check_scalar(
        sketch_maxiter, "sketch_maxiter", lower=1, integer=True)

    qn = None
    if hess_update is not None or cons.quasi_newton is not None:
        qn = cons.quasi_newton if hess_update is None else (
            BFGS() if hess_update == "bfgs" else SR1())
        qn.initialize(n, "hess")
    exact_f = problem.has_hess or problem.has_hessp

    # -- evaluations ---------------------------------------------------------------
    def evaluate(xk):
        fk, gk = problem.fun_and_grad(xk)
        ck = cons.value(xk)
        if not (is_finite(fk, gk, ck)):
            return fk, gk, ck, None
        Jk = cons.jacobian(xk, ck)
        return fk, gk, ck, Jk

    def cons_hessp(xk, Jk, lam, u):
        """(Σ λ_i ∇²c_i) u: exact or a difference of Jᵀλ."""
        if cons.has_hess:
            Hc = cons.hessian(xk, lam)
            return np.zeros(n) if Hc is None else _matvec(Hc, u)
        un = np.linalg.norm(u)
        if un == 0:
            return np.zeros(n)
        eps = np.sqrt(np.finfo(float).eps) * (1.0 + np.linalg.norm(xk)) / un
        xe = xk + eps * u
        J1 = cons.jacobian(xe, cons.value(xe))
        return (_rmatvec(J1, lam) - _rmatvec(Jk, lam)) / eps

    def lagrangian_hessian(xk, Jk, lam):
        """∇²ₓL as a dense/sparse matrix or a LinearOperator (None: use qn)."""
        if qn is not None:
            return np.asarray(qn.get_matrix(), dtype=float)
        if problem.has_hess:
            Hf = problem.hess(xk)
            if not (scipy.sparse.issparse(Hf) or isinstance(Hf, spla.LinearOperator)):
                Hf = np.asarray(Hf, dtype=float)
        elif n <= _DENSE_FD_MAX and not problem.has_hessp:
            Hf = np.column_stack([problem.hessp(xk, e) for e in np.eye(n)])
            Hf = 0.5 * (Hf + Hf.T)
        else:
            Hf = spla.LinearOperator((n, n), matvec=lambda v: problem.hessp(xk, v),
                                     rmatvec=lambda v: problem.hessp(xk, v), dtype=float)
        if cons.has_hess:
            Hc = cons.hessian(xk, lam)
        elif n <= _DENSE_FD_MAX:
            Hc = np.column_stack([cons_hessp(xk, Jk, lam, e) for e in np.eye(n)])
            Hc = 0.5 * (Hc + Hc.T)
        else:
            Hc = spla.LinearOperator((n, n), matvec=lambda v: cons_hessp(xk, Jk, lam, v),
                                     rmatvec=lambda v: cons_hessp(xk, Jk, lam, v),
                                     dtype=float)
        return _add(Hf, Hc)

    def merit(fk, ck, gLk, lam, e1, e2):
        return fk + lam @ ck + 0.5 * e1 * (ck @ ck) + 0.5 * e2 * (gLk @ gLk)

    def kkt_of(gLk, ck):
        return float(max(np.max(np.abs(gLk)), np.max(np.abs(ck))))

    # -- start -------------------------------------------------------------------------
    f, g, c, J = evaluate(x)
    nit = 0
    total_sketch = 0
    rank_count = 0
    history = {"kkt": [], "eta1": [], "eta2": [], "alpha": [], "sketch_steps": [],
               "merit": []}
    lam = np.zeros(m)
    gL = g
    last_rank = None
    k_cur = block_size
    n_block_growth = 0

    def finish(status, detail=None):
        kkt = kkt_of(gL, c) if is_finite(gL, c) else np.nan
        return make_result(
            x, status, detail=detail,
            warn=status in (MAXITER, PRECISION_LOSS, NAN_ENCOUNTERED),
            fun=f, jac=g, nit=nit, nfev=problem.nfev, njev=problem.njev, nhev=problem.nhev,
            ncev=cons.ncev, ncjev=cons.njev, nchev=cons.nhev, v=cons.split(lam),
            multipliers=lam.copy(), lagrangian_grad=gL, constr=c,
            kkt_residual=kkt, optimality=float(np.max(np.abs(gL))) if is_finite(gL)
            else np.nan, constr_violation=float(np.max(np.abs(c))) if is_finite(c)
            else np.nan, sketch_steps=int(total_sketch), eta1=eta1, eta2=eta2,
            solver=solver, block_size=k_cur, block_growths=n_block_growth,
            history=history, stacklevel=5)

    if J is None or not _finite_matrix(J):
        return finish(NAN_ENCOUNTERED, "f, its gradient, c or its Jacobian is not finite "
                      "at x0.")
    if lambda0 is None:
        lam = np.zeros(m)
    elif isinstance(lambda0, str):
        check_choice(lambda0, "lambda0", ("lstsq",))
        if scipy.sparse.issparse(J):
            lam = -spla.lsqr(J.T, g, atol=1e-12, btol=1e-12)[0]
        else:
            lam = -scipy.linalg.lstsq(J.T, g, check_finite=False)[0]
    else:
        lam = check_array(lambda0, "lambda0", ndim=1, shape=(m,), dtype=float, copy=True)
    gL = g + _rmatvec(J, lam)

    while True:
        kkt = kkt_of(gL, c)
        history["kkt"].append(kkt)
        if kkt <= gtol:
            return finish(SUCCESS)
        if nit >= maxiter:
            return finish(MAXITER)
        nit += 1

        # rank of J and regularization of the KKT system
        mu = 0.0
        dense_checks = (not scipy.sparse.issparse(J)) and max(n, m) <= _DENSE_CHECK_MAX
        if dense_checks:
            sv = scipy.linalg.svdvals(J, check_finite=False)
            smin2 = 0.0 if m > n else sv[-1] ** 2
            last_rank = (smin2, sv[0] ** 2)
            deficient = smin2 <= rank_tol * max(1.0, sv[0] ** 2)
        else:
            deficient = False
        if deficient:  # regularize: [[B, Jᵀ], [J, -μI]]
            rank_count += 1
            if rank_count >= rank_patience:
                return finish(PRECISION_LOSS, "The constraint Jacobian is rank deficient "
                              f"(σ_min(J)² = {last_rank[0]:.2e}) at {rank_count} "
                              "consecutive iterates: the constraints are degenerate "
                              "(LICQ fails) or inconsistent.")
            mu = max(min(1.0, float(np.max(np.abs(c)))), 1e-8)
        else:
            rank_count = 0

        H = lagrangian_hessian(x, J, lam)
        if scipy.sparse.issparse(H) and n <= _DENSE_FD_MAX and not scipy.sparse.issparse(J):
            H = H.toarray()  # small: dense checks below
        if isinstance(H, spla.LinearOperator) and n <= _DENSE_FD_MAX:
            # small problems: n products give the matrix and enable the reduced-Hessian
            # check below; larger ones stay matrix-free
            H = np.asarray(H.matmat(np.eye(n)), dtype=float)
            H = 0.5 * (H + H.T)
        if not _finite_matrix(H):
            return finish(NAN_ENCOUNTERED, "The Hessian of the Lagrangian is not finite.")
        t = 0.0
        if dense_checks and isinstance(H, np.ndarray) and n <= _DENSE_CHECK_MAX:
            if deficient:
                Z = np.eye(n)
            else:  # orthonormal null-space basis of J from a complete QR of Jᵀ
                Z = scipy.linalg.qr(J.T, mode="full", check_finite=False)[0][:, m:]
            if Z.shape[1] > 0:
                R = Z.T @ H @ Z
                R = 0.5 * (R + R.T)
                try:  # cheap test first: λ_min(ZᵀHZ) >= 1e-6 <=> Cholesky succeeds
                    scipy.linalg.cholesky(R - 1e-6 * np.eye(R.shape[0]), check_finite=False)
                except np.linalg.LinAlgError:
                    lmin = float(scipy.linalg.eigvalsh(R, subset_by_index=[0, 0],
                                                       check_finite=False)[0])
                    t = xi_B - min(lmin, 1e-6)
        # H ∇ₓL for the merit gradient (true Lagrangian Hessian, not B)
        if qn is None and (exact_f or n <= _DENSE_FD_MAX) and cons.has_hess:
            HgL = _matvec(H, gL)
        else:
            HgL = problem.hessp(x, gL) + cons_hessp(x, J, lam, gL)

        rhs = -np.concatenate([gL, c])
        rnorm0 = float(np.linalg.norm(rhs))
        theta_k = min(theta, rnorm0)
        kkt_sys = _KKT(H, J, t, mu)
        z = np.zeros(N)
        steps_it = 0
        descent = False
        exact_fail = 0
        for _attempt in range(60):
            target = theta_k * rnorm0
            if solver == "direct":
                z = kkt_sys.direct(rhs)
            else:
                if kkt_sys.residual(z, rhs) > target:
                    if solver == "kaczmarz":
                        if kkt_sys.kind == "operator":
                            raise ValueError("solver='kaczmarz' needs the Hessian as a "
                                             "matrix (`hess`); with `hessp` use 'gaussian' "
                                             "or 'countsketch'")
                        sol = randomized_kaczmarz(kkt_sys.K, rhs, z, tol=0.0, atol=target,
                                                  maxiter=500 * sketch_maxiter * N, rng=rng)
                    else:
                        sol = sketch_and_project(kkt_sys.K, rhs, z, sketch=solver,
                                                 block_size=k_cur, tol=0.0,
                                                 atol=target, maxiter=sketch_maxiter,
                                                 rng=rng)
                    z = sol.x
                    steps_it += sol.nit
                    if (not sol.success and np.all(np.isfinite(z)) and solver != "kaczmarz"
                            and k_cur < min(N, max_block_size)):
                        # the sketch stalled: enlarge the block (k = n + m is exact)
                        k_cur = min(N, max_block_size, 2 * k_cur)
                        n_block_growth += 1
                        continue
            if not np.all(np.isfinite(z)):
                return finish(NAN_ENCOUNTERED, "The KKT solve produced NaN or inf.")
            dx, dl = z[:n], z[n:]
            mgx = gL + eta1 * _rmatvec(J, c) + eta2 * HgL
            mgl = c + eta2 * _matvec(J, gL)
            dd = float(mgx @ dx + mgl @ dl)
            if dd <= -0.5 * eta2 * rnorm0 ** 2:
                descent = True
                break
            if eta1 > 1e8 or eta2 < 1e-8:
                # penalties at their limits (as in the authors' code): take any
                # descent direction
                descent = dd < 0
                break
            r_now = kkt_sys.residual(z, rhs)
            if r_now <= 1e-10 * rnorm0 or solver == "direct":
                exact_fail += 1
            if exact_fail >= 8:
                # the exact Newton step is not a descent direction: convexify B
                t = max(2.0 * t, xi_B, 1e-3 * (1.0 + abs(t)))
                kkt_sys = _KKT(H, J, t, mu)
                exact_fail = 0
            eta1 *= nu ** 2
            eta2 /= nu
            theta_k = max(theta_k / 10.0, 1e-14)
        total_sketch += steps_it
        if not descent:
            return finish(PRECISION_LOSS, "No descent direction for the augmented "
                          "Lagrangian was found (the KKT system may be singular).")

        # Armijo backtracking on L_eta in (x, λ)
        m0 = merit(f, c, gL, lam, eta1, eta2)
        alpha = 1.0
        accepted = False
        saw_nan = False
        for _ in range(max_backtracks):
            x_t = x + alpha * dx
            lam_t = lam + alpha * dl
            f_t, g_t, c_t, J_t = evaluate(x_t)
            if J_t is not None and _finite_matrix(J_t):
                gL_t = g_t + _rmatvec(J_t, lam_t)
                m_t = merit(f_t, c_t, gL_t, lam_t, eta1, eta2)
                if np.isfinite(m_t) and m_t <= m0 + beta * alpha * dd:
                    accepted = True
                    break
                if alpha == 1.0 and np.isfinite(m_t) and kkt_of(gL_t, c_t) <= 0.1 * kkt:
                    # near the solution the merit decrease drowns in rounding (it is
                    # O(‖∇L‖²) against |f|); a unit step that cuts the KKT residual
                    # tenfold is the locally quadratic Newton step: take it
                    accepted = True
                    break
            else:
                saw_nan = True
            alpha *= 0.5
        if not accepted:
            if saw_nan:
                return finish(NAN_ENCOUNTERED, "f or c returned NaN or inf along the "
                              "search direction.")
            detail = "The line search on the augmented Lagrangian failed."
            if rank_count:
                detail += (" The constraint Jacobian is rank deficient "
                           f"(σ_min(J)² = {last_rank[0]:.2e}).")
            return finish(PRECISION_LOSS, detail)
        if np.array_equal(x_t, x) and np.array_equal(lam_t, lam):
            return finish(PRECISION_LOSS, "The step is below rounding level; the KKT "
                          f"residual stagnates at {kkt:.2e}.")
        if qn is not None:
            y = (g_t + _rmatvec(J_t, lam_t)) - (g + _rmatvec(J, lam_t))
            qn.update(x_t - x, y)
        x, lam, f, g, c, J, gL = x_t, lam_t, f_t, g_t, c_t, J_t, gL_t
        history["eta1"].append(eta1)
        history["eta2"].append(eta2)
        history["alpha"].append(alpha)
        history["sketch_steps"].append(steps_it)
        history["merit"].append(m0)
        if disp:
            print(f"sketch-alm it {nit:4d}  f = {f: .10e}  kkt = {kkt_of(gL, c):.3e}  "
                  f"alpha = {alpha:.2e}  sketch = {steps_it:6d}  eta = ({eta1:.2e}, "
                  f"{eta2:.2e})")
        if callback(x, fun=f, nit=nit, kkt_residual=kkt_of(gL, c), multipliers=lam.copy()):
            return finish(CALLBACK_STOP)
