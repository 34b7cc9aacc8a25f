"""Scalable equality-constrained test problems: constrained logistic regression
and PDE-constrained tracking (the experiments of Hong, Na, Mahoney, Kolar 2023)."""
import numpy as np
import scipy.sparse as sp
import scipy.sparse.linalg as spla

from .._losses import LogisticRegressionLoss
from .._validation import check_rng, check_scalar
from ._hs import ConstrainedTestProblem
from ._linalg import poisson_2d
from ._smooth import _classification_data

__all__ = ["constrained_logistic_regression", "pde_tracking", "random_equality_qp",
           "random_equality_nonlinear"]


def constrained_logistic_regression(n_samples=500, n_features=30, n_linear=10, rng=None):
    """Logistic regression with linear equality constraints and a unit-norm constraint.

    ``min_w mean_i log(1 + exp(-y_i x_iᵀw))`` subject to ``A w = b``
    (``n_linear`` Gaussian rows) and ``‖w‖² = 1``, on data from a noisy
    logistic teacher. ``b = A w₀`` for a random unit vector ``w₀``, so the
    feasible set is not empty.

    Parameters
    ----------
    n_samples, n_features : int
        Data size (``n_features > n_linear + 1``).
    n_linear : int
        Number of linear constraints (default 10).
    rng : {None, int, numpy.random.Generator}

    Returns
    -------
    ConstrainedTestProblem
        ``m = n_linear + 1`` constraints; start ``x0 = 1/√d``; ``f_opt`` is
        not known in closed form (None). ``extra`` holds ``X``, ``y``, ``A``,
        ``b``.

    Examples
    --------
    >>> from numopt.problems import constrained_logistic_regression
    >>> p = constrained_logistic_regression(200, 20, rng=0)
    >>> p.n, p.m
    (20, 11)
    """
    n_samples = check_scalar(n_samples, "n_samples", lower=1, integer=True)
    n_features = check_scalar(n_features, "n_features", lower=2, integer=True)
    n_linear = check_scalar(n_linear, "n_linear", lower=0, integer=True)
    if n_linear + 1 >= n_features:
        raise ValueError(f"`n_linear` + 1 must be < `n_features`, got n_linear={n_linear}, "
                         f"n_features={n_features}")
    rng = check_rng(rng)
    X, y = _classification_data(n_samples, n_features, rng)
    A = rng.standard_normal((n_linear, n_features)) / np.sqrt(n_features)
    w0 = rng.standard_normal(n_features)
    w0 /= np.linalg.norm(w0)
    b = A @ w0
    f = LogisticRegressionLoss(X, y)

    def cons(w):
        return np.concatenate([A @ w - b, [w @ w - 1.0]])

    def cons_jac(w):
        return np.vstack([A, 2.0 * w[None, :]])

    def cons_hess(w, v):
        return 2.0 * v[-1] * np.eye(n_features)

    x0 = np.full(n_features, 1.0 / np.sqrt(n_features))
    return ConstrainedTestProblem("constrained-logreg", f.fun, f.jac, f.hess, f.hessp, x0,
                                  extra=dict(X=X, y=y, A=A, b=b), cons=cons,
                                  cons_jac=cons_jac, cons_hess=cons_hess)


