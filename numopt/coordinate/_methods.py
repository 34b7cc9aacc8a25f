"""numopt.coordinate's :func:`numopt.minimize` methods (see docs/developer.rst)."""

MINIMIZE_METHODS = (
    dict(name="bcd", target="._bcd:_minimize_bcd",
         summary="block coordinate descent (cyclic/random/greedy blocks, Lipschitz or "
                 "line-search steps)",
         uses_jac=True, tol_options=("gtol",)),
)
