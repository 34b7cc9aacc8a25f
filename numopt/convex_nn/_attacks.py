"""ℓ∞ adversarial attacks (FGSM, PGD) on a binary ReLU network classifier."""
import numpy as np

from .._array_api import device, from_host
from .._validation import check_array, check_rng, check_scalar
from ._core import ReLUNetwork

__all__ = ["fgsm_attack", "pgd_attack"]


def _signed_labels(y, n, xp, dtype):
    y = check_array(y, "y", ndim=1, shape=(n,), dtype=dtype, xp=xp)
    if bool(xp.all((y == 0) | (y == 1))):
        return 2.0 * y - 1.0
    if bool(xp.all((y == -1) | (y == 1))):
        return y
    raise ValueError("`y` must hold binary labels in {0, 1} or {-1, 1}")


def _check(network, X, y, eps):
    if not isinstance(network, ReLUNetwork):
        raise TypeError(f"`network` must be a ReLUNetwork, got {type(network).__name__}")
    xp = network._xp
    dtype = np.float64 if xp is np else network.hidden_weights.dtype
    X = check_array(X, "X", ndim=2, dtype=dtype, xp=xp)
    s = _signed_labels(y, X.shape[0], xp, dtype)
    eps = check_scalar(eps, "eps", lower=0.0)
    return X, s, eps, xp


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
    array, shape (n, d)
        Perturbed inputs (a new array). For a network whose weights are
        arrays of a non-NumPy namespace (see :class:`ReLUNetwork`), ``X`` and
        ``y`` must be of that namespace and the result is too, on the same
        device.

    Examples
    --------
    >>> import numpy as np
    >>> from numopt.convex_nn import ReLUNetwork, fgsm_attack
    >>> net = ReLUNetwork(np.array([[1.0]]), np.zeros(1), np.array([1.0]))  # relu(x)
    >>> fgsm_attack(net, np.array([[0.5]]), np.array([1]), 0.2)
    array([[0.3]])
    """
    X, s, eps, xp = _check(network, X, y, eps)
    g = network.input_gradient(X) * s[:, None]
    return X - eps * xp.sign(g)


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
    array, shape (n, d)
        Perturbed inputs, in the namespace and on the device of the network
        and ``X`` (see :func:`fgsm_attack`). For device arrays the random start
        is drawn from ``rng`` on the host and copied once (the only host step).
    """
    X, s, eps, xp = _check(network, X, y, eps)
    n_steps = check_scalar(n_steps, "n_steps", lower=1, integer=True)
    step = 2.5 * eps / n_steps if step_size is None else check_scalar(step_size, "step_size",
                                                                       lower=0.0)
    rng = check_rng(rng)
    if xp is not np:
        return _pgd_xp(network, X, s, eps, n_steps, step, rng, xp)
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


def _pgd_xp(network, X, s, eps, n_steps, step, rng, xp):
    """:func:`pgd_attack` on a device: the same iteration with ``where`` for the updates."""
    delta = from_host(rng.uniform(-eps, eps, size=X.shape), xp, device(X), dtype=X.dtype)
    best = X
    best_margin = s * network.predict(X)
    for _ in range(n_steps + 1):
        Z = X + delta
        margin = s * network.predict(Z)
        best = xp.where((margin < best_margin)[:, None], Z, best)
        best_margin = xp.minimum(margin, best_margin)
        g = network.input_gradient(Z) * s[:, None]
        delta = xp.clip(delta - step * xp.sign(g), min=-eps, max=eps)
    return best
