"""Fused element-wise optimizer steps (Numba): one parallel pass over many arrays.

Each optimizer has one *multi-tensor* kernel ``*_multi(addr, sizes, hp,
flags, like)`` (``parallel=True``), the analogue of PyTorch's fused
``foreach`` step: every array of a model goes through one launch, split
into chunks of :data:`CHUNK` elements that the threads share, so a model of
many small arrays does not pay one launch per array and a model of one big
array still uses every thread.

* ``addr``: int64 ``(n_arrays, n_slots)`` table of data addresses, one row
  per parameter array, slots ``p, g, out, *buffers`` (the optimizer's
  state, updated in place). Every address points to ``sizes[j]``
  contiguous elements of ``like``'s dtype; an unused slot (no weight decay:
  ``p``; no AMSGrad: ``vmax``) may repeat any valid address of the row, the
  kernel never touches it.
* ``hp``: float64 hyper-parameters, ``flags``: int64 switches;
  ``flags[0] == 1`` means in place (``out`` is ``p`` and the step is added),
  otherwise ``out`` receives the update.
* ``like``: a (zero-size) array of the dtype, float32 or float64. Float32
  arrays are computed in float32 (the constants are rounded once), as the
  NumPy code and torch do.

The addresses come from :func:`address`; :func:`run_kernel` builds the table
for flat arrays (the ``*_kernel(p, g, out, *buffers, hp, flags)`` functions
below, used by the tests). Each chunk runs a serial, vectorised loop
(``_*_chunk`` dispatches to ``_*_inplace`` or ``_*_out``); in place it reads
``p`` through ``out`` only, since reading the same memory through a second
array object kept the loop from vectorising. The in-place and ``out=``
loops are separate compiled functions: with both loops in one function the
``out=`` loop ran 4-7x slower per chunk than the in-place one (scalar speed;
split, both run at the in-place speed). Slow references:
``tests/optim/_naive.py``.
"""
import math
from functools import partial

import numba
import numpy as np
from numba import types
from numba.core import cgutils
from numba.extending import intrinsic

from .._jit import njit, prange
from .._vexp import vexp

_OPTS = dict(fastmath=True, error_model="numpy")

#: elements per work item of the multi-tensor kernels
CHUNK = 1 << 14
#: up to this many work items a kernel runs on the calling thread: starting the
#: threads costs more than the work (and, on a loaded machine, waits for a core)
SERIAL_CHUNKS = 4
# Each *_multi kernel repeats the same three-line dispatch (``range`` up to
# SERIAL_CHUNKS work items, else ``prange``) around its own ``_*_item``: the work
# function must be known when the parallel loop is compiled (a function argument
# would be one more compiled signature per optimizer and defeats the cache).

__all__ = ["adam_multi", "sgd_multi", "lion_multi", "belief_multi", "diffgrad_multi",
           "adam_kernel", "sgd_kernel", "lion_kernel", "belief_kernel", "diffgrad_kernel",
           "run_kernel", "address", "all_finite_multi", "sq_norm", "sq_dist",
           "all_finite_kernel", "CHUNK", "momentum_leaf", "namo_apply",
           "adam_low_leaf", "frugal_tail", "exact_leaf_ok"]


# ------------------------------------------------------------------ addresses and chunks
@intrinsic
def _voidptr(typingctx, addr):  # pragma: no cover - compiled
    if not isinstance(addr, types.Integer):
        return None

    def codegen(context, builder, sig, args):
        return builder.inttoptr(args[0], cgutils.voidptr_t)
    return types.voidptr(addr), codegen


@njit
def address(a):  # pragma: no cover - compiled
    """Data address of a (contiguous) array, for the ``addr`` tables."""
    return a.ctypes.data


@njit(inline="always")
def _chunk_ends(sizes):  # pragma: no cover - compiled
    """Cumulative number of chunks after each array, and the total."""
    ends = np.empty(sizes.shape[0], dtype=np.int64)
    acc = 0
    for j in range(sizes.shape[0]):
        acc += (sizes[j] + CHUNK - 1) // CHUNK
        ends[j] = acc
    return ends, acc


@njit(inline="always")
def _span(ends, sizes, w):  # pragma: no cover - compiled
    """(array, first element, length) of work item ``w``."""
    j = np.searchsorted(ends, w, side="right")
    first = ends[j - 1] if j > 0 else 0
    lo = (w - first) * CHUNK
    return j, lo, min(CHUNK, sizes[j] - lo)


@njit(inline="always")
def _at(addr, j, k, lo, n, like):  # pragma: no cover - compiled
    """Elements ``lo:lo+n`` of slot ``k`` of array ``j`` (a C-contiguous view)."""
    return numba.carray(_voidptr(addr[j, k] + lo * like.itemsize), n, like.dtype)


