"""Fused element-wise optimizer steps (Numba), one pass over flat buffers.

Every kernel has the signature ``kernel(p, g, out, *buffers, hp, flags)``:

* ``p``: parameters (read for weight decay; ``g`` may stand in when unused),
* ``g``: gradient, ``out``: where the result goes,
* ``buffers``: the optimizer's state, updated in place,
* ``hp``: float64 hyper-parameters of this step, ``flags``: int64 switches;
  ``flags[0] == 1`` means in place (``out`` is ``p`` and the step is added),
  otherwise ``out`` receives the update.

All arrays are 1-D, C-contiguous and of one dtype (float32 or float64), so
each kernel compiles twice at most. Each kernel has two loops over one
inlined element function: in place it reads ``p`` through ``out`` only, since
reading the same memory through a second array object while writing
``out`` kept the loop from vectorising (measured ~6x slower).
Slow references: ``tests/optim/_naive.py``.
"""
import math

import numpy as np

from .._jit import njit

_OPTS = dict(fastmath=True, error_model="numpy")

__all__ = ["adam_kernel", "sgd_kernel", "lion_kernel", "belief_kernel", "diffgrad_kernel",
           "sq_norm", "sq_dist", "all_finite_kernel"]


# The element functions below are compiled copies of the array-code rules, kept apart
# because one fused Numba pass per array is several times faster than the ufunc chain
# (asv_benchmarks/benchmarks/optim.py, 'numba' vs 'numpy'). Each must match its reference,
# and tests/optim/test_kernels.py checks both against tests/optim/_naive.py:
# _adam_elem ~ numopt.optim._transforms.adam_direction (+ _alias._adam_xp's weight decay),
# _belief_elem ~ numopt.optim._transforms.belief_direction (+ _alias._belief_xp),
# _sgd_elem ~ _alias._sgd_xp, _lion_elem ~ _alias._lion_xp, _diffgrad_elem ~ _alias._diffgrad_xp.
@njit(inline="always", **_OPTS)
def _adam_elem(gi, pi, mo, vo, vmo, b1, b2, step, inv_bc2, eps, eps_root, wd_l2, wd_dec,
               ams):  # pragma: no cover - compiled
    if wd_l2 != 0.0:
        gi = gi + wd_l2 * pi
    mi = b1 * mo + (1.0 - b1) * gi
    vi = b2 * vo + (1.0 - b2) * gi * gi
    vm = vi
    if ams and vmo > vi:
        vm = vmo
    d = -step * mi / (math.sqrt(vm * inv_bc2 + eps_root) + eps)
    if wd_dec != 0.0:
        d = d - wd_dec * pi
    return d, mi, vi, vm


@njit(**_OPTS)
def adam_kernel(p, g, out, m, v, vmax, hp, flags):  # pragma: no cover - compiled
    """Adam / AdamW / AMSGrad (torch form; the paper's AMSGrad via hp).

    hp = [b1, b2, step_size, inv_bc2, eps, eps_root, wd_l2, wd_dec];
    flags = [inplace, amsgrad]. The step is
    ``-step_size * m / (sqrt(v * inv_bc2 + eps_root) + eps) - wd_dec * p``.
    """
    b1, b2, step, inv_bc2 = hp[0], hp[1], hp[2], hp[3]
    eps, eps_root, wd_l2, wd_dec = hp[4], hp[5], hp[6], hp[7]
    ams = flags[1] == 1
    if flags[0] == 1:
        for i in range(g.shape[0]):
            pi = out[i]
            d, m[i], v[i], vm = _adam_elem(g[i], pi, m[i], v[i], vmax[i] if ams else 0.0,
                                           b1, b2, step, inv_bc2, eps, eps_root, wd_l2,
                                           wd_dec, ams)
            if ams:
                vmax[i] = vm
            out[i] = pi + d
    else:
        for i in range(g.shape[0]):
            d, m[i], v[i], vm = _adam_elem(g[i], p[i], m[i], v[i], vmax[i] if ams else 0.0,
                                           b1, b2, step, inv_bc2, eps, eps_root, wd_l2,
                                           wd_dec, ams)
            if ams:
                vmax[i] = vm
            out[i] = d


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
def sgd_kernel(p, g, out, buf, hp, flags):  # pragma: no cover - compiled
    """SGD with momentum / Nesterov (torch form, no dampening).

    hp = [lr, momentum, wd_l2]; flags = [inplace, use_momentum, nesterov].
    """
    lr, mom, wd = hp[0], hp[1], hp[2]
    use_mom = flags[1] == 1
    nest = flags[2] == 1
    if flags[0] == 1:
        for i in range(g.shape[0]):
            pi = out[i]
            d, b = _sgd_elem(g[i], pi, buf[i] if use_mom else 0.0, lr, mom, wd, use_mom, nest)
            if use_mom:
                buf[i] = b
            out[i] = pi + d
    else:
        for i in range(g.shape[0]):
            d, b = _sgd_elem(g[i], p[i], buf[i] if use_mom else 0.0, lr, mom, wd, use_mom,
                             nest)
            if use_mom:
                buf[i] = b
            out[i] = d


