"""Data generators for two-layer ReLU networks: teacher-student regression, two spirals."""
import numpy as np

from .._validation import check_rng, check_scalar
from ._base import RegressionData

__all__ = ["teacher_student_relu", "two_spirals"]


def teacher_student_relu(n_samples=200, n_features=10, n_hidden=5, noise=0.1, rng=None):
    """Regression data from a random two-layer ReLU "teacher" network.

    ``x ~ N(0, I/d)``, ``y = sum_j a_j max(x^T u_j + b_j, 0) + noise * N(0, 1)`` with
    ``u_j ~ N(0, I)``, ``b_j ~ N(0, 0.1)`` and ``a_j = ±1``.

    Parameters
    ----------
    n_samples, n_features, n_hidden : int
    noise : float
        Standard deviation of the additive Gaussian noise.
    rng : {None, int, numpy.random.Generator}

    Returns
    -------
    RegressionData
        ``X`` (n_samples, n_features) and ``y`` (n_samples,); unpacks as
        ``X, y``.

    Examples
    --------
    >>> from numopt.problems import teacher_student_relu
    >>> X, y = teacher_student_relu(50, 3, rng=0)
    >>> X.shape, y.shape
    ((50, 3), (50,))
    """
    n_samples = check_scalar(n_samples, "n_samples", lower=1, integer=True)
    n_features = check_scalar(n_features, "n_features", lower=1, integer=True)
    n_hidden = check_scalar(n_hidden, "n_hidden", lower=1, integer=True)
    noise = check_scalar(noise, "noise", lower=0.0)
    rng = check_rng(rng)
    X = rng.standard_normal((n_samples, n_features)) / np.sqrt(n_features)
    U = rng.standard_normal((n_features, n_hidden))
    b = 0.1 * rng.standard_normal(n_hidden)
    a = np.where(np.arange(n_hidden) % 2 == 0, 1.0, -1.0)
    y = np.maximum(X @ U + b, 0.0) @ a + noise * rng.standard_normal(n_samples)
    return RegressionData(X, y)


def two_spirals(n_samples=200, noise=0.05, turns=1.5, labels=(-1, 1), rng=None):
    """Two interleaved planar spirals, a classic non-linearly-separable binary problem.

    Parameters
    ----------
    n_samples : int
        Total number of points (split between the two classes).
    noise : float
        Standard deviation of Gaussian jitter added to the points.
    turns : float
        Number of turns of each spiral.
    labels : tuple of two numbers
        Class labels, ``(-1, 1)`` or ``(0, 1)``.
    rng : {None, int, numpy.random.Generator}

    Returns
    -------
    RegressionData
        ``X`` (n_samples, 2), points in roughly ``[-1, 1]^2``, and the labels
        ``y`` (n_samples,); unpacks as ``X, y``.

    Examples
    --------
    >>> from numopt.problems import two_spirals
    >>> X, y = two_spirals(100, rng=0)
    >>> sorted(set(y.tolist()))
    [-1.0, 1.0]
    """
    n_samples = check_scalar(n_samples, "n_samples", lower=2, integer=True)
    noise = check_scalar(noise, "noise", lower=0.0)
    turns = check_scalar(turns, "turns", lower=0.0, lower_inclusive=False)
    rng = check_rng(rng)
    n0 = n_samples // 2
    n1 = n_samples - n0
    out_X, out_y = [], []
    for cls, m, phase in ((0, n0, 0.0), (1, n1, np.pi)):
        t = np.sqrt(rng.random(m)) * turns * 2.0 * np.pi
        r = t / (turns * 2.0 * np.pi)
        pts = np.column_stack([r * np.cos(t + phase), r * np.sin(t + phase)])
        out_X.append(pts + noise * rng.standard_normal((m, 2)))
        out_y.append(np.full(m, float(labels[cls])))
    return RegressionData(np.vstack(out_X), np.concatenate(out_y))
