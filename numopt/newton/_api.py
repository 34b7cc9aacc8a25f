"""Functional entry point for the gradient-normalized-smoothness Newton method."""
from .._minimize import minimize

__all__ = ["gn_newton"]

# Kept repetition (`duplicates` pairs it with constrained/_api.py and with docstrings in
# sampling/_bases.py, problems/_linalg.py): the fun/x0/jac/hess/callback entries and the
# Returns/Examples layout of minimize's functional shorthands. Each public function
# documents itself in full (help(), the API pages); the code is one call to minimize.


def gn_newton(fun, x0, jac=None, hess=None, hessp=None, args=(), callback=None, **options):
    """Minimize ``fun`` with the regularized Newton method of Semenov, Jaggi, Doikov.

    Shorthand for ``numopt.minimize(fun, x0, method='gn-newton', ...)``;
    keyword ``options`` are the method's options (see
    ``numopt.show_options('gn-newton')``).

    Array namespaces: an ``x0`` of PyTorch, CuPy or another Array API
    library runs the generic path on ``x0``'s device (callables receive its
    arrays; dense Cholesky or CG through ``xp``; results there, in float64);
    sparse Hessians and LinearOperators are host-only (NumPy).

    Parameters
    ----------
    fun : callable
        ``fun(x, *args) -> float``.
    x0 : array_like, shape (n,)
        Starting point (NumPy or any Array API array; its namespace and
        device are kept).
    jac : callable or bool, optional
        Gradient (finite differences when omitted).
    hess : callable, optional
        Exact Hessian or an approximation (Gauss-Newton, Fisher), returning a
        dense array, a sparse matrix or a LinearOperator.
    hessp : callable, optional
        Hessian-vector product, used with conjugate gradients.
    args : tuple
        Extra arguments for the callables.
    callback : callable, optional
        ``callback(intermediate_result)``.
    **options
        ``gtol``, ``maxiter``, ``gamma0``, ``solver``, ...

    Returns
    -------
    res : OptimizeResult
        ``x``, ``fun``, ``jac``, ``nit``, ``success``, ``status`` and
        ``message``, as from ``numopt.minimize(..., method='gn-newton')``.

    Examples
    --------
    >>> import numpy as np
    >>> from numopt.newton import gn_newton
    >>> A = np.array([[3.0, 1.0], [1.0, 2.0]]); b = np.array([1.0, -1.0])
    >>> res = gn_newton(lambda x: 0.5 * x @ A @ x - b @ x, np.zeros(2),
    ...                 jac=lambda x: A @ x - b, hess=lambda x: A)
    >>> bool(np.allclose(res.x, np.linalg.solve(A, b)))
    True
    """
    return minimize(fun, x0, args=args, method="gn-newton", jac=jac, hess=hess, hessp=hessp,
                    callback=callback, options=options)