def run_kernel(multi, p, g, out, *rest):
    """Run a multi-tensor kernel on flat arrays: ``multi`` with one row.

    ``rest`` is ``(*buffers, hp, flags)``; ``p``, ``g``, ``out`` and the
    buffers are 1-D C-contiguous arrays of one dtype (float32 or float64) and
    one length, except unused buffers (zero-size placeholders).
    """
    *bufs, hp, flags = rest
    n = g.shape[0]
    arrays = (p, g, out, *bufs)
    for a in arrays:
        if not (isinstance(a, np.ndarray) and a.ndim == 1 and a.flags.c_contiguous
                and a.dtype == g.dtype):
            raise ValueError("kernel arrays must be 1-D C-contiguous of one dtype")
        if a.size not in (0, n):
            raise ValueError("kernel arrays must have one length (or be empty placeholders)")
    if g.dtype not in (np.float32, np.float64):
        raise TypeError(f"kernels take float32 or float64 arrays, got {g.dtype}")
    if out.size != n or (out is not p and p.size != n and flags[0] == 1):
        raise ValueError("`out` (and `p` in place) must have the length of `g`")
    row = [address(a if a.size else g) for a in arrays]
    multi(np.array([row], dtype=np.int64), np.array([n], dtype=np.int64),
          np.asarray(hp, dtype=np.float64), np.asarray(flags, dtype=np.int64), g[:0])


# The element functions below are compiled copies of the array-code rules, kept apart
# because one fused Numba pass per array is several times faster than the ufunc chain
# (asv_benchmarks/benchmarks/optim.py, 'numba' vs 'numpy'). Each must match its reference,
# and tests/optim/test_kernels.py checks both against tests/optim/_naive.py:
# _adam_elem ~ numopt.optim._transforms.adam_direction (+ _alias._adam_xp's weight decay),
# _belief_elem ~ numopt.optim._transforms.belief_direction (+ _alias._belief_xp),
# _sgd_elem ~ _alias._sgd_xp, _lion_elem ~ _alias._lion_xp, _diffgrad_elem ~ _alias._diffgrad_xp.
# Constants arrive in ``c`` (an array of the data's dtype, so that float32 stays float32).

# ----------------------------------------------------------------------------- Adam
@njit(inline="always", **_OPTS)
def _adam_elem(gi, pi, mo, vo, vmo, b1, ob1, b2, ob2, step, ibc2, eps, eps_root, wd_l2,
               wd_dec, ams):  # pragma: no cover - compiled
    if wd_l2 != 0.0:
        gi = gi + wd_l2 * pi
    mi = b1 * mo + ob1 * gi
    vi = b2 * vo + ob2 * gi * gi
    vm = vi
    if ams and vmo > vi:
        vm = vmo
    d = -step * mi / (math.sqrt(vm * ibc2 + eps_root) + eps)
    if wd_dec != 0.0:
        d = d - wd_dec * pi
    return d, mi, vi, vm


@njit(**_OPTS)
def _adam_inplace(p, g, out, m, v, vmax, c, ams):  # pragma: no cover - compiled
    # c = [b1, 1-b1, b2, 1-b2, step, inv_bc2, eps, eps_root, wd_l2, wd_dec], read once
    # into scalars (a store to the state could alias ``c``: loads in the loop would repeat)
    b1, ob1, b2, ob2, step, ibc2, eps, eps_root, wd_l2, wd_dec = (
        c[0], c[1], c[2], c[3], c[4], c[5], c[6], c[7], c[8], c[9])
    for i in range(g.shape[0]):
        pi = out[i]
        d, m[i], v[i], vm = _adam_elem(g[i], pi, m[i], v[i], vmax[i] if ams else v[i],
                                       b1, ob1, b2, ob2, step, ibc2, eps, eps_root,
                                       wd_l2, wd_dec, ams)
        if ams:
            vmax[i] = vm
        out[i] = pi + d


@njit(**_OPTS)
def _adam_out(p, g, out, m, v, vmax, c, ams):  # pragma: no cover - compiled
    # c = [b1, 1-b1, b2, 1-b2, step, inv_bc2, eps, eps_root, wd_l2, wd_dec], read once
    # into scalars (a store to the state could alias ``c``: loads in the loop would repeat)
    b1, ob1, b2, ob2, step, ibc2, eps, eps_root, wd_l2, wd_dec = (
        c[0], c[1], c[2], c[3], c[4], c[5], c[6], c[7], c[8], c[9])
    for i in range(g.shape[0]):
        d, m[i], v[i], vm = _adam_elem(g[i], p[i], m[i], v[i], vmax[i] if ams else v[i],
                                       b1, ob1, b2, ob2, step, ibc2, eps, eps_root,
                                       wd_l2, wd_dec, ams)
        if ams:
            vmax[i] = vm
        out[i] = d


@njit(**_OPTS)
def _adam_chunk(p, g, out, m, v, vmax, c, inplace, ams):  # pragma: no cover - compiled
    if inplace:  # two loops, two functions (see the module docstring)
        _adam_inplace(p, g, out, m, v, vmax, c, ams)
    else:
        _adam_out(p, g, out, m, v, vmax, c, ams)


@njit(inline="always", **_OPTS)
def _adam_item(addr, sizes, ends, w, like, c, inplace, ams):  # pragma: no cover - compiled
    j, lo, n = _span(ends, sizes, w)
    _adam_chunk(_at(addr, j, 0, lo, n, like), _at(addr, j, 1, lo, n, like),
                _at(addr, j, 2, lo, n, like), _at(addr, j, 3, lo, n, like),
                _at(addr, j, 4, lo, n, like), _at(addr, j, 5, lo, n, like), c, inplace, ams)


