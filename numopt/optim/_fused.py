"""Element-wise optimizers as one fused, parallel pass over all leaves (Numba) or xp code.

:func:`fused_transform` builds a :class:`GradientTransformation` from

* ``buffers``: names of the per-parameter state arrays (zeros at init),
* ``make_hp(count) -> (hp, flags)``: the step's float64 hyper-parameters
  and int64 switches (``flags[0]`` is reserved for the in-place switch),
* ``kernel``: the multi-tensor Numba kernel of :mod:`numopt.optim._kernels`
  (``kernel(addr, sizes, hp, flags, like)``),
* ``xp_step(xp, p, g, bufs, hp, flags) -> update``: the same update in
  vectorised Array API code (any namespace: NumPy, PyTorch, CuPy, ...),
  updating ``bufs`` in place.

``update`` takes ``out=``: a tree like the parameters of arrays that receive
the updates (e.g. the previous step's), so that a functional training loop
does not allocate (and page-fault) new arrays at every step.

``impl='auto'`` runs the kernel on NumPy float32/float64 leaves and
``xp_step`` on the others (PyTorch, CuPy, any Array API array on its device;
NumPy float16); ``'numba'`` and ``'xp'`` force one path (``'numba'`` needs
NumPy). The namespace of the parameters, gradients, state and ``out`` is
resolved once per call (mixing libraries or devices is a ``TypeError``); the
state lives where the parameters live and nothing moves to the host. All
kernel leaves of one dtype go through one kernel launch (a multi-tensor
step: the threads share the chunks of every leaf), so many small leaves
cost one launch, not one each.
"""
import sys

import numpy as np

from .._array_api import get_namespace, is_numpy
from .._validation import check_choice
from ._base import GradientTransformation, check_grads
from ._kernels import address, all_finite_multi
from ._tree import tree_check_same, tree_leaves, tree_unflatten_like
from ._xp import astype, is_float_array, leaves_namespace

__all__ = ["fused_transform", "check_impl", "grads_all_finite"]

IMPLS = ("auto", "numba", "xp")
_KERNEL_DTYPES = (np.dtype(np.float32), np.dtype(np.float64))


def check_impl(impl):
    return check_choice(impl, "impl", IMPLS)


def _zeros(p, xp):
    """Zeros like parameter ``p`` (its dtype, namespace and device)."""
    if not hasattr(p, "dtype") or not hasattr(p, "shape"):
        raise TypeError(f"parameters must be arrays (NumPy, PyTorch, CuPy, ...), got "
                        f"{type(p).__name__}")
    if not is_float_array(p, xp):
        raise TypeError(f"parameters must have a floating dtype, got {p.dtype}")
    if is_numpy(xp):
        return np.zeros(p.shape, dtype=p.dtype)
    return xp.zeros_like(p)


#: outputs of at least this many bytes are recycled by the functional ``update`` (smaller
#: ones come from malloc's free lists; larger ones would be fresh, page-faulted memory)
RECYCLE_BYTES = 1 << 16


def _taken(spare, i):
    """``(spare[i], its reference count here)``, the entry removed from ``spare``.

    Taking the array out of ``spare`` first makes two concurrent calls see
    each other's reference (neither then reuses it).
    """
    a = spare[i]
    spare[i] = None
    return a, (0 if a is None else sys.getrefcount(a))


#: the reference count :func:`_taken` sees for an array nothing else refers to
#: (measured with the same code, so it holds on any CPython version)
_ALONE = _taken([np.empty(1)], 0)[1]


def _take_if_unshared(spare, i):
    """``spare[i]`` when nothing but ``spare`` referred to it (else None).

    A caller that kept the array, or a view of it (a view holds its base),
    adds to its reference count, and the array is left alone.
    """
    a, refs = _taken(spare, i)
    return a if refs == _ALONE else None


def _contiguous(x, dt):
    """``x`` itself when it is a C-contiguous NumPy array of ``dt``, else such a copy."""
    if isinstance(x, np.ndarray) and x.dtype == dt and x.flags.c_contiguous:
        return x
    return np.ascontiguousarray(x, dtype=dt)


def _kernel_state(bufs, dt):
    """True when the state arrays of a leaf can be handed to a kernel (written in place)."""
    return all(isinstance(b, np.ndarray) and b.dtype == dt and b.flags.c_contiguous
               and b.flags.writeable for b in bufs)


