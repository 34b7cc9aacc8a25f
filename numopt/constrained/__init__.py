"""Equality-constrained optimization: exact augmented Lagrangian + sketching.

Reached through :func:`numopt.minimize` with ``method='sketch-alm'``;
:func:`sketch_alm` is the same solver as a function.
"""
from ._api import sketch_alm
from ._methods import MINIMIZE_METHODS  # noqa: F401  (collected by numopt.minimize)

__all__ = ["sketch_alm"]
