"""Fused element-wise optimizer steps (Numba), one pass over flat buffers.

Every kernel has the signature ``kernel(p, g, out, *buffers, hp, flags)``:

* ``p``: parameters (read for weight decay; ``g`` may stand in when unused),
* ``g``: gradient, ``out``: where the result goes,
* ``buffers``: the optimizer's state, updated in place,
* ``hp``: float64 hyper-parameters of this step, ``flags``: int64 switches;
  ``flags[0] == 1`` means in place (``out`` is ``p`` and the step is added),
  otherwise ``out`` receives the update.

All arrays are 1-D, C-contiguous and of one dtype (float32 or float64), so
each kernel compiles twice at most. Slow references: ``tests/optim/_naive.py``.
"""
import math

import numpy as np

from .._jit import njit

__all__ = ["adam_kernel", "sgd_kernel", "lion_kernel", "belief_kernel", "diffgrad_kernel",
           "sq_norm", "sq_dist", "all_finite_kernel"]


@njit(fastmath=True, error_model="numpy")
def adam_kernel(p, g, out, m, v, vmax, hp, flags):  # pragma: no cover - compiled
    """Adam / AdamW / AMSGrad (torch form; the paper's AMSGrad via hp).

    hp = [b1, b2, step_size, inv_bc2, eps, eps_root, wd_l2, wd_dec];
    flags = [inplace, amsgrad]. The step is
    ``-step_size * m / (sqrt(v * inv_bc2 + eps_root) + eps) - wd_dec * p``.
    """
    b1, b2, step, inv_bc2 = hp[0], hp[1], hp[2], hp[3]
    eps, eps_root, wd_l2, wd_dec = hp[4], hp[5], hp[6], hp[7]
    inplace = flags[0] == 1
    ams = flags[1] == 1
    for i in range(g.shape[0]):
        gi = g[i]
        if wd_l2 != 0.0:
            gi = gi + wd_l2 * p[i]
        mi = b1 * m[i] + (1.0 - b1) * gi
        vi = b2 * v[i] + (1.0 - b2) * gi * gi
        m[i] = mi
        v[i] = vi
        if ams:
            if vmax[i] > vi:
                vi = vmax[i]
            vmax[i] = vi
        d = -step * mi / (math.sqrt(vi * inv_bc2 + eps_root) + eps)
        if wd_dec != 0.0:
            d = d - wd_dec * p[i]
        if inplace:
            out[i] = out[i] + d
        else:
            out[i] = d


@njit(fastmath=True, error_model="numpy")
def sgd_kernel(p, g, out, buf, hp, flags):  # pragma: no cover - compiled
    """SGD with momentum / Nesterov (torch form, no dampening).

    hp = [lr, momentum, wd_l2]; flags = [inplace, use_momentum, nesterov].
    """
    lr, mom, wd = hp[0], hp[1], hp[2]
    inplace = flags[0] == 1
    use_mom = flags[1] == 1
    nest = flags[2] == 1
    for i in range(g.shape[0]):
        gi = g[i]
        if wd != 0.0:
            gi = gi + wd * p[i]
        if use_mom:
            b = mom * buf[i] + gi
            buf[i] = b
            if nest:
                gi = gi + mom * b
            else:
                gi = b
        d = -lr * gi
        if inplace:
            out[i] = out[i] + d
        else:
            out[i] = d


@njit(fastmath=True, error_model="numpy")
def lion_kernel(p, g, out, m, hp, flags):  # pragma: no cover - compiled
    """Lion: ``-lr * (sign(b1 m + (1-b1) g) + wd p)``, then ``m = b2 m + (1-b2) g``.

    hp = [lr, b1, b2, wd]; flags = [inplace].
    """
    lr, b1, b2, wd = hp[0], hp[1], hp[2], hp[3]
    inplace = flags[0] == 1
    for i in range(g.shape[0]):
        gi = g[i]
        c = b1 * m[i] + (1.0 - b1) * gi
        s = 0.0
        if c > 0:
            s = 1.0
        elif c < 0:
            s = -1.0
        m[i] = b2 * m[i] + (1.0 - b2) * gi
        d = -lr * s
        if wd != 0.0:
            d = d - lr * wd * p[i]
        if inplace:
            out[i] = out[i] + d
        else:
            out[i] = d


