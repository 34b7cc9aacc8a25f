"""Smooth unconstrained test problems: Rosenbrock, logistic and softmax regression."""
import numpy as np
import scipy.optimize as so
from scipy.special import expit, log_expit, logsumexp, softmax

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


def logistic_regression(n_samples=1000, n_features=20, reg=1e-3, rng=None):
    """L2-regularized binary logistic regression on generated data.

    ``f(w) = mean_i log(1 + exp(-y_i x_iᵀw)) + reg/2 ‖w‖²`` with labels
    ``y ∈ {-1, +1}`` drawn from a noisy logistic teacher.

    Parameters
    ----------
    n_samples, n_features : int
    reg : float
        Ridge parameter (> 0 makes the problem strongly convex).
    rng : {None, int, Generator}

    Returns
    -------
    TestProblem
        ``extra`` holds ``X``, ``y`` and ``hess_fisher`` (the empirical Fisher
        ``mean_i g_i g_iᵀ + reg I``, a Hessian approximation).

    Examples
    --------
    >>> from numopt.problems import logistic_regression
    >>> p = logistic_regression(200, 5, rng=0)
    >>> p.jac(p.x0).shape
    (5,)
    """
    n_samples = check_scalar(n_samples, "n_samples", lower=1, integer=True)
    n_features = check_scalar(n_features, "n_features", lower=1, integer=True)
    reg = check_scalar(reg, "reg", lower=0)
    rng = check_rng(rng)
    X, y = _classification_data(n_samples, n_features, rng)
    Xy = X * y[:, None]
    m = float(n_samples)

    def fun(w):
        return -log_expit(Xy @ w).sum() / m + 0.5 * reg * (w @ w)

    def jac(w):
        s = expit(-(Xy @ w))
        return -(Xy.T @ s) / m + reg * w

    def hess(w):
        z = Xy @ w
        d = expit(z) * expit(-z)
        return (X.T * d) @ X / m + reg * np.eye(n_features)

    def hessp(w, p):
        z = Xy @ w
        d = expit(z) * expit(-z)
        return X.T @ (d * (X @ p)) / m + reg * p

    def hess_fisher(w):
        s = expit(-(Xy @ w))
        G = Xy * s[:, None]
        return G.T @ G / m + reg * np.eye(n_features)

    return TestProblem("logistic", fun, jac, hess, hessp, np.zeros(n_features),
                       extra={"X": X, "y": y, "reg": reg, "hess_fisher": hess_fisher})


def softmax_regression(n_samples=1000, n_features=20, n_classes=5, reg=1e-3, rng=None):
    """L2-regularized multinomial (softmax) regression on generated data.

    The variable is ``W`` of shape ``(n_features, n_classes)`` flattened in C
    order; ``f(W) = mean_i [logsumexp(x_iᵀW) - x_iᵀW_{:,y_i}] + reg/2 ‖W‖²``.

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
    n_classes = check_scalar(n_classes, "n_classes", lower=2, integer=True)
    reg = check_scalar(reg, "reg", lower=0)
    rng = check_rng(rng)
    X, y = _classification_data(n_samples, n_features, rng, n_classes=n_classes)
    Y = np.zeros((n_samples, n_classes))
    Y[np.arange(n_samples), y] = 1.0
    m = float(n_samples)
    d, k = n_features, n_classes

    def fun(w):
        Z = X @ w.reshape(d, k)
        return (logsumexp(Z, axis=1).sum() - (Z * Y).sum()) / m + 0.5 * reg * (w @ w)

    def jac(w):
        P = softmax(X @ w.reshape(d, k), axis=1)
        return (X.T @ (P - Y)).ravel() / m + reg * w

    def hessp(w, p):
        P = softmax(X @ w.reshape(d, k), axis=1)
        XV = X @ p.reshape(d, k)
        R = P * XV - P * (P * XV).sum(axis=1, keepdims=True)
        return (X.T @ R).ravel() / m + reg * p

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
        H[np.diag_indices_from(H)] += reg
        return H

    return TestProblem("softmax", fun, jac, hess, hessp, np.zeros(d * k),
                       extra={"X": X, "y": y, "n_classes": k, "reg": reg})
