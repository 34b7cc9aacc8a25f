"""Regularized Newton with approximate Hessians and gradient-normalized smoothness.

Semenov, Jaggi, Doikov, "Gradient-Normalized Smoothness for Optimization with
Approximate Hessians" (2025). Each iteration solves

    (H_k + λ_k I) Δ = -g_k,   λ_k = ‖g_k‖ / γ_k,

and accepts the step when ``f(x) - f(x+Δ) >= ‖∇f(x+Δ)‖² / (8 λ_k)``. On
acceptance γ doubles (less regularization next time); on rejection it halves
and the step is recomputed. ``H_k`` may be the exact Hessian or any positive
semi-definite approximation (Gauss-Newton, Fisher), given densely, sparsely,
as a :class:`~scipy.sparse.linalg.LinearOperator` or through ``hessp``.

Arrays of another namespace than NumPy (PyTorch, CuPy, ``array_api_strict``)
take the generic path: the same iteration with the dense Cholesky solve
(``xp.linalg.cholesky``) or conjugate gradients on the device
(:class:`_SystemXP`); sparse Hessians and LinearOperators are host-only.
"""
import numpy as np
import scipy.linalg
import scipy.sparse
import scipy.sparse.linalg as spla

from .. import _sparse
from .._array_api import cho_solve, is_numpy
from .._krylov import INDEFINITE, NONFINITE, conjugate_gradient
from .._options import check_unknown_options
from .._result import (CALLBACK_STOP, MAXITER, NAN_ENCOUNTERED, PRECISION_LOSS, SUCCESS,
                       make_result)
from .._validation import check_choice, check_scalar

__all__ = ["_minimize_gn_newton"]


class _StepFailed(Exception):
    """The regularized system could not be solved (not positive definite)."""


def _cg(matvec, b, rtol, maxiter):
    """Conjugate gradients for SPD ``matvec``; raises _StepFailed on negative curvature."""
    res = conjugate_gradient(matvec, b, rtol=rtol, maxiter=maxiter)
    if res.status in (INDEFINITE, NONFINITE):
        raise _StepFailed("negative curvature in CG" if res.status == INDEFINITE
                          else "overflow in CG")
    return res.x, res.nit


class _System:
    """Solves (H + λI) Δ = -g for one H and several λ."""

    def __init__(self, H, matvec, n, solver, cg_maxiter):
        self.n = n
        self.cg_iters = 0
        self.cg_maxiter = cg_maxiter
        self._factor = None
        if H is None or isinstance(H, spla.LinearOperator):
            self.kind = "operator"
            self.matvec = matvec if H is None else H.matvec
        elif scipy.sparse.issparse(H):
            self.kind = "sparse"
            self.H = scipy.sparse.csc_matrix(H, dtype=float)
        else:
            self.kind = "dense"
            self.H = np.asarray(H, dtype=float)
        if solver == "cg" and self.kind != "operator":
            Hm = self.H
            self.matvec = lambda v: Hm @ v
            self.kind = "operator"

    def solve(self, g, lam, forcing):
        if self.kind == "dense":
            A = self.H + lam * np.eye(self.n)
            try:
                c = scipy.linalg.cho_factor(A, check_finite=False)
            except np.linalg.LinAlgError:
                raise _StepFailed("H + λI not positive definite") from None
            return -scipy.linalg.cho_solve(c, g, check_finite=False)
        if self.kind == "sparse":
            try:
                if self._factor is None:
                    self._factor = _sparse.cholesky(self.H, beta=lam)
                else:
                    self._factor.refactor(self.H, beta=lam)
            except _sparse.CholmodNotPositiveDefiniteError:
                self._factor = None
                raise _StepFailed("H + λI not positive definite") from None
            d = -self._factor(g)
            if self._factor.method == "superlu" and not (
                    np.all(np.isfinite(d)) and (g @ d) < 0):
                # LU does not test definiteness: a non-descent solution means H + λI
                # is not positive definite
                raise _StepFailed("H + λI not positive definite")
            return d
        mv = self.matvec

        def shifted(v):
            return mv(v) + lam * v
        d, it = _cg(shifted, -g, min(0.5, forcing), self.cg_maxiter)
        self.cg_iters += it
        return d


