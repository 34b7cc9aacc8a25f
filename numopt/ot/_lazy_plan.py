"""A transport plan held as two point clouds and two potentials (never ``n x m``)."""
import numbers

import numpy as np

from numopt._array_api import get_namespace, is_array, namespace_name
from numopt._jit import get_num_threads

from . import _kernels_sample as ks
from ._tiles_xp import Tiles

__all__ = ["LazyPlan", "DeviceLazyPlan"]


def _tile_buffers(nblock):
    t = np.empty((nblock, ks.TILE))
    ec = np.empty((nblock, ks.TILE))
    cb = np.empty((nblock, ks.TILE))
    fb = np.empty((nblock, ks.TILE))
    sc = np.empty((nblock, ks.TILE), dtype=np.int64)
    return t, ec, cb, fb, fb.view(np.int64), sc, sc.view(np.float64)


def _index(key, size, axis):
    """One axis of a key -> (int64 index array, keep_dim)."""
    if isinstance(key, slice):
        return np.arange(size, dtype=np.int64)[key], True
    if isinstance(key, numbers.Integral) and not isinstance(key, bool):
        k = int(key)
        if not -size <= k < size:
            raise IndexError(f"index {k} is out of bounds for axis {axis} with size {size}")
        return np.array([k % size], dtype=np.int64), False
    arr = np.asarray(key)
    if arr.dtype == bool:
        if arr.shape != (size,):
            raise IndexError(f"boolean index for axis {axis} must have shape ({size},), "
                             f"got {arr.shape}")
        return np.flatnonzero(arr).astype(np.int64), True
    if arr.ndim != 1 or arr.dtype.kind not in "iu":
        raise IndexError("LazyPlan indices must be integers, slices, or 1-D integer or "
                         f"boolean arrays; got {key!r}")
    if arr.size and (arr.min() < -size or arr.max() >= size):
        raise IndexError(f"index out of bounds for axis {axis} with size {size}")
    return np.ascontiguousarray(arr % size, dtype=np.int64), True