def pde_tracking(N=32, alpha=0.1):
    """Discretized PDE-constrained tracking problem (5-point Laplacian).

    ``min ½‖w - w*‖² + (α/2)‖z‖²`` subject to ``L w + z = 0``, where ``L``
    is the 5-point stencil matrix (``h²Δ_h`` with zero Dirichlet boundary,
    i.e. ``-poisson_2d(N)``: the library's Laplacian is the positive
    definite one) on an ``N x N`` interior grid, ``w`` the state, ``z`` the source and
    ``w*(s, t) = sin(πs) sin(2πt) + s t (1 - s)(1 - t)``. Unknowns
    ``x = (w, z)``, ``n = 2N²``, ``m = N²``; the Hessian and Jacobian are
    sparse. With ``alpha = 0.1`` this is the notes' ``0.05 ‖z‖²``.

    Parameters
    ----------
    N : int
        Interior grid points per side (``N = 71`` gives ``n > 10⁴``).
    alpha : float
        Control cost.

    Returns
    -------
    ConstrainedTestProblem
        ``x_opt`` and ``f_opt`` from a sparse solve of the reduced
        optimality system ``(I + α LᵀL) w = w*``,
        ``z = -L w``; start ``x0 = 0``.

    Examples
    --------
    >>> from numopt.problems import pde_tracking
    >>> p = pde_tracking(8)
    >>> p.n, p.m, bool(abs(p.cons(p.x_opt)).max() < 1e-12)
    (128, 64, True)
    """
    N = check_scalar(N, "N", lower=1, integer=True)
    alpha = check_scalar(alpha, "alpha", lower=0, lower_inclusive=False)
    # h²Δ_h is the negative of the positive definite 5-point Laplacian poisson_2d
    L = sp.csr_matrix(-poisson_2d(N))
    M = N * N
    h = 1.0 / (N + 1)
    s = np.arange(1, N + 1) * h
    S, T = np.meshgrid(s, s, indexing="ij")
    w_star = (np.sin(np.pi * S) * np.sin(2 * np.pi * T) + S * T * (1 - S) * (1 - T)).ravel()
    J = sp.hstack([L, sp.identity(M, format="csr")], format="csr")
    hdiag = np.concatenate([np.ones(M), np.full(M, alpha)])
    H = sp.diags(hdiag, format="csr")
    zero = sp.csr_matrix((2 * M, 2 * M))

    def fun(x):
        w, z = x[:M], x[M:]
        d = w - w_star
        return float(0.5 * d @ d + 0.5 * alpha * z @ z)

    def jac(x):
        return np.concatenate([x[:M] - w_star, alpha * x[M:]])

    def hess(x):
        return H

    def hessp(x, p):
        return hdiag * p

    def cons(x):
        return L @ x[:M] + x[M:]

    def cons_jac(x):
        return J

    def cons_hess(x, v):
        return zero

    A = (sp.identity(M, format="csc") + alpha * (L.T @ L)).tocsc()
    w = spla.spsolve(A, w_star)
    x_opt = np.concatenate([w, -(L @ w)])
    f_opt = fun(x_opt)
    return ConstrainedTestProblem(f"pde-tracking-{N}", fun, jac, hess, hessp, np.zeros(2 * M),
                                  x_opt, f_opt, dict(L=L, w_star=w_star, alpha=alpha, N=N),
                                  cons=cons, cons_jac=cons_jac, cons_hess=cons_hess)


def _random_equality_data(n, m, rng):
    """Checked ``(n, m, rng)`` and the random objective data ``Q``, ``q``."""
    n = check_scalar(n, "n", lower=2, integer=True)
    m = max(1, n // 4) if m is None else check_scalar(m, "m", lower=1, upper=n - 1,
                                                       integer=True)
    rng = check_rng(rng)
    M = rng.standard_normal((n, n))
    Q = M @ M.T / n + 0.1 * np.eye(n)
    return n, m, rng, Q, rng.standard_normal(n)


