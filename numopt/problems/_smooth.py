"""Smooth unconstrained test problems: Rosenbrock, logistic and softmax regression."""
import numpy as np
import scipy.optimize as so
from scipy.special import expit, logsumexp, softmax

from .._deprecation import _UNSET, renamed_keyword
from .._losses import LogisticRegressionLoss
from .._validation import check_rng, check_scalar
from ._base import TestProblem

__all__ = ["rosenbrock", "logistic_regression", "softmax_regression"]


def rosenbrock(n=2):
    """The Rosenbrock function in ``n`` variables (SciPy's ``rosen``).

    Parameters
    ----------
    n : int
        Dimension (>= 2). The start is ``[-1.2, 1, -1.2, 1, ...]``.

    Returns
    -------
    TestProblem
        Minimizer ``x_opt = ones(n)``, ``f_opt = 0``.

    Examples
    --------
    >>> from numopt.problems import rosenbrock
    >>> p = rosenbrock(4)
    >>> float(p.fun(p.x_opt))
    0.0
    """
    n = check_scalar(n, "n", lower=2, integer=True)
    x0 = np.tile([-1.2, 1.0], (n + 1) // 2)[:n]
    return TestProblem("rosenbrock", so.rosen, so.rosen_der, so.rosen_hess,
                       so.rosen_hess_prod, x0, np.ones(n), 0.0)


def _classification_data(n_samples, n_features, rng, n_classes=2, noise=1.0):
    X = rng.standard_normal((n_samples, n_features))
    X /= np.sqrt(n_features)
    if n_classes == 2:
        w = rng.standard_normal(n_features) * 3.0
        p = expit(X @ w + noise * rng.standard_normal(n_samples))
        y = np.where(rng.random(n_samples) < p, 1.0, -1.0)
        return X, y
    W = rng.standard_normal((n_features, n_classes)) * 3.0
    logits = X @ W + noise * rng.standard_normal((n_samples, n_classes))
    P = softmax(logits, axis=1)
    u = rng.random((n_samples, 1))
    y = (P.cumsum(axis=1) < u).sum(axis=1)
    return X, np.minimum(y, n_classes - 1)


def logistic_regression(n_samples=1000, n_features=20, l2=1e-3, rng=None, *, reg=_UNSET):
    """L2-regularized binary logistic regression on generated data.

    ``f(w) = mean_i log(1 + exp(-y_i x_iᵀw)) + l2/2 ‖w‖²`` with labels
    ``y ∈ {-1, +1}`` drawn from a noisy logistic teacher (the loss of
    :class:`numopt.coordinate.Logistic`, written once in ``numopt._losses``).

    Parameters
    ----------
    n_samples, n_features : int
    l2 : float
        Ridge weight (> 0 makes the problem strongly convex). Formerly
        ``reg``, which still works with a DeprecationWarning.
    rng : {None, int, Generator}

    Returns
    -------
    TestProblem
        ``extra`` holds ``X``, ``y``, ``l2`` and ``hess_fisher`` (the empirical
        Fisher ``mean_i g_i g_iᵀ + l2 I``, a Hessian approximation).

    Examples
    --------
    >>> from numopt.problems import logistic_regression
    >>> p = logistic_regression(200, 5, rng=0)
    >>> p.jac(p.x0).shape
    (5,)
    """
    l2 = renamed_keyword(l2, reg, "l2", "reg", 1e-3, "logistic_regression")
    n_samples = check_scalar(n_samples, "n_samples", lower=1, integer=True)
    n_features = check_scalar(n_features, "n_features", lower=1, integer=True)
    l2 = check_scalar(l2, "l2", lower=0)
    rng = check_rng(rng)
    X, y = _classification_data(n_samples, n_features, rng)
    f = LogisticRegressionLoss(X, y, l2)
    return TestProblem("logistic", f.fun, f.jac, f.hess, f.hessp, np.zeros(n_features),
                       extra={"X": X, "y": y, "l2": l2, "hess_fisher": f.hess_fisher})


def softmax_regression(n_samples=1000, n_features=20, n_classes=5, l2=1e-3, rng=None, *,
                       reg=_UNSET):
    """L2-regularized multinomial (softmax) regression on generated data.

    The variable is ``W`` of shape ``(n_features, n_classes)`` flattened in C
    order; ``f(W) = mean_i [logsumexp(x_iᵀW) - x_iᵀW_{:,y_i}] + l2/2 ‖W‖²`` (the
    objective of :class:`numopt.coordinate.Softmax`).

    Parameters
    ----------
    n_samples, n_features, n_classes : int
    l2 : float
        Ridge weight. Formerly ``reg``, which still works with a
        DeprecationWarning.
    rng : {None, int, Generator}

    Returns
    -------
    TestProblem
        ``extra`` holds ``X``, ``y`` (integer labels) and ``n_classes``.

    Examples
    --------
    >>> from numopt.problems import softmax_regression
    >>> p = softmax_regression(100, 4, 3, rng=0)
    >>> p.hess(p.x0).shape
    (12, 12)
    """
    n_samples = check_scalar(n_samples, "n_samples", lower=1, integer=True)
    n_features = check_scalar(n_features, "n_features", lower=1, integer=True)
    l2 = renamed_keyword(l2, reg, "l2", "reg", 1e-3, "softmax_regression")
    n_classes = check_scalar(n_classes, "n_classes", lower=2, integer=True)
    l2 = check_scalar(l2, "l2", lower=0)
    rng = check_rng(rng)
    X, y = _classification_data(n_samples, n_features, rng, n_classes=n_classes)
    Y = np.zeros((n_samples, n_classes))
    Y[np.arange(n_samples), y] = 1.0
    m = float(n_samples)
    d, k = n_features, n_classes

    def fun(w):
        Z = X @ w.reshape(d, k)
        return (logsumexp(Z, axis=1).sum() - (Z * Y).sum()) / m + 0.5 * l2 * (w @ w)

    def jac(w):
        P = softmax(X @ w.reshape(d, k), axis=1)
        return (X.T @ (P - Y)).ravel() / m + l2 * w

    def hessp(w, p):
        P = softmax(X @ w.reshape(d, k), axis=1)
        XV = X @ p.reshape(d, k)
        R = P * XV - P * (P * XV).sum(axis=1, keepdims=True)
        return (X.T @ R).ravel() / m + l2 * p

    def hess(w):
        P = softmax(X @ w.reshape(d, k), axis=1)
        H = np.zeros((d, k, d, k))
        for a in range(k):
            for b in range(a, k):
                c = P[:, a] * ((a == b) - P[:, b])
                block = (X.T * c) @ X / m
                H[:, a, :, b] = block
                H[:, b, :, a] = block.T
        H = H.reshape(d * k, d * k)
        H[np.diag_indices_from(H)] += l2
        return H

    return TestProblem("softmax", fun, jac, hess, hessp, np.zeros(d * k),
                       extra={"X": X, "y": y, "n_classes": k, "l2": l2})