@njit(parallel=True, **_OPTS)
def adam_multi(addr, sizes, hp, flags, like):  # pragma: no cover - compiled
    """Adam / AdamW / AMSGrad (torch form; the paper's AMSGrad via hp).

    Slots ``p, g, out, m, v, vmax``; hp = [b1, b2, step_size, inv_bc2, eps,
    eps_root, wd_l2, wd_dec]; flags = [inplace, amsgrad]. The step is
    ``-step_size * m / (sqrt(v * inv_bc2 + eps_root) + eps) - wd_dec * p``.
    """
    c = np.empty(10, dtype=like.dtype)
    c[0], c[1], c[2], c[3] = hp[0], 1.0 - hp[0], hp[1], 1.0 - hp[1]
    for k in range(4, 10):  # (no slice assignment: parallel=True would launch it)
        c[k] = hp[k - 2]
    inplace, ams = flags[0] == 1, flags[1] == 1
    ends, total = _chunk_ends(sizes)
    if total <= SERIAL_CHUNKS:  # small: no thread launch
        for w in range(total):
            _adam_item(addr, sizes, ends, w, like, c, inplace, ams)
    else:
        for w in prange(total):
            _adam_item(addr, sizes, ends, w, like, c, inplace, ams)


# ----------------------------------------------------------------------------- SGD
@njit(inline="always", **_OPTS)
def _sgd_elem(gi, pi, bo, lr, mom, wd, use_mom, nest):  # pragma: no cover - compiled
    if wd != 0.0:
        gi = gi + wd * pi
    b = bo
    if use_mom:
        b = mom * bo + gi
        if nest:
            gi = gi + mom * b
        else:
            gi = b
    return -lr * gi, b


@njit(**_OPTS)
def _sgd_inplace(p, g, out, buf, c, use_mom, nest):  # pragma: no cover - compiled
    lr, mom, wd = c[0], c[1], c[2]  # c = [lr, momentum, wd]
    for i in range(g.shape[0]):
        pi = out[i]
        d, b = _sgd_elem(g[i], pi, buf[i] if use_mom else pi, lr, mom, wd, use_mom,
                         nest)
        if use_mom:
            buf[i] = b
        out[i] = pi + d


@njit(**_OPTS)
def _sgd_out(p, g, out, buf, c, use_mom, nest):  # pragma: no cover - compiled
    lr, mom, wd = c[0], c[1], c[2]  # c = [lr, momentum, wd]
    for i in range(g.shape[0]):
        d, b = _sgd_elem(g[i], p[i], buf[i] if use_mom else g[i], lr, mom, wd,
                         use_mom, nest)
        if use_mom:
            buf[i] = b
        out[i] = d


@njit(**_OPTS)
def _sgd_chunk(p, g, out, buf, c, inplace, use_mom, nest):  # pragma: no cover - compiled
    if inplace:  # two loops, two functions (see the module docstring)
        _sgd_inplace(p, g, out, buf, c, use_mom, nest)
    else:
        _sgd_out(p, g, out, buf, c, use_mom, nest)


@njit(inline="always", **_OPTS)
def _sgd_item(addr, sizes, ends, w, like, c, inplace, use_mom, nest):  # pragma: no cover - compiled
    j, lo, n = _span(ends, sizes, w)
    _sgd_chunk(_at(addr, j, 0, lo, n, like), _at(addr, j, 1, lo, n, like),
               _at(addr, j, 2, lo, n, like), _at(addr, j, 3, lo, n, like),
               c, inplace, use_mom, nest)


@njit(parallel=True, **_OPTS)
def sgd_multi(addr, sizes, hp, flags, like):  # pragma: no cover - compiled
    """SGD with momentum / Nesterov (torch form, no dampening).

    Slots ``p, g, out, buf``; hp = [lr, momentum, wd_l2];
    flags = [inplace, use_momentum, nesterov].
    """
    c = np.empty(3, dtype=like.dtype)
    c[0], c[1], c[2] = hp[0], hp[1], hp[2]
    inplace, use_mom, nest = flags[0] == 1, flags[1] == 1, flags[2] == 1
    ends, total = _chunk_ends(sizes)
    if total <= SERIAL_CHUNKS:  # small: no thread launch
        for w in range(total):
            _sgd_item(addr, sizes, ends, w, like, c, inplace, use_mom, nest)
    else:
        for w in prange(total):
            _sgd_item(addr, sizes, ends, w, like, c, inplace, use_mom, nest)


# ----------------------------------------------------------------------------- Lion
@njit(inline="always", **_OPTS)
def _lion_elem(gi, pi, mo, lr, b1, ob1, b2, ob2, lr_wd, zero):  # pragma: no cover - compiled
    u = b1 * mo + ob1 * gi
    d = zero
    if u > 0:
        d = -lr
    elif u < 0:
        d = lr
    if lr_wd != 0.0:
        d = d - lr_wd * pi
    return d, b2 * mo + ob2 * gi


@njit(**_OPTS)
def _lion_inplace(p, g, out, m, c):  # pragma: no cover - compiled
    # c = [lr, b1, 1-b1, b2, 1-b2, lr*wd, 0]
    lr, b1, ob1, b2, ob2, lr_wd, zero = c[0], c[1], c[2], c[3], c[4], c[5], c[6]
    for i in range(g.shape[0]):
        pi = out[i]
        d, m[i] = _lion_elem(g[i], pi, m[i], lr, b1, ob1, b2, ob2, lr_wd, zero)
        out[i] = pi + d