class LazyPlan:
    r"""Entropic transport plan :math:`P_{ij} = \exp((f_i + g_j - c(x_i, y_j)) / \mathrm{reg})`.

    Returned by :func:`numopt.ot.solve_sample` as ``res.lazy_plan``. It stores
    the two point clouds and the two potentials; every operation recomputes
    the costs tile by tile in parallel Numba kernels, so memory stays
    :math:`O((n + m) d)` whatever the number of points. Nothing builds the
    ``n x m`` matrix unless asked (``plan[:]``, :meth:`todense`). A plan
    returned for device arrays is a ``DeviceLazyPlan`` (a subclass, in
    ``numopt.ot._lazy_plan``): same operations, computed in row tiles with
    Array API operations on the caller's device, results in the caller's
    namespace.

    Operations
    ----------
    ``plan[rows, cols]``
        Dense block; each axis takes an int, a slice, or a 1-D integer or
        boolean array, indexed independently (outer indexing, like
        ``numpy.ix_``). An int drops its axis.
    ``plan @ V``, ``plan.T @ W``
        Products with an ``(m,)`` / ``(m, k)`` (resp. ``(n,)`` / ``(n, k)``)
        array.
    :meth:`sum`, :meth:`topk`, :meth:`barycentric_map`, :meth:`todense`.

    Attributes
    ----------
    shape : tuple of int
    potentials : tuple of ndarray
        ``(f, g)``.
    reg : float
    metric : str

    Examples
    --------
    >>> import numpy as np
    >>> from numopt.ot import solve_sample
    >>> rng = np.random.default_rng(0)
    >>> X, Y = rng.random((30, 2)), rng.random((40, 2))
    >>> plan = solve_sample(X, Y, reg=0.05, lazy=True).lazy_plan
    >>> plan.shape
    (30, 40)
    >>> bool(np.allclose(plan @ np.ones(40), 1 / 30))
    True
    >>> plan[:3, :].shape, plan[0].shape
    ((3, 40), (40,))
    """

    __array_priority__ = 20  # ``ndarray @ plan`` defers to __rmatmul__

    def __init__(self, X, Y, f, g, reg, metric, code, p, *, _kernel_points=None):
        self._X = X                       # original coordinates (barycentric map)
        self._Y = Y
        if _kernel_points is None:
            _kernel_points = (X, Y)
        self._Xk, self._Yk = _kernel_points  # as the kernels see them (cosine: normalised)
        self._Yt = None
        self._f = f
        self._g = g
        self.reg = float(reg)
        self.metric = metric
        self._code = code
        self._p = float(p)

    # -- basic attributes -------------------------------------------------------------
    @property
    def shape(self):
        return (self._Xk.shape[0], self._Yk.shape[0])

    ndim = 2
    dtype = np.dtype(np.float64)

    @property
    def potentials(self):
        return self._f, self._g

    def __repr__(self):
        n, m = self.shape
        return (f"LazyPlan(shape=({n}, {m}), metric={self.metric!r}, reg={self.reg:g}, "
                f"d={self._Xk.shape[1]})")

    @property
    def T(self):
        """The transposed plan (a :class:`LazyPlan` of shape ``(m, n)``)."""
        return LazyPlan(self._Y, self._X, self._g, self._f, self.reg, self.metric,
                        self._code, self._p, _kernel_points=(self._Yk, self._Xk))

    def _yt(self):
        if self._Yt is None:
            self._Yt = np.ascontiguousarray(self._Yk.T)
        return self._Yt

    def _args(self):
        return (self._Xk, self._yt(), self._f, self._g, self.reg, self._code, self._p)

    # -- operations -------------------------------------------------------------------
    def __getitem__(self, key):
        if not isinstance(key, tuple):
            key = (key, slice(None))
        if len(key) != 2:
            raise IndexError(f"LazyPlan takes at most 2 indices, got {len(key)}")
        rows, keep_r = _index(key[0], self.shape[0], 0)
        cols, keep_c = _index(key[1], self.shape[1], 1)
        out = np.empty((rows.size, cols.size))
        ks.plan_block(*self._args(), rows, cols, out)
        if not keep_r:
            out = out[0]
            return out[0] if not keep_c else out
        return out if keep_c else out[:, 0]

    def todense(self):
        """The full ``(n, m)`` plan as an ndarray (materialises it: small problems only)."""
        return self[:, :]

    def __matmul__(self, V):
        V = np.asarray(V)
        if V.dtype.kind not in "biuf":
            raise TypeError(f"LazyPlan @ V needs a real array, got dtype {V.dtype}")
        if V.ndim not in (1, 2) or V.shape[0] != self.shape[1]:
            raise ValueError(f"LazyPlan of shape {self.shape} @ V needs V of shape "
                             f"({self.shape[1]},) or ({self.shape[1]}, k), got {V.shape}")
        Vt = np.ascontiguousarray(V.reshape(V.shape[0], -1).T, dtype=np.float64)
        out = np.empty((self.shape[0], Vt.shape[0]))
        t, ec, _, fb, fbi, sc, scf = _tile_buffers(get_num_threads())
        ks.plan_apply(*self._args(), Vt, out, t, ec, fb, fbi, sc, scf)
        return out[:, 0] if V.ndim == 1 else out

    def __rmatmul__(self, W):
        W = np.asarray(W)
        if W.ndim == 1:
            return self.T @ W
        return (self.T @ W.T).T

    def sum(self, axis=None):
        """Marginals: ``axis=1`` row sums (n,), ``axis=0`` column sums (m,), None: total."""
        if axis is None:
            return float(self.sum(axis=1).sum())
        if axis in (1, -1):
            rowsum, _ = self._rowstats()
            return rowsum
        if axis in (0, -2):
            return self.T.sum(axis=1)
        raise ValueError(f"`axis` must be None, 0 or 1, got {axis!r}")

    def _rowstats(self):
        n = self.shape[0]
        rowsum, rowcost = np.empty(n), np.empty(n)
        t, ec, cb, fb, fbi, sc, scf = _tile_buffers(get_num_threads())
        ks.plan_rowstats(*self._args(), rowsum, rowcost, t, ec, cb, fb, fbi, sc, scf)
        return rowsum, rowcost

    def topk(self, k):
        """The ``k`` largest entries of every row.

        Returns
        -------
        indices : ndarray of int64, shape (n, k)
            Column indices, largest entry first (ties: smaller index first).
        values : ndarray, shape (n, k)
        """
        if isinstance(k, bool) or not isinstance(k, numbers.Integral) or not \
                1 <= k <= self.shape[1]:
            raise ValueError(f"`k` must be an integer in [1, {self.shape[1]}], got {k!r}")
        n = self.shape[0]
        idx = np.empty((n, int(k)), dtype=np.int64)
        val = np.empty((n, int(k)))
        t, _, cb, *_ = _tile_buffers(get_num_threads())
        ks.plan_topk(*self._args(), idx, val, t, cb)
        return idx, val

    def barycentric_map(self):
        r"""Image of each source point: :math:`T(x_i) = \sum_j P_{ij} y_j / \sum_j P_{ij}`.

        Returns
        -------
        ndarray, shape (n, d)
            In the original coordinates of the target cloud (also for
            ``metric='cosine'``).
        """
        Y1 = np.concatenate([self._Y, np.ones((self._Y.shape[0], 1))], axis=1)
        PY = self @ Y1
        with np.errstate(invalid="ignore", divide="ignore"):
            return PY[:, :-1] / PY[:, -1:]


