"""numopt.constrained's :func:`numopt.minimize` methods (see docs/developer.rst)."""

MINIMIZE_METHODS = (
    dict(name="sketch-alm", target="._sketch_alm:_minimize_sketch_alm",
         summary="exact augmented Lagrangian Newton with randomized sketching (equality "
                 "constraints)",
         uses_jac=True, uses_hess=True, uses_hessp=True, constraints="eq", stochastic=False,
         tol_options=("gtol",), array_api=True),
)
