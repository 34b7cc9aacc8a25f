"""numopt.newton's :func:`numopt.minimize` methods (see docs/developer.rst)."""

MINIMIZE_METHODS = (
    dict(name="gn-newton", target="._gn_newton:_minimize_gn_newton",
         summary="regularized Newton, gradient-normalized smoothness (approximate Hessians)",
         uses_jac=True, uses_hess=True, uses_hessp=True, tol_options=("gtol",),
         array_api=True),
)
