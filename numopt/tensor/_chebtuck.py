"""Chebyshev-Tucker (ChebTuck) approximation of multivariate functions.

Benner, Khoromskij, Khoromskaia & Sun (2025), "A mesh-free hybrid
Chebyshev-Tucker tensor format with applications to multi-particle
modelling", arXiv:2503.01696.

A function on a box ``[a_1, b_1] x ... x [a_d, b_d]`` is interpolated by a
product Chebyshev series whose coefficient tensor ``C`` is Tucker-compressed,
``C ~ core x_1 V_1 ... x_d V_d``. Each column of ``V_k`` is itself a Chebyshev
series in ``x_k``, so the result can be evaluated anywhere in the box.
"""
import numbers

import numpy as np
import scipy.interpolate

from .._array_api import (all_numpy, asarray, from_host, is_array, is_numpy,
                          namespace_and_device, requested_namespace, size, to_host)
from .._validation import check_array, check_choice, check_scalar
from . import _device, _generic as G, _kernels
from ._checks import as_rows, call_vectorised, common_rank, grid_mode, side_matrix
from ._chebyshev import cheb_integrals, cheb_points, cheb_vander, to_unit, vals2coeffs
from ._tucker import full_from_tucker, hooi, mode_dot, rhosvd, st_hosvd, unfold

__all__ = ["ChebyshevTucker", "chebyshev_tucker"]

_EVAL_CHUNK = 1 << 16
_EVAL_BUDGET = 1 << 24   # device evaluation: at most this many intermediate numbers per chunk


