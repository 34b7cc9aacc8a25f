"""The :func:`numopt.minimize` methods of :mod:`numopt.coordinate`, declared in one place.

Collected by ``numopt/_minimize.py`` through the package's ``MINIMIZE_METHODS``:
one dict of :class:`numopt._minimize.MethodSpec` fields per method, targets
relative to this package.
"""
__all__ = ["MINIMIZE_METHODS"]

MINIMIZE_METHODS = (
    dict(name="bcd", target="._bcd:_minimize_bcd",
         summary="block coordinate descent (cyclic/random/greedy blocks, Lipschitz or "
                 "line-search steps)",
         uses_jac=True, tol_options=("gtol",)),
)