@njit(**_OPTS)
def _lion_out(p, g, out, m, c):  # pragma: no cover - compiled
    # c = [lr, b1, 1-b1, b2, 1-b2, lr*wd, 0]
    lr, b1, ob1, b2, ob2, lr_wd, zero = c[0], c[1], c[2], c[3], c[4], c[5], c[6]
    for i in range(g.shape[0]):
        d, m[i] = _lion_elem(g[i], p[i], m[i], lr, b1, ob1, b2, ob2, lr_wd,
                             zero)
        out[i] = d


@njit(**_OPTS)
def _lion_chunk(p, g, out, m, c, inplace):  # pragma: no cover - compiled
    if inplace:  # two loops, two functions (see the module docstring)
        _lion_inplace(p, g, out, m, c)
    else:
        _lion_out(p, g, out, m, c)


@njit(inline="always", **_OPTS)
def _lion_item(addr, sizes, ends, w, like, c, inplace):  # pragma: no cover - compiled
    j, lo, n = _span(ends, sizes, w)
    _lion_chunk(_at(addr, j, 0, lo, n, like), _at(addr, j, 1, lo, n, like),
                _at(addr, j, 2, lo, n, like), _at(addr, j, 3, lo, n, like), c, inplace)


@njit(parallel=True, **_OPTS)
def lion_multi(addr, sizes, hp, flags, like):  # pragma: no cover - compiled
    """Lion: ``-lr * (sign(b1 m + (1-b1) g) + wd p)``, then ``m = b2 m + (1-b2) g``.

    Slots ``p, g, out, m``; hp = [lr, b1, b2, wd]; flags = [inplace].
    """
    c = np.empty(7, dtype=like.dtype)
    c[0], c[1], c[2], c[3] = hp[0], hp[1], 1.0 - hp[1], hp[2]
    c[4], c[5], c[6] = 1.0 - hp[2], hp[0] * hp[3], 0.0
    inplace = flags[0] == 1
    ends, total = _chunk_ends(sizes)
    if total <= SERIAL_CHUNKS:  # small: no thread launch
        for w in range(total):
            _lion_item(addr, sizes, ends, w, like, c, inplace)
    else:
        for w in prange(total):
            _lion_item(addr, sizes, ends, w, like, c, inplace)


# ------------------------------------------------------------------ AdaBelief / AdaMomentum
# compiled copy of _transforms.belief_direction, kept apart for speed (see above _adam_elem)
@njit(inline="always", **_OPTS)
def _belief_elem(gi, pi, mo, so, b1, ob1, b2, ob2, eps_s, eps_o, step, cc, wd_l2, wd_mul,
                 residual, use_denom):  # pragma: no cover - compiled
    if wd_l2 != 0.0:
        gi = gi + wd_l2 * pi
    mi = b1 * mo + ob1 * gi
    r = mi
    if residual:
        r = gi - mi
    si = b2 * so + ob2 * r * r + eps_s
    if use_denom:
        d = -step * mi / (math.sqrt(si) * cc + eps_o)
    else:
        d = -step * mi
    if wd_mul != 0.0:
        d = d - wd_mul * pi
    return d, mi, si


@njit(**_OPTS)
def _belief_inplace(p, g, out, m, s, c, residual, use_denom):  # pragma: no cover - compiled
    # c = [b1, 1-b1, b2, 1-b2, eps_store, eps_out, step, c, wd_l2, wd_mul]
    b1, ob1, b2, ob2, eps_s, eps_o, step, cc, wd_l2, wd_mul = (
        c[0], c[1], c[2], c[3], c[4], c[5], c[6], c[7], c[8], c[9])
    for i in range(g.shape[0]):
        pi = out[i]
        d, m[i], s[i] = _belief_elem(g[i], pi, m[i], s[i], b1, ob1, b2, ob2, eps_s, eps_o,
                                     step, cc, wd_l2, wd_mul, residual, use_denom)
        out[i] = pi + d


@njit(**_OPTS)
def _belief_out(p, g, out, m, s, c, residual, use_denom):  # pragma: no cover - compiled
    # c = [b1, 1-b1, b2, 1-b2, eps_store, eps_out, step, c, wd_l2, wd_mul]
    b1, ob1, b2, ob2, eps_s, eps_o, step, cc, wd_l2, wd_mul = (
        c[0], c[1], c[2], c[3], c[4], c[5], c[6], c[7], c[8], c[9])
    for i in range(g.shape[0]):
        d, m[i], s[i] = _belief_elem(g[i], p[i], m[i], s[i], b1, ob1, b2, ob2, eps_s, eps_o,
                                     step, cc, wd_l2, wd_mul, residual, use_denom)
        out[i] = d


@njit(**_OPTS)
def _belief_chunk(p, g, out, m, s, c, inplace, residual,
                  use_denom):  # pragma: no cover - compiled
    if inplace:  # two loops, two functions (see the module docstring)
        _belief_inplace(p, g, out, m, s, c, residual, use_denom)
    else:
        _belief_out(p, g, out, m, s, c, residual, use_denom)