def _index_xp(key, size, axis, xp, device):
    """:func:`_index` for a device plan: an int64 index array of ``xp`` on ``device``.

    Index arrays must be of the plan's namespace (or lists); a NumPy array
    indexing a device plan is a ``TypeError`` (no silent transfer).
    """
    if isinstance(key, slice):
        r = range(size)[key]
        return xp.arange(r.start, r.stop, r.step, dtype=xp.int64, device=device), True
    if isinstance(key, numbers.Integral) and not isinstance(key, bool):
        k = int(key)
        if not -size <= k < size:
            raise IndexError(f"index {k} is out of bounds for axis {axis} with size {size}")
        return xp.asarray([k % size], dtype=xp.int64, device=device), False
    if isinstance(key, (list, tuple)):
        key = xp.asarray(key, device=device)
    if not is_array(key) or get_namespace(key) is not xp:
        raise TypeError(f"a LazyPlan of {namespace_name(xp)} arrays takes index arrays of "
                        f"that library (or ints, slices, lists), got {type(key).__name__}")
    if xp.isdtype(key.dtype, "bool"):
        if tuple(key.shape) != (size,):
            raise IndexError(f"boolean index for axis {axis} must have shape ({size},), "
                             f"got {tuple(key.shape)}")
        return xp.astype(xp.nonzero(key)[0], xp.int64), True
    if key.ndim != 1 or not xp.isdtype(key.dtype, "integral"):
        raise IndexError("LazyPlan indices must be integers, slices, or 1-D integer or "
                         f"boolean arrays; got shape {tuple(key.shape)}, dtype {key.dtype}")
    if key.shape[0] and (int(xp.min(key)) < -size or int(xp.max(key)) >= size):
        raise IndexError(f"index out of bounds for axis {axis} with size {size}")
    return xp.astype(key, xp.int64) % size, True