@njit(fastmath=True, error_model="numpy")
def belief_kernel(p, g, out, m, s, hp, flags):  # pragma: no cover - compiled
    """AdaBelief (mode 0: s tracks (g - m)²) and AdaMomentum (mode 1: s tracks m²).

    hp = [b1, b2, eps_store, eps_out, step, c, wd_l2, wd_mul];
    flags = [inplace, mode, use_denom]. ``s = b2 s + (1-b2) r² + eps_store``;
    the step is ``-step * m / (sqrt(s) * c + eps_out) - wd_mul * p`` (or
    ``-step * m - wd_mul * p`` without denominator: rectified warm-up).
    """
    b1, b2, eps_s, eps_o = hp[0], hp[1], hp[2], hp[3]
    step, c, wd_l2, wd_mul = hp[4], hp[5], hp[6], hp[7]
    inplace = flags[0] == 1
    mode = flags[1]
    use_denom = flags[2] == 1
    for i in range(g.shape[0]):
        gi = g[i]
        if wd_l2 != 0.0:
            gi = gi + wd_l2 * p[i]
        mi = b1 * m[i] + (1.0 - b1) * gi
        m[i] = mi
        if mode == 0:
            r = gi - mi
        else:
            r = mi
        si = b2 * s[i] + (1.0 - b2) * r * r + eps_s
        s[i] = si
        if use_denom:
            d = -step * mi / (math.sqrt(si) * c + eps_o)
        else:
            d = -step * mi
        if wd_mul != 0.0:
            d = d - wd_mul * p[i]
        if inplace:
            out[i] = out[i] + d
        else:
            out[i] = d


@njit(fastmath=True, error_model="numpy")
def diffgrad_kernel(p, g, out, m, v, prev, hp, flags):  # pragma: no cover - compiled
    """diffGrad v2: friction ``xi = sigmoid(|g_prev - g|)`` on Adam's momentum.

    hp = [b1, b2, eps, step, wd_l2] with ``step = lr sqrt(bc2) / bc1``;
    flags = [inplace]. The step is ``-step * xi * m / (sqrt(v) + eps)``.
    """
    b1, b2, eps, step, wd = hp[0], hp[1], hp[2], hp[3], hp[4]
    inplace = flags[0] == 1
    for i in range(g.shape[0]):
        gi = g[i]
        if wd != 0.0:
            gi = gi + wd * p[i]
        mi = b1 * m[i] + (1.0 - b1) * gi
        vi = b2 * v[i] + (1.0 - b2) * gi * gi
        m[i] = mi
        v[i] = vi
        xi = 1.0 / (1.0 + math.exp(-abs(prev[i] - gi)))
        prev[i] = gi
        d = -step * xi * mi / (math.sqrt(vi) + eps)
        if inplace:
            out[i] = out[i] + d
        else:
            out[i] = d


@njit(fastmath=True, error_model="numpy")
def sq_norm(x):  # pragma: no cover - compiled
    """Sum of squares in float64."""
    acc = 0.0
    for i in range(x.shape[0]):
        xi = np.float64(x[i])
        acc += xi * xi
    return acc


@njit
def all_finite_kernel(x):  # pragma: no cover - compiled
    """True when every entry of ``x`` is finite (no temporaries)."""
    for i in range(x.shape[0]):
        if not math.isfinite(x[i]):
            return False
    return True


@njit(fastmath=True, error_model="numpy")
def sq_dist(a, b):  # pragma: no cover - compiled
    """``sum((a - b)**2)`` in float64, without a temporary."""
    acc = 0.0
    for i in range(a.shape[0]):
        d = np.float64(a[i]) - np.float64(b[i])
        acc += d * d
    return acc