class _SystemXP:
    """:class:`_System` on the generic path: a dense ``xp`` Hessian or products, on the device.

    ``H`` is an array of ``xp`` (dense Cholesky, ``solver='cholesky'`` or
    ``'auto'``) or None (``matvec`` from ``hessp`` or differences: conjugate
    gradients); ``solver='cg'`` uses CG on the dense ``H`` too.
    """

    def __init__(self, H, matvec, n, solver, cg_maxiter, xp):
        self.n, self.xp, self.cg_iters, self.cg_maxiter = n, xp, 0, cg_maxiter
        self.H = H
        self.kind = "operator" if H is None or solver == "cg" else "dense"
        self.matvec = matvec if H is None else (lambda v: xp.matmul(H, v))

    def solve(self, g, lam, forcing):
        xp = self.xp
        if self.kind == "dense":
            A = self.H + lam * xp.eye(self.n, dtype=self.H.dtype, device=g.device)
            try:
                L = xp.linalg.cholesky(A)
            except (np.linalg.LinAlgError, RuntimeError, ValueError):
                # (PyTorch raises a RuntimeError subclass, NumPy-backed namespaces
                # LinAlgError; CuPy returns NaN instead of raising: tested below)
                raise _StepFailed("H + λI not positive definite") from None
            if not bool(xp.all(xp.isfinite(L))):
                raise _StepFailed("H + λI not positive definite")
            return -cho_solve(L, g, xp)
        mv = self.matvec

        def shifted(v):
            return mv(v) + lam * v
        res = conjugate_gradient(shifted, -g, rtol=min(0.5, forcing), maxiter=self.cg_maxiter,
                                 xp=xp)
        if res.status in (INDEFINITE, NONFINITE):
            raise _StepFailed("negative curvature in CG" if res.status == INDEFINITE
                              else "overflow in CG")
        self.cg_iters += res.nit
        return res.x


def _norm(v, xp):
    return float(np.linalg.norm(v)) if xp is np else float(xp.linalg.vector_norm(v))


def _finite(v, xp):
    return bool(np.all(np.isfinite(v))) if xp is np else bool(xp.all(xp.isfinite(v)))


