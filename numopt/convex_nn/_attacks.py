"""ℓ∞ adversarial attacks (FGSM, PGD) on a binary ReLU network classifier."""
import numpy as np

from .._validation import check_array, check_rng, check_scalar
from ._core import ReLUNetwork

__all__ = ["fgsm_attack", "pgd_attack"]


def _signed_labels(y, n):
    y = check_array(y, "y", ndim=1, shape=(n,), dtype=np.float64)
    if np.all((y == 0) | (y == 1)):
        return 2.0 * y - 1.0
    if np.all((y == -1) | (y == 1)):
        return y
    raise ValueError("`y` must hold binary labels in {0, 1} or {-1, 1}")


def _check(network, X, y, eps):
    if not isinstance(network, ReLUNetwork):
        raise TypeError(f"`network` must be a ReLUNetwork, got {type(network).__name__}")
    X = check_array(X, "X", ndim=2, dtype=np.float64)
    s = _signed_labels(y, X.shape[0])
    eps = check_scalar(eps, "eps", lower=0.0)
    return X, s, eps


def fgsm_attack(network, X, y, eps):
    """Fast gradient sign attack: ``x − eps * sign(y ∇_x f(x))`` (decreases the margin).

    Parameters
    ----------
    network : ReLUNetwork
        Binary classifier (positive output: label 1).
    X : array_like, shape (n, d)
    y : array_like, shape (n,)
        Labels in {0, 1} or {−1, 1}.
    eps : float
        ℓ∞ radius.

    Returns
    -------
    ndarray, shape (n, d)
        Perturbed inputs (a new array).

    Examples
    --------
    >>> import numpy as np
    >>> from numopt.convex_nn import ReLUNetwork, fgsm_attack
    >>> net = ReLUNetwork(np.array([[1.0]]), np.zeros(1), np.array([1.0]))  # relu(x)
    >>> fgsm_attack(net, np.array([[0.5]]), np.array([1]), 0.2)
    array([[0.3]])
    """
    X, s, eps = _check(network, X, y, eps)
    g = network.input_gradient(X) * s[:, None]
    return X - eps * np.sign(g)


def pgd_attack(network, X, y, eps, n_steps=40, step_size=None, rng=None):
    """Projected gradient (sign) descent on the margin ``y f(x + δ)``, ``‖δ‖∞ <= eps``.

    Starts from a uniform random point of the ball (``rng``) and keeps, per
    sample, the perturbation with the smallest margin seen.

    Parameters
    ----------
    network : ReLUNetwork
    X : array_like, shape (n, d)
    y : array_like, shape (n,)
        Labels in {0, 1} or {−1, 1}.
    eps : float
        ℓ∞ radius.
    n_steps : int
    step_size : float, optional
        Default ``2.5 eps / n_steps``.
    rng : {None, int, numpy.random.Generator}

    Returns
    -------
    ndarray, shape (n, d)
        Perturbed inputs.
    """
    X, s, eps = _check(network, X, y, eps)
    n_steps = check_scalar(n_steps, "n_steps", lower=1, integer=True)
    step = 2.5 * eps / n_steps if step_size is None else check_scalar(step_size, "step_size",
                                                                       lower=0.0)
    rng = check_rng(rng)
    delta = rng.uniform(-eps, eps, size=X.shape)
    best = X.copy()
    best_margin = s * network.predict(X)
    for _ in range(n_steps + 1):
        Z = X + delta
        margin = s * network.predict(Z)
        better = margin < best_margin
        best[better] = Z[better]
        best_margin = np.minimum(margin, best_margin)
        g = network.input_gradient(Z) * s[:, None]
        delta = np.clip(delta - step * np.sign(g), -eps, eps)
    return best
