"""The objective seen by numopt's own minimize methods.

:func:`numopt.minimize` wraps the user's ``fun``/``jac``/``hess``/``hessp``
into an :class:`Objective` that counts evaluations, caches the last point,
checks output shapes, and supplies finite-difference gradients when ``jac``
is not given. Method implementations take an ``Objective`` as their first
argument, so they never see ``args`` or the user's calling conventions, and
they read the evaluation counters from it (``nfev``, ``njev``, ``nhev``)
instead of counting themselves.

The namespace and device of ``x0`` are the objective's (``xp``, ``device``):
for NumPy the code below runs unchanged; for another namespace (PyTorch, CuPy,
``array_api_strict``) the user's callables receive arrays of that namespace
on that device and must return such arrays (or Python / 0-d values for
``fun``); gradients, Hessians and finite differences stay there. Only the
scalar ``f`` comes to the host, as a Python float.
"""
import numpy as np

from ._array_api import asarray, is_array, is_numpy, namespace_and_device, namespace_name
from ._array_api import size as _size
from ._findiff import FD_SCHEMES as _FD_SCHEMES
from ._findiff import fd_gradient

__all__ = ["Objective", "fd_gradient", "x0_namespace"]


def x0_namespace(x0):
    """``(xp, device)`` of a starting point (:func:`numopt._array_api.namespace_and_device`).

    NumPy arrays and lists short-cut to ``(numpy, 'cpu')``: array-api-compat's
    test for an array object costs ~15 µs, which the NumPy path of a solver
    entered many times on small problems should not pay.

    Examples
    --------
    >>> import numpy as np
    >>> xp, dev = x0_namespace([1.0, 2.0])
    >>> xp is np, dev
    (True, 'cpu')
    """
    if isinstance(x0, (np.ndarray, list, tuple, float, int)):
        return np, "cpu"
    return namespace_and_device(x0, names=("x0",))


