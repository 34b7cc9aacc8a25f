"""Composable building blocks (vectorised Array API code: NumPy, PyTorch, CuPy, ... leaves).

Every block follows the optax sign convention: blocks that *scale* return a
descent direction with the sign of the gradient, and
:func:`scale_by_learning_rate` flips the sign at the end of a :func:`chain`.
"""
import math

import numpy as np

from .._array_api import is_numpy
from .._validation import check_choice, check_scalar
from ._base import GradientTransformation, as_schedule, check_beta, check_grads
from ._fused import grads_all_finite
from ._tree import tree_leaves, tree_map, tree_zeros_like
from ._xp import astype, copy, leaves_namespace, tree_namespace

__all__ = ["scale", "scale_by_learning_rate", "scale_by_schedule", "add_decayed_weights",
           "clip_by_global_norm", "trace", "scale_by_adam", "scale_by_belief",
           "apply_if_finite", "adam_direction", "belief_direction"]


def _need_params(params, who):
    if params is None:
        raise ValueError(f"{who} needs `params`; call update(grads, state, params)")


def scale(step_size):
    """Multiply the updates by a constant ``step_size`` (any sign).

    Works on arrays of any namespace (NumPy, PyTorch, CuPy, ...), on their device.
    """
    if isinstance(step_size, bool) or not isinstance(step_size, (int, float, np.floating)):
        raise TypeError(f"`step_size` must be a real number, got {type(step_size).__name__}")
    step_size = float(step_size)
    if not np.isfinite(step_size):
        raise ValueError(f"`step_size` must be finite, got {step_size}")

    def init(params):
        return ()

    def update(grads, state, params=None, **extra):
        return tree_map(lambda g: g * step_size, grads), state
    return GradientTransformation(init, update, name="scale")


def scale_by_schedule(schedule):
    """Multiply the updates by ``schedule(count)`` (count = completed steps).

    ``schedule`` may also be a constant (it must be non-negative either way).

    Works on arrays of any namespace (NumPy, PyTorch, CuPy, ...), on their device.
    """
    sched = as_schedule(schedule, "schedule")

    def init(params):
        return {"count": 0}

    def update(grads, state, params=None, **extra):
        s = sched(state["count"])
        return tree_map(lambda g: g * s, grads), {"count": state["count"] + 1}
    return GradientTransformation(init, update, name="scale_by_schedule")


def scale_by_learning_rate(learning_rate, flip_sign=True):
    """Multiply by ``-learning_rate`` (a non-negative float or a schedule).

    Works on arrays of any namespace (NumPy, PyTorch, CuPy, ...), on their device.

    Examples
    --------
    >>> import numpy as np
    >>> from numopt.optim import scale_by_learning_rate
    >>> opt = scale_by_learning_rate(0.5)
    >>> u, _ = opt.update(np.array([2.0]), opt.init(np.zeros(1)))
    >>> u
    array([-1.])
    """
    sched = as_schedule(learning_rate, "learning_rate")
    sign = -1.0 if flip_sign else 1.0

    def init(params):
        return {"count": 0}

    def update(grads, state, params=None, **extra):
        s = sign * sched(state["count"])
        return tree_map(lambda g: g * s, grads), {"count": state["count"] + 1}
    return GradientTransformation(init, update, name="scale_by_learning_rate")


def add_decayed_weights(weight_decay=0.0, mask=None):
    """Add ``weight_decay * params`` to the updates (decoupled weight decay in a chain).

    Works on arrays of any namespace (NumPy, PyTorch, CuPy, ...), on their device.

    Parameters
    ----------
    weight_decay : float
        Non-negative.
    mask : tree of bool or callable, optional
        Only the leaves where ``mask`` is True are decayed (a callable gets
        the parameters and returns the mask); see :func:`masked`.
    """
    wd = check_scalar(weight_decay, "weight_decay", lower=0.0)

    def init(params):
        return ()

    def update(grads, state, params=None, **extra):
        _need_params(params, "add_decayed_weights")
        return tree_map(lambda g, p: g + wd * p, grads, params, names=["`params`"]), state
    t = GradientTransformation(init, update, name="add_decayed_weights")
    if mask is not None:
        from ._routing import masked
        return masked(t, mask)
    return t