class _Launch:
    """Rows of one multi-tensor kernel launch per dtype (arrays kept alive until it runs)."""

    __slots__ = ("rows", "sizes", "keep")

    def __init__(self):
        self.rows, self.sizes, self.keep = {}, {}, []

    def add(self, dt, arrays, size):
        self.rows.setdefault(dt, []).append([address(a) for a in arrays])
        self.sizes.setdefault(dt, []).append(size)
        self.keep.append(arrays)

    def run(self, kernel, hp, flags):
        for dt, rows in self.rows.items():
            kernel(np.array(rows, dtype=np.int64), np.array(self.sizes[dt], dtype=np.int64),
                   hp, flags, np.empty(0, dtype=dt))


def _numba_ok(impl, bufs, xp):
    """True when a leaf's state goes to the compiled kernel (``impl`` and its arrays allow)."""
    if impl == "xp":
        return False
    if not is_numpy(xp):
        if impl == "numba":
            raise TypeError("impl='numba' needs NumPy arrays; use impl='auto' or 'xp' "
                            "with CuPy, PyTorch or other Array API arrays")
        return False
    dt = bufs[0].dtype
    return dt in _KERNEL_DTYPES and _kernel_state(bufs, dt)


def _new_state(state):
    """``state`` with the step count advanced (buffers shared: they were updated in place)."""
    new = dict(state)
    new["count"] = state["count"] + 1
    return new


