"""Element-wise optimizers as one fused pass per leaf (Numba) or vectorised xp code.

:func:`fused_transform` builds a :class:`GradientTransformation` from

* ``buffers``: names of the per-parameter state arrays (zeros at init),
* ``make_hp(count) -> (hp, flags)``: the step's float64 hyper-parameters
  and int64 switches (``flags[0]`` is reserved for the in-place switch),
* ``kernel``: the Numba kernel of :mod:`numopt.optim._kernels`,
* ``xp_step(xp, p, g, bufs, hp, flags) -> update``: the same update in
  vectorised array code (NumPy ufuncs or CuPy), updating ``bufs`` in place.

``impl='auto'`` runs the kernel on NumPy leaves and ``xp_step`` on CuPy
leaves; ``'numba'`` and ``'xp'`` force one path (``'numba'`` needs NumPy).
"""
import numpy as np

from .._backend import get_namespace, is_cupy_array
from .._validation import check_choice
from ._base import GradientTransformation, check_grads
from ._kernels import all_finite_kernel
from ._tree import tree_check_same, tree_leaves, tree_unflatten_like

__all__ = ["fused_transform", "check_impl", "grads_all_finite"]

IMPLS = ("auto", "numba", "xp")


def check_impl(impl):
    return check_choice(impl, "impl", IMPLS)


def _zeros(p):
    if not hasattr(p, "dtype") or not hasattr(p, "shape"):
        raise TypeError(f"parameters must be arrays (NumPy or CuPy), got {type(p).__name__}")
    if p.dtype.kind != "f":
        raise TypeError(f"parameters must have a floating dtype, got {p.dtype}")
    xp = get_namespace(p)
    return xp.zeros(p.shape, dtype=p.dtype)


def _flat(x, dtype):
    """1-D C-contiguous view (copy only when needed) of ``x`` in ``dtype``."""
    return np.ascontiguousarray(x, dtype=dtype).reshape(-1)


def fused_transform(name, buffers, make_hp, kernel, xp_step, needs_params, impl="auto",
                    kernel_buffers=None):
    """Build the init/update pair (and the in-place step) of an element-wise optimizer.

    ``kernel_buffers`` lists the buffers the kernel takes, in order; those
    not in ``buffers`` are not stored and reach the kernel as zero-size
    arrays (``None`` for ``xp_step``).
    """
    impl = check_impl(impl)
    buffers = tuple(buffers)
    kernel_buffers = buffers if kernel_buffers is None else tuple(kernel_buffers)
    _empties = {}

    def _empty(dt):
        if dt not in _empties:
            _empties[dt] = np.zeros(0, dtype=dt)
        return _empties[dt]

    def init(params):
        leaves = tree_leaves(params)
        state = {"count": 0}
        for b in buffers:
            state[b] = tree_unflatten_like(params, [_zeros(p) for p in leaves])
        return state

    def _numba_ok(g):
        if impl == "xp":
            return False
        if is_cupy_array(g):
            if impl == "numba":
                raise TypeError("impl='numba' needs NumPy arrays; use impl='auto' or 'xp' "
                                "with CuPy")
            return False
        return True

    def _prepare(grads, state, params):
        if not isinstance(state, dict) or "count" not in state or buffers[0] not in state:
            raise ValueError(f"`state` is not a {name} state (expected keys 'count', "
                             f"{', '.join(map(repr, buffers))})")
        ref = state[buffers[0]]
        gl = check_grads(grads, ref)
        if needs_params and params is None:
            raise ValueError(f"{name} needs `params` for weight decay; call "
                             "update(grads, state, params)")
        pl = None
        if params is not None and needs_params:
            tree_check_same(ref, params, "params", "state")
            pl = tree_leaves(params)
        bl = [tree_leaves(state[b]) if b in buffers else None for b in kernel_buffers]
        hp, flags = make_hp(state["count"])
        return gl, pl, bl, np.asarray(hp, dtype=np.float64), np.asarray(flags, dtype=np.int64)

    def _new_state(state):
        new = dict(state)
        new["count"] = state["count"] + 1
        return new

    def _kbufs(bufs, dt):
        return [_empty(dt) if b is None else b.reshape(-1) for b in bufs]

    def _leaf_update(i, g, pl, bl, hp, flags):
        bufs = [None if b is None else b[i] for b in bl]
        dt = bufs[0].dtype
        if _numba_ok(g):
            g1 = _flat(g, dt)
            p1 = _flat(pl[i], dt) if pl is not None else g1
            out = np.empty(g1.shape, dtype=dt)
            kernel(p1, g1, out, *_kbufs(bufs, dt), hp, flags)
            return out.reshape(bufs[0].shape)
        xp = get_namespace(g)
        g1 = xp.asarray(g, dtype=dt)
        p1 = xp.asarray(pl[i], dtype=dt) if pl is not None else None
        return xp_step(xp, p1, g1, bufs, hp, flags)

    def update(grads, state, params=None, **extra):
        gl, pl, bl, hp, flags = _prepare(grads, state, params)
        flags[0] = 0
        out = [_leaf_update(i, g, pl, bl, hp, flags) for i, g in enumerate(gl)]
        return tree_unflatten_like(grads, out), _new_state(state)

    def step_inplace(params, grads, state, **extra):
        gl, _, bl, hp, flags = _prepare(grads, state, params)
        tree_check_same(state[buffers[0]], params, "params", "state")
        pl = tree_leaves(params)
        for i, (p, g) in enumerate(zip(pl, gl)):
            dt = bl[0][i].dtype
            direct = (_numba_ok(g) and isinstance(p, np.ndarray) and p.dtype == dt
                      and p.flags.c_contiguous and p.flags.writeable)
            if direct:
                flags[0] = 1
                p1 = p.reshape(-1)
                bufs = [None if b is None else b[i] for b in bl]
                kernel(p1, _flat(g, dt), p1, *_kbufs(bufs, dt), hp, flags)
            else:
                flags[0] = 0
                u = _leaf_update(i, g, pl if needs_params else None, bl, hp, flags)
                p += u.astype(p.dtype, copy=False)
        return _new_state(state)

    return GradientTransformation(init, update, step_inplace, name=name)


def grads_all_finite(grads):
    """True when every gradient entry is finite (Numba pass for NumPy leaves)."""
    for g in tree_leaves(grads):
        if isinstance(g, np.ndarray) and g.dtype in (np.float32, np.float64):
            if not all_finite_kernel(np.ascontiguousarray(g).reshape(-1)):
                return False
        else:
            xp = get_namespace(g)
            if not bool(xp.all(xp.isfinite(g))):
                return False
    return True