def clip_by_global_norm(max_norm):
    """Scale the updates by ``min(1, max_norm / ‖g‖)``, ‖g‖ over all leaves together.

    Works on arrays of any namespace (NumPy, PyTorch, CuPy, ...), on their device.

    Examples
    --------
    >>> import numpy as np
    >>> from numopt.optim import clip_by_global_norm
    >>> opt = clip_by_global_norm(1.0)
    >>> u, _ = opt.update([np.array([3.0]), np.array([4.0])], opt.init(None))
    >>> [float(v[0]) for v in u]
    [0.6, 0.8]
    """
    max_norm = check_scalar(max_norm, "max_norm", lower=0.0)

    def init(params):
        return ()

    def update(grads, state, params=None, **extra):
        leaves = tree_leaves(grads)
        xp, _ = leaves_namespace(leaves, names=("grads",))
        if is_numpy(xp):
            sq = sum(float((x.astype(np.float64) ** 2).sum()) for x in leaves)
        else:  # one host synchronisation for the whole tree
            sq = float(sum(xp.sum(astype(x, xp.float64, xp) ** 2) for x in leaves)) \
                if leaves else 0.0
        norm = np.sqrt(sq) if is_numpy(xp) else math.sqrt(sq)  # (NumPy: as before)
        if norm <= max_norm:
            return grads, state
        c = max_norm / norm
        return tree_map(lambda g: g * c, grads), state
    return GradientTransformation(init, update, name="clip_by_global_norm")


def trace(decay, nesterov=False):
    """Momentum ``t = decay * t + g``; output ``t`` (or ``g + decay * t`` with Nesterov).

    Works on arrays of any namespace (NumPy, PyTorch, CuPy, ...), on their device.
    """
    decay = check_beta(decay, "decay")

    def init(params):
        return {"trace": tree_zeros_like(params)}

    def update(grads, state, params=None, **extra):
        check_grads(grads, state["trace"])
        xp, _ = tree_namespace(grads, state["trace"], names=("grads", "state"))

        def step(g, t):
            t *= decay
            t += g
            return g + decay * t if nesterov else copy(t, xp)
        return tree_map(step, grads, state["trace"]), state
    return GradientTransformation(init, update, name="trace")


# ----------------------------------------------------------------- the Adam / AdaBelief rules
def adam_direction(xp, g, m, v, vmax, b1, b2, inv_bc2, eps, eps_root):
    """Adam's rule in array code: the one implementation all array-code paths call.

    Updates ``m <- b1 m + (1-b1) g`` and ``v <- b2 v + (1-b2) g²`` in place
    (and ``vmax <- max(vmax, v)`` for AMSGrad when ``vmax`` is not None) and
    returns ``m / (sqrt(v * inv_bc2 + eps_root) + eps)`` (``vmax`` in place of
    ``v`` for AMSGrad), without the first-moment bias correction. Used by
    :func:`scale_by_adam`, the ``impl='xp'`` path of :func:`adam` /
    :func:`adamw` / :func:`amsgrad` and FRUGAL's subspace AdamW.
    ``numopt.optim._kernels.adam_kernel`` is the compiled (Numba, fused) copy
    kept apart for speed; ``tests/optim/test_kernels.py`` holds the two equal.
    """
    m *= b1
    m += (1.0 - b1) * g
    v *= b2
    v += (1.0 - b2) * (g * g)
    den = v
    if vmax is not None:
        if is_numpy(xp):
            xp.maximum(vmax, v, out=vmax)
        else:
            vmax[...] = xp.maximum(vmax, v)
        den = vmax
    return m / (xp.sqrt(den * inv_bc2 + eps_root) + eps)


def belief_direction(xp, g, m, s, b1, b2, c, eps_store, eps_out, track_residual=True,
                     denominator=True):
    """AdaBelief's rule (AdaMomentum's with ``track_residual=False``) in array code.

    ``m <- b1 m + (1-b1) g``; ``s <- b2 s + (1-b2) r² + eps_store`` with
    ``r = g - m`` (AdaBelief) or ``r = m`` (AdaMomentum), in place; returns
    ``m / (sqrt(s) c + eps_out)`` (``m`` alone without ``denominator``: the
    rectified warm-up). Used by :func:`scale_by_belief` and the ``impl='xp'``
    path of :func:`adabelief` / :func:`adamomentum`;
    ``numopt.optim._kernels.belief_kernel`` is the compiled copy kept apart
    for speed, held equal to it by ``tests/optim/test_kernels.py``.
    """
    m *= b1
    m += (1.0 - b1) * g
    r = g - m if track_residual else m
    s *= b2
    s += (1.0 - b2) * (r * r)
    s += eps_store
    if not denominator:
        return m
    return m / (xp.sqrt(s) * c + eps_out)