@njit(inline="always", **_OPTS)
def _belief_item(addr, sizes, ends, w, like, c, inplace, residual,
                 use_denom):  # pragma: no cover - compiled
    j, lo, n = _span(ends, sizes, w)
    _belief_chunk(_at(addr, j, 0, lo, n, like), _at(addr, j, 1, lo, n, like),
                  _at(addr, j, 2, lo, n, like), _at(addr, j, 3, lo, n, like),
                  _at(addr, j, 4, lo, n, like), c, inplace, residual, use_denom)


@njit(parallel=True, **_OPTS)
def belief_multi(addr, sizes, hp, flags, like):  # pragma: no cover - compiled
    """AdaBelief (mode 0: s tracks (g - m)²) and AdaMomentum (mode 1: s tracks m²).

    Slots ``p, g, out, m, s``; hp = [b1, b2, eps_store, eps_out, step, c,
    wd_l2, wd_mul]; flags = [inplace, mode, use_denom].
    ``s = b2 s + (1-b2) r² + eps_store``; the step is
    ``-step * m / (sqrt(s) * c + eps_out) - wd_mul * p`` (or
    ``-step * m - wd_mul * p`` without denominator: rectified warm-up).
    """
    c = np.empty(10, dtype=like.dtype)
    c[0], c[1], c[2], c[3] = hp[0], 1.0 - hp[0], hp[1], 1.0 - hp[1]
    for k in range(4, 10):  # (no slice assignment: parallel=True would launch it)
        c[k] = hp[k - 2]
    inplace, residual, use_denom = flags[0] == 1, flags[1] == 0, flags[2] == 1
    ends, total = _chunk_ends(sizes)
    if total <= SERIAL_CHUNKS:  # small: no thread launch
        for w in range(total):
            _belief_item(addr, sizes, ends, w, like, c, inplace, residual, use_denom)
    else:
        for w in prange(total):
            _belief_item(addr, sizes, ends, w, like, c, inplace, residual, use_denom)


# ----------------------------------------------------------------------------- diffGrad
@njit(inline="always", **_OPTS)
def _diffgrad_elem(gi, pi, mo, vo, po, b1, ob1, b2, ob2, eps, step, wd,
                   one):  # pragma: no cover - compiled
    if wd != 0.0:
        gi = gi + wd * pi
    mi = b1 * mo + ob1 * gi
    vi = b2 * vo + ob2 * gi * gi
    xi = one / (one + vexp(-abs(po - gi)))  # vectorisable exp (numopt/_vexp.py)
    return -step * xi * mi / (math.sqrt(vi) + eps), mi, vi, gi


@njit(**_OPTS)
def _diffgrad_inplace(p, g, out, m, v, prev, c):  # pragma: no cover - compiled
    # c = [b1, 1-b1, b2, 1-b2, eps, step, wd, 1]
    b1, ob1, b2, ob2, eps, step, wd, one = c[0], c[1], c[2], c[3], c[4], c[5], c[6], c[7]
    for i in range(g.shape[0]):
        pi = out[i]
        d, m[i], v[i], prev[i] = _diffgrad_elem(g[i], pi, m[i], v[i], prev[i], b1, ob1, b2,
                                                ob2, eps, step, wd, one)
        out[i] = pi + d


@njit(**_OPTS)
def _diffgrad_out(p, g, out, m, v, prev, c):  # pragma: no cover - compiled
    # c = [b1, 1-b1, b2, 1-b2, eps, step, wd, 1]
    b1, ob1, b2, ob2, eps, step, wd, one = c[0], c[1], c[2], c[3], c[4], c[5], c[6], c[7]
    for i in range(g.shape[0]):
        d, m[i], v[i], prev[i] = _diffgrad_elem(g[i], p[i], m[i], v[i], prev[i], b1, ob1, b2,
                                                ob2, eps, step, wd, one)
        out[i] = d


@njit(**_OPTS)
def _diffgrad_chunk(p, g, out, m, v, prev, c, inplace):  # pragma: no cover - compiled
    if inplace:  # two loops, two functions (see the module docstring)
        _diffgrad_inplace(p, g, out, m, v, prev, c)
    else:
        _diffgrad_out(p, g, out, m, v, prev, c)


@njit(inline="always", **_OPTS)
def _diffgrad_item(addr, sizes, ends, w, like, c, inplace):  # pragma: no cover - compiled
    j, lo, n = _span(ends, sizes, w)
    _diffgrad_chunk(_at(addr, j, 0, lo, n, like), _at(addr, j, 1, lo, n, like),
                    _at(addr, j, 2, lo, n, like), _at(addr, j, 3, lo, n, like),
                    _at(addr, j, 4, lo, n, like), _at(addr, j, 5, lo, n, like), c, inplace)


@njit(parallel=True, **_OPTS)
def diffgrad_multi(addr, sizes, hp, flags, like):  # pragma: no cover - compiled
    """diffGrad v2: friction ``xi = sigmoid(|g_prev - g|)`` on Adam's momentum.

    Slots ``p, g, out, m, v, prev``; hp = [b1, b2, eps, step, wd_l2] with
    ``step = lr sqrt(bc2) / bc1``; flags = [inplace]. The step is
    ``-step * xi * m / (sqrt(v) + eps)``.
    """
    c = np.empty(8, dtype=like.dtype)
    c[0], c[1], c[2], c[3] = hp[0], 1.0 - hp[0], hp[1], 1.0 - hp[1]
    c[4], c[5], c[6], c[7] = hp[2], hp[3], hp[4], 1.0
    inplace = flags[0] == 1
    ends, total = _chunk_ends(sizes)
    if total <= SERIAL_CHUNKS:  # small: no thread launch
        for w in range(total):
            _diffgrad_item(addr, sizes, ends, w, like, c, inplace)
    else:
        for w in prange(total):
            _diffgrad_item(addr, sizes, ends, w, like, c, inplace)


