"""Regularized Newton methods with approximate Hessians.

Reached through :func:`numopt.minimize` with ``method='gn-newton'``;
:func:`gn_newton` is the same solver as a function.
"""
from ._api import gn_newton
from ._methods import MINIMIZE_METHODS  # noqa: F401  (collected by numopt.minimize)

__all__ = ["gn_newton"]
