"""The binary logistic loss, written once for every module that needs it.

The loss of a margin ``z = y xᵀw`` (labels ``y ∈ {-1, +1}``) is
``ℓ(z) = log(1 + exp(-z))``, with ``ℓ'(z) = -σ(-z)`` and
``ℓ''(z) = σ(z) σ(-z) <= 1/4`` (``σ`` the logistic sigmoid). For 0/1 labels
``t`` and a prediction ``p`` the same loss is ``ℓ((2t - 1) p) =
log(1 + exp(p)) - t p``.

:class:`LogisticRegressionLoss` is the full objective
``mean_i ℓ(y_i x_iᵀw) + l2/2 ‖w‖²`` with its derivatives; the coordinate
solvers use the pointwise functions on their maintained predictors.
"""
import numpy as np
from scipy.special import expit, log_expit

__all__ = ["logistic_loss", "logistic_loss_deriv", "logistic_loss_curvature",
           "LogisticRegressionLoss"]

#: Upper bound on ``ℓ''`` (the curvature constant of the logistic loss).
LOGISTIC_CURVATURE = 0.25


def logistic_loss(z):
    """``log(1 + exp(-z))`` elementwise, accurate for large ``|z|``."""
    return -log_expit(z)


def logistic_loss_deriv(z):
    """``ℓ'(z) = -σ(-z)``."""
    return -expit(-z)


def logistic_loss_curvature(z):
    """``ℓ''(z) = σ(z) σ(-z)`` (no cancellation for large ``|z|``)."""
    return expit(z) * expit(-z)


class LogisticRegressionLoss:
    """``f(w) = mean_i log(1 + exp(-y_i x_iᵀw)) + l2/2 ‖w‖²`` and its derivatives.

    Parameters
    ----------
    X : ndarray, shape (n_samples, n_features)
    y : ndarray, shape (n_samples,)
        Labels in {-1, +1}.
    l2 : float
        Ridge weight (>= 0).

    Examples
    --------
    >>> import numpy as np
    >>> from numopt._losses import LogisticRegressionLoss
    >>> f = LogisticRegressionLoss(np.eye(2), np.array([1.0, -1.0]))
    >>> bool(np.isclose(f.fun(np.zeros(2)), np.log(2.0)))
    True
    """

    def __init__(self, X, y, l2=0.0):
        self.X = X
        self.y = y
        self.l2 = float(l2)
        self.Xy = X * y[:, None]
        self.m = float(X.shape[0])

    def fun(self, w):
        return float(logistic_loss(self.Xy @ w).sum() / self.m + 0.5 * self.l2 * (w @ w))

    def jac(self, w):
        return self.Xy.T @ logistic_loss_deriv(self.Xy @ w) / self.m + self.l2 * w

    def hess(self, w):
        d = logistic_loss_curvature(self.Xy @ w)
        return (self.X.T * d) @ self.X / self.m + self.l2 * np.eye(self.X.shape[1])

    def hessp(self, w, p):
        d = logistic_loss_curvature(self.Xy @ w)
        return self.X.T @ (d * (self.X @ p)) / self.m + self.l2 * p

    def hess_fisher(self, w):
        """Empirical Fisher ``mean_i g_i g_iᵀ + l2 I`` (``g_i`` the per-sample gradients)."""
        G = self.Xy * logistic_loss_deriv(self.Xy @ w)[:, None]
        return G.T @ G / self.m + self.l2 * np.eye(self.X.shape[1])
