"""Equality constraints in SciPy's forms, stacked into one ``c(x) = 0``.

Accepted: dicts ``{'type': 'eq', 'fun', 'jac', 'args', 'hess'}`` (``hess``
is a numopt extension with :class:`~scipy.optimize.NonlinearConstraint`'s
convention ``hess(x, v)`` = Hessian of ``vᵀc``),
:class:`~scipy.optimize.NonlinearConstraint` and
:class:`~scipy.optimize.LinearConstraint` with ``lb == ub``.

With an ``x0`` of another namespace than NumPy (PyTorch, CuPy,
``array_api_strict``) the constraint callables receive arrays of that
namespace on ``x0``'s device and must return such arrays (dense: sparse
Jacobians and Hessians are host-only); a ``LinearConstraint``'s matrix,
which SciPy stores as a NumPy array, is copied to the device once,
explicitly.
"""
import numpy as np
import scipy.sparse
import scipy.sparse.linalg as spla
from scipy.optimize import HessianUpdateStrategy, LinearConstraint, NonlinearConstraint

from .._array_api import asarray, from_host, is_array, is_numpy, namespace_and_device
from .._array_api import namespace_name
from .._findiff import FD_SCHEMES as _FD
from .._objective import x0_namespace
from .._findiff import fd_jacobian as _fd_jacobian

__all__ = ["EqualityConstraints", "INEQUALITY_METHODS"]

#: Methods to suggest for inequality constraints.
INEQUALITY_METHODS = "'slsqp', 'trust-constr', 'cobyla' or 'cobyqa'"


def _ineq_error(what):
    return ValueError(f"method 'sketch-alm' supports equality constraints only; {what}. "
                      f"Use method {INEQUALITY_METHODS} for inequality constraints.")


def _dense_xp(out, xp, x, what):
    """A callable's output as a float64 array of ``xp`` on ``x``'s device (generic path)."""
    if isinstance(out, (int, float, np.generic)):
        return xp.asarray(float(out), dtype=xp.float64, device=x.device)
    if not is_array(out) or namespace_and_device(out)[0] is not xp:
        raise TypeError(f"{what} must return a dense {namespace_name(xp)} array for a "
                        f"{namespace_name(xp)} `x0` (sparse matrices, LinearOperators and "
                        f"other libraries' arrays are host-only), got {type(out).__name__}")
    return asarray(out, xp, dtype=xp.float64) if out.dtype != xp.complex128 else out


class _Block:
    """One constraint block ``c_k(x) - target = 0`` with its derivatives."""

    def __init__(self, fun, jac, hess, target, args=(), linear=None, name="constraint",
                 xp=None):
        self.fun, self.jac, self.hess = fun, jac, hess
        self.target = target
        self.args = tuple(args)
        self.linear = linear  # the matrix A when the block is A x - b
        self.name = name
        self.m = None
        self.xp = xp  # None: NumPy; otherwise the namespace of the generic path

    def _value_xp(self, x):
        xp = self.xp
        if self.linear is not None:
            return xp.matmul(self.linear, x) - self.target
        out = _dense_xp(self.fun(xp.asarray(x, copy=True), *self.args), xp, x,
                        f"{self.name}: `fun`")
        if out.ndim > 1:
            raise ValueError(f"{self.name}: `fun` must return a scalar or a 1-D array, "
                             f"got shape {tuple(out.shape)}")
        return xp.reshape(out, (-1,)) - self.target

    def _jacobian_xp(self, x, c0, n):
        xp = self.xp
        if self.linear is not None:
            return self.linear
        m = c0.shape[0]
        if callable(self.jac):
            J = _dense_xp(self.jac(xp.asarray(x, copy=True), *self.args), xp, x,
                          f"{self.name}: `jac`")
            J = xp.reshape(J, (1, -1)) if J.ndim < 2 else J
            if tuple(J.shape) != (m, n):
                raise ValueError(f"{self.name}: `jac` must return a ({m}, {n}) "
                                 f"matrix, got shape {tuple(J.shape)}")
            return J
        method = self.jac if self.jac in _FD else "2-point"

        def fx(z):
            out = self.fun(z, *self.args)
            return out if method == "cs" else _dense_xp(out, xp, x, f"{self.name}: `fun`")

        return _fd_jacobian(fx, x, c0 + self.target, method, xp)

    def value(self, x):
        if self.xp is not None:
            return self._value_xp(x)
        if self.linear is not None:
            return np.asarray(self.linear @ x, dtype=float).reshape(-1) - self.target
        out = np.atleast_1d(np.asarray(self.fun(x.copy(), *self.args), dtype=float))
        if out.ndim != 1:
            raise ValueError(f"{self.name}: `fun` must return a scalar or a 1-D array, "
                             f"got shape {out.shape}")
        return out - self.target

    def jacobian(self, x, c0, n):
        if self.xp is not None:
            return self._jacobian_xp(x, c0, n)
        if self.linear is not None:
            return self.linear
        if callable(self.jac):
            J = self.jac(x.copy(), *self.args)
            if scipy.sparse.issparse(J):
                J = scipy.sparse.csr_matrix(J, dtype=float)
            else:
                J = np.atleast_2d(np.asarray(J, dtype=float))
            if J.shape != (c0.size, n):
                raise ValueError(f"{self.name}: `jac` must return a ({c0.size}, {n}) "
                                 f"matrix, got shape {J.shape}")
            return J
        method = self.jac if self.jac in _FD else "2-point"

        def fx(z):
            out = np.atleast_1d(self.fun(z, *self.args))
            return out if method == "cs" else np.asarray(out, dtype=float)

        return _fd_jacobian(fx, x, c0 + self.target, method)