def fused_transform(name, buffers, make_hp, kernel, xp_step, needs_params, impl="auto",
                    kernel_buffers=None):
    """Build the init/update pair (and the in-place step) of an element-wise optimizer.

    ``kernel_buffers`` lists the buffers the kernel takes, in order; those
    not in ``buffers`` are not stored (the kernel does not touch them) and
    reach ``xp_step`` as ``None``.
    """
    impl = check_impl(impl)
    buffers = tuple(buffers)
    kernel_buffers = buffers if kernel_buffers is None else tuple(kernel_buffers)

    def init(params):
        leaves = tree_leaves(params)
        xp, _ = leaves_namespace(leaves, names=("params",))
        state = {"count": 0}
        for b in buffers:
            state[b] = tree_unflatten_like(params, [_zeros(p, xp) for p in leaves])
        return state

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
        bl = [tree_leaves(state[b]) for b in buffers]
        hp, flags = make_hp(state["count"])
        return gl, pl, bl, np.asarray(hp, dtype=np.float64), np.asarray(flags, dtype=np.int64)

    def _namespace(gl, pl, bl, ol=None):
        """The one namespace of grads, params, state and ``out`` (resolved once per call)."""
        return leaves_namespace(gl, pl, bl[0], ol, names=("grads", "params", "state", "out"))[0]

    def _row(p1, g1, out, bufs):
        """Kernel slots ``p, g, out, *kernel_buffers`` (unused slots repeat ``g``)."""
        by_name = dict(zip(buffers, bufs))
        return [p1, g1, out] + [by_name.get(b, g1) for b in kernel_buffers]

    def _xp_update(xp, g, p, bufs, hp, flags):
        dt = bufs[0].dtype
        by_name = dict(zip(buffers, bufs))
        g1 = astype(g, dt, xp)
        p1 = astype(p, dt, xp) if p is not None else None
        return xp_step(xp, p1, g1, [by_name.get(b) for b in kernel_buffers], hp, flags)

    spare = []   # large outputs of the last functional update (see `update`)

    def _recycled(i, shape, dt):
        """The previous update's output ``i`` if the caller dropped it, else None."""
        if i >= len(spare):
            return None
        a = _take_if_unshared(spare, i)
        return a if a is not None and a.shape == shape and a.dtype == dt else None

    def _queue_update(launch, g, p, bufs, dest=None, i=None):
        """Queue the functional update of one leaf; return its output array.

        The output is ``dest`` when given (checked), else the previous
        update's output ``i`` when the caller no longer refers to it, else a
        new array.
        """
        dt = bufs[0].dtype
        g1 = _contiguous(g, dt)
        p1 = _contiguous(p, dt) if p is not None else g1
        if dest is None:
            dest = _recycled(i, bufs[0].shape, dt) if i is not None else None
            if dest is None:
                dest = np.empty(bufs[0].shape, dtype=dt)
        elif not (isinstance(dest, np.ndarray) and dest.dtype == dt and dest.flags.c_contiguous
                  and dest.flags.writeable):
            raise ValueError(f"`out` arrays must be writeable C-contiguous {dt} NumPy arrays "
                             "(the dtype of the state)")
        launch.add(dt, _row(p1, g1, dest, bufs), dest.size)
        return dest

    def update(grads, state, params=None, out=None, **extra):
        gl, pl, bl, hp, flags = _prepare(grads, state, params)
        ol = None if out is None else tree_check_same(state[buffers[0]], out, "out", "state")
        xp = _namespace(gl, pl, bl, ol)
        launch, res = _Launch(), []
        for i, g in enumerate(gl):
            bufs = [b[i] for b in bl]
            p = pl[i] if pl is not None else None
            dest = None if ol is None else ol[i]
            if _numba_ok(impl, bufs, xp):
                res.append(_queue_update(launch, g, p, bufs, dest,
                                         i=None if ol is not None else i))
                continue
            u = _xp_update(xp, g, p, bufs, hp.copy(), flags.copy())
            if dest is not None:
                dest[...] = u
                u = dest
            res.append(u)
        flags[0] = 0
        launch.run(kernel, hp, flags)
        if ol is None and launch.rows:
            # Keep the large new outputs: once the caller drops them (applies the
            # updates and lets them go), the next call writes into them instead of
            # faulting in fresh pages (as fast as out=; nobody can observe the reuse)
            spare[:] = [u if isinstance(u, np.ndarray) and u.nbytes >= RECYCLE_BYTES
                        else None for u in res]
        return tree_unflatten_like(grads, res), _new_state(state)

    def step_inplace(params, grads, state, **extra):
        gl, _, bl, hp, flags = _prepare(grads, state, params)
        tree_check_same(state[buffers[0]], params, "params", "state")
        pl = tree_leaves(params)
        xp = _namespace(gl, pl, bl)
        direct, indirect, pending = _Launch(), _Launch(), []
        for i, (p, g) in enumerate(zip(pl, gl)):
            bufs = [b[i] for b in bl]
            if not _numba_ok(impl, bufs, xp):
                u = _xp_update(xp, g, p if needs_params else None, bufs, hp.copy(),
                               flags.copy())
                p += astype(u, p.dtype, xp)
                continue
            dt = bufs[0].dtype
            if (isinstance(p, np.ndarray) and p.dtype == dt and p.flags.c_contiguous
                    and p.flags.writeable):
                direct.add(dt, _row(p, _contiguous(g, dt), p, bufs), p.size)
            else:  # the update into a new array, then added
                pending.append((p, _queue_update(indirect, g, p if needs_params else None,
                                                 bufs)))
        flags[0] = 1
        direct.run(kernel, hp, flags)
        flags[0] = 0
        indirect.run(kernel, hp, flags)
        for p, u in pending:
            p += u.astype(p.dtype, copy=False)
        return _new_state(state)

    return GradientTransformation(init, update, step_inplace, name=name)


def grads_all_finite(grads):
    """True when every gradient entry is finite (one parallel Numba pass for NumPy leaves).

    Other namespaces: one reduction per leaf on the device and one host
    synchronisation for the whole tree.
    """
    launch = _Launch()
    leaves = tree_leaves(grads)
    xp, _ = leaves_namespace(leaves, names=("grads",))
    if not is_numpy(xp):
        flags = [xp.all(xp.isfinite(g)) for g in leaves]
        return bool(xp.all(xp.stack(flags))) if flags else True
    for g in leaves:
        if isinstance(g, np.ndarray) and g.dtype in _KERNEL_DTYPES:
            g1 = np.ascontiguousarray(g)
            launch.add(g1.dtype, [g1], g1.size)
        else:
            xp = get_namespace(g)
            if not bool(xp.all(xp.isfinite(g))):
                return False
    for dt, rows in launch.rows.items():
        if not all_finite_multi(np.array(rows, dtype=np.int64),
                                np.array(launch.sizes[dt], dtype=np.int64),
                                np.empty(0, dtype=dt)):
            return False
    return True
