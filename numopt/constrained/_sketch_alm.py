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

For an ``x0`` of another namespace than NumPy (PyTorch, CuPy,
``array_api_strict``) the same iteration runs on ``x0``'s device (the
generic path, ``self.xp``): every matrix is dense there (the Lagrangian
Hessian is formed from ``n`` products when only ``hessp`` is given), the
rank test, null-space check and KKT solves use ``xp.linalg``, and
:class:`~numopt.constrained._kkt.KKTSystemXP` sketches on the device.
Sparse matrices, LinearOperators, quasi-Newton updates (SciPy's) and
Kaczmarz are host-only.
"""
import types

import numpy as np
import scipy.linalg
import scipy.sparse
import scipy.sparse.linalg as spla
from scipy.optimize import BFGS, SR1

from .._array_api import from_host, is_array, is_numpy
from .._objective import x0_namespace
from .._options import check_unknown_options
from .._threads import with_blas_threads
from .._result import (CALLBACK_STOP, MAXITER, NAN_ENCOUNTERED, PRECISION_LOSS, SUCCESS,
                       is_finite, make_result)
from .._validation import check_array, check_choice, check_rng, check_scalar
from .._findiff import fd_hessian
from ._constraints import EqualityConstraints
from ._kkt import (KKTSystem, KKTSystemXP, add, all_finite, amax, asum, finite_matrix,
                   matvec, norm, rmatvec, same)

__all__ = ["_minimize_sketch_alm"]

_SOLVERS = ("gaussian", "countsketch", "kaczmarz", "direct")
_DENSE_FD_MAX = 200  # form finite-difference Hessians densely up to this n
_DENSE_CHECK_MAX = 500  # reduced-Hessian / rank checks on dense matrices up to this size
_EPS = np.finfo(float).eps
#: relative error of a finite-difference first derivative (truncation and rounding
#: balanced): √ε for forward differences, ε^(2/3) for central ones; complex steps are
#: exact to rounding
_FD_REL = {"2-point": _EPS ** 0.5, "3-point": _EPS ** (2 / 3), "cs": 0.0, None: 0.0}
#: the stopping tolerance with finite-difference derivatives is this many noise levels
_FD_TOL_FACTOR = 10.0
#: ... and a line search that finds no decrease ends with success within this many
_FD_LS_FACTOR = 100.0


class _Stop(Exception):
    """A step ends the iteration with ``status`` (and a message ``detail``)."""

    def __init__(self, status, detail=None):
        super().__init__(detail)
        self.status, self.detail = status, detail


def _merit(f, c, gL, lam, eta1, eta2):
    """The exact augmented Lagrangian ``f + λᵀc + η₁/2 ‖c‖² + η₂/2 ‖∇ₓL‖²``."""
    if not isinstance(c, np.ndarray):  # generic path: one host synchronisation
        return float(f + lam @ c + 0.5 * eta1 * (c @ c) + 0.5 * eta2 * (gL @ gL))
    return f + lam @ c + 0.5 * eta1 * (c @ c) + 0.5 * eta2 * (gL @ gL)


def _kkt_residual(gL, c):
    if not isinstance(c, np.ndarray):
        return max(amax(gL), amax(c))
    return float(max(np.max(np.abs(gL)), np.max(np.abs(c))))


def _finite(*values):
    """:func:`numopt._result.is_finite` for arrays of any namespace."""
    return all(v is None or (all_finite(v) if hasattr(v, "shape") else np.isfinite(v))
               for v in values)


def _check_options(gtol, maxiter, solver, theta, eta1, eta2, nu, beta, xi_B, max_backtracks,
                   rank_tol, rank_patience, hess_update, disp):
    """The size-independent options, validated, as a namespace."""
    o = types.SimpleNamespace(disp=disp)
    o.gtol = check_scalar(gtol, "gtol", lower=0)
    o.maxiter = check_scalar(maxiter, "maxiter", lower=0, integer=True)
    o.solver = check_choice(solver, "solver", _SOLVERS)
    o.theta = check_scalar(theta, "theta", lower=0, upper=1, lower_inclusive=False,
                           upper_inclusive=False)
    o.eta1 = check_scalar(eta1, "eta1", lower=0, lower_inclusive=False)
    o.eta2 = check_scalar(eta2, "eta2", lower=0, lower_inclusive=False)
    o.nu = check_scalar(nu, "nu", lower=1, lower_inclusive=False)
    o.beta = check_scalar(beta, "beta", lower=0, upper=0.5, lower_inclusive=False,
                          upper_inclusive=False)
    o.xi_B = check_scalar(xi_B, "xi_B", lower=0, lower_inclusive=False)
    o.max_backtracks = check_scalar(max_backtracks, "max_backtracks", lower=1, integer=True)
    o.rank_tol = check_scalar(rank_tol, "rank_tol", lower=0)
    o.rank_patience = check_scalar(rank_patience, "rank_patience", lower=1, integer=True)
    o.hess_update = None if hess_update is None else check_choice(
        hess_update, "hess_update", ("bfgs", "sr1"))
    return o


def _check_sizes(o, N, block_size, max_block_size, sketch_maxiter):
    """The options whose defaults and bounds depend on ``N = n + m``."""
    if block_size is None:
        block_size = max(2, -(-N // 2)) if N <= 50 else int(np.ceil(np.sqrt(N))) + 24
        o.block_size = min(block_size, N)
    else:
        o.block_size = check_scalar(block_size, "block_size", lower=1, upper=N, integer=True)
    o.max_block_size = check_scalar(max_block_size, "max_block_size", lower=1, integer=True)
    o.sketch_maxiter = max(20, 2 * N) if sketch_maxiter is None else check_scalar(
        sketch_maxiter, "sketch_maxiter", lower=1, integer=True)


class _SketchALM:
    """State of one sketch-alm run and its named steps.

    The iterate ``(x, λ)`` with ``f``, ``g = ∇f``, ``c``, ``J`` and
    ``gL = ∇ₓL``, the penalties ``eta1``/``eta2``, the current sketch block
    size and the counters; the steps of an iteration are
    :meth:`regularization`, :meth:`hessian`, :meth:`direction`,
    :meth:`line_search` and :meth:`accept`. A step that ends the run raises
    :class:`_Stop`.
    """

    def __init__(self, problem, x0, constraints, o, rng):
        self.problem, self.o, self.rng = problem, o, rng
        xp, self.device = x0_namespace(x0)
        self.xp = None if is_numpy(xp) else xp  # the generic path's namespace, if any
        if self.xp is None:
            self.x = np.asarray(x0, dtype=float).copy()
        else:
            self.x = xp.astype(x0, xp.float64, copy=True)
            if o.hess_update is not None:
                raise TypeError("hess_update (SciPy's quasi-Newton updates) is host-only: "
                                "with a device `x0` give `hess`/`hessp` or leave them out")
            if o.solver == "kaczmarz":
                raise TypeError("solver='kaczmarz' (sequential row updates) is host-only: "
                                "with a device `x0` use solver='gaussian', 'countsketch' or "
                                "'direct'")
        self.n = n = self.x.shape[0]
        self.cons = cons = EqualityConstraints(constraints, self.x)
        self.m = cons.m
        self.N = n + cons.m
        # read at run time: tests lower them to exercise the matrix-free paths
        self.dense_fd_max, self.dense_check_max = _DENSE_FD_MAX, _DENSE_CHECK_MAX
        self.qn = None
        if o.hess_update is not None or cons.quasi_newton is not None:
            self.qn = cons.quasi_newton if o.hess_update is None else (
                BFGS() if o.hess_update == "bfgs" else SR1())
            self.qn.initialize(n, "hess")
        self.exact_f = problem.has_hess or problem.has_hessp
        # finite-difference first derivatives (objective / constraints): their relative
        # error sets the noise floor of the KKT residual and of the merit function
        self.fd_f = problem.fd_method in ("2-point", "3-point")
        self.fd_c = bool(cons.fd_methods & {"2-point", "3-point"})
        self.fd_rel = max([_FD_REL[getattr(problem, "fd_method", None)]]
                          + [_FD_REL[mth] for mth in cons.fd_methods])
        self.noise = 0.0
        self.prev_opt = np.inf  # ‖∇ₓL‖∞ at the previous iterate
        self.eta1, self.eta2 = o.eta1, o.eta2
        self.nit = 0
        self.total_sketch = 0
        self.rank_count = 0
        self.last_rank = None
        self.history = {"kkt": [], "eta1": [], "eta2": [], "alpha": [], "sketch_steps": [],
                        "merit": []}

    def _zeros(self, k):
        if self.xp is None:
            return np.zeros(k)
        return self.xp.zeros(k, dtype=self.xp.float64, device=self.device)

    def _eye(self, k):
        if self.xp is None:
            return np.eye(k)
        return self.xp.eye(k, dtype=self.xp.float64, device=self.device)

    def _concat(self, parts):
        return np.concatenate(parts) if self.xp is None else self.xp.concat(parts)

    def _columns(self, prod):
        """The (n, n) matrix whose column j is ``prod(e_j)``."""
        if self.xp is None:
            return np.column_stack([prod(e) for e in np.eye(self.n)])
        E = self._eye(self.n)
        return self.xp.stack([prod(E[j, :]) for j in range(self.n)], axis=1)

    # -- evaluations -------------------------------------------------------------------
    def noise_level(self, x, f, g, lam, J):
        """Error of ``∇ₓL`` from finite differences at an iterate (0 with exact derivatives).

        ``fd_rel · max(1, ‖x‖∞) · max(1, |f|, ‖∇f‖∞, ‖λ‖∞ max(1, ‖J‖∞))``: a forward
        difference with step ``h_j = √ε max(1, |x_j|)`` errs by ``h_j |∂²_jj f| / 2``
        (truncation) plus ``ε |f| / h_j`` (rounding), likewise for ``λᵀc``.
        """
        if self.fd_rel == 0.0:
            return 0.0
        Jn = 0.0
        if self.xp is not None:
            xp = self.xp
            if self.fd_c and lam.shape[0]:
                Jn = float(xp.max(xp.sum(xp.abs(J), axis=1)))
            scale = max(1.0, abs(f), amax(g), (amax(lam) if lam.shape[0] else 0.0)
                        * max(1.0, Jn))
            return self.fd_rel * max(1.0, amax(x)) * scale
        if self.fd_c and lam.size:
            Jn = float(abs(J).sum(axis=1).max()) if scipy.sparse.issparse(J) \
                else float(np.max(np.sum(np.abs(J), axis=1)))
        scale = max(1.0, abs(f), float(np.max(np.abs(g))),
                    float(np.max(np.abs(lam), initial=0.0)) * max(1.0, Jn))
        return self.fd_rel * max(1.0, float(np.max(np.abs(x)))) * scale

    def evaluate(self, xk):
        """``(f, ∇f, c, J)`` at ``xk``; ``J`` is None when f, ∇f or c is not finite."""
        fk, gk = self.problem.fun_and_grad(xk)
        ck = self.cons.value(xk)
        if not (is_finite(fk, gk, ck) if self.xp is None else _finite(fk, gk, ck)):
            return fk, gk, ck, None
        Jk = self.cons.jacobian(xk, ck)
        return fk, gk, ck, Jk

    def cons_hessp(self, xk, Jk, lam, u):
        """(Σ λ_i ∇²c_i) u: exact or a difference of Jᵀλ."""
        cons, n = self.cons, self.n
        if cons.has_hess:
            Hc = cons.hessian(xk, lam)
            return self._zeros(n) if Hc is None else matvec(Hc, u)
        un = np.linalg.norm(u) if self.xp is None else norm(u)
        if un == 0:
            return self._zeros(n)
        eps = np.sqrt(np.finfo(float).eps) * (1.0 + np.linalg.norm(xk)) / un \
            if self.xp is None else float(np.sqrt(_EPS)) * (1.0 + norm(xk)) / un
        xe = xk + eps * u
        J1 = cons.jacobian(xe, cons.value(xe))
        return (rmatvec(J1, lam) - rmatvec(Jk, lam)) / eps

    def lagrangian_hessian(self, xk, Jk, lam):
        """∇²ₓL as a dense/sparse matrix or a LinearOperator (quasi-Newton: its matrix)."""
        problem, cons, n = self.problem, self.cons, self.n
        if self.qn is not None:
            return np.asarray(self.qn.get_matrix(), dtype=float)
        dense_max = self.dense_fd_max if self.xp is None else n  # generic path: dense
        xp_mt = (lambda A: A.T) if self.xp is None else self.xp.matrix_transpose
        if problem.has_hess:
            Hf = problem.hess(xk)
            if self.xp is None and not (scipy.sparse.issparse(Hf)
                                        or isinstance(Hf, spla.LinearOperator)):
                Hf = np.asarray(Hf, dtype=float)
        elif self.fd_f and n <= self.dense_fd_max and not problem.has_hessp:
            # no derivatives at all: second differences of f (differences of
            # finite-difference gradients would be noise of size |f|)
            Hf = fd_hessian(problem.fun, xk, problem.fun(xk),
                            **({} if self.xp is None else {"xp": self.xp}))
        elif n <= self.dense_fd_max and not problem.has_hessp or self.xp is not None:
            Hf = self._columns(lambda e: problem.hessp(xk, e))
            Hf = 0.5 * (Hf + xp_mt(Hf))
        else:
            Hf = spla.LinearOperator((n, n), matvec=lambda v: problem.hessp(xk, v),
                                     rmatvec=lambda v: problem.hessp(xk, v), dtype=float)
        if cons.has_hess:
            Hc = cons.hessian(xk, lam)
        elif self.fd_c and n <= self.dense_fd_max:
            any_lam = np.any(lam) if self.xp is None else bool(self.xp.any(lam != 0))
            Hc = None if not any_lam else fd_hessian(
                lambda z: float(lam @ cons.value(z)), xk, float(lam @ cons.value(xk)),
                **({} if self.xp is None else {"xp": self.xp}))
        elif n <= dense_max:
            Hc = self._columns(lambda e: self.cons_hessp(xk, Jk, lam, e))
            Hc = 0.5 * (Hc + xp_mt(Hc))
        else:
            def hcv(v):
                return self.cons_hessp(xk, Jk, lam, v)
            Hc = spla.LinearOperator((n, n), matvec=hcv, rmatvec=hcv, dtype=float)
        return add(Hf, Hc)

    def result(self, status, detail=None, stacklevel=5):
        """The OptimizeResult of the run as it stands."""
        gL, c, lam, problem, cons = self.gL, self.c, self.lam, self.problem, self.cons
        if self.xp is not None:
            fin_gL, fin_c = _finite(gL), _finite(c)
            return make_result(
                self.x, status, detail=detail,
                warn=status in (MAXITER, PRECISION_LOSS, NAN_ENCOUNTERED),
                fun=self.f, jac=self.g, nit=self.nit, nfev=problem.nfev, njev=problem.njev,
                nhev=problem.nhev, ncev=cons.ncev, ncjev=cons.njev, nchev=cons.nhev,
                v=cons.split(lam), multipliers=self.xp.asarray(lam, copy=True),
                lagrangian_grad=gL, constr=c,
                kkt_residual=_kkt_residual(gL, c) if fin_gL and fin_c else np.nan,
                optimality=amax(gL) if fin_gL else np.nan,
                constr_violation=amax(c) if fin_c else np.nan,
                sketch_steps=int(self.total_sketch), eta1=self.eta1, eta2=self.eta2,
                solver=self.o.solver, block_size=self.k_cur, block_growths=self.n_block_growth,
                history=self.history, stacklevel=stacklevel)
        kkt = _kkt_residual(gL, c) if is_finite(gL, c) else np.nan
        return make_result(
            self.x, status, detail=detail,
            warn=status in (MAXITER, PRECISION_LOSS, NAN_ENCOUNTERED),
            fun=self.f, jac=self.g, nit=self.nit, nfev=problem.nfev, njev=problem.njev,
            nhev=problem.nhev, ncev=cons.ncev, ncjev=cons.njev, nchev=cons.nhev,
            v=cons.split(lam), multipliers=lam.copy(), lagrangian_grad=gL, constr=c,
            kkt_residual=kkt, optimality=float(np.max(np.abs(gL))) if is_finite(gL)
            else np.nan, constr_violation=float(np.max(np.abs(c))) if is_finite(c)
            else np.nan, sketch_steps=int(self.total_sketch), eta1=self.eta1,
            eta2=self.eta2, solver=self.o.solver, block_size=self.k_cur,
            block_growths=self.n_block_growth, history=self.history, stacklevel=stacklevel)

    # -- start ---------------------------------------------------------------------------
    def start(self, lambda0):
        """Evaluate at x0 and set the initial multipliers (zeros, given, or least squares)."""
        self.f, self.g, self.c, self.J = self.evaluate(self.x)
        self.lam = self._zeros(self.m)
        self.gL = self.g
        self.k_cur = self.o.block_size
        self.n_block_growth = 0
        J, g, m = self.J, self.g, self.m
        if J is None or not finite_matrix(J):
            raise _Stop(NAN_ENCOUNTERED, "f, its gradient, c or its Jacobian is not finite "
                        "at x0.")
        if lambda0 is None:
            self.lam = self._zeros(m)
        elif isinstance(lambda0, str):
            check_choice(lambda0, "lambda0", ("lstsq",))
            if self.xp is not None:
                xp = self.xp
                self.lam = -xp.matmul(xp.linalg.pinv(xp.matrix_transpose(J)), g)
            elif scipy.sparse.issparse(J):
                self.lam = -spla.lsqr(J.T, g, atol=1e-12, btol=1e-12)[0]
            else:
                self.lam = -scipy.linalg.lstsq(J.T, g, check_finite=False)[0]
        elif self.xp is not None:
            xp = self.xp
            if not is_array(lambda0):  # a list: host data, copied to the device explicitly
                lambda0 = from_host(np.asarray(lambda0, dtype=float), xp, self.device)
            self.lam = check_array(lambda0, "lambda0", ndim=1, shape=(m,), dtype=xp.float64,
                                   copy=True, xp=xp)
        else:
            self.lam = check_array(lambda0, "lambda0", ndim=1, shape=(m,), dtype=float,
                                   copy=True)
        self.gL = g + rmatvec(J, self.lam)

    # -- the steps of an iteration ---------------------------------------------------------
    def regularization(self):
        """Rank test of J: ``(dense_checks, deficient, μ)`` for ``[[B, Jᵀ], [J, -μI]]``."""
        J, n, m, o = self.J, self.n, self.m, self.o
        mu = 0.0
        dense_checks = (not scipy.sparse.issparse(J)) and max(n, m) <= self.dense_check_max
        if self.xp is not None:  # generic path: always dense, checks on the device
            dense_checks = True
            sv = self.xp.linalg.svdvals(J)
            sv = (float(sv[0]), float(sv[-1]))
            smin2 = 0.0 if m > n else sv[-1] ** 2
            self.last_rank = (smin2, sv[0] ** 2)
            deficient = smin2 <= o.rank_tol * max(1.0, sv[0] ** 2)
        elif dense_checks:
            sv = scipy.linalg.svdvals(J, check_finite=False)
            smin2 = 0.0 if m > n else sv[-1] ** 2
            self.last_rank = (smin2, sv[0] ** 2)
            deficient = smin2 <= o.rank_tol * max(1.0, sv[0] ** 2)
        else:
            deficient = False
        if deficient:  # regularize: [[B, Jᵀ], [J, -μI]]
            self.rank_count += 1
            if self.rank_count >= o.rank_patience:
                raise _Stop(PRECISION_LOSS, "The constraint Jacobian is rank deficient "
                            f"(σ_min(J)² = {self.last_rank[0]:.2e}) at {self.rank_count} "
                            "consecutive iterates: the constraints are degenerate "
                            "(LICQ fails) or inconsistent.")
            mu = max(min(1.0, amax(self.c)), 1e-8)
        else:
            self.rank_count = 0
        return dense_checks, deficient, mu

    def hessian(self, dense_checks, deficient):
        """``(H, t, H ∇ₓL)``: ∇²ₓL, the shift making ``Zᵀ(H + tI)Z`` positive definite, and
        the product the merit gradient needs (true Lagrangian Hessian, not B)."""
        x, J, lam, n, m, gL = self.x, self.J, self.lam, self.n, self.m, self.gL
        H = self.lagrangian_hessian(x, J, lam)
        if self.xp is not None:
            return self._hessian_xp(H, deficient)
        if scipy.sparse.issparse(H) and n <= self.dense_fd_max \
                and not scipy.sparse.issparse(J):
            H = H.toarray()  # small: dense checks below
        if isinstance(H, spla.LinearOperator) and n <= self.dense_fd_max:
            # small problems: n products give the matrix and enable the reduced-Hessian
            # check below; larger ones stay matrix-free
            H = np.asarray(H.matmat(np.eye(n)), dtype=float)
            H = 0.5 * (H + H.T)
        if not finite_matrix(H):
            raise _Stop(NAN_ENCOUNTERED, "The Hessian of the Lagrangian is not finite.")
        t = 0.0
        if dense_checks and isinstance(H, np.ndarray) and n <= self.dense_check_max:
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
                    t = self.o.xi_B - min(lmin, 1e-6)
        if self.qn is None and ((self.exact_f or n <= self.dense_fd_max) and self.cons.has_hess
                                or (self.fd_rel > 0 and isinstance(H, np.ndarray))):
            # (finite-difference gradients: a product by differences of them is noise)
            HgL = matvec(H, gL)
        else:
            HgL = self.problem.hessp(x, gL) + self.cons_hessp(x, J, lam, gL)
        return H, t, HgL

    def _hessian_xp(self, H, deficient):
        """:meth:`hessian` on the generic path (dense ``H`` of ``xp``, checks on the device)."""
        xp, x, J, lam, n, m, gL = self.xp, self.x, self.J, self.lam, self.n, self.m, self.gL
        if not finite_matrix(H):
            raise _Stop(NAN_ENCOUNTERED, "The Hessian of the Lagrangian is not finite.")
        t = 0.0
        if n <= self.dense_check_max:
            Z = self._eye(n) if deficient else xp.linalg.qr(
                xp.matrix_transpose(J), mode="complete")[0][:, m:]
            if Z.shape[1] > 0:
                R = xp.matmul(xp.matrix_transpose(Z), xp.matmul(H, Z))
                R = 0.5 * (R + xp.matrix_transpose(R))
                # λ_min(ZᵀHZ) directly (the NumPy path first tries a Cholesky of
                # ZᵀHZ - 1e-6 I; a failed factorization is not reported alike everywhere)
                lmin = float(xp.linalg.eigvalsh(R)[0])
                if lmin < 1e-6:
                    t = self.o.xi_B - lmin
        if self.qn is None and (self.exact_f or n <= self.dense_fd_max) and self.cons.has_hess \
                or self.fd_rel > 0:
            HgL = matvec(H, gL)
        else:
            HgL = self.problem.hessp(x, gL) + self.cons_hessp(x, J, lam, gL)
        return H, t, HgL

    def _solve(self, kkt_sys, rhs, z, target):
        """One inexact KKT solve from ``z``; the sketch steps it took."""
        o = self.o
        if o.solver == "direct":
            return kkt_sys.direct(rhs), 0, False
        if kkt_sys.residual(z, rhs) <= target:
            return z, 0, False
        sol = kkt_sys.sketch(rhs, z, target, o.solver, self.k_cur, o.sketch_maxiter, self.rng)
        z = sol.x
        if (not sol.success and all_finite(z) and o.solver != "kaczmarz"
                and self.k_cur < min(self.N, o.max_block_size)):
            # the sketch stalled: enlarge the block (k = n + m is exact)
            self.k_cur = min(self.N, o.max_block_size, 2 * self.k_cur)
            self.n_block_growth += 1
            return z, sol.nit, True
        return z, sol.nit, False

    def direction(self, H, t, mu, HgL):
        """``(Δx, Δλ, ∇L_ηᵀΔ, sketch steps)``: an inexact Newton-KKT step that descends
        on the merit function, tightening θ_k and the penalties until it does."""
        o, n, J, gL, c = self.o, self.n, self.J, self.gL, self.c
        rhs = -self._concat([gL, c])
        rnorm0 = norm(rhs)
        theta_k = min(o.theta, rnorm0)
        kkt_sys = self._kkt(H, J, t, mu)
        z = self._zeros(self.N)
        steps_it = 0
        descent = False
        exact_fail = 0
        for _attempt in range(60):
            z, steps, grown = self._solve(kkt_sys, rhs, z, theta_k * rnorm0)
            steps_it += steps
            if grown:
                continue
            if not all_finite(z):
                raise _Stop(NAN_ENCOUNTERED, "The KKT solve produced NaN or inf.")
            dx, dl = z[:n], z[n:]
            mgx = gL + self.eta1 * rmatvec(J, c) + self.eta2 * HgL
            mgl = c + self.eta2 * matvec(J, gL)
            dd = float(mgx @ dx + mgl @ dl)
            if dd <= -0.5 * self.eta2 * rnorm0 ** 2:
                descent = True
                break
            if self.eta1 > 1e8 or self.eta2 < 1e-8:
                # penalties at their limits (as in the authors' code): take any
                # descent direction
                descent = dd < 0
                break
            r_now = kkt_sys.residual(z, rhs)
            if r_now <= 1e-10 * rnorm0 or o.solver == "direct":
                exact_fail += 1
            if exact_fail >= 8:
                # the exact Newton step is not a descent direction: convexify B
                t = max(2.0 * t, o.xi_B, 1e-3 * (1.0 + abs(t)))
                kkt_sys = self._kkt(H, J, t, mu)
                exact_fail = 0
            self.eta1 *= o.nu ** 2
            self.eta2 /= o.nu
            theta_k = max(theta_k / 10.0, 1e-14)
        self.total_sketch += steps_it
        if not descent:
            raise _Stop(PRECISION_LOSS, "No descent direction for the augmented "
                        "Lagrangian was found (the KKT system may be singular).")
        return dx, dl, dd, steps_it

    def _kkt(self, H, J, t, mu):
        return KKTSystem(H, J, t, mu) if self.xp is None else KKTSystemXP(H, J, t, mu, self.xp)

    def line_search(self, dx, dl, dd, kkt):
        """Armijo backtracking on L_η in ``(x, λ)``: the accepted trial point as a dict."""
        o, x, lam, eta1, eta2 = self.o, self.x, self.lam, self.eta1, self.eta2
        m0 = _merit(self.f, self.c, self.gL, lam, eta1, eta2)
        # with finite-difference derivatives the merit value and its slope are known to
        # about this much only (∇ₓL to `noise` per component, f and c to rounding)
        m_noise = (10.0 * _EPS * (1.0 + abs(self.f) + abs(float(lam @ self.c)))
                   + self.noise * (asum(dx) + eta2 * asum(self.gL))) if self.noise > 0 else 0.0
        noisy = -dd <= m_noise  # the predicted decrease of a unit step is below the noise
        alpha = 1.0
        saw_nan = False
        for _ in range(o.max_backtracks):
            if alpha < 1.0 and -alpha * dd <= m_noise:
                break  # a shorter step's decrease would be below the noise: none measurable
            x_t = x + alpha * dx
            lam_t = lam + alpha * dl
            f_t, g_t, c_t, J_t = self.evaluate(x_t)
            if J_t is not None and finite_matrix(J_t):
                gL_t = g_t + rmatvec(J_t, lam_t)
                m_t = _merit(f_t, c_t, gL_t, lam_t, eta1, eta2)
                # near the solution the merit decrease drowns in rounding (it is
                # O(‖∇L‖²) against |f|); a unit step that cuts the KKT residual
                # tenfold is the locally quadratic Newton step: take it
                if (np.isfinite(m_t) and m_t <= m0 + o.beta * alpha * dd) or (
                        alpha == 1.0 and np.isfinite(m_t)
                        and _kkt_residual(gL_t, c_t) <= (1.0 if noisy else 0.1) * kkt):
                    # (below the noise level the Armijo test cannot decide: a unit step
                    # that does not increase the KKT residual is taken)
                    return dict(x=x_t, lam=lam_t, f=f_t, g=g_t, c=c_t, J=J_t, gL=gL_t,
                                alpha=alpha, merit=m0)
            else:
                saw_nan = True
            alpha *= 0.5
        if saw_nan:
            raise _Stop(NAN_ENCOUNTERED, "f or c returned NaN or inf along the "
                        "search direction.")
        opt, viol = amax(self.gL), amax(self.c)
        if self.noise > 0 and opt <= _FD_LS_FACTOR * self.noise \
                and viol <= max(o.gtol, _FD_LS_FACTOR * self.noise):
            # no decrease measurable above the finite-difference noise, at a point that is
            # stationary to that noise: converged as far as the derivatives allow
            raise _Stop(SUCCESS, self._noise_detail(kkt) + " No further decrease of the "
                        "augmented Lagrangian is measurable above that noise.")
        detail = "The line search on the augmented Lagrangian failed."
        if self.rank_count:
            detail += (" The constraint Jacobian is rank deficient "
                       f"(σ_min(J)² = {self.last_rank[0]:.2e}).")
        raise _Stop(PRECISION_LOSS, detail)

    def _noise_detail(self, kkt):
        return (f"The KKT residual {kkt:.2e} is at the noise level of the finite-difference "
                f"derivatives (estimated error {self.noise:.2e}).")

    def accept(self, trial, kkt, steps_it, callback):
        """Move to the trial point (quasi-Newton update, history, display, callback)."""
        if same(trial["x"], self.x) and same(trial["lam"], self.lam):
            raise _Stop(PRECISION_LOSS, "The step is below rounding level; the KKT "
                        f"residual stagnates at {kkt:.2e}.")
        if self.qn is not None:
            lam_t = trial["lam"]
            y = trial["gL"] - (self.g + rmatvec(self.J, lam_t))
            self.qn.update(trial["x"] - self.x, y)
        for key in ("x", "lam", "f", "g", "c", "J", "gL"):
            setattr(self, key, trial[key])
        h = self.history
        h["eta1"].append(self.eta1)
        h["eta2"].append(self.eta2)
        h["alpha"].append(trial["alpha"])
        h["sketch_steps"].append(steps_it)
        h["merit"].append(trial["merit"])
        x, f, lam = self.x, self.f, self.lam
        if self.o.disp:
            print(f"sketch-alm it {self.nit:4d}  f = {f: .10e}  "
                  f"kkt = {_kkt_residual(self.gL, self.c):.3e}  alpha = {trial['alpha']:.2e}"
                  f"  sketch = {steps_it:6d}  eta = ({self.eta1:.2e}, {self.eta2:.2e})")
        if callback(x, fun=f, nit=self.nit, kkt_residual=_kkt_residual(self.gL, self.c),
                    multipliers=lam.copy() if self.xp is None
                    else self.xp.asarray(lam, copy=True)):
            raise _Stop(CALLBACK_STOP)

    def iterate(self, callback):
        """Run the iterations until a step raises :class:`_Stop`."""
        o = self.o
        while True:
            kkt = _kkt_residual(self.gL, self.c)
            self.history["kkt"].append(kkt)
            self.noise = self.noise_level(self.x, self.f, self.g, self.lam, self.J)
            if kkt <= o.gtol:
                raise _Stop(SUCCESS)
            # finite differences: ∇ₓL is known to its noise level only, c exactly. Within
            # 10 noise levels, stop once the residual no longer falls tenfold per
            # iteration (the estimate of the noise is a bound: keep converging while
            # Newton's steps still make progress)
            opt = amax(self.gL)
            if (self.noise > 0 and opt <= _FD_TOL_FACTOR * self.noise
                    and (opt <= self.noise or opt > 0.1 * self.prev_opt)
                    and amax(self.c) <= o.gtol):
                raise _Stop(SUCCESS, self._noise_detail(kkt))
            self.prev_opt = opt
            if self.nit >= o.maxiter:
                raise _Stop(MAXITER)
            self.nit += 1
            dense_checks, deficient, mu = self.regularization()
            H, t, HgL = self.hessian(dense_checks, deficient)
            dx, dl, dd, steps_it = self.direction(H, t, mu, HgL)
            trial = self.line_search(dx, dl, dd, kkt)
            self.accept(trial, kkt, steps_it, callback)


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
    a quasi-Newton approximation. Without any derivative the Hessians come
    from second differences of function values, and the stopping test and
    the line search account for the finite-difference error of the gradients
    (status 0 when ``‖∇ₓL‖∞`` is within 10 times that error and no longer
    falls tenfold per iteration, and ``‖c‖∞ <= gtol``; see the user guide).

    The result has ``x``, ``fun``, ``v`` (multipliers per constraint, SciPy
    ``trust-constr`` sign: ``∇f + Jᵀv = 0``), ``multipliers`` (stacked),
    ``kkt_residual = max(‖∇ₓL‖∞, ‖c‖∞)``, ``optimality``,
    ``constr_violation``, ``nit``, ``sketch_steps`` (total sketch steps),
    ``eta1``, ``eta2`` and ``history`` (per iteration: KKT residual,
    penalties, step size, sketch steps).

    Arrays on a device: for an ``x0`` of another namespace than NumPy
    (PyTorch, CuPy, ``array_api_strict``) the iteration runs in that
    namespace on ``x0``'s device; the callables receive and return its
    arrays (dense), the Lagrangian Hessian is formed densely, and the rank
    test, null-space check, direct solve and sketch-and-project use
    ``xp.linalg`` there. Sketch matrices are drawn from ``rng`` on the host
    (the NumPy path's draws) and copied to the device. Sparse matrices,
    LinearOperators, ``solver='kaczmarz'`` and ``hess_update`` are host-only
    (``TypeError``). Computation is in float64 for every namespace (a
    float32 ``x0`` gives float64 results, as with NumPy).

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
    check_unknown_options(unknown_options, "sketch-alm")
    o = _check_options(gtol, maxiter, solver, theta, eta1, eta2, nu, beta, xi_B,
                       max_backtracks, rank_tol, rank_patience, hess_update, disp)
    rng = check_rng(rng)
    state = _SketchALM(problem, x0, problem.constraints, o, rng)
    _check_sizes(o, state.N, block_size, max_block_size, sketch_maxiter)
    try:
        state.start(lambda0)
        state.iterate(callback)
    except _Stop as stop:
        return state.result(stop.status, stop.detail)