@njit(inline="always", **_OPTS)
def _lion_elem(gi, pi, mo, lr, b1, b2, wd):  # pragma: no cover - compiled
    c = b1 * mo + (1.0 - b1) * gi
    s = 0.0
    if c > 0:
        s = 1.0
    elif c < 0:
        s = -1.0
    d = -lr * s
    if wd != 0.0:
        d = d - lr * wd * pi
    return d, b2 * mo + (1.0 - b2) * gi


@njit(**_OPTS)
def lion_kernel(p, g, out, m, hp, flags):  # pragma: no cover - compiled
    """Lion: ``-lr * (sign(b1 m + (1-b1) g) + wd p)``, then ``m = b2 m + (1-b2) g``.

    hp = [lr, b1, b2, wd]; flags = [inplace].
    """
    lr, b1, b2, wd = hp[0], hp[1], hp[2], hp[3]
    if flags[0] == 1:
        for i in range(g.shape[0]):
            pi = out[i]
            d, m[i] = _lion_elem(g[i], pi, m[i], lr, b1, b2, wd)
            out[i] = pi + d
    else:
        for i in range(g.shape[0]):
            d, m[i] = _lion_elem(g[i], p[i], m[i], lr, b1, b2, wd)
            out[i] = d


# compiled copy of _transforms.belief_direction, kept apart for speed (see above _adam_elem)
@njit(inline="always", **_OPTS)
def _belief_elem(gi, pi, mo, so, b1, b2, eps_s, eps_o, step, c, wd_l2, wd_mul, mode,
                 use_denom):  # pragma: no cover - compiled
    if wd_l2 != 0.0:
        gi = gi + wd_l2 * pi
    mi = b1 * mo + (1.0 - b1) * gi
    r = mi
    if mode == 0:
        r = gi - mi
    si = b2 * so + (1.0 - b2) * r * r + eps_s
    if use_denom:
        d = -step * mi / (math.sqrt(si) * c + eps_o)
    else:
        d = -step * mi
    if wd_mul != 0.0:
        d = d - wd_mul * pi
    return d, mi, si


@njit(**_OPTS)
def belief_kernel(p, g, out, m, s, hp, flags):  # pragma: no cover - compiled
    """AdaBelief (mode 0: s tracks (g - m)²) and AdaMomentum (mode 1: s tracks m²).

    hp = [b1, b2, eps_store, eps_out, step, c, wd_l2, wd_mul];
    flags = [inplace, mode, use_denom]. ``s = b2 s + (1-b2) r² + eps_store``;
    the step is ``-step * m / (sqrt(s) * c + eps_out) - wd_mul * p`` (or
    ``-step * m - wd_mul * p`` without denominator: rectified warm-up).
    """
    b1, b2, eps_s, eps_o = hp[0], hp[1], hp[2], hp[3]
    step, c, wd_l2, wd_mul = hp[4], hp[5], hp[6], hp[7]
    mode = flags[1]
    use_denom = flags[2] == 1
    if flags[0] == 1:
        for i in range(g.shape[0]):
            pi = out[i]
            d, m[i], s[i] = _belief_elem(g[i], pi, m[i], s[i], b1, b2, eps_s, eps_o, step, c,
                                         wd_l2, wd_mul, mode, use_denom)
            out[i] = pi + d
    else:
        for i in range(g.shape[0]):
            d, m[i], s[i] = _belief_elem(g[i], p[i], m[i], s[i], b1, b2, eps_s, eps_o, step,
                                         c, wd_l2, wd_mul, mode, use_denom)
            out[i] = d


@njit(inline="always", **_OPTS)
def _diffgrad_elem(gi, pi, mo, vo, po, b1, b2, eps, step, wd):  # pragma: no cover - compiled
    if wd != 0.0:
        gi = gi + wd * pi
    mi = b1 * mo + (1.0 - b1) * gi
    vi = b2 * vo + (1.0 - b2) * gi * gi
    xi = 1.0 / (1.0 + math.exp(-abs(po - gi)))
    return -step * xi * mi / (math.sqrt(vi) + eps), mi, vi, gi


@njit(**_OPTS)
def diffgrad_kernel(p, g, out, m, v, prev, hp, flags):  # pragma: no cover - compiled
    """diffGrad v2: friction ``xi = sigmoid(|g_prev - g|)`` on Adam's momentum.

    hp = [b1, b2, eps, step, wd_l2] with ``step = lr sqrt(bc2) / bc1``;
    flags = [inplace]. The step is ``-step * xi * m / (sqrt(v) + eps)``.
    """
    b1, b2, eps, step, wd = hp[0], hp[1], hp[2], hp[3], hp[4]
    if flags[0] == 1:
        for i in range(g.shape[0]):
            pi = out[i]
            d, m[i], v[i], prev[i] = _diffgrad_elem(g[i], pi, m[i], v[i], prev[i], b1, b2, eps,
                                                    step, wd)
            out[i] = pi + d
    else:
        for i in range(g.shape[0]):
            d, m[i], v[i], prev[i] = _diffgrad_elem(g[i], p[i], m[i], v[i], prev[i], b1, b2,
                                                    eps, step, wd)
            out[i] = d


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


@njit(**_OPTS)
def sq_dist(a, b):  # pragma: no cover - compiled
    """``sum((a - b)**2)`` in float64, without a temporary."""
    acc = 0.0
    for i in range(a.shape[0]):
        d = np.float64(a[i]) - np.float64(b[i])
        acc += d * d
    return acc