class ChebyshevTucker:
    """A function in Chebyshev-Tucker format.

    ``f(x) = sum_{i_1..i_d} core[i_1, ..., i_d] prod_k u_{k, i_k}(x_k)`` where
    ``u_{k, i}(x) = sum_j factors[k][j, i] T_j(t_k)`` and
    ``t_k = (2 x_k - a_k - b_k) / (b_k - a_k)``.

    Build one with :func:`chebyshev_tucker`; the constructor takes the parts.
    ``core`` and ``factors`` stay in their array library and on their device
    (NumPy: the parallel Numba evaluation kernel; any other Array API
    namespace such as PyTorch or CuPy: vectorised evaluation, integration,
    arithmetic and recompression on that device, in float64). ``domain`` is
    kept on the host as a small NumPy array of bounds.

    Parameters
    ----------
    core : ndarray, shape (r_1, ..., r_d)
        Tucker core.
    factors : list of ndarray, shapes (m_k, r_k)
        Chebyshev coefficients (rows = degree 0..m_k-1) of the mode-k basis
        functions (columns).
    domain : array_like, shape (d, 2)
        The box ``[[a_1, b_1], ..., [a_d, b_d]]``.
    tol : float
        Relative tolerance used for recompression after arithmetic.
    error_estimate : float
        Estimated relative error (see :func:`chebyshev_tucker`).
    info : dict, optional
        Details of the construction.

    Attributes
    ----------
    core, factors, domain, tol, error_estimate, info
    ranks : tuple of int
        Tucker ranks ``(r_1, ..., r_d)``.
    degree : tuple of int
        Polynomial degree per mode (``m_k - 1``).
    ndim : int
    nbytes : int
        Memory of the representation (core and factors).
    """

    def __init__(self, core, factors, domain, tol=1e-7, error_estimate=0.0, info=None):
        factors = list(factors)
        xp, dev = (np, "cpu") if all_numpy(core, *factors) else namespace_and_device(
            core, *factors, names=["core"] + [f"factors[{k}]" for k in range(len(factors))])
        domain = _check_domain(_host_domain(domain), len(factors))
        if is_numpy(xp):
            factors = [np.ascontiguousarray(V, dtype=np.float64) for V in factors]
            core = np.ascontiguousarray(core, dtype=np.float64)
        else:
            factors = [check_array(asarray(V, xp, dev), f"factors[{k}]", xp=xp,
                                   dtype=xp.float64, finite=False)
                       for k, V in enumerate(factors)]
            core = check_array(asarray(core, xp, dev), "core", xp=xp, dtype=xp.float64,
                               finite=False)
        if core.ndim != len(factors):
            raise ValueError(f"`core` must be {len(factors)}-dimensional (one mode per "
                             f"factor), got shape {tuple(core.shape)}")
        for k, V in enumerate(factors):
            if V.ndim != 2 or V.shape[1] != core.shape[k] or V.shape[0] < 1:
                raise ValueError(f"`factors[{k}]` must have shape (m, {core.shape[k]}), "
                                 f"got {tuple(V.shape)}")
        self._xp, self._device = xp, dev
        self.core = core
        self.factors = factors
        self.domain = domain
        self.tol = float(tol)
        self.error_estimate = float(error_estimate)
        self.info = dict(info or {})

    # ------------------------------------------------------------ properties
    @property
    def ndim(self):
        return len(self.factors)

    @property
    def ranks(self):
        return tuple(int(s) for s in self.core.shape)

    @property
    def degree(self):
        return tuple(V.shape[0] - 1 for V in self.factors)

    @property
    def nbytes(self):
        if is_numpy(self._xp):
            return int(self.core.nbytes + sum(V.nbytes for V in self.factors))
        return 8 * (size(self.core) + sum(size(V) for V in self.factors))  # float64

    def __repr__(self):
        return (f"ChebyshevTucker(ndim={self.ndim}, degree={self.degree}, "
                f"ranks={self.ranks}, error_estimate={self.error_estimate:.1e})")

    # ------------------------------------------------------------ evaluation
    def _check_points(self, points):
        if not (is_numpy(self._xp) and all_numpy(points)):
            namespace_and_device(points, self.core,
                                 names=("points", "the ChebyshevTucker's core"))
            return self._check_points_xp(points)
        x = check_array(points, "points")
        x, single = as_rows(x, self.ndim, np.shape(points))
        lo, hi = self.domain[:, 0], self.domain[:, 1]
        slack = 1e-12 * (hi - lo)
        if x.size and (np.any(x < lo - slack) or np.any(x > hi + slack)):
            raise ValueError("`points` must lie in the domain "
                             f"{self.domain.tolist()} (Chebyshev series do not extrapolate)")
        return x, single

    def _check_points_xp(self, points):
        """:meth:`_check_points` for a device function: points of its namespace and device."""
        xp = self._xp
        x = check_array(asarray(points, xp, self._device), "points", xp=xp)
        x, single = as_rows(x, self.ndim, tuple(x.shape))
        lo, hi = self.domain[:, 0], self.domain[:, 1]
        slack = 1e-12 * (hi - lo)
        lo_d = from_host(lo - slack, xp, self._device, dtype=x.dtype)
        hi_d = from_host(hi + slack, xp, self._device, dtype=x.dtype)
        if x.shape[0] and bool(xp.any(x < lo_d) | xp.any(x > hi_d)):
            raise ValueError("`points` must lie in the domain "
                             f"{self.domain.tolist()} (Chebyshev series do not extrapolate)")
        return x, single

    def __call__(self, points):
        """Evaluate at ``points`` of shape ``(n_points, d)`` (or one point ``(d,)``).

        Runs the parallel Numba kernel for NumPy points; for a function built
        on a device (PyTorch, CuPy, any Array API library), ``points`` must be
        arrays of that library and device and the evaluation runs there
        (Chebyshev-Vandermonde matrices times the factors, then batched matrix
        products with the core, in chunks). Returns ``(n_points,)`` values (a
        float for a single point); float32 points give float32 values.
        """
        x, single = self._check_points(points)
        if not is_numpy(self._xp):
            out = self._eval_xp(x)
            return float(out[0]) if single else out
        dtype = x.dtype
        x = np.ascontiguousarray(x, dtype=np.float64)
        out = np.empty(x.shape[0])
        if x.shape[0]:
            fac = np.concatenate([V.ravel() for V in self.factors])
            sizes = np.array([V.size for V in self.factors], dtype=np.int64)
            off = np.concatenate([[0], np.cumsum(sizes)[:-1]]).astype(np.int64)
            m = np.array([V.shape[0] for V in self.factors], dtype=np.int64)
            r = np.array(self.ranks, dtype=np.int64)
            _kernels.eval_tucker_cheb(x, np.ascontiguousarray(self.domain[:, 0]),
                                      np.ascontiguousarray(self.domain[:, 1]), fac, off, m, r,
                                      self.core.ravel(), out)
        out = out.astype(dtype, copy=False)
        return out[0].item() if single else out

    def evaluate_blas(self, points):
        """Evaluate like ``__call__`` with vectorised NumPy (BLAS) code, in chunks.

        The Chebyshev-Vandermonde rows times each factor give the mode
        values; the core is contracted mode by mode with matrix products
        (for a device function this is what ``__call__`` runs).
        """
        x, single = self._check_points(points)
        if not is_numpy(self._xp):
            out = self._eval_xp(x)
            return float(out[0]) if single else out
        dtype = x.dtype
        x = x.astype(np.float64, copy=False)
        out = np.empty(x.shape[0])
        ranks = self.ranks
        G1 = self.core.reshape(ranks[0], -1)
        for s in range(0, x.shape[0], _EVAL_CHUNK):
            xb = x[s:s + _EVAL_CHUNK]
            E = self._mode_values(xb)
            Z = E[0] @ G1
            for k in range(1, self.ndim):
                Z = np.einsum("bij,bi->bj", Z.reshape(xb.shape[0], ranks[k], -1), E[k])
            out[s:s + _EVAL_CHUNK] = Z[:, 0]
        out = out.astype(dtype, copy=False)
        return out[0].item() if single else out

    def _eval_xp(self, x):
        """Values at the rows of the device array ``x`` (n, d), in the dtype of ``x``."""
        xp, ranks = self._xp, self.ranks
        dtype, n = x.dtype, x.shape[0]
        x = xp.astype(x, self.core.dtype)
        rest = max(1, size(self.core) // ranks[0])
        chunk = max(1, _EVAL_BUDGET // rest)
        G1 = xp.reshape(self.core, (ranks[0], rest))
        outs = []
        for s in range(0, n, chunk):
            xb = x[s:min(s + chunk, n), :]
            b = xb.shape[0]
            E = self._mode_values_xp(xb)
            Z = xp.matmul(E[0], G1)
            for k in range(1, self.ndim):
                Z = xp.matmul(E[k][:, None, :], xp.reshape(Z, (b, ranks[k], -1)))[:, 0, :]
            outs.append(Z[:, 0])
        out = xp.concat(outs) if outs else xp.zeros((0,), dtype=x.dtype, device=self._device)
        return xp.astype(out, dtype)

    def _mode_values_xp(self, x):
        """Device version of :meth:`_mode_values`."""
        xp, E = self._xp, []
        for k, V in enumerate(self.factors):
            a, b = float(self.domain[k, 0]), float(self.domain[k, 1])
            t = (2.0 * x[:, k] - (a + b)) / (b - a)
            E.append(xp.matmul(G.cheb_vander(t, V.shape[0] - 1, xp), V))
        return E

    def _mode_values(self, x):
        """Mode-k basis functions at x[:, k]: list of (n, r_k) arrays."""
        E = []
        for k, V in enumerate(self.factors):
            t = to_unit(x[:, k], self.domain[k, 0], self.domain[k, 1])
            E.append(cheb_vander(t, V.shape[0] - 1) @ V)
        return E

    def to_grid(self, n):
        """Values on the uniform tensor grid with ``n`` points per mode.

        Parameters
        ----------
        n : int or sequence of int
            Points per mode (>= 1); the grid of mode k is
            ``numpy.linspace(a_k, b_k, n_k)``.

        Returns
        -------
        array, shape (n_1, ..., n_d)
            In the function's array library and on its device.
        """
        ns = _per_mode(n, self.ndim, "n", lower=1)
        if not is_numpy(self._xp):
            xp = self._xp
            E = []
            for k, V in enumerate(self.factors):
                a, b = float(self.domain[k, 0]), float(self.domain[k, 1])
                x = xp.linspace(a, b, ns[k], dtype=xp.float64, device=self._device)
                t = (2.0 * x - (a + b)) / (b - a)
                E.append(xp.matmul(G.cheb_vander(t, V.shape[0] - 1, xp), V))
            return G.full_from_tucker(self.core, E, xp)
        E = []
        for k, V in enumerate(self.factors):
            x = np.linspace(self.domain[k, 0], self.domain[k, 1], ns[k])
            t = to_unit(x, self.domain[k, 0], self.domain[k, 1])
            E.append(cheb_vander(t, V.shape[0] - 1) @ V)
        return full_from_tucker(self.core, E)

    def integrate(self):
        """Integral over the domain (exact for the Chebyshev-Tucker function).

        Uses ``int_{-1}^{1} T_j = 2 / (1 - j^2)`` for even ``j`` (0 for odd).
        """
        T = self.core
        if not is_numpy(self._xp):
            xp = self._xp
            for k in range(self.ndim - 1, -1, -1):
                V = self.factors[k]
                q = from_host(cheb_integrals(V.shape[0] - 1), xp, self._device)
                w = xp.matmul(q, V) * (0.5 * float(self.domain[k, 1] - self.domain[k, 0]))
                T = xp.tensordot(T, w, axes=((k,), (0,)))
            return float(T)
        for k in range(self.ndim - 1, -1, -1):
            V = self.factors[k]
            w = cheb_integrals(V.shape[0] - 1) @ V * (0.5 * (self.domain[k, 1]
                                                             - self.domain[k, 0]))
            T = np.tensordot(T, w, axes=([k], [0]))
        return float(T)

    def norm(self):
        """Frobenius norm of the Chebyshev coefficient tensor ``core x_k V_k``."""
        T = self.core
        if not is_numpy(self._xp):
            for k, V in enumerate(self.factors):
                T = G.mode_dot(T, self._xp.linalg.qr(V)[1], k, self._xp)
            return G.fro(T, self._xp)
        for k, V in enumerate(self.factors):
            T = mode_dot(T, np.linalg.qr(V, mode="r"), k)  # ||V g|| = ||R g||
        return float(np.linalg.norm(T))

    # ------------------------------------------------------------ arithmetic
    def _like(self, core, factors, error_estimate, info):
        return ChebyshevTucker(core, factors, self.domain, self.tol, error_estimate, info)

    def __mul__(self, other):
        if not isinstance(other, numbers.Real) or isinstance(other, bool):
            return NotImplemented
        c = float(other)
        if not np.isfinite(c):
            raise ValueError(f"scalar factor must be finite, got {other}")
        copy = (lambda V: V.copy()) if is_numpy(self._xp) else (
            lambda V: self._xp.asarray(V, copy=True))
        return self._like(self.core * c, [copy(V) for V in self.factors],
                          self.error_estimate, dict(self.info, operation="scale"))

    __rmul__ = __mul__

    def __truediv__(self, other):
        if not isinstance(other, numbers.Real) or isinstance(other, bool):
            return NotImplemented
        if other == 0:
            raise ZeroDivisionError("division of a ChebyshevTucker by zero")
        return self * (1.0 / float(other))

    def __neg__(self):
        return self * -1.0

    def __pos__(self):
        return self * 1.0

    def __add__(self, other):
        return self.add(other)

    __radd__ = __add__

    def __sub__(self, other):
        if isinstance(other, ChebyshevTucker):
            return self.add(-other)
        if isinstance(other, numbers.Real) and not isinstance(other, bool):
            return self.add(-float(other))
        return NotImplemented

    def __rsub__(self, other):
        return (-self).add(other)

    def add(self, other, tol=None, rank=None):
        """``self + other`` recompressed (QR of the stacked factors + HOSVD).

        Parameters
        ----------
        other : ChebyshevTucker or float
            Same domain required; a float is a constant function.
        tol : float, optional
            Relative recompression tolerance; default ``max`` of both tolerances.
        rank : int or sequence of int, optional
            Maximal ranks after recompression.
        """
        if isinstance(other, numbers.Real) and not isinstance(other, bool):
            other = _constant(float(other), self.domain, self.tol, self._xp, self._device)
        if not isinstance(other, ChebyshevTucker):
            return NotImplemented
        if not all_numpy(self.core, other.core):
            namespace_and_device(self.core, other.core, names=("self", "other"))
        if other.ndim != self.ndim or not np.allclose(other.domain, self.domain,
                                                      rtol=1e-14, atol=0):
            raise ValueError("can only add ChebyshevTucker functions on the same domain; "
                             f"got {self.domain.tolist()} and {other.domain.tolist()}")
        if tol is None:
            tol = max(self.tol, other.tol)
        if not is_numpy(self._xp):
            factors, core = _device.stack_sum(self, other, self._xp)
            return self._finish_add(other, core, factors, tol, rank)
        factors = []
        for Va, Vb in zip(self.factors, other.factors):
            m = max(Va.shape[0], Vb.shape[0])
            A = np.zeros((m, Va.shape[1] + Vb.shape[1]))
            A[:Va.shape[0], :Va.shape[1]] = Va
            A[:Vb.shape[0], Va.shape[1]:] = Vb
            factors.append(A)
        core = np.zeros(tuple(a + b for a, b in zip(self.ranks, other.ranks)))
        core[tuple(slice(0, r) for r in self.ranks)] = self.core
        core[tuple(slice(r, None) for r in self.ranks)] = other.core
        return self._finish_add(other, core, factors, tol, rank)

    def _finish_add(self, other, core, factors, tol, rank):
        """Recompress the stacked sum and combine the error estimates."""
        sa, sb = self.norm(), other.norm()
        out = self._like(core, factors, 0.0, {})
        out = out.recompress(tol=tol, rank=rank)
        scale = max(out.norm(), np.finfo(float).tiny)
        out.error_estimate = (self.error_estimate * sa + other.error_estimate * sb) / scale \
            + out.info["tucker_error"]
        out.info["operation"] = "add"
        return out

    def recompress(self, tol=None, rank=None):
        """Return an equivalent function with smaller ranks (QR + truncated HOSVD).

        Parameters
        ----------
        tol : float, optional
            Relative Frobenius tolerance on the coefficient tensor (default ``self.tol``).
        rank : int or sequence of int, optional
            Maximal ranks.
        """
        tol = self.tol if tol is None else check_scalar(tol, "tol", lower=0.0)
        max_ranks = _max_ranks(rank, [V.shape[0] for V in self.factors], self.ndim)
        if not is_numpy(self._xp):
            small, factors, disc, normc = _device.recompress(self, tol, max_ranks, self._xp)
            rel = disc / normc if normc > 0 else 0.0
            info = dict(self.info, tucker_error=rel, operation="recompress")
            return ChebyshevTucker(small, factors, self.domain, tol,
                                   self.error_estimate + rel, info)
        Qs, core = [], self.core
        for k, V in enumerate(self.factors):
            Q, R = np.linalg.qr(V)
            Qs.append(Q)
            core = mode_dot(core, R, k)
        normc = float(np.linalg.norm(core))
        small, W, disc = st_hosvd(core, tol, max_ranks)
        factors = [Q @ Wk for Q, Wk in zip(Qs, W)]
        rel = disc / normc if normc > 0 else 0.0
        info = dict(self.info, tucker_error=rel, operation="recompress")
        return ChebyshevTucker(small, factors, self.domain, tol,
                               self.error_estimate + rel, info)


def _constant(c, domain, tol, xp=np, device=None):
    d = domain.shape[0]
    if not is_numpy(xp):
        return ChebyshevTucker(xp.full((1,) * d, c, dtype=xp.float64, device=device),
                               [xp.ones((1, 1), dtype=xp.float64, device=device)
                                for _ in range(d)], domain, tol, 0.0, {"operation": "constant"})
    return ChebyshevTucker(np.full((1,) * d, c), [np.ones((1, 1)) for _ in range(d)],
                           domain, tol, 0.0, {"operation": "constant"})


def _host_domain(domain):
    """``domain`` as host data: a device array of bounds is copied to the host explicitly
    (d x 2 numbers, read as Python floats)."""
    return to_host(domain) if is_array(domain) and not isinstance(domain, np.ndarray) \
        else domain


# ---------------------------------------------------------------- validation
def _check_domain(domain, d=None):
    try:
        dom = np.array(domain, dtype=np.float64)
    except (TypeError, ValueError):
        raise TypeError("`domain` must be array_like of shape (d, 2) holding "
                        f"[a_k, b_k] pairs, got {domain!r}") from None
    if dom.ndim == 1 and dom.shape[0] == 2 and d is not None:
        dom = np.tile(dom, (d, 1))
    if dom.ndim != 2 or dom.shape[1] != 2 or dom.shape[0] < 1:
        raise ValueError(f"`domain` must have shape (d, 2) ([a_k, b_k] per mode), got "
                         f"shape {dom.shape}")
    if d is not None and dom.shape[0] != d:
        raise ValueError(f"`domain` must have {d} rows (one [a, b] per mode), got "
                         f"{dom.shape[0]}")
    if not np.all(np.isfinite(dom)):
        raise ValueError("`domain` must contain only finite values")
    if np.any(dom[:, 0] >= dom[:, 1]):
        k = int(np.nonzero(dom[:, 0] >= dom[:, 1])[0][0])
        raise ValueError(f"`domain` must satisfy a < b in every mode; mode {k} has "
                         f"[{dom[k, 0]}, {dom[k, 1]}]")
    return dom


def _per_mode(value, d, name, lower):
    if isinstance(value, numbers.Integral) and not isinstance(value, bool):
        vals = [value] * d
    else:
        try:
            vals = list(value)
        except TypeError:
            raise TypeError(f"`{name}` must be an int or a sequence of {d} ints, got "
                            f"{type(value).__name__}") from None
        if len(vals) != d:
            raise ValueError(f"`{name}` must have one entry per mode ({d}), got {len(vals)}")
    return [check_scalar(v, name, lower=lower, integer=True) for v in vals]


def _max_ranks(rank, sizes, d):
    if rank is None:
        return list(sizes)
    r = _per_mode(rank, d, "rank", lower=1)
    return [min(a, b) for a, b in zip(r, sizes)]


# ---------------------------------------------------------------- input routes
def _grid_points(domain, degrees):
    return [cheb_points(n, a, b) for (a, b), n in zip(domain, degrees)]


def _sample_callable(f, nodes, chunk_size):
    """Values of ``f`` on the tensor grid of ``nodes`` (C order), in chunks."""
    shape = tuple(len(x) for x in nodes)
    total = int(np.prod(shape))
    d = len(nodes)
    out = np.empty(total)
    for s in range(0, total, chunk_size):
        idx = np.unravel_index(np.arange(s, min(s + chunk_size, total)), shape)
        pts = np.stack([nodes[k][idx[k]] for k in range(d)], axis=1)
        v = np.asarray(call_vectorised(f, pts))
        if v.dtype.kind not in "biuf":
            raise TypeError(f"`f` must return real numbers, got dtype {v.dtype}")
        v = v.reshape(-1) if v.size == pts.shape[0] else v
        if v.shape != (pts.shape[0],):
            raise ValueError(f"`f` must return shape ({pts.shape[0]},) for points of shape "
                             f"{pts.shape}, got {np.shape(v)}")
        if not np.all(np.isfinite(v)):
            bad = pts[~np.isfinite(v)][0]
            raise ValueError(f"`f` returned a non-finite value (NaN or inf), e.g. at "
                             f"{bad.tolist()}")
        out[s:s + pts.shape[0]] = v
    return out.reshape(shape)


def _grid_to_nodes(T, domain, nodes):
    """Cubic-spline map of a full tensor on the uniform grid onto Chebyshev nodes."""
    V = T
    for k in range(T.ndim):
        n = grid_mode(T, k)
        x = np.linspace(domain[k, 0], domain[k, 1], n)
        V = scipy.interpolate.make_interp_spline(x, V, k=3, axis=k)(nodes[k])
    return V


def _cp_parts(f):
    """``(weights or None, [U_1, ..., U_d])`` of a CP tensor input."""
    if hasattr(f, "weights") and hasattr(f, "factors"):
        return f.weights, list(f.factors)
    if (isinstance(f, tuple) and len(f) == 2 and isinstance(f[1], (list, tuple))
            and not callable(f[0]) and np.ndim(f[0]) <= 1):
        return f[0], list(f[1])
    return None, list(f)


def _cp_side_values(f, domain, nodes, d_hint):
    """Chebyshev-node values of the CP side matrices; returns ``weights, [U_k]``."""
    weights, factors = _cp_parts(f)
    d = len(factors)
    if d == 0:
        raise ValueError("CP tensor `f` must have at least one factor")
    if d_hint is not None and d != d_hint:
        raise ValueError(f"CP tensor `f` has {d} factors but `domain` has {d_hint} modes")
    side = []
    for k, U in enumerate(factors):
        if callable(U):
            S = side_matrix(np.asarray(U(nodes[k]), dtype=np.float64), k, len(nodes[k]))
            if not np.all(np.isfinite(S)):
                raise ValueError(f"CP factor function f[{k}] returned non-finite values")
        else:
            U = check_array(U, f"factors[{k}]", ndim=2, dtype=np.float64)
            if U.shape[0] < 4:
                raise ValueError(f"CP factor `factors[{k}]` needs >= 4 grid points for "
                                 f"cubic spline interpolation, got {U.shape[0]}")
            x = np.linspace(domain[k, 0], domain[k, 1], U.shape[0])
            S = scipy.interpolate.make_interp_spline(x, U, k=3, axis=0)(nodes[k])
        side.append(S)
    R = common_rank(side)
    if weights is None:
        weights = np.ones(R)
    weights = check_array(weights, "weights", ndim=1, shape=(R,), dtype=np.float64)
    return weights, side


def _chop(core, factors, thresh):
    """Drop trailing Chebyshev rows whose contribution is below ``thresh`` (Frobenius).

    The other factors are orthonormal at this stage, so the contribution of
    rows ``j >= m'`` of ``V_k`` is exactly ``||V_k[m':] G_(k)||_F``.
    """
    out, disc2 = [], 0.0
    for k, V in enumerate(factors):
        rows = V @ unfold(core, k)
        tails = np.sqrt(np.cumsum(np.sum(rows ** 2, axis=1)[::-1]))[::-1]
        keep = V.shape[0]
        while keep > 2 and tails[keep - 1] <= thresh / np.sqrt(len(factors)):
            keep -= 1
        if keep < V.shape[0]:
            disc2 += float(tails[keep] ** 2)
        out.append(np.ascontiguousarray(V[:keep]))
    return out, float(np.sqrt(disc2))


def _cheb_tail(core, factors):
    """max_k ||last two Chebyshev rows of mode k|| / ||C|| (resolution check)."""
    nrm = float(np.linalg.norm(core))
    if nrm == 0.0:
        return 0.0
    tails = []
    for k, V in enumerate(factors):
        rows = V[-2:] @ unfold(core, k)
        tails.append(float(np.linalg.norm(rows)))
    return max(tails) / nrm


# ---------------------------------------------------------------- builder
def chebyshev_tucker(f, domain, degree=128, tol=1e-7, rank=None, method="hosvd", *,
                     maxiter=20, chop=True, chunk_size=1 << 16, xp=None, device=None):
    """Chebyshev-Tucker approximation of a multivariate function.

    Interpolates ``f`` by a product Chebyshev series of the given degree at
    second-kind (Chebyshev-Lobatto) points, computes the coefficient tensor
    by a DCT-I per mode, and compresses it by a truncated HOSVD (optionally
    refined by Tucker-ALS) -- the hybrid ChebTuck format of Benner,
    Khoromskij, Khoromskaia and Sun (2025).

    Parameters
    ----------
    f : callable, ndarray or CP tensor
        * a vectorised callable ``f(points) -> values``, ``points`` of shape
          ``(n_points, d)``, values of shape ``(n_points,)``;
        * a full grid tensor of shape ``(n_1, ..., n_d)`` holding values on the
          uniform grid ``linspace(a_k, b_k, n_k)`` of each mode (cubic-spline
          interpolated to the Chebyshev nodes; ``n_k >= 4``);
        * a CP (canonical) tensor ``[U_1, ..., U_d]`` or ``(weights, [U_1, ..., U_d])``
          (a ``tensorly`` ``CPTensor`` also works). Each ``U_k`` is either an
          ``(n_k, R)`` array of the factor columns on the uniform grid of mode
          k (spline-interpolated) or a callable mapping a 1-D array of
          coordinates ``x`` to ``(len(x), R)`` values. This route never forms a
          full tensor: it runs the reduced HOSVD (RHOSVD) on the ``(m_k, R)``
          Chebyshev coefficient side matrices, then recompresses the core.
    domain : array_like, shape (d, 2)
        The box ``[[a_1, b_1], ..., [a_d, b_d]]`` with ``a_k < b_k``. For array
        or CP input a single pair ``[a, b]`` is used for every mode; for a
        callable, a single pair means ``d = 1``.
    degree : int or sequence of int, default 128
        Chebyshev degree per mode (>= 1); ``degree + 1`` nodes per mode.
    tol : float, default 1e-7
        Relative Frobenius tolerance of the Tucker truncation of the
        coefficient tensor (each mode discards a tail of at most
        ``tol * ||C|| / sqrt(d)``). ``0`` keeps full rank (up to ``rank``).
    rank : int or sequence of int, optional
        Maximal Tucker ranks. With ``tol=0`` these are the exact ranks.
    method : {'hosvd', 'als'}
        ``'hosvd'``: sequentially truncated HOSVD (RHOSVD for CP input).
        ``'als'``: the same, then Tucker-ALS (HOOI) sweeps at fixed ranks.
    maxiter : int, default 20
        Maximal ALS sweeps (``method='als'``).
    chop : bool, default True
        Drop trailing Chebyshev coefficients of the factors whose total
        contribution is below ``tol / 10`` (cheaper evaluation).
    chunk_size : int, default 2**16
        Maximal number of points per call of a callable ``f``.
    xp : module, optional
        Array library to build the function in (``torch``, ``cupy``,
        ``array_api_strict``, any Array API namespace), for a callable ``f``
        on host data (lists). Default: the library of the array arguments
        (``domain``, a grid tensor ``f``, CP factor arrays), NumPy when there
        are none.
    device : optional
        Device of ``xp`` (default: the device of the array arguments, or the
        library's default device).

    Returns
    -------
    ChebyshevTucker
        ``error_estimate`` adds the relative Tucker truncation error (exact,
        Frobenius norm of the coefficient tensor), the chopped part and the
        relative size of the two highest Chebyshev coefficient slices (a
        resolution check: large when ``degree`` is too small). ``info``
        holds ``route``, ``method``, ``tucker_error``, ``chebyshev_tail``,
        ``nfev`` (function values sampled), ``nit``/``converged`` for ALS.

    Raises
    ------
    TypeError
        ``f`` is neither callable, an array nor a list of CP factors.
    ValueError
        ``domain`` with ``a >= b``, ``degree < 1``, non-finite values of ``f``,
        inconsistent shapes.

    Notes
    -----
    The format is ``f(x) ~ sum core[i] prod_k u_{k,i_k}(x_k)`` with each
    ``u_{k,i}`` a Chebyshev series of degree ``degree_k``; memory is
    ``prod r_k + sum m_k r_k`` numbers instead of ``prod m_k``.

    **Array namespaces.** NumPy input runs the NumPy/SciPy path (DCT-I by
    ``scipy.fft``, LAPACK, the Numba evaluation kernel). With ``xp=``/``device=``
    or device arrays (``domain``, a grid tensor, CP factors) the whole build
    runs on that device with Array API calls: the Chebyshev nodes are created
    there, a callable ``f`` (and a callable CP factor) is called with device
    arrays and must return arrays of the same library and device, the DCT-I
    is a matrix product, the truncations use ``xp.linalg``; the result holds
    its core and factors on the device and evaluates device points. Only the
    domain bounds (read as Python floats) and, for grid or CP-array input,
    the cubic-spline interpolation matrices (built by SciPy from the grid
    sizes, not from the data) pass through the host. The build computes in
    float64 on every library: float32 input is not kept (the DCT and the
    truncation to ``tol`` need float64); evaluation at float32 points returns
    float32 values.

    References
    ----------
    P. Benner, B. Khoromskij, V. Khoromskaia, Y. Sun, "A mesh-free hybrid
    Chebyshev-Tucker tensor format with applications to multi-particle
    modelling", arXiv:2503.01696 (2025).

    Examples
    --------
    >>> import numpy as np
    >>> from numopt.tensor import chebyshev_tucker
    >>> f = lambda x: 1.0 / (1.0 + np.sum(x**2, axis=1))
    >>> ct = chebyshev_tucker(f, [[-1, 1]] * 3, degree=40, tol=1e-9)
    >>> ct.ranks
    (7, 7, 7)
    >>> x = np.random.default_rng(0).uniform(-1, 1, (1000, 3))
    >>> bool(np.max(np.abs(ct(x) - f(x))) < 1e-9)
    True
    >>> g = 2.0 * ct - 1.0          # arithmetic keeps the format
    >>> round(g.integrate() - (2.0 * ct.integrate() - 8.0), 12)
    0.0
    """
    method = check_choice(method, "method", ("hosvd", "als"))
    tol = check_scalar(tol, "tol", lower=0.0)
    maxiter = check_scalar(maxiter, "maxiter", lower=1, integer=True)
    chunk_size = check_scalar(chunk_size, "chunk_size", lower=1, integer=True)
    arrays, names = _array_args(f, domain)
    xp, dev = requested_namespace(xp, device, *arrays, names=names)
    if not is_numpy(xp):
        return _build_on_device(f, domain, degree, tol, rank, method, maxiter, chop,
                                chunk_size, xp, dev)
    route, T, domain = _read_input(f, domain)
    d = domain.shape[0]
    degrees = _per_mode(degree, d, "degree", lower=1)
    nodes = _grid_points(domain, degrees)
    sizes = [n + 1 for n in degrees]
    max_ranks = _max_ranks(rank, sizes, d)
    info = {"route": route, "method": method}

    if route in ("function", "grid"):
        # no name here holds the node values: _compress_values transforms them in place
        core, factors, disc, normC = _compress_values(
            _node_values(route, f, T, domain, nodes, chunk_size, info), tol, max_ranks,
            method, maxiter, info)
    else:
        core, factors, disc, normC = _compress_cp(f, domain, nodes, tol, max_ranks, method,
                                                  maxiter, info)
    return _finish(core, factors, domain, tol, disc, normC, chop, info)


def _finish(core, factors, domain, tol, disc, normC, chop, info):
    """The :class:`ChebyshevTucker` of a compressed build: error estimate, optional chop."""
    rel_tucker = disc / normC if normC > 0 else 0.0
    tail = _cheb_tail(core, factors)
    chopped = 0.0
    if chop and tol > 0 and normC > 0:
        factors, chopped = _chop(core, factors, 0.1 * tol * normC)
        chopped /= normC
    info.update(tucker_error=rel_tucker, chebyshev_tail=tail, chopped=chopped,
                coefficient_norm=normC)
    return ChebyshevTucker(core, factors, domain, tol, rel_tucker + tail + chopped, info)


def _array_args(f, domain):
    """The array arguments of ``chebyshev_tucker`` (and their names) that fix the namespace."""
    items = [("domain", domain)]
    if is_array(f):
        items.append(("f", f))
    elif hasattr(f, "factors") or isinstance(f, (list, tuple)):
        weights, factors = _cp_parts(f)
        items.append(("weights", weights))
        items += [(f"factors[{k}]", U) for k, U in enumerate(factors)]
    return [a for _, a in items], [n for n, _ in items]


def _build_on_device(f, domain, degree, tol, rank, method, maxiter, chop, chunk_size, xp, dev):
    """``chebyshev_tucker`` for a non-NumPy namespace ``xp`` on device ``dev``."""
    domain = _host_domain(domain)
    cp_parts = None
    if is_array(f):
        T = check_array(f, "f", xp=xp, dtype=xp.float64)
        if T.ndim < 1:
            raise ValueError("grid tensor `f` must have at least one dimension")
        route, f, domain = "grid", T, _check_domain(domain, T.ndim)
    else:
        route, _, domain = _read_input(f, domain)
        if route == "cp":
            cp_parts = _cp_parts(f)
            if len(cp_parts[1]) == 0:
                raise ValueError("CP tensor `f` must have at least one factor")
            if len(cp_parts[1]) != domain.shape[0]:
                raise ValueError(f"CP tensor `f` has {len(cp_parts[1])} factors but `domain` "
                                 f"has {domain.shape[0]} modes")
    d = domain.shape[0]
    degrees = _per_mode(degree, d, "degree", lower=1)
    max_ranks = _max_ranks(rank, [n + 1 for n in degrees], d)
    info = {"route": route, "method": method}
    core, factors, err = _device.build(route, f, domain, degrees, tol, max_ranks, method,
                                       maxiter, chop, chunk_size, info, xp, dev, cp_parts)
    return ChebyshevTucker(core, factors, domain, tol, err, info)


def _read_input(f, domain):
    """``(route, grid tensor or None, checked domain)`` for the input ``f`` of
    :func:`chebyshev_tucker`: a callable, a full grid tensor or a CP tensor."""
    T = None
    if callable(f) and not hasattr(f, "factors"):
        dom = np.asarray(domain, dtype=object)
        return "function", T, _check_domain(domain, 1 if dom.ndim == 1 else None)
    if isinstance(f, np.ndarray) and f.dtype != object:
        T = check_array(f, "f", dtype=np.float64)
        if T.ndim < 1:
            raise ValueError("grid tensor `f` must have at least one dimension")
        return "grid", T, _check_domain(domain, T.ndim)
    if isinstance(f, (list, tuple)) or hasattr(f, "factors"):
        domain_arr = np.asarray(domain, dtype=object)
        d_hint = None if domain_arr.ndim == 1 else len(domain_arr)
        # modes are known only after reading the factors
        n_f = len(f.factors) if hasattr(f, "factors") else (
            len(f[1]) if (isinstance(f, tuple) and len(f) == 2
                          and isinstance(f[1], (list, tuple)) and np.ndim(f[0]) <= 1
                          and not callable(f[0])) else len(f))
        return "cp", T, _check_domain(domain, n_f if d_hint is None else d_hint)
    raise TypeError("`f` must be a vectorised callable, a full grid tensor (ndarray) or "
                    f"a CP tensor (list of factors); got {type(f).__name__}")


def _node_values(route, f, T, domain, nodes, chunk_size, info):
    """Values at the Chebyshev nodes: sampled from a callable or spline-interpolated
    from a grid tensor ``T``; records ``info['nfev']``."""
    if route == "function":
        vals = _sample_callable(f, nodes, chunk_size)
        info["nfev"] = int(vals.size)
        return vals
    info["nfev"] = 0
    return _grid_to_nodes(T, domain, nodes)


def _compress_values(vals, tol, max_ranks, method, maxiter, info):
    """Values at the Chebyshev nodes -> ``(core, factors, discarded norm, ||C||)``:
    DCT-I per mode, truncated HOSVD, optional Tucker-ALS (``vals`` is overwritten)."""
    d = vals.ndim
    C = vals2coeffs(vals, axis=0, overwrite=True)
    del vals
    for k in range(1, d):
        C = vals2coeffs(C, axis=k, overwrite=True)
    normC = float(np.linalg.norm(C))
    core, factors, disc = st_hosvd(C, tol, max_ranks)
    if method == "als":
        core, factors, nit, conv = hooi(C, factors, maxiter=maxiter)
        # explicit residual: normC^2 - ||core||^2 cancels below sqrt(eps)
        disc = float(np.linalg.norm(C - full_from_tucker(core, factors)))
        info.update(nit=nit, converged=conv)
    return core, factors, disc, normC


def _compress_cp(f, domain, nodes, tol, max_ranks, method, maxiter, info):
    """CP input -> ``(core, factors, discarded-norm bound, lower bound of ||C||)``:
    reduced HOSVD of the Chebyshev coefficient side matrices, recompressed core,
    optional Tucker-ALS; the full tensor is never formed."""
    weights, side = _cp_side_values(f, domain, nodes, domain.shape[0])
    coef = [vals2coeffs(S, axis=0, overwrite=True) for S in side]
    del side
    info["cp_rank"] = int(weights.size)
    info["nfev"] = 0
    core0, bases, bound = rhosvd(weights, coef, 0.5 * tol, max_ranks)
    normC = float(np.linalg.norm(core0))  # a lower bound of ||C|| (projection)
    core, W, disc_st = st_hosvd(core0, 0.5 * tol, max_ranks)
    factors = [B @ Wk for B, Wk in zip(bases, W)]
    disc = bound + disc_st
    if method == "als":
        core, factors, nit, conv = hooi(None, factors, maxiter=maxiter, cp=(weights, coef))
        disc = bound + float(np.sqrt(max(normC ** 2 - np.linalg.norm(core) ** 2, 0.0)))
        info.update(nit=nit, converged=conv)
    return core, factors, disc, normC
