"""Functional entry point for the sketched exact augmented Lagrangian method."""
from .._minimize import minimize

__all__ = ["sketch_alm"]

# Kept repetition (`duplicates` pairs it with newton/_api.py and with docstrings in
# sampling/_bases.py, problems/_linalg.py): the fun/x0/jac/hess/callback entries and the
# Returns/Examples layout of minimize's functional shorthands. Each public function
# documents itself in full (help(), the API pages); the code is one call to minimize.


def sketch_alm(fun, x0, constraints, jac=None, hess=None, hessp=None, args=(),
               callback=None, rng=None, **options):
    """Minimize ``fun`` subject to equality constraints (AdaSketch-Newton).

    Shorthand for ``numopt.minimize(fun, x0, method='sketch-alm', ...)``;
    keyword ``options`` are the method's options (see
    ``numopt.show_options('sketch-alm')``).

    Array namespaces: an ``x0`` of PyTorch, CuPy or another Array API
    library runs the generic path on ``x0``'s device (dense KKT algebra and
    sketching through ``xp.linalg``; sketches drawn from ``rng`` on the host
    and copied over; results there, in float64). Sparse matrices,
    LinearOperators, ``solver='kaczmarz'`` and quasi-Newton updates are
    host-only (NumPy) and raise ``TypeError`` for device arrays.

    Parameters
    ----------
    fun : callable
        ``fun(x, *args) -> float``.
    x0 : array_like, shape (n,)
        Starting point (NumPy or any Array API array; its namespace and
        device are kept).
    constraints : dict, NonlinearConstraint, LinearConstraint or list
        Equality constraints: ``{'type': 'eq', 'fun': c, 'jac': J, 'hess':
        H}`` with ``H(x, v)`` the Hessian of ``vᵀc``, or SciPy constraint
        objects with ``lb == ub``.
    jac, hess, hessp : callable, optional
        Gradient, Hessian and Hessian-vector product of ``fun``.
    args : tuple
        Extra arguments for ``fun``, ``jac``, ``hess``, ``hessp``.
    callback : callable, optional
        ``callback(intermediate_result)``.
    rng : {None, int, numpy.random.Generator}
        Randomness of the sketches.
    **options
        ``gtol``, ``maxiter``, ``solver``, ``block_size``, ``theta``, ...

    Returns
    -------
    res : OptimizeResult
        ``x``, ``fun``, ``multipliers`` (stacked), ``v`` (per constraint),
        ``success``, ``status`` and ``message``.

    Examples
    --------
    >>> import numpy as np
    >>> from numopt.constrained import sketch_alm
    >>> res = sketch_alm(lambda x: x @ x, [1.0, 2.0],
    ...                  {'type': 'eq', 'fun': lambda x: x[0] + x[1] - 1},
    ...                  jac=lambda x: 2 * x, rng=0)
    >>> res.success, np.round(res.x, 6), np.round(res.multipliers, 6)
    (True, array([0.5, 0.5]), array([-1.]))
    """
    return minimize(fun, x0, args=args, method="sketch-alm", jac=jac, hess=hess,
                    hessp=hessp, constraints=constraints, callback=callback,
                    options=options, rng=rng)