def _scale_by_moments(name, direction, b1, b2, eps, eps_root):
    """``scale_by_adam`` / ``scale_by_belief``: ``direction(xp, g, m, v, t)`` per leaf."""
    b1, b2 = check_beta(b1, "b1"), check_beta(b2, "b2")
    eps = check_scalar(eps, "eps", lower=0.0)
    eps_root = check_scalar(eps_root, "eps_root", lower=0.0)

    def init(params):
        return {"count": 0, "mu": tree_zeros_like(params), "nu": tree_zeros_like(params)}

    def update(grads, state, params=None, **extra):
        check_grads(grads, state["mu"])
        xp, _ = tree_namespace(grads, state["mu"], names=("grads", "state"))
        t = state["count"] + 1
        inv_bc1, inv_bc2 = 1.0 / (1.0 - b1 ** t), 1.0 / (1.0 - b2 ** t)

        def step(g, m, v):
            return direction(xp, g, m, v, b1, b2, inv_bc2, eps, eps_root) * inv_bc1
        upd = tree_map(step, grads, state["mu"], state["nu"])
        return upd, {"count": t, "mu": state["mu"], "nu": state["nu"]}
    return GradientTransformation(init, update, name=name)


def scale_by_adam(b1=0.9, b2=0.999, eps=1e-8, eps_root=0.0):
    """Adam's direction ``m̂ / (sqrt(v̂ + eps_root) + eps)`` (optax ``scale_by_adam``).

    ``chain(scale_by_adam(), scale_by_learning_rate(lr))`` is :func:`adam`;
    with :func:`add_decayed_weights` in between it is :func:`adamw`.

    Works on arrays of any namespace (NumPy, PyTorch, CuPy, ...), on their device.
    """
    def direction(xp, g, m, v, b1, b2, inv_bc2, eps, eps_root):
        return adam_direction(xp, g, m, v, None, b1, b2, inv_bc2, eps, eps_root)
    return _scale_by_moments("scale_by_adam", direction, b1, b2, eps, eps_root)


def scale_by_belief(b1=0.9, b2=0.999, eps=1e-16, eps_root=1e-16):
    """AdaBelief's direction: ``s = b2 s + (1-b2)(g-m)² + eps_root``, ``m̂/(sqrt(ŝ)+eps)``.

    ``eps_root`` is stored into ``s`` (it compounds), as in the authors'
    code and optax ``scale_by_belief``.

    Works on arrays of any namespace (NumPy, PyTorch, CuPy, ...), on their device.
    """
    def direction(xp, g, m, s, b1, b2, inv_bc2, eps, eps_root):
        return belief_direction(xp, g, m, s, b1, b2, inv_bc2 ** 0.5, eps_root, eps)
    return _scale_by_moments("scale_by_belief", direction, b1, b2, eps, eps_root)


def apply_if_finite(inner, on_nonfinite="skip"):
    """Run ``inner`` only when every gradient entry is finite.

    Works on arrays of any namespace (NumPy, PyTorch, CuPy, ...), on their device.

    Parameters
    ----------
    inner : GradientTransformation
    on_nonfinite : {'skip', 'raise'}
        ``'skip'``: return zero updates and leave the inner state untouched
        (the state counts skipped steps in ``'notfinite_count'``);
        ``'raise'``: raise ``ValueError``.

    Examples
    --------
    >>> import numpy as np
    >>> from numopt import optim
    >>> opt = optim.apply_if_finite(optim.sgd(0.1))
    >>> params = np.ones(2)
    >>> state = opt.init(params)
    >>> u, state = opt.update(np.array([np.nan, 1.0]), state, params)
    >>> u, state['notfinite_count']
    (array([0., 0.]), 1)
    """
    if not isinstance(inner, GradientTransformation):
        raise TypeError(f"`inner` must be a GradientTransformation, got {type(inner).__name__}")
    on_nonfinite = check_choice(on_nonfinite, "on_nonfinite", ("skip", "raise"))

    def init(params):
        return {"inner": inner.init(params), "notfinite_count": 0}

    def _check(grads, state):
        if grads_all_finite(grads):
            return True
        if on_nonfinite == "raise":
            raise ValueError("`grads` contain NaN or inf (on_nonfinite='raise')")
        return False

    def update(grads, state, params=None, **extra):
        if _check(grads, state):
            u, s = inner.update(grads, state["inner"], params, **extra)
            return u, {"inner": s, "notfinite_count": state["notfinite_count"]}
        xp, _ = tree_namespace(grads, names=("grads",))
        zeros = tree_map(lambda g: xp.zeros_like(g), grads)
        return zeros, {"inner": state["inner"],
                       "notfinite_count": state["notfinite_count"] + 1}

    step_inplace = None
    if inner.step_inplace is not None:
        def step_inplace(params, grads, state, **extra):
            if _check(grads, state):
                s = inner.step_inplace(params, grads, state["inner"], **extra)
                return {"inner": s, "notfinite_count": state["notfinite_count"]}
            return {"inner": state["inner"], "notfinite_count": state["notfinite_count"] + 1}
    return GradientTransformation(init, update, step_inplace,
                                  name=f"apply_if_finite({inner.name})")
