"""The :func:`numopt.minimize` methods of :mod:`numopt.newton`, declared in one place.

Collected by ``numopt/_minimize.py`` through the package's ``MINIMIZE_METHODS``:
one dict of :class:`numopt._minimize.MethodSpec` fields per method, targets
relative to this package.
"""
__all__ = ["MINIMIZE_METHODS"]

MINIMIZE_METHODS = (
    dict(name="gn-newton", target="._gn_newton:_minimize_gn_newton",
         summary="regularized Newton, gradient-normalized smoothness (approximate Hessians)",
         uses_jac=True, uses_hess=True, uses_hessp=True, tol_options=("gtol",)),
)
