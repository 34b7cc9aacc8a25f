"""The objective seen by numopt's own minimize methods.

:func:`numopt.minimize` wraps the user's ``fun``/``jac``/``hess``/``hessp``
into an :class:`Objective` that counts evaluations, caches the last point,
checks output shapes, and supplies finite-difference gradients when ``jac``
is not given. Method implementations take an ``Objective`` as their first
argument, so they never see ``args`` or the user's calling conventions.
"""
import numpy as np
from scipy.optimize._numdiff import approx_derivative

__all__ = ["Objective"]

_FD_SCHEMES = ("2-point", "3-point", "cs")


class Objective:
    """Counted, cached access to ``f``, ``∇f``, ``∇²f`` and Hessian products.

    Attributes
    ----------
    n : int
        Number of variables.
    nfev, njev, nhev : int
        Evaluation counters (finite-difference evaluations count in ``nfev``).
    has_hess, has_hessp : bool
        Whether the user supplied ``hess`` / ``hessp``.
    fd_method : str or None
        The finite-difference scheme of the gradient (``'2-point'``,
        ``'3-point'`` or ``'cs'``) when ``jac`` is not a callable or True.
    constraints, bounds
        Passed through unchanged for methods that use them.
    """

    def __init__(self, fun, x0, args=(), jac=None, hess=None, hessp=None,
                 constraints=(), bounds=None):
        self._fun = fun
        self._args = tuple(args)
        self.n = int(np.size(x0))
        self.dtype = np.asarray(x0).dtype
        self.constraints = constraints
        self.bounds = bounds
        self.nfev = self.njev = self.nhev = 0
        self._x = None
        self._f = None
        self._g = None
        if jac is True:
            self._mode = "combined"
        elif callable(jac):
            self._mode = "callable"
            self._jac = jac
        elif jac is None or jac is False or jac in _FD_SCHEMES:
            self._mode = "fd"
            self._fd_method = "2-point" if jac in (None, False) else jac
        else:
            raise ValueError(f"`jac` must be callable, True, or one of {_FD_SCHEMES}; "
                             f"got {jac!r}")
        if hess is not None and not callable(hess):
            raise TypeError(f"`hess` must be callable or None, got {type(hess).__name__}")
        if hessp is not None and not callable(hessp):
            raise TypeError(f"`hessp` must be callable or None, got {type(hessp).__name__}")
        self._hess = hess
        self._hessp = hessp
        self.has_hess = hess is not None
        self.has_hessp = hessp is not None
        self.has_jac = self._mode != "fd"
        self.fd_method = None if self.has_jac else self._fd_method

    # -- helpers -----------------------------------------------------------------
    def _same(self, x):
        return self._x is not None and np.array_equal(x, self._x)

    def _check_f(self, f):
        arr = np.asarray(f)
        if arr.size != 1:
            raise ValueError(f"`fun` must return a scalar, got an array of shape {arr.shape}")
        return float(arr.reshape(()))

    def _check_g(self, g):
        g = np.asarray(g, dtype=float)
        if g.size != self.n or g.ndim > 1 and max(g.shape) != g.size:
            raise ValueError(f"`jac` must return an array of shape ({self.n},), got "
                             f"{g.shape}")
        return g.reshape(self.n)

    def _raw_f(self, x):
        self.nfev += 1
        return self._check_f(self._fun(x.copy(), *self._args))

    # -- public API ---------------------------------------------------------------
    def fun(self, x):
        """f(x)."""
        if self._same(x) and self._f is not None:
            return self._f
        if self._mode == "combined":
            return self.fun_and_grad(x)[0]
        f = self._raw_f(x)
        self._x, self._f, self._g = np.array(x, copy=True), f, None
        return f

    def grad(self, x):
        """∇f(x) as a 1-D float array (a fresh copy)."""
        return self.fun_and_grad(x)[1]

    def fun_and_grad(self, x):
        """(f(x), ∇f(x))."""
        if self._same(x) and self._f is not None and self._g is not None:
            return self._f, self._g.copy()
        if self._mode == "combined":
            self.nfev += 1
            self.njev += 1
            out = self._fun(x.copy(), *self._args)
            if not (isinstance(out, tuple) and len(out) == 2):
                raise ValueError("with `jac=True`, `fun` must return a tuple (f, grad)")
            f, g = self._check_f(out[0]), self._check_g(out[1])
        else:
            f = self._f if (self._same(x) and self._f is not None) else self._raw_f(x)
            if self._mode == "callable":
                self.njev += 1
                g = self._check_g(self._jac(x.copy(), *self._args))
            else:
                g = self._fd_grad(x, f)
        self._x, self._f, self._g = np.array(x, copy=True), f, g
        return f, g.copy()

    def _fd_grad(self, x, f0):
        count = [0]

        complex_step = self._fd_method == "cs"

        def fx(z):
            count[0] += 1
            val = self._fun(z, *self._args)
            if complex_step:  # the imaginary part carries the derivative
                return np.asarray(val).reshape(())
            return self._check_f(val)

        g = approx_derivative(fx, np.asarray(x, dtype=float), method=self._fd_method, f0=f0)
        self.nfev += count[0]
        return np.asarray(g, dtype=float).reshape(self.n)

    def hess(self, x):
        """The user's ``hess(x)``: dense array, sparse matrix or LinearOperator."""
        if self._hess is None:
            raise ValueError("this method needs `hess`, which was not given")
        self.nhev += 1
        H = self._hess(x.copy(), *self._args)
        shape = getattr(H, "shape", None)
        if shape is None:
            H = np.asarray(H, dtype=float)
            shape = H.shape
        if tuple(shape) != (self.n, self.n):
            raise ValueError(f"`hess` must return a ({self.n}, {self.n}) matrix, got "
                             f"shape {tuple(shape)}")
        return H

    def hessp(self, x, p):
        """∇²f(x) p: the user's ``hessp``, ``hess(x) @ p``, or a gradient difference."""
        if self._hessp is not None:
            self.nhev += 1
            hp = np.asarray(self._hessp(x.copy(), p.copy(), *self._args), dtype=float)
            if hp.size != self.n:
                raise ValueError(f"`hessp` must return an array of shape ({self.n},), "
                                 f"got {hp.shape}")
            return hp.reshape(self.n)
        if self._hess is not None:
            return np.asarray(self.hess(x) @ p, dtype=float).reshape(self.n)
        # forward difference of the gradient along p
        pn = np.linalg.norm(p)
        if pn == 0:
            return np.zeros(self.n)
        eps = np.sqrt(np.finfo(float).eps) * (1.0 + np.linalg.norm(x)) / pn
        g0 = self.grad(x)
        _, g1 = self._uncached_fun_and_grad(x + eps * p)
        return (g1 - g0) / eps

    def _uncached_fun_and_grad(self, x):
        saved = (self._x, self._f, self._g)
        try:
            self._x = None
            return self.fun_and_grad(x)
        finally:
            self._x, self._f, self._g = saved
