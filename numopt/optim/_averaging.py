"""Iterate averaging (recommended with DoG / L-DoG)."""
from .._validation import check_scalar
from ._tree import tree_copy, tree_leaves

__all__ = ["PolynomialDecayAverager"]


class PolynomialDecayAverager:
    """Polynomial-decay iterate average (Shamir & Zhang, 2013), as in DoG's code.

    ``x̄_t = (1 - w_t) x̄_{t-1} + w_t x_t`` with ``w_t = (1 + γ) / (t + γ)``
    (``w_1 = 1``, so ``x̄_1 = x_1``). ``γ = 0`` is the uniform average; DoG's
    authors use ``γ = 8`` and report that averaging matters for DoG.

    Parameters
    ----------
    params : tree of arrays
        Gives the structure; the average starts as a copy of it (replaced
        entirely at the first :meth:`update`).
    gamma : float
        Decay parameter ``γ >= 0`` (default 8).

    Attributes
    ----------
    average : tree of arrays
    t : int
        Number of iterates averaged.

    Examples
    --------
    >>> import numpy as np
    >>> from numopt.optim import PolynomialDecayAverager
    >>> avg = PolynomialDecayAverager(np.zeros(1), gamma=0.0)
    >>> for x in [1.0, 2.0, 3.0]:
    ...     _ = avg.update(np.array([x]))
    >>> avg.average
    array([2.])
    """

    def __init__(self, params, gamma=8.0):
        self.gamma = check_scalar(gamma, "gamma", lower=0.0)
        self.average = tree_copy(params)
        self.t = 0

    def update(self, params):
        """Fold ``params`` into the average (no reference to ``params`` is kept)."""
        self.t += 1
        w = (1.0 + self.gamma) / (self.t + self.gamma)
        for a, x in zip(tree_leaves(self.average), tree_leaves(params)):
            if a.shape != x.shape:
                raise ValueError(f"`params` leaf of shape {x.shape} does not match the "
                                 f"average's {a.shape}")
            a *= 1.0 - w
            a += w * x
        return self.average