#: flat-array forms ``kernel(p, g, out, *buffers, hp, flags)`` (one row of the multi kernel)
adam_kernel = partial(run_kernel, adam_multi)
sgd_kernel = partial(run_kernel, sgd_multi)
lion_kernel = partial(run_kernel, lion_multi)
belief_kernel = partial(run_kernel, belief_multi)
diffgrad_kernel = partial(run_kernel, diffgrad_multi)


# ----------------------------------------------------------------------------- reductions
@njit(**_OPTS)
def sq_norm(x):  # pragma: no cover - compiled
    """Sum of squares in float64."""
    acc = 0.0
    for i in range(x.shape[0]):
        xi = np.float64(x[i])
        acc += xi * xi
    return acc


@njit(**_OPTS)
def all_finite_kernel(x):  # pragma: no cover - compiled
    """True when every entry of ``x`` is finite (one vectorised pass, no temporaries).

    ``x * 0`` is 0 for finite ``x`` and NaN for NaN or ±inf; the fastmath
    flags exclude ``nnan``/``ninf``, so the product is not folded away.
    """
    acc = 0.0
    for i in range(x.shape[0]):
        acc += x[i] * 0.0
    return acc == 0.0


@njit(inline="always", **_OPTS)
def _nonfinite_item(addr, sizes, ends, w, like):  # pragma: no cover - compiled
    j, lo, n = _span(ends, sizes, w)
    return 0 if all_finite_kernel(_at(addr, j, 0, lo, n, like)) else 1


@njit(parallel=True, **_OPTS)
def all_finite_multi(addr, sizes, like):  # pragma: no cover - compiled
    """:func:`all_finite_kernel` over many arrays (slot 0 of ``addr``), in parallel."""
    ends, total = _chunk_ends(sizes)
    bad = 0
    if total <= SERIAL_CHUNKS:  # small: no thread launch
        for w in range(total):
            bad += _nonfinite_item(addr, sizes, ends, w, like)
    else:
        for w in prange(total):
            bad += _nonfinite_item(addr, sizes, ends, w, like)
    return bad == 0


@njit(**_OPTS)
def sq_dist(a, b):  # pragma: no cover - compiled
    """``sum((a - b)**2)`` in float64, without a temporary."""
    acc = 0.0
    for i in range(a.shape[0]):
        d = np.float64(a[i]) - np.float64(b[i])
        acc += d * d
    return acc


# ------------------------------------------------------------ Sophia / AdaHessian, per leaf
# The element-wise parts of the curvature optimizers, one parallel pass per leaf. No
# fastmath: they reproduce the array code of numopt.optim._second_order bit for bit (the
# same roundings, float32 where NumPy's weak-scalar rules give float32), which
# tests/optim/test_kernels.py checks. ``T`` is the parameters' dtype; the curvature
# arrays (``h``, ``v``, ``D``) are float64.
_EXACT = dict(error_model="numpy")


@njit(**_EXACT)
def _sophia_chunk(g, p, m, h, out, c, hp, use_wd):  # pragma: no cover - compiled
    b1, ob1, gw = c[0], c[1], c[2]          # in T: b1, 1 - b1, lr * wd
    rb, eps, nlr = hp[0], hp[1], hp[2]      # float64: rho * batch_size, eps, -lr
    for i in range(g.shape[0]):
        mi = m[i] * b1
        mi = mi + ob1 * g[i]
        m[i] = mi
        den = rb * h[i]
        if den < eps:                       # np.maximum (NaN stays NaN)
            den = eps
        r = np.float64(mi) / den
        if r < -1.0:                        # np.clip
            r = -1.0
        elif r > 1.0:
            r = 1.0
        st = nlr * r
        if use_wd:
            st = st - np.float64(gw * p[i])
        out[i] = st


@njit(parallel=True, **_EXACT)
def sophia_leaf(g, p, m, h, out, hp, use_wd):  # pragma: no cover - compiled
    """Sophia's step on one flat leaf: ``m`` updated in place, the update into ``out``.

    ``m <- b1 m + (1-b1) g``; ``out = -lr clip(m / max(rho_bs h, eps), -1, 1)``
    ``- lr wd p`` (the last term with ``use_wd``); hp = [b1, lr*wd, rho_bs,
    eps, lr]. ``g, p, m, out`` share a dtype; ``h`` is float64.
    """
    c = np.empty(3, dtype=m.dtype)
    c[0], c[1], c[2] = hp[0], 1.0 - hp[0], hp[1]
    h2 = np.empty(3)
    h2[0], h2[1], h2[2] = hp[2], hp[3], -hp[4]
    n = g.shape[0]
    total = (n + CHUNK - 1) // CHUNK
    if total <= SERIAL_CHUNKS:
        _sophia_chunk(g, p, m, h, out, c, h2, use_wd)
    else:
        for w in prange(total):
            lo = w * CHUNK
            hi = min(n, lo + CHUNK)
            _sophia_chunk(g[lo:hi], p[lo:hi], m[lo:hi], h[lo:hi], out[lo:hi], c, h2, use_wd)


