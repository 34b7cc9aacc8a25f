"""The :func:`numopt.minimize` methods of :mod:`numopt.constrained`, declared in one place.

Collected by ``numopt/_minimize.py`` through the package's ``MINIMIZE_METHODS``:
one dict of :class:`numopt._minimize.MethodSpec` fields per method, targets
relative to this package.
"""
__all__ = ["MINIMIZE_METHODS"]

MINIMIZE_METHODS = (
    dict(name="sketch-alm", target="._sketch_alm:_minimize_sketch_alm",
         summary="exact augmented Lagrangian Newton with randomized sketching (equality "
                 "constraints)",
         uses_jac=True, uses_hess=True, uses_hessp=True, constraints="eq", stochastic=False,
         tol_options=("gtol",)),
)