class EqualityConstraints:
    """All equality constraints of a problem, stacked.

    Attributes
    ----------
    m : int
        Total number of equations.
    blocks : list
        One entry per user constraint (for splitting multipliers).
    has_hess : bool
        Every nonlinear block has a callable ``hess(x, v)``.
    quasi_newton : HessianUpdateStrategy or None
        A strategy (``BFGS()``, ``SR1()``) given as a constraint's ``hess``.
    """

    def __init__(self, constraints, x0):
        if isinstance(constraints, (dict, NonlinearConstraint, LinearConstraint)):
            constraints = [constraints]
        if constraints is None:
            constraints = []
        try:
            constraints = list(constraints)
        except TypeError:
            raise TypeError("`constraints` must be a dict, a NonlinearConstraint, a "
                            "LinearConstraint or a sequence of them") from None
        if not constraints:
            raise ValueError("method 'sketch-alm' needs at least one equality constraint "
                             "(`constraints` is empty); use an unconstrained method")
        xp, dev = x0_namespace(x0)
        gen = None if is_numpy(xp) else xp  # the namespace of the generic path, if any
        self.xp = gen
        n = x0.size if gen is None else x0.shape[0]
        self.n = n
        self.blocks = []
        self.quasi_newton = None
        for k, con in enumerate(constraints):
            name = f"constraints[{k}]"
            if isinstance(con, dict):
                ctype = con.get("type")
                if not isinstance(ctype, str) or ctype.lower() not in ("eq", "ineq"):
                    raise ValueError(f"{name}['type'] must be 'eq', got {ctype!r}")
                if ctype.lower() == "ineq":
                    raise _ineq_error(f"{name} has type 'ineq'")
                unknown = set(con) - {"type", "fun", "jac", "args", "hess"}
                if unknown:
                    raise ValueError(f"{name} has unknown keys {sorted(unknown)}; expected "
                                     "'type', 'fun', 'jac', 'args', 'hess'")
                fun = con.get("fun")
                if not callable(fun):
                    raise TypeError(f"{name}['fun'] must be callable")
                jac = con.get("jac")
                if jac is not None and not callable(jac) and jac not in _FD:
                    raise ValueError(f"{name}['jac'] must be callable or one of {_FD}")
                args = con.get("args", ())
                if not isinstance(args, tuple):
                    args = (args,)
                hess = self._hess(con.get("hess"), name)
                self.blocks.append(_Block(fun, jac, hess, 0.0, args, name=name, xp=gen))
            elif isinstance(con, NonlinearConstraint):
                target = self._equal_bounds(con.lb, con.ub, name)
                jac = con.jac
                if not callable(jac) and jac not in _FD:
                    raise ValueError(f"{name}.jac must be callable or one of {_FD}")
                hess = self._hess(con.hess, name)
                if gen is not None and not isinstance(target, float):
                    target = from_host(target, gen, dev)  # SciPy's lb: explicit copy
                self.blocks.append(_Block(con.fun, jac, hess, target, name=name, xp=gen))
            elif isinstance(con, LinearConstraint):
                target = self._equal_bounds(con.lb, con.ub, name)
                A = con.A
                if scipy.sparse.issparse(A):
                    A = scipy.sparse.csr_matrix(A, dtype=float)
                else:
                    A = np.atleast_2d(np.asarray(A, dtype=float))
                if A.shape[1] != n:
                    raise ValueError(f"{name}.A must have {n} columns, got shape {A.shape}")
                if gen is not None:
                    if scipy.sparse.issparse(A):
                        raise TypeError(f"{name}.A is a sparse matrix: sparse constraints "
                                        "are host-only; with a device `x0` give A densely")
                    # SciPy stores A (and lb) as NumPy arrays: copied to x0's device, once
                    A = from_host(A, gen, dev)
                    if not isinstance(target, float):
                        target = from_host(target, gen, dev)
                self.blocks.append(_Block(None, None, None, target, linear=A, name=name,
                                          xp=gen))
            else:
                raise TypeError(f"{name} must be a dict, NonlinearConstraint or "
                                f"LinearConstraint, got {type(con).__name__}")
        self.ncev = 0
        self.njev = 0
        self.nhev = 0
        c = self.value(x0 if gen is None else gen.astype(x0, gen.float64))
        self.m = c.size if gen is None else c.shape[0]
        if self.m == 0:
            raise ValueError("the constraints have no equations (m = 0)")
        self.has_hess = all(b.linear is not None or b.hess is not None for b in self.blocks)
        self.any_sparse = any(scipy.sparse.issparse(b.linear) for b in self.blocks)
        #: finite-difference schemes of the blocks without a callable ``jac``
        self.fd_methods = {(b.jac if b.jac in _FD else "2-point") for b in self.blocks
                           if b.linear is None and not callable(b.jac)}

    def _hess(self, hess, name):
        if hess is None:
            return None
        if isinstance(hess, HessianUpdateStrategy):
            if self.xp is not None:
                raise TypeError(f"{name}: a quasi-Newton `hess` ({type(hess).__name__}, "
                                "SciPy's, host-only) needs NumPy arrays; with a device `x0` "
                                "give `hess(x, v)` or leave it out")
            self.quasi_newton = hess
            return None
        if not callable(hess):
            raise TypeError(f"{name}: `hess` must be callable, a HessianUpdateStrategy "
                            "(BFGS(), SR1()) or None")
        return hess

    @staticmethod
    def _equal_bounds(lb, ub, name):
        lb = np.atleast_1d(np.asarray(lb, dtype=float))
        ub = np.atleast_1d(np.asarray(ub, dtype=float))
        if not (np.all(np.isfinite(lb)) and np.all(np.isfinite(ub))) or \
                np.any(np.broadcast_to(lb, np.broadcast_shapes(lb.shape, ub.shape))
                       != np.broadcast_to(ub, np.broadcast_shapes(lb.shape, ub.shape))):
            raise _ineq_error(f"{name} has lb != ub (an inequality)")
        return lb if lb.size > 1 else float(lb[0])

    def value(self, x):
        """c(x), all blocks stacked."""
        self.ncev += 1
        parts = []
        for b in self.blocks:
            v = b.value(x)
            b.m = v.shape[0]
            parts.append(v)
        return np.concatenate(parts) if self.xp is None else self.xp.concat(parts)

    def jacobian(self, x, c):
        """The (m, n) Jacobian: dense, or CSR when any block is sparse."""
        self.njev += 1
        parts, i = [], 0
        for b in self.blocks:
            parts.append(b.jacobian(x, c[i:i + b.m], self.n))
            i += b.m
        if self.xp is not None:
            return self.xp.concat(parts, axis=0)
        if any(scipy.sparse.issparse(p) for p in parts):
            return scipy.sparse.vstack([scipy.sparse.csr_matrix(p) for p in parts],
                                       format="csr")
        return np.vstack(parts)

    def hessian(self, x, v):
        """Σ v_i ∇²c_i(x) (dense, sparse or LinearOperator); None for linear blocks only."""
        out, i = None, 0
        for b in self.blocks:
            vb = v[i:i + b.m]
            i += b.m
            if b.linear is not None:
                continue
            self.nhev += 1
            if self.xp is not None:
                xp = self.xp
                H = _dense_xp(b.hess(xp.asarray(x, copy=True), xp.asarray(vb, copy=True)), xp,
                              x, f"{b.name}: `hess`")
            else:
                H = b.hess(x.copy(), vb.copy())
                if not (scipy.sparse.issparse(H) or isinstance(H, spla.LinearOperator)):
                    H = np.asarray(H, dtype=float)
            if tuple(H.shape) != (self.n, self.n):
                raise ValueError(f"{b.name}: `hess` must return a ({self.n}, {self.n}) "
                                 f"matrix, got shape {tuple(H.shape)}")
            out = H if out is None else out + H
        return out

    def split(self, v):
        """Split a stacked multiplier vector per constraint block (trust-constr's ``v``)."""
        out, i = [], 0
        for b in self.blocks:
            out.append(v[i:i + b.m].copy() if self.xp is None
                       else self.xp.asarray(v[i:i + b.m], copy=True))
            i += b.m
        return out
