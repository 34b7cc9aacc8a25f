"""Hock-Schittkowski equality-constrained test problems.

Hock, W. and Schittkowski, K. (1981), *Test Examples for Nonlinear Programming
Codes*, Lecture Notes in Economics and Mathematical Systems 187, Springer.
Only the problems whose constraints are all equalities (and that have no
bounds) are included. Derivatives (gradient, Hessian, constraint Jacobian and
the Hessian of ``vᵀc``) are generated symbolically in :mod:`._hs_data`.
"""
from dataclasses import dataclass, field
from typing import Callable

import numpy as np
from scipy.optimize import NonlinearConstraint

from . import _hs_data as _d
from ._base import TestProblem

__all__ = ["ConstrainedTestProblem", "hs_problem", "hs_problems", "HS_EQUALITY"]


@dataclass
class ConstrainedTestProblem(TestProblem):
    """``min f(x)`` subject to ``c(x) = 0``, with exact derivatives.

    A :class:`TestProblem` (same fields in the same order: ``name, fun, jac,
    hess, hessp, x0, x_opt, f_opt, extra``) plus the constraints, which are
    keyword-only.

    Attributes
    ----------
    name : str
    fun, jac, hess, hessp : callable
        ``f(x)``, ``∇f(x)``, ``∇²f(x)`` and ``∇²f(x) p``.
    x0 : ndarray
        Standard starting point.
    x_opt : ndarray or None
        Known minimizer, when available.
    f_opt : float or None
        Known optimal value (None when only a local value is known).
    extra : dict
        Problem data.
    cons, cons_jac : callable
        ``c(x)`` (shape ``(m,)``) and its Jacobian (``(m, n)``, dense or sparse).
    cons_hess : callable
        ``cons_hess(x, v)``: the Hessian of ``vᵀc`` at ``x`` (SciPy's
        :class:`~scipy.optimize.NonlinearConstraint` convention).
    """

    cons: Callable = field(kw_only=True)
    cons_jac: Callable = field(kw_only=True)
    cons_hess: Callable = field(kw_only=True)

    @property
    def n(self):
        """Number of variables."""
        return int(np.size(self.x0))

    @property
    def m(self):
        """Number of equality constraints."""
        return int(np.size(self.cons(self.x0)))

    def constraints(self, kind="dict"):
        """The constraints in SciPy form.

        Parameters
        ----------
        kind : {'dict', 'scipy'}
            ``'dict'``: ``[{'type': 'eq', 'fun', 'jac', 'hess'}]`` (SLSQP
            style plus ``hess``); ``'scipy'``: a
            :class:`~scipy.optimize.NonlinearConstraint` with ``lb = ub = 0``.
        """
        if kind == "dict":
            return [{"type": "eq", "fun": self.cons, "jac": self.cons_jac,
                     "hess": self.cons_hess}]
        if kind == "scipy":
            return NonlinearConstraint(self.cons, 0.0, 0.0, jac=self.cons_jac,
                                       hess=self.cons_hess)
        raise ValueError(f"`kind` must be 'dict' or 'scipy', got {kind!r}")

    def kkt_residual(self, x, v):
        """``max(‖∇f + Jᵀv‖∞, ‖c‖∞)`` at ``(x, v)``."""
        gl = self.jac(x) + self.cons_jac(x).T @ v
        return float(max(np.max(np.abs(gl)), np.max(np.abs(self.cons(x)))))


_A56 = float(np.arcsin(np.sqrt(1 / 4.2)))
_B56 = float(np.arcsin(np.sqrt(5 / 7.2)))

#: number -> (x0, f_opt); f_opt None: only a local value is published (HS47).
_TABLE = {
    6: ((-1.2, 1.0), 0.0),
    7: ((2.0, 2.0), -np.sqrt(3.0)),
    27: ((2.0, 2.0, 2.0), 0.04),
    28: ((-4.0, 1.0, 1.0), 0.0),
    39: ((2.0,) * 4, -1.0),
    40: ((0.8,) * 4, -0.25),
    42: ((1.0,) * 4, 28.0 - 10.0 * np.sqrt(2.0)),
    47: ((2.0, np.sqrt(2.0), -1.0, 2.0 - np.sqrt(2.0), 0.5), None),
    48: ((3.0, 5.0, -3.0, 2.0, -2.0), 0.0),
    50: ((35.0, -31.0, 11.0, 5.0, -5.0), 0.0),
    51: ((2.5, 0.5, 2.0, -1.0, 0.5), 0.0),
    52: ((2.0,) * 5, 1859.0 / 349.0),
    56: ((1.0, 1.0, 1.0, _A56, _A56, _A56, _B56), -3.456),
    61: ((0.0, 0.0, 0.0), -143.6461422),
    77: ((2.0,) * 5, 0.24150513),
    78: ((-2.0, 1.5, 2.0, -1.0, -1.0), -2.91970041),
    79: ((2.0,) * 5, 0.0787768209),
}

#: The HS problem numbers available from :func:`hs_problem`.
HS_EQUALITY = tuple(sorted(_TABLE))


def hs_problem(number):
    """One Hock-Schittkowski equality-constrained problem.

    Parameters
    ----------
    number : int
        One of :data:`HS_EQUALITY`: 6, 7, 27, 28, 39, 40, 42, 47, 48, 50,
        51, 52, 56, 61, 77, 78, 79.

    Returns
    -------
    ConstrainedTestProblem
        With the standard start and the published optimal value. HS47's
        published value 0 is only a local minimum (``f_opt`` is None).

    Examples
    --------
    >>> from numopt.problems import hs_problem
    >>> p = hs_problem(28)
    >>> p.n, p.m, p.f_opt
    (3, 1, 0.0)
    >>> float(p.cons(p.x0)[0])
    -0.0
    """
    if isinstance(number, bool) or not isinstance(number, (int, np.integer)) \
            or int(number) not in _TABLE:
        raise ValueError(f"`number` must be one of {HS_EQUALITY}, got {number!r}")
    k = int(number)
    x0, f_opt = _TABLE[k]
    f, g, h = getattr(_d, f"_hs{k}_f"), getattr(_d, f"_hs{k}_g"), getattr(_d, f"_hs{k}_h")

    def hessp(x, p):
        return h(x) @ p

    return ConstrainedTestProblem(
        f"HS{k}", f, g, h, hessp, np.array(x0, dtype=float),
        f_opt=None if f_opt is None else float(f_opt), cons=getattr(_d, f"_hs{k}_c"),
        cons_jac=getattr(_d, f"_hs{k}_j"), cons_hess=getattr(_d, f"_hs{k}_ch"))


def hs_problems():
    """All problems of :data:`HS_EQUALITY`, in order (a list).

    Examples
    --------
    >>> from numopt.problems import hs_problems
    >>> [p.name for p in hs_problems()][:3]
    ['HS6', 'HS7', 'HS27']
    """
    return [hs_problem(k) for k in HS_EQUALITY]
