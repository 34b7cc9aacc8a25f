"""A small container for test problems."""
from dataclasses import dataclass, field
from typing import Any, Callable, Optional

import numpy as np

__all__ = ["TestProblem"]


@dataclass
class TestProblem:
    """A test problem with exact derivatives.

    Attributes
    ----------
    name : str
    fun, jac, hess, hessp : callable
        ``fun(x)``, ``jac(x)``, ``hess(x)`` and ``hessp(x, p)``.
    x0 : ndarray
        Standard starting point.
    x_opt : ndarray or None
        Known minimizer, when available in closed form.
    f_opt : float or None
        Known optimal value.
    extra : dict
        Problem-specific approximations and data (e.g. ``'hess_fisher'``).
    """

    __test__ = False  # not a pytest class

    name: str
    fun: Callable
    jac: Callable
    hess: Callable
    hessp: Optional[Callable]
    x0: np.ndarray
    x_opt: Optional[np.ndarray] = None
    f_opt: Optional[float] = None
    extra: dict = field(default_factory=dict)

    def __getitem__(self, key) -> Any:
        return self.extra[key]