@njit(inline="always", **_EXACT)
def _power(x, k):  # pragma: no cover - compiled
    """``x ** k`` as NumPy computes it for a Python-float exponent (its fast cases)."""
    if k == 1.0:
        return x
    if k == 0.5:
        return math.sqrt(x)
    return x ** k


@njit(**_EXACT)
def _adahessian_chunk(g, p, m, v, D, out, c, hp, use_wd):  # pragma: no cover - compiled
    b1, ob1, bc1, wd = c[0], c[1], c[2], c[3]              # in T
    b2, ob2, bc2, kpow, eps, nlr = hp[0], hp[1], hp[2], hp[3], hp[4], hp[5]   # float64
    for i in range(g.shape[0]):
        mi = m[i] * b1
        mi = mi + ob1 * g[i]
        m[i] = mi
        vi = v[i] * b2
        vi = vi + ob2 * D[i] * D[i]
        v[i] = vi
        den = _power(math.sqrt(vi) / bc2, kpow) + eps
        st = np.float64(mi / bc1) / den
        if use_wd:
            st = st + np.float64(wd * p[i])
        out[i] = nlr * st


@njit(parallel=True, **_EXACT)
def adahessian_leaf(g, p, m, v, D, out, hp, use_wd):  # pragma: no cover - compiled
    """AdaHessian's step on one flat leaf (``m``, ``v`` in place, the update into ``out``).

    ``m <- b1 m + (1-b1) g``, ``v <- b2 v + (1-b2) D²``, ``out = -lr (m / bc1 /``
    ``((sqrt(v)/bc2)**k + eps) + wd p)``; hp = [b1, b2, bc1, bc2, k, eps, lr,
    wd]. ``g, p, m, out`` share a dtype; ``v`` and ``D`` are float64.
    """
    c = np.empty(4, dtype=m.dtype)
    c[0], c[1], c[2], c[3] = hp[0], 1.0 - hp[0], hp[2], hp[7]
    h2 = np.empty(6)
    h2[0], h2[1], h2[2], h2[3], h2[4], h2[5] = hp[1], 1.0 - hp[1], hp[3], hp[4], hp[5], -hp[6]
    n = g.shape[0]
    total = (n + CHUNK - 1) // CHUNK
    if total <= SERIAL_CHUNKS:
        _adahessian_chunk(g, p, m, v, D, out, c, h2, use_wd)
    else:
        for w in prange(total):
            lo = w * CHUNK
            hi = min(n, lo + CHUNK)
            _adahessian_chunk(g[lo:hi], p[lo:hi], m[lo:hi], v[lo:hi], D[lo:hi], out[lo:hi],
                              c, h2, use_wd)


# ------------------------------------------------------------ NAMO / NAMO-D / FRUGAL, per leaf
# The element-wise parts of the orthogonalizing / subspace optimizers (numopt.optim._matrix,
# numopt.optim._frugal); the GEMMs, Newton-Schulz and the reductions (norms, sums) stay in
# NumPy / BLAS. No fastmath, the array code's operation order: bit-identical results
# (tests/optim/test_kernels.py).
@njit(**_EXACT)
def _momentum_chunk(g, m, u, c, nest):  # pragma: no cover - compiled
    b, ob = c[0], c[1]                      # in T: mu, 1 - mu
    for i in range(g.shape[0]):
        mi = m[i] * b
        mi = mi + ob * g[i]
        m[i] = mi
        if nest:
            u[i] = ob * g[i] + b * mi


@njit(parallel=True, **_EXACT)
def momentum_leaf(g, m, u, hp, nest):  # pragma: no cover - compiled
    """``m <- mu m + (1-mu) g`` in place and, with ``nest``, ``u = (1-mu) g + mu m``.

    One flat leaf; hp = [mu]; ``g, m, u`` share a dtype (``u`` is not
    touched without ``nest``). NAMO / NAMO-D's momentum.
    """
    c = np.empty(2, dtype=m.dtype)
    c[0], c[1] = hp[0], 1.0 - hp[0]
    n = g.shape[0]
    total = (n + CHUNK - 1) // CHUNK
    if total <= SERIAL_CHUNKS:
        _momentum_chunk(g, m, u, c, nest)
    else:
        for w in prange(total):
            lo = w * CHUNK
            hi = min(n, lo + CHUNK)
            _momentum_chunk(g[lo:hi], m[lo:hi], u[lo:hi] if nest else u, c, nest)


@njit(**_EXACT)
def _namo_rows(p, o, out, s1, s2, dec, wcol, col):  # pragma: no cover - compiled
    for i in range(p.shape[0]):
        for j in range(p.shape[1]):
            pi = p[i, j]
            if col:
                a = np.float64(pi) * dec[j]
                b = o[i, j] * wcol[j]
            else:
                a = np.float64(pi * s1[0])
                b = s2 * o[i, j]
            out[i, j] = (a - b) - np.float64(pi)


