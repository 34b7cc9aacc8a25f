"""The containers every generator of :mod:`numopt.problems` returns.

Objectives come as a :class:`TestProblem` (constrained ones as its subclass
``ConstrainedTestProblem``), data sets as :class:`RegressionData` (or
``GraphData`` for graphs), vectorized test functions as :class:`TestFunction`;
OT instances and linear-system sequences have their own ``OTProblem`` and
``SystemSequence``. All have named fields; none is a bare tuple or callable.
"""
from dataclasses import dataclass, field
from typing import Any, Callable, Optional

import numpy as np

__all__ = ["TestProblem", "RegressionData", "TestFunction"]


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


@dataclass
class RegressionData:
    """A data set: design matrix ``X`` (dense or CSC sparse), targets ``y``, planted ``w``.

    Unpacks as ``X, y = data`` (the two arrays every estimator takes).

    Attributes
    ----------
    X : ndarray or sparse matrix, shape (n_samples, n_features)
    y : ndarray, shape (n_samples,)
    w : ndarray or None
        The planted coefficients the targets were generated from, when the
        generator has them.

    Examples
    --------
    >>> import numpy as np
    >>> from numopt.problems import RegressionData
    >>> X, y = RegressionData(np.eye(2), np.ones(2))
    >>> X.shape, y.shape
    ((2, 2), (2,))
    """

    X: Any
    y: np.ndarray
    w: Optional[np.ndarray] = None

    def __iter__(self):
        return iter((self.X, self.y))


class TestFunction:
    """A vectorized test function ``f(x)`` for points ``x`` of shape ``(N, d)``.

    Calling it evaluates the function; ``name`` and ``params`` describe it.

    Examples
    --------
    >>> import numpy as np
    >>> from numopt.problems import runge
    >>> f = runge(25.0)
    >>> f.name, f.params, float(f(np.zeros((1, 3)))[0])
    ('runge', {'alpha': 25.0}, 1.0)
    """

    __test__ = False  # not a pytest class

    def __init__(self, name, fun, **params):
        self.name = name
        self.params = params
        self._fun = fun

    def __call__(self, x):
        return self._fun(x)

    def __repr__(self):
        args = ", ".join(f"{k}={v!r}" for k, v in self.params.items())
        return f"{self.name}({args})"