class Objective:
    """Counted, cached access to ``f``, ``∇f``, ``∇²f`` and Hessian products.

    Parameters
    ----------
    fun : callable
        ``fun(x, *args) -> float``; with ``jac=True`` it returns ``(f, g)``.
    x0 : array_like
        Initial point (sets ``n``, ``dtype``, and the namespace ``xp`` and
        ``device`` of the points the callables receive).
    args : tuple
        Extra arguments of ``fun``, ``jac``, ``hess`` and ``hessp``.
    jac : callable, bool or {'2-point', '3-point', 'cs'}, optional
        Gradient; finite differences when omitted.
    hess, hessp : callable, optional
        Hessian (dense, sparse or LinearOperator) and Hessian-vector product.
    constraints, bounds
        Kept for methods that use them.

    Attributes
    ----------
    n : int
        Number of variables.
    xp, device
        Array namespace and device of ``x0`` (NumPy and ``'cpu'`` for NumPy).
    nfev, njev, nhev : int
        Evaluation counters, read-only (finite-difference evaluations count
        in ``nfev``). Methods report these in their result.
    jac_mode : {'callable', 'combined', 'fd'}
        Where gradients come from: ``jac``, ``fun`` returning ``(f, g)``
        (``jac=True``), or finite differences.
    has_jac, has_hess, has_hessp : bool
        Whether the user supplied a gradient / ``hess`` / ``hessp``.
    fd_method : str or None
        The finite-difference scheme of the gradient (``'2-point'``,
        ``'3-point'`` or ``'cs'``) when ``jac`` is not a callable or True.
    constraints, bounds
        Passed through unchanged for methods that use them.

    Examples
    --------
    >>> import numpy as np
    >>> obj = Objective(lambda x: float(x @ x), np.ones(2), jac=lambda x: 2 * x)
    >>> f, g = obj.fun_and_grad(np.array([1.0, 2.0]))
    >>> f, g.tolist(), obj.fun(np.array([1.0, 2.0])), obj.nfev
    (5.0, [2.0, 4.0], 5.0, 1)

    A stochastic oracle receives the ``rng``; with a callable ``jac`` it
    gives a gradient only:

    >>> obj = Objective(lambda x: float(x @ x), np.ones(2),
    ...                 jac=lambda x, rng: 2 * x + rng.normal(size=2))
    >>> f, g = obj.fun_and_grad(np.zeros(2), rng=np.random.default_rng(0))
    >>> f is None, g.shape, obj.njev
    (True, (2,), 1)
    """

    def __init__(self, fun, x0, args=(), jac=None, hess=None, hessp=None,
                 constraints=(), bounds=None):
        self._fun = fun
        self._args = tuple(args)
        self.xp, self.device = x0_namespace(x0)
        self._np = is_numpy(self.xp)
        if self._np:
            self.n = int(np.size(x0))
            self.dtype = np.asarray(x0).dtype
        else:
            self.n = _size(x0)
            self.dtype = x0.dtype
        self.constraints = constraints
        self.bounds = bounds
        self._nfev = self._njev = self._nhev = 0
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

    # -- counters (read-only: only the Objective counts) -------------------------
    nfev = property(lambda self: self._nfev,
                    doc="Number of evaluations of ``fun`` (including finite differences).")
    njev = property(lambda self: self._njev,
                    doc="Number of gradient evaluations (``jac``, or ``fun`` with "
                        "``jac=True``).")
    nhev = property(lambda self: self._nhev, doc="Number of ``hess`` / ``hessp`` evaluations.")

    @property
    def jac_mode(self):
        """``'callable'``, ``'combined'`` (``jac=True``) or ``'fd'``."""
        return self._mode

    # -- helpers -----------------------------------------------------------------
    def _copy(self, x):
        return x.copy() if self._np else self.xp.asarray(x, copy=True)

    def _same(self, x):
        if not self._np:
            return self._x is not None and bool(self.xp.all(x == self._x))
        return self._x is not None and np.array_equal(x, self._x)

    def _check_f(self, f):
        if not self._np and is_array(f):
            if _size(f) != 1:
                raise ValueError(f"`fun` must return a scalar, got an array of shape "
                                 f"{tuple(f.shape)}")
            return float(self.xp.reshape(f, ()))
        arr = np.asarray(f)
        if arr.size != 1:
            raise ValueError(f"`fun` must return a scalar, got an array of shape {arr.shape}")
        return float(arr.reshape(()))

    def _check_g(self, g):
        if not self._np:
            return self._vector(g, "jac")
        g = np.asarray(g, dtype=float)
        if g.size != self.n or g.ndim > 1 and max(g.shape) != g.size:
            raise ValueError(f"`jac` must return an array of shape ({self.n},), got "
                             f"{g.shape}")
        return g.reshape(self.n)

    def _vector(self, v, what):
        """An (n,) float64 array of ``xp`` from a callable's output (generic path)."""
        xp = self.xp
        try:
            v = asarray(v, xp, self.device, dtype=xp.float64)
        except TypeError as exc:
            raise TypeError(f"`{what}` must return a {namespace_name(xp)} array for a "
                            f"{namespace_name(xp)} `x0` ({exc})") from None
        if _size(v) != self.n or v.ndim > 1 and max(v.shape) != _size(v):
            raise ValueError(f"`{what}` must return an array of shape ({self.n},), got "
                             f"{tuple(v.shape)}")
        return xp.reshape(v, (self.n,))

    def _raw_f(self, x):
        self._nfev += 1
        return self._check_f(self._fun(self._copy(x), *self._args))

    def _combined(self, x, *rng):
        self._nfev += 1
        self._njev += 1
        out = self._fun(self._copy(x), *rng, *self._args)
        if not (isinstance(out, tuple) and len(out) == 2):
            if rng:
                raise ValueError("with stochastic=True and jac=True, `fun(x, rng, *args)` "
                                 "must return a tuple (f, grad)")
            raise ValueError("with `jac=True`, `fun` must return a tuple (f, grad)")
        return self._check_f(out[0]), self._check_g(out[1])

    # -- public API ---------------------------------------------------------------
    def fun(self, x):
        """f(x)."""
        if self._same(x) and self._f is not None:
            return self._f
        if self._mode == "combined":
            return self.fun_and_grad(x)[0]
        f = self._raw_f(x)
        self._x, self._f, self._g = self._copy(x), f, None
        return f

    def grad(self, x, rng=None):
        """∇f(x) as a 1-D float array (a fresh copy); see :meth:`fun_and_grad` for ``rng``."""
        return self.fun_and_grad(x, rng=rng)[1]

    def fun_and_grad(self, x, rng=None):
        """(f(x), ∇f(x)).

        With ``rng`` (a :class:`numpy.random.Generator`) the gradient is a
        stochastic oracle: ``jac(x, rng, *args)``, whose ``f`` is None, or
        ``fun(x, rng, *args) -> (f, g)`` with ``jac=True``. Stochastic values
        are counted but never cached.
        """
        if rng is not None:
            return self._stochastic(x, rng)
        if self._same(x) and self._f is not None and self._g is not None:
            return self._f, self._copy(self._g)
        if self._mode == "combined":
            f, g = self._combined(x)
        else:
            f = self._f if (self._same(x) and self._f is not None) else self._raw_f(x)
            if self._mode == "callable":
                self._njev += 1
                g = self._check_g(self._jac(self._copy(x), *self._args))
            else:
                g = self._fd_grad(x, f)
        self._x, self._f, self._g = self._copy(x), f, g
        return f, self._copy(g)

    def _stochastic(self, x, rng):
        if self._mode == "combined":
            return self._combined(x, rng)
        if self._mode == "fd":
            raise ValueError("stochastic=True needs `jac` (a callable jac(x, rng, *args) "
                             "or True)")
        self._njev += 1
        return None, self._check_g(self._jac(self._copy(x), rng, *self._args))

    def _fd_grad(self, x, f0):
        complex_step = self._fd_method == "cs"

        def fx(z):
            self._nfev += 1
            val = self._fun(z, *self._args)
            if complex_step:  # the imaginary part carries the derivative
                return np.asarray(val).reshape(()) if self._np else val
            return self._check_f(val)

        if not self._np:
            x = self.xp.astype(x, self.xp.float64)
            return self.xp.reshape(fd_gradient(fx, x, f0, self._fd_method, self.xp), (self.n,))
        g = fd_gradient(fx, np.asarray(x, dtype=float), f0, self._fd_method)
        return g.reshape(self.n)

    def hess(self, x):
        """The user's ``hess(x)``: dense array, sparse matrix or LinearOperator."""
        if self._hess is None:
            raise ValueError("this method needs `hess`, which was not given")
        self._nhev += 1
        H = self._hess(self._copy(x), *self._args)
        if not self._np:
            xp = self.xp
            if not is_array(H) or namespace_and_device(H)[0] is not xp:
                raise TypeError(
                    f"`hess` must return a dense {namespace_name(xp)} array for a "
                    f"{namespace_name(xp)} `x0` (sparse matrices and LinearOperators are "
                    f"host-only: use NumPy arrays for them), got {type(H).__name__}")
            H = xp.astype(H, xp.float64)
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
        if not self._np:
            return self._hessp_xp(x, p)
        if self._hessp is not None:
            self._nhev += 1
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

    def _hessp_xp(self, x, p):
        """:meth:`hessp` on the generic path (namespace ``xp``)."""
        xp = self.xp
        if self._hessp is not None:
            self._nhev += 1
            return self._vector(self._hessp(self._copy(x), self._copy(p), *self._args),
                                "hessp")
        if self._hess is not None:
            return xp.reshape(xp.matmul(self.hess(x), p), (self.n,))
        pn = float(xp.linalg.vector_norm(p))
        if pn == 0:
            return xp.zeros(self.n, dtype=xp.float64, device=self.device)
        eps = float(np.sqrt(np.finfo(float).eps)) * (1.0 + float(xp.linalg.vector_norm(x))) / pn
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