class DeviceLazyPlan(LazyPlan):
    """A :class:`LazyPlan` whose points and potentials are arrays of a non-NumPy
    namespace (PyTorch, CuPy, ``array_api_strict``, ...), on their device.

    Same operations and results as :class:`LazyPlan`, computed with Array API
    operations in row tiles (:class:`numopt.ot._tiles_xp.Tiles`) and returned
    in the plan's namespace, on its device, in the dtype of the caller's
    points (``dtype``); index arrays must be of that namespace. ``topk`` on
    PyTorch uses ``torch.topk`` (the order of exactly tied entries is then
    unspecified). ``W @ plan`` works where the array library defers to the
    plan's ``__rmatmul__`` (PyTorch does; ``array_api_strict`` raises): the
    portable spelling is ``plan.T @ W.T``.
    """

    def __init__(self, X, Y, f, g, reg, metric, code, p, *, xp, device, dtype, budget,
                 _kernel_points=None):
        super().__init__(X, Y, f, g, reg, metric, code, p, _kernel_points=_kernel_points)
        self._xp, self._device, self.dtype, self._budget = xp, device, dtype, budget
        self._tiles = Tiles(self._Xk, self._Yk, code, p, xp, budget)

    def _out(self, x):
        return x if x.dtype == self.dtype else self._xp.astype(x, self.dtype)

    @property
    def potentials(self):
        return self._out(self._f), self._out(self._g)

    @property
    def T(self):
        """The transposed plan (a :class:`DeviceLazyPlan` of shape ``(m, n)``)."""
        return DeviceLazyPlan(self._Y, self._X, self._g, self._f, self.reg, self.metric,
                              self._code, self._p, xp=self._xp, device=self._device,
                              dtype=self.dtype, budget=self._budget,
                              _kernel_points=(self._Yk, self._Xk))

    def __getitem__(self, key):
        xp = self._xp
        if not isinstance(key, tuple):
            key = (key, slice(None))
        if len(key) != 2:
            raise IndexError(f"LazyPlan takes at most 2 indices, got {len(key)}")
        rows, keep_r = _index_xp(key[0], self.shape[0], 0, xp, self._device)
        cols, keep_c = _index_xp(key[1], self.shape[1], 1, xp, self._device)
        Xr = xp.take(self._Xk, rows, axis=0)
        sub = Tiles(Xr, xp.take(self._Yk, cols, axis=0), self._code, self._p, xp,
                    self._budget)
        fr, gc = xp.take(self._f, rows), xp.take(self._g, cols)
        inv = 1.0 / self.reg
        parts = [xp.exp((fr[i0:i1, None] + gc[None, :] - C) * inv)
                 for i0, i1, C in sub.blocks()]
        out = self._out(parts[0] if len(parts) == 1 else xp.concat(parts))
        if not keep_r:
            out = out[0, ...]
            return out[0, ...] if not keep_c else out
        return out if keep_c else out[:, 0]

    def _vector(self, V, name, size):
        xp = self._xp
        if isinstance(V, (list, tuple)):
            V = xp.asarray(V, device=self._device)
        if not is_array(V) or get_namespace(V) is not xp:
            raise TypeError(f"a LazyPlan of {namespace_name(xp)} arrays multiplies arrays of "
                            f"that library, got {type(V).__name__}")
        if not xp.isdtype(V.dtype, ("real floating", "integral", "bool")):
            raise TypeError(f"LazyPlan @ {name} needs a real array, got dtype {V.dtype}")
        if V.ndim not in (1, 2) or V.shape[0] != size:
            raise ValueError(f"LazyPlan of shape {self.shape} @ {name} needs {name} of shape "
                             f"({size},) or ({size}, k), got {tuple(V.shape)}")
        return V

    def _apply(self, V):
        """``P @ V`` in the computation dtype (``V`` validated, 1-D or 2-D)."""
        xp = self._xp
        V2 = xp.astype(V if V.ndim == 2 else V[:, None], self._f.dtype)
        out = self._tiles.apply(self._f, self._g, self.reg, V2)
        return out if V.ndim == 2 else out[:, 0]

    def __matmul__(self, V):
        return self._out(self._apply(self._vector(V, "V", self.shape[1])))

    def __rmatmul__(self, W):
        xp = self._xp
        if is_array(W) and get_namespace(W) is xp and W.ndim == 2:
            return xp.matrix_transpose(self.T @ xp.matrix_transpose(W))
        return self.T @ W

    def sum(self, axis=None):
        """Marginals: ``axis=1`` row sums (n,), ``axis=0`` column sums (m,), None: total."""
        if axis is None:
            return float(self._xp.sum(self._rowstats()[0]))
        if axis in (1, -1):
            return self._out(self._rowstats()[0])
        if axis in (0, -2):
            return self.T.sum(axis=1)
        raise ValueError(f"`axis` must be None, 0 or 1, got {axis!r}")

    def _rowstats(self):
        rs, rc, _ = self._tiles.stats(self._f, self._g, self.reg)
        return rs, rc

    def topk(self, k):
        """The ``k`` largest entries of every row (see :meth:`LazyPlan.topk`)."""
        if isinstance(k, bool) or not isinstance(k, numbers.Integral) or not \
                1 <= k <= self.shape[1]:
            raise ValueError(f"`k` must be an integer in [1, {self.shape[1]}], got {k!r}")
        idx, val = self._tiles.topk(self._f, self._g, self.reg, int(k))
        return idx, self._out(val)

    def barycentric_map(self):
        r"""Image of each source point (see :meth:`LazyPlan.barycentric_map`)."""
        xp = self._xp
        Y = xp.astype(self._Y, self._f.dtype)
        ones = xp.ones((Y.shape[0], 1), dtype=Y.dtype, device=self._device)
        PY = self._apply(xp.concat([Y, ones], axis=1))
        return self._out(PY[:, :-1] / PY[:, -1:])