def random_equality_qp(n=40, m=None, rng=None):
    """Random strictly convex QP with linear equality constraints.

    ``min ½ xᵀQx + qᵀx`` subject to ``A x = b``, with ``Q = MMᵀ/n + 0.1 I``
    (``M``, ``q``, ``A``, ``b`` standard normal, ``A`` of shape ``(m, n)``)
    and a standard normal start. The constraints are given as callables, as
    for a nonlinear problem.

    Parameters
    ----------
    n : int
        Number of variables (at least 2).
    m : int, optional
        Number of constraints, ``1 <= m < n`` (default ``max(1, n // 4)``).
    rng : {None, int, numpy.random.Generator}

    Returns
    -------
    ConstrainedTestProblem
        ``x_opt`` and ``f_opt`` from a direct solve of the KKT system.

    Examples
    --------
    >>> import numpy as np
    >>> from numopt.problems import random_equality_qp
    >>> p = random_equality_qp(12, rng=0)
    >>> p.n, p.m, bool(np.max(np.abs(p.cons(p.x_opt))) < 1e-12)
    (12, 3, True)
    """
    n, m, rng, Q, q = _random_equality_data(n, m, rng)
    A = rng.standard_normal((m, n))
    b = rng.standard_normal(m)
    x0 = rng.standard_normal(n)
    K = np.block([[Q, A.T], [A, np.zeros((m, m))]])
    x_opt = np.linalg.solve(K, np.concatenate([-q, b]))[:n]

    def fun(x):
        return float(0.5 * x @ Q @ x + q @ x)

    def jac(x):
        return Q @ x + q

    def hess(x):
        return Q

    def hessp(x, p):
        return Q @ p

    def cons(x):
        return A @ x - b

    def cons_jac(x):
        return A

    def cons_hess(x, v):
        return np.zeros((n, n))

    return ConstrainedTestProblem(f"random-qp-{n}x{m}", fun, jac, hess, hessp, x0, x_opt,
                                  fun(x_opt), dict(Q=Q, q=q, A=A, b=b), cons=cons,
                                  cons_jac=cons_jac, cons_hess=cons_hess)


def random_equality_nonlinear(n=40, m=None, rng=None):
    """Random smooth problem with nonlinear equality constraints.

    ``min ½ xᵀQx + qᵀx + 0.1 Σ cos x_i + (0.05/n) Σ x_i⁴`` subject to
    ``A x + 0.1 sin(x_{1..m-1}) = 0.2`` (``m - 1`` rows, ``A`` Gaussian
    scaled by ``1/√n``) and ``‖x‖²/n = 1``, with ``Q``, ``q`` as in
    :func:`random_equality_qp` and the start ``0.5 z``, ``z`` standard
    normal. The objective is strongly convex, the feasible set is not.

    Parameters
    ----------
    n, m, rng
        As in :func:`random_equality_qp`, but ``m`` defaults to ``max(1, n // 5)``.

    Returns
    -------
    ConstrainedTestProblem
        The optimum is not known in closed form (``f_opt`` None).

    Examples
    --------
    >>> import numpy as np
    >>> from numopt.problems import random_equality_nonlinear
    >>> p = random_equality_nonlinear(10, rng=0)
    >>> p.n, p.m, p.cons_jac(p.x0).shape
    (10, 2, (2, 10))
    """
    if m is None:
        m = max(1, check_scalar(n, "n", lower=2, integer=True) // 5)
    n, m, rng, Q, q = _random_equality_data(n, m, rng)
    k = m - 1
    A = rng.standard_normal((k, n)) / np.sqrt(n)
    x0 = 0.5 * rng.standard_normal(n)

    def fun(x):
        return float(0.5 * x @ Q @ x + q @ x + 0.1 * np.sum(np.cos(x))
                     + 0.05 / n * np.sum(x ** 4))

    def jac(x):
        return Q @ x + q - 0.1 * np.sin(x) + 0.2 / n * x ** 3

    def hess(x):
        return Q + np.diag(-0.1 * np.cos(x) + 0.6 / n * x ** 2)

    def hessp(x, p):
        return Q @ p + (-0.1 * np.cos(x) + 0.6 / n * x ** 2) * p

    def cons(x):
        return np.concatenate([A @ x + 0.1 * np.sin(x[:k]) - 0.2, [x @ x / n - 1.0]])

    def cons_jac(x):
        J = np.vstack([A, 2.0 / n * x[None, :]])
        J[np.arange(k), np.arange(k)] += 0.1 * np.cos(x[:k])
        return J

    def cons_hess(x, v):
        d = np.full(n, 2.0 * v[-1] / n)
        d[:k] -= 0.1 * np.sin(x[:k]) * v[:k]
        return np.diag(d)

    return ConstrainedTestProblem(f"random-nonlinear-{n}x{m}", fun, jac, hess, hessp, x0, None,
                                  None, dict(Q=Q, q=q, A=A), cons=cons, cons_jac=cons_jac,
                                  cons_hess=cons_hess)