@njit(parallel=True, **_EXACT)
def namo_apply(p, o, out, s1, s2, dec, wcol, col):  # pragma: no cover - compiled
    """NAMO's update ``(p decay - o scale) - p`` of one ``(rows, cols)`` leaf into ``out``.

    NAMO (``col`` false): ``p * s1[0] - s2 * o`` (``s1``'s dtype is NumPy's
    result type of the scalar and ``p``); NAMO-D: ``p * dec - o * wcol``
    with float64 column vectors ``dec``, ``wcol``. ``o`` is float64 (any
    layout), ``out`` has the gradient's dtype.
    """
    rows, cols = p.shape
    block = max(1, CHUNK // max(1, cols))
    total = (rows + block - 1) // block
    if total <= SERIAL_CHUNKS:
        _namo_rows(p, o, out, s1, s2, dec, wcol, col)
    else:
        for w in prange(total):
            lo = w * block
            hi = min(rows, lo + block)
            _namo_rows(p[lo:hi], o[lo:hi], out[lo:hi], s1, s2, dec, wcol, col)


@njit(**_EXACT)
def _adam_low_chunk(g, m, v, out, hp):  # pragma: no cover - compiled
    b1, ob1, b2, ob2, ibc2, eps, ibc1 = hp[0], hp[1], hp[2], hp[3], hp[4], hp[5], hp[6]
    for i in range(g.shape[0]):
        gi = g[i]
        mi = m[i] * b1
        mi = mi + ob1 * gi
        m[i] = mi
        vi = v[i] * b2
        vi = vi + ob2 * (gi * gi)
        v[i] = vi
        out[i] = mi / (math.sqrt(vi * ibc2 + 0.0) + eps) * ibc1


@njit(parallel=True, **_EXACT)
def adam_low_leaf(g, m, v, out, hp):  # pragma: no cover - compiled
    """FRUGAL's subspace Adam on float64 flat arrays: ``m``, ``v`` in place, the step to ``out``.

    ``out = m / (sqrt(v * inv_bc2 + 0) + eps) * inv_bc1`` (``adam_direction``
    without AMSGrad, times the first-moment correction); hp = [b1, b2,
    inv_bc2, eps, inv_bc1].
    """
    h = np.empty(7)
    h[0], h[1], h[2], h[3] = hp[0], 1.0 - hp[0], hp[1], 1.0 - hp[1]
    h[4], h[5], h[6] = hp[2], hp[3], hp[4]
    n = g.shape[0]
    total = (n + CHUNK - 1) // CHUNK
    if total <= SERIAL_CHUNKS:
        _adam_low_chunk(g, m, v, out, h)
    else:
        for w in prange(total):
            lo = w * CHUNK
            hi = min(n, lo + CHUNK)
            _adam_low_chunk(g[lo:hi], m[lo:hi], v[lo:hi], out[lo:hi], h)


@njit(**_EXACT)
def _frugal_chunk(g, lowp, back, p, out, cw, hp, mode, use_wd):  # pragma: no cover
    a, b = hp[0], hp[1]                     # -gamma s_p, gamma s_p s_i
    for i in range(g.shape[0]):
        st = a * back[i]
        if mode != 2:
            r = np.float64(g[i]) - lowp[i]
            if mode == 0:                   # np.sign: +-1, 0 for +-0, NaN stays NaN
                if r > 0.0:
                    r = 1.0
                elif r < 0.0:
                    r = -1.0
                elif r == 0.0:
                    r = 0.0
            st = st - b * r
        if use_wd:
            st = st - np.float64(p[i] * cw[0])
        out[i] = st


@njit(parallel=True, **_EXACT)
def frugal_tail(g, lowp, back, p, out, cw, hp, mode, use_wd):  # pragma: no cover - compiled
    """FRUGAL's full-size step on one flat leaf, into ``out`` (``g``'s dtype).

    ``-gamma s_p back - gamma s_p s_i sign(g - lowp) - (gamma wd) p``
    (``mode`` 0: sign, 1: the residual itself, 2: no residual term); hp =
    [-gamma s_p, gamma s_p s_i]; ``cw[0]`` is ``gamma wd`` in NumPy's result
    type of it and ``p``. ``lowp`` and ``back`` are float64.
    """
    n = g.shape[0]
    total = (n + CHUNK - 1) // CHUNK
    if total <= SERIAL_CHUNKS:
        _frugal_chunk(g, lowp, back, p, out, cw, hp, mode, use_wd)
    else:
        for w in prange(total):
            lo = w * CHUNK
            hi = min(n, lo + CHUNK)
            _frugal_chunk(g[lo:hi], lowp[lo:hi], back[lo:hi], p[lo:hi], out[lo:hi], cw, hp,
                          mode, use_wd)


def exact_leaf_ok(arrays, dtype=None):
    """True when every array is a C-contiguous NumPy array of one dtype.

    The dtype is ``dtype`` or the first array's, and must be float32 or
    float64: the condition for the per-leaf kernels above (others take the
    array code).
    """
    dt = arrays[0].dtype if dtype is None and isinstance(arrays[0], np.ndarray) else dtype
    if dt not in (np.float32, np.float64):
        return False
    return all(isinstance(a, np.ndarray) and a.dtype == dt and a.flags.c_contiguous
               for a in arrays)