def _minimize_gn_newton(problem, x0, callback=None, rng=None, gtol=1e-8, maxiter=200,
                        gamma0=100.0, gamma_min=1e-9, gamma_max=1e12, max_tries=40,
                        solver="auto", cg_maxiter=None, disp=False, **unknown_options):
    """Regularized Newton method with gradient-normalized smoothness.

    Semenov, Jaggi and Doikov (2025). Each iteration solves
    ``(H + λI) Δ = -∇f`` with ``λ = ‖∇f‖ / γ`` and accepts the step when
    ``f(x) - f(x + Δ) >= ‖∇f(x + Δ)‖² / (8λ)``; γ doubles after an accepted
    step and halves after a rejected one. ``H`` may be the exact Hessian or
    an approximation (Gauss-Newton, Fisher): the acceptance test keeps the
    method globally convergent either way.

    Options
    -------
    gtol : float
        Stop when ``‖∇f(x)‖₂ <= gtol`` (default 1e-8).
    maxiter : int
        Maximum number of outer iterations, each evaluating one Hessian
        (default 200).
    gamma0 : float
        Initial γ (default 100). Larger values start closer to pure Newton.
        The reference code starts at 1; a rejected trial costs one function
        and gradient evaluation but no Hessian, so numopt starts high and
        lets the test halve γ (fewer Hessian evaluations on every problem
        of ``numopt.problems``, see the minimize benchmark).
    gamma_min, gamma_max : float
        Bounds on γ (defaults 1e-9 and 1e12).
    max_tries : int
        Maximum step trials per iteration before reporting precision loss
        (default 40).
    solver : {'auto', 'cholesky', 'cg'}
        Linear solver for the regularized system. ``'auto'`` uses a dense
        Cholesky for arrays, CHOLMOD (scikit-sparse) or SciPy's sparse LU
        for sparse matrices, and conjugate gradients for LinearOperators,
        ``hessp`` and finite-difference Hessian products.
    cg_maxiter : int, optional
        CG iteration cap per solve (default ``2 n + 10``).
    disp : bool
        Print a line per iteration.

    Arrays on a device: for an ``x0`` of another namespace than NumPy
    (PyTorch, CuPy, ``array_api_strict``) the iteration runs in that
    namespace on ``x0``'s device (``fun``, ``jac``, ``hess`` and ``hessp``
    receive and return its arrays; ``hess`` must return a dense array:
    sparse matrices and LinearOperators are host-only); the regularized
    system is solved by a dense Cholesky factorization (``xp.linalg``) or by
    conjugate gradients there. Computation is in float64 for every
    namespace (a float32 ``x0`` gives float64 results, as with NumPy: the
    acceptance test and the default ``gtol`` need float64).
    """
    check_unknown_options(unknown_options, "gn-newton")
    gtol = check_scalar(gtol, "gtol", lower=0)
    maxiter = check_scalar(maxiter, "maxiter", lower=0, integer=True)
    gamma = check_scalar(gamma0, "gamma0", lower=0, lower_inclusive=False)
    gamma_min = check_scalar(gamma_min, "gamma_min", lower=0, lower_inclusive=False)
    gamma_max = check_scalar(gamma_max, "gamma_max", lower=gamma_min)
    max_tries = check_scalar(max_tries, "max_tries", lower=1, integer=True)
    solver = check_choice(solver, "solver", ("auto", "cholesky", "cg"))
    n = problem.n
    cg_maxiter = 2 * n + 10 if cg_maxiter is None else check_scalar(
        cg_maxiter, "cg_maxiter", lower=1, integer=True)

    xp = problem.xp
    if is_numpy(xp):
        xp = np
        x = np.asarray(x0, dtype=float).copy()
    else:
        x = xp.astype(x0, xp.float64, copy=True)
    f, g = problem.fun_and_grad(x)
    gnorm = _norm(g, xp)
    nit = 0
    n_rejected = 0
    history = {"gnorm": [gnorm], "gamma": [gamma], "fun": [f]}

    def finish(status, detail=None):
        return make_result(x, status, detail=detail,
                           warn=status in (MAXITER, PRECISION_LOSS, NAN_ENCOUNTERED),
                           fun=f, jac=g, nit=nit, nfev=problem.nfev, njev=problem.njev,
                           nhev=problem.nhev, gamma=gamma, n_rejected=n_rejected,
                           history=history, stacklevel=5)

    if not (np.isfinite(f) and _finite(g, xp)):
        return finish(NAN_ENCOUNTERED, "The objective or gradient is not finite at x0.")
    if gnorm <= gtol:
        return finish(SUCCESS)

    while nit < maxiter:
        nit += 1
        if problem.has_hess:
            H, matvec = problem.hess(x), None
            if xp is not np:
                if not _finite(H, xp):
                    return finish(NAN_ENCOUNTERED, "The Hessian is not finite.")
            elif not isinstance(H, spla.LinearOperator) and not scipy.sparse.issparse(H):
                H = np.asarray(H, dtype=float)
                if not np.all(np.isfinite(H)):
                    return finish(NAN_ENCOUNTERED, "The Hessian is not finite.")
        else:
            xk = x.copy() if xp is np else xp.asarray(x, copy=True)
            H, matvec = None, (lambda v, xk=xk: problem.hessp(xk, v))
        system = (_System(H, matvec, n, solver, cg_maxiter) if xp is np
                  else _SystemXP(H, matvec, n, solver, cg_maxiter, xp))
        accepted = False
        for _ in range(max_tries):
            lam = gnorm / (gamma + 1e-8)
            try:
                d = system.solve(g, lam, forcing=np.sqrt(gnorm))
            except _StepFailed:
                gamma = max(gamma / 2.0, gamma_min)
                n_rejected += 1
                continue
            x_new = x + d
            f_new, g_new = problem.fun_and_grad(x_new)
            if np.isfinite(f_new) and _finite(g_new, xp):
                gn_new = float(g_new @ g_new)
                if f - f_new >= gn_new / (8.0 * lam):
                    accepted = True
                    gamma = min(2.0 * gamma, gamma_max)
                    break
            gamma = max(gamma / 2.0, gamma_min)
            n_rejected += 1
        if not accepted:
            return finish(PRECISION_LOSS, f"No step was accepted in {max_tries} trials.")
        x, f, g = x_new, f_new, g_new
        gnorm = float(np.sqrt(gn_new))
        history["gnorm"].append(gnorm)
        history["gamma"].append(gamma)
        history["fun"].append(f)
        if disp:
            print(f"gn-newton it {nit:4d}  f = {f: .10e}  |g| = {gnorm:.3e}  "
                  f"lambda = {lam:.3e}")
        if callback(x, fun=f, jac=g, nit=nit, gamma=gamma):
            return finish(CALLBACK_STOP)
        if gnorm <= gtol:
            return finish(SUCCESS)
    return finish(MAXITER)
